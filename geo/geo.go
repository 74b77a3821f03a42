// Package geo is Redis's geohash arithmetic: the 52-bit interleaved
// geohash used as a sorted-set score, the neighbour boxes a radius or box
// search scans, and the distance formula, all as Redis 7.0's geohash.c and
// geohash_helper.c compute them, so searches find the same members and
// print the same numbers.
package geo

import (
	"math"
	"strconv"
	"strings"
)

const (
	LatMin  = -85.05112878
	LatMax  = 85.05112878
	LongMin = -180.0
	LongMax = 180.0
	StepMax = 26 // 52 bits

	earthRadius = 6372797.560856
	mercatorMax = 20037726.37
	dr          = math.Pi / 180.0
)

// Bits is a geohash of step*2 bits.
type Bits struct {
	Bits uint64
	Step uint8
}

func (b Bits) zero() bool { return b.Bits == 0 && b.Step == 0 }

// Range is a coordinate interval.
type Range struct{ Min, Max float64 }

// Area is the cell a geohash names.
type Area struct {
	Hash      Bits
	Long, Lat Range
}

var (
	longRange = Range{LongMin, LongMax}
	latRange  = Range{LatMin, LatMax}
)

func interleave64(xlo, ylo uint32) uint64 {
	B := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	S := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | x<<S[i]) & B[i]
		y = (y | y<<S[i]) & B[i]
	}
	return x | y<<1
}

func deinterleave64(v uint64) uint64 {
	B := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	S := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := v, v>>1
	for i := range 6 {
		x = (x | x>>S[i]) & B[i]
		y = (y | y>>S[i]) & B[i]
	}
	return x | y<<32
}

// encode is geohashEncode: ok=false outside the supported coordinates.
func encode(lr, ar Range, long, lat float64, step uint8) (Bits, bool) {
	if step > 32 || step == 0 || lr.Min == 0 && lr.Max == 0 || ar.Min == 0 && ar.Max == 0 {
		return Bits{}, false
	}
	if long > 180 || long < -180 || lat > 85.05112878 || lat < -85.05112878 {
		return Bits{}, false
	}
	if lat < ar.Min || lat > ar.Max || long < lr.Min || long > lr.Max {
		return Bits{}, false
	}
	latOff := (lat - ar.Min) / (ar.Max - ar.Min)
	longOff := (long - lr.Min) / (lr.Max - lr.Min)
	latOff *= float64(uint64(1) << step)
	longOff *= float64(uint64(1) << step)
	return Bits{interleave64(uint32(latOff), uint32(longOff)), step}, true
}

// Encode returns the 52-bit score of a point (GEOADD); ok=false outside
// the supported coordinates.
func Encode(long, lat float64) (uint64, bool) {
	h, ok := encode(longRange, latRange, long, lat, StepMax)
	return align52(h), ok
}

func align52(h Bits) uint64 { return h.Bits << (52 - uint(h.Step)*2) }

func decode(lr, ar Range, h Bits) Area {
	sep := deinterleave64(h.Bits)
	lato, longo := float64(uint32(sep)), float64(uint32(sep>>32))
	steps := float64(uint64(1) << h.Step)
	latScale, longScale := ar.Max-ar.Min, lr.Max-lr.Min
	return Area{Hash: h,
		Lat:  Range{ar.Min + lato*1.0/steps*latScale, ar.Min + (lato+1)*1.0/steps*latScale},
		Long: Range{lr.Min + longo*1.0/steps*longScale, lr.Min + (longo+1)*1.0/steps*longScale}}
}

// Decode returns the centre of the cell a score names (GEOPOS).
func Decode(score float64) (long, lat float64) {
	return decodeBits(Bits{uint64(score), StepMax}, longRange, latRange)
}

func decodeBits(h Bits, lr, ar Range) (float64, float64) {
	a := decode(lr, ar, h)
	long := (a.Long.Min + a.Long.Max) / 2
	long = min(max(long, LongMin), LongMax)
	lat := (a.Lat.Min + a.Lat.Max) / 2
	lat = min(max(lat, LatMin), LatMax)
	return long, lat
}

// Hash returns the standard 11-character geohash of a score (GEOHASH):
// decoded, then re-encoded with the standard latitude range ±90.
func Hash(score float64) string {
	long, lat := Decode(score)
	h, _ := encode(Range{-180, 180}, Range{-90, 90}, long, lat, StepMax)
	const alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
	var buf [11]byte
	for i := range buf {
		idx := 0
		if i < 10 {
			idx = int(h.Bits >> (52 - (i+1)*5) & 0x1f)
		}
		buf[i] = alphabet[idx]
	}
	return string(buf[:])
}

