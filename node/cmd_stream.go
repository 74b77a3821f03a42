package node

import (
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// Streams (Redis 7.0's t_stream.c): the value lives in keyspace/stream;
// this file parses the commands, replies and propagates as Redis does.

func registerStreams(t table) {
	const g = "stream"
	w, wd, r := fWrite, fWrite|fDenyOOM, fReadonly
	t.add(
		&Command{Name: "xadd", Arity: -5, Flags: wd | fFast, FirstKey: 1, Run: cmdXAdd, Group: g},
		&Command{Name: "xlen", Arity: 2, Flags: r | fFast, FirstKey: 1, Run: cmdXLen, Group: g},
		&Command{Name: "xrange", Arity: -4, Flags: r, FirstKey: 1, Run: cmdXRange, Group: g},
		&Command{Name: "xrevrange", Arity: -4, Flags: r, FirstKey: 1, Run: cmdXRevRange, Group: g},
		&Command{Name: "xdel", Arity: -3, Flags: w | fFast, FirstKey: 1, Run: cmdXDel, Group: g},
		&Command{Name: "xtrim", Arity: -4, Flags: w, FirstKey: 1, Run: cmdXTrim, Group: g},
		&Command{Name: "xsetid", Arity: -3, Flags: wd | fFast, FirstKey: 1, Run: cmdXSetID, Group: g},
		&Command{Name: "xack", Arity: -4, Flags: w | fFast, FirstKey: 1, Run: cmdXAck, Group: g},
		&Command{Name: "xpending", Arity: -3, Flags: r, FirstKey: 1, Run: cmdXPending, Group: g},
		&Command{Name: "xclaim", Arity: -6, Flags: w | fFast, FirstKey: 1, Run: cmdXClaim, Group: g},
		&Command{Name: "xautoclaim", Arity: -6, Flags: w | fFast, FirstKey: 1, Run: cmdXAutoClaim, Group: g},
		&Command{Name: "xread", Arity: -4, Flags: r | fBlocking, KeyFn: xreadKeys, Run: cmdXRead, Group: g},
		&Command{Name: "xreadgroup", Arity: -7, Flags: w | fBlocking, KeyFn: xreadKeys, Run: cmdXReadGroup, Group: g},
		&Command{Name: "xgroup", Arity: -2, Group: g, Subs: subs(
			&Command{Name: "create", Arity: -5, Flags: wd, FirstKey: 2, Run: cmdXGroupCreate, Group: g},
			&Command{Name: "setid", Arity: -5, Flags: w, FirstKey: 2, Run: cmdXGroupSetID, Group: g},
			&Command{Name: "destroy", Arity: 4, Flags: w, FirstKey: 2, Run: cmdXGroupDestroy, Group: g},
			&Command{Name: "createconsumer", Arity: 5, Flags: wd, FirstKey: 2, Run: cmdXGroupCreateConsumer, Group: g},
			&Command{Name: "delconsumer", Arity: 5, Flags: w, FirstKey: 2, Run: cmdXGroupDelConsumer, Group: g},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdXGroupHelp, Group: g},
		)},
		&Command{Name: "xinfo", Arity: -2, Group: g, Subs: subs(
			&Command{Name: "stream", Arity: -3, Flags: r, FirstKey: 2, Run: cmdXInfoStream, Group: g},
			&Command{Name: "groups", Arity: 3, Flags: r, FirstKey: 2, Run: cmdXInfoGroups, Group: g},
			&Command{Name: "consumers", Arity: 4, Flags: r, FirstKey: 2, Run: cmdXInfoConsumers, Group: g},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdXInfoHelp, Group: g},
		)},
	)
}

const (
	errStreamID       = "ERR Invalid stream ID specified as stream command argument"
	errStreamNoGroup  = "NOGROUP No such key '%k' or consumer group '%g'"
	errStreamXAddTop  = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	errStreamXAddZero = "ERR The ID specified in XADD must be greater than 0-0"
	errStreamFull     = "ERR The stream has exhausted the last possible ID, unable to add more items"
	errXGroupNoKey    = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
)

// streamOf returns o's stream.
func streamOf(o *keyspace.Object) *stream.Stream { return o.Val.(*stream.Stream) }

func (c *Ctx) streamRead(key []byte) (*stream.Stream, bool) {
	o, ok := c.ReadType(key, keyspace.TStream)
	if !ok || o == nil {
		return nil, ok
	}
	return streamOf(o), true
}

func (c *Ctx) streamWrite(key []byte) (*stream.Stream, bool) {
	o, ok := c.WriteType(key, keyspace.TStream)
	if !ok || o == nil {
		return nil, ok
	}
	return streamOf(o), true
}

func (c *Ctx) streamNew(key []byte) *stream.Stream {
	s := stream.New()
	c.DB.Set(key, &keyspace.Object{Type: keyspace.TStream, Val: s, LRU: keyspace.LRUClock()})
	return s
}

