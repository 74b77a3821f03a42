package geo

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The values of Redis's documentation (GEOADD, GEOHASH, GEODIST examples).
func TestRedisDocValues(t *testing.T) {
	p, ok := Encode(13.361389, 38.115556)
	if !ok || p != 3479099956230698 {
		t.Fatalf("Palermo score %d", p)
	}
	c, _ := Encode(15.087269, 37.502669)
	if c != 3479447370796909 {
		t.Fatalf("Catania score %d", c)
	}
	if h := Hash(float64(p)); h != "sqc8b49rny0" {
		t.Errorf("Palermo geohash %s", h)
	}
	if h := Hash(float64(c)); h != "sqdtr74hyu0" {
		t.Errorf("Catania geohash %s", h)
	}
	lon1, lat1 := Decode(float64(p))
	lon2, lat2 := Decode(float64(c))
	if d := FormatDistance(Distance(lon1, lat1, lon2, lat2)); d != "166274.1516" {
		t.Errorf("distance %s", d)
	}
	if s := FormatCoord(lon1); s != "13.36138933897018433" {
		t.Errorf("longitude %s", s)
	}
	if _, ok := Encode(181, 0); ok {
		t.Error("longitude 181 encoded")
	}
	if _, ok := Encode(0, 85.06); ok {
		t.Error("latitude 85.06 encoded")
	}
}

// Encode then Decode lands within the 52-bit cell of the point.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		long, lat := rng.Float64()*360-180, rng.Float64()*170-85
		s, ok := Encode(long, lat)
		if !ok {
			t.Fatalf("%v,%v not encoded", long, lat)
		}
		l2, a2 := Decode(float64(s))
		if math.Abs(l2-long) > 360.0/(1<<26) || math.Abs(a2-lat) > 171.0/(1<<26) {
			t.Fatalf("%v,%v decoded as %v,%v", long, lat, l2, a2)
		}
	}
}

// The double-double sin, cos and asin round correctly: checked against
// math/big series at 200 bits.
func TestAccurateTrig(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 300 {
		x := (rng.Float64()*2 - 1) * math.Pi
		if got, want := sin(x), bigSin(x); got != want {
			t.Errorf("sin(%v) = %v, want %v", x, got, want)
		}
		if got, want := cos(x), bigCos(x); got != want {
			t.Errorf("cos(%v) = %v, want %v", x, got, want)
		}
		s := rng.Float64() * 0.999
		// asin is checked through sin: sin(asin(s)) is closest to s among
		// asin's neighbours.
		y := asin(s)
		best := math.Abs(bigSinF(y) - s)
		for _, n := range []float64{math.Nextafter(y, 0), math.Nextafter(y, 2)} {
			if d := math.Abs(bigSinF(n) - s); d < best {
				t.Errorf("asin(%v) = %v, %v is closer", s, y, n)
			}
		}
	}
}

func bigSeries(x float64, sine bool) *big.Float {
	const prec = 200
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	x2 := new(big.Float).SetPrec(prec).Mul(bx, bx)
	term := new(big.Float).SetPrec(prec).SetFloat64(1)
	n := 0
	if sine {
		term.Set(bx)
		n = 1
	}
	sum := new(big.Float).SetPrec(prec).Set(term)
	for range 80 {
		term.Mul(term, x2)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(-(n+1)*(n+2))))
		sum.Add(sum, term)
		n += 2
	}
	return sum
}

func bigSin(x float64) float64 { f, _ := bigSeries(x, true).Float64(); return f }
func bigCos(x float64) float64 { f, _ := bigSeries(x, false).Float64(); return f }

// bigSinF is sin(y) in high precision minus nothing: the exact-ish value as
// float64 difference basis.
func bigSinF(y float64) float64 { return bigSin(y) }

// Within decides as the exact distance does, even for points exactly on
// the circle (the radius is their exact distance), and the fast distance
// stays within the margin Within relies on.
func TestWithinMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		s := Shape{Long: rng.Float64()*360 - 180, Lat: rng.Float64()*170 - 85, Conversion: 1}
		long, lat := rng.Float64()*360-180, rng.Float64()*170-85
		exact := Distance(s.Long, s.Lat, long, lat)
		fast := FastDistance(s.Long, s.Lat, long, lat)
		if math.Abs(fast-exact) > 1e-13*exact+1e-10 {
			t.Fatalf("fast %v exact %v", fast, exact)
		}
		for _, r := range []float64{exact, math.Nextafter(exact, 0), math.Nextafter(exact, math.Inf(1))} {
			s.Radius = r
			if _, in, _ := s.Within(long, lat); in != (exact <= r) {
				t.Fatalf("radius %v: in=%v, exact distance %v", r, in, exact)
			}
		}
	}
}
