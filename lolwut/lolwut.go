// Package lolwut draws LOLWUT's computer art as Redis does: version 5 is
// Georg Nees's "Schotter" rendered in braille characters.
package lolwut

import (
	"math"
	"math/rand/v2"
	"strings"
)

type canvas struct {
	w, h   int
	pixels []bool
}

func (c *canvas) set(x, y int) {
	if x < 0 || x >= c.w || y < 0 || y >= c.h {
		return
	}
	c.pixels[x+y*c.w] = true
}

func (c *canvas) get(x, y int) bool {
	if x < 0 || x >= c.w || y < 0 || y >= c.h {
		return false
	}
	return c.pixels[x+y*c.w]
}

// line is Bresenham's, as lwDrawLine.
func (c *canvas) line(x1, y1, x2, y2 int) {
	dx, dy := abs(x2-x1), abs(y2-y1)
	sx, sy := 1, 1
	if x1 >= x2 {
		sx = -1
	}
	if y1 >= y2 {
		sy = -1
	}
	err := dx - dy
	for {
		c.set(x1, y1)
		if x1 == x2 && y1 == y2 {
			return
		}
		e2 := err * 2
		if e2 > -dy {
			err -= dy
			x1 += sx
		}
		if e2 < dx {
			err += dx
			y1 += sy
		}
	}
}

func (c *canvas) square(x, y int, size, angle float32) {
	size = float32(math.Round(float64(size / 1.4142135623)))
	k := float32(math.Pi/4) + angle
	var px, py [4]int
	for j := range 4 {
		px[j] = int(math.Round(math.Sin(float64(k))*float64(size) + float64(x)))
		py[j] = int(math.Round(math.Cos(float64(k))*float64(size) + float64(y)))
		k += math.Pi / 2
	}
	for j := range 4 {
		c.line(px[j], py[j], px[(j+1)%4], py[(j+1)%4])
	}
}

// Schotter draws lwDrawSchotter's squares (rows below the second are
// rotated and shifted at random, more so further down) and renders them
// as renderCanvas does: 2x4 pixels per braille character.
func Schotter(cols, perRow, perCol int) string {
	width := cols * 2
	padding := 0
	if width > 4 {
		padding = 2
	}
	side := float32(width-padding*2) / float32(perRow)
	height := int(side*float32(perCol) + float32(padding*2))
	c := &canvas{w: width, h: height, pixels: make([]bool, width*height)}
	for y := range perCol {
		for x := range perRow {
			sx := int(float32(x)*side + side/2 + float32(padding))
			sy := int(float32(y)*side + side/2 + float32(padding))
			var angle float32
			if y > 1 {
				r := func() float32 { return rand.Float32() / float32(perCol) * float32(y) }
				r1, r2, r3 := r(), r(), r()
				if rand.IntN(2) == 1 {
					r1 = -r1
				}
				if rand.IntN(2) == 1 {
					r2 = -r2
				}
				if rand.IntN(2) == 1 {
					r3 = -r3
				}
				angle = r1
				// C adds a float to an int: the sum is truncated.
				sx = int(float32(sx) + r2*side/3)
				sy = int(float32(sy) + r3*side/3)
			}
			c.square(sx, sy, side, angle)
		}
	}
	var b strings.Builder
	for y := 0; y < c.h; y += 4 {
		for x := 0; x < c.w; x += 2 {
			bits := 0
			for i, p := range [8][2]int{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}} {
				if c.get(x+p[0], y+p[1]) {
					bits |= 1 << i
				}
			}
			b.WriteRune(rune(0x2800 + bits))
		}
		if y != c.h-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
