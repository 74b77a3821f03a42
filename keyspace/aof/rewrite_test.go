package aof

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/wardenkv/warden/keyspace"
)

func TestRewrite(t *testing.T) {
	for _, rdb := range []bool{false, true} {
		t.Run(map[bool]string{false: "aof base", true: "rdb base"}[rdb], func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(dir, nil)
			opts.UseRDBPreamble = rdb
			a := mustOpen(t, opts)
			a.Sync(a.Append(0, argv("SET", "old", "1")))
			rw, err := a.BeginRewrite()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.BeginRewrite(); err != ErrRewriteInProgress {
				t.Fatalf("second BeginRewrite: %v", err)
			}
			if rw.RDB() != rdb {
				t.Fatal("RDB() does not follow UseRDBPreamble")
			}
			// The manifest already lists the new incr file after the old ones.
			if m := readManifestFile(t, dir); m != "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n" {
				t.Fatalf("manifest during rewrite: %q", m)
			}
			a.Sync(a.Append(0, argv("SET", "during", "1")))
			if rdb {
				rw.Base().Write([]byte("REDIS-image\n"))
			} else {
				rw.Base().Write(AppendSelect(nil, 0))
				rw.Base().Write(AppendEntryCommands(nil, []byte("old"), keyspace.NewString([]byte("1"))))
			}
			if err := rw.Finish(); err != nil {
				t.Fatal(err)
			}
			a.Sync(a.Append(0, argv("SET", "after", "1")))
			base := "appendonly.aof.1.base.aof"
			if rdb {
				base = "appendonly.aof.1.base.rdb"
			}
			if m := readManifestFile(t, dir); m != "file "+base+" seq 1 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n" {
				t.Fatalf("manifest after rewrite: %q", m)
			}
			if files := dirFiles(t, dir); !equalStrings(files, []string{base, "appendonly.aof.2.incr.aof", "appendonly.aof.manifest"}) {
				t.Fatalf("files after rewrite: %q", files)
			}
			a.Close()
			got, _, err := loadCommands(t, opts)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"SELECT 0", "SELECT 0", "SET old 1", "SELECT 0", "SELECT 0", "SET during 1", "SET after 1"}
			if rdb {
				want = []string{"RDB REDIS-image", "SELECT 0", "SELECT 0", "SET during 1", "SET after 1"}
			}
			if !equalStrings(got, want) {
				t.Fatalf("loaded %q\nwant %q", got, want)
			}
		})
	}
}

// TestRewriteCrash: a crash after BeginRewrite and before Finish (or an
// Abort) leaves old base + old incr + new incr, loaded in that order; the
// next successful rewrite replaces all of them.
func TestRewriteCrash(t *testing.T) {
	for _, abort := range []bool{false, true} {
		t.Run(map[bool]string{false: "crash", true: "abort"}[abort], func(t *testing.T) {
			dir := t.TempDir()
			opts := testOptions(dir, nil)
			a := mustOpen(t, opts)
			a.Sync(a.Append(0, argv("SET", "a", "1")))
			rw, err := a.BeginRewrite()
			if err != nil {
				t.Fatal(err)
			}
			rw.Base().Write(resp([]string{"SELECT", "0"}, []string{"SET", "a", "1"}))
			if err := rw.Finish(); err != nil {
				t.Fatal(err)
			}
			a.Sync(a.Append(5, argv("SET", "b", "1")))
			rw, err = a.BeginRewrite()
			if err != nil {
				t.Fatal(err)
			}
			a.Sync(a.Append(5, argv("SET", "c", "1")))
			rw.Base().Write([]byte(strings.Repeat("partial base ", 10000)))
			if abort {
				rw.Abort()
			} else {
				// The crash: the base half written, never finished.
				rw.bw.Flush()
			}
			a.Close()
			want := "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
			if m := readManifestFile(t, dir); m != want {
				t.Fatalf("manifest %q\nwant %q", m, want)
			}
			got, _, err := loadCommands(t, opts)
			if err != nil {
				t.Fatal(err)
			}
			if w := []string{"SELECT 0", "SELECT 0", "SET a 1", "SELECT 0", "SELECT 5", "SET b 1", "SELECT 0", "SELECT 5", "SET c 1"}; !equalStrings(got, w) {
				t.Fatalf("loaded %q\nwant %q", got, w)
			}
			for _, f := range dirFiles(t, dir) {
				if strings.HasPrefix(f, "temp-") {
					t.Fatalf("temp file %s survived Open", f)
				}
			}
			// The next rewrite supersedes both earlier incr files.
			a = mustOpen(t, opts)
			rw2, err := a.BeginRewrite()
			if err != nil {
				t.Fatal(err)
			}
			rw2.Base().Write(resp([]string{"SELECT", "5"}, []string{"SET", "b", "1"}, []string{"SET", "c", "1"}))
			if err := rw2.Finish(); err != nil {
				t.Fatal(err)
			}
			if m := readManifestFile(t, dir); m != "file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n" {
				t.Fatalf("manifest %q", m)
			}
			if files := dirFiles(t, dir); !equalStrings(files, []string{"appendonly.aof.2.base.aof", "appendonly.aof.4.incr.aof", "appendonly.aof.manifest"}) {
				t.Fatalf("files %q", files)
			}
		})
	}
}

