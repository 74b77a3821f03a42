package node

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/wardenkv/warden/geo"
	"github.com/wardenkv/warden/keyspace"
)

func registerGeo(t table) {
	const g = "geo"
	wd := fWrite | fDenyOOM
	t.add(
		&Command{Name: "geoadd", Arity: -5, Flags: wd, FirstKey: 1, Run: cmdGeoAdd, Group: g},
		&Command{Name: "geodist", Arity: -4, Flags: fReadonly, FirstKey: 1, Run: cmdGeoDist, Group: g},
		&Command{Name: "geohash", Arity: -2, Flags: fReadonly, FirstKey: 1, Run: cmdGeoHash, Group: g},
		&Command{Name: "geopos", Arity: -2, Flags: fReadonly, FirstKey: 1, Run: cmdGeoPos, Group: g},
		&Command{Name: "georadius", Arity: -6, Flags: wd, FirstKey: 1, KeyFn: geoStoreKeys(6), Run: func(c *Ctx) { geoSearch(c, 1, geoCoords) }, Group: g},
		&Command{Name: "georadius_ro", Arity: -6, Flags: fReadonly, FirstKey: 1, Run: func(c *Ctx) { geoSearch(c, 1, geoCoords|geoNoStore) }, Group: g},
		&Command{Name: "georadiusbymember", Arity: -5, Flags: wd, FirstKey: 1, KeyFn: geoStoreKeys(5), Run: func(c *Ctx) { geoSearch(c, 1, geoMember) }, Group: g},
		&Command{Name: "georadiusbymember_ro", Arity: -5, Flags: fReadonly, FirstKey: 1, Run: func(c *Ctx) { geoSearch(c, 1, geoMember|geoNoStore) }, Group: g},
		&Command{Name: "geosearch", Arity: -7, Flags: fReadonly, FirstKey: 1, Run: func(c *Ctx) { geoSearch(c, 1, geoSearchCmd) }, Group: g},
		&Command{Name: "geosearchstore", Arity: -8, Flags: wd, FirstKey: 1, LastKey: 2, Run: func(c *Ctx) { geoSearch(c, 2, geoSearchCmd|geoSearchStore) }, Group: g},
	)
}

// geoStoreKeys returns the keys of GEORADIUS[BYMEMBER] as Redis 7.0's key
// specs find them: the source, then the key after the first STORE and the
// one after the first STOREDIST, searched from the options' start.
func geoStoreKeys(from int) func(args [][]byte) [][]byte {
	return func(args [][]byte) [][]byte {
		if len(args) < 2 {
			return nil
		}
		keys := [][]byte{args[1]}
		for _, kw := range []string{"store", "storedist"} {
			for i := from; i+1 < len(args); i++ {
				if eq(args[i], kw) {
					keys = append(keys, args[i+1])
					break
				}
			}
		}
		return keys
	}
}

// geoLongLat parses a longitude, latitude pair as extractLongLatOrReply.
func (c *Ctx) geoLongLat(a, b []byte) (float64, float64, bool) {
	long, ok := c.ParseFloat(a)
	if !ok {
		return 0, 0, false
	}
	lat, ok := c.ParseFloat(b)
	if !ok {
		return 0, 0, false
	}
	if long < geo.LongMin || long > geo.LongMax || lat < geo.LatMin || lat > geo.LatMax {
		c.Err("ERR invalid longitude,latitude pair " + geo.FormatPair(long) + "," + geo.FormatPair(lat))
		return 0, 0, false
	}
	return long, lat, true
}

func (c *Ctx) geoUnit(b []byte) (float64, bool) {
	u, ok := geo.Unit(string(b))
	if !ok {
		c.Err("ERR unsupported unit provided. please use M, KM, FT, MI")
	}
	return u, ok
}

// geoFloat parses a float, replying msg (Redis's custom texts) on failure.
func (c *Ctx) geoFloat(b []byte, msg string) (float64, bool) {
	f, ok := parseFloat(b)
	if !ok {
		c.Err(msg)
	}
	return f, ok
}

