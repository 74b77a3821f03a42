package sentinel

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// infoSections are INFO's sections on this listener, in order.
var infoSections = []struct {
	name string
	fn   func(s *Server, b *strings.Builder)
}{
	{"server", infoServer},
	{"clients", infoClients},
	{"sentinel", infoSentinel},
}

// cmdInfo: INFO [section ...]; "all", "default" and "everything" mean every
// section, an unknown section adds nothing (an empty reply, as Redis).
func cmdInfo(s *Server, c *client, args [][]byte) {
	want := map[string]bool{}
	all := len(args) == 1
	for _, a := range args[1:] {
		sec := strings.ToLower(string(a))
		if sec == "all" || sec == "default" || sec == "everything" {
			all = true
		}
		want[sec] = true
	}
	var parts []string
	for _, sec := range infoSections {
		if all || want[sec.name] {
			var b strings.Builder
			sec.fn(s, &b)
			parts = append(parts, b.String())
		}
	}
	c.conn.WriteBulkString(strings.Join(parts, "\r\n"))
}

func line(b *strings.Builder, k string, v any) {
	fmt.Fprintf(b, "%s:%v\r\n", k, v)
}

func infoServer(s *Server, b *strings.Builder) {
	now := time.Now()
	up := int64(now.Sub(s.start) / time.Second)
	port := 0
	if a := s.Addr(); a != nil {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			port, _ = strconv.Atoi(p)
		}
	}
	exe, _ := os.Executable()
	b.WriteString("# Server\r\n")
	line(b, "redis_version", redisVersion)
	line(b, "redis_git_sha1", "00000000")
	line(b, "redis_git_dirty", 0)
	line(b, "redis_mode", "sentinel")
	line(b, "os", runtime.GOOS+" "+runtime.GOARCH)
	line(b, "arch_bits", strconv.IntSize)
	line(b, "multiplexing_api", "epoll")
	line(b, "process_id", os.Getpid())
	line(b, "run_id", s.runID)
	line(b, "tcp_port", port)
	line(b, "server_time_usec", now.UnixMicro())
	line(b, "uptime_in_seconds", up)
	line(b, "uptime_in_days", up/86400)
	line(b, "hz", 10)
	line(b, "configured_hz", 10)
	line(b, "executable", exe)
	line(b, "config_file", "")
	line(b, "warden_node_id", oneLine(s.view.MyID()))
}

func infoClients(s *Server, b *strings.Builder) {
	b.WriteString("# Clients\r\n")
	line(b, "connected_clients", s.numClients())
	line(b, "cluster_connections", 0)
	line(b, "blocked_clients", 0)
	line(b, "tracking_clients", 0)
}

func infoSentinel(s *Server, b *strings.Builder) {
	ms := masters(s.view)
	sentinels := len(s.view.Sentinels()) + 1 // Sentinel counts itself
	b.WriteString("# Sentinel\r\n")
	line(b, "sentinel_masters", len(ms))
	line(b, "sentinel_tilt", 0)
	line(b, "sentinel_tilt_since_seconds", -1)
	line(b, "sentinel_running_scripts", 0)
	line(b, "sentinel_scripts_queue_length", 0)
	line(b, "sentinel_simulate_failure_flags", 0)
	for i, m := range ms {
		status := "ok"
		if m.Down || m.ID == "" {
			status = "odown"
		}
		fmt.Fprintf(b, "master%d:name=%s,status=%s,address=%s,slaves=%d,sentinels=%d\r\n",
			i, m.Name, status, net.JoinHostPort(m.Addr.Host, strconv.Itoa(m.Addr.Port)), len(m.Replicas), sentinels)
	}
}

// cmdRole: ["sentinel", [master names...]].
func cmdRole(s *Server, c *client, args [][]byte) {
	ms := masters(s.view)
	c.conn.WriteArray(2)
	c.conn.WriteBulkString("sentinel")
	c.conn.WriteArray(len(ms))
	for _, m := range ms {
		c.conn.WriteBulkString(m.Name)
	}
}
