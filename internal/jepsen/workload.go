package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/slotmap"
)

// clientConfig is what every workload client shares.
type clientConfig struct {
	rec       *Recorder
	sentinels []string      // every node's Sentinel address (sentinel3)
	cluster   bool          // route by slot (cluster6) instead of asking the sentinels
	nodes     []string      // every node's RESP address, the cluster's seeds
	need      int           // replicas WAIT must report: a majority with the master
	waitMs    int           // WAIT's timeout
	opTimeout time.Duration // per command
	procs     *atomic.Int64 // lane allocator
	regOps    *atomic.Int64 // register ops issued, for key rotation
	interval  time.Duration // each client's pace: one op per interval at most
}

// Register keys rotate so that porcupine checks short per-key histories
// (its search grows with the indeterminate writes in one history).
const (
	activeRegisterKeys = 4
	opsPerRegisterKey  = 120
	setKeys            = 4
)

// client is one workload goroutine. It finds the master as redis-py and
// Jedis do (ask the sentinels in order, first answer wins, starting with a
// different one per client) and goes back to the sentinels after any
// error; in cluster mode it routes each key to its slot's master from
// CLUSTER SLOTS, as cluster clients do, and asks again after any error.
type client struct {
	cfg   *clientConfig
	id    int
	rng   *rand.Rand
	order []string
	proc  int
	cl    *redis.Client
	addr  string
	seq   int
	next  time.Time // pacing

	slots []string                 // cluster: master address per slot, nil until fetched
	conns map[string]*redis.Client // cluster: one connection per node
	ask   int                      // cluster: which seed to ask first next time
}

// pace waits for the client's next slot, so the history stays a size the
// checkers and a reader can handle.
func (c *client) pace(ctx context.Context) {
	if c.cfg.interval <= 0 {
		return
	}
	now := time.Now()
	if c.next.After(now) {
		sleepCtx(ctx, c.next.Sub(now))
		now = c.next
	}
	c.next = now.Add(c.cfg.interval)
}

func newClient(cfg *clientConfig, id int, seed uint64) *client {
	seeds := cfg.sentinels
	if cfg.cluster {
		seeds = cfg.nodes
	}
	n := len(seeds)
	order := append(append([]string{}, seeds[id%n:]...), seeds[:id%n]...)
	c := &client{cfg: cfg, id: id, rng: rand.New(rand.NewPCG(seed, uint64(id))), order: order}
	c.newLane()
	return c
}

// newLane starts a new process id, as Jepsen does after an indeterminate
// op: the old one may still be "in flight".
func (c *client) newLane() { c.proc = int(c.cfg.procs.Add(1)) }

func (c *client) close() {
	if c.cl != nil {
		c.cl.Close()
		c.cl = nil
	}
	for _, cl := range c.conns {
		cl.Close()
	}
	c.conns, c.slots = nil, nil
}

// target points c.cl at the node that should take key: the master the
// sentinels name, or the master of key's slot.
func (c *client) target(ctx context.Context, key string) bool {
	if !c.cfg.cluster {
		return c.cl != nil || c.connect(ctx)
	}
	if c.slots == nil && !c.fetchSlots(ctx) {
		sleepCtx(ctx, 20*time.Millisecond)
		return false
	}
	addr := c.slots[slotmap.SlotString(key)]
	if addr == "" {
		c.slots = nil
		sleepCtx(ctx, 20*time.Millisecond)
		return false
	}
	if c.conns == nil {
		c.conns = map[string]*redis.Client{}
	}
	cl := c.conns[addr]
	if cl == nil {
		cl = c.nodeClient(addr)
		c.conns[addr] = cl
	}
	c.cl, c.addr = cl, addr
	return true
}

// fetchSlots reads CLUSTER SLOTS from the first node that answers,
// starting one further along each time so that a node with a stale view
// is not asked first for ever.
func (c *client) fetchSlots(ctx context.Context) bool {
	defer func() { c.ask++ }()
	for i := range c.order {
		addr := c.order[(c.ask+i)%len(c.order)]
		cl := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, MaxRetries: -1})
		rs, err := cl.ClusterSlots(ctx).Result()
		cl.Close()
		if err != nil || len(rs) == 0 {
			continue
		}
		slots := make([]string, slotmap.NumSlots)
		for _, r := range rs {
			if len(r.Nodes) == 0 {
				continue
			}
			for s := max(r.Start, 0); s <= min(r.End, slotmap.NumSlots-1); s++ {
				slots[s] = r.Nodes[0].Addr
			}
		}
		c.slots = slots
		return true
	}
	return false
}

