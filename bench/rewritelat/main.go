// Command rewritelat measures the command latency a server shows while it
// rewrites its AOF (or takes a BGSAVE): it loads N keys, then keeps issuing
// SETs from several clients while the background job runs, and prints the
// longest and 99th-percentile latency seen during the job.
//
//	go run ./bench/rewritelat -addr 127.0.0.1:6379 -keys 1000000 -job bgrewriteaof
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "server address")
	keys := flag.Int("keys", 1000000, "keys to load first")
	job := flag.String("job", "bgrewriteaof", "bgrewriteaof, bgsave, or none (baseline)")
	clients := flag.Int("clients", 4, "concurrent clients measuring latency")
	flag.Parse()
	if err := run(*addr, *keys, *job, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "rewritelat:", err)
		os.Exit(1)
	}
}

func run(addr string, keys int, job string, clients int) error {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: clients + 2})
	defer c.Close()
	for i := 0; i < keys; i += 1000 {
		p := c.Pipeline()
		for j := i; j < i+1000 && j < keys; j++ {
			p.Set(ctx, "key:"+strconv.Itoa(j), "value:"+strconv.Itoa(j), 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("load: %w", err)
		}
	}
	var stop atomic.Bool
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var mine []time.Duration
			for i := 0; !stop.Load(); i++ {
				t0 := time.Now()
				if err := c.Set(ctx, "lat:"+strconv.Itoa(w), i, 0).Err(); err != nil {
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	start := time.Now()
	if job == "none" { // baseline: the same load without a background job
		time.Sleep(time.Second)
	} else {
		if err := c.Do(ctx, job).Err(); err != nil {
			return fmt.Errorf("%s: %w", job, err)
		}
		field := "aof_rewrite_in_progress:0"
		if job == "bgsave" {
			field = "rdb_bgsave_in_progress:0"
		}
		time.Sleep(10 * time.Millisecond)
		for !strings.Contains(c.Info(ctx, "persistence").Val(), field) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	slices.Sort(lat)
	if len(lat) == 0 {
		return fmt.Errorf("no command completed during the job")
	}
	p99 := lat[len(lat)*99/100]
	fmt.Printf("%s of %d keys took %v; %d SETs during it: max latency %v, p99 %v\n",
		job, keys, took.Round(time.Millisecond), len(lat), lat[len(lat)-1].Round(time.Microsecond), p99.Round(time.Microsecond))
	return nil
}
