package gossip

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// mlState is what memberlist last told us about a node. memberlist v0.5.4 does
// not expose its "suspect" state (Node.State is never updated), so only
// alive (NotifyJoin) and dead/left (NotifyLeave) are visible.
type mlState int

const (
	mlUnknown mlState = iota // heard only through a report so far
	mlAlive
	mlDown // dead or left
)

type peer struct {
	id        string
	addr      string          // gossip host:port
	node      memberlist.Node // copy taken under memberlist's lock, used to send
	ml        mlState
	firstSeen time.Time
	report    Report
	hasReport bool
	wireAddr  string    // gossip address from its latest report
	resynced  time.Time // last resync attempt, see resyncTargets
}

// table is the detector's view of the cluster. Every method takes "now" so the
// PFAIL/FAIL rules can be tested without a network or a clock.
type table struct {
	mu        sync.Mutex
	self      string
	downAfter time.Duration
	peers     map[string]*peer
	forgotten map[string]bool
}

func newTable(self string, downAfter time.Duration, now time.Time) *table {
	t := &table{
		self:      self,
		downAfter: downAfter,
		peers:     map[string]*peer{},
		forgotten: map[string]bool{},
	}
	t.peers[self] = &peer{id: self, ml: mlAlive, firstSeen: now}
	return t
}

// nodeJoined records memberlist's NotifyJoin/NotifyUpdate. n is only valid
// during the call, so everything is copied. A join (not an update) brings back
// a Forgotten node: it was restarted and is announcing itself again.
func (t *table) nodeJoined(n *memberlist.Node, isJoin bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.forgotten[n.Name] {
		if !isJoin {
			return
		}
		delete(t.forgotten, n.Name)
	}
	p := t.getLocked(n.Name, now)
	p.node = memberlist.Node{
		Name: n.Name,
		Addr: slices.Clone(n.Addr),
		Port: n.Port,
		PMin: n.PMin, PMax: n.PMax, PCur: n.PCur,
		DMin: n.DMin, DMax: n.DMax, DCur: n.DCur,
	}
	p.addr = net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
	p.ml = mlAlive
}

// nodeLeft records memberlist's NotifyLeave (dead or left).
func (t *table) nodeLeft(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[name]; ok && name != t.self {
		p.ml = mlDown
	}
}

// received stores a report. addr is the sender's own idea of its gossip
// address, used only until memberlist tells us one.
func (t *table) received(from, addr string, meta Meta, suspects []string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if from == "" || from == t.self || t.forgotten[from] {
		return
	}
	p := t.getLocked(from, now)
	if p.addr == "" {
		p.addr = addr
	}
	p.wireAddr = addr
	p.report = Report{Meta: meta, Suspects: suspects, Received: now}
	p.hasReport = true
}

func (t *table) getLocked(id string, now time.Time) *peer {
	p, ok := t.peers[id]
	if !ok {
		p = &peer{id: id, firstSeen: now}
		t.peers[id] = p
	}
	return p
}

// watch adds the ids the caller expects in the cluster (the record's
// members) that this table has never heard of. Each counts as silent from
// now on, so a node that died before gossip met it (a master killed as the
// cluster formed) turns PFAIL after DownAfter and can be voted FAIL like any
// other; until watched, an unknown id is never suspected. Known and
// forgotten ids are left as they are.
func (t *table) watch(ids []string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if id != "" && id != t.self && !t.forgotten[id] {
			t.getLocked(id, now)
		}
	}
}

// silence is how long id has not reported (since it was first seen or
// watched if never); false for an unknown id.
func (t *table) silence(id string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	if !ok || id == t.self {
		return 0, ok
	}
	return silentFor(p, now), true
}

func (t *table) forget(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.self {
		return
	}
	delete(t.peers, id)
	t.forgotten[id] = true
}

func (t *table) pfail(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	return ok && t.pfailLocked(p, now)
}

func (t *table) failed(id string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	return ok && t.failedLocked(p, now)
}

// silentFor is how long p has not reported (since we first saw or watched
// it if never).
func silentFor(p *peer, now time.Time) time.Duration {
	last := p.firstSeen
	if p.hasReport {
		last = p.report.Received
	}
	return now.Sub(last)
}