// A manifest still listing history files (a crash between Finish's two
// manifest writes, or Redis killed before its background delete) loads
// without them and Open deletes them.
func TestHistoryFilesDeleted(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"appendonly.aof.1.base.aof": string(resp([]string{"SET", "stale", "1"})),
		"appendonly.aof.2.base.aof": string(resp([]string{"SET", "a", "1"})),
		"appendonly.aof.1.incr.aof": string(resp([]string{"SET", "stale", "2"})),
		"appendonly.aof.2.incr.aof": string(resp([]string{"SET", "b", "1"})),
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte(
		"file appendonly.aof.2.base.aof seq 2 type b\nfile appendonly.aof.1.base.aof seq 1 type h\n"+
			"file appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"), 0o644)
	got, _, err := loadCommands(t, testOptions(dir, nil))
	if err != nil || !equalStrings(got, []string{"SELECT 0", "SET a 1", "SELECT 0", "SET b 1"}) {
		t.Fatalf("%q %v", got, err)
	}
	files := dirFiles(t, dir)
	if slices.Contains(files, "appendonly.aof.1.base.aof") || slices.Contains(files, "appendonly.aof.1.incr.aof") {
		t.Fatalf("history files kept: %q", files)
	}
	if m := readManifestFile(t, dir); strings.Contains(m, "type h") {
		t.Fatalf("manifest still has history: %q", m)
	}
}

func TestLegacyUpgrade(t *testing.T) {
	for _, preamble := range []bool{false, true} {
		server := t.TempDir()
		content := string(resp([]string{"SELECT", "2"}, []string{"SET", "a", "1"}))
		if preamble {
			content = "REDIS-legacy-image\n" + content
		}
		os.WriteFile(filepath.Join(server, "appendonly.aof"), []byte(content), 0o644)
		dir := filepath.Join(server, "appendonlydir")
		if !Exists(dir, "appendonly.aof") {
			t.Fatal("Exists misses a legacy AOF")
		}
		got, _, err := loadCommands(t, testOptions(dir, nil))
		want := []string{"SELECT 0", "SELECT 2", "SET a 1"}
		if preamble {
			want = append([]string{"RDB REDIS-legacy-image"}, want...)
		}
		if err != nil || !equalStrings(got, want) {
			t.Fatalf("preamble %v: %q %v", preamble, got, err)
		}
		if m := readManifestFile(t, dir); m != "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n" {
			t.Fatalf("manifest %q", m)
		}
		if _, err := os.Stat(filepath.Join(server, "appendonly.aof")); !os.IsNotExist(err) {
			t.Fatal("legacy file not moved")
		}
	}
}

// TestRewriteConcurrentAppends switches incr files while writers append to
// several dbs: after a reload every acknowledged command is there, once, and
// replays in its own db (each file re-SELECTs).
func TestRewriteConcurrentAppends(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	opts.Fsync = FsyncNo
	a := mustOpen(t, opts)
	const writers, per = 4, 300
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				db := (w + i) % 3
				if err := a.Sync(a.Append(db, argv("SET", fmt.Sprintf("%d:%d:%d", db, w, i), "v"))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 5; i++ {
		rw, err := a.BeginRewrite()
		if err != nil {
			t.Fatal(err)
		}
		rw.Abort()
	}
	wg.Wait()
	a.Close()
	a = mustOpen(t, opts)
	db, seen := 0, map[string]bool{}
	_, err := a.Load(nil, func(argv [][]byte) error {
		switch string(argv[0]) {
		case "SELECT":
			db, _ = strconv.Atoi(string(argv[1]))
		case "SET":
			k := string(argv[1])
			if !strings.HasPrefix(k, fmt.Sprint(db, ":")) {
				return fmt.Errorf("%s replayed in db %d", k, db)
			}
			if seen[k] {
				return fmt.Errorf("%s twice", k)
			}
			seen[k] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != writers*per {
		t.Fatalf("%d commands loaded, want %d", len(seen), writers*per)
	}
}