// streamParseID is streamParseIDOrReply (strict refuses "-" and "+").
func (c *Ctx) streamParseID(b []byte, missingSeq uint64, strict bool) (stream.ID, bool) {
	id, ok := stream.Parse(b, missingSeq, strict, nil)
	if !ok {
		c.Err(errStreamID)
	}
	return id, ok
}

// streamParseInterval is streamParseIntervalIDOrReply: "(id" excludes.
func (c *Ctx) streamParseInterval(b []byte, missingSeq uint64) (stream.ID, bool, bool) {
	if len(b) > 1 && b[0] == '(' {
		id, ok := c.streamParseID(b[1:], missingSeq, true)
		return id, true, ok
	}
	id, ok := c.streamParseID(b, missingSeq, false)
	return id, false, ok
}

// streamParseStart is a range's start: "(id" is the ID after id.
func (c *Ctx) streamParseStart(b []byte) (stream.ID, bool) {
	id, ex, ok := c.streamParseInterval(b, 0)
	if ok && ex {
		if id, ok = id.Next(); !ok {
			c.Err("ERR invalid start ID for the interval")
		}
	}
	return id, ok
}

// streamParseEnd is a range's end: "(id" is the ID before id.
func (c *Ctx) streamParseEnd(b []byte) (stream.ID, bool) {
	id, ex, ok := c.streamParseInterval(b, ^uint64(0))
	if ok && ex {
		if id, ok = id.Prev(); !ok {
			c.Err("ERR invalid end ID for the interval")
		}
	}
	return id, ok
}

func streamIDBulk(id stream.ID) []byte { return id.Append(nil) }

// streamReplyEntry writes [id, [f, v, ...]].
func (c *Ctx) streamReplyEntry(id stream.ID, fv [][]byte) {
	c.Array(2)
	var buf [48]byte
	c.Bulk(id.Append(buf[:0]))
	c.Array(len(fv))
	for _, x := range fv {
		c.Bulk(x)
	}
}

// streamBatch collects the commands one stream command propagates; more
// than one go out wrapped in MULTI/EXEC, as Redis 7.0 propagates them.
type streamBatch [][][]byte

func (b *streamBatch) add(argv ...[]byte) { *b = append(*b, argv) }

func (b streamBatch) flush(s *Server, c *Ctx, db int) {
	if len(b) == 0 {
		return
	}
	if c != nil && c.inExec {
		for _, argv := range b {
			c.queueTxWrite(argv)
		}
		return
	}
	if len(b) == 1 {
		end := s.propagate(db, b[0])
		if c != nil {
			c.notePropagated(end)
		}
		return
	}
	s.dirty.Add(int64(len(b)))
	multi, exec := multiArgv, execArgv
	if f := s.feed.Load(); f != nil {
		(*f)(db, multi)
		for _, argv := range b {
			(*f)(db, argv)
		}
		(*f)(db, exec)
	}
	block := make([][][]byte, 0, len(b)+2)
	block = append(block, multi)
	block = append(block, b...)
	block = append(block, exec)
	if !s.replica.active.Load() {
		s.repl.feed(db, block...)
		s.tapSlots(db, block...)
	}
	end := s.aofAppend(db, block...)
	if c != nil {
		c.cl.replPending = s.repl.offsetA.Load()
		c.notePropagated(end)
	}
}

// ---- XADD / XTRIM -----------------------------------------------------------

type streamAddArgs struct {
	trim         stream.TrimArgs
	trimArgIdx   int // index of the MAXLEN/MINID threshold argument
	noMkStream   bool
	idGiven      bool
	seqGiven     bool
	id           stream.ID
	limitGiven   bool
	approxArgIdx int
}

// streamParseAddOrTrim is streamParseAddOrTrimArgsOrReply; it returns the
// index of the ID argument for XADD.
func (c *Ctx) streamParseAddOrTrim(xadd bool) (a streamAddArgs, idx int, ok bool) {
	args := c.Args
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			return a, i, c.streamTrimCheck(&a, xadd)
		case (eq(opt, "maxlen") || eq(opt, "minid")) && more > 0:
			if a.trim.Strategy != stream.TrimNone {
				c.Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return a, 0, false
			}
			a.trim.Approx = false
			next := args[i+1]
			if more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.trim.Approx = next[0] == '~'
				a.approxArgIdx = i + 1
				i++
			}
			if eq(opt, "maxlen") {
				n, ok := c.ParseInt(args[i+1])
				if !ok {
					return a, 0, false
				}
				if n < 0 {
					c.Err("ERR The MAXLEN argument must be >= 0.")
					return a, 0, false
				}
				a.trim.MaxLen = n
				a.trim.Strategy = stream.TrimMaxLen
			} else {
				id, ok := c.streamParseID(args[i+1], 0, true)
				if !ok {
					return a, 0, false
				}
				a.trim.MinID = id
				a.trim.Strategy = stream.TrimMinID
			}
			i++
			a.trimArgIdx = i
		case eq(opt, "limit") && more > 0:
			n, ok := c.ParseInt(args[i+1])
			if !ok {
				return a, 0, false
			}
			if n < 0 {
				c.Err("ERR The LIMIT argument must be >= 0.")
				return a, 0, false
			}
			a.trim.Limit = n
			a.limitGiven = true
			i++
		case xadd && eq(opt, "nomkstream"):
			a.noMkStream = true
		case xadd:
			seqAuto := false
			id, ok := stream.Parse(opt, 0, true, &seqAuto)
			if !ok {
				c.Err(errStreamID)
				return a, 0, false
			}
			a.id, a.idGiven, a.seqGiven = id, true, !seqAuto
			return a, i, c.streamTrimCheck(&a, xadd)
		default:
			c.Err(errSyntax)
			return a, 0, false
		}
	}
	return a, i, c.streamTrimCheck(&a, xadd)
}

