package jepsen

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// outage is, for one fault, the longest stretch without a WAIT-acknowledged
// write completing, from the injection to the first such write after the
// cluster was healthy again.
func outage(f Fault, acks []int64) time.Duration {
	i := sort.Search(len(acks), func(i int) bool { return acks[i] > f.Start })
	prev, worst := f.Start, int64(0)
	for ; i < len(acks); i++ {
		worst = max(worst, acks[i]-prev)
		prev = acks[i]
		if acks[i] > f.Recovered {
			return time.Duration(worst)
		}
	}
	return time.Duration(max(worst, f.Recovered-prev))
}

// okWriteTimes are the replies of WAIT-acknowledged writes, sorted, per
// shard of the node that took them (from the record) and under -1 all of
// them: a fault aimed at one shard of a cluster is an outage of that
// shard's writes only.
func okWriteTimes(ops []Op) map[int][]int64 {
	shardOf := map[string]int{}
	for _, op := range ops {
		if op.Type == "record" {
			shardOf[op.Node] = op.Shard
		}
	}
	ts := map[int][]int64{}
	for _, op := range ops {
		if (op.Type == "write" || op.Type == "add") && op.Outcome == OK && !op.Final {
			ts[-1] = append(ts[-1], op.End)
			if sh, ok := shardOf[op.Node]; ok {
				ts[sh] = append(ts[sh], op.End)
			}
		}
	}
	for _, l := range ts {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	return ts
}

// pct is the nearest-rank percentile of sorted ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	k := int(math.Ceil(p/100*float64(len(ds)))) - 1
	return ds[max(0, min(k, len(ds)-1))]
}

