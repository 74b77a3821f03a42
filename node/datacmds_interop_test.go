package node

import (
	"fmt"
	"testing"

	"github.com/wardenkv/warden/internal/redistest"
)

// dataFixture writes HLLs (sparse and dense) and a geo set through c.
func dataFixture(t *testing.T, c *respClient) {
	t.Helper()
	for i := range 40 {
		c.mustDo(t, "pfadd", "hll:sparse", fmt.Sprint("s", i))
	}
	for i := range 3000 {
		c.mustDo(t, "pfadd", "hll:dense", fmt.Sprint("d", i))
	}
	c.mustDo(t, "pfcount", "hll:dense") // caches the cardinality
	for i := range 50 {
		c.mustDo(t, "geoadd", "geo", fmt.Sprint(i*7-170), fmt.Sprint(i*3-80), fmt.Sprint("m", i))
	}
}

// dataDescribe reads back what dataFixture wrote, as text.
func dataDescribe(t *testing.T, c *respClient) string {
	t.Helper()
	var out string
	for _, args := range cmds("pfcount hll:sparse", "pfcount hll:dense", "get hll:sparse", "get hll:dense", "pfcount hll:sparse hll:dense",
		"pfdebug encoding hll:sparse", "pfdebug encoding hll:dense", "geopos geo m0 m10 m49", "geohash geo m0 m10 m49",
		"geosearch geo FROMMEMBER m20 BYRADIUS 3000 km ASC WITHDIST WITHCOORD") {
		out += c.mustDo(t, args...).String() + "\n"
	}
	return out
}

// HLL and geo values move between warden and Redis in RDB files, both
// ways, and read back the same (the HLL bytes included).
func TestDataRDBInterop(t *testing.T) {
	// warden -> Redis.
	dir := t.TempDir()
	_, addr := startServer(t, "dir", dir, "save", "")
	w := dialResp(t, addr)
	dataFixture(t, w)
	want := dataDescribe(t, w)
	if v := w.mustDo(t, "save"); v.String() != "+OK" {
		t.Fatalf("SAVE: %v", v)
	}
	rs := redistest.Start(t, dir)
	if got := dataDescribe(t, dialResp(t, rs.Addr)); got != want {
		t.Errorf("Redis loaded warden's RDB as\n%s\nwarden had\n%s", got, want)
	}
	// Redis -> warden.
	dir2 := t.TempDir()
	rs2 := redistest.Start(t, dir2)
	r := dialResp(t, rs2.Addr)
	dataFixture(t, r)
	want = dataDescribe(t, r)
	if v := r.mustDo(t, "save"); v.String() != "+OK" {
		t.Fatalf("SAVE: %v", v)
	}
	_, addr2 := startServer(t, "dir", dir2, "save", "")
	if got := dataDescribe(t, dialResp(t, addr2)); got != want {
		t.Errorf("warden loaded Redis's RDB as\n%s\nRedis had\n%s", got, want)
	}
}

// DUMP/RESTORE both ways.
func TestDataDumpInterop(t *testing.T) {
	p := newPair(t)
	dataFixture(t, p.r)
	for _, key := range []string{"hll:sparse", "hll:dense", "geo"} {
		d := p.r.mustDo(t, "dump", key)
		if v := p.w.mustDo(t, "restore", key, "0", d.Str); v.String() != "+OK" {
			t.Fatalf("RESTORE %s in warden: %v", key, v)
		}
	}
	want := dataDescribe(t, p.r)
	if got := dataDescribe(t, p.w); got != want {
		t.Errorf("warden restored Redis's dumps as\n%s\nwant\n%s", got, want)
	}
	for _, key := range []string{"hll:sparse", "hll:dense", "geo"} {
		d := p.w.mustDo(t, "dump", key)
		if v := p.r.mustDo(t, "restore", key, "0", d.Str, "replace"); v.String() != "+OK" {
			t.Fatalf("RESTORE %s in Redis: %v", key, v)
		}
	}
	if got := dataDescribe(t, p.r); got != want {
		t.Errorf("Redis restored warden's dumps as\n%s\nwant\n%s", got, want)
	}
}