func (c *Ctx) streamTrimCheck(a *streamAddArgs, xadd bool) bool {
	if a.trim.Limit != 0 && a.trim.Strategy == stream.TrimNone {
		c.Err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return false
	}
	if !xadd && a.trim.Strategy == stream.TrimNone {
		c.Err("ERR syntax error, XTRIM must be called with a trimming strategy")
		return false
	}
	if c.cl.internal {
		// From the master or the AOF: the threshold was rewritten, so the
		// trim must not be limited.
		a.trim.Limit = 0
		return true
	}
	if a.limitGiven {
		if !a.trim.Approx {
			c.Err("ERR syntax error, LIMIT cannot be used without the special ~ option")
			return false
		}
	} else if a.trim.Approx {
		a.trim.Limit = 100 * c.s.streamNodeMaxEntries.Load()
		if a.trim.Limit <= 0 || a.trim.Limit > 10000 {
			a.trim.Limit = 10000
		}
	} else {
		a.trim.Limit = 0
	}
	return true
}

// streamTrimArgv is the command to propagate after an approximate trim: "~"
// becomes "=" and the threshold what the trim actually reached, so replicas
// and the AOF trim exactly the same entries.
func streamTrimArgv(argv [][]byte, a *streamAddArgs, s *stream.Stream) [][]byte {
	if !a.trim.Approx {
		return argv
	}
	out := append([][]byte(nil), argv...)
	out[a.approxArgIdx] = []byte("=")
	if a.trim.Strategy == stream.TrimMaxLen {
		out[a.trimArgIdx] = strconv.AppendInt(nil, int64(s.Len()), 10)
	} else if s.Len() == 0 {
		out[a.trimArgIdx] = streamIDBulk(stream.MaxID) // Redis's edge of an empty stream
	} else {
		out[a.trimArgIdx] = streamIDBulk(s.First())
	}
	return out
}

func cmdXAdd(c *Ctx) {
	a, idPos, ok := c.streamParseAddOrTrim(true)
	if !ok {
		return
	}
	fieldPos := idPos + 1
	if a.idGiven && a.seqGiven && a.id.IsZero() {
		c.Err(errStreamXAddZero)
		return
	}
	if n := len(c.Args) - fieldPos; n < 2 || n%2 == 1 {
		c.Err("ERR wrong number of arguments for 'xadd' command")
		return
	}
	key := c.Args[1]
	s, ok := c.streamWrite(key)
	if !ok {
		return
	}
	if s == nil {
		if a.noMkStream {
			c.Null()
			return
		}
		s = c.streamNew(key)
	}
	if s.LastID == stream.MaxID {
		c.Err(errStreamFull)
		return
	}
	var id stream.ID
	switch {
	case !a.idGiven:
		id, _ = s.AutoID(uint64(c.DB.Now()))
	case a.seqGiven:
		id = a.id
	default:
		id = a.id
		if s.LastID.Ms == id.Ms {
			if s.LastID.Seq == ^uint64(0) {
				c.Err(errStreamXAddTop)
				c.DB.DeleteIfEmpty(key, c.DB.Get(key))
				return
			}
			id.Seq = s.LastID.Seq + 1
		}
	}
	if !s.LastID.Less(id) {
		c.Err(errStreamXAddTop)
		return
	}
	// Redis splits nodes by the limits in force at each append.
	s.NodeMaxBytes = int(c.s.streamNodeMaxBytes.Load())
	s.NodeMaxEntries = int(c.s.streamNodeMaxEntries.Load())
	s.Append(id, c.Args[fieldPos:]) // packs a copy
	c.DB.Touch(key)
	idb := id.Append(c.idBuf[:0])
	c.Bulk(idb)
	trimmed := int64(0)
	if a.trim.Strategy != stream.TrimNone {
		trimmed = s.Trim(a.trim)
	}
	argv := streamTrimArgv(c.Args, &a, s)
	if !a.idGiven || !a.seqGiven {
		if &argv[0] == &c.Args[0] {
			// c.prop: Propagate copies argv there anyway.
			argv = append(c.prop[:0], argv...)
		}
		argv[idPos] = idb
	}
	c.DB.Signal(key)
	c.Propagate(argv...)
	c.notify(keyevents.Stream, "xadd", key)
	if trimmed > 0 {
		c.notify(keyevents.Stream, "xtrim", key)
	}
}

