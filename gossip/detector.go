// Package gossip is warden's failure detector: memberlist for membership plus a
// direct heartbeat ("report") every node sends to every other node carrying its
// fresh Meta and the ids it suspects. PFAIL is local (no report for DownAfter,
// or memberlist gave up on the node); FAIL needs a majority of the known
// members to suspect the node, or memberlist to declare it dead. Both clear
// as soon as the node reports again and memberlist has it alive. Nodes the
// caller Watches count as known, silent since watched, even if gossip never
// heard from them.
package gossip

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Detector runs one node's memberlist and report loop.
type Detector struct {
	cfg      Config
	log      *slog.Logger
	tab      *table
	ml       *memberlist.Memberlist
	selfAddr string // advertised gossip address
	selfIP   net.IP
	selfPort int
	bindAny  bool // bound to 0.0.0.0/::, so loopback addresses are us too

	stop      chan struct{}
	done      chan struct{}
	resyncing sync.WaitGroup
	resyncOn  atomic.Bool // one resync at a time
	closeOnce sync.Once
	closeErr  error
}

// Start binds memberlist and starts sending reports. It does not join anyone:
// call Join with the peers' gossip addresses.
func Start(cfg Config) (*Detector, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("gossip: NodeID is required")
	}
	if cfg.DownAfter <= 0 {
		cfg.DownAfter = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Local == nil {
		cfg.Local = func() Meta { return Meta{} }
	}
	if n := len(cfg.SecretKey); n != 0 && n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("gossip: secret key must be 16, 24 or 32 bytes, got %d", n)
	}
	mc, err := memberlistConfig(cfg)
	if err != nil {
		return nil, err
	}
	d := &Detector{
		cfg:  cfg,
		log:  cfg.Logger.With("component", "gossip"),
		tab:  newTable(cfg.NodeID, cfg.DownAfter, time.Now()),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	mc.Delegate = delegate{d}
	mc.Events = delegate{d}
	d.bindAny = net.ParseIP(mc.BindAddr).IsUnspecified()

	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("gossip: start memberlist on %s: %w", cfg.BindAddr, err)
	}
	d.ml = ml
	self := ml.LocalNode() // our own address never changes after Create
	d.selfIP, d.selfPort = self.Addr, int(self.Port)
	d.selfAddr = net.JoinHostPort(self.Addr.String(), strconv.Itoa(d.selfPort))

	go d.loop()
	d.log.Info("gossip started", "node_id", cfg.NodeID, "addr", d.selfAddr, "down_after", cfg.DownAfter)
	return d, nil
}

// reportInterval is how often reports go out: ten per DownAfter so a few lost
// UDP packets never look like a failure.
func (d *Detector) reportInterval() time.Duration {
	return max(d.cfg.DownAfter/10, 20*time.Millisecond)
}

func (d *Detector) loop() {
	defer close(d.done)
	t := time.NewTicker(d.reportInterval())
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.sendReports()
			d.resync()
		}
	}
}

// sendReports sends this node's report to every peer memberlist considers up.
func (d *Detector) sendReports() {
	now := time.Now()
	meta := d.localMeta()
	buf, err := json.Marshal(wireReport{From: d.cfg.NodeID, Addr: d.selfAddr, Meta: meta, Suspects: d.tab.suspects(now)})
	if err != nil {
		d.log.Error("gossip: encode report", "err", err)
		return
	}
	for _, n := range d.tab.targets() {
		if err := d.ml.SendBestEffort(&n, buf); err != nil {
			d.log.Debug("gossip: send report", "to", n.Name, "err", err)
		}
	}
}

// resync pushes/pulls memberlist state with peers that report to us but that
// memberlist has lost (see table.resyncTargets). It runs in the background
// because a join can block for TCPTimeout.
func (d *Detector) resync() {
	addrs := d.tab.resyncTargets(time.Now())
	if len(addrs) == 0 || !d.resyncOn.CompareAndSwap(false, true) {
		return
	}
	d.resyncing.Add(1)
	go func() {
		defer d.resyncing.Done()
		defer d.resyncOn.Store(false)
		n, err := d.ml.Join(addrs)
		d.log.Debug("gossip: resynced with peers memberlist had lost", "addrs", addrs, "ok", n, "err", err)
	}()
}

