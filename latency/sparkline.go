package latency

import "strings"

const graphCols = 80 // LATENCY_GRAPH_COLS

type spark struct {
	value float64
	label string
}

// renderSparkline is Redis's sparklineRender with SPARKLINE_FILL: rows of
// "_o#|" characters scaled between lo and hi, then each sample's label
// written vertically under it, in chunks of cols samples.
func renderSparkline(b *strings.Builder, seq []spark, lo, hi float64, cols, rows int) {
	for j := 0; j < len(seq); j += cols {
		if j != 0 {
			b.WriteByte('\n')
		}
		renderRange(b, seq[j:min(j+cols, len(seq))], lo, hi, rows)
	}
}

func renderRange(b *strings.Builder, seq []spark, lo, hi float64, rows int) {
	const fill = "_o#"
	const labelMarginTop = 1
	relmax := hi - lo
	if relmax == 0 {
		relmax = 1
	}
	steps := len(fill) * rows
	chars := make([]byte, len(seq))
	for row := 0; ; row++ {
		loop := false
		for j := range chars {
			chars[j] = ' '
		}
		for j, s := range seq {
			step := int(float64(int((s.value-lo)*float64(steps))) / relmax)
			step = min(max(step, 0), steps-1)
			if row < rows {
				loop = true
				idx := step - (rows-row-1)*len(fill)
				switch {
				case idx >= 0 && idx < len(fill):
					chars[j] = fill[idx]
				case idx >= len(fill):
					chars[j] = '|'
				}
				continue
			}
			if row-rows < labelMarginTop {
				loop = true
				break
			}
			if lc := row - rows - labelMarginTop; len(s.label) > lc {
				loop = true
				chars[j] = s.label[lc]
			}
		}
		if !loop {
			return
		}
		b.Write(chars)
		b.WriteByte('\n')
	}
}