func (c *Ctx) geoDistanceArg(args [][]byte, s *geo.Shape) bool {
	r, ok := c.geoFloat(args[0], "ERR need numeric radius")
	if !ok {
		return false
	}
	if r < 0 {
		c.Err("ERR radius cannot be negative")
		return false
	}
	u, ok := c.geoUnit(args[1])
	if !ok {
		return false
	}
	s.Radius, s.Conversion, s.Box = r, u, false
	return true
}

func cmdGeoAdd(c *Ctx) {
	longIdx := 2
	var nx, xx bool
opts:
	for ; longIdx < len(c.Args); longIdx++ {
		switch a := c.Args[longIdx]; {
		case eq(a, "nx"):
			nx = true
		case eq(a, "xx"):
			xx = true
		case eq(a, "ch"):
		default:
			break opts
		}
	}
	if (len(c.Args)-longIdx)%3 != 0 || (xx && nx) {
		c.Err(errSyntax)
		return
	}
	// GEOADD is ZADD with the encoded scores: Redis rewrites the command
	// and propagates that ZADD.
	n := (len(c.Args) - longIdx) / 3
	argv := make([][]byte, 0, longIdx+2*n)
	argv = append(argv, []byte("zadd"))
	argv = append(argv, c.Args[1:longIdx]...)
	for i := range n {
		a := c.Args[longIdx+3*i:]
		long, lat, ok := c.geoLongLat(a[0], a[1])
		if !ok {
			return
		}
		score, _ := geo.Encode(long, lat)
		argv = append(argv, strconv.AppendUint(nil, score, 10), a[2])
	}
	c.Args = argv
	zaddGeneric(c, false)
}

// geoScore returns a member's score; ok=false when z or the member is
// missing.
func geoScore(z *keyspace.ZSet, member []byte) (float64, bool) {
	if z == nil {
		return 0, false
	}
	return z.ScoreOf(member)
}

func cmdGeoDist(c *Ctx) {
	toMeter := 1.0
	if len(c.Args) == 5 {
		u, ok := c.geoUnit(c.Args[4])
		if !ok {
			return
		}
		toMeter = u
	} else if len(c.Args) > 5 {
		c.Err(errSyntax)
		return
	}
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	s1, ok1 := geoScore(z, c.Args[2])
	s2, ok2 := geoScore(z, c.Args[3])
	if !ok1 || !ok2 {
		c.Null()
		return
	}
	lon1, lat1 := geo.Decode(s1)
	lon2, lat2 := geo.Decode(s2)
	d := geo.FastDistance(lon1, lat1, lon2, lat2) / toMeter
	if geo.NearHalfway(d) {
		d = geo.Distance(lon1, lat1, lon2, lat2) / toMeter
	}
	c.BulkString(geo.FormatDistance(d))
}

func cmdGeoHash(c *Ctx) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		s, ok := geoScore(z, m)
		if !ok {
			c.Null()
			continue
		}
		c.BulkString(geo.Hash(s))
	}
}

// geoCoord writes a coordinate as addReplyHumanLongDouble: a bulk string
// in RESP2, a double in RESP3.
func (c *Ctx) geoCoord(f float64) {
	s := geo.FormatCoord(f)
	if c.resp3() {
		c.conn.WriteRaw([]byte("," + s + "\r\n"))
		return
	}
	c.BulkString(s)
}

func cmdGeoPos(c *Ctx) {
	z, ok := c.zsetRead(c.Args[1])
	if !ok {
		return
	}
	c.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		s, ok := geoScore(z, m)
		if !ok {
			c.NullArray()
			continue
		}
		long, lat := geo.Decode(s)
		c.Array(2)
		c.geoCoord(long)
		c.geoCoord(lat)
	}
}

const (
	geoCoords = 1 << iota
	geoMember
	geoNoStore
	geoSearchCmd
	geoSearchStore
)

type geoPoint struct {
	member    string
	score     float64
	dist      float64 // meters, fast unless exact
	exact     bool
	long, lat float64
}

