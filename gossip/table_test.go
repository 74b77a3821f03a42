package gossip

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// These tests drive the PFAIL/FAIL rules with a fake clock; the network tests
// in detector_test.go check the same rules end to end.

const da = 300 * time.Millisecond

func mlNode(id string, port uint16) *memberlist.Node {
	return &memberlist.Node{Name: id, Addr: net.IPv4(127, 0, 0, 1), Port: port}
}

func newTestTable(t0 time.Time, ids ...string) *table {
	tab := newTable("n1", da, t0)
	for i, id := range ids {
		tab.nodeJoined(mlNode(id, uint16(7000+i)), true, t0)
	}
	return tab
}

func TestTableQuorum(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tab := newTestTable(t0, "n2", "n3", "n4", "n5") // N=5, quorum 3
	report := func(from string, at time.Time, suspects ...string) {
		tab.received(from, "", Meta{ID: from}, suspects, at)
	}
	for _, id := range []string{"n2", "n3", "n4", "n5"} {
		report(id, t0)
	}
	t1 := t0.Add(100 * time.Millisecond)
	if s := tab.suspects(t1); len(s) != 0 {
		t.Fatalf("suspects with everyone fresh: %v", s)
	}

	// n5 goes quiet; the others keep reporting.
	t2 := t0.Add(da + 50*time.Millisecond)
	report("n2", t2, "n5")
	report("n3", t2)
	report("n4", t2)
	if !tab.pfail("n5", t2) || tab.failed("n5", t2) {
		t.Fatalf("n5: self + n2 = 2 votes of 3: pfail=%v failed=%v", tab.pfail("n5", t2), tab.failed("n5", t2))
	}
	if got := tab.suspects(t2); !slices.Equal(got, []string{"n5"}) {
		t.Fatalf("suspects = %v", got)
	}
	report("n3", t2, "n5")
	if !tab.failed("n5", t2) {
		t.Fatalf("n5 not failed with 3 of 5 votes")
	}
	if ms := tab.members(Meta{ID: "n1"}, "self", t2); ms[4].ID != "n5" || ms[4].State != StateFail || ms[0].State != StateAlive {
		t.Fatalf("members = %+v", ms)
	}

	// Votes count only while fresh: once n2/n3's reports are old, n5 is only pfail.
	t3 := t2.Add(da + time.Millisecond)
	report("n4", t3)
	if tab.failed("n5", t3) || !tab.pfail("n5", t3) {
		t.Fatalf("stale votes still counted")
	}

	// A majority of others suspecting n5 is FAIL even if we still hear from it.
	t4 := t3.Add(10 * time.Millisecond)
	for _, id := range []string{"n2", "n3", "n4"} {
		report(id, t4, "n5")
	}
	report("n5", t4)
	if tab.pfail("n5", t4) || !tab.failed("n5", t4) {
		t.Fatalf("3 remote votes: pfail=%v failed=%v", tab.pfail("n5", t4), tab.failed("n5", t4))
	}

	// Forgetting two members shrinks N to 3 (quorum 2): self + n2 suffice.
	tab.forget("n3")
	tab.forget("n4")
	t5 := t4.Add(da + time.Millisecond)
	report("n2", t5)
	if tab.failed("n5", t5) {
		t.Fatalf("n5 failed on our vote alone")
	}
	report("n2", t5, "n5")
	if !tab.failed("n5", t5) {
		t.Fatalf("self + n2 are not a majority of 3")
	}
	if ms := tab.members(Meta{}, "", t4); len(ms) != 3 {
		t.Fatalf("members after forget = %+v", ms)
	}
	report("n3", t4) // ignored: forgotten
	if ms := tab.members(Meta{}, "", t4); len(ms) != 3 {
		t.Fatalf("a forgotten node's report brought it back: %+v", ms)
	}
	tab.nodeJoined(mlNode("n3", 7100), false, t4) // an update does not either
	if _, ok := tab.latest("n3"); ok || len(tab.members(Meta{}, "", t4)) != 3 {
		t.Fatalf("a memberlist update brought back a forgotten node")
	}
	tab.nodeJoined(mlNode("n3", 7100), true, t4) // a fresh join does
	if ms := tab.members(Meta{}, "", t4); len(ms) != 4 || ms[2].ID != "n3" || ms[2].Addr != "127.0.0.1:7100" {
		t.Fatalf("rejoined n3 missing: %+v", ms)
	}
}