// nodeClient is one connection to a node: WAIT must follow the write on
// the connection that made it.
func (c *client) nodeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: c.cfg.opTimeout, WriteTimeout: c.cfg.opTimeout, MaxRetries: -1, PoolSize: 1,
		ContextTimeoutEnabled: true})
}

func (c *client) connect(ctx context.Context) bool {
	for _, s := range c.order {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s, DialTimeout: 300 * time.Millisecond,
			ReadTimeout: 300 * time.Millisecond, MaxRetries: -1})
		hp, err := sc.GetMasterAddrByName(ctx, "mymaster").Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			c.addr = net.JoinHostPort(hp[0], hp[1])
			c.cl = c.nodeClient(c.addr)
			return true
		}
	}
	sleepCtx(ctx, 20*time.Millisecond)
	return false
}

// outcomeOf: a RESP error reply is a refusal (the command did not run);
// anything else (timeout, reset, EOF) leaves it unknown.
func outcomeOf(err error) Outcome {
	var re redis.Error
	if errors.As(err, &re) && !errors.Is(err, redis.ErrClosed) {
		return Fail
	}
	return Info
}

func (c *client) runRegister(ctx context.Context) {
	defer c.close()
	for ctx.Err() == nil {
		n := c.cfg.regOps.Add(1) - 1
		base := (n / (opsPerRegisterKey * activeRegisterKeys)) * activeRegisterKeys
		key := fmt.Sprintf("r:%d", base+int64(c.rng.IntN(activeRegisterKeys)))
		if !c.target(ctx, key) {
			continue
		}
		c.pace(ctx)
		var op Op
		if c.rng.IntN(2) == 0 {
			c.seq++
			op = c.write(ctx, "write", key, fmt.Sprintf("%d-%d", c.id, c.seq))
		} else {
			op = c.read(ctx, key)
		}
		c.after(ctx, op)
	}
}

func (c *client) runSet(ctx context.Context) {
	defer c.close()
	for ctx.Err() == nil {
		key := fmt.Sprintf("s:%d", c.rng.IntN(setKeys))
		if !c.target(ctx, key) {
			continue
		}
		c.pace(ctx)
		c.seq++
		c.after(ctx, c.write(ctx, "add", key, fmt.Sprintf("%d-%d", c.id, c.seq)))
	}
}

// after records op and handles its outcome: a new lane after an op that
// may still take effect, rediscovery after any error.
func (c *client) after(ctx context.Context, op Op) {
	if ctx.Err() != nil && op.Outcome != OK && op.Outcome != Async {
		// Cut short by the end of the run: it may still have happened.
		if op.Type == "read" {
			return
		}
		op.Outcome = Info
	}
	c.cfg.rec.Add(op)
	if op.Outcome == Info || op.Outcome == Async {
		c.newLane()
	}
	if op.Err != "" {
		c.close()
		sleepCtx(ctx, 10*time.Millisecond)
	}
}

// write runs SET (or SADD) then WAIT need waitMs: OK when WAIT reports a
// majority, Async when the master acknowledged but WAIT did not confirm.
func (c *client) write(ctx context.Context, typ, key, val string) Op {
	op := Op{Process: c.proc, Type: typ, Key: key, Value: val, Node: c.addr, Start: c.cfg.rec.Now()}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.opTimeout)
	var err error
	if typ == "add" {
		err = c.cl.SAdd(cctx, key, val).Err()
	} else {
		err = c.cl.Set(cctx, key, val, 0).Err()
	}
	cancel()
	if err != nil {
		op.End, op.Outcome, op.Err = c.cfg.rec.Now(), outcomeOf(err), err.Error()
		return op
	}
	op.Acked = c.cfg.rec.Now()
	cctx, cancel = context.WithTimeout(ctx, c.cfg.opTimeout+time.Duration(c.cfg.waitMs)*time.Millisecond)
	n, err := c.cl.Do(cctx, "WAIT", c.cfg.need, c.cfg.waitMs).Int64()
	cancel()
	op.End, op.Acks = c.cfg.rec.Now(), int(n)
	switch {
	case err != nil:
		op.Outcome, op.Err = Async, "WAIT: "+err.Error()
	case int(n) >= c.cfg.need:
		op.Outcome = OK
	default:
		op.Outcome = Async
	}
	return op
}

func (c *client) read(ctx context.Context, key string) Op {
	op := Op{Process: c.proc, Type: "read", Key: key, Node: c.addr, Start: c.cfg.rec.Now()}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.opTimeout)
	v, err := c.cl.Get(cctx, key).Result()
	cancel()
	op.End = c.cfg.rec.Now()
	switch {
	case errors.Is(err, redis.Nil):
		op.Outcome = OK
	case err != nil:
		op.Outcome, op.Err = outcomeOf(err), err.Error()
	default:
		op.Outcome, op.Value = OK, v
	}
	return op
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
