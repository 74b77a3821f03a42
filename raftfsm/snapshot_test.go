package raftfsm

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// memSink is an in-memory raft.SnapshotSink.
type memSink struct {
	bytes.Buffer
	failWrite         bool
	closed, cancelled bool
}

func (s *memSink) Write(p []byte) (int, error) {
	if s.failWrite {
		return 0, errors.New("disk full")
	}
	return s.Buffer.Write(p)
}
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

// richState builds a record using every field: three shards, a failover, a
// handoff in progress, a masterless shard.
func richState(t *testing.T) *fsmHarness {
	h := newHarness(t)
	h.init("mymaster", 3)
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		n := testNode(id, "host-"+id)
		n.SentinelAddr = "10.1.1.1:26379"
		n.GossipAddr = "10.1.1.1:7946"
		n.HTTPAddr = "10.1.1.1:8080"
		n.Voter = id < "d"
		h.must(Command{Op: OpAddNode, Node: n})
	}
	h.must(Command{Op: OpSetMaster, Shard: 0, ID: "d", PrevEpoch: 1})
	h.must(Command{Op: OpBeginHandoff, Shard: 1, ID: "e", PrevEpoch: 2, Deadline: 1700000000000})
	h.must(Command{Op: OpRemoveNode, ID: "c"})
	return h
}

func snapshotBytes(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	if !sink.closed || sink.cancelled {
		t.Fatalf("sink closed=%v cancelled=%v after a good Persist", sink.closed, sink.cancelled)
	}
	return sink.Bytes()
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	h := richState(t)
	want := h.f.State()
	if err := checkInvariants(want); err != nil {
		t.Fatal(err)
	}
	b := snapshotBytes(t, h.f)

	f2 := New()
	ch := f2.Changed()
	if err := f2.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if got := f2.State(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored state differs:\n got %+v\nwant %+v", got, want)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Restore did not close Changed")
	}

	// The restored FSM continues exactly as the original would.
	h2 := &fsmHarness{t: t, f: f2, idx: h.idx}
	for _, c := range []Command{
		{Op: OpSetMaster, Shard: 1, ID: "e", PrevEpoch: 2},
		{Op: OpAddNode, Node: testNode("z", "host-z")},
		{Op: OpSetMaster, Shard: 2, ID: "g", PrevEpoch: 1}, // stale
	} {
		e1, e2 := h.apply(c), h2.apply(c)
		if (e1 == nil) != (e2 == nil) {
			t.Fatalf("%s: original %v, restored %v", c.Op, e1, e2)
		}
	}
	if !reflect.DeepEqual(h.f.State(), f2.State()) {
		t.Fatal("original and restored FSM diverged")
	}
}

func TestSnapshotIsPointInTime(t *testing.T) {
	h := richState(t)
	want := h.f.State()
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h.add("late", "late") // raft keeps applying while Persist runs
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	f2 := New()
	if err := f2.Restore(io.NopCloser(&sink.Buffer)); err != nil {
		t.Fatal(err)
	}
	if got := f2.State(); !reflect.DeepEqual(got, want) {
		t.Fatal("snapshot picked up an entry applied after Snapshot()")
	}
}

func TestSnapshotEmptyFSM(t *testing.T) {
	b := snapshotBytes(t, New())
	f2 := New()
	if err := f2.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f2.State(), New().State()) {
		t.Fatalf("restored empty state %+v", f2.State())
	}
	// And it is usable: nil maps would panic here.
	h := &fsmHarness{t: t, f: f2}
	h.add("a", "a")
	h.init("m", 1)
	if err := checkInvariants(f2.State()); err != nil {
		t.Fatal(err)
	}
}

func TestRestoreMinimalObject(t *testing.T) {
	f := New()
	if err := f.Restore(io.NopCloser(strings.NewReader(`{"epoch":3}`))); err != nil {
		t.Fatal(err)
	}
	h := &fsmHarness{t: t, f: f}
	h.add("a", "a") // Nodes map must exist
	if st := f.State(); st.Epoch != 3 || len(st.Nodes) != 1 {
		t.Fatalf("state %+v", st)
	}
}

func TestRestoreGarbageKeepsState(t *testing.T) {
	h := richState(t)
	want := h.f.State()
	for _, in := range []string{"", "{", "not json", `{"epoch":"x"}`} {
		if err := h.f.Restore(io.NopCloser(strings.NewReader(in))); err == nil {
			t.Fatalf("Restore(%q) = nil, want an error", in)
		}
		if !reflect.DeepEqual(h.f.State(), want) {
			t.Fatalf("failed Restore(%q) changed state", in)
		}
	}
}

type closeSpy struct {
	io.Reader
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }

func TestRestoreClosesReader(t *testing.T) {
	for _, in := range []string{`{}`, `garbage`} {
		rc := &closeSpy{Reader: strings.NewReader(in)}
		_ = New().Restore(rc)
		if !rc.closed {
			t.Fatalf("Restore(%q) did not close its reader", in)
		}
	}
}

func TestPersistWriteErrorCancels(t *testing.T) {
	snap, err := richState(t).f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{failWrite: true}
	if err := snap.Persist(sink); err == nil {
		t.Fatal("Persist to a failing sink returned nil")
	}
	if !sink.cancelled || sink.closed {
		t.Fatalf("failing sink: cancelled=%v closed=%v, want cancelled only", sink.cancelled, sink.closed)
	}
}
