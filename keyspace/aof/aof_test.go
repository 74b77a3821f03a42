package aof

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "appendonlydir")
	opts := testOptions(dir, nil)
	if Exists(dir, opts.FileName) {
		t.Fatal("Exists before Open")
	}
	a := mustOpen(t, opts)
	if !Exists(dir, opts.FileName) {
		t.Fatal("Exists after Open should see the first incr file")
	}
	if st, err := a.Load(nil, func([][]byte) error { t.Fatal("apply on an empty AOF"); return nil }); err != nil || st.Commands != 0 {
		t.Fatalf("loading an empty AOF: %+v %v", st, err)
	}
	a.Append(0, argv("SET", "a", "1"))
	a.Append(3, argv("SET", "bin\r\n\x00", ""), argv("DEL", "x"))
	end := a.Append(3, argv("RPUSH", "l", strings.Repeat("v", 70000)))
	if err := a.Sync(end); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readManifestFile(t, dir); got != "file appendonly.aof.1.incr.aof seq 1 type i\n" {
		t.Fatalf("manifest %q", got)
	}
	got, st, err := loadCommands(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"SELECT 0", "SELECT 0", "SET a 1", "SELECT 3", "SET bin\r\n\x00 ", "DEL x", "RPUSH l " + strings.Repeat("v", 70000)}
	if !equalStrings(got, want) {
		t.Fatalf("loaded %q\nwant %q", got, want)
	}
	if st.Commands != 6 || st.Truncated || st.Bytes != end {
		t.Fatalf("stats %+v (end %d)", st, end)
	}
}

func TestSelectOnlyOnDBChange(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, testOptions(dir, nil))
	a.Append(0, argv("SET", "a", "1"))
	a.Append(0, argv("SET", "b", "1"))
	a.Append(2, argv("SET", "c", "1"))
	a.Append(2, argv("SET", "d", "1"), argv("SET", "e", "1"))
	a.Append(0, argv("SET", "f", "1"))
	rw, err := a.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Abort()
	a.Append(0, argv("SET", "g", "1")) // new file: SELECT again
	end := a.Append(0, argv("SET", "h", "1"))
	if err := a.Sync(end); err != nil {
		t.Fatal(err)
	}
	first := readFile(t, filepath.Join(dir, "appendonly.aof.1.incr.aof"))
	want := string(AppendSelect(nil, 0)) + string(resp([]string{"SET", "a", "1"}, []string{"SET", "b", "1"})) +
		string(AppendSelect(nil, 2)) + string(resp([]string{"SET", "c", "1"}, []string{"SET", "d", "1"}, []string{"SET", "e", "1"})) +
		string(AppendSelect(nil, 0)) + string(resp([]string{"SET", "f", "1"}))
	if first != want {
		t.Fatalf("first incr file\n%q\nwant\n%q", first, want)
	}
	second := readFile(t, filepath.Join(dir, "appendonly.aof.2.incr.aof"))
	if want := string(AppendSelect(nil, 0)) + string(resp([]string{"SET", "g", "1"}, []string{"SET", "h", "1"})); second != want {
		t.Fatalf("second incr file %q, want %q", second, want)
	}
	// A reopened file starts from an unknown db too.
	rw.Abort()
	a.Close()
	a = mustOpen(t, testOptions(dir, nil))
	end = a.Append(0, argv("SET", "i", "1"))
	if err := a.Sync(end); err != nil {
		t.Fatal(err)
	}
	second = readFile(t, filepath.Join(dir, "appendonly.aof.2.incr.aof"))
	if !strings.HasSuffix(second, string(AppendSelect(nil, 0))+string(resp([]string{"SET", "i", "1"}))) {
		t.Fatalf("after reopen: %q", second)
	}
}

