package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wardenkv/warden/migration"
	"github.com/wardenkv/warden/node"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
	"github.com/wardenkv/warden/slotmap"
	"github.com/wardenkv/warden/slotmove"
)

// Slot migration on this node: the leader commits the record and decides
// flips and rollbacks (migration.Decide, from the movers' reports); a
// source master runs the mover (slotmove) for its shard's active
// migrations; a master sweeps the keys of slots a finished migration
// left it without (the source after a flip, the target after a cancel).

var _ slotmove.Node = (*node.Server)(nil)

// migrationStall rolls back a migration whose mover reported nothing
// new for this long.
const migrationStall = 60 * time.Second

// pauseGoal is how long a source should hold a migration's slots at most;
// a longer pause is logged as a warning.
const pauseGoal = 50 * time.Millisecond

type migrations struct {
	// mu orders a sweep of a slot with an import handshake for it: a
	// sweep never deletes what a new import streamed in.
	mu       sync.Mutex
	rmu      sync.Mutex
	reports  map[uint64]migration.Report // leader: the movers' last reports
	running  map[uint64]context.CancelFunc
	swept    map[uint64]bool
	sweeping bool
	// kick wakes the loop at once: a caught-up report is the flip's cue,
	// and every moment until it commits the source's slots are paused.
	kick chan struct{}
}

func (c *Control) migrationLoop(ctx context.Context) {
	if !c.cfg.clusterEnabled {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-c.srv.Started():
	}
	c.mig.reports = map[uint64]migration.Report{}
	c.mig.running = map[uint64]context.CancelFunc{}
	c.mig.swept = map[uint64]bool{}
	c.mig.rmu.Lock()
	if c.mig.kick == nil {
		c.mig.kick = make(chan struct{}, 1)
	}
	kick := c.mig.kick
	c.mig.rmu.Unlock()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		changed := c.host.FSM.Changed()
		c.tendMigrations(ctx)
		select {
		case <-ctx.Done():
			c.mig.rmu.Lock()
			for _, cancel := range c.mig.running {
				cancel()
			}
			c.mig.rmu.Unlock()
			return
		case <-changed:
		case <-kick:
		case <-t.C:
		}
	}
}

func (c *Control) tendMigrations(ctx context.Context) {
	st := c.host.FSM.State()
	sh, master, ok := st.Role(c.cfg.id)
	master = ok && master && c.fsmMaster.Load()
	// Sources: start a mover per active migration out of this shard; end
	// those the record resolved (the flip's table is already published:
	// commands held by the pause now get MOVED).
	c.mig.rmu.Lock()
	for id, cancel := range c.mig.running {
		if m := st.Migration(id); m == nil || !m.Active() || !master {
			paused := c.srv.StopSlotStream()
			cancel()
			state := "gone"
			if m != nil {
				state = m.State
			}
			lvl := slog.LevelInfo
			if paused > pauseGoal {
				lvl = slog.LevelWarn
			}
			c.log.Log(ctx, lvl, "slot migration stream ended", "migration", id, "state", state, "slots_paused", paused,
				"goal", pauseGoal)
			delete(c.mig.running, id)
		}
	}
	if master {
		for _, m := range st.Migrations {
			if m.Active() && m.From == sh.ID && c.mig.running[m.ID] == nil && len(c.mig.running) == 0 {
				c.startMover(ctx, st, m)
			}
		}
	}
	if master && !c.mig.sweeping {
		var todo []*raftfsm.Migration
		for _, m := range st.Migrations {
			lost := (m.State == raftfsm.MigrationDone && m.From == sh.ID) || (m.State == raftfsm.MigrationCancelled && m.To == sh.ID)
			if lost && !c.mig.swept[m.ID] {
				todo = append(todo, m)
			}
		}
		if len(todo) > 0 {
			c.mig.sweeping = true
			go c.sweep(ctx, sh.ID, todo)
		}
	}
	c.mig.rmu.Unlock()
	if c.isLeader() {
		c.mig.rmu.Lock()
		reports := make(map[uint64]migration.Report, len(c.mig.reports))
		for id, r := range c.mig.reports {
			reports[id] = r
		}
		c.mig.rmu.Unlock()
		for _, d := range migration.Decide(st, reports, c.failed, time.Now(), migration.Policy{Stall: migrationStall}) {
			if err := c.host.Apply(d.Command, applyTimeout); err != nil {
				c.log.Warn("migration decision failed", "op", d.Command.Op, "why", d.Why, "err", err)
				continue
			}
			c.log.Info("migration decided", "op", d.Command.Op, "why", d.Why)
		}
	}
}

