package node

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/latency"
)

// latencyState is the latency monitor, the per-command histograms' switch
// and their settings, read on every command (atomics, not the config map).
type latencyState struct {
	mon         latency.Monitor
	thresholdMs atomic.Int64 // latency-monitor-threshold (0: off)
	tracking    atomic.Bool  // latency-tracking
	percentiles atomic.Pointer[[]float64]
	enabled     atomic.Bool // set once initialised
}

// parsePercentiles reads latency-tracking-info-percentiles: numbers in
// [0, 100] separated by spaces.
func parsePercentiles(v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Fields(v) {
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || p < 0 || p > 100 {
			return nil, fmt.Errorf("invalid percentile %q", f) // the directive's Validate rejected it already
		}
		out = append(out, p)
	}
	return out, nil
}

func (s *Server) initLatency() {
	l := &s.latency
	setPct := func(v string) error {
		ps, err := parsePercentiles(v)
		if err == nil {
			l.percentiles.Store(&ps)
		}
		return err
	}
	l.thresholdMs.Store(s.cfg.Int("latency-monitor-threshold"))
	l.tracking.Store(s.cfg.Bool("latency-tracking"))
	_ = setPct(s.cfg.Get("latency-tracking-info-percentiles"))
	s.cfg.OnSet("latency-monitor-threshold", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			l.thresholdMs.Store(n)
		}
		return nil
	})
	s.cfg.OnSet("latency-tracking", func(v string) error { l.tracking.Store(v == "yes"); return nil })
	s.cfg.OnSet("latency-tracking-info-percentiles", setPct)
	l.enabled.Store(true)
}

// latencyRecord feeds one command's duration to its histogram and, past
// the threshold, to the monitor's "command" or "fast-command" event, as
// Redis's call() does.
func (s *Server) latencyRecord(cmd *Command, d time.Duration) {
	l := &s.latency
	if !l.enabled.Load() {
		return
	}
	if l.tracking.Load() {
		h := cmd.latency.Load()
		if h == nil {
			cmd.latency.CompareAndSwap(nil, new(latency.Histogram))
			h = cmd.latency.Load()
		}
		h.Record(d.Microseconds() * 1000) // Redis measures µs
	}
	if th := l.thresholdMs.Load(); th > 0 && d.Milliseconds() >= th {
		event := "command"
		if cmd.Flags&fFast != 0 {
			event = "fast-command"
		}
		l.mon.Add(event, d.Milliseconds(), time.Now())
	}
}

func registerLatency(t table) {
	const g = "server"
	adm := fAdmin | fNoScript | fLoading | fStale
	t.add(&Command{Name: "latency", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "doctor", Arity: 2, Flags: adm, Run: cmdLatencyDoctor, Group: g},
		&Command{Name: "graph", Arity: 3, Flags: adm, Run: cmdLatencyGraph, Group: g},
		&Command{Name: "histogram", Arity: -2, Flags: adm, Run: cmdLatencyHistogram, Group: g},
		&Command{Name: "history", Arity: 3, Flags: adm, Run: cmdLatencyHistory, Group: g},
		&Command{Name: "latest", Arity: 2, Flags: adm, Run: cmdLatencyLatest, Group: g},
		&Command{Name: "reset", Arity: -2, Flags: adm, Run: cmdLatencyReset, Group: g},
		&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdLatencyHelp, Group: g},
	)})
}

func cmdLatencyDoctor(c *Ctx) {
	c.Verbatim(c.s.latency.mon.Doctor(c.s.latency.thresholdMs.Load(), time.Now()))
}

func cmdLatencyGraph(c *Ctx) {
	event := string(c.Args[2])
	g, ok := c.s.latency.mon.Graph(event, time.Now())
	if !ok {
		c.Err(fmt.Sprintf("ERR No samples available for event '%s'", event))
		return
	}
	c.Verbatim(g)
}

func cmdLatencyHistory(c *Ctx) {
	hist := c.s.latency.mon.History(string(c.Args[2]))
	c.Array(len(hist))
	for _, s := range hist {
		c.Array(2)
		c.Int(s.Time)
		c.Int(s.Latency)
	}
}

func cmdLatencyLatest(c *Ctx) {
	ls := c.s.latency.mon.Latest()
	c.Array(len(ls))
	for _, l := range ls {
		c.Array(4)
		c.BulkString(l.Event)
		c.Int(l.Time)
		c.Int(l.Latency)
		c.Int(l.Max)
	}
}

func cmdLatencyReset(c *Ctx) {
	var events []string
	for _, a := range c.Args[2:] {
		events = append(events, string(a))
	}
	c.Int(int64(c.s.latency.mon.Reset(events...)))
}

// cmdLatencyHistogram answers a map of command name to its calls and
// cumulative distribution; named commands without data (or unknown) are
// left out, and a container stands for its subcommands.
func cmdLatencyHistogram(c *Ctx) {
	var cmds []*Command
	add := func(cmd *Command) {
		if cmd.latency.Load() != nil {
			cmds = append(cmds, cmd)
		}
		for _, sub := range sortedSubs(cmd) {
			if sub.latency.Load() != nil {
				cmds = append(cmds, sub)
			}
		}
	}
	if len(c.Args) == 2 {
		for _, cmd := range c.s.sortedCommands() {
			add(cmd)
		}
	} else {
		seen := map[*Command]bool{}
		for _, a := range c.Args[2:] {
			cmd := c.s.lookupCommandName(string(a))
			if cmd == nil || seen[cmd] {
				continue
			}
			seen[cmd] = true
			if strings.Contains(cmd.Name, "|") {
				if cmd.latency.Load() != nil {
					cmds = append(cmds, cmd)
				}
				continue
			}
			add(cmd)
		}
	}
	c.Map(len(cmds))
	for _, cmd := range cmds {
		h := cmd.latency.Load()
		bs := h.Buckets()
		c.BulkString(cmd.Name)
		c.Map(2)
		c.BulkString("calls")
		c.Int(h.Total())
		c.BulkString("histogram_usec")
		c.Map(len(bs))
		for _, b := range bs {
			c.Int(b.Micros)
			c.Int(b.Cumulative)
		}
	}
}

func cmdLatencyHelp(c *Ctx) {
	serverHelp(c, "latency",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	)
}

// infoLatencyStats writes INFO latencystats: each command's configured
// percentiles in µs with three decimals, as Redis 7.0.
func infoLatencyStats(s *Server, w *infoWriter) {
	ps := s.latency.percentiles.Load()
	if ps == nil {
		return
	}
	line := func(cmd *Command) {
		h := cmd.latency.Load()
		if h == nil || h.Total() == 0 {
			return
		}
		var b strings.Builder
		b.WriteString("latency_percentiles_usec_" + cmd.Name + ":")
		for i, p := range *ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "p%s=%.3f", strconv.FormatFloat(p, 'g', -1, 64), float64(h.Percentile(p))/1000)
		}
		w.line(b.String())
	}
	for _, cmd := range s.sortedCommands() {
		line(cmd)
		for _, sub := range sortedSubs(cmd) {
			line(sub)
		}
	}
}
