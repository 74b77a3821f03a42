// Command waitbench measures acknowledged writes: clients each doing SET
// then WAIT 1 <timeout> against a master with one replica, warden and
// redis-server side by side in alternating windows, and prints the pairs per
// second of each and warden÷Redis.
//
//	go run ./bench/waitbench -warden bin/warden
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	warden := flag.String("warden", "bin/warden", "warden binary")
	clients := flag.Int("clients", 8, "concurrent clients, each SET then WAIT")
	window := flag.Duration("window", 3*time.Second, "measuring window per run")
	rounds := flag.Int("rounds", 3, "alternating warden/redis pairs")
	waitMS := flag.Int("wait-ms", 200, "WAIT timeout")
	addr := flag.String("addr", "", "measure only this running master (for profiling), one window per round")
	flag.Parse()
	if *addr != "" {
		for i := 1; i <= *rounds; i++ {
			rate, short, err := measure(*addr, *clients, *window, *waitMS)
			if err != nil {
				fmt.Fprintln(os.Stderr, "waitbench:", err)
				os.Exit(1)
			}
			fmt.Printf("%s: %.0f pairs/s, %d timeouts\n", *addr, rate, short)
		}
		return
	}
	if err := run(*warden, *clients, *window, *rounds, *waitMS); err != nil {
		fmt.Fprintln(os.Stderr, "waitbench:", err)
		os.Exit(1)
	}
}

// pair is a master with one synced replica.
type pair struct {
	kind  string
	procs []*exec.Cmd
	addr  string
}

func (p *pair) stop() {
	for _, c := range p.procs {
		c.Process.Kill()
		c.Wait()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer(kind, warden, dir string, port int, extra ...string) (*exec.Cmd, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--io-threads", "1"}
	args = append(args, extra...)
	var cmd *exec.Cmd
	if kind == "redis" {
		cmd = exec.Command("redis-server", append(args, "--logfile", filepath.Join(dir, "log"))...)
	} else {
		cmd = exec.Command(warden, append([]string{"server"}, append(args, "--loglevel", "warning")...)...)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	return cmd, nil
}

func startPair(kind, warden, dir string) (*pair, error) {
	p := &pair{kind: kind}
	mp, err := freePort()
	if err != nil {
		return nil, err
	}
	m, err := startServer(kind, warden, filepath.Join(dir, kind+"-m"), mp)
	if err != nil {
		return nil, err
	}
	p.procs = append(p.procs, m)
	rp, err := freePort()
	if err != nil {
		p.stop()
		return nil, err
	}
	r, err := startServer(kind, warden, filepath.Join(dir, kind+"-r"), rp, "--replicaof", "127.0.0.1", strconv.Itoa(mp))
	if err != nil {
		p.stop()
		return nil, err
	}
	p.procs = append(p.procs, r)
	p.addr = "127.0.0.1:" + strconv.Itoa(mp)
	// Synced: the master's WAIT sees the replica.
	c := redis.NewClient(&redis.Options{Addr: p.addr})
	defer c.Close()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.Set(ctx, "warmup", "1", 0)
		if n, err := c.Do(ctx, "WAIT", 1, 100).Int(); err == nil && n == 1 {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, errors.New(kind + ": replica never acknowledged")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// measure runs clients doing SET + WAIT 1 for window and returns
// acknowledged pairs per second (WAIT replying 1) and the pairs WAIT timed
// out on.
func measure(addr string, clients int, window time.Duration, waitMS int) (float64, int64, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: clients, ReadTimeout: 5 * time.Second})
	defer c.Close()
	ctx := context.Background()
	var acked, short atomic.Int64
	var firstErr atomic.Pointer[error]
	var wg sync.WaitGroup
	stop := time.Now().Add(window)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			key := "wait:" + strconv.Itoa(w)
			for i := 0; time.Now().Before(stop); i++ {
				if err := c.Set(ctx, key, i, 0).Err(); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				n, err := c.Do(ctx, "WAIT", 1, waitMS).Int()
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				if n >= 1 {
					acked.Add(1)
				} else {
					short.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return 0, 0, *e
	}
	return float64(acked.Load()) / window.Seconds(), short.Load(), nil
}

func run(warden string, clients int, window time.Duration, rounds, waitMS int) error {
	dir, err := os.MkdirTemp("", "waitbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pairs := map[string]*pair{}
	for _, kind := range []string{"redis", "warden"} {
		p, err := startPair(kind, warden, dir)
		if err != nil {
			for _, q := range pairs {
				q.stop()
			}
			return err
		}
		pairs[kind] = p
	}
	defer func() {
		for _, p := range pairs {
			p.stop()
		}
	}()
	fmt.Printf("%d clients: SET then WAIT 1 %d, master + 1 replica, %v windows, alternating\n", clients, waitMS, window)
	fmt.Println("cpu: µs of CPU (user+sys) per pair, master+replica; a busy machine moves pairs/s more than it")
	fmt.Printf("%-6s %14s %14s %8s %10s %10s %8s %s\n", "round", "redis pairs/s", "warden pairs/s", "ratio", "redis cpu", "warden cpu", "cpu w/r", "timeouts r/w")
	var sumR, sumW, cpuR, cpuW float64
	for i := 1; i <= rounds; i++ {
		res := map[string]float64{}
		cpu := map[string]float64{}
		timeouts := map[string]int64{}
		for _, kind := range []string{"redis", "warden"} {
			before := pairs[kind].cpu()
			rate, short, err := measure(pairs[kind].addr, clients, window, waitMS)
			if err != nil {
				return fmt.Errorf("%s: %w", kind, err)
			}
			used := pairs[kind].cpu() - before
			res[kind], timeouts[kind] = rate, short
			cpu[kind] = float64(used.Microseconds()) / (rate * window.Seconds())
		}
		sumR += res["redis"]
		sumW += res["warden"]
		cpuR += cpu["redis"]
		cpuW += cpu["warden"]
		fmt.Printf("%-6d %14.0f %14.0f %8.2f %10.1f %10.1f %8.2f %d/%d\n", i, res["redis"], res["warden"], res["warden"]/res["redis"],
			cpu["redis"], cpu["warden"], cpu["warden"]/cpu["redis"], timeouts["redis"], timeouts["warden"])
	}
	fmt.Printf("%-6s %14.0f %14.0f %8.2f %10.1f %10.1f %8.2f\n", "mean", sumR/float64(rounds), sumW/float64(rounds), sumW/sumR,
		cpuR/float64(rounds), cpuW/float64(rounds), cpuW/cpuR)
	return nil
}

// cpu is the CPU time (user+system) the pair's processes used so far, from
// /proc (0 where there is none).
func (p *pair) cpu() time.Duration {
	var total time.Duration
	for _, c := range p.procs {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Process.Pid))
		if err != nil {
			continue
		}
		// The fields after the command name (which may hold spaces):
		// utime and stime are the 14th and 15th, in clock ticks (100 Hz).
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+k) * 10 * time.Millisecond
	}
	return total
}