func cmdXTrim(c *Ctx) {
	key := c.Args[1]
	s, ok := c.streamWrite(key)
	if !ok {
		return
	}
	a, i, ok := c.streamParseAddOrTrim(false)
	if !ok {
		return
	}
	if i < len(c.Args) {
		c.Err(errSyntax)
		return
	}
	if s == nil {
		c.Int(0)
		return
	}
	n := s.Trim(a.trim)
	if n > 0 {
		c.DB.Touch(key)
		c.Propagate(streamTrimArgv(c.Args, &a, s)...)
		c.notify(keyevents.Stream, "xtrim", key)
	}
	c.Int(n)
}

func cmdXLen(c *Ctx) {
	s, ok := c.streamRead(c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.Int(0)
		return
	}
	c.Int(int64(s.Len()))
}

// ---- XRANGE / XREVRANGE -------------------------------------------------------

func cmdXRange(c *Ctx)    { xrange(c, false) }
func cmdXRevRange(c *Ctx) { xrange(c, true) }

func xrange(c *Ctx, rev bool) {
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := c.streamParseStart(startArg)
	if !ok {
		return
	}
	end, ok := c.streamParseEnd(endArg)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if eq(c.Args[j], "count") && j+1 < len(c.Args) {
			n, ok := c.ParseInt(c.Args[j+1])
			if !ok {
				return
			}
			count = max(n, 0)
			j++
		} else {
			c.Err(errSyntax)
			return
		}
	}
	s, ok := c.streamRead(c.Args[1])
	if !ok {
		return
	}
	if s == nil {
		c.Array(0)
		return
	}
	if count == 0 {
		c.NullArray()
		return
	}
	c.streamReplyRange(s, start, end, count, rev)
}

// streamEntry is an entry collected for a reply.
type streamEntry struct {
	id stream.ID
	fv [][]byte
}

func (c *Ctx) streamReplyRange(s *stream.Stream, start, end stream.ID, count int64, rev bool) {
	var out []streamEntry
	s.Range(start, end, rev, func(id stream.ID, fv [][]byte) bool {
		out = append(out, streamEntry{id, fv})
		return count < 0 || int64(len(out)) < count
	})
	c.Array(len(out))
	for _, e := range out {
		c.streamReplyEntry(e.id, e.fv)
	}
}

// ---- XDEL ---------------------------------------------------------------------