// TestGroupCommit: concurrent appendfsync-always writers share fsyncs, and
// every acknowledged command is on disk.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	a := mustOpen(t, opts)
	hook := func() { time.Sleep(2 * time.Millisecond) } // a disk's fsync latency
	a.fsyncHook.Store(&hook)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			key := fmt.Sprintf("key:%d", i)
			end := a.Append(i%3, argv("SET", key, "v"))
			if err := a.Sync(end); err != nil {
				t.Error(err)
				return
			}
			// Acknowledged: the bytes must already be durable.
			if a.synced.Load() < end {
				t.Errorf("Sync(%d) returned with synced=%d", end, a.synced.Load())
			}
			mu.Lock()
			acked[key] = true
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	fsyncs := a.fsyncs.Load()
	t.Logf("%d Syncs, %d fsyncs", n, fsyncs)
	if fsyncs > n/4 {
		t.Errorf("%d fsyncs for %d concurrent Syncs: no group commit", fsyncs, n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, err := loadCommands(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range got {
		if f := strings.Fields(c); f[0] == "SET" {
			seen[f[1]] = true
		}
	}
	for k := range acked {
		if !seen[k] {
			t.Errorf("acknowledged %s missing from the AOF", k)
		}
	}
	if len(acked) != n {
		t.Errorf("%d acknowledged, want %d", len(acked), n)
	}
}

func TestEverySec(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	opts.Fsync = FsyncEverySec
	a := mustOpen(t, opts)
	end := a.Append(0, argv("SET", "a", "1"))
	if err := a.Sync(end); err != nil {
		t.Fatal(err)
	}
	if a.written.Load() != end {
		t.Fatalf("everysec Sync did not write: written %d, end %d", a.written.Load(), end)
	}
	if n := a.fsyncs.Load(); n != 0 {
		t.Fatalf("everysec Sync fsynced (%d)", n)
	}
	if got := readFile(t, filepath.Join(dir, "appendonly.aof.1.incr.aof")); int64(len(got)) != end {
		t.Fatalf("file has %d bytes, want %d", len(got), end)
	}
	deadline := time.Now().Add(3 * time.Second)
	for a.synced.Load() < end {
		if time.Now().After(deadline) {
			t.Fatal("the background loop did not fsync within 3s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Back to always: the next Sync fsyncs itself.
	a.SetFsync(FsyncAlways)
	before := a.fsyncs.Load()
	end = a.Append(0, argv("SET", "b", "1"))
	if err := a.Sync(end); err != nil || a.synced.Load() < end || a.fsyncs.Load() != before+1 {
		t.Fatalf("always after SetFsync: err %v synced %d end %d fsyncs %d", err, a.synced.Load(), end, a.fsyncs.Load()-before)
	}
}

func TestFsyncNoWritesOnly(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	opts.Fsync = FsyncNo
	a := mustOpen(t, opts)
	end := a.Append(1, argv("INCR", "n"))
	if err := a.Sync(end); err != nil {
		t.Fatal(err)
	}
	if a.fsyncs.Load() != 0 || a.written.Load() != end {
		t.Fatalf("fsyncs %d written %d end %d", a.fsyncs.Load(), a.written.Load(), end)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(a.Append(0, argv("INCR", "n"))); err != ErrClosed {
		t.Fatalf("Sync after Close: %v, want ErrClosed", err)
	}
}

func TestSize(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	a := mustOpen(t, opts)
	end := a.Append(0, argv("SET", "a", "1"))
	a.Sync(end)
	if total, base := a.Size(); total != end || base != 0 {
		t.Fatalf("Size %d %d, want %d 0", total, base, end)
	}
	rw, err := a.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	rw.Base().Write(resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"}))
	end2 := a.Append(0, argv("SET", "c", "1"))
	a.Sync(end2)
	if total, _ := a.Size(); total != end2 {
		t.Fatalf("Size during rewrite %d, want %d", total, end2)
	}
	if err := rw.Finish(); err != nil {
		t.Fatal(err)
	}
	baseLen := int64(len(resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"})))
	if total, base := a.Size(); base != baseLen || total != baseLen+end2-end {
		t.Fatalf("Size after rewrite %d %d, want %d %d", total, base, baseLen+end2-end, baseLen)
	}
	a.Close()
	a = mustOpen(t, opts)
	if total, base := a.Size(); base != baseLen || total != baseLen+end2-end {
		t.Fatalf("Size after reopen %d %d", total, base)
	}
}

func TestParseFsync(t *testing.T) {
	for s, want := range map[string]Fsync{"always": FsyncAlways, "EverySec": FsyncEverySec, "no": FsyncNo} {
		if got, err := ParseFsync(s); err != nil || got != want || !strings.EqualFold(got.String(), s) {
			t.Errorf("ParseFsync(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseFsync("sometimes"); err == nil {
		t.Error("ParseFsync accepted junk")
	}
}

func TestOpenRefusesBadManifest(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "appendonly.aof.manifest"), []byte("file x seq 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !Exists(dir, "appendonly.aof") {
		t.Error("Exists false for a malformed manifest (the server would start empty)")
	}
	if _, err := Open(testOptions(dir, nil)); err == nil {
		t.Fatal("Open accepted a malformed manifest")
	}
}
