package httpapi

import (
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	r := do(t, "GET", base+"/metrics", "", "Accept", "text/plain")
	if r.code != 200 {
		t.Fatalf("metrics %d: %s", r.code, r.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, r.body)
	}
	return fams
}

// value returns the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("metric %s missing", name)
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	t.Fatalf("metric %s%v missing", name, want)
	return 0
}

func TestMetrics(t *testing.T) {
	_, base := start(t, Config{View: &fakeView{}, Metrics: fakeMetrics{}})
	fams := scrape(t, base)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
		typ    dto.MetricType
	}{
		{"warden_raft_state", map[string]string{"state": "Leader"}, 1, dto.MetricType_GAUGE},
		{"warden_raft_state", map[string]string{"state": "Follower"}, 0, dto.MetricType_GAUGE},
		{"warden_raft_state", map[string]string{"state": "Candidate"}, 0, dto.MetricType_GAUGE},
		{"warden_raft_term", nil, 7, dto.MetricType_GAUGE},
		{"warden_failovers_total", nil, 3, dto.MetricType_COUNTER},
		{"warden_failovers_unsynced_total", nil, 1, dto.MetricType_COUNTER},
		{"warden_config_epoch", nil, 12, dto.MetricType_GAUGE},
		{"warden_role", map[string]string{"role": "master"}, 1, dto.MetricType_GAUGE},
		{"warden_role", map[string]string{"role": "replica"}, 0, dto.MetricType_GAUGE},
		{"warden_repl_offset_bytes", nil, 123456, dto.MetricType_GAUGE},
		{"warden_replica_lag_bytes", map[string]string{"replica": "127.0.0.1:6383"}, 4096, dto.MetricType_GAUGE},
		{"warden_replica_lag_bytes", map[string]string{"replica": "127.0.0.1:6382"}, 0, dto.MetricType_GAUGE},
		{"warden_commands_processed_total", nil, 99, dto.MetricType_COUNTER},
		{"warden_connected_clients", nil, 5, dto.MetricType_GAUGE},
	} {
		if got := value(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
		if typ := fams[c.name].GetType(); typ != c.typ {
			t.Errorf("%s type %v, want %v", c.name, typ, c.typ)
		}
	}
	// The Go and process collectors are registered too.
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if n := len(fams["warden_replica_lag_bytes"].GetMetric()); n != 2 {
		t.Errorf("%d replica lag series, want 2", n)
	}
}

// An unexpected state is still exported; an empty role zeroes both roles.
type oddMetrics struct{ fakeMetrics }

func (oddMetrics) RaftState() string             { return "Joining" }
func (oddMetrics) Role() string                  { return "" }
func (oddMetrics) ReplicaLags() map[string]int64 { return nil }

func TestMetricsOddValues(t *testing.T) {
	_, base := start(t, Config{View: &fakeView{}, Metrics: oddMetrics{}})
	fams := scrape(t, base)
	if v := value(t, fams, "warden_raft_state", map[string]string{"state": "Joining"}); v != 1 {
		t.Errorf("Joining = %v", v)
	}
	if v := value(t, fams, "warden_raft_state", map[string]string{"state": "Leader"}); v != 0 {
		t.Errorf("Leader = %v", v)
	}
	for _, role := range []string{"master", "replica"} {
		if v := value(t, fams, "warden_role", map[string]string{"role": role}); v != 0 {
			t.Errorf("role %s = %v", role, v)
		}
	}
	if _, ok := fams["warden_replica_lag_bytes"]; ok {
		t.Error("replica lag exported with no replicas")
	}
}

func TestMetricsWithoutSource(t *testing.T) {
	_, base := start(t, Config{View: &fakeView{}})
	fams := scrape(t, base)
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("go collector missing")
	}
	for name := range fams {
		if strings.HasPrefix(name, "warden_") {
			t.Errorf("%s exported without a Metrics source", name)
		}
	}
}

// Two servers in one process must not collide on registration (private registries).
func TestTwoServersMetrics(t *testing.T) {
	_, a := start(t, Config{View: &fakeView{}, Metrics: fakeMetrics{}})
	_, b := start(t, Config{View: &fakeView{}, Metrics: oddMetrics{}})
	if value(t, scrape(t, a), "warden_raft_state", map[string]string{"state": "Leader"}) != 1 ||
		value(t, scrape(t, b), "warden_raft_state", map[string]string{"state": "Joining"}) != 1 {
		t.Fatal("servers share metric state")
	}
}
