package node

import (
	"bufio"
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// FuzzParseBuffered checks the replica's copy-free parser against
// readCommand: whenever parseBuffered takes a command, readCommand reads the
// same arguments from the same bytes and consumes exactly as many.
func FuzzParseBuffered(f *testing.F) {
	for _, seed := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n",
		"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n",
		"*1\r\n$0\r\n\r\n",
		"*0\r\n",
		"*1\n$4\nPING\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nab\r\n",
		"*1\r\n$-1\r\n",
		"*01\r\n$04\r\nPING\r\n",
		"\r\n",
		"*1\r\n$3\r\nab",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		argv, n, ok := parseBuffered(data, nil)
		if !ok {
			return
		}
		if n <= 0 || n > len(data) || data[0] != '*' {
			t.Fatalf("parseBuffered(%q) took %d bytes", data, n)
		}
		mr := &masterReader{r: bufio.NewReader(bytes.NewReader(data))}
		want, err := readCommand(mr)
		if err != nil {
			t.Fatalf("parseBuffered took %q, readCommand fails: %v", data[:n], err)
		}
		if !slices.EqualFunc(argv, want, bytes.Equal) {
			t.Fatalf("%q: parseBuffered %q, readCommand %q", data[:n], argv, want)
		}
		if !bytes.Equal(mr.raw, data[:n]) {
			t.Fatalf("%q: parseBuffered took %d bytes, readCommand %q", data, n, mr.raw)
		}
		for _, a := range argv { // an argument grown by a command must not overwrite the next
			if cap(a) != len(a) {
				t.Fatalf("argument %q has spare capacity", a)
			}
		}
	})
}

// A warden replica applies a stream whose commands arrive whole, split
// across reads, larger than its read buffer, inside transactions and across
// databases, and ends with the master's data, its offset and, in a snapshot,
// a position at a command boundary.
func TestReplicaBatchedApply(t *testing.T) {
	ms, maddr := startServer(t, "save", "")
	_, mport, _ := strings.Cut(maddr, ":")
	rs, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	ctx := context.Background()
	replica := newClient(t, raddr)
	waitLinkUp(t, replica)
	master := newClient(t, maddr)

	big := strings.Repeat("b", 200<<10) // over the replica's 64 KB read buffer
	pipe := master.Pipeline()
	for i := 0; i < 2000; i++ {
		pipe.Set(ctx, "k"+strconv.Itoa(i), i, 0)
		if i%500 == 0 {
			pipe.Set(ctx, "big"+strconv.Itoa(i), big+strconv.Itoa(i), 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	tx := master.TxPipeline()
	tx.Incr(ctx, "k1")
	tx.Set(ctx, "big-in-tx", big, 0)
	tx.Del(ctx, "k2")
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	db1 := newClient(t, maddr, func(o *redis.Options) { o.DB = 1 })
	if err := db1.Set(ctx, "in-db1", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := master.Do(ctx, "WAIT", 1, 0).Int64(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 0 = %d %v", n, err)
	}
	waitFor(t, func() bool { return rs.repl.offsetA.Load() == ms.repl.offsetA.Load() }, "the replica's offset to reach the master's")
	for _, k := range []string{"k0", "k1", "k2", "k1999", "big0", "big1500", "big-in-tx"} {
		want, _ := master.Get(ctx, k).Result()
		if got, _ := replica.Get(ctx, k).Result(); got != want {
			t.Fatalf("replica %s = %.20q (len %d), master %.20q (len %d)", k, got, len(got), want, len(want))
		}
	}
	if got := replica.Get(ctx, "k1").Val(); got != "2" {
		t.Fatalf("replica k1 = %q, want 2 (INCR inside the transaction)", got)
	}
	if n := replica.DBSize(ctx).Val(); n != master.DBSize(ctx).Val() {
		t.Fatalf("replica dbsize %d, master %d", n, master.DBSize(ctx).Val())
	}
	rdb1 := newClient(t, raddr, func(o *redis.Options) { o.DB = 1 })
	if got := rdb1.Get(ctx, "in-db1").Val(); got != "x" {
		t.Fatalf("replica db1 in-db1 = %q, want x", got)
	}
	unlock := rs.lockReplApply()
	a := rs.replica.applied
	unlock()
	if !a.valid || a.off != ms.repl.offsetA.Load() || a.db != 1 {
		t.Fatalf("replica applied = %+v, want offset %d in db 1", a, ms.repl.offsetA.Load())
	}
}
