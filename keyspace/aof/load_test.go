package aof

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/testhost"
)

// writeIncr replaces the first incr file of a fresh AOF dir with content.
func writeIncr(t *testing.T, dir string, content []byte) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "appendonly.aof.manifest")); err != nil {
		a, err := Open(testOptions(dir, nil))
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	path := filepath.Join(dir, "appendonly.aof.1.incr.aof")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTruncatedTail(t *testing.T) {
	head := resp([]string{"SELECT", "0"}, []string{"SET", "a", "1"}, []string{"RPUSH", "list", "x", "y"})
	last := resp([]string{"SET", "key", "a\r\nvalue"})
	full := append(append([]byte(nil), head...), last...)
	dir := t.TempDir()
	for cut := len(head) + 1; cut < len(full); cut++ {
		// aof-load-truncated yes: cut off, file really truncated, warned.
		path := writeIncr(t, dir, full[:cut])
		var logs testhost.LogBuffer
		opts := testOptions(dir, &logs)
		got, st, err := loadCommands(t, opts)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if want := []string{"SELECT 0", "SELECT 0", "SET a 1", "RPUSH list x y"}; !equalStrings(got, want) || !st.Truncated || st.Commands != 3 {
			t.Fatalf("cut at %d: loaded %q, stats %+v", cut, got, st)
		}
		if fi, _ := os.Stat(path); fi.Size() != int64(len(head)) || st.Bytes != int64(len(head)) {
			t.Fatalf("cut at %d: file is %d bytes after load, stats %d, want %d", cut, fi.Size(), st.Bytes, len(head))
		}
		if l := logs.String(); !strings.Contains(l, "appendonly.aof.1.incr.aof") || !strings.Contains(l, fmt.Sprintf("offset=%d", len(head))) {
			t.Fatalf("cut at %d: warning does not name file and offset: %s", cut, l)
		}
		// aof-load-truncated no: an error naming file and offset.
		path = writeIncr(t, dir, full[:cut])
		opts.LoadTruncated = false
		_, _, err = loadCommands(t, opts)
		var le *LoadError
		if !errors.As(err, &le) || !errors.Is(err, ErrTruncated) || le.File != "appendonly.aof.1.incr.aof" || le.Offset != int64(len(head)) {
			t.Fatalf("cut at %d without aof-load-truncated: %v", cut, err)
		}
		if !strings.Contains(err.Error(), "appendonly.aof.1.incr.aof") || !strings.Contains(err.Error(), fmt.Sprint(len(head))) {
			t.Fatalf("error text %q", err)
		}
		if fi, _ := os.Stat(path); fi.Size() != int64(cut) {
			t.Fatalf("cut at %d: failed load changed the file", cut)
		}
	}
}

func TestCorruptContent(t *testing.T) {
	good := resp([]string{"SET", "a", "1"})
	cases := []struct {
		name    string
		content []byte
		offset  int
	}{
		{"garbage between commands", append(append(append([]byte{}, good...), "garbage\r\n"...), good...), len(good)},
		{"garbage at the end", append(append([]byte{}, good...), "xx"...), len(good)},
		{"bad multibulk count", append(append([]byte{}, good...), "*x2\r\n$3\r\nGET\r\n$1\r\na\r\n"...), len(good)},
		{"zero multibulk count", append(append([]byte{}, good...), "*0\r\n"...), len(good)},
		{"negative bulk length", append(append([]byte{}, good...), "*1\r\n$-1\r\n"...), len(good) + 4},
		{"missing $", append(append([]byte{}, good...), "*1\r\n:3\r\nGET\r\n"...), len(good) + 4},
		{"bulk not followed by CRLF", append(append([]byte{}, good...), "*1\r\n$3\r\nGETX\r\n"...), len(good) + 11},
		{"line too long", append(append([]byte{}, good...), "*1"+strings.Repeat("1", 70000)+"\r\n"...), len(good)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeIncr(t, dir, append(c.content, good...))
			_, _, err := loadCommands(t, testOptions(dir, nil))
			var le *LoadError
			if !errors.As(err, &le) || !errors.Is(err, ErrCorrupt) || le.File != "appendonly.aof.1.incr.aof" || le.Offset != int64(c.offset) {
				t.Fatalf("got %v, want ErrCorrupt at offset %d", err, c.offset)
			}
		})
	}
}

