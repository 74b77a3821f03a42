package jepsen

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func TestOutage(t *testing.T) {
	s := int64(time.Second)
	for _, tc := range []struct {
		name string
		f    Fault
		acks []int64
		want time.Duration
	}{
		{"writes go on", Fault{Start: 10 * s, Recovered: 12 * s}, []int64{9 * s, 10*s + s/10, 10*s + 3*s/10, 11 * s, 11*s + s/2, 12*s + s/10}, 7 * time.Second / 10},
		{"gap until after recovery", Fault{Start: 10 * s, Recovered: 12 * s}, []int64{9 * s, 13 * s}, 3 * time.Second},
		{"no write after", Fault{Start: 10 * s, Recovered: 12 * s}, []int64{9 * s}, 2 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outage(tc.f, tc.acks); got != tc.want {
				t.Fatalf("outage %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPct(t *testing.T) {
	ds := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if pct(ds, 50) != 5 || pct(ds, 99) != 10 || pct(ds, 100) != 10 || pct(nil, 50) != 0 {
		t.Fatalf("pct: %v %v %v", pct(ds, 50), pct(ds, 99), pct(ds, 100))
	}
}

// The summary names the verdict and every forbidden class; the timeline is
// well-formed SVG with one band per fault.
func TestSummaryAndTimeline(t *testing.T) {
	s := int64(time.Second)
	ops := []Op{w(0, "a", OK, 0, s), w(0, "b", OK, 2*s, 3*s), func() Op { o := r(1, "a", 4*s, 5*s); o.Final = true; return o }()}
	res := &Result{Config: Config{Seed: 7, Topology: "sentinel3", Target: "netns", Workload: "register"},
		Faults:  []Fault{{Kind: KillKind, Target: "n1", Start: s, Healed: 2 * s, Recovered: 3 * s, OK: true}},
		Skipped: map[string]string{NetemKind: "no netem"}, Ops: ops, Converged: true}
	res.Register = CheckRegister(ops, 10*time.Second)
	res.Anomalies.merge(res.Register.Anomalies)
	if !res.Failed() {
		t.Fatalf("a lost write must fail the run")
	}
	sum := Summary(res)
	for _, want := range []string{"FAIL: 1 forbidden", "lost-write", "skipped netem: no netem", "SET+WAIT"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	svg := Timeline(res)
	if err := xml.Unmarshal([]byte(svg), new(struct{ XMLName xml.Name })); err != nil {
		t.Fatalf("timeline is not XML: %v", err)
	}
	if n := strings.Count(svg, "<title>kill n1</title>"); n != 1 {
		t.Fatalf("timeline: %d kill bands, want 1", n)
	}
}
