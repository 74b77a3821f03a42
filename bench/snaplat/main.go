// Command snaplat measures what a snapshot of a big value costs the other
// clients: it loads a set of -members members into a server, then runs
// BGSAVE (and, with -replica, a full sync of a new replica) while one
// client GETs a key of the big set's slot and another a key of another
// slot, every millisecond, and prints the worst GET latency of each.
//
//	go run ./bench/snaplat -addr 127.0.0.1:6379
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server")
	members := flag.Int("members", 1_000_000, "members of the big set")
	flag.Parse()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: *addr, ReadTimeout: time.Minute})
	defer c.Close()
	if err := c.FlushAll(ctx).Err(); err != nil {
		log.Fatal(err)
	}
	const batch = 5000
	for i := 0; i < *members; i += batch {
		args := []any{"SADD", "{big}set"}
		for j := i; j < min(i+batch, *members); j++ {
			args = append(args, j)
		}
		if err := c.Do(ctx, args...).Err(); err != nil {
			log.Fatal(err)
		}
	}
	// Small keys: one in the big set's slot, and 10k elsewhere.
	c.Set(ctx, "{big}x", "v", 0)
	for i := 0; i < 10000; i++ {
		c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0)
	}
	c.Set(ctx, "other", "v", 0)

	probe := func(key string, stop chan struct{}, worst *time.Duration, n *int, wg *sync.WaitGroup) {
		defer wg.Done()
		cl := redis.NewClient(&redis.Options{Addr: *addr, ReadTimeout: time.Minute})
		defer cl.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			t0 := time.Now()
			if err := cl.Get(ctx, key).Err(); err != nil {
				log.Fatal(err)
			}
			*worst, *n = max(*worst, time.Since(t0)), *n+1
		}
	}
	before, _ := c.LastSave(ctx).Result()
	var w1, w2 time.Duration
	var n1, n2 int
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go probe("{big}x", stop, &w1, &n1, &wg)
	go probe("other", stop, &w2, &n2, &wg)
	time.Sleep(100 * time.Millisecond)
	t0 := time.Now()
	if err := c.BgSave(ctx).Err(); err != nil && !strings.Contains(err.Error(), "scheduled") {
		log.Fatal(err)
	}
	for {
		ls, err := c.LastSave(ctx).Result()
		if err != nil {
			log.Fatal(err)
		}
		info, _ := c.Info(ctx, "persistence").Result()
		if ls != before && strings.Contains(info, "rdb_bgsave_in_progress:0") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	took := time.Since(t0)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	fmt.Printf("BGSAVE of a %d-member set: %v; worst GET same slot %v (%d), other slot %v (%d)\n",
		*members, took.Round(time.Millisecond), w1.Round(time.Microsecond), n1, w2.Round(time.Microsecond), n2)
}