func degRad(a float64) float64 { return a * dr }
func radDeg(a float64) float64 { return a / dr }

func latDistance(lat1, lat2 float64) float64 {
	return earthRadius * math.Abs(degRad(lat2)-degRad(lat1))
}

// Distance is Redis's haversine distance in meters, with correctly
// rounded trigonometry as glibc's (so the last bit is Redis's too). It is
// slow (microseconds): searches filter with FastDistance and call it only
// where the last bit can matter.
func Distance(lon1, lat1, lon2, lat2 float64) float64 {
	return distance(lon1, lat1, lon2, lat2, sin, cos, asin)
}

// FastDistance is Distance with Go's math functions: within a few units in
// the last place of it.
func FastDistance(lon1, lat1, lon2, lat2 float64) float64 {
	return distance(lon1, lat1, lon2, lat2, math.Sin, math.Cos, math.Asin)
}

func distance(lon1, lat1, lon2, lat2 float64, sin, cos, asin func(float64) float64) float64 {
	lon1r, lon2r := degRad(lon1), degRad(lon2)
	v := sin((lon2r - lon1r) / 2)
	if v == 0 {
		return latDistance(lat1, lat2)
	}
	lat1r, lat2r := degRad(lat1), degRad(lat2)
	u := sin((lat2r - lat1r) / 2)
	a := u*u + cos(lat1r)*cos(lat2r)*v*v
	return 2.0 * earthRadius * asin(math.Sqrt(a))
}

// nearLimit reports whether a fast distance d is near enough to limit that the
// fast and the exact computation could decide differently.
func nearLimit(d, limit float64) bool { return math.Abs(d-limit) <= 1e-12*math.Abs(limit)+1e-9 }

// NearHalfway reports whether d printed with 4 decimals is so close to a
// rounding boundary that the exact distance must be printed instead of a
// fast one.
func NearHalfway(d float64) bool {
	x := math.Abs(d) * 1e4
	frac := x - math.Floor(x)
	return math.Abs(frac-0.5) < 1e-6
}

// Shape is a search area: a circle (Radius) or a box (Width, Height),
// in the unit of Conversion meters, centred on Long, Lat.
type Shape struct {
	Long, Lat     float64
	Box           bool
	Radius        float64
	Width, Height float64
	Conversion    float64
}

// Within reports whether the point is inside the shape and its distance
// from the centre in meters; exact tells whether that distance is the
// exact one (Distance) or a fast one (FastDistance). The decision is always
// the exact computation's.
func (s *Shape) Within(long, lat float64) (d float64, in, exact bool) {
	if !s.Box {
		limit := s.Radius * s.Conversion
		d = FastDistance(s.Long, s.Lat, long, lat)
		if nearLimit(d, limit) {
			d, exact = Distance(s.Long, s.Lat, long, lat), true
		}
		return d, d <= limit, exact
	}
	w, h := s.Width*s.Conversion, s.Height*s.Conversion
	if latDistance(lat, s.Lat) > h/2 {
		return 0, false, false
	}
	lon := FastDistance(long, lat, s.Long, lat)
	if nearLimit(lon, w/2) {
		lon = Distance(long, lat, s.Long, lat)
	}
	if lon > w/2 {
		return 0, false, false
	}
	return FastDistance(s.Long, s.Lat, long, lat), true, false
}

func stepsByRadius(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), 26))
}

func (s *Shape) boundingBox() (minLon, minLat, maxLon, maxLat float64) {
	height, width := s.Conversion*s.Radius, s.Conversion*s.Radius
	if s.Box {
		height, width = s.Conversion*(s.Height/2), s.Conversion*(s.Width/2)
	}
	latDelta := radDeg(height / earthRadius)
	top := radDeg(width / earthRadius / cos(degRad(s.Lat+latDelta)))
	bottom := radDeg(width / earthRadius / cos(degRad(s.Lat-latDelta)))
	if s.Lat < 0 {
		return s.Long - bottom, s.Lat - latDelta, s.Long + bottom, s.Lat + latDelta
	}
	return s.Long - top, s.Lat - latDelta, s.Long + top, s.Lat + latDelta
}

// A hash interleaves the coordinates: longitude (x) in the odd bits,
// latitude (y) in the even ones.
const (
	xBits uint64 = 0xaaaaaaaaaaaaaaaa
	yBits uint64 = 0x5555555555555555
)

