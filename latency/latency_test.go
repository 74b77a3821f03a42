package latency

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPercentileMatchesRedis checks values Redis 7.0 printed in INFO
// latencystats for single calls of 1µs, 4µs and 11µs (1.003, 4.015,
// 11.007) and LATENCY HISTOGRAM's labels for them (1, 4, 16); beyond 1s
// values are clamped to 1s, whose 4Mi-wide bucket ends at 1002438655ns.
func TestPercentileMatchesRedis(t *testing.T) {
	for _, tc := range []struct {
		ns    int64
		pct   string
		label int64
	}{{1000, "1.003", 1}, {4000, "4.015", 4}, {11000, "11.007", 16}, {0, "0.001", 1}, {5e9, "1002438.655", 1082130}} {
		var h Histogram
		h.Record(tc.ns)
		if got := fmt.Sprintf("%.3f", float64(h.Percentile(50))/1000); got != tc.pct {
			t.Errorf("%dns: p50 %s, want %s", tc.ns, got, tc.pct)
		}
		bs := h.Buckets()
		if len(bs) != 1 || bs[0].Micros != tc.label || bs[0].Cumulative != 1 {
			t.Errorf("%dns: buckets %v, want label %d", tc.ns, bs, tc.label)
		}
	}
}

func TestBucketsCumulative(t *testing.T) {
	var h Histogram
	for _, us := range []int64{1, 1, 3, 100, 100, 5000} {
		h.Record(us * 1000)
	}
	got := fmt.Sprint(h.Buckets())
	// Redis 7.0 labelled DEBUG SLEEP 0.005 with 8454 and 100µs sleeps with
	// 264 (their 2^18ns step); 100µs here is below 2^17ns's step, 132.
	if want := "[{1 2} {4 3} {132 5} {8454 6}]"; got != want {
		t.Errorf("buckets %s, want %s", got, want)
	}
	if p := h.Percentile(99.9); p != 5013503 { // 5ms falls in a 32768ns-wide bucket
		t.Errorf("p99.9 %d", p)
	}
	if h.Total() != 6 {
		t.Errorf("total %d", h.Total())
	}
}

func TestMonitorSeries(t *testing.T) {
	var m Monitor
	t0 := time.Unix(1_700_000_000, 0)
	m.Add("command", 5, t0)
	m.Add("command", 9, t0.Add(300*time.Millisecond)) // same second: keeps the worst
	m.Add("command", 2, t0.Add(time.Second))
	if got := fmt.Sprint(m.History("command")); got != "[{1700000000 9} {1700000001 2}]" {
		t.Errorf("history %s", got)
	}
	if l := m.Latest(); len(l) != 1 || l[0].Latency != 2 || l[0].Max != 9 {
		t.Errorf("latest %v", l)
	}
	for i := range 200 {
		m.Add("fork", int64(i), t0.Add(time.Duration(i)*time.Second))
	}
	if h := m.History("fork"); len(h) != seriesLen || h[0].Latency != 200-seriesLen || h[len(h)-1].Latency != 199 {
		t.Errorf("ring: %d samples, first %v", len(h), h[0])
	}
	g, ok := m.Graph("command", t0.Add(2*time.Second))
	lines := strings.Split(g, "\n")
	if !ok || lines[0] != "command - high 9 ms, low 2 ms (all time high 9 ms)" || lines[1] != strings.Repeat("-", 80) {
		t.Fatalf("graph:\n%s", g)
	}
	// 4 rows of bars (9 fills them, 2 is the low: one _), a blank spacer, then the labels "2s" and "1s" written
	// downwards.
	if want := "# \n| \n| \n|_\n  \n21\nss\n"; strings.Join(lines[2:], "\n") != want {
		t.Errorf("graph body:\n%q\nwant\n%q", strings.Join(lines[2:], "\n"), want)
	}
	if n := m.Reset("nosuch", "command"); n != 1 || m.History("command") != nil {
		t.Errorf("reset %d", n)
	}
	if n := m.Reset(); n != 1 || len(m.Latest()) != 0 {
		t.Errorf("reset all %d", n)
	}
}