func ms(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// Summary is the run's table, as printed.
func Summary(r *Result) string {
	var b strings.Builder
	cfg := r.Config
	fmt.Fprintf(&b, "warden-jepsen seed=%d topology=%s target=%s workload=%s clients=%d faults=%d\n\n",
		cfg.Seed, cfg.Topology, cfg.Target, cfg.Workload, cfg.Clients, len(r.Faults))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	acks := okWriteTimes(r.Ops)
	byKind := map[string][]Fault{}
	for _, f := range r.Faults {
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	fmt.Fprintln(tw, "fault kind\tcount\toutage p50\tp99\tmax\treconverge p50\tmax\tnot healthy in 60s\t")
	for _, k := range AllKinds {
		fs := byKind[k]
		if why, skipped := r.Skipped[k]; skipped {
			_ = why
			fmt.Fprintf(tw, "%s\tskipped\t\t\t\t\t\t\t\n", k)
			continue
		}
		if len(fs) == 0 {
			continue
		}
		var outs, recs []time.Duration
		bad := 0
		for _, f := range fs {
			outs = append(outs, outage(f, acks[f.Shard]))
			recs = append(recs, f.Reconv)
			if !f.OK {
				bad++
			}
		}
		sort.Slice(outs, func(i, j int) bool { return outs[i] < outs[j] })
		sort.Slice(recs, func(i, j int) bool { return recs[i] < recs[j] })
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", k, len(fs), ms(pct(outs, 50)), ms(pct(outs, 99)), ms(outs[len(outs)-1]),
			ms(pct(recs, 50)), ms(recs[len(recs)-1]), bad)
	}
	tw.Flush()
	for _, k := range AllKinds {
		if why, ok := r.Skipped[k]; ok {
			fmt.Fprintf(&b, "  skipped %s: %s\n", k, why)
		}
	}
	fmt.Fprintln(&b)

	type counts struct{ attempted, ok, async, fail, info int }
	ops := map[string]*counts{}
	for _, op := range r.Ops {
		if op.Final || (op.Type != "write" && op.Type != "read" && op.Type != "add") {
			continue
		}
		c := ops[op.Type]
		if c == nil {
			c = &counts{}
			ops[op.Type] = c
		}
		c.attempted++
		switch op.Outcome {
		case OK:
			c.ok++
		case Async:
			c.async++
		case Fail:
			c.fail++
		case Info:
			c.info++
		}
	}
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tattempted\tok\tok, WAIT short (async)\tfailed\tindeterminate\t")
	for _, t := range []struct{ typ, name string }{{"write", "SET+WAIT"}, {"read", "GET"}, {"add", "SADD+WAIT"}} {
		if c := ops[t.typ]; c != nil {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", t.name, c.attempted, c.ok, c.async, c.fail, c.info)
		}
	}
	tw.Flush()
	fmt.Fprintln(&b)

	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "anomaly\tcount\tguarantees\t")
	for _, c := range Classes {
		verdict := "allowed"
		if c.Forbidden() {
			verdict = "forbidden"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", c, r.Anomalies.Count[c], verdict)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\nregister: %d keys, %d not linearizable (porcupine)\n", r.Register.Keys, len(r.Register.NonLinearizable))
	s := r.Set
	fmt.Fprintf(&b, "set: %d WAIT-acknowledged adds, %d lost; %d acknowledged without WAIT's majority, %d lost", s.WaitAcked, s.LostWaitAcked, s.AsyncAcked, s.LostAsync)
	if s.AsyncLossAfterFault >= 0 {
		fmt.Fprintf(&b, "; of those accepted during a fault, the latest %v after the fault was in (%v after the nemesis began it; lease %dms)",
			s.AsyncLossAfterFault.Round(time.Millisecond), s.AsyncLossAfterBegin.Round(time.Millisecond), orDefault(cfg.LeaseMs, 750))
	}
	if s.AsyncLossBeforeFault >= 0 {
		fmt.Fprintf(&b, "; of the others, the earliest %v before the fault that lost them", s.AsyncLossBeforeFault.Round(time.Millisecond))
	}
	fmt.Fprintln(&b)
	if len(r.Migrations) > 0 {
		var parts []string
		for st, n := range r.Migrations {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
		sort.Strings(parts)
		fmt.Fprintf(&b, "slot migrations started by the nemesis: %s\n", strings.Join(parts, ", "))
	}
	if r.Converged {
		fmt.Fprintf(&b, "convergence: every node's digest equal to its shard master's %v after the final heal (%d keys)\n", r.ConvergeIn.Round(time.Millisecond), r.Keys)
	} else {
		fmt.Fprintf(&b, "convergence: FAILED: %s\n", r.ConvergeWhy)
	}
	for _, e := range r.HarnessErrs {
		fmt.Fprintf(&b, "harness: %s\n", e)
	}
	n := 0
	for _, a := range r.Anomalies.List {
		if a.Class.Forbidden() && n < 10 {
			fmt.Fprintf(&b, "  %s\n", a)
			n++
		}
	}
	verdict := "PASS: no forbidden anomaly"
	if r.Failed() {
		verdict = fmt.Sprintf("FAIL: %d forbidden anomalies", r.Anomalies.Forbidden())
		if !r.Converged {
			verdict += ", no convergence"
		}
		if len(r.HarnessErrs) > 0 {
			verdict += fmt.Sprintf(", %d harness errors", len(r.HarnessErrs))
		}
	}
	fmt.Fprintf(&b, "verdict: %s (results in %s)\n", verdict, cfg.Results)
	return b.String()
}

var kindColor = map[string]string{
	KillKind: "#d62728", PauseShortKind: "#ff9896", PauseLongKind: "#e377c2", RestartKind: "#8c564b",
	IsolateMasterKind: "#1f77b4", IsolateLeaderKind: "#aec7e8", SplitKind: "#9467bd", BridgeKind: "#c5b0d5",
	OneWayKind: "#17becf", LossyKind: "#bcbd22", NetemKind: "#dbdb8d", DiskFullKind: "#7f7f7f", MigrateKind: "#ff7f0e",
}

// Timeline is an SVG plot: WAIT-acknowledged writes and reads per second
// (green, blue), failed and indeterminate ops (red), each fault a band from
// injection to heal, labelled.
func Timeline(r *Result) string {
	var end int64
	for _, op := range r.Ops {
		end = max(end, op.End)
	}
	const bucket = int64(250 * time.Millisecond)
	nb := int(end/bucket) + 1
	okW, okR, bad := make([]int, nb), make([]int, nb), make([]int, nb)
	for _, op := range r.Ops {
		if op.Final {
			continue
		}
		i := int(op.End / bucket)
		switch {
		case (op.Type == "write" || op.Type == "add") && op.Outcome == OK:
			okW[i]++
		case op.Type == "read" && op.Outcome == OK:
			okR[i]++
		case (op.Type == "write" || op.Type == "add" || op.Type == "read") && (op.Outcome == Fail || op.Outcome == Info):
			bad[i]++
		}
	}
	peak := 1
	for i := range nb {
		peak = max(peak, okW[i], okR[i], bad[i])
	}
	const W, H, left, top, plotH = 1400, 420, 60, 30, 300
	x := func(t int64) float64 { return left + float64(t)/float64(max(end, 1))*float64(W-left-20) }
	y := func(v int) float64 { return top + plotH - float64(v)/float64(peak)*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="13">warden-jepsen seed %d: ops per %v (green: WAIT-acked writes, blue: reads, red: failed/indeterminate); bands: faults</text>`+"\n", left, r.Config.Seed, time.Duration(bucket))
	for _, f := range r.Faults {
		c := kindColor[f.Kind]
		if c == "" {
			c = "#cccccc"
		}
		x0, x1 := x(f.Start), x(max(f.Healed, f.Start+int64(50*time.Millisecond)))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" opacity="0.35"><title>%s %s</title></rect>`+"\n", x0, top, x1-x0, plotH, c, f.Kind, f.Target)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" transform="rotate(60 %.1f %d)" fill="%s">%s</text>`+"\n", x0, top+plotH+12, x0, top+plotH+12, c, f.Kind)
	}
	line := func(vs []int, color string) {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1" points="`, color)
		for i, v := range vs {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(int64(i)*bucket), y(v))
		}
		b.WriteString(`"/>` + "\n")
	}
	line(okR, "#1f77b4")
	line(okW, "#2ca02c")
	line(bad, "#d62728")
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top+plotH, W-20, top+plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, top+plotH)
	fmt.Fprintf(&b, `<text x="5" y="%d">%d</text><text x="5" y="%d">0</text>`+"\n", top+10, peak, top+plotH)
	for s := int64(0); s <= end; s += int64(30 * time.Second) {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%ds</text>`+"\n", x(s), H-5, s/int64(time.Second))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