func TestTableMemberlistState(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tab := newTestTable(t0, "n2", "n3")
	if tab.pfail("n2", t0.Add(da)) {
		t.Fatalf("pfail at exactly DownAfter after first seen")
	}
	if !tab.pfail("n2", t0.Add(da+time.Millisecond)) {
		t.Fatalf("never reported, not pfail after DownAfter")
	}
	if tab.pfail("n1", t0.Add(time.Hour)) || tab.failed("n1", t0.Add(time.Hour)) || tab.pfail("zz", t0) {
		t.Fatalf("self or unknown node suspected")
	}

	// memberlist declares n2 dead while we just heard from it: not believed
	// (a starved prober) until n2 has been silent for DownAfter/2.
	t1 := t0.Add(10 * time.Millisecond)
	tab.received("n2", "127.0.0.1:9999", Meta{ID: "n2"}, nil, t1)
	tab.nodeLeft("n2")
	if tab.pfail("n2", t1.Add(da/2)) || tab.failed("n2", t1.Add(da/2)) {
		t.Fatalf("memberlist-dead n2 failed although heard DownAfter/2 ago")
	}
	if !tab.pfail("n2", t1.Add(da/2+time.Millisecond)) || !tab.failed("n2", t1.Add(da/2+time.Millisecond)) {
		t.Fatalf("memberlist-dead n2 silent for DownAfter/2 not pfail+fail")
	}
	// Reports still go to it: after a partition both sides have each other
	// dead in memberlist, and only a report getting through ends that.
	if got := tab.targets(); !slices.ContainsFunc(got, func(n memberlist.Node) bool { return n.Name == "n2" }) {
		t.Fatalf("memberlist-dead n2 dropped from report targets: %v", got)
	}
	// It reports from a new address: resync it, once per DownAfter.
	if got := tab.resyncTargets(t1); !slices.Equal(got, []string{"127.0.0.1:9999"}) {
		t.Fatalf("resync targets = %v", got)
	}
	if got := tab.resyncTargets(t1.Add(da / 2)); len(got) != 0 {
		t.Fatalf("resync again too soon: %v", got)
	}
	// Back in memberlist, with fresh reports: alive again.
	tab.nodeJoined(mlNode("n2", 9999), true, t1)
	if tab.pfail("n2", t1.Add(da/2+time.Millisecond)) || tab.failed("n2", t1.Add(da/2+time.Millisecond)) {
		t.Fatalf("n2 still suspected after it came back")
	}
	// Back in memberlist but silent since: still PFAIL (reports decide).
	if !tab.pfail("n2", t1.Add(da+time.Millisecond)) {
		t.Fatalf("memberlist alive hides missing reports")
	}
	if got := tab.resyncTargets(t1.Add(2 * da)); len(got) != 0 {
		t.Fatalf("resync of a memberlist-alive node: %v", got)
	}
	if r, ok := tab.latest("n2"); !ok || r.Received != t1 || r.Meta.ID != "n2" {
		t.Fatalf("latest = %+v %v", r, ok)
	}
}

// A node the caller watches (the record names it) but gossip never heard
// from is silent from the moment it was watched: PFAIL after DownAfter, FAIL
// with a majority, like any other. Unwatched, it is never suspected.
func TestTableWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := t0.Add(5 * time.Second) // when "n9" is watched
	cases := []struct {
		name      string
		setup     func(tab *table) // after n2, n3 joined at t0
		at        time.Time
		id        string
		wantState string // "" = not a member
		wantQuiet time.Duration
	}{
		{"unwatched unknown id is no member", func(*table) {}, w.Add(time.Hour), "n9", "", 0},
		{"watched: alive until DownAfter", func(tab *table) { tab.watch([]string{"n9"}, w) }, w.Add(da), "n9", StateAlive, da},
		{"watched: pfail after DownAfter, no vote but ours", func(tab *table) {
			tab.watch([]string{"n9"}, w)
			tab.received("n2", "", Meta{ID: "n2"}, nil, w.Add(da))
			tab.received("n3", "", Meta{ID: "n3"}, nil, w.Add(da))
		}, w.Add(da + time.Millisecond), "n9", StatePFail, da + time.Millisecond},
		{"watched: fail with a majority of 4", func(tab *table) {
			tab.watch([]string{"n9"}, w)
			tab.received("n2", "", Meta{ID: "n2"}, []string{"n9"}, w.Add(da))
			tab.received("n3", "", Meta{ID: "n3"}, []string{"n9"}, w.Add(da))
		}, w.Add(da + time.Millisecond), "n9", StateFail, da + time.Millisecond},
		{"watched: it counts among the members, so 2 votes of 4 are no majority", func(tab *table) {
			tab.watch([]string{"n9"}, w)
			tab.received("n2", "", Meta{ID: "n2"}, []string{"n9"}, w.Add(da))
			tab.received("n3", "", Meta{ID: "n3"}, nil, w.Add(da))
		}, w.Add(da + time.Millisecond), "n9", StatePFail, da + time.Millisecond},
		{"watched, then it reports: alive", func(tab *table) {
			tab.watch([]string{"n9"}, w)
			tab.received("n9", "127.0.0.1:9", Meta{ID: "n9"}, nil, w.Add(da))
		}, w.Add(da + time.Millisecond), "n9", StateAlive, time.Millisecond},
		{"watching a known node keeps its silence", func(tab *table) {
			tab.received("n2", "", Meta{ID: "n2"}, nil, t0)
			tab.watch([]string{"n2"}, w)
		}, w, "n2", StatePFail, w.Sub(t0)},
		{"self is never suspected", func(tab *table) { tab.watch([]string{"n1"}, w) }, w.Add(time.Hour), "n1", StateAlive, 0},
		{"forgotten stays forgotten", func(tab *table) {
			tab.forget("n3")
			tab.watch([]string{"n3"}, w)
		}, w.Add(time.Hour), "n3", "", 0},
		{"empty id ignored", func(tab *table) { tab.watch([]string{""}, w) }, w.Add(time.Hour), "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := newTestTable(t0, "n2", "n3")
			c.setup(tab)
			state := ""
			for _, m := range tab.members(Meta{}, "", c.at) {
				if m.ID == c.id {
					state = m.State
				}
			}
			if state != c.wantState {
				t.Fatalf("state of %q = %q, want %q", c.id, state, c.wantState)
			}
			if got, ok := tab.silence(c.id, c.at); got != c.wantQuiet || ok != (c.wantState != "") {
				t.Fatalf("silence of %q = %v %v, want %v", c.id, got, ok, c.wantQuiet)
			}
			if tab.failed(c.id, c.at) != (c.wantState == StateFail) || tab.pfail(c.id, c.at) != (c.wantState == StatePFail || c.wantState == StateFail) {
				t.Fatalf("failed/pfail of %q disagree with state %q", c.id, c.wantState)
			}
		})
	}
}