func (d *Detector) localMeta() Meta {
	m := d.cfg.Local()
	m.ID = d.cfg.NodeID
	return m
}

// Join contacts the given gossip addresses (host:port) and merges their
// membership. Our own address is skipped, so every node can be given the same
// list. It succeeds if at least one address answered, or if no other address
// was given (the first node of a cluster).
func (d *Detector) Join(addrs []string) error {
	var others []string
	for _, a := range addrs {
		if !d.isSelf(a) {
			others = append(others, a)
		}
	}
	if len(others) == 0 {
		return nil
	}
	n, err := d.ml.Join(others)
	if n == 0 {
		return fmt.Errorf("gossip: join %v: %w", others, err)
	}
	d.log.Info("gossip joined", "contacted", n, "members", d.ml.NumMembers())
	d.sendReports() // let peers hear from us now rather than one interval later
	return nil
}

// isSelf reports whether addr names this node's gossip listener.
func (d *Detector) isSelf(addr string) bool {
	if addr == d.selfAddr || addr == d.cfg.BindAddr || addr == d.cfg.AdvertiseAddr {
		return true
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != strconv.Itoa(d.selfPort) {
		return false
	}
	ips, err := lookupIPs(host)
	if err != nil {
		return false // let memberlist report the problem
	}
	for _, ip := range ips {
		if ip.Equal(d.selfIP) || (d.bindAny && ip.IsLoopback()) {
			return true
		}
	}
	return false
}

// Members returns every node ever seen and not Forgotten, self included,
// sorted by ID.
func (d *Detector) Members() []Member {
	meta := d.localMeta()
	return d.tab.members(meta, d.selfAddr, time.Now())
}

// PFail reports this node's own suspicion of id.
func (d *Detector) PFail(id string) bool { return d.tab.pfail(id, time.Now()) }

// Failed reports whether id is FAIL: memberlist declared it dead or left (and
// it has been silent for DownAfter/2, see table.mlGaveUp), or a majority of the
// known members (id and self included) currently suspect it.
func (d *Detector) Failed(id string) bool { return d.tab.failed(id, time.Now()) }

// Watch makes gossip expect ids (the record's members): one it has never
// heard from counts as silent from now on and fails after DownAfter like
// any other (see table.watch). Call it whenever the membership changes.
func (d *Detector) Watch(ids []string) { d.tab.watch(ids, time.Now()) }

// Silence is how long id has not reported: since it was first seen or
// watched if it never did. False for an id gossip does not know.
func (d *Detector) Silence(id string) (time.Duration, bool) { return d.tab.silence(id, time.Now()) }

// Report returns the latest report received from id. For this node itself it
// builds a fresh one from Local().
func (d *Detector) Report(id string) (Report, bool) {
	if id == d.cfg.NodeID {
		now := time.Now()
		return Report{Meta: d.localMeta(), Suspects: d.tab.suspects(now), Received: now}, true
	}
	return d.tab.latest(id)
}

// Forget drops id (removed from the cluster): it no longer counts towards the
// quorum and its reports are ignored, until memberlist sees it join again
// (a restarted or re-added node).
func (d *Detector) Forget(id string) { d.tab.forget(id) }

// Close leaves the cluster gracefully (peers see "left" at once instead of
// waiting for probes to time out) and shuts memberlist down. Note: memberlist's
// Leave has a known data race with its own refute (hashicorp/memberlist#272)
// that -race can report if peers suspect this node while it leaves.
func (d *Detector) Close() error {
	return d.shutdown(true)
}

// crash stops everything without a leave message, as if the process died.
func (d *Detector) crash() error {
	return d.shutdown(false)
}

func (d *Detector) shutdown(leave bool) error {
	d.closeOnce.Do(func() {
		close(d.stop)
		<-d.done
		d.resyncing.Wait()
		if leave {
			if err := d.ml.Leave(d.cfg.DownAfter); err != nil {
				d.log.Debug("gossip: leave", "err", err)
			}
		}
		if err := d.ml.Shutdown(); err != nil {
			d.closeErr = fmt.Errorf("gossip: shutdown: %w", err)
		}
	})
	return d.closeErr
}