// mlGaveUp: memberlist declared p dead or left. With probe timeouts of
// DownAfter/10 a starved CPU makes memberlist declare live nodes dead for a
// moment, so its verdict counts only once p has also been silent for
// DownAfter/2: a node we heard from a few milliseconds ago is not dead. A real
// crash is silent from the start, so this costs nothing there.
func (t *table) mlGaveUp(p *peer, now time.Time) bool {
	return p.ml == mlDown && silentFor(p, now) > t.downAfter/2
}

// pfailLocked: no report for longer than downAfter, or memberlist gave up.
func (t *table) pfailLocked(p *peer, now time.Time) bool {
	if p.id == t.self {
		return false
	}
	return silentFor(p, now) > t.downAfter || t.mlGaveUp(p, now)
}

// failedLocked: memberlist gave up on p, or a majority of the known members
// (p and self included) currently suspect it. Other members' votes count only
// while their report is fresh, so a stale opinion cannot fail anyone.
func (t *table) failedLocked(p *peer, now time.Time) bool {
	if p.id == t.self {
		return false
	}
	if t.mlGaveUp(p, now) {
		return true
	}
	votes := 0
	if t.pfailLocked(p, now) {
		votes++
	}
	for _, y := range t.peers {
		if y.id == p.id || y.id == t.self || !y.hasReport {
			continue
		}
		if now.Sub(y.report.Received) <= t.downAfter && slices.Contains(y.report.Suspects, p.id) {
			votes++
		}
	}
	return votes >= len(t.peers)/2+1
}

func (t *table) stateLocked(p *peer, now time.Time) string {
	switch {
	case t.failedLocked(p, now):
		return StateFail
	case t.pfailLocked(p, now):
		return StatePFail
	default:
		return StateAlive
	}
}

// suspects lists the ids this node holds PFAIL, sorted.
func (t *table) suspects(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, p := range t.peers {
		if t.pfailLocked(p, now) {
			out = append(out, p.id)
		}
	}
	slices.Sort(out)
	return out
}

// members returns every known member sorted by id; self gets selfMeta and
// selfAddr since it never reports to itself.
func (t *table) members(selfMeta Meta, selfAddr string, now time.Time) []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Member, 0, len(t.peers))
	for _, p := range t.peers {
		m := Member{ID: p.id, Addr: p.addr, State: t.stateLocked(p, now)}
		if p.id == t.self {
			m.Addr, m.Meta, m.LastHeard = selfAddr, selfMeta, now
		} else if p.hasReport {
			m.Meta, m.LastHeard = p.report.Meta, p.report.Received
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (t *table) latest(id string) (Report, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.peers[id]
	if !ok || !p.hasReport {
		return Report{}, false
	}
	r := p.report
	r.Suspects = slices.Clone(r.Suspects)
	return r, true
}

// targets returns the peers to send reports to: every one memberlist has
// told us an address for, dead or alive in its eyes. memberlist never
// probes a node it declared dead again, so after a partition heals both
// sides would each wait for the other forever; a report that gets through
// is what brings a peer back (received, then resyncTargets).
func (t *table) targets() []memberlist.Node {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]memberlist.Node, 0, len(t.peers))
	for _, p := range t.peers {
		if p.id != t.self && p.node.Name != "" {
			out = append(out, p.node)
		}
	}
	return out
}

// resyncTargets returns the addresses of peers that report to us while our
// memberlist has them dead or has never accepted them: typically a node that
// restarted on a new address before the old instance was declared dead, whose
// alive message memberlist rejected as a conflict. A push/pull with it makes
// both sides converge now instead of at the next periodic push/pull. At most
// one attempt per peer per downAfter.
func (t *table) resyncTargets(now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, p := range t.peers {
		if p.id == t.self || p.ml == mlAlive || !p.hasReport || p.wireAddr == "" ||
			now.Sub(p.report.Received) > t.downAfter || now.Sub(p.resynced) < t.downAfter {
			continue
		}
		p.resynced = now
		out = append(out, p.wireAddr)
	}
	return out
}
