package node

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestMultiExec(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	c := newClient(t, addr)
	conn := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 }) // one connection
	steps := []struct {
		args    []any
		want    any
		wantErr string
	}{
		{args: []any{"exec"}, wantErr: "ERR EXEC without MULTI"},
		{args: []any{"discard"}, wantErr: "ERR DISCARD without MULTI"},
		{args: []any{"multi"}, want: "OK"},
		{args: []any{"multi"}, wantErr: "ERR MULTI calls can not be nested"},
		{args: []any{"set", "a", "1"}, want: "QUEUED"},
		{args: []any{"incr", "a"}, want: "QUEUED"},
		{args: []any{"lpush", "a", "x"}, want: "QUEUED"},
		{args: []any{"get", "a"}, want: "QUEUED"},
		{args: []any{"watch", "a"}, wantErr: "ERR WATCH inside MULTI is not allowed"},
	}
	for _, s := range steps {
		got, err := conn.Do(ctx, s.args...).Result()
		if s.wantErr != "" {
			if err == nil || err.Error() != s.wantErr {
				t.Fatalf("%v: got %v %v, want error %q", s.args, got, err, s.wantErr)
			}
			continue
		}
		if err != nil || got != s.want {
			t.Fatalf("%v: got %v %v, want %v", s.args, got, err, s.want)
		}
	}
	res, err := conn.Do(ctx, "exec").Slice()
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 || res[0] != "OK" || res[1] != int64(2) || res[3] != "2" {
		t.Fatalf("EXEC = %#v", res)
	}
	if e, ok := res[2].(error); !ok || e.Error() != errWrongType {
		t.Fatalf("EXEC[2] = %#v, want the WRONGTYPE error inside the array", res[2])
	}

	// A queueing error aborts the whole transaction.
	conn.Do(ctx, "multi")
	conn.Do(ctx, "set", "a", "changed")
	if err := conn.Do(ctx, "nosuchcmd").Err(); err == nil {
		t.Fatal("unknown command queued")
	}
	if err := conn.Do(ctx, "get").Err(); err == nil {
		t.Fatal("arity error queued")
	}
	if err := conn.Do(ctx, "exec").Err(); err == nil || err.Error() != "EXECABORT Transaction discarded because of previous errors." {
		t.Fatalf("EXEC after queue errors: %v", err)
	}
	if v := c.Get(ctx, "a").Val(); v != "2" {
		t.Fatalf("aborted transaction wrote: a=%q", v)
	}
	// DISCARD drops the queue.
	conn.Do(ctx, "multi")
	conn.Do(ctx, "set", "a", "discarded")
	if err := conn.Do(ctx, "discard").Err(); err != nil {
		t.Fatal(err)
	}
	if v := c.Get(ctx, "a").Val(); v != "2" {
		t.Fatalf("discarded transaction wrote: a=%q", v)
	}
}

func TestWatch(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	a, b := newClient(t, addr), newClient(t, addr)
	a.Set(ctx, "k", "1", 0)

	txn := func(c *redis.Client, key string, touch func()) error {
		return c.Watch(ctx, func(tx *redis.Tx) error {
			touch()
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, "mine", 0)
				return nil
			})
			return err
		}, key)
	}
	// Another client's write invalidates the WATCH.
	if err := txn(a, "k", func() { b.Set(ctx, "k", "theirs", 0) }); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("write by another client: %v, want TxFailedErr", err)
	}
	if v := a.Get(ctx, "k").Val(); v != "theirs" {
		t.Fatalf("k = %q", v)
	}
	// A write to another key does not.
	if err := txn(a, "k", func() { b.Set(ctx, "other", "x", 0) }); err != nil {
		t.Fatalf("unrelated write: %v", err)
	}
	// FLUSHALL and DEL invalidate.
	if err := txn(a, "k", func() { b.Del(ctx, "k") }); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("DEL: %v", err)
	}
	// Expiry counts as a write.
	a.Set(ctx, "e", "1", 20*time.Millisecond)
	err := txn(a, "e", func() {
		for a.Exists(ctx, "e").Val() == 1 { // poll until expired
			time.Sleep(2 * time.Millisecond)
		}
	})
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("expired watched key: %v", err)
	}
	// UNWATCH forgets.
	conn := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1 })
	conn.Do(ctx, "watch", "k")
	b.Set(ctx, "k", "again", 0)
	conn.Do(ctx, "unwatch")
	conn.Do(ctx, "multi")
	conn.Do(ctx, "set", "k", "after-unwatch")
	if res, err := conn.Do(ctx, "exec").Slice(); err != nil || len(res) != 1 {
		t.Fatalf("EXEC after UNWATCH = %v %v", res, err)
	}
}

// Optimistic locking under contention: every successful WATCH/MULTI/EXEC
// increment must count exactly once.
func TestWatchRace(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, addr)
			for i := 0; i < each; i++ {
				for {
					err := c.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, "counter").Int()
						if err != nil && err != redis.Nil {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "counter", strconv.Itoa(n+1), 0)
							return nil
						})
						return err
					}, "counter")
					if err == nil {
						break
					}
					if !errors.Is(err, redis.TxFailedErr) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	c := newClient(t, addr)
	if n, _ := c.Get(ctx, "counter").Int(); n != workers*each {
		t.Fatalf("counter = %d, want %d", n, workers*each)
	}
}

// EXEC is atomic: a reader never sees half of a transaction.
func TestExecAtomic(t *testing.T) {
	_, addr := startServer(t)
	ctx := context.Background()
	w := newClient(t, addr)
	r := newClient(t, addr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 300; i++ {
			w.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "x")
				p.Incr(ctx, "{other}y") // a different partition
				return nil
			})
		}
	}()
	for {
		select {
		case <-done:
			return
		default:
		}
		vals, err := r.MGet(ctx, "x", "{other}y").Result()
		if err != nil {
			t.Fatal(err)
		}
		if vals[0] != vals[1] {
			t.Fatalf("saw half a transaction: x=%v y=%v", vals[0], vals[1])
		}
	}
}