// A truncated command is only a cut-off tail in the last file with data.
func TestTruncatedEarlierFile(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, testOptions(dir, nil))
	a.Sync(a.Append(0, argv("SET", "a", "1")))
	rw, err := a.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	rw.Abort()
	a.Sync(a.Append(0, argv("SET", "b", "1")))
	a.Close()
	first := filepath.Join(dir, "appendonly.aof.1.incr.aof")
	b := []byte(readFile(t, first))
	os.WriteFile(first, b[:len(b)-3], 0o644)
	_, _, err = loadCommands(t, testOptions(dir, nil))
	var le *LoadError
	if !errors.As(err, &le) || le.File != "appendonly.aof.1.incr.aof" || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated non-last file: %v", err)
	}
	// An empty later file changes nothing (Redis 7: "the truncated file is
	// not the last file"); the file is left as it was.
	os.WriteFile(filepath.Join(dir, "appendonly.aof.2.incr.aof"), nil, 0o644)
	_, _, err = loadCommands(t, testOptions(dir, nil))
	if !errors.As(err, &le) || le.File != "appendonly.aof.1.incr.aof" || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated file followed by an empty one: %v", err)
	}
	if got := readFile(t, first); len(got) != len(b)-3 {
		t.Fatalf("the refused file was changed: %d bytes, want %d", len(got), len(b)-3)
	}
}

// A torn legacy AOF is the last file of what Open found: the incr file Open
// adds for new writes does not make it an earlier one.
func TestLegacyTornTailCut(t *testing.T) {
	server := t.TempDir()
	whole := resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})
	os.WriteFile(filepath.Join(server, "appendonly.aof"), whole[:len(whole)-4], 0o644)
	got, st, err := loadCommands(t, testOptions(filepath.Join(server, "appendonlydir"), nil))
	if err != nil || !st.Truncated || !equalStrings(got, []string{"SELECT 0", "SET a 1"}) {
		t.Fatalf("torn legacy AOF: %q %+v %v", got, st, err)
	}
}

func TestMultiExec(t *testing.T) {
	tx := resp([]string{"SELECT", "1"}, []string{"MULTI"}, []string{"SET", "a", "1"}, []string{"INCR", "a"}, []string{"EXEC"})
	dir := t.TempDir()
	writeIncr(t, dir, tx)
	got, st, err := loadCommands(t, testOptions(dir, nil))
	if err != nil || st.Commands != 3 || !equalStrings(got, []string{"SELECT 0", "SELECT 1", "SET a 1", "INCR a"}) {
		t.Fatalf("MULTI/EXEC: %q %+v %v", got, st, err)
	}

	// A transaction the crash cut before its EXEC is dropped entirely, as
	// Redis does ("Revert incomplete MULTI/EXEC transaction").
	open := resp([]string{"MULTI"}, []string{"SET", "b", "2"}, []string{"SET", "c", "3"})
	for _, tail := range [][]byte{open, open[:len(open)-4]} {
		path := writeIncr(t, dir, append(append([]byte{}, tx...), tail...))
		var logs testhost.LogBuffer
		got, st, err = loadCommands(t, testOptions(dir, &logs))
		if err != nil || !st.Truncated || !equalStrings(got, []string{"SELECT 0", "SELECT 1", "SET a 1", "INCR a"}) {
			t.Fatalf("incomplete MULTI: %q %+v %v", got, st, err)
		}
		if fi, _ := os.Stat(path); fi.Size() != int64(len(tx)) {
			t.Fatalf("file not cut at the MULTI: %d bytes", fi.Size())
		}
		if !strings.Contains(logs.String(), "Revert incomplete MULTI/EXEC") && len(tail) == len(open) {
			t.Fatalf("no revert warning: %s", logs.String())
		}
		// Without aof-load-truncated Redis refuses to start: so do we.
		writeIncr(t, dir, append(append([]byte{}, tx...), tail...))
		opts := testOptions(dir, nil)
		opts.LoadTruncated = false
		if _, _, err := loadCommands(t, opts); !errors.Is(err, ErrTruncated) {
			t.Fatalf("incomplete MULTI without aof-load-truncated: %v", err)
		}
	}
}

func TestAnnotationsSkipped(t *testing.T) {
	dir := t.TempDir()
	content := "#TS:1700000000\r\n" + string(resp([]string{"SET", "a", "1"})) + "#TS:1700000001\r\n" + string(resp([]string{"SET", "b", "2"}))
	writeIncr(t, dir, []byte(content))
	got, _, err := loadCommands(t, testOptions(dir, nil))
	if err != nil || !equalStrings(got, []string{"SELECT 0", "SET a 1", "SET b 2"}) {
		t.Fatalf("%q %v", got, err)
	}
}