func moveX(h *Bits, d int) { move(h, d, xBits) }
func moveY(h *Bits, d int) { move(h, d, yBits) }

// move steps the coordinate in mask's bits one cell up (d > 0) or down, as
// Redis's geohash_move_x and geohash_move_y do: the other coordinate's bits
// are filled with ones so the carry or borrow runs through them.
func move(h *Bits, d int, mask uint64) {
	shift := 64 - uint(h.Step)*2
	v := h.Bits & mask
	zz := ^mask >> shift
	if d > 0 {
		v += zz + 1
	} else {
		v |= zz
		v -= zz + 1
	}
	v &= mask >> shift
	h.Bits = v | h.Bits&^mask
}

// ScoreRange is a [Min, Max) interval of scores to scan.
type ScoreRange struct{ Min, Max uint64 }

// Boxes returns the score ranges a search of s scans, in Redis's order
// (centre, N, S, E, W, NE, NW, SE, SW), skipping excluded neighbours and a
// box equal to the one scanned just before (Redis's quirks included).
func (s *Shape) Boxes() []ScoreRange {
	minLon, minLat, maxLon, maxLat := s.boundingBox()
	radius := s.Radius
	if s.Box {
		radius = math.Sqrt((s.Width/2)*(s.Width/2) + (s.Height/2)*(s.Height/2))
	}
	radius *= s.Conversion
	steps := stepsByRadius(radius, s.Lat)
	hash, _ := encode(longRange, latRange, s.Long, s.Lat, steps)
	nb := neighbors(hash)
	area := decode(longRange, latRange, hash)
	north, south := decode(longRange, latRange, nb[1]), decode(longRange, latRange, nb[2])
	east, west := decode(longRange, latRange, nb[3]), decode(longRange, latRange, nb[4])
	if steps > 1 && (north.Lat.Max < maxLat || south.Lat.Min > minLat || east.Long.Max < maxLon || west.Long.Min > minLon) {
		steps--
		hash, _ = encode(longRange, latRange, s.Long, s.Lat, steps)
		nb = neighbors(hash)
		area = decode(longRange, latRange, hash)
	}
	if steps >= 2 {
		if area.Lat.Min < minLat {
			nb[2], nb[8], nb[7] = Bits{}, Bits{}, Bits{}
		}
		if area.Lat.Max > maxLat {
			nb[1], nb[5], nb[6] = Bits{}, Bits{}, Bits{}
		}
		if area.Long.Min < minLon {
			nb[4], nb[8], nb[6] = Bits{}, Bits{}, Bits{}
		}
		if area.Long.Max > maxLon {
			nb[3], nb[7], nb[5] = Bits{}, Bits{}, Bits{}
		}
	}
	var out []ScoreRange
	last := 0
	for i, b := range nb {
		if b.zero() {
			continue
		}
		if last != 0 && b == nb[last] {
			continue
		}
		next := b
		next.Bits++
		out = append(out, ScoreRange{align52(b), align52(next)})
		last = i
	}
	return out
}

// neighbors returns the hash and its eight neighbours in Redis's order.
func neighbors(h Bits) [9]Bits {
	var n [9]Bits
	for i := range n {
		n[i] = h
	}
	moveY(&n[1], 1)  // north
	moveY(&n[2], -1) // south
	moveX(&n[3], 1)  // east
	moveX(&n[4], -1) // west
	moveX(&n[5], 1)  // north east
	moveY(&n[5], 1)
	moveX(&n[6], -1) // north west
	moveY(&n[6], 1)
	moveX(&n[7], 1) // south east
	moveY(&n[7], -1)
	moveX(&n[8], -1) // south west
	moveY(&n[8], -1)
	return n
}

// Unit returns the meters of a unit name (m, km, ft, mi), or false.
func Unit(u string) (float64, bool) {
	switch strings.ToLower(u) {
	case "m":
		return 1, true
	case "km":
		return 1000, true
	case "ft":
		return 0.3048, true
	case "mi":
		return 1609.34, true
	}
	return 0, false
}

// FormatDistance formats a distance as Redis does (%.4f).
func FormatDistance(d float64) string { return strconv.FormatFloat(d, 'f', 4, 64) }

// FormatCoord formats a coordinate as Redis's addReplyHumanLongDouble
// (%.17Lf without trailing zeros).
func FormatCoord(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'f', 17, 64)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// FormatPair formats a coordinate for an error text (%f).
func FormatPair(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}
