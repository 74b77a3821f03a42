package latency

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

const seriesLen = 160 // LATENCY_TS_LEN

// Sample is one second's worst latency of an event.
type Sample struct {
	Time    int64 // unix seconds
	Latency int64 // ms
}

type series struct {
	samples [seriesLen]Sample
	idx     int
	max     int64
}

// Monitor is the latency monitor: per event, the worst latency of each of
// the last 160 seconds it fired in. Its zero value is ready.
type Monitor struct {
	mu     sync.Mutex
	events map[string]*series
}

// Add records a latency spike of ms for event at now; spikes within one
// second keep the worst (latencyAddSample).
func (m *Monitor) Add(event string, ms int64, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*series{}
	}
	ts := m.events[event]
	if ts == nil {
		ts = &series{}
		m.events[event] = ts
	}
	sec := now.Unix()
	ts.max = max(ts.max, ms)
	prev := &ts.samples[(ts.idx+seriesLen-1)%seriesLen]
	if prev.Time == sec {
		prev.Latency = max(prev.Latency, ms)
		return
	}
	ts.samples[ts.idx] = Sample{Time: sec, Latency: ms}
	ts.idx = (ts.idx + 1) % seriesLen
}

// Latest is one event's newest sample and its all-time worst.
type Latest struct {
	Event string
	Sample
	Max int64
}

// Latest lists every event's newest sample.
func (m *Monitor) Latest() []Latest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Latest, 0, len(m.events))
	for name, ts := range m.events {
		out = append(out, Latest{Event: name, Sample: ts.samples[(ts.idx+seriesLen-1)%seriesLen], Max: ts.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Event < out[j].Event })
	return out
}

// History lists an event's samples, oldest first.
func (m *Monitor) History(event string) []Sample {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[event]
	if ts == nil {
		return nil
	}
	var out []Sample
	for j := range seriesLen {
		s := ts.samples[(ts.idx+j)%seriesLen]
		if s.Time != 0 {
			out = append(out, s)
		}
	}
	return out
}

// Reset drops the named events' data (every event when none is named)
// and returns how many existed.
func (m *Monitor) Reset(events ...string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(events) == 0 {
		n := len(m.events)
		m.events = nil
		return n
	}
	n := 0
	for _, e := range events {
		if _, ok := m.events[e]; ok {
			delete(m.events, e)
			n++
		}
	}
	return n
}

// Graph renders LATENCY GRAPH's ASCII art for event, as Redis's
// latencyCommandGenSparkeline; ok is false when the event has no samples.
func (m *Monitor) Graph(event string, now time.Time) (graph string, ok bool) {
	hist := m.History(event)
	if len(hist) == 0 {
		return "", false
	}
	m.mu.Lock()
	allMax := m.events[event].max
	m.mu.Unlock()
	lo, hi := hist[0].Latency, hist[0].Latency
	seq := make([]spark, len(hist))
	for i, s := range hist {
		lo, hi = min(lo, s.Latency), max(hi, s.Latency)
		seq[i] = spark{value: float64(s.Latency), label: ago(now.Unix() - s.Time)}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, allMax)
	b.WriteString(strings.Repeat("-", graphCols) + "\n")
	renderSparkline(&b, seq, float64(lo), float64(hi), graphCols, 4)
	return b.String(), true
}

func ago(elapsed int64) string {
	switch {
	case elapsed < 60:
		return fmt.Sprintf("%ds", elapsed)
	case elapsed < 3600:
		return fmt.Sprintf("%dm", elapsed/60)
	case elapsed < 3600*24:
		return fmt.Sprintf("%dh", elapsed/3600)
	}
	return fmt.Sprintf("%dd", elapsed/(3600*24))
}

// Doctor writes LATENCY DOCTOR's report: Redis's texts when monitoring is
// off or nothing was observed; otherwise one line of statistics per event
// (Redis's format) and the advice that applies to command events.
func (m *Monitor) Doctor(thresholdMs int64, now time.Time) string {
	if thresholdMs == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	latest := m.Latest()
	if len(latest) == 0 {
		return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n"
	}
	var b strings.Builder
	b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
	commands := false
	for i, l := range latest {
		hist := m.History(l.Event)
		var sum, oldest int64 = 0, now.Unix()
		for _, s := range hist {
			sum += s.Latency
			oldest = min(oldest, s.Time)
		}
		n := int64(max(len(hist), 1))
		avg := sum / n
		var mad int64
		for _, s := range hist {
			mad += abs(s.Latency - avg)
		}
		mad /= n
		period := float64(now.Unix()-oldest) / float64(n)
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.\n",
			i+1, l.Event, len(hist), avg, mad, period, l.Max)
		commands = commands || l.Event == "command" || l.Event == "fast-command"
	}
	b.WriteString("\nI have a few advices for you:\n\n")
	if commands {
		b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
		b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
	} else {
		b.WriteString("- The events above are not caused by commands; check the host's load and the log.\n")
	}
	return b.String()
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
