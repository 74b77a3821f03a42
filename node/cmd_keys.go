package node

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
	"github.com/wardenkv/warden/slotmap"
)

func registerKeys(t table) {
	const g = "generic"
	w, wf, r, rf := fWrite, fWrite|fFast, fReadonly, fReadonly|fFast
	objKey := func(name string, run func(*Ctx)) *Command {
		return &Command{Name: name, Arity: 3, Flags: fReadonly, FirstKey: 2, Run: run, Group: g}
	}
	t.add(
		&Command{Name: "del", Arity: -2, Flags: w, FirstKey: 1, LastKey: -1, Run: cmdDel, Group: g},
		&Command{Name: "unlink", Arity: -2, Flags: wf, FirstKey: 1, LastKey: -1, Run: cmdDel, Group: g},
		&Command{Name: "exists", Arity: -2, Flags: rf, FirstKey: 1, LastKey: -1, Run: cmdExists, Group: g},
		&Command{Name: "type", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdType, Group: g},
		&Command{Name: "keys", Arity: 2, Flags: r | fAllKeys, Run: cmdKeys, Group: g},
		&Command{Name: "scan", Arity: -2, Flags: r | fAllKeys, Run: cmdScan, Group: g},
		&Command{Name: "randomkey", Arity: 1, Flags: r | fAllKeys, Run: cmdRandomKey, Group: g},
		&Command{Name: "rename", Arity: 3, Flags: w, FirstKey: 1, LastKey: 2, Run: cmdRename, Group: g},
		&Command{Name: "renamenx", Arity: 3, Flags: wf, FirstKey: 1, LastKey: 2, Run: cmdRenameNX, Group: g},
		&Command{Name: "copy", Arity: -3, Flags: w | fDenyOOM | fAllDBs, FirstKey: 1, LastKey: 2, Run: cmdCopy, Group: g},
		&Command{Name: "move", Arity: 3, Flags: wf | fAllDBs, FirstKey: 1, Run: cmdMove, Group: g},
		&Command{Name: "expire", Arity: -3, Flags: wf, FirstKey: 1, Run: cmdExpire, Group: g},
		&Command{Name: "pexpire", Arity: -3, Flags: wf, FirstKey: 1, Run: cmdPExpire, Group: g},
		&Command{Name: "expireat", Arity: -3, Flags: wf, FirstKey: 1, Run: cmdExpireAt, Group: g},
		&Command{Name: "pexpireat", Arity: -3, Flags: wf, FirstKey: 1, Run: cmdPExpireAt, Group: g},
		&Command{Name: "ttl", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdTTL, Group: g},
		&Command{Name: "pttl", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdPTTL, Group: g},
		&Command{Name: "expiretime", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdExpireTime, Group: g},
		&Command{Name: "pexpiretime", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdPExpireTime, Group: g},
		&Command{Name: "persist", Arity: 2, Flags: wf, FirstKey: 1, Run: cmdPersist, Group: g},
		&Command{Name: "touch", Arity: -2, Flags: rf, FirstKey: 1, LastKey: -1, Run: cmdTouch, Group: g},
		&Command{Name: "object", Arity: -2, Group: g, Subs: subs(
			objKey("encoding", cmdObjectEncoding),
			objKey("refcount", cmdObjectRefcount),
			objKey("idletime", cmdObjectIdletime),
			objKey("freq", cmdObjectFreq),
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdObjectHelp, Group: g},
		)},
	)
}

// keysLookupNoTouch is Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): it
// counts hits and misses and reclaims an expired key, but leaves the access
// time alone (TYPE, TTL, EXISTS, OBJECT).
func (c *Ctx) keysLookupNoTouch(key []byte) *keyspace.Object {
	o := c.DB.Peek(key)
	if o == nil {
		if c.DB.IsExpired(key) {
			c.DB.Get(key)
		}
		c.s.stats.keyspaceMisses.Add(1)
		if !eq(c.Args[0], "object") { // OBJECT looks up with LOOKUP_NONOTIFY
			c.notify(keyevents.KeyMiss, "keymiss", key)
		}
		return nil
	}
	c.s.stats.keyspaceHits.Add(1)
	return o
}

// keysDB returns the view of database id: another database is reachable
// only for commands flagged fAllDBs (COPY, MOVE).
func (c *Ctx) keysDB(id int) keyspace.View {
	if id == c.DB.ID() {
		return c.DB
	}
	return c.tx.DB(id)
}

// keysDBIndex parses a database number as getIntFromObjectOrReply and
// selectDb do; it replies the error itself.
func (c *Ctx) keysDBIndex(b []byte) (int, bool) {
	n, ok := c.ParseInt32(b, "")
	if !ok {
		return 0, false
	}
	if n < 0 || n >= c.s.store.NumDBs() {
		c.Err(errDBIndex)
		return 0, false
	}
	return n, true
}

