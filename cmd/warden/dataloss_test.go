package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/testhost"
)

// wardenProc is a warden server process whose exit the test observes.
type wardenProc struct {
	cmd    *exec.Cmd
	logs   *testhost.LogBuffer
	exited chan struct{}
	err    error // valid once exited is closed
}

// spawnWarden starts `warden server args...` and waits until it answers
// PING on port. ok=false: it exited first (its logs say why).
func spawnWarden(t *testing.T, port string, args ...string) (p *wardenProc, ok bool) {
	t.Helper()
	p = &wardenProc{logs: &testhost.LogBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(wardenBin, append([]string{"server"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			return p, false
		default:
		}
		if c.Ping(context.Background()).Err() == nil {
			return p, true
		}
		if time.Now().After(deadline) {
			t.Fatalf("warden neither answered nor exited:\n%s", p.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *wardenProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// waitExit waits for the process to end and returns its exit status.
func (p *wardenProc) waitExit(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("warden did not exit:\n%s", p.logs)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// waitLog waits until the log holds want count times.
func (p *wardenProc) waitLog(t *testing.T, want string, count int) {
	t.Helper()
	waitCond(t, func() bool { return strings.Count(p.logs.String(), want) >= count }, fmt.Sprintf("%q in the log", want), p.logs)
}

func waitCond(t *testing.T, cond func() bool, what string, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A file the AOF manifest lists that is missing or unusable stops the start
// with one log line naming the file and the reason, exit status 1, and the
// AOF directory untouched. Before, a missing last incr file was created
// empty and the node served an empty data set.
func TestAOFListedFileMissingRefusesToStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(aofDir string)
		want   string
	}{
		{"last incr file missing", func(d string) { os.Remove(filepath.Join(d, "appendonly.aof.2.incr.aof")) },
			"can't open the append-only file appendonly.aof.2.incr.aof: no such file or directory"},
		{"base missing", func(d string) { os.Remove(filepath.Join(d, "appendonly.aof.1.base.rdb")) },
			"can't open the append-only file appendonly.aof.1.base.rdb: no such file or directory"},
		{"directory in place of the incr file", func(d string) {
			os.Remove(filepath.Join(d, "appendonly.aof.2.incr.aof"))
			os.Mkdir(filepath.Join(d, "appendonly.aof.2.incr.aof"), 0o755)
		}, "can't open the append-only file appendonly.aof.2.incr.aof: not a regular file"},
		{"manifest lost", func(d string) { os.Remove(filepath.Join(d, "appendonly.aof.manifest")) },
			"appendonly.aof.manifest is missing or lists no file, but " /* ... holds AOF data */},
		{"base truncated", func(d string) {
			p := filepath.Join(d, "appendonly.aof.1.base.rdb")
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()/2)
		}, "appendonly.aof.1.base.rdb at offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			args := []string{"--port", port, "--dir", dir, "--appendonly", "yes", "--save", ""}
			p, ok := spawnWarden(t, port, args...)
			if !ok {
				t.Fatalf("first start failed:\n%s", p.logs)
			}
			redisCLI(t, port, "SET", "a", "1")
			redisCLI(t, port, "BGREWRITEAOF")
			waitCond(t, func() bool {
				return strings.Contains(redisCLI(t, port, "INFO", "persistence"), "aof_rewrites:1")
			}, "the rewrite", p.logs)
			redisCLI(t, port, "SET", "b", "2") // into appendonly.aof.2.incr.aof
			p.cmd.Process.Signal(syscall.SIGTERM)
			if code := p.waitExit(t); code != 0 {
				t.Fatalf("exit %d:\n%s", code, p.logs)
			}
			aofDir := filepath.Join(dir, "appendonlydir")
			tc.break_(aofDir)
			before := listDir(t, aofDir)

			// A fresh port: the refusal must not depend on the old one
			// still being free.
			port = freePort(t)
			args[1] = port
			p, ok = spawnWarden(t, port, args...)
			if ok {
				t.Fatalf("warden started (DBSIZE %s) on an AOF with %s:\n%s", redisCLI(t, port, "DBSIZE"), tc.name, p.logs)
			}
			if code := p.waitExit(t); code != 1 {
				t.Fatalf("exit status %d, want 1:\n%s", code, p.logs)
			}
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(p.logs.String()), "\n") {
				if strings.Contains(l, tc.want) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 || !strings.Contains(lines[0], "level=ERROR") {
				t.Fatalf("want one ERROR line with %q, got %q in:\n%s", tc.want, lines, p.logs)
			}
			if after := listDir(t, aofDir); after != before {
				t.Fatalf("the refused start changed the AOF directory:\n%s\nwas:\n%s", after, before)
			}
		})
	}
}

// listDir renders dir's entries with sizes and the manifest's text.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		st, _ := e.Info()
		fmt.Fprintf(&b, "%s %v %d\n", e.Name(), e.IsDir(), st.Size())
	}
	m, _ := os.ReadFile(filepath.Join(dir, "appendonly.aof.manifest"))
	b.Write(m)
	return b.String()
}

// A save that fails at SIGTERM or SHUTDOWN keeps the node serving, as
// Redis does ("Error trying to save the DB, can't exit."): nothing written
// since the last save is thrown away. The next SIGTERM, once the save can
// succeed, stops it with everything saved. SHUTDOWN NOSAVE and FORCE still
// exit. Before, SIGTERM logged "saving on shutdown failed" and exited 0.
func TestShutdownSaveFailureKeepsServing(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	args := []string{"--port", port, "--dir", dir, "--save", "3600 1"}
	p, ok := spawnWarden(t, port, args...)
	if !ok {
		t.Fatalf("start failed:\n%s", p.logs)
	}
	redisCLI(t, port, "SET", "a", "1")
	// A non-empty directory where dump.rdb goes makes the final rename
	// fail (chmod would not stop root).
	blocker := filepath.Join(dir, "dump.rdb")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	redisCLI(t, port, "SET", "b", "2")

	p.cmd.Process.Signal(syscall.SIGTERM)
	p.waitLog(t, "Error trying to save the DB, can't exit.", 1)
	p.waitLog(t, "SIGTERM received but errors trying to shut down the server", 1)
	if got := redisCLI(t, port, "GET", "b"); got != "2" || !p.running() {
		t.Fatalf("after the failed SIGTERM save: running %v, GET b = %q\n%s", p.running(), got, p.logs)
	}
	for _, cmd := range [][]string{{"SHUTDOWN"}, {"SHUTDOWN", "SAVE"}} {
		if got := redisCLI(t, port, cmd...); got != "ERR Errors trying to SHUTDOWN. Check logs." {
			t.Fatalf("%v with a failing save: %q", cmd, got)
		}
	}
	if got := redisCLI(t, port, "PING"); got != "PONG" || !p.running() {
		t.Fatalf("after the refused SHUTDOWNs: %q running %v", got, p.running())
	}

	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGTERM) // tries again
	if code := p.waitExit(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.logs)
	}
	p, ok = spawnWarden(t, port, args...)
	if !ok {
		t.Fatalf("restart failed:\n%s", p.logs)
	}
	if got := redisCLI(t, port, "MGET", "a", "b"); got != "1\n2" {
		t.Fatalf("after restart MGET a b = %q", got)
	}

	// NOSAVE and FORCE exit whatever the save would do.
	for _, mode := range []string{"NOSAVE", "FORCE"} {
		os.Remove(blocker) // the dump.rdb saved by the last stop
		if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		redisCLI(t, port, "SET", "c", mode)
		exec.Command("redis-cli", "-p", port, "SHUTDOWN", mode).Run() // no reply: the connection closes
		if code := p.waitExit(t); code != 0 {
			t.Fatalf("SHUTDOWN %s: exit %d:\n%s", mode, code, p.logs)
		}
		if mode == "FORCE" && !strings.Contains(p.logs.String(), "Error trying to save the DB. Exit anyway.") {
			t.Errorf("SHUTDOWN FORCE did not log the failed save:\n%s", p.logs)
		}
		os.RemoveAll(blocker)
		if p, ok = spawnWarden(t, port, args...); !ok {
			t.Fatalf("restart failed:\n%s", p.logs)
		}
	}
}

