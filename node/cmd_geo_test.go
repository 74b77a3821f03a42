package node

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestGeoSideBySide compares every geo reply with Redis 7.0's, numbers as
// text: the scores GEOADD stores, GEOPOS's coordinates, GEOHASH, distances
// and which members each search finds, in which order.
func TestGeoSideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds(
		"geoadd Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
		"zrange Sicily 0 -1 withscores",
		"geoadd Sicily NX 13.361389 38.115556 Palermo 12 37 Marsala", "geoadd Sicily XX CH 13.5 38.1 Palermo 1 1 Nope",
		"geoadd Sicily CH CH 13.361389 38.115556 Palermo", "geoadd Sicily NX XX 1 2 a", "geoadd Sicily 1 2", "geoadd Sicily 1 2 a 3",
		"geoadd Sicily 181 10 x", "geoadd Sicily 10 86 x", "geoadd Sicily abc 10 x", "geoadd Sicily 10 nan x", "geoadd Sicily inf 10 x",
		"geoadd Sicily -180 -85.05112878 sw 180 85.05112878 ne 0 0 zero", "geoadd Sicily NX", "geoadd Sicily NX CH CH",
		"zrange Sicily 0 -1 withscores",
		"geopos Sicily Palermo Catania nosuch sw ne zero", "geopos nokey a b", "geopos Sicily",
		"geohash Sicily Palermo Catania nosuch sw ne zero", "geohash nokey a", "geohash Sicily",
		"geodist Sicily Palermo Catania", "geodist Sicily Palermo Catania km", "geodist Sicily Palermo Catania MI",
		"geodist Sicily Palermo Catania ft", "geodist Sicily Palermo Catania furlong", "geodist Sicily Palermo nosuch",
		"geodist nokey a b", "geodist Sicily Palermo Catania km x", "geodist Sicily sw ne", "geodist Sicily zero zero",
		"set str x", "geoadd str 1 1 a", "geopos str a", "geohash str a", "geodist str a b", "georadius str 15 37 200 km",
		"geosearch str FROMLONLAT 15 37 BYRADIUS 200 km",
		"georadius Sicily 15 37 200 km", "georadius Sicily 15 37 200 km WITHDIST", "georadius Sicily 15 37 200 km WITHCOORD WITHHASH WITHDIST ASC",
		"georadius Sicily 15 37 200 km DESC WITHDIST", "georadius Sicily 15 37 200 km COUNT 1", "georadius Sicily 15 37 200 km COUNT 1 ANY",
		"georadius Sicily 15 37 200 km ANY", "georadius Sicily 15 37 200 km COUNT 0", "georadius Sicily 15 37 200 km COUNT -1",
		"georadius Sicily 15 37 200 km COUNT x", "georadius Sicily 15 37 -1 km", "georadius Sicily 15 37 x km", "georadius Sicily 15 37 1 parsec",
		"georadius Sicily 15 37 200 km STORE dst", "zrange dst 0 -1 withscores", "georadius Sicily 15 37 200 km STOREDIST dst2", "zrange dst2 0 -1 withscores",
		"georadius Sicily 15 37 200 km STORE dst WITHDIST", "georadius Sicily 15 37 1 m STORE dst", "exists dst",
		"georadius_ro Sicily 15 37 200 km STORE dst", "georadius_ro Sicily 15 37 200 km WITHDIST", "georadius nokey 15 37 200 km", "georadius nokey 15 37 200 km STORE dst2", "exists dst2",
		"georadius Sicily 200 37 200 km", "georadius Sicily 15 37 200 km foo",
		"georadiusbymember Sicily Palermo 200 km WITHDIST", "georadiusbymember Sicily nosuch 200 km", "georadiusbymember nokey nosuch x y",
		"georadiusbymember nokey nosuch x y foo", "georadiusbymember_ro Sicily Palermo 100 mi WITHCOORD",
		"georadiusbymember Sicily Palermo 200 km STORE dst3", "zrange dst3 0 -1 withscores",
		"geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km ASC WITHDIST", "geosearch Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
		"geosearch Sicily FROMLONLAT 15 37 BYBOX 400 400 km DESC COUNT 1", "geosearch Sicily FROMLONLAT 15 37 BYBOX 40 40 km",
		"geosearch Sicily FROMMEMBER nosuch BYRADIUS 200 km", "geosearch nokey FROMMEMBER nosuch BYRADIUS 200 km",
		"geosearch Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km", "geosearch Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 200 km",
		"geosearch Sicily BYRADIUS 200 km", "geosearch Sicily FROMMEMBER Palermo ASC", "geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km BYBOX 1 1 km",
		"geosearch Sicily FROMMEMBER Palermo BYBOX -1 1 km", "geosearch Sicily FROMMEMBER Palermo BYBOX x 1 km", "geosearch Sicily FROMMEMBER Palermo BYBOX 1 x km",
		"geosearch Sicily FROMMEMBER Palermo BYBOX 1 1 yd", "geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km STORE x",
		"geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km STOREDIST", "geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km ANY",
		"geosearchstore dst4 Sicily FROMMEMBER Palermo BYRADIUS 200 km", "zrange dst4 0 -1 withscores",
		"geosearchstore dst5 Sicily FROMMEMBER Palermo BYRADIUS 200 km STOREDIST DESC COUNT 1", "zrange dst5 0 -1 withscores",
		"geosearchstore dst5 Sicily FROMMEMBER Palermo BYRADIUS 200 km WITHDIST", "geosearchstore dst5 nokey FROMMEMBER Palermo BYRADIUS 200 km", "exists dst5",
		"geosearch Sicily FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST", "geosearch Sicily FROMLONLAT 179.9 85 BYRADIUS 5000 km WITHDIST",
		"geosearch Sicily FROMLONLAT -179.9 -85 BYBOX 20000 20000 km WITHDIST", "geosearch Sicily FROMLONLAT 0 0 BYRADIUS 30000 km ASC WITHDIST",
		"geosearch Sicily FROMLONLAT 0 0 BYRADIUS 30000 km ASC COUNT 2 ANY",
	)...)
	// Random points and searches of every size: the same members, order,
	// distances and coordinates.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		p.both(t, "geoadd", "pts", fmt.Sprint(rng.Float64()*360-180), fmt.Sprint(rng.Float64()*170-85), fmt.Sprintf("p%d", i))
	}
	for i := range 300 {
		long, lat := fmt.Sprint(rng.Float64()*360-180), fmt.Sprint(rng.Float64()*170-85)
		r := fmt.Sprint(rng.Float64() * 3000)
		w, h := fmt.Sprint(rng.Float64()*5000), fmt.Sprint(rng.Float64()*3000)
		p.same(t,
			[]string{"geosearch", "pts", "FROMLONLAT", long, lat, "BYRADIUS", r, "km", "ASC", "WITHDIST", "WITHCOORD", "WITHHASH"},
			[]string{"geosearch", "pts", "FROMLONLAT", long, lat, "BYBOX", w, h, "km", "DESC", "WITHDIST"},
			[]string{"georadius", "pts", long, lat, r, "mi", "WITHDIST"},
			[]string{"geosearch", "pts", "FROMMEMBER", fmt.Sprintf("p%d", i), "BYRADIUS", r, "km", "WITHDIST", "COUNT", "5"},
			[]string{"geodist", "pts", fmt.Sprintf("p%d", i), fmt.Sprintf("p%d", i+1), "km"},
			[]string{"geopos", "pts", fmt.Sprintf("p%d", i)},
			[]string{"geohash", "pts", fmt.Sprintf("p%d", i)},
		)
		if t.Failed() {
			t.FailNow()
		}
	}
	// RESP3 coordinates are doubles.
	p.both(t, "hello", "3")
	p.same(t, cmds("geopos Sicily Palermo nosuch", "geosearch Sicily FROMMEMBER Palermo BYRADIUS 200 km WITHCOORD WITHDIST")...)
}

// GEOADD propagates as the ZADD it becomes; a search with STORE as sent.
func TestGeoPropagation(t *testing.T) {
	s, addr := startServer(t, "save", "")
	feed := captureWrites(s, false)
	c := dialResp(t, addr)
	for _, args := range cmds("geoadd g 13.361389 38.115556 Palermo", "geoadd g NX CH 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
		"georadius g 15 37 200 km STORE d", "geosearch g FROMMEMBER Palermo BYRADIUS 1 km", "geosearchstore d2 g FROMMEMBER Palermo BYRADIUS 1 km") {
		c.mustDo(t, args...)
	}
	want := []string{"zadd g 3479099956230698 Palermo", "zadd g NX CH 3479099956230698 Palermo 3479447370796909 Catania",
		"georadius g 15 37 200 km STORE d", "geosearchstore d2 g FROMMEMBER Palermo BYRADIUS 1 km"}
	if got := feed.take(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("propagated\n %q\nwant\n %q", got, want)
	}
}