// keysSignal wakes clients blocked on a list or sorted set that appeared
// under key (RENAME, COPY, MOVE, RESTORE add whole values).
func keysSignal(v keyspace.View, key []byte, o *keyspace.Object) {
	if o.Type == keyspace.TList || o.Type == keyspace.TZSet || o.Type == keyspace.TStream {
		v.Signal(key)
	}
}

// keysDup deep-copies a value (COPY): the copy shares nothing with o.
func keysDup(o *keyspace.Object) *keyspace.Object {
	n := &keyspace.Object{Type: o.Type, Expire: o.Expire, LRU: keyspace.LRUClock()}
	switch o.Type {
	case keyspace.TString:
		n.Str = bytes.Clone(o.Str)
		if n.Str == nil {
			n.Str = []byte{}
		}
	case keyspace.TList:
		src, l := o.List(), keyspace.NewList()
		for i := 0; i < src.Len(); i++ {
			l.PushBack(bytes.Clone(src.Index(i)))
		}
		n.Val = l
	case keyspace.THash:
		n.Val = o.Hash().Clone()
	case keyspace.TSet:
		if is, ok := o.IntSet(); ok {
			n.Val = is.Clone()
			break
		}
		n.Val = maps.Clone(o.Set())
	case keyspace.TZSet:
		z := keyspace.NewZSet()
		for _, e := range o.ZSet().All() {
			z.Add(e.Member, e.Score)
		}
		n.Val = z
	case keyspace.TStream:
		n.Val = o.Val.(*stream.Stream).Clone()
	}
	return n
}

func cmdDel(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.DB.Delete(k) {
			n++
			c.notify(keyevents.Generic, "del", k)
		}
	}
	if n > 0 {
		c.PropagateArgs()
	}
	c.Int(int64(n))
}

func cmdExists(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.keysLookupNoTouch(k) != nil {
			n++
		}
	}
	c.Int(int64(n))
}

func cmdType(c *Ctx) {
	o := c.keysLookupNoTouch(c.Args[1])
	if o == nil {
		c.Status("none")
		return
	}
	c.Status(o.Type.Name())
}

func cmdKeys(c *Ctx) {
	pat := string(c.Args[1])
	all := pat == "*"
	var out []string
	c.DB.Each(func(k string, _ *keyspace.Object) bool {
		if all || globMatch(pat, k) {
			out = append(out, k)
		}
		return true
	})
	c.BulkStrings(out)
}