func cmdXDel(c *Ctx) {
	ids := make([]stream.ID, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		id, ok := c.streamParseID(a, 0, true)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	key := c.Args[1]
	s, ok := c.streamWrite(key)
	if !ok {
		return
	}
	if s == nil {
		c.Int(0)
		return
	}
	c.streamRemoveIDs(key, ids, s.Delete)
}

// streamRemoveIDs (XDEL, XACK) removes each of ids with remove and replies
// how many it removed; if any, key changed and the command propagates.
func (c *Ctx) streamRemoveIDs(key []byte, ids []stream.ID, remove func(stream.ID) bool) {
	n := 0
	for _, id := range ids {
		if remove(id) {
			n++
		}
	}
	if n > 0 {
		c.DB.Touch(key)
		c.PropagateArgs()
		if c.cmd.Name == "xdel" { // XACK publishes nothing
			c.notify(keyevents.Stream, "xdel", key)
		}
	}
	c.Int(int64(n))
}

// ---- XSETID -------------------------------------------------------------------

func cmdXSetID(c *Ctx) {
	key := c.Args[1]
	id, ok := c.streamParseID(c.Args[2], 0, true)
	if !ok {
		return
	}
	var maxXdel stream.ID
	entriesAdded := int64(-1)
	for i := 3; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		switch {
		case eq(c.Args[i], "entriesadded") && more > 0:
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 0 {
				c.Err("ERR entries_added must be positive")
				return
			}
			entriesAdded = n
			i++
		case eq(c.Args[i], "maxdeletedid") && more > 0:
			m, ok := c.streamParseID(c.Args[i+1], 0, true)
			if !ok {
				return
			}
			if id.Less(m) {
				c.Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			maxXdel = m
			i++
		default:
			c.Err(errSyntax)
			return
		}
	}
	s, ok := c.streamWrite(key)
	if !ok {
		return
	}
	if s == nil {
		c.Err(errNoSuchKey)
		return
	}
	if s.Len() > 0 {
		if id.Less(s.Last()) {
			c.Err("ERR The ID specified in XSETID is smaller than the target stream top item")
			return
		}
		if entriesAdded != -1 && int64(s.Len()) > entriesAdded {
			c.Err("ERR The entries_added specified in XSETID is smaller than the target stream length")
			return
		}
	}
	s.LastID = id
	if entriesAdded != -1 {
		s.EntriesAdded = uint64(entriesAdded)
	}
	if !maxXdel.IsZero() {
		s.MaxDeletedID = maxXdel
	}
	c.DB.Touch(key)
	c.PropagateArgs()
	c.notify(keyevents.Stream, "xsetid", key)
	c.OK()
}

// ---- consumer groups ----------------------------------------------------------

func (c *Ctx) streamNoGroup(key, group []byte) {
	c.Err("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(group) + "'")
}

// streamNoSuchGroup is the NOGROUP of XGROUP and XINFO: the key exists.
func (c *Ctx) streamNoSuchGroup(key, group []byte) {
	c.Err("NOGROUP No such consumer group '" + string(group) + "' for key name '" + string(key) + "'")
}

// streamGroupOf returns key's stream and the named group, replying the
// errors Redis replies (WRONGTYPE, NOGROUP) when it cannot.
func (c *Ctx) streamGroupOf(key, group []byte, write bool) (*stream.Stream, *stream.Group, bool) {
	var s *stream.Stream
	var ok bool
	if write {
		s, ok = c.streamWrite(key)
	} else {
		s, ok = c.streamRead(key)
	}
	if !ok {
		return nil, nil, false
	}
	var g *stream.Group
	if s != nil {
		g = s.Group(string(group))
	}
	return s, g, true
}

func cmdXGroupCreate(c *Ctx) { xgroupCreateOrSetID(c, true) }
func cmdXGroupSetID(c *Ctx)  { xgroupCreateOrSetID(c, false) }

func xgroupCreateOrSetID(c *Ctx, create bool) {
	key, gname := c.Args[2], c.Args[3]
	mkstream := false
	entriesRead := int64(stream.InvalidEntriesRead)
	i := 5
	for ; i < len(c.Args); i++ {
		switch {
		case create && eq(c.Args[i], "mkstream"):
			mkstream = true
		case eq(c.Args[i], "entriesread") && i+1 < len(c.Args):
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if n < 0 && n != stream.InvalidEntriesRead {
				c.Err("ERR value for ENTRIESREAD must be positive or -1")
				return
			}
			entriesRead = n
			i++
		default:
			c.Err("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try XGROUP HELP.")
			return
		}
	}
	o, ok := c.WriteType(key, keyspace.TStream)
	if !ok {
		return
	}
	var s *stream.Stream
	if o != nil {
		s = streamOf(o)
	}
	if s == nil && !(create && mkstream) {
		c.Err(errXGroupNoKey)
		return
	}
	var id stream.ID
	if eq(c.Args[4], "$") {
		if s != nil {
			id = s.LastID
		}
	} else {
		var ok bool
		if id, ok = c.streamParseID(c.Args[4], 0, true); !ok {
			return
		}
	}
	if create {
		if s == nil {
			s = c.streamNew(key)
		}
		if s.CreateGroup(string(gname), id, entriesRead) == nil {
			c.Err("BUSYGROUP Consumer Group name already exists")
			return
		}
		// No signalModifiedKey, as Redis 7.0 (WATCH, client-side caching):
		// a group is not the stream's content.
		c.OK()
		c.PropagateArgs() // "$" too, as Redis propagates it
		c.notify(keyevents.Stream, "xgroup-create", key)
		return
	}
	g := s.Group(string(gname))
	if g == nil {
		c.streamNoSuchGroup(key, gname)
		return
	}
	g.LastID = id
	g.EntriesRead = entriesRead
	c.OK()
	c.PropagateArgs()
	c.notify(keyevents.Stream, "xgroup-setid", key)
}

func cmdXGroupDestroy(c *Ctx) {
	key, gname := c.Args[2], c.Args[3]
	s, ok := c.streamWrite(key)
	if !ok {
		return
	}
	if s == nil {
		c.Err(errXGroupNoKey)
		return
	}
	if !s.DestroyGroup(string(gname)) {
		c.Int(0)
		return
	}
	c.DB.Touch(key)
	c.DB.Signal(key) // clients blocked on the group get NOGROUP
	c.PropagateArgs()
	c.notify(keyevents.Stream, "xgroup-destroy", key)
	c.Int(1)
}

func (c *Ctx) xgroupLookup(key, gname []byte) (*stream.Stream, *stream.Group, bool) {
	s, ok := c.streamWrite(key)
	if !ok {
		return nil, nil, false
	}
	if s == nil {
		c.Err(errXGroupNoKey)
		return nil, nil, false
	}
	g := s.Group(string(gname))
	if g == nil {
		c.streamNoSuchGroup(key, gname)
		return nil, nil, false
	}
	return s, g, true
}

func cmdXGroupCreateConsumer(c *Ctx) {
	key := c.Args[2]
	_, g, ok := c.xgroupLookup(key, c.Args[3])
	if !ok {
		return
	}
	if g.CreateConsumer(string(c.Args[4]), c.DB.Now()) == nil {
		c.Int(0)
		return
	}
	c.DB.Touch(key)
	c.PropagateArgs()
	c.notify(keyevents.Stream, "xgroup-createconsumer", key)
	c.Int(1)
}

func cmdXGroupDelConsumer(c *Ctx) {
	key := c.Args[2]
	_, g, ok := c.xgroupLookup(key, c.Args[3])
	if !ok {
		return
	}
	cons := g.Consumer(string(c.Args[4]))
	if cons == nil {
		c.Int(0)
		return
	}
	n := g.DeleteConsumer(cons)
	c.DB.Touch(key)
	c.PropagateArgs()
	c.notify(keyevents.Stream, "xgroup-delconsumer", key)
	c.Int(int64(n))
}

var xgroupHelp = []string{
	"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
	"HELP",
	"    Prints this help.",
}

var xinfoHelp = []string{
	"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
	"HELP",
	"    Prints this help.",
}

func cmdXGroupHelp(c *Ctx) { c.streamHelp(xgroupHelp) }
func cmdXInfoHelp(c *Ctx)  { c.streamHelp(xinfoHelp) }

func (c *Ctx) streamHelp(lines []string) {
	c.Array(len(lines))
	for _, l := range lines {
		c.Status(l)
	}
}

// ---- XACK ---------------------------------------------------------------------

func cmdXAck(c *Ctx) {
	key, gname := c.Args[1], c.Args[2]
	s, g, ok := c.streamGroupOf(key, gname, true)
	if !ok {
		return
	}
	ids := make([]stream.ID, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		id, ok := c.streamParseID(a, 0, true)
		if !ok {
			return
		}
		ids = append(ids, id)
	}
	if s == nil || g == nil {
		c.Int(0)
		return
	}
	c.streamRemoveIDs(key, ids, func(id stream.ID) bool {
		nack := g.PEL.Get(id)
		if nack == nil {
			return false
		}
		g.PEL.Remove(id)
		nack.Consumer.PEL.Remove(id)
		return true
	})
}

// ---- XPENDING -----------------------------------------------------------------

func cmdXPending(c *Ctx) {
	key, gname := c.Args[1], c.Args[2]
	justInfo := len(c.Args) == 3
	var start, end stream.ID
	count := int64(-1)
	var minIdle int64
	var consumer []byte
	if n := len(c.Args); n != 3 && (n < 6 || n > 9) {
		c.Err(errSyntax)
		return
	}
	if !justInfo {
		i := 3
		if eq(c.Args[i], "idle") {
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return
			}
			if len(c.Args) < 8 {
				c.Err(errSyntax)
				return
			}
			minIdle = n
			i += 2
		}
		var ok bool
		if count, ok = c.ParseInt(c.Args[i+2]); !ok {
			return
		}
		count = max(count, 0)
		if start, ok = c.streamParseStart(c.Args[i]); !ok {
			return
		}
		if end, ok = c.streamParseEnd(c.Args[i+1]); !ok {
			return
		}
		if i+3 < len(c.Args) {
			consumer = c.Args[i+3]
		}
	}
	s, g, ok := c.streamGroupOf(key, gname, false)
	if !ok {
		return
	}
	if s == nil || g == nil {
		c.streamNoGroup(key, gname)
		return
	}
	if justInfo {
		c.Array(4)
		c.Int(int64(g.PEL.Len()))
		if g.PEL.Len() == 0 {
			c.Null()
			c.Null()
			c.NullArray()
			return
		}
		c.Bulk(streamIDBulk(g.PEL.First()))
		c.Bulk(streamIDBulk(g.PEL.Last()))
		var withPending []*stream.Consumer
		for _, cons := range g.Consumers() {
			if cons.PEL.Len() > 0 {
				withPending = append(withPending, cons)
			}
		}
		c.Array(len(withPending))
		for _, cons := range withPending {
			c.Array(2)
			c.BulkString(cons.Name)
			c.Bulk(strconv.AppendInt(nil, int64(cons.PEL.Len()), 10))
		}
		return
	}
	pel := g.PEL
	if consumer != nil {
		cons := g.Consumer(string(consumer))
		if cons == nil {
			c.Array(0)
			return
		}
		pel = cons.PEL
	}
	now := c.DB.Now()
	var rows []pelRow
	if count > 0 {
		pel.Range(start, end, func(id stream.ID, n *stream.NACK) bool {
			if minIdle > 0 && now-n.DeliveryTime < minIdle {
				return true
			}
			rows = append(rows, pelRow{id, n})
			return int64(len(rows)) < count
		})
	}
	c.Array(len(rows))
	for _, r := range rows {
		c.Array(4)
		c.Bulk(streamIDBulk(r.id))
		c.BulkString(r.n.Consumer.Name)
		c.Int(max(now-r.n.DeliveryTime, 0))
		c.Int(int64(r.n.DeliveryCount))
	}
}

// ---- XCLAIM / XAUTOCLAIM ------------------------------------------------------

// streamClaimArgv is what XREADGROUP, XCLAIM and XAUTOCLAIM propagate for
// each PEL change (Redis's streamPropagateXCLAIM).
func streamClaimArgv(key, group []byte, g *stream.Group, id stream.ID, n *stream.NACK) [][]byte {
	// The variable arguments share one buffer.
	buf := make([]byte, 0, 128)
	buf = id.Append(buf)
	idEnd := len(buf)
	buf = strconv.AppendInt(buf, n.DeliveryTime, 10)
	tEnd := len(buf)
	buf = strconv.AppendUint(buf, n.DeliveryCount, 10)
	cEnd := len(buf)
	buf = g.LastID.Append(buf)
	return [][]byte{
		wordXClaim, key, group, []byte(n.Consumer.Name), wordZero, buf[:idEnd:idEnd],
		wordTime, buf[idEnd:tEnd:tEnd], wordRetryCount, buf[tEnd:cEnd:cEnd],
		wordForce, wordJustID, wordLastID, buf[cEnd:],
	}
}

var (
	wordXClaim     = []byte("XCLAIM")
	wordZero       = []byte("0")
	wordTime       = []byte("TIME")
	wordRetryCount = []byte("RETRYCOUNT")
	wordForce      = []byte("FORCE")
	wordJustID     = []byte("JUSTID")
	wordLastID     = []byte("LASTID")
)

// streamSetIDArgv is Redis's streamPropagateGroupID.
func streamSetIDArgv(key, group []byte, g *stream.Group) [][]byte {
	return [][]byte{
		[]byte("XGROUP"), []byte("SETID"), key, group, streamIDBulk(g.LastID),
		[]byte("ENTRIESREAD"), strconv.AppendInt(nil, g.EntriesRead, 10),
	}
}

func streamDelAckArgv(key, group []byte, id stream.ID) [][]byte {
	return [][]byte{[]byte("XACK"), key, group, streamIDBulk(id)}
}

// streamConsumer looks the consumer up, creating it if needed, and marks
// it seen at now. Its creation is propagated only when asked (XREADGROUP
// NOACK): otherwise the XCLAIMs that follow create it on the replica, as
// in Redis.
func streamConsumer(srv *Server, db int, g *stream.Group, key, gname, name []byte, now int64, b *streamBatch, propagate bool) *stream.Consumer {
	cons := g.Consumer(string(name))
	if cons == nil {
		cons = g.CreateConsumer(string(name), now)
		if propagate {
			b.add([]byte("XGROUP"), []byte("CREATECONSUMER"), key, gname, name)
		}
		srv.publishKeyEvent(keyevents.Stream, "xgroup-createconsumer", key, db)
	}
	cons.SeenTime = now
	return cons
}

// streamTakeOver moves the pending entry id (nack) to cons's PEL.
func streamTakeOver(cons *stream.Consumer, id stream.ID, nack *stream.NACK) {
	if nack.Consumer == cons {
		return
	}
	if nack.Consumer != nil { // nil: a NACK XCLAIM FORCE just made
		nack.Consumer.PEL.Remove(id)
	}
	cons.PEL.Put(id, nack)
	nack.Consumer = cons
}

// streamReplyClaimed writes what XCLAIM or XAUTOCLAIM claimed: the IDs
// (JUSTID) or the entries.
func (c *Ctx) streamReplyClaimed(out []streamEntry, justID bool) {
	c.Array(len(out))
	for _, e := range out {
		if justID {
			c.Bulk(streamIDBulk(e.id))
		} else {
			c.streamReplyEntry(e.id, e.fv)
		}
	}
}

func cmdXClaim(c *Ctx) {
	key, gname, cname := c.Args[1], c.Args[2], c.Args[3]
	s, g, ok := c.streamGroupOf(key, gname, true)
	if !ok {
		return
	}
	if s == nil || g == nil {
		c.streamNoGroup(key, gname)
		return
	}
	minIdle, ok := keyspace.ParseInt(c.Args[4])
	if !ok {
		c.Err("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	var ids []stream.ID
	j := 5
	for ; j < len(c.Args); j++ {
		id, ok := stream.Parse(c.Args[j], 0, true, nil)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.DB.Now()
	deliveryTime := int64(-1)
	retryCount := int64(-1)
	force, justID := false, false
	var lastID stream.ID
	for ; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		opt := c.Args[j]
		switch {
		case eq(opt, "force"):
			force = true
		case eq(opt, "justid"):
			justID = true
		case eq(opt, "idle") && more > 0:
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid IDLE option argument for XCLAIM")
				return
			}
			deliveryTime = now - n
		case eq(opt, "time") && more > 0:
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid TIME option argument for XCLAIM")
				return
			}
			deliveryTime = n
		case eq(opt, "retrycount") && more > 0:
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			if !ok {
				c.Err("ERR Invalid RETRYCOUNT option argument for XCLAIM")
				return
			}
			retryCount = n
		case eq(opt, "lastid") && more > 0:
			j++
			id, ok := c.streamParseID(c.Args[j], 0, true)
			if !ok {
				return
			}
			lastID = id
		default:
			c.Err("ERR Unrecognized XCLAIM option '" + string(opt) + "'")
			return
		}
	}
	if deliveryTime != -1 {
		// A bogus time (negative, in the future) becomes now, as Redis does.
		if deliveryTime < 0 || deliveryTime > now {
			deliveryTime = now
		}
	} else {
		deliveryTime = now
	}
	var b streamBatch
	lastWas := g.LastID
	if g.LastID.Less(lastID) {
		g.LastID = lastID
	}
	var cons *stream.Consumer
	var out []streamEntry
	propagateLast := lastWas.Less(lastID)
	for _, id := range ids {
		nack := g.PEL.Get(id)
		fv, exists := s.Get(id)
		if !exists {
			if nack != nil {
				// The entry was deleted: its NACK goes (Redis 7.0).
				b.add(streamClaimArgv(key, gname, g, id, nack)...)
				propagateLast = false
				g.PEL.Remove(id)
				nack.Consumer.PEL.Remove(id)
			}
			continue
		}
		if force && nack == nil {
			// A NACK for an entry the group never delivered (replication).
			nack = &stream.NACK{DeliveryTime: now, DeliveryCount: 1}
			g.PEL.Put(id, nack)
		}
		if nack == nil {
			continue
		}
		if minIdle > 0 && now-nack.DeliveryTime < minIdle {
			continue
		}
		if cons == nil {
			cons = streamConsumer(c.s, c.DB.ID(), g, key, gname, cname, now, &b, false)
		}
		streamTakeOver(cons, id, nack)
		nack.DeliveryTime = deliveryTime
		if retryCount >= 0 {
			nack.DeliveryCount = uint64(retryCount)
		} else if !justID {
			nack.DeliveryCount++
		}
		cons.ActiveTime = now
		out = append(out, streamEntry{id, fv})
		b.add(streamClaimArgv(key, gname, g, id, nack)...)
		propagateLast = false
	}
	if propagateLast {
		b.add(streamSetIDArgv(key, gname, g)...)
	}
	c.streamReplyClaimed(out, justID)
	if len(b) > 0 {
		c.DB.Touch(key)
	}
	b.flush(c.s, c, c.DB.ID())
}

// xautoclaimMaxAlloc stands for the allocation Redis's XAUTOCLAIM attempts
// for count IDs: past it Redis's allocator gives up.
const xautoclaimMaxAlloc = 1 << 40

func cmdXAutoClaim(c *Ctx) {
	key, gname, cname := c.Args[1], c.Args[2], c.Args[3]
	s, g, ok := c.streamGroupOf(key, gname, true)
	if !ok {
		return
	}
	minIdle, ok := keyspace.ParseInt(c.Args[4])
	if !ok {
		c.Err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	minIdle = max(minIdle, 0)
	start, ok := c.streamParseStart(c.Args[5])
	if !ok {
		return
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case eq(c.Args[j], "count") && more > 0:
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			// LONG_MAX / max(sizeof(streamID), attempts factor), as 7.0.
			const maxCount = (1<<63 - 1) / 16
			if !ok || n < 1 || n > maxCount {
				c.Err("ERR COUNT must be > 0")
				return
			}
			count = n
		case eq(c.Args[j], "justid"):
			justID = true
		default:
			c.Err(errSyntax)
			return
		}
	}
	if s == nil || g == nil {
		c.streamNoGroup(key, gname)
		return
	}
	if count > xautoclaimMaxAlloc/16 {
		// Redis allocates count IDs up front and fails this way.
		c.Err("ERR Insufficient memory, failed allocating transient memory, COUNT too high.")
		return
	}
	now := c.DB.Now()
	attempts := count * 10
	var b streamBatch
	var cons *stream.Consumer
	var out []streamEntry
	var deleted []stream.ID
	var ids []stream.ID
	g.PEL.Range(start, stream.MaxID, func(id stream.ID, _ *stream.NACK) bool {
		ids = append(ids, id)
		return int64(len(ids)) <= attempts
	})
	k := 0
	for ; attempts > 0 && count > 0 && k < len(ids); k++ {
		attempts--
		id := ids[k]
		nack := g.PEL.Get(id)
		fv, exists := s.Get(id)
		if !exists {
			b.add(streamClaimArgv(key, gname, g, id, nack)...)
			g.PEL.Remove(id)
			nack.Consumer.PEL.Remove(id)
			deleted = append(deleted, id)
			count-- // a deleted entry uses up the count too (7.0)
			continue
		}
		if minIdle > 0 && now-nack.DeliveryTime < minIdle {
			continue
		}
		if cons == nil {
			cons = streamConsumer(c.s, c.DB.ID(), g, key, gname, cname, now, &b, false)
		}
		streamTakeOver(cons, id, nack)
		nack.DeliveryTime = now
		if !justID {
			nack.DeliveryCount++
		}
		cons.ActiveTime = now
		out = append(out, streamEntry{id, fv})
		count--
		b.add(streamClaimArgv(key, gname, g, id, nack)...)
	}
	var next stream.ID
	if k < len(ids) {
		next = ids[k]
	}
	c.Array(3)
	c.Bulk(streamIDBulk(next))
	c.streamReplyClaimed(out, justID)
	c.Array(len(deleted))
	for _, id := range deleted {
		c.Bulk(streamIDBulk(id))
	}
	if len(b) > 0 {
		c.DB.Touch(key)
	}
	b.flush(c.s, c, c.DB.ID())
}
