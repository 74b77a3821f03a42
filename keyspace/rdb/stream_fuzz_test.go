package rdb

import (
	"testing"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

func streamSeed() *keyspace.Object {
	s := stream.New()
	s.NodeMaxEntries = 3
	for i := uint64(1); i <= 8; i++ {
		fv := [][]byte{[]byte("a"), []byte("1"), []byte("b"), []byte("x")}
		if i%3 == 0 {
			fv = [][]byte{[]byte("c"), []byte("-70000")}
		}
		s.Append(stream.ID{Ms: i, Seq: i % 2}, fv)
	}
	s.Delete(stream.ID{Ms: 2, Seq: 0})
	g := s.CreateGroup("g", stream.ID{Ms: 4, Seq: 0}, 3)
	c := g.CreateConsumer("alice", 1700000000000)
	for _, id := range []stream.ID{{Ms: 1, Seq: 1}, {Ms: 3, Seq: 1}} {
		n := &stream.NACK{DeliveryTime: 1700000000000, DeliveryCount: 2, Consumer: c}
		g.PEL.Put(id, n)
		c.PEL.Put(id, n)
	}
	g.CreateConsumer("bob", 5)
	s.CreateGroup("empty", stream.ID{}, stream.InvalidEntriesRead)
	return &keyspace.Object{Type: keyspace.TStream, Val: s}
}

// FuzzStreamPayload mutates stream payloads (type 19 and the 15 and 21
// variants): the loader must never panic, and what it accepts dumps and
// loads again to the same stream.
func FuzzStreamPayload(f *testing.F) {
	p := DumpPayload(streamSeed())
	body := p[1 : len(p)-10]
	for _, typ := range []byte{TypeStreamListpacks, TypeStreamListpacks2, TypeStreamListpacks3} {
		f.Add(typ, body)
	}
	f.Add(byte(TypeStreamListpacks2), body[:len(body)/2])
	f.Fuzz(func(t *testing.T, typ byte, b []byte) {
		if typ != TypeStreamListpacks && typ != TypeStreamListpacks2 && typ != TypeStreamListpacks3 {
			return
		}
		o, err := ParsePayload(payload(typ, b, Version))
		if err != nil {
			return
		}
		again, err := ParsePayload(DumpPayload(o))
		if err != nil {
			t.Fatalf("re-parsing a dumped accepted stream: %v", err)
		}
		if string(DumpPayload(again)) != string(DumpPayload(o)) {
			t.Fatalf("round trip changed an accepted stream")
		}
	})
}

// TestStreamPayloadRoundTrip: a stream survives DUMP and load unchanged.
func TestStreamPayloadRoundTrip(t *testing.T) {
	o := streamSeed()
	p := DumpPayload(o)
	again, err := ParsePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(DumpPayload(again)) != string(p) {
		t.Fatal("round trip changed the stream")
	}
	s := again.Val.(*stream.Stream)
	if s.Len() != 7 || s.Group("g").PEL.Len() != 2 || s.Group("g").Consumer("alice").PEL.Len() != 2 {
		t.Fatalf("loaded stream: len %d", s.Len())
	}
}
