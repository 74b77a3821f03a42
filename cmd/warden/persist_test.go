package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// kill -9 under a write load with appendfsync always: every write the
// server acknowledged is there after a restart.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	args := []string{"--port", port, "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""}
	cmd, _ := startWarden(t, port, args...)
	ctx := context.Background()
	const workers = 8
	acked := make([]atomic.Int64, workers) // highest acknowledged INCR per worker
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
			defer c.Close()
			key := "counter:" + strconv.Itoa(w)
			for !stop.Load() {
				n, err := c.Incr(ctx, key).Result()
				if err != nil {
					return // the server died
				}
				acked[w].Store(n)
				c.Set(ctx, fmt.Sprintf("k:%d:%d", w, n), n, 0)
			}
		}(w)
	}
	deadline := time.Now().Add(20 * time.Second)
	for acked[0].Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stop.Store(true)
	wg.Wait()
	total := int64(0)
	for w := range acked {
		total += acked[w].Load()
	}
	if total == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	startWarden(t, port, args...)
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer c.Close()
	for w := range acked {
		want := acked[w].Load()
		got, _ := c.Get(ctx, "counter:"+strconv.Itoa(w)).Int64()
		if got < want {
			t.Fatalf("worker %d: counter %d after restart, but %d was acknowledged", w, got, want)
		}
		for n := int64(1); n < want; n++ { // the SET after INCR n was acknowledged when n+1 was
			if c.Exists(ctx, fmt.Sprintf("k:%d:%d", w, n)).Val() != 1 {
				t.Fatalf("acknowledged SET k:%d:%d lost", w, n)
			}
		}
	}
	t.Logf("%d acknowledged INCRs all survived kill -9", total)
}

// incrFile returns the AOF's current incremental file.
func incrFile(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if len(files) == 0 {
		t.Fatal("no incr file")
	}
	sort.Strings(files)
	return files[len(files)-1]
}

func TestAOFTruncatedAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	args := []string{"--port", port, "--dir", dir, "--appendonly", "yes", "--save", ""}
	cmd, _ := startWarden(t, port, args...)
	redisCLI(t, port, "SET", "a", "1")
	redisCLI(t, port, "SET", "b", "2")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	incr := incrFile(t, dir)
	full, _ := os.ReadFile(incr)

	// A torn last command loads with a warning (aof-load-truncated yes).
	os.WriteFile(incr, full[:len(full)-3], 0o644)
	cmd, logs := startWarden(t, port, args...)
	if got := redisCLI(t, port, "GET", "a"); got != "1" {
		t.Fatalf("after truncated tail: a=%q", got)
	}
	if got := redisCLI(t, port, "GET", "b"); got != "" {
		t.Fatalf("the torn command was applied: b=%q", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(strings.ToLower(logs.String()), "truncat") {
		t.Errorf("no warning about the truncated AOF in the log:\n%s", logs)
	}

	// With aof-load-truncated no it is refused, naming file and offset.
	full2, _ := os.ReadFile(incr)
	os.WriteFile(incr, append(full2, []byte("*3\r\n$3\r\nSET\r\n$1\r\nc")...), 0o644)
	out, err := exec.Command(wardenBin, append([]string{"server"}, append(args, "--aof-load-truncated", "no")...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), filepath.Base(incr)) {
		t.Fatalf("truncated AOF with aof-load-truncated no: %v\n%s", err, out)
	}

	// Garbage in the middle is always an error, never a partial load.
	bad := append([]byte("*2\r\n$3\r\nDEL\r\n$1\r\nx\r\nGARBAGE\r\n"), full2...)
	os.WriteFile(incr, bad, 0o644)
	out, err = exec.Command(wardenBin, append([]string{"server"}, args...)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), filepath.Base(incr)) {
		t.Fatalf("corrupted AOF: %v\n%s", err, out)
	}
}

// snapshotOf renders every key of dbs 0..2 of the server on port.
func snapshotOf(t *testing.T, port string) string {
	return redistest.Dump(t, "127.0.0.1:"+port, 3)
}

func fillServer(t *testing.T, port string) {
	t.Helper()
	ctx := context.Background()
	for _, db := range []int{0, 2} {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, DB: db})
		p := c.Pipeline()
		p.Set(ctx, "s", "v", 0)
		p.Set(ctx, "n", 42, 0)
		p.Set(ctx, "long", strings.Repeat("xyz", 5000), time.Hour/2)
		p.RPush(ctx, "l", "a", "b", "c")
		p.HSet(ctx, "h", "f", "v", "g", "w")
		p.SAdd(ctx, "si", 1, 2, 3)
		p.SAdd(ctx, "ss", "a", "b")
		p.ZAdd(ctx, "z", redis.Z{Score: 1.25, Member: "a"}, redis.Z{Score: 2, Member: "b"})
		for i := 0; i < 600; i++ {
			p.HSet(ctx, "bigh", "f"+strconv.Itoa(i), strings.Repeat("v", i%100))
			p.SAdd(ctx, "bigs", "member"+strconv.Itoa(i))
			p.ZAdd(ctx, "bigz", redis.Z{Score: float64(i) / 3, Member: "m" + strconv.Itoa(i)})
			p.RPush(ctx, "bigl", strings.Repeat("e", i))
		}
		p.Expire(ctx, "bigz", 2*time.Hour)
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

func TestRDBInteropWithRedis(t *testing.T) {
	// warden's dump.rdb -> real redis-server.
	dir := t.TempDir()
	port := freePort(t)
	cmd, _ := startWarden(t, port, "--port", port, "--dir", dir, "--save", "")
	fillServer(t, port)
	want := snapshotOf(t, port)
	redisCLI(t, port, "SAVE")
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	rport := redistest.Start(t, dir).Port
	if got := snapshotOf(t, rport); got != want {
		t.Fatalf("redis-server loaded warden's dump.rdb differently:\nwarden:\n%s\nredis:\n%s", want, got)
	}

	// A real redis-server's dump.rdb -> warden.
	dir2 := t.TempDir()
	rport2 := redistest.Start(t, dir2).Port
	fillServer(t, rport2)
	want2 := snapshotOf(t, rport2)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + rport2})
	if err := rc.Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	port2 := freePort(t)
	startWarden(t, port2, "--port", port2, "--dir", dir2, "--save", "")
	if got := snapshotOf(t, port2); got != want2 {
		t.Fatalf("warden loaded redis-server's dump.rdb differently:\nredis:\n%s\nwarden:\n%s", want2, got)
	}
}

// SIGTERM with save rules set writes dump.rdb, as Redis does.
func TestSIGTERMSaves(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cmd, _ := startWarden(t, port, "--port", port, "--dir", dir) // default save rules
	redisCLI(t, port, "SET", "kept", "yes")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dump.rdb")); err != nil {
		t.Fatalf("no dump.rdb after SIGTERM: %v", err)
	}
	startWarden(t, port, "--port", port, "--dir", dir)
	if got := redisCLI(t, port, "GET", "kept"); got != "yes" {
		t.Fatalf("after restart kept=%q", got)
	}
}