// startMover runs the source of m (c.mig.rmu held).
func (c *Control) startMover(ctx context.Context, st *raftfsm.State, m *raftfsm.Migration) {
	tgt := st.MasterNode(m.To)
	if tgt == nil {
		return // the leader rolls it back
	}
	user, pass := c.srv.ReplicationCredential()
	cfg := slotmove.Config{ID: m.ID, Slots: slices.Clone(m.Slots), Target: tgt.RedisAddr, User: user, Password: pass,
		Replicas: len(st.Shard(m.To).Replicas), Log: c.baseLog}
	if c.cfg.tlsData {
		tc, err := c.srv.TLS().Client(tgt.RedisAddr)
		if err != nil {
			c.log.Warn("slot migration: no TLS client config", "migration", m.ID, "err", err)
			return
		}
		cfg.TLS = tc
	}
	id := m.ID
	cfg.Report = func(p slotmove.Progress) {
		rep := httpapi.MigrationReport{ID: id, Keys: p.Keys, Bytes: p.Bytes, Paused: p.Paused, CaughtUp: p.CaughtUp}
		if err := c.sendReport(ctx, rep); err != nil {
			c.log.Warn("migration report failed", "migration", id, "err", err)
		}
	}
	mctx, cancel := context.WithCancel(ctx)
	c.mig.running[id] = cancel
	src := slotmove.New(c.srv, cfg)
	c.log.Info("slot migration: streaming to the target", "migration", id, "slots", rangesString(m.Slots), "target", tgt.ID)
	go func() {
		err := src.Run(mctx)
		if err == nil || mctx.Err() != nil {
			return
		}
		// Never resume the slots here: the leader may flip on a report
		// already sent. Ask for a rollback; the record ends the stream.
		c.log.Warn("slot migration stream failed: asking for a rollback", "migration", id, "err", err)
		for mctx.Err() == nil {
			if _, err2 := c.cancelMigrations(mctx, id, "source: "+err.Error()); err2 == nil || errors.Is(err2, raftfsm.ErrUnknownMigration) {
				return
			}
			select {
			case <-mctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
}

func (c *Control) sendReport(ctx context.Context, rep httpapi.MigrationReport) error {
	if c.isLeader() {
		return c.reportMigration(rep)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = c.postLeader(rctx, "", "/migrations/report", b)
	return err
}

// reportMigration keeps a mover's report (leader).
func (c *Control) reportMigration(rep httpapi.MigrationReport) error {
	if !c.isLeader() {
		return errNotLeader
	}
	c.mig.rmu.Lock()
	defer c.mig.rmu.Unlock()
	if c.mig.reports == nil {
		c.mig.reports = map[uint64]migration.Report{}
	}
	old := c.mig.reports[rep.ID]
	r := migration.Report{Paused: rep.Paused, CaughtUp: rep.CaughtUp, Keys: rep.Keys, Bytes: rep.Bytes, Progress: old.Progress}
	if rep.Bytes != old.Bytes || rep.Paused != old.Paused || old.Progress.IsZero() {
		r.Progress = time.Now()
	}
	c.mig.reports[rep.ID] = r
	if r.CaughtUp {
		if c.mig.kick == nil {
			c.mig.kick = make(chan struct{}, 1)
		}
		select {
		case c.mig.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// sweep deletes the keys of slots the finished migrations left this
// shard without, one slot at a time under mig.mu, rechecking ownership.
func (c *Control) sweep(ctx context.Context, shard int, ms []*raftfsm.Migration) {
	defer func() {
		c.mig.rmu.Lock()
		c.mig.sweeping = false
		c.mig.rmu.Unlock()
	}()
	for _, m := range ms {
		if m.State == raftfsm.MigrationCancelled && m.To == shard {
			c.srv.KillImporters(m.Slots) // nothing more of it may land
		}
		total := 0
		for _, r := range m.Slots {
			for slot := r.Start; slot <= r.End; slot++ {
				c.mig.mu.Lock()
				n := 0
				var err error
				if !c.keepsSlot(shard, slot) {
					n, err = c.srv.DropSlots(ctx, []int{slot}, nil)
				}
				c.mig.mu.Unlock()
				if err != nil {
					c.log.Warn("slot sweep stopped", "migration", m.ID, "slot", slot, "err", err)
					return
				}
				total += n
			}
		}
		c.mig.rmu.Lock()
		c.mig.swept[m.ID] = true
		c.mig.rmu.Unlock()
		if total > 0 {
			c.log.Info("swept the keys of migrated slots", "migration", m.ID, "state", m.State, "keys", total)
		}
	}
}

// keepsSlot: shard owns slot, or imports it, in the published table.
func (c *Control) keepsSlot(shard, slot int) bool {
	t := c.srv.SlotTable()
	if t == nil {
		return true
	}
	if o := t.Owner(slot); o != slotmap.NoShard && t.Shards[o].ID == shard {
		return true
	}
	to, ok := t.Migrating[slot]
	return ok && to == shard
}

// AcceptSlotImport implements node.SlotMigrations on the target master.
func (c *Control) AcceptSlotImport(ctx context.Context, id uint64) ([]slotmap.Range, error) {
	st := c.host.FSM.State()
	m := st.Migration(id)
	sh, master, ok := st.Role(c.cfg.id)
	switch {
	case m == nil || !m.Active():
		return nil, fmt.Errorf("migration %d is not active here (yet)", id)
	case !ok || !master || !c.fsmMaster.Load() || m.To != sh.ID:
		return nil, fmt.Errorf("this node is not the master of migration %d's target shard %d", id, m.To)
	}
	c.mig.mu.Lock()
	defer c.mig.mu.Unlock()
	// A fresh copy (a new source master after a failover restarts the
	// stream): end any earlier stream of these slots, then drop what it left.
	c.srv.KillImporters(m.Slots)
	var slots []int
	for _, r := range m.Slots {
		for s := r.Start; s <= r.End; s++ {
			slots = append(slots, s)
		}
	}
	n, err := c.srv.DropSlots(ctx, slots, nil)
	if err != nil {
		return nil, fmt.Errorf("clear slots for migration %d: %w", id, err)
	}
	c.log.Info("slot migration: importing", "migration", id, "slots", rangesString(m.Slots), "cleared", n)
	return m.Slots, nil
}

// startMigration commits a new migration (leader) and returns its id.
func (c *Control) startMigration(req httpapi.MigrationRequest) (uint64, error) {
	if !c.isLeader() {
		return 0, errNotLeader
	}
	var rs []slotmap.Range
	for _, r := range req.Ranges {
		rs = append(rs, slotmap.Range{Start: r[0], End: r[1]})
	}
	cmd, err := raftfsm.WithPayload(raftfsm.OpMigrationStart, raftfsm.MigrationStart{Slots: rs, From: req.From, To: req.To,
		Started: time.Now().UnixMilli()})
	if err != nil {
		return 0, err
	}
	if err := c.host.Apply(cmd, applyTimeout); err != nil {
		return 0, migrationError(err)
	}
	st := c.host.FSM.State()
	for i := len(st.Migrations) - 1; i >= 0; i-- {
		m := st.Migrations[i]
		if m.From == req.From && m.To == req.To {
			c.log.Info("slot migration started", "migration", m.ID, "from", m.From, "to", m.To, "slots", rangesString(m.Slots))
			return m.ID, nil
		}
	}
	return 0, errors.New("migration committed but not found in the record")
}

// migrationError maps the record's refusals onto the HTTP adapter's kinds.
func migrationError(err error) error {
	switch {
	case errors.Is(err, raftfsm.ErrNoShard):
		return fmt.Errorf("%w: %w", httpapi.ErrUnknownShard, err)
	case errors.Is(err, raftfsm.ErrBadMigration), errors.Is(err, raftfsm.ErrNotOwner):
		return fmt.Errorf("%w: %w", httpapi.ErrInvalid, err)
	case errors.Is(err, raftfsm.ErrSlotsBusy), errors.Is(err, raftfsm.ErrUnknownMigration):
		return fmt.Errorf("%w: %w", httpapi.ErrUnavailable, err)
	}
	return err
}

// cancelMigrations rolls back migration id (0: every active one), here
// on the leader or through it.
func (c *Control) cancelMigrations(ctx context.Context, id uint64, reason string) (int, error) {
	if !c.isLeader() {
		b, err := json.Marshal(httpapi.MigrationCancel{ID: id, Reason: reason})
		if err != nil {
			return 0, err
		}
		out, err := c.postLeader(ctx, "", "/migrations/cancel", b)
		if err != nil {
			return 0, err
		}
		var resp struct {
			Cancelled int `json:"cancelled"`
		}
		err = json.Unmarshal(out, &resp)
		return resp.Cancelled, err
	}
	n := 0
	for _, m := range c.host.FSM.State().Migrations {
		if !m.Active() || (id != 0 && m.ID != id) {
			continue
		}
		cmd, err := raftfsm.WithPayload(raftfsm.OpMigrationCancel, raftfsm.MigrationCancel{ID: m.ID, Reason: reason,
			At: time.Now().UnixMilli()})
		if err != nil {
			return n, err
		}
		if err := c.host.Apply(cmd, applyTimeout); err != nil {
			return n, migrationError(err)
		}
		c.log.Info("slot migration cancelled", "migration", m.ID, "reason", reason)
		n++
	}
	if id != 0 && n == 0 {
		return 0, migrationError(fmt.Errorf("migration %d: %w", id, raftfsm.ErrUnknownMigration))
	}
	return n, nil
}

// migrationsView lists the record's migrations with the movers' progress.
func (c *Control) migrationsView(st *raftfsm.State, activeOnly bool) []httpapi.Migration {
	c.mig.rmu.Lock()
	defer c.mig.rmu.Unlock()
	var out []httpapi.Migration
	for _, m := range st.Migrations {
		if activeOnly && !m.Active() {
			continue
		}
		v := httpapi.Migration{ID: m.ID, From: m.From, To: m.To, State: m.State, Started: m.Started, Finished: m.Finished,
			Reason: m.Reason, KeysMoved: m.Keys, BytesMoved: m.Bytes, Ranges: [][2]int{}}
		for _, r := range m.Slots {
			v.Ranges = append(v.Ranges, [2]int{r.Start, r.End})
		}
		if r, ok := c.mig.reports[m.ID]; ok && m.Active() {
			v.KeysMoved, v.BytesMoved = r.Keys, r.Bytes
		}
		out = append(out, v)
	}
	return out
}

// node.SlotMigrations (the CLUSTER commands).

// MigrateSlots moves ranges from this master's shard to target's.
func (c *Control) MigrateSlots(ctx context.Context, ranges []slotmap.Range, target string) error {
	st := c.host.FSM.State()
	sh, master, ok := st.Role(c.cfg.id)
	if !ok || !master {
		return errors.New("CLUSTER MIGRATESLOTS runs on the source shard's master")
	}
	var to *raftfsm.Node
	for _, n := range st.Nodes {
		if strings.EqualFold(raftfsm.ClusterIDOf(n), target) || n.ID == target {
			to = n
		}
	}
	if to == nil {
		return fmt.Errorf("unknown node %s", target)
	}
	if tsh, tm, ok := st.Role(to.ID); !ok || !tm {
		return fmt.Errorf("node %s is not a master", target)
	} else if tsh.ID == sh.ID {
		return errors.New("the target node is in this node's shard")
	}
	req := httpapi.MigrationRequest{From: sh.ID, To: to.Shard}
	for _, r := range ranges {
		req.Ranges = append(req.Ranges, [2]int{r.Start, r.End})
	}
	if c.isLeader() {
		_, err := c.startMigration(req)
		return err
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	_, err = c.postLeader(ctx, "", "/migrations", b)
	return err
}

// SlotMigrations implements node.SlotMigrations.
func (c *Control) SlotMigrations() []node.MigrationInfo {
	st := c.host.FSM.State()
	sh, _, ok := st.Role(c.cfg.id)
	var out []node.MigrationInfo
	idOf := func(shard int) string {
		if n := st.MasterNode(shard); n != nil {
			return raftfsm.ClusterIDOf(n)
		}
		return ""
	}
	for _, m := range st.Migrations {
		op := ""
		switch {
		case ok && m.From == sh.ID:
			op = "EXPORT"
		case ok && m.To == sh.ID:
			op = "IMPORT"
		default:
			continue
		}
		state := map[string]string{raftfsm.MigrationCopying: "snapshotting", raftfsm.MigrationDone: "success",
			raftfsm.MigrationCancelled: "cancelled"}[m.State]
		upd := m.Finished
		if upd == 0 {
			upd = m.Started
		}
		out = append(out, node.MigrationInfo{Name: fmt.Sprintf("%040d", m.ID), Operation: op,
			SlotRanges: strings.ReplaceAll(rangesString(m.Slots), ",", " "), Source: idOf(m.From), Target: idOf(m.To),
			Start: time.UnixMilli(m.Started), Update: time.UnixMilli(upd), State: state, Message: m.Reason})
	}
	return out
}

// CancelSlotMigrations implements node.SlotMigrations: every active
// migration of this node's shard.
func (c *Control) CancelSlotMigrations(ctx context.Context) (int, error) {
	st := c.host.FSM.State()
	sh, _, ok := st.Role(c.cfg.id)
	if !ok {
		return 0, errors.New("this node is not placed in a shard")
	}
	n := 0
	for _, m := range st.Migrations {
		if m.Active() && (m.From == sh.ID || m.To == sh.ID) {
			k, err := c.cancelMigrations(ctx, m.ID, "CLUSTER CANCELSLOTMIGRATIONS")
			if err != nil && !errors.Is(err, raftfsm.ErrUnknownMigration) {
				return n, err
			}
			n += k
		}
	}
	return n, nil
}

// httpapi.MigrationView.

func (v httpView) Migrations() []httpapi.Migration {
	return v.c.migrationsView(v.c.host.FSM.State(), false)
}
func (v httpView) StartMigration(_ context.Context, req httpapi.MigrationRequest) (uint64, error) {
	return v.c.startMigration(req)
}
func (v httpView) ReportMigration(r httpapi.MigrationReport) error { return v.c.reportMigration(r) }
func (v httpView) CancelMigration(ctx context.Context, req httpapi.MigrationCancel) (int, error) {
	reason := req.Reason
	if reason == "" {
		reason = "cancelled by the operator"
	}
	return v.c.cancelMigrations(ctx, req.ID, reason)
}