// keysParseCursor parses a SCAN cursor as strtoul does (optional sign, no
// surrounding spaces; "" is 0).
func keysParseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	neg := b[0] == '-'
	if b[0] == '+' || b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '0' || b[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// cmdScan walks the database by hash slot: the cursor is the next slot to
// visit (0 once all are done) and every visited slot is returned whole, so a
// key present for the whole iteration is always returned.
func cmdScan(c *Ctx) {
	cursor, ok := keysParseCursor(c.Args[1])
	if !ok {
		c.Err("ERR invalid cursor")
		return
	}
	count := int64(10)
	var pat, typ []byte
	usePat := false
	for i := 2; i < len(c.Args); i += 2 {
		a := c.Args[i]
		if i+1 >= len(c.Args) {
			c.Err(errSyntax)
			return
		}
		switch {
		case eq(a, "count"):
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 1 {
				c.Err(errSyntax)
				return
			}
			count = n
		case eq(a, "match"):
			pat = c.Args[i+1]
			usePat = !(len(pat) == 1 && pat[0] == '*')
		case eq(a, "type"):
			typ = c.Args[i+1]
		default:
			c.Err(errSyntax)
			return
		}
	}
	var keys []string
	slot := uint64(slotmap.NumSlots)
	if cursor < slotmap.NumSlots {
		slot = cursor
		for ; slot < slotmap.NumSlots && int64(len(keys)) < count; slot++ {
			if c.DB.SlotLen(int(slot)) == 0 {
				continue
			}
			keys = append(keys, c.DB.SlotKeys(int(slot), -1)...)
		}
	}
	next := slot
	if next >= slotmap.NumSlots {
		next = 0
	}
	spat := string(pat)
	out := keys[:0]
	for _, k := range keys {
		if usePat && !globMatch(spat, k) {
			continue
		}
		if typ != nil {
			o := c.DB.Peek([]byte(k))
			if o == nil || !bytes.EqualFold(typ, []byte(o.Type.Name())) {
				continue
			}
		}
		out = append(out, k)
	}
	c.Array(2)
	c.BulkString(strconv.FormatUint(next, 10))
	c.BulkStrings(out)
}

func cmdRandomKey(c *Ctx) {
	// A large database fills most slots: a few random probes find a key
	// in O(1).
	for try := 0; try < 16; try++ {
		s := rand.IntN(slotmap.NumSlots)
		if c.DB.SlotLen(s) == 0 {
			continue
		}
		if keys := c.DB.SlotKeys(s, -1); len(keys) > 0 {
			c.BulkString(keys[rand.IntN(len(keys))])
			return
		}
	}
	// A sparse one: pick uniformly among the stored keys (retrying when
	// the pick is an expired one), then fall back to any live key.
	var total int
	for s := 0; s < slotmap.NumSlots; s++ {
		total += c.DB.SlotLen(s)
	}
	for try := 0; total > 0 && try < 100; try++ {
		r := rand.IntN(total)
		for s := 0; s < slotmap.NumSlots; s++ {
			n := c.DB.SlotLen(s)
			if r >= n {
				r -= n
				continue
			}
			if keys := c.DB.SlotKeys(s, -1); r < len(keys) {
				c.BulkString(keys[r])
				return
			}
			break
		}
	}
	for s := 0; total > 0 && s < slotmap.NumSlots; s++ {
		if keys := c.DB.SlotKeys(s, 1); len(keys) > 0 {
			c.BulkString(keys[0])
			return
		}
	}
	c.Null()
}

func keysRename(c *Ctx, nx bool) {
	src, dst := c.Args[1], c.Args[2]
	o := c.DB.Get(src)
	if o == nil {
		c.Err(errNoSuchKey)
		return
	}
	if bytes.Equal(src, dst) {
		if nx {
			c.Int(0)
		} else {
			c.OK()
		}
		return
	}
	if nx && c.DB.Get(dst) != nil {
		c.Int(0)
		return
	}
	moved := *o
	c.DB.Delete(src)
	c.DB.Set(dst, &moved) // replaces dst, TTL included: the value keeps its own
	if st := c.DB.Peek(dst); st != nil {
		st.LRU = o.LRU // and its LRU/LFU stamp, as Redis's dbAdd of the same object
	}
	keysSignal(c.DB, dst, &moved)
	c.PropagateArgs()
	c.notify(keyevents.Generic, "rename_from", src)
	c.notify(keyevents.Generic, "rename_to", dst)
	if nx {
		c.Int(1)
	} else {
		c.OK()
	}
}

func cmdRename(c *Ctx)   { keysRename(c, false) }
func cmdRenameNX(c *Ctx) { keysRename(c, true) }

func cmdCopy(c *Ctx) {
	src, dst := c.Args[1], c.Args[2]
	dbid, replace := c.DB.ID(), false
	for i := 3; i < len(c.Args); i++ {
		switch a := c.Args[i]; {
		case eq(a, "replace"):
			replace = true
		case eq(a, "db") && i+1 < len(c.Args):
			n, ok := c.keysDBIndex(c.Args[i+1])
			if !ok {
				return
			}
			dbid = n
			i++
		default:
			c.Err(errSyntax)
			return
		}
	}
	if dbid == c.DB.ID() && bytes.Equal(src, dst) {
		c.Err("ERR source and destination objects are the same")
		return
	}
	o := c.Read(src)
	if o == nil {
		c.Int(0)
		return
	}
	to := c.keysDB(dbid)
	if to.Get(dst) != nil {
		if !replace {
			c.Int(0)
			return
		}
		to.Delete(dst)
	}
	cp := keysDup(o)
	to.Set(dst, cp)
	keysSignal(to, dst, cp)
	c.PropagateArgs()
	c.notifyDB(keyevents.Generic, "copy_to", dst, dbid)
	c.Int(1)
}

func cmdMove(c *Ctx) {
	key := c.Args[1]
	dbid, ok := c.keysDBIndex(c.Args[2])
	if !ok {
		return
	}
	if dbid == c.DB.ID() {
		c.Err("ERR source and destination objects are the same")
		return
	}
	o := c.DB.Get(key)
	if o == nil {
		c.Int(0)
		return
	}
	to := c.keysDB(dbid)
	if to.Get(key) != nil {
		c.Int(0)
		return
	}
	moved := *o
	c.DB.Delete(key)
	to.Set(key, &moved)
	if st := to.Peek(key); st != nil {
		st.LRU = o.LRU // the object keeps its LRU/LFU stamp
	}
	keysSignal(to, key, &moved)
	c.PropagateArgs()
	c.notify(keyevents.Generic, "move_from", key)
	c.notifyDB(keyevents.Generic, "move_to", key, dbid)
	c.Int(1)
}

// keysExpire implements EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT: relative
// commands add the command clock, seconds are scaled to ms.
func keysExpire(c *Ctx, relative, seconds bool) {
	key := c.Args[1]
	var nx, xx, gt, lt bool
	for _, a := range c.Args[3:] {
		switch {
		case eq(a, "nx"):
			nx = true
		case eq(a, "xx"):
			xx = true
		case eq(a, "gt"):
			gt = true
		case eq(a, "lt"):
			lt = true
		default:
			c.Err("ERR Unsupported option " + string(a))
			return
		}
	}
	if nx && (xx || gt || lt) {
		c.Err("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if gt && lt {
		c.Err("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	bad := func() { c.Err("ERR invalid expire time in '" + c.cmd.Name + "' command") }
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			bad()
			return
		}
		when *= 1000
	}
	if relative {
		base := c.DB.Now()
		if when > math.MaxInt64-base {
			bad()
			return
		}
		when += base
	}
	o := c.DB.Get(key)
	if o == nil {
		c.Int(0)
		return
	}
	cur := o.Expire // 0 = no TTL (Redis's -1)
	switch {
	case nx && cur != 0,
		xx && cur == 0,
		gt && (cur == 0 || when <= cur),
		lt && cur != 0 && when >= cur:
		c.Int(0)
		return
	}
	if when <= c.DB.Now() {
		c.DB.Delete(key)
		c.Propagate([]byte("DEL"), key)
		c.notify(keyevents.Generic, "del", key)
		c.Int(1)
		return
	}
	c.DB.SetExpire(key, when)
	c.Propagate([]byte("PEXPIREAT"), key, strconv.AppendInt(nil, when, 10))
	c.notify(keyevents.Generic, "expire", key)
	c.Int(1)
}

func cmdExpire(c *Ctx)    { keysExpire(c, true, true) }
func cmdPExpire(c *Ctx)   { keysExpire(c, true, false) }
func cmdExpireAt(c *Ctx)  { keysExpire(c, false, true) }
func cmdPExpireAt(c *Ctx) { keysExpire(c, false, false) }

// keysTTL implements TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func keysTTL(c *Ctx, ms, abs bool) {
	o := c.keysLookupNoTouch(c.Args[1])
	if o == nil {
		c.Int(-2)
		return
	}
	if o.Expire == 0 {
		c.Int(-1)
		return
	}
	ttl := o.Expire
	if !abs {
		ttl -= c.DB.Now()
	}
	ttl = max(ttl, 0)
	if !ms {
		// Unsigned, as Redis's compiled (ttl+500)/1000 behaves: an expire
		// near the int64 limit (PEXPIREAT k 9223372036854775807) rounds up
		// instead of wrapping negative.
		ttl = int64((uint64(ttl) + 500) / 1000)
	}
	c.Int(ttl)
}

func cmdTTL(c *Ctx)         { keysTTL(c, false, false) }
func cmdPTTL(c *Ctx)        { keysTTL(c, true, false) }
func cmdExpireTime(c *Ctx)  { keysTTL(c, false, true) }
func cmdPExpireTime(c *Ctx) { keysTTL(c, true, true) }

func cmdPersist(c *Ctx) {
	o := c.DB.Get(c.Args[1])
	if o == nil || o.Expire == 0 {
		c.Int(0)
		return
	}
	c.DB.SetExpire(c.Args[1], 0)
	c.PropagateArgs()
	c.notify(keyevents.Generic, "persist", c.Args[1])
	c.Int(1)
}

func cmdTouch(c *Ctx) {
	n := 0
	for _, k := range c.Args[1:] {
		if c.Read(k) != nil {
			n++
		}
	}
	c.Int(int64(n))
}

func cmdObjectEncoding(c *Ctx) {
	if o := c.keysLookupNoTouch(c.Args[2]); o != nil {
		c.BulkString(o.Encoding())
		return
	}
	c.Null()
}

func cmdObjectRefcount(c *Ctx) {
	o := c.keysLookupNoTouch(c.Args[2])
	if o == nil {
		c.Null()
		return
	}
	// Redis shares the objects of small integers (0..9999): their
	// reference count reads as OBJ_SHARED_REFCOUNT.
	if o.Type == keyspace.TString && len(o.Str) <= 4 {
		if n, err := strconv.Atoi(string(o.Str)); err == nil && n >= 0 && strconv.Itoa(n) == string(o.Str) {
			c.Int(math.MaxInt32)
			return
		}
	}
	c.Int(1)
}

func cmdObjectIdletime(c *Ctx) {
	o := c.keysLookupNoTouch(c.Args[2])
	if o == nil {
		c.Null()
		return
	}
	if c.s.store.LFUMode() {
		c.Err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		return
	}
	c.Int(o.IdleSeconds())
}

func cmdObjectFreq(c *Ctx) {
	o := c.keysLookupNoTouch(c.Args[2])
	if o == nil {
		c.Null()
		return
	}
	if c.s.store.LFUMode() {
		c.Int(int64(c.DB.Freq(o)))
		return
	}
	c.Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
}

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

func cmdObjectHelp(c *Ctx) {
	c.Array(len(objectHelp))
	for _, l := range objectHelp {
		c.Status(l)
	}
}