// While SHUTDOWN saves, clients keep sending writes: none may be
// acknowledged after the final snapshot and then lost. Before, SHUTDOWN
// saved while other clients' writes kept being acknowledged until the
// connections closed, and those writes were gone after the restart.
func TestShutdownKeepsAcknowledgedWrites(t *testing.T) {
	for _, how := range []string{"SHUTDOWN", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			args := []string{"--port", port, "--dir", dir, "--save", "3600 1", "--appendonly", "no"}
			p, ok := spawnWarden(t, port, args...)
			if !ok {
				t.Fatalf("start failed:\n%s", p.logs)
			}
			ctx := context.Background()
			// Some data so that the final save takes a moment.
			seed := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
			for i := 0; i < 20; i++ {
				pipe := seed.Pipeline()
				for j := 0; j < 1000; j++ {
					pipe.Set(ctx, fmt.Sprintf("seed:%d:%d", i, j), strings.Repeat("v", 100), 0)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			seed.Close()
			const workers = 8
			acked := make([]atomic.Int64, workers)
			var wg sync.WaitGroup
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
					defer c.Close()
					for {
						n, err := c.Incr(ctx, "counter:"+strconv.Itoa(w)).Result()
						if err != nil {
							return // the server closed the connection
						}
						acked[w].Store(n)
					}
				}(w)
			}
			waitCond(t, func() bool { return acked[workers-1].Load() > 200 }, "writes to flow", p.logs)
			if how == "SIGTERM" {
				p.cmd.Process.Signal(syscall.SIGTERM)
			} else {
				exec.Command("redis-cli", "-p", port, "SHUTDOWN").Run()
			}
			if code := p.waitExit(t); code != 0 {
				t.Fatalf("exit %d:\n%s", code, p.logs)
			}
			wg.Wait()
			if p, ok = spawnWarden(t, port, args...); !ok {
				t.Fatalf("restart failed:\n%s", p.logs)
			}
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
			defer c.Close()
			for w := range acked {
				got, _ := c.Get(ctx, "counter:"+strconv.Itoa(w)).Int64()
				if want := acked[w].Load(); got < want {
					t.Errorf("counter:%d is %d after the restart, but %d was acknowledged", w, got, want)
				}
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory, so a test
// can fill a disk up; it skips the test where mounting is not permitted.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill up (needs root with CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

// fillDisk writes a file in dir until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// aofOnFullDisk is a node whose AOF lives on a small tmpfs, and the writes
// it acknowledged.
type aofOnFullDisk struct {
	dir, port string
	args      []string
	p         *wardenProc
	c         *redis.Client
	acked     map[string]string
	unacked   int // writes whose connection closed without a reply
	filler    string
}

func startOnTmpfs(t *testing.T, fsync string) *aofOnFullDisk {
	d := &aofOnFullDisk{dir: mountTmpfs(t, 1<<20), port: freePort(t), acked: map[string]string{}}
	d.args = []string{"--port", d.port, "--dir", d.dir, "--appendonly", "yes", "--appendfsync", fsync,
		"--save", "", "--auto-aof-rewrite-percentage", "0"}
	var ok bool
	if d.p, ok = spawnWarden(t, d.port, d.args...); !ok {
		t.Fatalf("start failed:\n%s", d.p.logs)
	}
	// No retries: a write whose connection closes is not acknowledged.
	d.c = redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + d.port, MaxRetries: -1})
	t.Cleanup(func() { d.c.Close() })
	for i := 0; i < 10; i++ {
		if err := d.set("before:" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d *aofOnFullDisk) set(k string) error {
	v := strings.Repeat("x", 1500) + k
	err := d.c.Set(context.Background(), k, v, 0).Err()
	if err == nil {
		d.acked[k] = v
	}
	return err
}

// fill fills the disk and writes until the node refuses; it returns the
// refusal.
func (d *aofOnFullDisk) fill(t *testing.T) error {
	t.Helper()
	d.filler = fillDisk(t, d.dir)
	for i := 0; ; i++ {
		if i > 2000 {
			t.Fatalf("no MISCONF after %d writes to a full disk:\n%s", i, d.p.logs)
		}
		err := d.set("full:" + strconv.Itoa(i))
		switch {
		case err == nil:
		case strings.HasPrefix(err.Error(), "MISCONF"):
			return err
		default: // appendfsync always: the connection closed, no reply
			d.unacked++
		}
	}
}

// free removes the filler and waits until writes are accepted again.
func (d *aofOnFullDisk) free(t *testing.T) {
	t.Helper()
	if err := os.Remove(d.filler); err != nil {
		t.Fatal(err)
	}
	waitCond(t, func() bool { return d.set("after:0") == nil }, "writes to be accepted again after space was freed", d.p.logs)
	for i := 1; i < 10; i++ {
		if err := d.set("after:" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
}

// restartAndCheck stops the node with SIGTERM and checks that the
// restarted node has exactly the data it had (every acknowledged write).
func (d *aofOnFullDisk) restartAndCheck(t *testing.T) {
	t.Helper()
	want := snapshotOf(t, d.port)
	d.p.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.p.waitExit(t); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.p.logs)
	}
	p, ok := spawnWarden(t, d.port, d.args...)
	if !ok {
		t.Fatalf("the AOF does not load after the disk was full:\n%s", p.logs)
	}
	if got := snapshotOf(t, d.port); got != want {
		t.Fatalf("data after restart differs:\n%s\nwant:\n%s", got, want)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + d.port})
	defer c.Close()
	for k, v := range d.acked {
		if got := c.Get(context.Background(), k).Val(); got != v {
			t.Fatalf("acknowledged %s lost after the restart (%d bytes)", k, len(got))
		}
	}
	t.Logf("%d acknowledged and %d unacknowledged writes; all acknowledged ones survived", len(d.acked), d.unacked)
}

// With the AOF on a disk that fills up, writes are refused with Redis's
// MISCONF text; once space is freed the AOF retries the pending write in
// the background and writes are accepted again without a restart, and the
// restarted node has every acknowledged write. appendfsync always never
// acknowledges a write it could not make durable. Before, the node refused
// writes until restarted (aof_last_write_status:err forever).
func TestAOFDiskFullRecovers(t *testing.T) {
	for _, fsync := range []string{"everysec", "always"} {
		t.Run(fsync, func(t *testing.T) {
			d := startOnTmpfs(t, fsync)
			misconf := d.fill(t)
			if want := "MISCONF Errors writing to the AOF file: No space left on device"; misconf.Error() != want {
				t.Errorf("refusal %q, want %q", misconf, want)
			}
			if fsync == "always" && d.unacked == 0 {
				t.Errorf("appendfsync always acknowledged a write that failed")
			}
			ctx := context.Background()
			if info := d.c.Info(ctx, "persistence").Val(); !strings.Contains(info, "aof_last_write_status:err") {
				t.Fatalf("INFO while the disk is full:\n%s", info)
			}
			d.free(t)
			d.p.waitLog(t, "AOF write error looks solved, Redis can write again.", 1)
			if info := d.c.Info(ctx, "persistence").Val(); !strings.Contains(info, "aof_last_write_status:ok") {
				t.Fatalf("INFO after recovery:\n%s", info)
			}
			d.restartAndCheck(t)
		})
	}
}

// While the AOF cannot be written, SIGTERM and SHUTDOWN do not exit (the
// pending data would be lost): the node keeps serving and a SIGTERM after
// the disk recovered stops it with everything on disk. Before, SIGTERM
// exited 0 and dropped the pending AOF data.
func TestSIGTERMKeepsServingWhileAOFUnwritable(t *testing.T) {
	d := startOnTmpfs(t, "everysec")
	d.fill(t)
	d.p.cmd.Process.Signal(syscall.SIGTERM)
	d.p.waitLog(t, "Error trying to write and fsync the AOF, can't exit.", 1)
	if got := redisCLI(t, d.port, "SHUTDOWN"); got != "ERR Errors trying to SHUTDOWN. Check logs." {
		t.Fatalf("SHUTDOWN with the AOF unwritable: %q", got)
	}
	if err := d.c.Ping(context.Background()).Err(); err != nil || !d.p.running() {
		t.Fatalf("after SIGTERM and SHUTDOWN on a full disk: %v, running %v\n%s", err, d.p.running(), d.p.logs)
	}
	d.free(t)
	d.restartAndCheck(t)
}