func TestApplyErrorStops(t *testing.T) {
	dir := t.TempDir()
	writeIncr(t, dir, resp([]string{"SET", "a", "1"}, []string{"BOGUS"}, []string{"SET", "b", "1"}))
	a := mustOpen(t, testOptions(dir, nil))
	n := 0
	_, err := a.Load(nil, func(argv [][]byte) error {
		if string(argv[0]) == "BOGUS" {
			return errors.New("unknown command")
		}
		n++
		return nil
	})
	var le *LoadError
	if !errors.As(err, &le) || le.Offset != int64(len(resp([]string{"SET", "a", "1"}))) || n != 2 {
		t.Fatalf("apply error: %v after %d commands", err, n)
	}
}

// Every file the manifest lists must be there: Open refuses, naming the
// file and the reason, and creates or changes nothing (it used to create a
// missing last incr file and load an empty data set).
func TestMissingListedFile(t *testing.T) {
	const manifest = "file appendonly.aof.1.base.aof seq 1 type b\n" +
		"file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
	files := map[string][]byte{
		"appendonly.aof.1.base.aof": resp([]string{"SET", "a", "1"}),
		"appendonly.aof.1.incr.aof": resp([]string{"SET", "b", "1"}),
		"appendonly.aof.2.incr.aof": resp([]string{"SET", "c", "1"}),
	}
	for _, tc := range []struct {
		file   string
		dir    bool // a directory in its place
		reason string
	}{
		{file: "appendonly.aof.1.base.aof", reason: "no such file or directory"},
		{file: "appendonly.aof.1.incr.aof", reason: "no such file or directory"},
		{file: "appendonly.aof.2.incr.aof", reason: "no such file or directory"},
		{file: "appendonly.aof.2.incr.aof", dir: true, reason: "not a regular file"},
	} {
		t.Run(fmt.Sprintf("%s-dir=%v", tc.file, tc.dir), func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(manifest), 0o644)
			for name, content := range files {
				if name != tc.file {
					os.WriteFile(filepath.Join(dir, name), content, 0o644)
				} else if tc.dir {
					os.Mkdir(filepath.Join(dir, name), 0o755)
				}
			}
			before := dirFiles(t, dir)
			a, err := Open(testOptions(dir, nil))
			if err == nil {
				a.Close()
				t.Fatal("Open accepted a manifest naming a missing file")
			}
			var le *LoadError
			if !errors.As(err, &le) || le.File != tc.file || le.Offset != -1 {
				t.Fatalf("error %v (%#v), want a LoadError for %s", err, le, tc.file)
			}
			msg := err.Error()
			if !strings.Contains(msg, "can't open the append-only file "+tc.file+": "+tc.reason) {
				t.Fatalf("error text %q does not name the file and the reason", msg)
			}
			if !tc.dir && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("error %v does not wrap fs.ErrNotExist", err)
			}
			if after := dirFiles(t, dir); !equalStrings(after, before) {
				t.Fatalf("Open changed the directory: %q, was %q", after, before)
			}
			if m := readManifestFile(t, dir); m != manifest {
				t.Fatalf("Open changed the manifest: %q", m)
			}
		})
	}
}

// A missing or empty manifest next to AOF data is refused rather than
// started over as an empty data set; an empty leftover (a crash between
// creating the first incr file and the manifest) is not data.
func TestOpenRefusesOrphanedData(t *testing.T) {
	for _, manifest := range []string{"", "# no files\n"} {
		dir := t.TempDir()
		if manifest != "" {
			os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(manifest), 0o644)
		}
		os.WriteFile(filepath.Join(dir, "appendonly.aof.2.base.rdb"), []byte("REDIS0010"), 0o644)
		os.WriteFile(filepath.Join(dir, "appendonly.aof.2.incr.aof"), resp([]string{"SET", "a", "1"}), 0o644)
		os.WriteFile(filepath.Join(dir, "other.aof.1.incr.aof"), resp([]string{"SET", "x", "1"}), 0o644) // another appendfilename
		a, err := Open(testOptions(dir, nil))
		if err == nil {
			a.Close()
			t.Fatalf("manifest %q: Open started over next to AOF data", manifest)
		}
		if !errors.Is(err, ErrMissingManifest) || !strings.Contains(err.Error(), "appendonly.aof.2.base.rdb, appendonly.aof.2.incr.aof)") {
			t.Fatalf("manifest %q: %v", manifest, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "appendonly.aof.1.incr.aof"), nil, 0o644)
	a := mustOpen(t, testOptions(dir, nil))
	a.Sync(a.Append(0, argv("SET", "a", "1")))
	a.Close()
	if got, _, err := loadCommands(t, testOptions(dir, nil)); err != nil || !equalStrings(got, []string{"SELECT 0", "SELECT 0", "SET a 1"}) {
		t.Fatalf("after an empty leftover incr file: %q %v", got, err)
	}
}
