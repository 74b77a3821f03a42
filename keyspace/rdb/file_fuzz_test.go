package rdb

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"
)

// FuzzLoad feeds arbitrary files to Load: it must never panic. Each input is
// tried as a whole file and as a body between a valid header and an EOF
// with a zero (unchecked) trailer, so the fuzzer is not stopped by the
// checksum. Whatever loads must load identically after being written back.
func FuzzLoad(f *testing.F) {
	withBody := func(b []byte) []byte {
		out := append([]byte("REDIS0010"), b...)
		return append(out, opEOF, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	for _, opts := range []FileOptions{{Compress: true, Checksum: true}, {}} {
		file := writeFile(f, fileFixture(1_700_000_000_000, false)[22:], opts)
		f.Add(file)
		f.Add(file[9 : len(file)-9]) // the body alone
	}
	f.Add(rawFile(9, []byte{opExpireSec, 1, 2, 3, 4, opIdle, 5, opFreq, 1, TypeString, 1, 'k', 1, 'v'}))
	f.Add([]byte{opSelectDB, 3, opResizeDB, 1, 0, opExpireMs, 1, 2, 3, 4, 5, 6, 7, 8, TypeList, 1, 'l', 1, 1, 'a'})
	f.Add([]byte{opAux, 1, 'a', 1, 'b', opModuleAux})
	for _, lc := range legacyPayloads() {
		f.Add(append(AppendString([]byte{lc.typ}, []byte("key")), lc.body...))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = loadAll(b)
		got, _, err := loadAll(withBody(b))
		if err != nil {
			return
		}
		// Write back what was accepted, one SELECTDB per entry.
		var out bytes.Buffer
		w, err := NewFileWriter(&out, FileOptions{Compress: true, Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range got {
			if err := w.Write(AppendEntry(AppendSelectDB(nil, e.DB), e.Key, e.Obj, true)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		again, _, err := loadAll(out.Bytes())
		if err != nil {
			t.Fatalf("reloading a written-back file: %v", err)
		}
		if render(again) != render(got) {
			t.Fatalf("write-back changed the contents:\n%.500s\nvs\n%.500s", render(again), render(got))
		}
	})
}

func render(es []LoadedEntry) string {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for _, e := range es {
		fmt.Fprintf(w, "%d %q %d %s\n", e.DB, e.Key, e.Obj.Expire, describe(e.Obj))
	}
	w.Flush()
	return b.String()
}
