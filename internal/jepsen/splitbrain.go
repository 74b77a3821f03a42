package jepsen

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/slotmap"
)

// CheckSplitBrain looks for a write accepted under an older tenure after
// a write under a newer one had already been acknowledged, and (cluster
// mode) for slot tables or writes that break "every slot is owned by
// exactly one shard".
//
// The evidence: the monitor's "record" ops (each shard epoch of the Raft
// record, its master's address, and when the monitor first saw it, polling
// every node's /status), its "slots" ops (each slot table the record
// published, cluster mode only), and every write a node acknowledged (OK
// or Async, with the address that answered). The monitor sees a change
// late, never early, so a write on node A belongs to the newest epoch that
// named A master and was seen no later than slack after the write's reply.
// In cluster mode it also belongs to a tenure of its key's slot: the run
// of tables giving that slot to A's shard, of which one was in force at
// some moment between the write's start and slack after its reply; a write
// no such table explains is a slot-ownership anomaly.
//
// Tenures are ordered by (slot tenure, epoch). A split brain is a write
// that began after a write of the same slot (of any key, without slot
// tables) under a newer tenure had been acknowledged: warden promotes only
// after the old master's lease has run out, and flips a slot only after
// the source has stopped writing it, so the older owner must have stopped
// taking writes before any newer one took one. A write on a node the record
// never named master (within the slack) is reported too.
func CheckSplitBrain(ops []Op, slack time.Duration) Anomalies {
	type tenure struct {
		epoch uint64
		node  string
		seen  int64
	}
	var ts []tenure
	var tables []slotTable
	var found Anomalies
	shardOf := map[string]int{} // nodes keep their shard in these runs
	for _, op := range ops {
		switch op.Type {
		case "record":
			ts = append(ts, tenure{op.Epoch, op.Node, op.Start})
			shardOf[op.Node] = op.Shard
		case "slots":
			tb, problems := parseSlotTable(op.Slots)
			tb.seen = op.Start
			for _, p := range problems {
				found.add(Anomaly{Class: SlotOwnership, Detail: fmt.Sprintf("slot table seen at %v: %s", time.Duration(op.Start).Round(time.Millisecond), p), Ops: []Op{op}})
			}
			tables = append(tables, tb)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].epoch < ts[j].epoch })
	sort.SliceStable(tables, func(i, j int) bool { return tables[i].seen < tables[j].seen })
	if len(ts) == 0 {
		return found
	}
	type key struct {
		gen   int // index of the slot table that began the slot's tenure (0 without tables)
		epoch uint64
	}
	less := func(a, b key) bool { return a.gen < b.gen || (a.gen == b.gen && a.epoch < b.epoch) }
	type acked struct {
		op  Op
		key key
	}
	groups := map[int][]acked{} // by slot; -1 holds every write when there are no slot tables
	for _, op := range ops {
		if (op.Type != "write" && op.Type != "add") || (op.Outcome != OK && op.Outcome != Async) || op.Final {
			continue
		}
		var k key
		ok := false
		for _, t := range ts {
			if t.node == op.Node && t.seen <= op.End+int64(slack) {
				k.epoch, ok = t.epoch, true
			}
		}
		if !ok {
			found.add(Anomaly{Class: SplitBrainWrite, Key: op.Key, Detail: fmt.Sprintf("%s acknowledged by %s, which the record never named master", op.Value, op.Node), Ops: []Op{op}})
			continue
		}
		group := -1
		if len(tables) > 0 {
			group = slotmap.SlotString(op.Key)
			shard := shardOf[op.Node]
			i := ownerTable(tables, group, shard, op, slack)
			if i < 0 {
				found.add(Anomaly{Class: SlotOwnership, Key: op.Key,
					Detail: fmt.Sprintf("%s acknowledged by %s (shard %d), but no slot table in force between its start and %v after its reply gave slot %d to shard %d", op.Value, op.Node, shard, slack, group, shard),
					Ops:    []Op{op}})
				continue
			}
			k.gen = tenureStart(tables, group, i)
		}
		groups[group] = append(groups[group], acked{op, k})
	}
	for _, ws := range groups {
		// firstAck[k]: the earliest reply to a write accepted under tenure k.
		firstAck := map[key]Op{}
		for _, a := range ws {
			if f, ok := firstAck[a.key]; !ok || a.op.End < f.End {
				firstAck[a.key] = a.op
			}
		}
		keys := make([]key, 0, len(firstAck))
		for k := range firstAck {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
		// newer[i]: the earliest first ack over keys[i+1:].
		newer := make([]Op, len(keys))
		for i := len(keys) - 1; i >= 0; i-- {
			if i+1 < len(keys) {
				newer[i] = newer[i+1]
				if f := firstAck[keys[i+1]]; newer[i].End == 0 || f.End < newer[i].End {
					newer[i] = f
				}
			}
		}
		for _, a := range ws {
			i := sort.Search(len(keys), func(i int) bool { return !less(keys[i], a.key) })
			if n := newer[i]; n.End != 0 && n.End < a.op.Start {
				found.add(Anomaly{Class: SplitBrainWrite, Key: a.op.Key,
					Detail: fmt.Sprintf("%s accepted %s at epoch %d (slot tenure %d), %v after %s had accepted %s under a newer tenure", a.op.Node, a.op.Value, a.key.epoch, a.key.gen, time.Duration(a.op.Start-n.End).Round(time.Millisecond), n.Node, n.Value),
					Ops:    []Op{n, a.op}})
			}
		}
	}
	return found
}

