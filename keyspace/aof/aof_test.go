package aof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testhost"
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
	deadline := time.Now().Add(30 * time.Second)
	for a.synced.Load() < end {
		if time.Now().After(deadline) {
			t.Fatal("the background loop did not fsync within 30s")
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

// swapFile points the AOF's writes at f (tests: /dev/full fails every write
// with ENOSPC, as a full disk does) and returns the file it replaced.
func swapFile(a *AOF, f *os.File) *os.File {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	old := a.file
	a.file = f
	return old
}

func openDevFull(t *testing.T) *os.File {
	t.Helper()
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full to simulate a full disk: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A failed write (disk full) is kept and retried by the background loop;
// the error lasts until a write succeeds, then clears by itself, and the
// file holds every command once, in order.
func TestWriteErrorRetried(t *testing.T) {
	for _, policy := range []Fsync{FsyncEverySec, FsyncNo, FsyncAlways} {
		t.Run(policy.String(), func(t *testing.T) {
			dir := t.TempDir()
			var logs testhost.LogBuffer
			opts := testOptions(dir, &logs)
			opts.Fsync = policy
			a := mustOpen(t, opts)
			if err := a.Sync(a.Append(0, argv("SET", "a", "1"))); err != nil {
				t.Fatal(err)
			}
			real := swapFile(a, openDevFull(t))
			end := a.Append(0, argv("SET", "b", "2"))
			err := a.Sync(end)
			var we *WriteError
			if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Sync on a full disk: %v, want a WriteError wrapping ENOSPC", err)
			}
			if !errors.Is(a.LastError(), syscall.ENOSPC) {
				t.Fatalf("LastError %v, want ENOSPC", a.LastError())
			}
			// Still failing: the loop keeps the data and the error.
			time.Sleep(1100 * time.Millisecond)
			if a.LastError() == nil || a.written.Load() >= end {
				t.Fatalf("error cleared (%v) or data written (%d >= %d) while the disk is full", a.LastError(), a.written.Load(), end)
			}
			swapFile(a, real) // space freed
			waitUntil(t, func() bool { return a.LastError() == nil }, "the loop to retry the write")
			if a.written.Load() < end {
				t.Fatalf("error cleared with written %d < end %d", a.written.Load(), end)
			}
			if !strings.Contains(logs.String(), "AOF write error looks solved") {
				t.Errorf("no recovery line in the log:\n%s", logs.String())
			}
			if err := a.Sync(a.Append(0, argv("SET", "c", "3"))); err != nil {
				t.Fatal(err)
			}
			a.Close()
			got, _, err := loadCommands(t, opts)
			if err != nil || !equalStrings(got, []string{"SELECT 0", "SELECT 0", "SET a 1", "SET b 2", "SET c 3"}) {
				t.Fatalf("after recovery: %q %v", got, err)
			}
		})
	}
}

// Flush (shutdown) reports a write it cannot make instead of pretending the
// data is safe.
func TestFlushReportsWriteError(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	opts.Fsync = FsyncNo
	a := mustOpen(t, opts)
	real := swapFile(a, openDevFull(t))
	a.Append(0, argv("SET", "a", "1"))
	if err := a.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Flush on a full disk: %v", err)
	}
	swapFile(a, real)
	if err := a.Flush(); err != nil {
		t.Fatalf("Flush after space came back: %v", err)
	}
	if a.synced.Load() != a.written.Load() || a.written.Load() == 0 {
		t.Fatalf("Flush did not fsync: synced %d written %d", a.synced.Load(), a.written.Load())
	}
}

// A rewrite that cannot write out the old file's data fails before the
// manifest lists a new incr file, so a torn write can only ever be in the
// last listed file (the one Load may cut).
func TestBeginRewriteWritesOutBeforeListing(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil)
	opts.Fsync = FsyncNo
	a := mustOpen(t, opts)
	a.Sync(a.Append(0, argv("SET", "a", "1")))
	manifest := readManifestFile(t, dir)
	real := swapFile(a, openDevFull(t))
	a.Append(0, argv("SET", "b", "2"))
	if rw, err := a.BeginRewrite(); err == nil {
		rw.Abort()
		t.Fatal("BeginRewrite succeeded with the old file's data unwritten")
	}
	if m := readManifestFile(t, dir); m != manifest {
		t.Fatalf("the manifest changed although the old file could not be written out:\n%s", m)
	}
	swapFile(a, real)
	rw, err := a.BeginRewrite()
	if err != nil {
		t.Fatal(err)
	}
	rw.Base().Write(resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"}))
	if err := rw.Finish(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	if got, _, err := loadCommands(t, opts); err != nil || !equalStrings(got, []string{"SELECT 0", "SET a 1", "SET b 2"}) {
		t.Fatalf("%q %v", got, err)
	}
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After an fsync failure nothing the old files hold can be trusted, so the
// AOF refuses (sticky) until a rewrite puts the whole data set into a new
// durable base: then it takes writes again and loads complete.
func TestFsyncFailureClearedByRewrite(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(dir, nil) // appendfsync always
	a := mustOpen(t, opts)
	if err := a.Sync(a.Append(0, argv("SET", "a", "1"))); err != nil {
		t.Fatal(err)
	}
	// fdatasync on a pipe fails (EINVAL): an fsync failure without a bad disk.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	real := swapFile(a, w)
	if err := a.Sync(a.Append(0, argv("SET", "b", "2"))); err == nil {
		t.Fatal("Sync succeeded although fdatasync failed")
	}
	swapFile(a, real)
	if err := a.Sync(a.Append(0, argv("SET", "c", "3"))); err == nil || a.LastError() == nil {
		t.Fatalf("the fsync failure did not stick: Sync %v, LastError %v", err, a.LastError())
	}
	rw, err := a.BeginRewrite()
	if err != nil {
		t.Fatalf("a rewrite must be possible after an fsync failure: %v", err)
	}
	if a.LastError() == nil {
		t.Fatal("the failure cleared before the new base was durable")
	}
	rw.Base().Write(resp([]string{"SET", "a", "1"}, []string{"SET", "b", "2"}, []string{"SET", "c", "3"}))
	if err := rw.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := a.LastError(); err != nil {
		t.Fatalf("still failed after the rewrite: %v", err)
	}
	if err := a.Sync(a.Append(0, argv("SET", "d", "4"))); err != nil {
		t.Fatal(err)
	}
	a.Close()
	got, _, err := loadCommands(t, opts)
	if err != nil || !equalStrings(got, []string{"SELECT 0", "SET a 1", "SET b 2", "SET c 3", "SELECT 0", "SELECT 0", "SET d 4"}) {
		t.Fatalf("%q %v", got, err)
	}
}
