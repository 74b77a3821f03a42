// Package tracking is Redis 6+/7.0 client-side caching (CLIENT TRACKING):
// the table of keys clients read, the prefixes broadcast clients follow,
// and the invalidation messages sent when keys change, as Redis's
// tracking.c does.
//
// Concurrency: one mutex guards the whole table. Key modifications report
// here while the writer holds the key's partition lock, and reads are
// remembered before the reader releases its lock, so an invalidation can
// never be lost between a read and the next write. Messages are queued on
// the target connection (Conn.Push never blocks). A client whose command is
// running (Begin..End) receives its invalidations after that command's
// reply, as Redis's tracking_pending_keys: otherwise an invalidation could
// overtake the reply carrying the value it invalidates.
package tracking

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/wardenkv/warden/keyspace/aof"
)

// Conn is a client connection as the table needs it.
type Conn interface {
	// RESP3 reports whether the connection speaks RESP3 (push frames).
	RESP3() bool
	// Subscribed reports whether it is in pub/sub mode (a RESP2 redirect
	// target receives __redis__:invalidate messages only then).
	Subscribed() bool
	// Closed reports whether the connection is gone.
	Closed() bool
	// Push queues frame for the connection without blocking.
	Push(frame []byte)
}

// Options are CLIENT TRACKING ON's options.
type Options struct {
	Redirect   Conn  // target of REDIRECT, nil for none
	RedirectID int64 // its id (0: none)
	BCast      bool
	OptIn      bool
	OptOut     bool
	NoLoop     bool
	Prefixes   [][]byte
}

