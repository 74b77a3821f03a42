package node

import (
	"sort"
	"strings"
	"sync/atomic"

	"github.com/wardenkv/warden/acl"
	"github.com/wardenkv/warden/latency"
)

// Flags describe a command as COMMAND INFO reports it, plus how dispatch
// locks the keyspace for it.
type Flags uint32

const (
	fWrite Flags = 1 << iota
	fReadonly
	fDenyOOM
	fAdmin
	fPubsub
	fNoScript
	fBlocking
	fLoading
	fStale
	fFast
	fNoAuth
	fSkipMonitor
	fNoMulti  // Redis's no_multi: refused inside MULTI (SAVE, SHUTDOWN, SYNC, PSYNC)
	fTxCtl    // runs at once inside MULTI instead of being queued (EXEC, DISCARD, WATCH, ...)
	fAllKeys  // needs the whole current database locked (KEYS, FLUSHDB, SCAN)
	fAllDBs   // needs every database locked (FLUSHALL, SWAPDB, MOVE)
	fPubsubOK // allowed in RESP2 subscribed mode
	// fProtected is Redis's CMD_PROTECTED: refused unless
	// enable-debug-command allows it for this connection (DEBUG).
	fProtected
	// fNotKey: the key positions hold channels (Redis's not_key key spec,
	// sharded pub/sub). Cluster routing hashes them; locking, GETKEYS and
	// ACL key checks ignore them.
	fNotKey
	fAllowBusy // Redis's allow_busy: runs while a script is busy (BUSY otherwise)
	fScript    // runs a script: it takes the script lock, then its keys (no dispatch locking)
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{fWrite, "write"}, {fReadonly, "readonly"}, {fDenyOOM, "denyoom"}, {fAdmin, "admin"},
	{fPubsub, "pubsub"}, {fNoScript, "noscript"}, {fBlocking, "blocking"}, {fLoading, "loading"},
	{fStale, "stale"}, {fSkipMonitor, "skip_monitor"}, {fFast, "fast"}, {fNoAuth, "no_auth"},
	{fNoMulti, "no_multi"}, {fAllowBusy, "allow_busy"},
}

// Command is one entry of the command table.
type Command struct {
	Name     string // lower case; "container|sub" for subcommands
	Arity    int    // Redis convention: n exact, -n at least n (name included)
	Flags    Flags
	FirstKey int // 0 = no keys
	LastKey  int // negative counts from the end
	Step     int
	// KeyFn returns the keys of commands whose key positions depend on the
	// arguments (numkeys); it must tolerate any argument vector.
	KeyFn func(args [][]byte) [][]byte
	// WholeDB, when set, reports whether this invocation reads keys its
	// arguments do not name (SORT's BY and GET patterns): it then locks
	// the whole database, as fAllKeys does.
	WholeDB func(args [][]byte) bool
	Run     func(c *Ctx)
	Subs    map[string]*Command
	Group   string // COMMAND DOCS group (string, list, ...)
	aclID   int    // index in the ACL catalog (user command bitmaps)
	// aclKeyPerm is the key access every key of the command needs, when
	// aclKeyUniform (else derived per call from the key specs).
	aclKeyPerm    acl.KeyPerm
	aclKeyUniform bool

	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64
	failed   atomic.Int64
	latency  atomic.Pointer[latency.Histogram] // LATENCY HISTOGRAM, set on first call
}

// keys returns the key arguments of one invocation.
func (cmd *Command) keys(args [][]byte, buf [][]byte) [][]byte {
	if cmd.Flags&fNotKey != 0 {
		return nil
	}
	return cmd.routeKeys(args, buf)
}

// routeKeys returns the arguments cluster routing hashes: the keys, or the
// shard channels of sharded pub/sub.
func (cmd *Command) routeKeys(args [][]byte, buf [][]byte) [][]byte {
	if cmd.KeyFn != nil {
		return cmd.KeyFn(args)
	}
	if cmd.FirstKey <= 0 || cmd.FirstKey >= len(args) {
		return nil
	}
	last := cmd.LastKey
	if last < 0 {
		last += len(args)
	}
	if last >= len(args) {
		last = len(args) - 1
	}
	step := max(cmd.Step, 1)
	if step == 1 && last >= cmd.FirstKey {
		return args[cmd.FirstKey : last+1]
	}
	for i := cmd.FirstKey; i <= last; i += step {
		buf = append(buf, args[i])
	}
	return buf
}

// table is filled by each command family's register function.
type table map[string]*Command

func (t table) add(cmds ...*Command) {
	for _, c := range cmds {
		if c.Step == 0 && c.FirstKey > 0 {
			c.Step = 1
		}
		if c.LastKey == 0 && c.FirstKey > 0 {
			c.LastKey = c.FirstKey
		}
		if _, dup := t[c.Name]; dup {
			panic("duplicate command " + c.Name)
		}
		for name, sub := range c.Subs {
			sub.Name = c.Name + "|" + name
			if sub.Step == 0 && sub.FirstKey > 0 {
				sub.Step = 1
			}
			if sub.LastKey == 0 && sub.FirstKey > 0 {
				sub.LastKey = sub.FirstKey
			}
		}
		t[c.Name] = c
	}
}

// subs builds a subcommand map from commands named by their subcommand.
func subs(cmds ...*Command) map[string]*Command {
	m := make(map[string]*Command, len(cmds))
	for _, c := range cmds {
		m[c.Name] = c
	}
	return m
}

func buildCommandTable() map[string]*Command {
	t := table{}
	registerConnection(t)
	registerServer(t)
	registerKeys(t)
	registerStrings(t)
	registerBitmaps(t)
	registerBitOps(t)
	registerSort(t)
	registerLCS(t)
	registerSlowlog(t)
	registerLatency(t)
	registerMemory(t)
	registerLolwut(t)
	registerMonitor(t)
	registerLists(t)
	registerHashes(t)
	registerSets(t)
	registerZSets(t)
	registerStreams(t)
	registerHyperLogLog(t)
	registerGeo(t)
	registerTransactions(t)
	registerPubsub(t)
	registerDump(t)
	registerMigrate(t)
	registerFailover(t)
	registerPersistence(t)
	registerReplication(t)
	registerReplicaCommands(t)
	registerCluster(t)
	registerScripting(t)
	registerACL(t)
	markAllowBusy(t)
	return t
}

// markAllowBusy sets fAllowBusy from Redis's metadata (allow_busy), the
// one table of it.
func markAllowBusy(t table) {
	mark := func(c *Command) {
		if strings.Contains(serverCmdTable[c.Name].flags, "allow_busy") {
			c.Flags |= fAllowBusy
		}
	}
	for _, c := range t {
		mark(c)
		for _, sub := range c.Subs {
			mark(sub)
		}
	}
}

// sortedCommands returns the table in name order (COMMAND, COMMAND LIST).
func (s *Server) sortedCommands() []*Command {
	out := make([]*Command, 0, len(s.cmds))
	for _, c := range s.cmds {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (cmd *Command) flagList() []string {
	var out []string
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			out = append(out, f.name)
		}
	}
	if cmd.KeyFn != nil {
		out = append(out, "movablekeys")
	}
	return out
}
