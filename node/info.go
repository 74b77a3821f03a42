package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// INFO: sections, in Redis 7.0's order. Each generator appends "key:value"
// lines; a subsystem may replace a generator (e.g. persistence, replication)
// by assigning infoGenerators[name] in its init function.

type infoSection struct {
	name  string // lower case, as INFO's arguments name it
	title string // "# Title" header
	def   bool   // part of the default set
}

var infoSectionList = []infoSection{
	{"server", "Server", true},
	{"clients", "Clients", true},
	{"memory", "Memory", true},
	{"persistence", "Persistence", true},
	{"stats", "Stats", true},
	{"replication", "Replication", true},
	{"cpu", "CPU", true},
	{"modules", "Modules", true},
	{"commandstats", "Commandstats", false},
	{"errorstats", "Errorstats", true},
	{"latencystats", "Latencystats", false},
	{"cluster", "Cluster", true},
	{"keyspace", "Keyspace", true},
}

// infoGenerators writes each section's lines.
var infoGenerators = map[string]func(s *Server, w *infoWriter){
	"server":       infoServer,
	"clients":      infoClients,
	"memory":       infoMemory,
	"persistence":  infoPersistence,
	"stats":        infoStats,
	"replication":  infoReplication,
	"cpu":          infoCPU,
	"modules":      func(*Server, *infoWriter) {},
	"commandstats": infoCommandStats,
	"errorstats":   infoErrorStats,
	"latencystats": infoLatencyStats,
	"cluster": func(s *Server, w *infoWriter) {
		enabled := int64(0)
		if s.cluster != nil {
			enabled = 1
		}
		w.int("cluster_enabled", enabled)
	},
	"keyspace": infoKeyspace,
}

// infoWriter accumulates "key:value\r\n" lines.
type infoWriter struct{ b []byte }

func (w *infoWriter) str(k, v string) {
	w.b = append(w.b, k...)
	w.b = append(w.b, ':')
	w.b = append(w.b, v...)
	w.b = append(w.b, '\r', '\n')
}

func (w *infoWriter) int(k string, v int64) {
	w.b = append(w.b, k...)
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, v, 10)
	w.b = append(w.b, '\r', '\n')
}

func (w *infoWriter) float(k string, v float64, prec int) {
	w.b = append(w.b, k...)
	w.b = append(w.b, ':')
	w.b = strconv.AppendFloat(w.b, v, 'f', prec, 64)
	w.b = append(w.b, '\r', '\n')
}

// line appends a preformatted line.
func (w *infoWriter) line(l string) {
	w.b = append(w.b, l...)
	w.b = append(w.b, '\r', '\n')
}

func cmdInfo(c *Ctx) {
	c.Verbatim(c.s.infoString(c.Args[1:]))
}

// infoString renders the INFO sections selected by args (Redis 7.0 rules:
// no argument = default; "all" = everything but module sections;
// "everything" = all; names are case-insensitive; unknown ones are ignored).
func (s *Server) infoString(args [][]byte) string {
	want := map[string]bool{}
	all := false
	if len(args) == 0 {
		want["default"] = true
	}
	for _, a := range args {
		n := strings.ToLower(string(a))
		switch n {
		case "all", "everything":
			all = true
		default:
			want[n] = true
		}
	}
	w := &infoWriter{}
	first := true
	for _, sec := range infoSectionList {
		if !all && !want[sec.name] && !(sec.def && want["default"]) {
			continue
		}
		if !first {
			w.b = append(w.b, '\r', '\n')
		}
		first = false
		w.b = append(w.b, "# "...)
		w.b = append(w.b, sec.title...)
		w.b = append(w.b, '\r', '\n')
		if gen := infoGenerators[sec.name]; gen != nil {
			gen(s, w)
		}
	}
	return string(w.b)
}

// ---- per-server INFO state: replication id, ops/sec sampler, memory peak.

type serverInfoState struct {
	replID     string
	startupMem uint64
	peakMem    atomic.Uint64

	mu        sync.Mutex
	samples   [16]int64
	sampleIdx int
}

var serverInfoStates sync.Map // *Server -> *serverInfoState

// infoState returns the server's INFO state, starting its sampler (which
// stops when the server does) on first use.
func (s *Server) infoState() *serverInfoState {
	if v, ok := serverInfoStates.Load(s); ok {
		return v.(*serverInfoState)
	}
	id := make([]byte, 20)
	rand.Read(id)
	st := &serverInfoState{replID: hex.EncodeToString(id), startupMem: uint64(s.usedMemory())}
	st.peakMem.Store(st.startupMem)
	v, loaded := serverInfoStates.LoadOrStore(s, st)
	if !loaded {
		go st.sample(s)
	}
	return v.(*serverInfoState)
}

// sample tracks instantaneous_ops_per_sec as Redis does: a rate every
// 100 ms, averaged over the last 16 samples.
func (st *serverInfoState) sample(s *Server) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	defer serverInfoStates.Delete(s)
	last := s.stats.commands.Load()
	lastT := time.Now()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			n := s.stats.commands.Load()
			ms := now.Sub(lastT).Milliseconds()
			var rate int64
			if ms > 0 {
				rate = (n - last) * 1000 / ms
			}
			last, lastT = n, now
			st.mu.Lock()
			st.samples[st.sampleIdx] = rate
			st.sampleIdx = (st.sampleIdx + 1) % len(st.samples)
			st.mu.Unlock()
			st.notePeak(uint64(s.usedMemory()))
		}
	}
}

func (st *serverInfoState) opsPerSec() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var sum int64
	for _, v := range st.samples {
		sum += v
	}
	return sum / int64(len(st.samples))
}

func (st *serverInfoState) notePeak(used uint64) {
	for {
		p := st.peakMem.Load()
		if used <= p || st.peakMem.CompareAndSwap(p, used) {
			return
		}
	}
}

// ---- host facts, computed once.

var infoHost struct {
	once     sync.Once
	os       string
	totalMem int64
	exe      string
	buildID  string
}

func infoHostFacts() {
	infoHost.once.Do(func() {
		sys := map[string]string{"linux": "Linux", "darwin": "Darwin", "freebsd": "FreeBSD"}[runtime.GOOS]
		if sys == "" {
			sys = runtime.GOOS
		}
		rel := "unknown"
		if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
			rel = strings.TrimSpace(string(b))
		}
		machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l"}[runtime.GOARCH]
		if machine == "" {
			machine = runtime.GOARCH
		}
		infoHost.os = sys + " " + rel + " " + machine
		if b, err := os.ReadFile("/proc/meminfo"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
					kb, _ := strconv.ParseInt(f[1], 10, 64)
					infoHost.totalMem = kb * 1024
				}
			}
		}
		if exe, err := os.Executable(); err == nil {
			infoHost.exe = exe
		}
		sum := [8]byte{}
		copy(sum[:], "warden"+WardenVersion)
		infoHost.buildID = hex.EncodeToString(sum[:])[:15]
	})
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(string(f[1]), 10, 64)
	return pages * int64(os.Getpagesize())
}

// bytesToHuman formats a byte count as Redis's bytesToHuman.
func bytesToHuman(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	case n < 1<<60:
		return fmt.Sprintf("%.2fP", d/(1<<50))
	}
	return strconv.FormatInt(n, 10) + "B"
}

// ---- sections

func (s *Server) tcpPort() int64 {
	if a := s.Addr(); a != nil {
		if _, p, err := net.SplitHostPort(a.String()); err == nil {
			n, _ := strconv.ParseInt(p, 10, 64)
			return n
		}
	}
	return s.cfg.Int("port")
}

func infoServer(s *Server, w *infoWriter) {
	infoHostFacts()
	now := time.Now()
	up := int64(now.Sub(s.start) / time.Second)
	w.str("redis_version", Version)
	w.str("redis_git_sha1", "00000000")
	w.str("redis_git_dirty", "0")
	w.str("redis_build_id", infoHost.buildID)
	w.str("redis_mode", "standalone")
	w.str("os", infoHost.os)
	w.int("arch_bits", strconv.IntSize)
	w.str("monotonic_clock", "POSIX clock_gettime")
	w.str("multiplexing_api", "epoll")
	w.str("atomicvar_api", "c11-builtin")
	w.str("gcc_version", "0.0.0")
	w.int("process_id", int64(os.Getpid()))
	w.str("process_supervised", "no")
	w.str("run_id", s.runID)
	w.int("tcp_port", s.tcpPort())
	w.int("server_time_usec", now.UnixMicro())
	w.int("uptime_in_seconds", up)
	w.int("uptime_in_days", up/86400)
	w.int("hz", s.cfg.Int("hz"))
	w.int("configured_hz", s.cfg.Int("hz"))
	w.int("lru_clock", (now.UnixMilli()/1000)&(1<<24-1))
	w.str("executable", infoHost.exe)
	cf := ""
	if s.cfg.File != "" {
		cf, _ = filepath.Abs(s.cfg.File)
	}
	w.str("config_file", cf)
	w.int("io_threads_active", 0)
}

func (s *Server) numClients() int64 {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	return int64(len(s.clients))
}

func infoClients(s *Server, w *infoWriter) {
	w.int("connected_clients", s.numClients())
	w.int("cluster_connections", 0)
	w.int("maxclients", s.cfg.Int("maxclients"))
	w.int("client_recent_max_input_buffer", 0)
	w.int("client_recent_max_output_buffer", 0)
	w.int("blocked_clients", s.stats.blockedClients.Load())
	w.int("tracking_clients", s.track.Stats().Clients)
	w.int("clients_in_timeout_table", 0)
}

func infoMemory(s *Server, w *infoWriter) {
	st := s.infoState()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// used_memory is what maxmemory is enforced against (node/evict.go):
	// the store's tables plus the data set's running size; the Go heap
	// (garbage included) shows in allocator_* and used_memory_rss.
	startup := s.store.Overhead()
	dataset := s.store.Used()
	used := startup + dataset
	st.notePeak(uint64(used))
	peak := int64(st.peakMem.Load())
	rss := rssBytes()
	overhead := startup
	maxmem := s.cfg.Int("maxmemory")
	pct := func(a, b int64) string {
		if b <= 0 {
			return "0.00%"
		}
		return strconv.FormatFloat(float64(a)*100/float64(b), 'f', 2, 64) + "%"
	}
	ratio := func(a, b int64) float64 {
		if b <= 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	active := int64(ms.HeapInuse)
	resident := int64(ms.HeapSys - ms.HeapReleased)
	w.int("used_memory", used)
	w.str("used_memory_human", bytesToHuman(used))
	w.int("used_memory_rss", rss)
	w.str("used_memory_rss_human", bytesToHuman(rss))
	w.int("used_memory_peak", peak)
	w.str("used_memory_peak_human", bytesToHuman(peak))
	w.str("used_memory_peak_perc", pct(used, peak))
	w.int("used_memory_overhead", overhead)
	w.int("used_memory_startup", startup)
	w.int("used_memory_dataset", dataset)
	w.str("used_memory_dataset_perc", pct(dataset, used-startup))
	w.int("allocator_allocated", int64(ms.HeapAlloc))
	w.int("allocator_active", active)
	w.int("allocator_resident", resident)
	w.int("total_system_memory", infoHost.totalMem)
	w.str("total_system_memory_human", bytesToHuman(infoHost.totalMem))
	w.int("used_memory_lua", 0)
	w.int("used_memory_vm_eval", 0)
	w.str("used_memory_lua_human", "0B")
	eng := s.scripting.engine
	nlibs, nfuncs := eng.FunctionCounts()
	w.int("used_memory_scripts_eval", eng.CacheBytes())
	w.int("number_of_cached_scripts", int64(eng.NumScripts()))
	w.int("number_of_functions", int64(nfuncs))
	w.int("number_of_libraries", int64(nlibs))
	w.int("used_memory_vm_functions", 0)
	w.int("used_memory_vm_total", 0)
	w.str("used_memory_vm_total_human", "0B")
	w.int("used_memory_functions", 0)
	w.int("used_memory_scripts", 0)
	w.str("used_memory_scripts_human", "0B")
	w.int("maxmemory", maxmem)
	w.str("maxmemory_human", bytesToHuman(maxmem))
	w.str("maxmemory_policy", s.cfg.Get("maxmemory-policy"))
	w.float("allocator_frag_ratio", ratio(active, int64(ms.HeapAlloc)), 2)
	w.int("allocator_frag_bytes", active-int64(ms.HeapAlloc))
	w.float("allocator_rss_ratio", ratio(resident, active), 2)
	w.int("allocator_rss_bytes", resident-active)
	w.float("rss_overhead_ratio", ratio(rss, resident), 2)
	w.int("rss_overhead_bytes", rss-resident)
	w.float("mem_fragmentation_ratio", ratio(rss, used), 2)
	w.int("mem_fragmentation_bytes", rss-used)
	w.int("mem_not_counted_for_evict", 0)
	w.int("mem_replication_backlog", 0)
	w.int("mem_total_replication_buffers", 0)
	w.int("mem_clients_slaves", 0)
	w.int("mem_clients_normal", 0)
	w.int("mem_cluster_links", 0)
	w.int("mem_aof_buffer", 0)
	w.str("mem_allocator", "libc")
	w.int("active_defrag_running", 0)
	w.int("lazyfree_pending_objects", 0)
	w.int("lazyfreed_objects", 0)
	// warden's own: the Go garbage collector's work (Redis has none), so
	// operators can see whether it shows up in tail latency.
	var maxPause uint64
	for _, p := range ms.PauseNs {
		maxPause = max(maxPause, p)
	}
	w.int("gc_cycles", int64(ms.NumGC))
	w.float("gc_pause_total_ms", float64(ms.PauseTotalNs)/1e6, 3)
	w.float("gc_pause_max_recent_ms", float64(maxPause)/1e6, 3)
	w.float("gc_cpu_fraction", ms.GCCPUFraction, 4)
}

func infoStats(s *Server, w *infoWriter) {
	st := &s.stats
	chans, pats, shards := s.hub.counts()
	cmds := st.commands.Load()
	w.int("total_connections_received", st.connsReceived.Load())
	w.int("total_commands_processed", cmds)
	w.int("instantaneous_ops_per_sec", s.infoState().opsPerSec())
	w.int("total_net_input_bytes", 0)
	w.int("total_net_output_bytes", 0)
	w.int("total_net_repl_input_bytes", 0)
	w.int("total_net_repl_output_bytes", 0)
	w.str("instantaneous_input_kbps", "0.00")
	w.str("instantaneous_output_kbps", "0.00")
	w.str("instantaneous_input_repl_kbps", "0.00")
	w.str("instantaneous_output_repl_kbps", "0.00")
	w.int("rejected_connections", st.rejectedConns.Load())
	w.int("sync_full", s.stats.syncFull.Load())
	w.int("sync_partial_ok", s.stats.syncPartialOK.Load())
	w.int("sync_partial_err", s.stats.syncPartialErr.Load())
	w.int("expired_keys", st.expiredKeys.Load())
	w.str("expired_stale_perc", "0.00")
	w.int("expired_time_cap_reached_count", 0)
	w.int("expire_cycle_cpu_milliseconds", 0)
	w.int("evicted_keys", s.evictor.Evicted())
	w.int("evicted_clients", 0)
	w.int("total_eviction_exceeded_time", 0)
	w.int("current_eviction_exceeded_time", 0)
	w.int("keyspace_hits", st.keyspaceHits.Load())
	w.int("keyspace_misses", st.keyspaceMisses.Load())
	w.int("pubsub_channels", int64(chans))
	w.int("pubsub_patterns", int64(pats))
	w.int("pubsubshard_channels", int64(shards))
	w.int("latest_fork_usec", 0)
	w.int("total_forks", 0)
	w.int("migrate_cached_sockets", 0)
	w.int("slave_expires_tracked_keys", 0)
	w.int("active_defrag_hits", 0)
	w.int("active_defrag_misses", 0)
	w.int("active_defrag_key_hits", 0)
	w.int("active_defrag_key_misses", 0)
	w.int("total_active_defrag_time", 0)
	w.int("current_active_defrag_time", 0)
	ts := s.track.Stats()
	w.int("tracking_total_keys", ts.Keys)
	w.int("tracking_total_items", ts.Items)
	w.int("tracking_total_prefixes", ts.Prefixes)
	w.int("unexpected_error_replies", 0)
	w.int("total_error_replies", st.totalErrors.Load())
	w.int("dump_payload_sanitizations", 0)
	w.int("total_reads_processed", cmds)
	w.int("total_writes_processed", cmds)
	w.int("io_threaded_reads_processed", 0)
	w.int("io_threaded_writes_processed", 0)
	w.int("reply_buffer_shrinks", 0)
	w.int("reply_buffer_expands", 0)
}

func infoCPU(s *Server, w *infoWriter) {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", t.Sec, t.Usec)
	}
	w.str("used_cpu_sys", tv(self.Stime))
	w.str("used_cpu_user", tv(self.Utime))
	w.str("used_cpu_sys_children", tv(children.Stime))
	w.str("used_cpu_user_children", tv(children.Utime))
	w.str("used_cpu_sys_main_thread", tv(self.Stime))
	w.str("used_cpu_user_main_thread", tv(self.Utime))
}

func infoCmdStat(w *infoWriter, cmd *Command) {
	calls, usec := cmd.calls.Load(), cmd.usec.Load()
	rejected, failed := cmd.rejected.Load(), cmd.failed.Load()
	if calls == 0 && rejected == 0 && failed == 0 {
		return
	}
	per := 0.0
	if calls > 0 {
		per = float64(usec) / float64(calls)
	}
	w.line(fmt.Sprintf("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
		cmd.Name, calls, usec, per, rejected, failed))
}

func infoCommandStats(s *Server, w *infoWriter) {
	for _, cmd := range s.sortedCommands() {
		infoCmdStat(w, cmd)
		for _, sub := range sortedSubs(cmd) {
			infoCmdStat(w, sub)
		}
	}
}

// sortedSubs returns a container's subcommands in name order.
func sortedSubs(cmd *Command) []*Command {
	if len(cmd.Subs) == 0 {
		return nil
	}
	out := make([]*Command, 0, len(cmd.Subs))
	for _, sub := range cmd.Subs {
		out = append(out, sub)
	}
	sortCommands(out)
	return out
}

func infoErrorStats(s *Server, w *infoWriter) {
	codes, counts := s.stats.errorCounts()
	for _, code := range codes {
		w.line("errorstat_" + code + ":count=" + strconv.FormatInt(counts[code], 10))
	}
}

func infoKeyspace(s *Server, w *infoWriter) {
	for i := 0; i < s.store.NumDBs(); i++ {
		db := s.store.DB(i)
		n := db.Len()
		if n == 0 {
			continue
		}
		w.line("db" + strconv.Itoa(i) + ":keys=" + strconv.FormatInt(n, 10) +
			",expires=" + strconv.FormatInt(db.Volatile(), 10) + ",avg_ttl=0")
	}
}
