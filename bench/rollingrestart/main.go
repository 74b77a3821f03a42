// Command rollingrestart restarts the nodes of a warden cluster one at a
// time while clients write, and prints the longest pause a client saw
// between two acknowledged writes and how many acknowledged writes were
// lost. Clients find the master through the Sentinel API (go-redis's
// failover client, as applications do) and count a write acknowledged
// when SET is followed by WAIT 1 200 answering at least 1.
//
//	go run ./bench/rollingrestart -sentinels 127.0.0.1:26381,127.0.0.1:26382,127.0.0.1:26383 \
//	  -http n1=127.0.0.1:8081,n2=127.0.0.1:8082,n3=127.0.0.1:8083 \
//	  -map n1:6379=127.0.0.1:6381,n2:6379=127.0.0.1:6382,n3:6379=127.0.0.1:6383 \
//	  -restart 'docker-compose -f deploy/docker-compose.yml restart -t 30 {node}'
//
// bench/rolling-restart.sh runs it against the compose cluster or three
// local processes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func main() {
	sentinels := flag.String("sentinels", "", "Sentinel addresses, comma-separated")
	master := flag.String("master", "mymaster", "master name")
	httpAddrs := flag.String("http", "", "node=host:port of each node's HTTP API, comma-separated, in restart order")
	remap := flag.String("map", "", "from=to address rewrites for dialing (announced name -> reachable address), comma-separated")
	restart := flag.String("restart", "", "shell command restarting one node ({node} is its name); it returns once the node runs again")
	clients := flag.Int("clients", 4, "concurrent writers")
	settle := flag.Duration("settle", 2*time.Second, "writing before the first and after each restart")
	flag.Parse()
	redis.SetLogger(quiet{})
	nodes, err := pairs(*httpAddrs)
	if err != nil || len(nodes) == 0 || *sentinels == "" || *restart == "" {
		fmt.Fprintln(os.Stderr, "rollingrestart: -sentinels, -http and -restart are required (see the package comment)")
		os.Exit(2)
	}
	rewrites, err := pairs(*remap)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rollingrestart:", err)
		os.Exit(2)
	}
	if err := run(strings.Split(*sentinels, ","), *master, nodes, rewrites, *restart, *clients, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "rollingrestart:", err)
		os.Exit(1)
	}
}

type pair struct{ k, v string }

func pairs(s string) ([]pair, error) {
	var out []pair
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want name=value", f)
		}
		out = append(out, pair{k, v})
	}
	return out, nil
}

// writer is one client: SET + WAIT 1, recording acknowledged keys and the
// longest time between two acknowledgements.
type writer struct {
	cl      *redis.Client
	mu      sync.Mutex
	acked   []string
	last    time.Time
	longest time.Duration
	errs    int
}

func (w *writer) run(ctx context.Context, id int) {
	for i := 0; ctx.Err() == nil; i++ {
		key := fmt.Sprintf("rr:%d:%d", id, i)
		n, err := int64(0), w.cl.Set(ctx, key, i, 0).Err()
		if err == nil {
			n, err = w.cl.Do(ctx, "WAIT", 1, 200).Int64()
		}
		w.mu.Lock()
		if err != nil || n < 1 {
			w.errs++
			w.mu.Unlock()
			time.Sleep(5 * time.Millisecond) // a refused dial or a fenced master: ask again shortly
			continue
		}
		now := time.Now()
		if !w.last.IsZero() {
			w.longest = max(w.longest, now.Sub(w.last))
		}
		w.last = now
		w.acked = append(w.acked, key)
		w.mu.Unlock()
	}
}

// window returns and resets the longest pause since the last call.
func (w *writer) window() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.longest
	w.longest = 0
	return d
}

func run(sentinels []string, master string, nodes, rewrites []pair, restart string, clients int, settle time.Duration) error {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		for _, r := range rewrites {
			if r.k == addr {
				addr = r.v
			}
		}
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		return d.DialContext(ctx, network, addr)
	}
	newClient := func() *redis.Client {
		return redis.NewFailoverClient(&redis.FailoverOptions{MasterName: master, SentinelAddrs: sentinels, Dialer: dial,
			DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
			DialerRetries: 1, MaxRetries: -1})
	}
	for _, n := range nodes {
		if err := waitReady(n, time.Minute); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := make([]*writer, clients)
	var wg sync.WaitGroup
	for i := range ws {
		ws[i] = &writer{cl: newClient()}
		defer ws[i].cl.Close()
		wg.Add(1)
		go func() { defer wg.Done(); ws[i].run(ctx, i) }()
	}
	longest := func() time.Duration {
		var d time.Duration
		for _, w := range ws {
			d = max(d, w.window())
		}
		return d
	}
	time.Sleep(settle)
	fmt.Printf("before the restarts: longest pause %v\n", longest().Round(time.Millisecond))
	worst := time.Duration(0)
	for _, n := range nodes {
		start := time.Now()
		cmd := exec.Command("sh", "-c", strings.ReplaceAll(restart, "{node}", n.k))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("restart %s: %w", n.k, err)
		}
		if err := waitReady(n, 2*time.Minute); err != nil {
			return err
		}
		back := time.Since(start)
		time.Sleep(settle)
		d := longest()
		worst = max(worst, d)
		fmt.Printf("restart %s: back and ready after %v; longest write pause %v\n", n.k, back.Round(time.Millisecond), d.Round(time.Millisecond))
	}
	cancel()
	wg.Wait()

	var acked []string
	errs := 0
	for _, w := range ws {
		acked = append(acked, w.acked...)
		errs += w.errs
	}
	check := newClient()
	defer check.Close()
	lost, err := missing(check, acked)
	if err != nil {
		return err
	}
	fmt.Printf("ROLLING RESTART of %d nodes, %d writers: longest write pause %v; %d writes acknowledged (WAIT 1), %d lost; %d failed attempts\n",
		len(nodes), clients, worst.Round(time.Millisecond), len(acked), len(lost), errs)
	if len(lost) > 0 {
		return fmt.Errorf("acknowledged writes lost, first: %v", lost[:min(len(lost), 10)])
	}
	return nil
}

// missing returns the keys the master no longer has.
func missing(cl *redis.Client, keys []string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var lost []string
	for chunk := range slices.Chunk(keys, 1000) {
		var cmds []*redis.IntCmd
		_, err := cl.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range chunk {
				cmds = append(cmds, p.Exists(ctx, k))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read back: %w", err)
		}
		for i, c := range cmds {
			if c.Val() != 1 {
				lost = append(lost, chunk[i])
			}
		}
	}
	return lost, nil
}

// waitReady polls the node's /readyz until it answers 200.
func waitReady(n pair, timeout time.Duration) error {
	hc := http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := hc.Get("http://" + n.v + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", n.k, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