// ownerTable is the newest table giving slot to shard that may have been
// in force while op ran: seen no later than slack after op's reply, and not
// replaced (as seen) before op began. -1 if none.
func ownerTable(tables []slotTable, slot, shard int, op Op, slack time.Duration) int {
	for i := len(tables) - 1; i >= 0; i-- {
		if tables[i].seen > op.End+int64(slack) {
			continue
		}
		if i+1 < len(tables) && tables[i+1].seen < op.Start {
			return -1
		}
		if int(tables[i].owner[slot]) == shard {
			return i
		}
	}
	return -1
}

// tenureStart is the first of the consecutive tables, ending at i, that
// give slot the same owner.
func tenureStart(tables []slotTable, slot, i int) int {
	j := i
	for j > 0 && tables[j-1].owner[slot] == tables[i].owner[slot] {
		j--
	}
	return j
}

// slotTable is one recorded slot table: the owning shard of each slot.
type slotTable struct {
	seen  int64
	owner []int16 // -1: no owner
}

// FormatSlotTable renders each shard's ranges ("0-5460 6000") as a
// "slots" op carries them: "0:0-5460;1:5461-16383".
func FormatSlotTable(byShard map[int]string) string {
	ids := make([]int, 0, len(byShard))
	for id := range byShard {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		parts = append(parts, strconv.Itoa(id)+":"+byShard[id])
	}
	return strings.Join(parts, ";")
}

// parseSlotTable reads FormatSlotTable's output and says what breaks
// "every slot owned by exactly one shard".
func parseSlotTable(s string) (slotTable, []string) {
	tb := slotTable{owner: make([]int16, slotmap.NumSlots)}
	for i := range tb.owner {
		tb.owner[i] = -1
	}
	var problems []string
	twice := 0
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		id, ranges, ok := strings.Cut(part, ":")
		shard, err := strconv.Atoi(id)
		if !ok || err != nil {
			problems = append(problems, fmt.Sprintf("unreadable entry %q", part))
			continue
		}
		for _, f := range strings.Fields(ranges) {
			r, err := slotmap.ParseRange(f)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			for slot := r.Start; slot <= r.End; slot++ {
				if o := tb.owner[slot]; o >= 0 && int(o) != shard {
					if twice++; twice <= 3 {
						problems = append(problems, fmt.Sprintf("slot %d owned by shards %d and %d", slot, o, shard))
					}
					continue
				}
				tb.owner[slot] = int16(shard)
			}
		}
	}
	if twice > 3 {
		problems = append(problems, fmt.Sprintf("%d slots owned twice in all", twice))
	}
	var none []int
	for slot, o := range tb.owner {
		if o < 0 {
			none = append(none, slot)
		}
	}
	if len(none) > 0 {
		var rs []string
		for _, r := range slotmap.Ranges(none) {
			rs = append(rs, r.String())
		}
		problems = append(problems, "slots owned by no shard: "+strings.Join(rs, " "))
	}
	return tb, problems
}
