// Package latency keeps Redis's latency diagnostics: per-command latency
// histograms (LATENCY HISTOGRAM, INFO latencystats) and the latency
// monitor's event series (LATENCY LATEST/HISTORY/GRAPH/DOCTOR/RESET).
package latency

import (
	"math/bits"
	"sync/atomic"
)

// The histogram is an HdrHistogram laid out as Redis 7.0 creates its
// per-command histograms (hdr_init(1, 1e9, 2)): values in nanoseconds,
// 256 sub-buckets per power of two (2 significant figures), so the
// percentiles and bucket labels it reports are the numbers Redis prints.
const (
	minValue       = 1             // CONFIG_LATENCY_HISTOGRAM_MIN_VALUE, ns
	maxValue       = 1_000_000_000 // CONFIG_LATENCY_HISTOGRAM_MAX_VALUE, ns
	subBucketCount = 256
	halfCount      = subBucketCount / 2
	halfMag        = 7
	bucketCount    = 23 // buckets until 256<<22 exceeds maxValue
	countsLen      = (bucketCount + 1) * halfCount
)

// Histogram counts durations; safe for concurrent use (atomics only).
type Histogram struct {
	counts [countsLen]atomic.Int64
	total  atomic.Int64
}

func bucketIndex(v int64) int { return bits.Len64(uint64(v)|(subBucketCount-1)) - (halfMag + 1) }

func countsIndex(v int64) int {
	b := bucketIndex(v)
	sub := int(v >> b)
	return (b+1)<<halfMag + sub - halfCount
}

// valueAt is the lowest value counted at index i.
func valueAt(i int) int64 {
	b := i>>halfMag - 1
	sub := i&(halfCount-1) + halfCount
	if b < 0 {
		sub -= halfCount
		b = 0
	}
	return int64(sub) << b
}

// highestEquivalent is the largest value counted together with v.
func highestEquivalent(v int64) int64 {
	b := bucketIndex(v)
	sub := v >> b
	lowest := sub << b
	size := int64(1) << b
	if sub >= subBucketCount {
		size <<= 1
	}
	return lowest + size - 1
}

// Record adds one duration in nanoseconds, clamped to [1ns, 1s] as Redis
// clamps.
func (h *Histogram) Record(ns int64) {
	ns = min(max(ns, minValue), maxValue)
	h.counts[countsIndex(ns)].Add(1)
	h.total.Add(1)
}

// Total is the number of recorded durations.
func (h *Histogram) Total() int64 { return h.total.Load() }

// Percentile is hdr_value_at_percentile: the highest value equivalent to
// the one at percentile p (0..100), in nanoseconds.
func (h *Histogram) Percentile(p float64) int64 {
	p = min(p, 100)
	want := max(int64(p/100*float64(h.total.Load())+0.5), 1)
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= want {
			v := valueAt(i)
			if p == 0 {
				return v
			}
			return highestEquivalent(v)
		}
	}
	return 0
}

// Bucket is one step of LATENCY HISTOGRAM's cumulative distribution.
type Bucket struct {
	Micros     int64 // upper bound label, µs
	Cumulative int64 // durations at or below it
}

// Buckets walks the histogram in powers of two from 1024ns, as Redis's
// hdr_iter_log_init(&iter, h, 1024, 2) does, keeping only the steps where
// the cumulative count grew.
func (h *Histogram) Buckets() []Bucket {
	total := h.total.Load()
	var out []Bucket
	var cum, prev int64
	i := 0
	for level := int64(1024); cum < total && i < countsLen; level *= 2 {
		last := countsIndex(min(level, maxValue))
		for ; i <= last && i < countsLen; i++ {
			cum += h.counts[i].Load()
		}
		if cum > prev {
			out = append(out, Bucket{Micros: highestEquivalent(level) / 1000, Cumulative: cum})
		}
		prev = cum
		if level > maxValue {
			break
		}
	}
	return out
}
