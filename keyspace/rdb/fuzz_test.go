package rdb

import (
	"strings"
	"testing"

	"github.com/wardenkv/warden/keyspace"
)

// FuzzParsePayload feeds arbitrary payloads (raw, and as bodies behind a
// valid footer so the checksum does not stop them) to the loader: it must
// never panic, and whatever it accepts must survive a DUMP round trip.
func FuzzParsePayload(f *testing.F) {
	for _, o := range []*keyspace.Object{
		str("1"), str("hello"), str(strings.Repeat("abc", 40)), list("a", "1", "-7000"),
		set("1", "2", "70000"), set("a", "b"), hash("f", "v", "n", "1"), hash("x", strings.Repeat("y", 70)),
		zset(keyspace.ZEntry{Member: "a", Score: 1.5}, keyspace.ZEntry{Member: "b", Score: 3}), bigZSet(130),
	} {
		p := DumpPayload(o)
		f.Add(p)
		f.Add(p[:len(p)-10])
	}
	for _, p := range legacyPayloads() {
		f.Add(p.body)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParsePayload(b)
		if len(b) == 0 {
			return
		}
		o, err := ParsePayload(payload(b[0], b[1:], Version))
		if err != nil {
			return
		}
		again, err := ParsePayload(DumpPayload(o))
		if err != nil {
			t.Fatalf("re-parsing a dumped accepted value: %v", err)
		}
		if describe(again) != describe(o) {
			t.Fatalf("round trip changed an accepted value")
		}
	})
}
