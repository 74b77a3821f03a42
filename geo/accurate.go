package geo

import "math"

// Redis computes distances with glibc's sin, cos and asin, which round
// correctly (or within a hair of it); Go's math functions can be one unit
// in the last place off, which shows in STOREDIST scores and at radius
// edges. These evaluate in double-double precision and round once.

type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p)
	e += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p, e)
}

func ddDivF(a dd, b float64) dd {
	q1 := a.hi / b
	// r = a - q1*b
	p := q1 * b
	e := math.FMA(q1, b, -p)
	r := ddAdd(a, dd{-p, -e})
	q2 := r.hi / b
	return quickTwoSum(q1, q2)
}

var (
	ddPi     = dd{3.141592653589793, 1.2246467991473532e-16}
	ddHalfPi = dd{1.5707963267948966, 6.123233995736766e-17}
)

// sinSeries and cosSeries are the Taylor series for |x| <= pi/2.
func sinSeries(x dd) dd {
	x2 := ddMul(x, x)
	term, sum := x, x
	for n := 2; n < 60; n += 2 {
		term = ddDivF(ddMul(term, x2), -float64(n*(n+1)))
		sum = ddAdd(sum, term)
		if math.Abs(term.hi) < 1e-40 {
			break
		}
	}
	return sum
}

func cosSeries(x dd) dd {
	x2 := ddMul(x, x)
	term, sum := dd{1, 0}, dd{1, 0}
	for n := 1; n < 60; n += 2 {
		term = ddDivF(ddMul(term, x2), -float64(n*(n+1)))
		sum = ddAdd(sum, term)
		if math.Abs(term.hi) < 1e-40 {
			break
		}
	}
	return sum
}

func ddSin(x float64) dd {
	switch {
	case math.Abs(x) <= ddHalfPi.hi:
		return sinSeries(dd{x, 0})
	case x > 0 && x <= ddPi.hi:
		return sinSeries(ddAdd(ddPi, dd{-x, 0})) // sin(pi-x)
	case x < 0 && x >= -ddPi.hi:
		s := sinSeries(ddAdd(ddPi, dd{x, 0})) // -sin(pi+x)
		return dd{-s.hi, -s.lo}
	}
	return dd{math.Sin(x), 0}
}

func ddCos(x float64) dd {
	ax := math.Abs(x)
	switch {
	case ax <= ddHalfPi.hi:
		return cosSeries(dd{ax, 0})
	case ax <= ddPi.hi:
		c := cosSeries(ddAdd(ddPi, dd{-ax, 0})) // -cos(pi-x)
		return dd{-c.hi, -c.lo}
	}
	return dd{math.Cos(x), 0}
}

func sin(x float64) float64 { return ddSin(x).hi }
func cos(x float64) float64 { return ddCos(x).hi }

// asin refines Go's asin by one Newton step on sin in double-double.
func asin(s float64) float64 {
	y := math.Asin(s)
	if math.IsNaN(y) || s == 0 || math.Abs(s) >= 1 {
		return y
	}
	c := ddCos(y).hi
	if c == 0 {
		return y
	}
	diff := ddAdd(ddSin(y), dd{-s, 0})
	delta := diff.hi / c
	return ddAdd(dd{y, 0}, dd{-delta, 0}).hi
}
