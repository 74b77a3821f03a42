package sentinel

import (
	"net"
	"strconv"
	"strings"
)

// The field lists of SENTINEL MASTER(S) / REPLICAS / SENTINELS, in Redis
// 7.0's order (addReplySentinelRedisInstance). Clients read them as
// field/value maps; go-redis reads ip, port and flags (dropping s_down,
// o_down and disconnected replicas). Timers warden does not keep (last
// ping, info refresh, ...) are 0; s-down-time and o-down-time are left out.

// failoverTimeoutMs is reported as failover-timeout: warden has no such
// setting (the control plane's failover is not timer-driven), so tools that
// read it see Redis's default.
const failoverTimeoutMs = 180000

type field struct{ k, v string }

func writeFields(c *client, fs []field) {
	c.conn.WriteArray(2 * len(fs))
	for _, f := range fs {
		c.conn.WriteBulkString(f.k)
		c.conn.WriteBulkString(f.v)
	}
}

func itoa[T ~int | ~int64 | ~uint64](n T) string {
	if n < 0 {
		return strconv.FormatInt(int64(n), 10)
	}
	return strconv.FormatUint(uint64(n), 10)
}

// flags joins Redis's instance flags in its order.
func flags(sdown, odown bool, role string, disconnected, failover bool) string {
	var f []string
	if sdown {
		f = append(f, "s_down")
	}
	if odown {
		f = append(f, "o_down")
	}
	f = append(f, role)
	if disconnected {
		f = append(f, "disconnected")
	}
	if failover {
		f = append(f, "failover_in_progress")
	}
	return strings.Join(f, ",")
}

// pingFields are the timer fields every instance has.
func pingFields(fs []field, downAfterMs int64) []field {
	return append(fs,
		field{"last-ping-sent", "0"},
		field{"last-ok-ping-reply", "0"},
		field{"last-ping-reply", "0"},
		field{"down-after-milliseconds", itoa(downAfterMs)},
	)
}

func masterFields(m Master, otherSentinels int) []field {
	// No master node (none placed yet) is shown as Sentinel shows a master
	// it cannot reach.
	down := m.Down || m.ID == ""
	fs := []field{
		{"name", m.Name},
		{"ip", m.Addr.Host},
		{"port", itoa(m.Addr.Port)},
		{"runid", m.RunID},
		{"flags", flags(down, down, "master", down, m.FailoverInProgress)},
		{"link-pending-commands", "0"},
		{"link-refcount", "1"},
	}
	if m.FailoverInProgress {
		fs = append(fs, field{"failover-state", "wait_promotion"})
	}
	fs = pingFields(fs, m.DownAfterMs)
	return append(fs,
		field{"info-refresh", "0"},
		field{"role-reported", "master"},
		field{"role-reported-time", "0"},
		field{"config-epoch", itoa(m.Epoch)},
		field{"num-slaves", itoa(len(m.Replicas))},
		field{"num-other-sentinels", itoa(otherSentinels)},
		field{"quorum", itoa(m.Quorum)},
		field{"failover-timeout", itoa(failoverTimeoutMs)},
		field{"parallel-syncs", "1"},
	)
}

func replicaFields(m Master, r Replica) []field {
	link, linkDown := "ok", "0"
	if !r.LinkUp {
		link, linkDown = "err", "-1000" // what Sentinel shows before a first link
	}
	fs := []field{
		{"name", net.JoinHostPort(r.Addr.Host, itoa(r.Addr.Port))},
		{"ip", r.Addr.Host},
		{"port", itoa(r.Addr.Port)},
		{"runid", r.RunID},
		{"flags", flags(r.Down, false, "slave", r.Down, false)},
		{"link-pending-commands", "0"},
		{"link-refcount", "1"},
	}
	fs = pingFields(fs, m.DownAfterMs)
	return append(fs,
		field{"info-refresh", "0"},
		field{"role-reported", "slave"},
		field{"role-reported-time", "0"},
		field{"master-link-down-time", linkDown},
		field{"master-link-status", link},
		field{"master-host", m.Addr.Host},
		field{"master-port", itoa(m.Addr.Port)},
		field{"slave-priority", itoa(r.Priority)},
		field{"slave-repl-offset", itoa(r.Offset)},
		field{"replica-announced", "1"},
	)
}

func sentinelFields(m Master, p Peer) []field {
	runID := p.RunID
	if runID == "" {
		runID = p.ID
	}
	fs := []field{
		// Sentinel names a sentinel by its id (SENTINEL MYID on it).
		{"name", p.ID},
		{"ip", p.Addr.Host},
		{"port", itoa(p.Addr.Port)},
		{"runid", runID},
		{"flags", flags(p.Down, false, "sentinel", p.Down, false)},
		{"link-pending-commands", "0"},
		{"link-refcount", "1"},
	}
	fs = pingFields(fs, m.DownAfterMs)
	return append(fs,
		field{"last-hello-message", "0"},
		field{"voted-leader", "?"},
		field{"voted-leader-epoch", "0"},
	)
}