// exactDist returns the point's exact distance from the shape's centre
// (Redis's last bit), computing it once.
func (p *geoPoint) exactDist(s *geo.Shape) float64 {
	if !p.exact {
		p.dist, p.exact = geo.Distance(s.Long, s.Lat, p.long, p.lat), true
	}
	return p.dist
}

// geoSearch is Redis's georadiusGeneric: GEORADIUS[BYMEMBER][_RO],
// GEOSEARCH and GEOSEARCHSTORE.
func geoSearch(c *Ctx, srcIdx int, flags int) {
	z, ok := c.zsetRead(c.Args[srcIdx])
	if !ok {
		return
	}
	var shape geo.Shape
	var storeKey []byte
	storeDist := false
	base := 0
	switch {
	case flags&geoCoords != 0:
		base = 6
		long, lat, ok := c.geoLongLat(c.Args[2], c.Args[3])
		if !ok {
			return
		}
		shape.Long, shape.Lat = long, lat
		if !c.geoDistanceArg(c.Args[4:6], &shape) {
			return
		}
	case flags&geoMember != 0 && z == nil:
		base = 5
	case flags&geoMember != 0:
		base = 5
		s, ok := z.ScoreOf(c.Args[2])
		if !ok {
			c.Err("ERR could not decode requested zset member")
			return
		}
		shape.Long, shape.Lat = geo.Decode(s)
		if !c.geoDistanceArg(c.Args[3:5], &shape) {
			return
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			storeKey = c.Args[1]
		}
	}
	var withDist, withHash, withCoord, any, fromMember, fromLoc, byRadius, byBox bool
	sortDir := 0 // 1 ASC, -1 DESC
	var count int64
	rest := c.Args[base:]
	search := flags&geoSearchCmd != 0
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		more := len(rest) - i - 1
		switch {
		case eq(a, "withdist"):
			withDist = true
		case eq(a, "withhash"):
			withHash = true
		case eq(a, "withcoord"):
			withCoord = true
		case eq(a, "any"):
			any = true
		case eq(a, "asc"):
			sortDir = 1
		case eq(a, "desc"):
			sortDir = -1
		case eq(a, "count") && more >= 1:
			n, ok := c.ParseInt(rest[i+1])
			if !ok {
				return
			}
			if n <= 0 {
				c.Err("ERR COUNT must be > 0")
				return
			}
			count = n
			i++
		case (eq(a, "store") || eq(a, "storedist")) && more >= 1 && flags&geoNoStore == 0 && !search:
			storeKey, storeDist = rest[i+1], eq(a, "storedist")
			i++
		case eq(a, "storedist") && search && flags&geoSearchStore != 0:
			storeDist = true
		case eq(a, "frommember") && more >= 1 && search && !fromLoc:
			if z != nil {
				s, ok := z.ScoreOf(rest[i+1])
				if !ok {
					c.Err("ERR could not decode requested zset member")
					return
				}
				shape.Long, shape.Lat = geo.Decode(s)
			}
			fromMember = true
			i++
		case eq(a, "fromlonlat") && more >= 2 && search && !fromMember:
			long, lat, ok := c.geoLongLat(rest[i+1], rest[i+2])
			if !ok {
				return
			}
			shape.Long, shape.Lat = long, lat
			fromLoc = true
			i += 2
		case eq(a, "byradius") && more >= 2 && search && !byBox:
			if !c.geoDistanceArg(rest[i+1:i+3], &shape) {
				return
			}
			byRadius = true
			i += 2
		case eq(a, "bybox") && more >= 3 && search && !byRadius:
			w, ok := c.geoFloat(rest[i+1], "ERR need numeric width")
			if !ok {
				return
			}
			h, ok := c.geoFloat(rest[i+2], "ERR need numeric height")
			if !ok {
				return
			}
			if h < 0 || w < 0 {
				c.Err("ERR height or width cannot be negative")
				return
			}
			u, ok := c.geoUnit(rest[i+3])
			if !ok {
				return
			}
			shape.Width, shape.Height, shape.Conversion, shape.Box = w, h, u, true
			byBox = true
			i += 3
		default:
			c.Err(errSyntax)
			return
		}
	}
	if storeKey != nil && (withDist || withHash || withCoord) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		c.Err("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if search && !(fromMember || fromLoc) {
		c.Err(fmt.Sprintf("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s", c.Args[0]))
		return
	}
	if search && !(byRadius || byBox) {
		c.Err(fmt.Sprintf("ERR exactly one of BYRADIUS and BYBOX can be specified for %s", c.Args[0]))
		return
	}
	if any && count == 0 {
		c.Err("ERR the ANY argument requires COUNT argument")
		return
	}
	if z == nil {
		if storeKey != nil {
			c.zsetStoreEmpty(storeKey)
			return
		}
		c.Array(0)
		return
	}
	if count != 0 && sortDir == 0 && !any {
		sortDir = 1
	}
	limit := 0
	if any {
		limit = int(min(count, int64(z.Len())+1))
	}
	var pts []geoPoint
