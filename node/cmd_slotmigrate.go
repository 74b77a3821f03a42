package node

import (
	"context"
	"strconv"
	"time"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/slotmap"
)

// SlotMigrations is what a Cluster offers for atomic slot migration
// (Valkey 9's CLUSTER MIGRATESLOTS interface); the control plane
// implements it, committing through the Raft record.
type SlotMigrations interface {
	// MigrateSlots moves ranges from this node's shard to the shard the
	// node named by its 40-hex id (or human name) masters.
	MigrateSlots(ctx context.Context, ranges []slotmap.Range, target string) error
	// SlotMigrations lists the record's migrations as this node sees them.
	SlotMigrations() []MigrationInfo
	// CancelSlotMigrations cancels every active migration this node's
	// shard is part of, returning how many.
	CancelSlotMigrations(ctx context.Context) (int, error)
	// AcceptSlotImport checks that this node masters the target of active
	// migration id and clears the migration's slots here, before the
	// source streams them (CLUSTER SYNCSLOTS).
	AcceptSlotImport(ctx context.Context, id uint64) ([]slotmap.Range, error)
}

// MigrationInfo is one migration as CLUSTER GETSLOTMIGRATIONS shows it.
type MigrationInfo struct {
	Name       string // 40 characters, unique
	Operation  string // EXPORT or IMPORT (this node's side)
	SlotRanges string // "a-b c-d"
	Source     string // 40-hex node ids
	Target     string
	Start      time.Time
	Update     time.Time
	State      string
	Message    string
}

func slotMigrationsOf(c *Ctx) SlotMigrations {
	cl := clusterOf(c)
	if cl == nil {
		return nil
	}
	sm, ok := cl.(SlotMigrations)
	if !ok || !c.s.slots.on.Load() {
		c.Err("ERR Atomic slot migration needs cluster-enabled yes")
		return nil
	}
	return sm
}

// CLUSTER MIGRATESLOTS SLOTSRANGE a b [a b ...] NODE id [SLOTSRANGE ... NODE id ...]
func cmdClusterMigrateSlots(c *Ctx) {
	sm := slotMigrationsOf(c)
	if sm == nil {
		return
	}
	type job struct {
		ranges []slotmap.Range
		node   string
	}
	var jobs []job
	args := c.Args[2:]
	for len(args) > 0 {
		if !eq(args[0], "slotsrange") {
			c.Err(errSyntax)
			return
		}
		args = args[1:]
		var j job
		for len(args) >= 2 && !eq(args[0], "node") {
			a, ok1 := keyspace.ParseInt(args[0])
			b, ok2 := keyspace.ParseInt(args[1])
			if !ok1 || !ok2 || a < 0 || b >= slotmap.NumSlots || a > b {
				c.Err("ERR Invalid or out of range slot")
				return
			}
			j.ranges = append(j.ranges, slotmap.Range{Start: int(a), End: int(b)})
			args = args[2:]
		}
		if len(j.ranges) == 0 || len(args) < 2 || !eq(args[0], "node") {
			c.Err(errSyntax)
			return
		}
		j.node = string(args[1])
		args = args[2:]
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		c.Err(errSyntax)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for _, j := range jobs {
		if err := sm.MigrateSlots(ctx, j.ranges, j.node); err != nil {
			c.Err("ERR " + err.Error())
			return
		}
	}
	c.OK()
}

// CLUSTER GETSLOTMIGRATIONS: one map per migration, as Valkey 9.
func cmdClusterGetSlotMigrations(c *Ctx) {
	sm := slotMigrationsOf(c)
	if sm == nil {
		return
	}
	ms := sm.SlotMigrations()
	c.Array(len(ms))
	for _, m := range ms {
		c.Map(9)
		kv := func(k, v string) { c.Bulk([]byte(k)); c.Bulk([]byte(v)) }
		kv("name", m.Name)
		kv("operation", m.Operation)
		kv("slot_ranges", m.SlotRanges)
		kv("target_node", m.Target)
		kv("source_node", m.Source)
		c.Bulk([]byte("create_time"))
		c.Int(m.Start.Unix())
		c.Bulk([]byte("last_update_time"))
		c.Int(m.Update.Unix())
		kv("state", m.State)
		kv("message", m.Message)
	}
}

// CLUSTER CANCELSLOTMIGRATIONS
func cmdClusterCancelSlotMigrations(c *Ctx) {
	sm := slotMigrationsOf(c)
	if sm == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := sm.CancelSlotMigrations(ctx); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.OK()
}

// CLUSTER SYNCSLOTS ESTABLISH <migration-id>: the source's stream
// announces itself to the target; the connection then writes the
// migration's slots without being routed.
func cmdClusterSyncSlots(c *Ctx) {
	sm := slotMigrationsOf(c)
	if sm == nil {
		return
	}
	if len(c.Args) == 3 && eq(c.Args[2], "final") && c.cl.importer {
		// The source paused the slots and the flip comes next: clients
		// this node would send back to the source wait for it instead.
		c.s.slots.final.Store(c.cl.importSlots.Load())
		c.OK()
		return
	}
	if len(c.Args) != 4 || !eq(c.Args[2], "establish") {
		c.Err(errSyntax)
		return
	}
	if c.replicationRefused() { // with a cluster secret: the replication credential only
		return
	}
	id, err := strconv.ParseUint(string(c.Args[3]), 10, 64)
	if err != nil {
		c.Err(errNotInt)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.s.slots.final.Store(nil)
	rs, err := sm.AcceptSlotImport(ctx, id)
	if err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	set := new(SlotSet)
	for _, r := range rs {
		for i := max(r.Start, 0); i <= r.End && i < slotmap.NumSlots; i++ {
			set[i] = true
		}
	}
	c.cl.importer = true
	c.cl.importSlots.Store(set)
	c.OK()
}