// Errors of CLIENT TRACKING ON, with Redis 7.0's texts.
var (
	ErrPrefixNeedsBcast = errors.New("ERR PREFIX option requires BCAST mode to be enabled")
	ErrBcastSwitch      = errors.New("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
	ErrOptBcast         = errors.New("ERR OPTIN and OPTOUT are not compatible with BCAST")
	ErrOptInOut         = errors.New("ERR You can't specify both OPTIN mode and OPTOUT mode")
	ErrOptSwitch        = errors.New("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
	ErrCachingMode      = errors.New("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
	ErrCachingYes       = errors.New("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
	ErrCachingNo        = errors.New("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
)

// client is one connection's tracking state; fields are guarded by
// Table.mu.
type client struct {
	id      int64
	conn    Conn
	on      bool
	redirID int64
	redir   Conn
	bcast   bool
	optin   bool
	optout  bool
	noloop  bool
	caching bool // CLIENT CACHING given for the next command
	broken  bool // the redirect target went away
	// prefixes followed in BCAST mode (kept across OFF/ON as Redis does
	// until tracking is disabled).
	prefixes map[string]struct{}
	// running: a command of this client is executing; its messages wait
	// in pending until End.
	running bool
	pending [][]byte // invalidation values (RESP array of keys, or null)
}

// prefix is one broadcast prefix: its followers and the keys under it
// modified since the last broadcast, with the id of their last modifier
// (NOLOOP).
type prefix struct {
	clients map[int64]*client
	keys    map[string]int64
}

// Table is the tracking table of one server.
type Table struct {
	mu       sync.Mutex
	clients  map[int64]*client
	keys     map[string]map[int64]struct{}
	items    int64
	prefixes map[string]*prefix
	limitRun int // trackingLimitUsedSlots's timeout_counter

	// used becomes true on the first CLIENT TRACKING ON: until then every
	// hook is one atomic load (Redis: TrackingTable == NULL).
	used      atomic.Bool
	nclients  atomic.Int64
	bcastDirt atomic.Bool
	maxKeys   atomic.Int64
	over      atomic.Bool // the table may hold more than maxKeys keys
	// idle: no key remembered and no prefix followed, so a modification
	// has nothing to do (kept under mu, read without it by Invalidate: a
	// key is remembered under the key's lock, which the writer holds too).
	idle atomic.Bool
}

// New returns an empty table.
func New() *Table {
	t := &Table{
		clients:  map[int64]*client{},
		keys:     map[string]map[int64]struct{}{},
		prefixes: map[string]*prefix{},
	}
	t.maxKeys.Store(1000000)
	t.idle.Store(true)
	return t
}

// SetMaxKeys sets tracking-table-max-keys (0: no limit).
func (t *Table) SetMaxKeys(n int64) {
	t.maxKeys.Store(n)
	t.over.Store(true) // Limit checks again
}

// Used reports whether tracking was ever enabled (the hooks are no-ops
// before).
func (t *Table) Used() bool { return t.used.Load() }

// Enable is CLIENT TRACKING ON for client id on conn, with Redis's checks.
func (t *Table) Enable(id int64, conn Conn, o Options) error {
	if !o.BCast && len(o.Prefixes) > 0 {
		return ErrPrefixNeedsBcast
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c != nil && c.on && c.bcast != o.BCast {
		return ErrBcastSwitch
	}
	if o.BCast && (o.OptIn || o.OptOut) {
		return ErrOptBcast
	}
	if o.OptIn && o.OptOut {
		return ErrOptInOut
	}
	if c != nil && c.on && (o.OptIn && c.optout || o.OptOut && c.optin) {
		return ErrOptSwitch
	}
	if o.BCast {
		if err := checkPrefixes(c, o.Prefixes); err != nil {
			return err
		}
	}
	if c == nil {
		c = &client{id: id}
		t.clients[id] = c
	}
	if !c.on {
		t.nclients.Add(1)
	}
	t.used.Store(true)
	c.conn = conn
	c.on = true
	c.broken, c.bcast, c.optin, c.optout, c.noloop = false, false, false, false, false
	c.redirID, c.redir = o.RedirectID, o.Redirect
	if o.BCast {
		c.bcast = true
		if len(o.Prefixes) == 0 {
			t.follow(c, "")
		}
		for _, p := range o.Prefixes {
			t.follow(c, string(p))
		}
	}
	c.optin, c.optout, c.noloop = o.OptIn, o.OptOut, o.NoLoop
	return nil
}

// checkPrefixes is Redis's checkPrefixCollisionsOrReply.
func checkPrefixes(c *client, ps [][]byte) error {
	for i, p := range ps {
		if c != nil {
			have := make([]string, 0, len(c.prefixes))
			for q := range c.prefixes {
				have = append(have, q)
			}
			sort.Strings(have)
			for _, q := range have {
				if overlaps([]byte(q), p) {
					return fmt.Errorf("ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client must not overlap.", cstr(p), cstr([]byte(q)))
				}
			}
		}
		for _, q := range ps[i+1:] {
			if overlaps(p, q) {
				return fmt.Errorf("ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single client must not overlap.", cstr(p), cstr(q))
			}
		}
	}
	return nil
}

// cstr cuts at the first NUL, as Redis's %s of an sds does.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// overlaps is Redis's stringCheckPrefix: one is a prefix of the other.
func overlaps(a, b []byte) bool {
	n := min(len(a), len(b))
	return bytes.Equal(a[:n], b[:n])
}

func (t *Table) follow(c *client, p string) {
	if c.prefixes == nil {
		c.prefixes = map[string]struct{}{}
	}
	if _, ok := c.prefixes[p]; ok {
		return
	}
	c.prefixes[p] = struct{}{}
	bs := t.prefixes[p]
	if bs == nil {
		bs = &prefix{clients: map[int64]*client{}, keys: map[string]int64{}}
		t.prefixes[p] = bs
	}
	bs.clients[c.id] = c
	t.noteIdle()
}

// Disable is CLIENT TRACKING OFF. The keys the client read stay in the
// table until they change, as in Redis (no message is sent for them then).
func (t *Table) Disable(id int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c == nil {
		return
	}
	t.disable(c)
}

func (t *Table) disable(c *client) {
	for p := range c.prefixes {
		if bs := t.prefixes[p]; bs != nil {
			delete(bs.clients, c.id)
			if len(bs.clients) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	c.prefixes = nil
	t.noteIdle()
	if c.on {
		t.nclients.Add(-1)
	}
	c.on, c.broken, c.bcast, c.optin, c.optout, c.caching, c.noloop = false, false, false, false, false, false, false
	c.redirID, c.redir = 0, nil
}

// Gone forgets a disconnected client.
func (t *Table) Gone(id int64) {
	if !t.used.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.clients[id]; c != nil {
		t.disable(c)
		delete(t.clients, id)
	}
}

// Tracking reports whether client id has tracking on.
func (t *Table) Tracking(id int64) bool {
	if !t.used.Load() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	return c != nil && c.on
}

// Caching is CLIENT CACHING YES|NO (yes true).
func (t *Table) Caching(id int64, yes bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	switch {
	case c == nil || !c.on:
		return ErrCachingMode
	case yes && !c.optin:
		return ErrCachingYes
	case !yes && !c.optout:
		return ErrCachingNo
	}
	c.caching = true
	return nil
}

// ResetCaching clears CLIENT CACHING's flag after a command, as Redis's
// resetClient does (not after CLIENT itself, not inside MULTI).
func (t *Table) ResetCaching(id int64) {
	if !t.used.Load() {
		return
	}
	t.mu.Lock()
	if c := t.clients[id]; c != nil {
		c.caching = false
	}
	t.mu.Unlock()
}

// Info is CLIENT TRACKINGINFO / GETREDIR / CLIENT LIST's view of a client.
type Info struct {
	On       bool
	Flags    []string // as TRACKINGINFO lists them
	Redirect int64    // -1 when tracking is off
	Prefixes []string // sorted
	BCast    bool
	Broken   bool
}

// ClientInfo returns client id's tracking state.
func (t *Table) ClientInfo(id int64) Info {
	in := Info{Redirect: -1}
	if !t.used.Load() {
		in.Flags = []string{"off"}
		return in
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c == nil || !c.on {
		in.Flags = []string{"off"}
		if c != nil {
			for p := range c.prefixes {
				in.Prefixes = append(in.Prefixes, p)
			}
		}
		sort.Strings(in.Prefixes)
		return in
	}
	in.On, in.Redirect, in.BCast, in.Broken = true, c.redirID, c.bcast, c.broken
	in.Flags = append(in.Flags, "on")
	if c.bcast {
		in.Flags = append(in.Flags, "bcast")
	}
	if c.optin {
		in.Flags = append(in.Flags, "optin")
		if c.caching {
			in.Flags = append(in.Flags, "caching-yes")
		}
	}
	if c.optout {
		in.Flags = append(in.Flags, "optout")
		if c.caching {
			in.Flags = append(in.Flags, "caching-no")
		}
	}
	if c.noloop {
		in.Flags = append(in.Flags, "noloop")
	}
	if c.broken {
		in.Flags = append(in.Flags, "broken_redirect")
	}
	for p := range c.prefixes {
		in.Prefixes = append(in.Prefixes, p)
	}
	sort.Strings(in.Prefixes)
	return in
}

// Stats are INFO's tracking fields.
type Stats struct {
	Clients, Keys, Items, Prefixes int64
}

// Stats returns INFO's counters.
func (t *Table) Stats() Stats {
	if !t.used.Load() {
		return Stats{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{Clients: t.nclients.Load(), Keys: int64(len(t.keys)), Items: t.items, Prefixes: int64(len(t.prefixes))}
}

// Remember records the keys a read-only command of client id read, as
// Redis's trackingRememberKeys: only in default (non-BCAST) mode, and in
// OPTIN/OPTOUT mode as CLIENT CACHING decided. Call it before the keys'
// locks are released.
func (t *Table) Remember(id int64, keys [][]byte) {
	if !t.used.Load() || t.nclients.Load() == 0 || len(keys) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c == nil || !c.on || c.bcast || c.optin && !c.caching || c.optout && c.caching {
		return
	}
	for _, k := range keys {
		ids := t.keys[string(k)]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.keys[string(k)] = ids
		}
		if _, ok := ids[id]; !ok {
			ids[id] = struct{}{}
			t.items++
		}
	}
	t.noteIdle()
	if m := t.maxKeys.Load(); m > 0 && int64(len(t.keys)) > m {
		t.over.Store(true)
	}
}

// Invalidate is Redis's trackingInvalidateKey for a key modified by the
// command of client owner (0: none, as active expiry): the clients that
// read key are told, and key is queued for the broadcast of the prefixes it
// matches. Call it with the key's lock held.
func (t *Table) Invalidate(owner int64, key []byte) {
	if !t.used.Load() || t.idle.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.invalidate(owner, key, true)
	t.noteIdle()
}

// noteIdle refreshes idle; t.mu must be held.
func (t *Table) noteIdle() { t.idle.Store(len(t.keys) == 0 && len(t.prefixes) == 0) }

func (t *Table) invalidate(owner int64, key []byte, bcast bool) {
	if bcast && len(t.prefixes) > 0 {
		for p, bs := range t.prefixes {
			if len(p) <= len(key) && string(key[:len(p)]) == p {
				bs.keys[string(key)] = owner
				t.bcastDirt.Store(true)
			}
		}
	}
	ids, ok := t.keys[string(key)]
	if !ok {
		return
	}
	for id := range ids {
		c := t.clients[id]
		if c == nil || !c.on || c.bcast {
			continue
		}
		if c.noloop && id == owner {
			continue
		}
		t.send(c, key)
	}
	t.items -= int64(len(ids))
	delete(t.keys, string(key))
}

// Flush is Redis's trackingInvalidateKeysOnFlush (FLUSHALL, FLUSHDB): every
// tracking client gets a null invalidation and the table empties.
func (t *Table) Flush() {
	if !t.used.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.clients {
		if c.on {
			t.send(c, nil)
		}
	}
	t.keys = map[string]map[int64]struct{}{}
	t.items = 0
	t.noteIdle()
}

// send delivers (or, while c's command runs, queues) one invalidation of
// key to c; key nil is the null of a flush.
func (t *Table) send(c *client, key []byte) {
	v := nullFor(c)
	if key != nil {
		v = appendKeys(nil, [][]byte{key})
	}
	t.sendValue(c, v)
}

func (t *Table) sendValue(c *client, v []byte) {
	if c.running {
		c.pending = append(c.pending, v)
		return
	}
	t.deliver(c, v)
}

func nullFor(c *client) []byte {
	if c.conn != nil && c.conn.RESP3() {
		return []byte("_\r\n")
	}
	return []byte("$-1\r\n")
}

// deliver is Redis's sendTrackingMessage with proto: the invalidation's
// value (an array of keys, or a null) goes to c or its redirect target.
func (t *Table) deliver(c *client, value []byte) {
	target, redirected := c.conn, false
	if c.redirID != 0 {
		if c.redir == nil || c.redir.Closed() {
			c.broken = true
			if c.conn != nil && c.conn.RESP3() && !c.conn.Closed() {
				f := []byte(">2\r\n$21\r\ntracking-redir-broken\r\n:")
				f = strconv.AppendInt(f, c.redirID, 10)
				c.conn.Push(append(f, '\r', '\n'))
			}
			return
		}
		target, redirected = c.redir, true
	}
	if target == nil || target.Closed() {
		return
	}
	var f []byte
	switch {
	case target.RESP3():
		f = append(f, ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && target.Subscribed():
		f = append(f, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
	default:
		return // RESP2 without a subscribed redirect: nowhere to say it
	}
	target.Push(append(f, value...))
}

// appendKeys appends a RESP array of bulk strings (the invalidated keys).
func appendKeys(b []byte, keys [][]byte) []byte { return aof.AppendCommand(b, keys...) }

// Begin marks client id's command as running: invalidations for it wait
// until End, after its reply.
func (t *Table) Begin(id int64) {
	if !t.used.Load() {
		return
	}
	t.mu.Lock()
	if c := t.clients[id]; c != nil {
		c.running = true
	}
	t.mu.Unlock()
}

// End is called once client id's reply is queued: it sends what waited.
func (t *Table) End(id int64) {
	if !t.used.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[id]
	if c == nil {
		return
	}
	c.running = false
	pend := c.pending
	c.pending = nil
	for _, v := range pend {
		t.deliver(c, v)
	}
}

// Broadcast sends the keys modified under each BCAST prefix since the last
// call (Redis's trackingBroadcastInvalidationMessages, run before sleeping):
// one message per prefix and client, keys sorted, without the keys a NOLOOP
// client modified itself.
func (t *Table) Broadcast() {
	if !t.bcastDirt.Load() {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.bcastDirt.Store(false)
	names := make([]string, 0, len(t.prefixes))
	for p, bs := range t.prefixes {
		if len(bs.keys) > 0 {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		bs := t.prefixes[p]
		keys := make([]string, 0, len(bs.keys))
		for k := range bs.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		all := make([][]byte, len(keys))
		for i, k := range keys {
			all[i] = []byte(k)
		}
		ids := make([]int64, 0, len(bs.clients))
		for id := range bs.clients {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			c := bs.clients[id]
			list := all
			if c.noloop {
				list = nil
				for i, k := range keys {
					if bs.keys[k] != id {
						list = append(list, all[i])
					}
				}
				if len(list) == 0 {
					continue
				}
			}
			t.sendValue(c, appendKeys(nil, list))
		}
		bs.keys = map[string]int64{}
	}
}

// Limit is Redis's trackingLimitUsedSlots, run before each command: while
// the table holds more keys than tracking-table-max-keys, keys are evicted
// at random (Go's map order) and their readers invalidated, with an effort
// that grows while the limit cannot be reached.
func (t *Table) Limit() {
	if !t.over.Load() || !t.used.Load() {
		return
	}
	max := t.maxKeys.Load()
	t.mu.Lock()
	defer t.mu.Unlock()
	defer t.noteIdle()
	if max == 0 || int64(len(t.keys)) <= max {
		t.limitRun = 0
		t.over.Store(false)
		return
	}
	effort := 100 * (t.limitRun + 1)
	for k := range t.keys {
		if effort == 0 {
			break
		}
		effort--
		t.invalidate(0, []byte(k), false)
		if int64(len(t.keys)) <= max {
			t.limitRun = 0
			t.over.Store(false)
			return
		}
	}
	t.limitRun++
}

// Command is a parsed CLIENT TRACKING.
type Command struct {
	On      bool
	Options Options
}

// Errors of CLIENT TRACKING's parsing, with Redis 7.0's texts.
var (
	ErrSyntax        = errors.New("ERR syntax error")
	ErrNotInt        = errors.New("ERR value is not an integer or out of range")
	ErrRedirectTwice = errors.New("ERR A client can only redirect to a single other client")
	ErrNoRedirect    = errors.New("ERR The client ID you want redirect to does not exist")
)

// Parse parses CLIENT TRACKING ON|OFF [options] (args without "CLIENT
// TRACKING") in Redis's order of checks; lookup finds a connected client by
// id (the REDIRECT target must exist now).
func Parse(args [][]byte, lookup func(id int64) Conn) (Command, error) {
	var cmd Command
	o := &cmd.Options
	for j := 1; j < len(args); j++ {
		more := j+1 < len(args)
		a := args[j]
		switch {
		case equalFold(a, "redirect") && more:
			j++
			if o.RedirectID != 0 {
				return cmd, ErrRedirectTwice
			}
			id, err := strconv.ParseInt(string(args[j]), 10, 64)
			if err != nil || !canonicalInt(args[j]) {
				return cmd, ErrNotInt
			}
			c := lookup(id)
			if c == nil {
				return cmd, ErrNoRedirect
			}
			o.RedirectID, o.Redirect = id, c
		case equalFold(a, "bcast"):
			o.BCast = true
		case equalFold(a, "optin"):
			o.OptIn = true
		case equalFold(a, "optout"):
			o.OptOut = true
		case equalFold(a, "noloop"):
			o.NoLoop = true
		case equalFold(a, "prefix") && more:
			j++
			o.Prefixes = append(o.Prefixes, args[j])
		default:
			return cmd, ErrSyntax
		}
	}
	switch {
	case equalFold(args[0], "on"):
		cmd.On = true
	case equalFold(args[0], "off"):
	default:
		return cmd, ErrSyntax
	}
	return cmd, nil
}

// canonicalInt is Redis's string2ll strictness: no '+', no leading zeros,
// no spaces.
func canonicalInt(b []byte) bool {
	if len(b) == 0 || len(b) > 20 {
		return false
	}
	s := b
	if s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 || s[0] == '0' && len(b) != 1 {
		return false
	}
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return true
}

func equalFold(b []byte, s string) bool { return bytes.EqualFold(b, []byte(s)) }
