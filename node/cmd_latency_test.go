package node

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// latencyShape renders LATENCY LATEST without times and latencies.
func latencyShape(v respVal) string {
	var names []string
	for _, e := range v.Elems {
		if len(e.Elems) != 4 {
			return "malformed " + v.String()
		}
		names = append(names, e.Elems[0].Str)
	}
	return strings.Join(names, ",")
}

// histogramCalls renders LATENCY HISTOGRAM as "name calls" lines, checking
// each bucket list is cumulative.
func histogramCalls(t *testing.T, v respVal) string {
	t.Helper()
	var lines []string
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m := v.Elems[i+1].Elems
		if len(m) != 4 || m[0].Str != "calls" || m[2].Str != "histogram_usec" {
			t.Fatalf("entry %s", v.Elems[i+1])
		}
		bs := m[3].Elems
		if len(bs) == 0 || bs[len(bs)-1].Str != m[1].Str {
			t.Errorf("%s: buckets %s do not end at calls %s", v.Elems[i].Str, m[3], m[1].Str)
		}
		lines = append(lines, v.Elems[i].Str+" "+m[1].Str)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestLatencySideBySide compares LATENCY's replies and errors with Redis
// 7.0's, and the shapes of what depends on timing (a DEBUG SLEEP past the
// threshold, per-command histograms, INFO latencystats).
func TestLatencySideBySide(t *testing.T) {
	p := newPair(t)
	p.same(t, cmds("latency latest", "latency history command", "latency graph command", "latency doctor",
		"latency reset", "latency reset a b", "latency foo", "latency", "latency help", "latency graph",
		"latency history", "latency latest x", "latency doctor x", "latency histogram nosuch",
		"config get latency-tracking", "config get latency-tracking-info-percentiles", "config get latency-monitor-threshold",
		"config set latency-tracking-info-percentiles 101", "config set latency-tracking-info-percentiles x",
		"config set latency-monitor-threshold -1", "config set latency-monitor-threshold x",
		"config set latency-monitor-threshold 1", "latency doctor")...)

	// A spike past the threshold is a "command" event on both.
	p.both(t, "debug", "sleep", "0.02")
	got, want := p.w.mustDo(t, "latency", "latest"), p.r.mustDo(t, "latency", "latest")
	if g, w := latencyShape(got), latencyShape(want); g != w || g != "command" {
		t.Errorf("LATENCY LATEST: warden %s redis %s", got, want)
	}
	if l := got.Elems[0].Elems; len(l[2].Str) < 2 || len(l[2].Str) == 2 && l[2].Str < "20" {
		t.Errorf("latest latency %s ms after a 20ms sleep", l[2].Str)
	}
	p.same(t, cmds("latency history nosuch")...)
	if g, w := len(p.w.mustDo(t, "latency", "history", "command").Elems), len(p.r.mustDo(t, "latency", "history", "command").Elems); g != 1 || w != 1 {
		t.Errorf("history lengths warden %d redis %d", g, w)
	}
	// One sample: the same art, up to the milliseconds and seconds ago.
	digits := regexp.MustCompile(`\d+`)
	gw, gr := p.w.mustDo(t, "latency", "graph", "command").Str, p.r.mustDo(t, "latency", "graph", "command").Str
	if digits.ReplaceAllString(gw, "N") != digits.ReplaceAllString(gr, "N") || !strings.HasPrefix(gw, "command - high ") {
		t.Errorf("graph:\nwarden\n%s\nredis\n%s", gw, gr)
	}
	for name, c := range map[string]*respClient{"warden": p.w, "redis": p.r} {
		d := c.mustDo(t, "latency", "doctor").Str
		if !strings.Contains(d, "1. command: 1 latency spikes (average ") {
			t.Errorf("%s doctor:\n%s", name, d)
		}
	}
	p.same(t, cmds("latency reset command", "latency latest", "latency reset")...)

	// Histograms: only what ran, with the calls counted.
	p.same(t, cmds("config resetstat", "set a 1", "set a 2", "get a", "client getname")...)
	for _, args := range [][]string{{"latency", "histogram", "set", "get", "nosuch", "client"}, {"latency", "histogram", "client|getname", "set"}} {
		got, want := p.w.mustDo(t, args...), p.r.mustDo(t, args...)
		if g, w := histogramCalls(t, got), histogramCalls(t, want); g != w {
			t.Errorf("%q:\nwarden\n%s\nredis\n%s", args, g, w)
		}
	}
	statLines := func(c *respClient) string {
		var out []string
		re := regexp.MustCompile(`^latency_percentiles_usec_(set|get|client\|getname):p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
		for _, l := range strings.Split(c.mustDo(t, "info", "latencystats").Str, "\r\n") {
			if m := re.FindStringSubmatch(l); m != nil {
				out = append(out, m[1])
			}
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	if g, w := statLines(p.w), statLines(p.r); g != w || g != "client|getname,get,set" {
		t.Errorf("INFO latencystats: warden %s redis %s", g, w)
	}
	// Custom percentiles, and latency-tracking off stops new histograms.
	p.same(t, cmds("config set latency-tracking-info-percentiles \"\"")...)
	p.both(t, "config", "set", "latency-tracking-info-percentiles", "90 99.99")
	p.same(t, cmds("config get latency-tracking-info-percentiles", "config set latency-tracking no", "config resetstat", "get a", "latency histogram get")...)
	p.both(t, "config", "set", "latency-tracking", "yes")
	p.both(t, "get", "a")
	re := regexp.MustCompile(`(?m)^latency_percentiles_usec_get:p90=\d+\.\d{3},p99\.99=\d+\.\d{3}\r$`)
	for name, c := range map[string]*respClient{"warden": p.w, "redis": p.r} {
		if s := c.mustDo(t, "info", "latencystats").Str; !re.MatchString(s) {
			t.Errorf("%s latencystats:\n%s", name, s)
		}
	}
}
