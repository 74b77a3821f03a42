package aof

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad loads arbitrary bytes as the incr file, with and without
// aof-load-truncated: Load must never panic, and every file it accepts must
// load again identically (a cut tail stays cut).
func FuzzLoad(f *testing.F) {
	f.Add(resp([]string{"SET", "a", "1"}, []string{"MULTI"}, []string{"INCR", "a"}, []string{"EXEC"}))
	f.Add(resp([]string{"SELECT", "1"}, []string{"RPUSH", "l", "x"})[:20])
	f.Add([]byte("#TS:1\r\n*1\r\n$4\r\nPING\r\n"))
	f.Add([]byte("*2\r\n$999999999999\r\n"))
	f.Add([]byte("*999999999999999999\r\n$1\r\na\r\n"))
	f.Add([]byte("REDIS0010garbage"))
	dir := f.TempDir() // reused: the target runs sequentially in each worker
	path := filepath.Join(dir, "appendonly.aof.1.incr.aof")
	os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte("file appendonly.aof.1.incr.aof seq 1 type i\n"), 0o644)
	f.Fuzz(func(t *testing.T, content []byte) {
		for _, truncated := range []bool{false, true} {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := testOptions(dir, nil)
			opts.LoadTruncated = truncated
			got, st, err := loadCommands(t, opts)
			if err != nil || !truncated {
				continue
			}
			again, st2, err := loadCommands(t, opts)
			if err != nil || st2.Truncated || !equalStrings(got, again) || st2.Bytes != st.Bytes {
				t.Fatalf("reload after a successful load: %q %+v %v\nfirst %q %+v", again, st2, err, got, st)
			}
		}
	})
}