scan:
	for _, r := range shape.Boxes() {
		if len(pts) > 0 && limit > 0 && len(pts) >= limit {
			break
		}
		first, n := z.ScoreSpan(keyspace.ScoreRange{Min: float64(r.Min), Max: float64(r.Max), MaxEx: true})
		it := z.IterAt(first, false)
		for j := 0; j < n && it.Valid(); j++ {
			long, lat := geo.Decode(it.Score())
			if d, in, exact := shape.Within(long, lat); in {
				pts = append(pts, geoPoint{member: it.Member(), score: it.Score(), dist: d, exact: exact, long: long, lat: lat})
				if limit > 0 && len(pts) >= limit {
					continue scan
				}
			}
			it.Next()
		}
	}
	if len(pts) == 0 && storeKey == nil {
		c.Array(0)
		return
	}
	returned := len(pts)
	if count != 0 && int64(returned) > count {
		returned = int(count)
	}
	if sortDir != 0 {
		geoSort(pts, sortDir, &shape)
	}
	pts = pts[:returned]
	if storeKey != nil {
		if returned == 0 {
			c.zsetStoreEmpty(storeKey)
			return
		}
		out := keyspace.NewZSet()
		for _, p := range pts {
			score := p.score
			if storeDist {
				score = p.exactDist(&shape) / shape.Conversion
			}
			out.Add(p.member, score)
		}
		c.zsetStore(storeKey, &keyspace.Object{Type: keyspace.TZSet, Val: out, LRU: keyspace.LRUClock()})
		return
	}
	opts := 0
	for _, b := range []bool{withDist, withCoord, withHash} {
		if b {
			opts++
		}
	}
	c.Array(returned)
	for i := range pts {
		p := &pts[i]
		if opts > 0 {
			c.Array(opts + 1)
		}
		c.BulkString(p.member)
		if withDist {
			d := p.dist / shape.Conversion
			if !p.exact && geo.NearHalfway(d) {
				d = p.exactDist(&shape) / shape.Conversion
			}
			c.BulkString(geo.FormatDistance(d))
		}
		if withHash {
			c.Int(int64(p.score))
		}
		if withCoord {
			c.Array(2)
			c.geoCoord(p.long)
			c.geoCoord(p.lat)
		}
	}
}

// geoSort orders points by distance (dir 1 ascending, -1 descending) as
// the exact distances order them: sorted by the fast ones, then the
// near-equal neighbours get their exact distance and the order is redone.
func geoSort(pts []geoPoint, dir int, s *geo.Shape) {
	less := func(a, b geoPoint) int {
		if dir < 0 {
			a, b = b, a
		}
		return cmp.Compare(a.dist, b.dist)
	}
	slices.SortStableFunc(pts, less)
	again := false
	for i := 1; i < len(pts); i++ {
		a, b := &pts[i-1], &pts[i]
		if a.exact && b.exact || math.Abs(a.dist-b.dist) > 1e-12*math.Max(math.Abs(a.dist), math.Abs(b.dist))+1e-9 {
			continue
		}
		a.exactDist(s)
		b.exactDist(s)
		again = true
	}
	if again {
		slices.SortStableFunc(pts, less)
	}
}
