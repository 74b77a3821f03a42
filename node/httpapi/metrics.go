package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Enumerated states are exported as one series per value (1 for the current
// one, 0 for the rest) so PromQL can alert on e.g. warden_raft_state{state="Leader"}.
var (
	raftStates = []string{"Leader", "Follower", "Candidate", "Shutdown"}
	roles      = []string{"master", "replica"}
)

var (
	descRaftState = prometheus.NewDesc("warden_raft_state",
		"Raft state of this node: 1 for the current state, 0 for the others.", []string{"state"}, nil)
	descRaftTerm = prometheus.NewDesc("warden_raft_term",
		"Current Raft term.", nil, nil)
	descFailovers = prometheus.NewDesc("warden_failovers_total",
		"Failovers committed while this node was the Raft leader.", nil, nil)
	descUnsynced = prometheus.NewDesc("warden_failovers_unsynced_total",
		"Failovers that promoted a replica which had never synced from the failed master: writes only that master took are lost.", nil, nil)
	descEpoch = prometheus.NewDesc("warden_config_epoch",
		"Highest configuration epoch this node has applied.", nil, nil)
	descRole = prometheus.NewDesc("warden_role",
		"Replication role of this node: 1 for the current role, 0 for the other.", []string{"role"}, nil)
	descReplOffset = prometheus.NewDesc("warden_repl_offset_bytes",
		"Replication offset of this node.", nil, nil)
	descReplicaLag = prometheus.NewDesc("warden_replica_lag_bytes",
		"Bytes a connected replica is behind this master.", []string{"replica"}, nil)
	descCommands = prometheus.NewDesc("warden_commands_processed_total",
		"Commands processed by this node.", nil, nil)
	descClients = prometheus.NewDesc("warden_connected_clients",
		"Client connections open on this node.", nil, nil)
)

// collector reads Metrics at scrape time, so no value is ever stale and no
// background goroutine is needed.
type collector struct{ m Metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRaftState, descRaftTerm, descFailovers, descUnsynced, descEpoch,
		descRole, descReplOffset, descReplicaLag, descCommands, descClients} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	enum(ch, descRaftState, raftStates, c.m.RaftState())
	gauge(ch, descRaftTerm, float64(c.m.RaftTerm()))
	ch <- prometheus.MustNewConstMetric(descFailovers, prometheus.CounterValue, float64(c.m.Failovers()))
	ch <- prometheus.MustNewConstMetric(descUnsynced, prometheus.CounterValue, float64(c.m.UnsyncedFailovers()))
	gauge(ch, descEpoch, float64(c.m.Epoch()))
	enum(ch, descRole, roles, c.m.Role())
	gauge(ch, descReplOffset, float64(c.m.ReplOffset()))
	lags := c.m.ReplicaLags()
	addrs := make([]string, 0, len(lags))
	for a := range lags {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		gauge(ch, descReplicaLag, float64(lags[a]), a)
	}
	ch <- prometheus.MustNewConstMetric(descCommands, prometheus.CounterValue, float64(c.m.CommandsProcessed()))
	gauge(ch, descClients, float64(c.m.ConnectedClients()))
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// enum emits every known value, plus cur if it is unexpected (so a new state
// still shows up). An empty cur (e.g. no role yet) leaves all known values at 0.
func enum(ch chan<- prometheus.Metric, d *prometheus.Desc, known []string, cur string) {
	seen := false
	for _, k := range known {
		v := 0.0
		if k == cur {
			v, seen = 1, true
		}
		gauge(ch, d, v, k)
	}
	if !seen && cur != "" {
		gauge(ch, d, 1, cur)
	}
}

// newMetricsHandler serves a private registry (not the global default, so
// tests and embedded uses never collide) with warden's metrics plus the Go and
// process collectors.
func newMetricsHandler(m Metrics, log *slog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if m != nil {
		reg.MustRegister(collector{m})
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }
