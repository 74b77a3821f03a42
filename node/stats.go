package node

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// stats are the counters INFO stats reports.
type stats struct {
	commands       atomic.Int64
	connsReceived  atomic.Int64
	rejectedConns  atomic.Int64
	expiredKeys    atomic.Int64
	keyspaceHits   atomic.Int64
	keyspaceMisses atomic.Int64
	blockedClients atomic.Int64
	pubsubMessages atomic.Int64
	totalErrors    atomic.Int64
	syncFull       atomic.Int64
	syncPartialOK  atomic.Int64
	syncPartialErr atomic.Int64

	errMu  sync.Mutex
	errors map[string]int64 // error code -> count (INFO errorstats)
}

func (st *stats) countError(msg string) {
	st.totalErrors.Add(1)
	code, _, _ := strings.Cut(msg, " ")
	st.errMu.Lock()
	if st.errors == nil {
		st.errors = map[string]int64{}
	}
	st.errors[code]++
	st.errMu.Unlock()
}

func (st *stats) errorCounts() ([]string, map[string]int64) {
	st.errMu.Lock()
	defer st.errMu.Unlock()
	out := make(map[string]int64, len(st.errors))
	keys := make([]string, 0, len(st.errors))
	for k, v := range st.errors {
		out[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, out
}

func (st *stats) reset() {
	st.commands.Store(0)
	st.connsReceived.Store(0)
	st.rejectedConns.Store(0)
	st.expiredKeys.Store(0)
	st.keyspaceHits.Store(0)
	st.keyspaceMisses.Store(0)
	st.pubsubMessages.Store(0)
	st.totalErrors.Store(0)
	st.errMu.Lock()
	st.errors = nil
	st.errMu.Unlock()
}

func sortClients(cls []*Client) {
	sort.Slice(cls, func(i, j int) bool { return cls[i].ID < cls[j].ID })
}
