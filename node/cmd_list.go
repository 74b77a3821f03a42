package node

import (
	"bytes"
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerLists(t table) {
	const g = "list"
	w, wd, r := fWrite, fWrite|fDenyOOM, fReadonly
	t.add(
		&Command{Name: "lpush", Arity: -3, Flags: wd | fFast, FirstKey: 1, Run: cmdLPush, Group: g},
		&Command{Name: "rpush", Arity: -3, Flags: wd | fFast, FirstKey: 1, Run: cmdRPush, Group: g},
		&Command{Name: "lpushx", Arity: -3, Flags: wd | fFast, FirstKey: 1, Run: cmdLPushX, Group: g},
		&Command{Name: "rpushx", Arity: -3, Flags: wd | fFast, FirstKey: 1, Run: cmdRPushX, Group: g},
		&Command{Name: "lpop", Arity: -2, Flags: w | fFast, FirstKey: 1, Run: cmdLPop, Group: g},
		&Command{Name: "rpop", Arity: -2, Flags: w | fFast, FirstKey: 1, Run: cmdRPop, Group: g},
		&Command{Name: "llen", Arity: 2, Flags: r | fFast, FirstKey: 1, Run: cmdLLen, Group: g},
		&Command{Name: "lrange", Arity: 4, Flags: r, FirstKey: 1, Run: cmdLRange, Group: g},
		&Command{Name: "lindex", Arity: 3, Flags: r, FirstKey: 1, Run: cmdLIndex, Group: g},
		&Command{Name: "lset", Arity: 4, Flags: wd, FirstKey: 1, Run: cmdLSet, Group: g},
		&Command{Name: "lrem", Arity: 4, Flags: w, FirstKey: 1, Run: cmdLRem, Group: g},
		&Command{Name: "ltrim", Arity: 4, Flags: w, FirstKey: 1, Run: cmdLTrim, Group: g},
		&Command{Name: "linsert", Arity: 5, Flags: wd, FirstKey: 1, Run: cmdLInsert, Group: g},
		&Command{Name: "lpos", Arity: -3, Flags: r, FirstKey: 1, Run: cmdLPos, Group: g},
		&Command{Name: "lmove", Arity: 5, Flags: wd, FirstKey: 1, LastKey: 2, Run: cmdLMove, Group: g},
		&Command{Name: "rpoplpush", Arity: 3, Flags: wd, FirstKey: 1, LastKey: 2, Run: cmdRPopLPush, Group: g},
		&Command{Name: "lmpop", Arity: -4, Flags: w, KeyFn: lmpopKeys, Run: cmdLMPop, Group: g},
		&Command{Name: "blpop", Arity: -3, Flags: w | fNoScript | fBlocking, FirstKey: 1, LastKey: -2, Run: cmdBLPop, Group: g},
		&Command{Name: "brpop", Arity: -3, Flags: w | fNoScript | fBlocking, FirstKey: 1, LastKey: -2, Run: cmdBRPop, Group: g},
		&Command{Name: "blmove", Arity: 6, Flags: wd | fNoScript | fBlocking, FirstKey: 1, LastKey: 2, Run: cmdBLMove, Group: g},
		&Command{Name: "brpoplpush", Arity: 4, Flags: wd | fNoScript | fBlocking, FirstKey: 1, LastKey: 2, Run: cmdBRPopLPush, Group: g},
		&Command{Name: "blmpop", Arity: -5, Flags: w | fBlocking, KeyFn: blmpopKeys, Run: cmdBLMPop, Group: g},
	)
}

// List ends, as LEFT / RIGHT name them.
const (
	listLeft  = 0
	listRight = 1
)

var (
	listWordLeft      = []byte("LEFT")
	listWordRight     = []byte("RIGHT")
	listWordLPop      = []byte("LPOP")
	listWordRPop      = []byte("RPOP")
	listWordLMove     = []byte("LMOVE")
	listWordRPopLPush = []byte("RPOPLPUSH")
)

func listSideArg(b []byte) (int, bool) {
	switch {
	case eq(b, "left"):
		return listLeft, true
	case eq(b, "right"):
		return listRight, true
	}
	return 0, false
}

func listSideWord(side int) []byte {
	if side == listLeft {
		return listWordLeft
	}
	return listWordRight
}

func listPopWord(side int) []byte {
	if side == listLeft {
		return listWordLPop
	}
	return listWordRPop
}

func listPopSide(l *keyspace.List, side int) []byte {
	if side == listLeft {
		return l.PopFront()
	}
	return l.PopBack()
}

func listPushSide(l *keyspace.List, side int, v []byte) {
	if side == listLeft {
		l.PushFront(v)
	} else {
		l.PushBack(v)
	}
}

// listCopy copies an element to store (never nil, even when empty).
func listCopy(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

func listNewObject() *keyspace.Object {
	return &keyspace.Object{Type: keyspace.TList, Val: keyspace.NewList(), LRU: keyspace.LRUClock()}
}

// listNonEmpty returns key's list when it holds one with elements.
func listNonEmpty(v keyspace.View, key []byte) *keyspace.Object {
	o := v.Get(key)
	if o == nil || o.Type != keyspace.TList || o.List().Len() == 0 {
		return nil
	}
	return o
}

// listReady is the blocking commands' readiness check.
func listReady(v keyspace.View, key []byte) bool { return listNonEmpty(v, key) != nil }

// ---- push -----------------------------------------------------------------

// listBatchCopyMax bounds the bytes of one push copied into a shared buffer.
const listBatchCopyMax = 4096

func listPush(c *Ctx, side int, onlyExisting bool) {
	key := c.Args[1]
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		if onlyExisting {
			c.Int(0)
			return
		}
		o = listNewObject()
		c.DB.Set(key, o) // the stored object shares o's *List
	} else {
		c.DB.Touch(key)
	}
	l := o.List()
	vals := c.Args[2:]
	// Small elements share one allocation (a big one would be kept alive
	// by any surviving element, so those are copied one by one).
	total := 0
	for _, v := range vals {
		total += len(v)
	}
	if total > listBatchCopyMax {
		for _, v := range vals {
			listPushSide(l, side, listCopy(v))
		}
	} else {
		buf := make([]byte, 0, total)
		for _, v := range vals {
			start := len(buf)
			buf = append(buf, v...)
			listPushSide(l, side, buf[start:len(buf):len(buf)])
		}
	}
	c.DB.Signal(key)
	c.PropagateArgs()
	c.notify(keyevents.List, listPushEvent(side), key)
	c.Int(int64(l.Len()))
}

func cmdLPush(c *Ctx)  { listPush(c, listLeft, false) }
func cmdRPush(c *Ctx)  { listPush(c, listRight, false) }
func cmdLPushX(c *Ctx) { listPush(c, listLeft, true) }
func cmdRPushX(c *Ctx) { listPush(c, listRight, true) }

// ---- pop ------------------------------------------------------------------

func listPop(c *Ctx, side int) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Err("ERR wrong number of arguments for '" + c.cmd.Name + "' command")
		return
	}
	hasCount := len(c.Args) == 3
	var count int64
	if hasCount {
		n, ok := keyspace.ParseInt(c.Args[2])
		if !ok || n < 0 {
			c.Err(errNotPositive)
			return
		}
		count = n
	}
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		if hasCount {
			c.NullArray()
		} else {
			c.Null()
		}
		return
	}
	l := o.List()
	if !hasCount {
		c.Bulk(listPopSide(l, side))
	} else {
		if count == 0 {
			c.Array(0)
			return
		}
		n := min(count, int64(l.Len()))
		c.Array(int(n))
		for i := int64(0); i < n; i++ {
			c.Bulk(listPopSide(l, side))
		}
	}
	c.DB.Touch(key)
	c.DB.DeleteIfEmpty(key, o)
	c.PropagateArgs()
	c.notify(keyevents.List, listPopEvent(side), key)
	c.notifyEmptied(key, o)
}

func cmdLPop(c *Ctx) { listPop(c, listLeft) }
func cmdRPop(c *Ctx) { listPop(c, listRight) }

// ---- reads ----------------------------------------------------------------

func cmdLLen(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	c.Int(int64(o.List().Len()))
}

func cmdLRange(c *Ctx) {
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	o, ok := c.ReadType(c.Args[1], keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Array(0)
		return
	}
	l := o.List()
	s, e, nonEmpty := clampRange(start, end, int64(l.Len()))
	if !nonEmpty {
		c.Array(0)
		return
	}
	c.Array(int(e - s + 1))
	for i := int(s); i <= int(e); i++ {
		c.Bulk(l.Index(i))
	}
}

// listIndex normalizes a possibly negative index; ok=false when out of range.
func listIndex(idx int64, n int) (int, bool) {
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		return 0, false
	}
	return int(idx), true
}

func cmdLIndex(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Null()
		return
	}
	idx, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	l := o.List()
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.Null()
		return
	}
	c.Bulk(l.Index(i))
}

func cmdLPos(c *Ctx) {
	ele := c.Args[2]
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: not given
	for j := 3; j < len(c.Args); j++ {
		opt := c.Args[j]
		more := j+1 < len(c.Args)
		switch {
		case eq(opt, "rank") && more:
			j++
			n, ok := c.ParseInt(c.Args[j])
			if !ok {
				return
			}
			if n == 0 {
				c.Err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case eq(opt, "count") && more:
			j++
			n, ok := c.ParsePositive(c.Args[j], "ERR COUNT can't be negative")
			if !ok {
				return
			}
			count = n
		case eq(opt, "maxlen") && more:
			j++
			n, ok := c.ParsePositive(c.Args[j], "ERR MAXLEN can't be negative")
			if !ok {
				return
			}
			maxlen = n
		default:
			c.Err(errSyntax)
			return
		}
	}
	// A negative rank searches from the tail. As in Redis, the arithmetic
	// wraps for RANK -9223372036854775808.
	reverse := false
	if rank < 0 {
		rank = -rank
		reverse = true
	}
	o, ok := c.ReadType(c.Args[1], keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		if count != -1 {
			c.Array(0)
		} else {
			c.Null()
		}
		return
	}
	l := o.List()
	llen := int64(l.Len())
	var found []int64
	matches := int64(0)
	for index := int64(0); index < llen && (maxlen == 0 || index < maxlen); index++ {
		pos := index
		if reverse {
			pos = llen - index - 1
		}
		if !bytes.Equal(l.Index(int(pos)), ele) {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		if count == -1 {
			c.Int(pos)
			return
		}
		found = append(found, pos)
		if count != 0 && matches-rank+1 >= count {
			break
		}
	}
	if count == -1 {
		c.Null()
		return
	}
	c.Array(len(found))
	for _, p := range found {
		c.Int(p)
	}
}

// ---- in-place mutations ---------------------------------------------------

func cmdLSet(c *Ctx) {
	key := c.Args[1]
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Err(errNoSuchKey)
		return
	}
	idx, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	l := o.List()
	i, ok := listIndex(idx, l.Len())
	if !ok {
		c.Err("ERR index out of range")
		return
	}
	l.SetIndex(i, listCopy(c.Args[3]))
	c.DB.Touch(key)
	c.PropagateArgs()
	c.notify(keyevents.List, "lset", key)
	c.OK()
}

func cmdLRem(c *Ctx) {
	key, ele := c.Args[1], c.Args[3]
	toRemove, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	l := o.List()
	n := l.Len()
	// limit is |toRemove| (0 = all); uint64 so that MinInt64 works too.
	limit := uint64(toRemove)
	if toRemove < 0 {
		limit = uint64(-toRemove)
	}
	// Find the span [first, last] holding the matches to remove.
	first, last := -1, -1
	var seen uint64
	if toRemove >= 0 {
		for i := 0; i < n; i++ {
			if bytes.Equal(l.Index(i), ele) {
				if first < 0 {
					first = i
				}
				last = i
				seen++
				if limit != 0 && seen == limit {
					break
				}
			}
		}
	} else {
		for i := n - 1; i >= 0; i-- {
			if bytes.Equal(l.Index(i), ele) {
				if last < 0 {
					last = i
				}
				first = i
				seen++
				if seen == limit {
					break
				}
			}
		}
	}
	if first < 0 {
		c.Int(0)
		return
	}
	// Compact in place from the first removed element.
	w := first
	for i := first; i < n; i++ {
		v := l.Index(i)
		if i <= last && bytes.Equal(v, ele) {
			continue
		}
		if w != i {
			l.SetIndex(w, v)
		}
		w++
	}
	removed := n - w
	for l.Len() > w {
		l.PopBack()
	}
	c.DB.Touch(key)
	c.DB.DeleteIfEmpty(key, o)
	c.PropagateArgs()
	if removed > 0 {
		c.notify(keyevents.List, "lrem", key)
		c.notifyEmptied(key, o)
	}
	c.Int(int64(removed))
}

func cmdLTrim(c *Ctx) {
	key := c.Args[1]
	start, ok := c.ParseInt(c.Args[2])
	if !ok {
		return
	}
	end, ok := c.ParseInt(c.Args[3])
	if !ok {
		return
	}
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.OK()
		return
	}
	l := o.List()
	n := l.Len()
	s, e, nonEmpty := clampRange(start, end, int64(n))
	removed := n
	if !nonEmpty {
		c.DB.Delete(key)
	} else {
		left, right := int(s), n-1-int(e)
		removed = left + right
		if removed <= n-removed {
			for i := 0; i < left; i++ {
				l.PopFront()
			}
			for i := 0; i < right; i++ {
				l.PopBack()
			}
		} else {
			l.Keep(int(s), int(e))
		}
		c.DB.Touch(key) // Redis signals the key even when nothing changed
	}
	if removed > 0 {
		c.PropagateArgs()
	}
	c.notify(keyevents.List, "ltrim", key)
	if !nonEmpty {
		c.notify(keyevents.Generic, "del", key)
	}
	c.OK()
}

func cmdLInsert(c *Ctx) {
	key, pivot := c.Args[1], c.Args[3]
	var after bool
	switch {
	case eq(c.Args[2], "before"):
	case eq(c.Args[2], "after"):
		after = true
	default:
		c.Err(errSyntax)
		return
	}
	o, ok := c.WriteType(key, keyspace.TList)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	l := o.List()
	at := -1
	for i := 0; i < l.Len(); i++ {
		if bytes.Equal(l.Index(i), pivot) {
			at = i
			break
		}
	}
	if at < 0 {
		c.Int(-1)
		return
	}
	if after {
		at++
	}
	v := listCopy(c.Args[4])
	if at == 0 {
		l.PushFront(v)
	} else {
		l.Insert(at, v)
	}
	c.DB.Touch(key)
	c.DB.Signal(key)
	c.PropagateArgs()
	c.notify(keyevents.List, "linsert", key)
	c.Int(int64(l.Len()))
}

// ---- moves ----------------------------------------------------------------

// listMove pops from src (so: its non-empty list) and pushes onto dst. It
// returns ok=false, changing nothing, when dst holds another type.
func listMove(v keyspace.View, src, dst []byte, so *keyspace.Object, from, to int) ([]byte, bool) {
	do := so
	same := bytes.Equal(src, dst)
	if !same {
		do = v.Get(dst)
		if do != nil && do.Type != keyspace.TList {
			return nil, false
		}
	}
	val := listPopSide(so.List(), from)
	if do == nil {
		do = listNewObject()
		v.Set(dst, do)
	} else {
		v.Touch(dst)
	}
	listPushSide(do.List(), to, val)
	if !same {
		v.Touch(src)
		v.DeleteIfEmpty(src, so)
	}
	v.Signal(dst)
	return val, true
}

// lmove runs LMOVE / RPOPLPUSH (and BLMOVE / BRPOPLPUSH when the source has
// elements); argv is what to propagate.
func lmove(c *Ctx, src, dst []byte, from, to int, argv [][]byte) {
	o, ok := c.WriteType(src, keyspace.TList)
	if !ok {
		return
	}
	if o == nil || o.List().Len() == 0 {
		c.Null()
		return
	}
	val, ok := listMove(c.DB, src, dst, o, from, to)
	if !ok {
		c.Err(errWrongType)
		return
	}
	c.Propagate(argv...)
	c.s.notifyMove(c.DB.ID(), src, dst, o, from, to)
	c.Bulk(val)
}

func cmdLMove(c *Ctx) {
	from, ok1 := listSideArg(c.Args[3])
	to, ok2 := listSideArg(c.Args[4])
	if !ok1 || !ok2 {
		c.Err(errSyntax)
		return
	}
	lmove(c, c.Args[1], c.Args[2], from, to, c.Args)
}

func cmdRPopLPush(c *Ctx) {
	lmove(c, c.Args[1], c.Args[2], listRight, listLeft, c.Args)
}

// ---- LMPOP ----------------------------------------------------------------

// lmpopKeysAt returns the keys of [B]LMPOP whose numkeys is args[idx], or nil
// when the arguments cannot name them (the handler then replies the error).
func lmpopKeysAt(args [][]byte, idx int) [][]byte {
	if idx >= len(args) {
		return nil
	}
	n, ok := keyspace.ParseInt(args[idx])
	if !ok || n <= 0 || n > int64(len(args)-idx-2) {
		return nil
	}
	return args[idx+1 : idx+1+int(n)]
}

func lmpopKeys(args [][]byte) [][]byte  { return lmpopKeysAt(args, 1) }
func blmpopKeys(args [][]byte) [][]byte { return lmpopKeysAt(args, 2) }

// lmpopArgs parses numkeys (at idx), the keys, LEFT|RIGHT and COUNT.
func lmpopArgs(c *Ctx, idx int) (keys [][]byte, side int, count int64, ok bool) {
	n, ok := keyspace.ParseInt(c.Args[idx])
	if !ok || n <= 0 {
		c.Err("ERR numkeys should be greater than 0")
		return nil, 0, 0, false
	}
	if n > int64(len(c.Args)-idx-2) {
		c.Err(errSyntax)
		return nil, 0, 0, false
	}
	keys = c.Args[idx+1 : idx+1+int(n)]
	where := idx + 1 + int(n)
	side, ok = listSideArg(c.Args[where])
	if !ok {
		c.Err(errSyntax)
		return nil, 0, 0, false
	}
	count = -1
	for j := where + 1; j < len(c.Args); j++ {
		if count == -1 && eq(c.Args[j], "count") && j+1 < len(c.Args) {
			j++
			n, ok := keyspace.ParseInt(c.Args[j])
			if !ok || n <= 0 {
				c.Err("ERR count should be greater than 0")
				return nil, 0, 0, false
			}
			count = n
			continue
		}
		c.Err(errSyntax)
		return nil, 0, 0, false
	}
	if count == -1 {
		count = 1
	}
	return keys, side, count, true
}

// listMPopResult is what [B]LMPOP replies: the key and the popped elements.
type listMPopResult struct {
	key  []byte
	vals [][]byte
}

func (r *listMPopResult) write(c *Ctx) {
	c.Array(2)
	c.Bulk(r.key)
	c.Array(len(r.vals))
	for _, v := range r.vals {
		c.Bulk(v)
	}
}

// listMPopFrom pops up to count elements of o (key's non-empty list),
// propagating it as LPOP/RPOP key n.
func listMPopFrom(s *Server, v keyspace.View, key []byte, o *keyspace.Object, side int, count int64) *listMPopResult {
	l := o.List()
	n := int(min(count, int64(l.Len())))
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = listPopSide(l, side)
	}
	v.Touch(key)
	v.DeleteIfEmpty(key, o)
	s.propagate(v.ID(), [][]byte{listPopWord(side), key, []byte(strconv.Itoa(n))})
	s.publishKeyEvent(keyevents.List, listPopEvent(side), key, v.ID())
	s.notifyEmptied(v.ID(), key, o)
	return &listMPopResult{key: key, vals: vals}
}

// listFirstNonEmpty scans keys in order as Redis does: the first existing key
// is served, or is a WRONGTYPE error (ok=false, already replied).
func listFirstNonEmpty(c *Ctx, keys [][]byte) ([]byte, *keyspace.Object, bool) {
	for _, k := range keys {
		o := c.DB.Get(k)
		if o == nil {
			continue
		}
		if o.Type != keyspace.TList {
			c.Err(errWrongType)
			return nil, nil, false
		}
		if o.List().Len() > 0 {
			return k, o, true
		}
	}
	return nil, nil, true
}

func cmdLMPop(c *Ctx) {
	keys, side, count, ok := lmpopArgs(c, 1)
	if !ok {
		return
	}
	k, o, ok := listFirstNonEmpty(c, keys)
	if !ok {
		return
	}
	if o == nil {
		c.NullArray()
		return
	}
	listMPopFrom(c.s, c.DB, k, o, side, count).write(c)
}

// ---- blocking -------------------------------------------------------------

// listKV is the BLPOP / BRPOP reply: key and element.
type listKV struct {
	key, val []byte
}

// listWrongType is served to a blocked BLMOVE whose destination holds
// another type when the source receives elements (Redis unblocks it with
// WRONGTYPE and the element goes to the next waiter).
type listWrongType struct{}

func blockingPop(c *Ctx, side int) {
	timeout, ok := c.ParseTimeout(c.Args[len(c.Args)-1])
	if !ok {
		return
	}
	keys := c.Args[1 : len(c.Args)-1]
	k, o, ok := listFirstNonEmpty(c, keys)
	if !ok {
		return
	}
	if o != nil {
		val := listPopSide(o.List(), side)
		c.DB.Touch(k)
		c.DB.DeleteIfEmpty(k, o)
		c.Propagate(listPopWord(side), k)
		c.notify(keyevents.List, listPopEvent(side), k)
		c.notifyEmptied(k, o)
		c.Array(2)
		c.Bulk(k)
		c.Bulk(val)
		return
	}
	if c.InMulti() {
		c.NullArray()
		return
	}
	s := c.s
	c.Block(timeout, keys, nil, listReady,
		func(v keyspace.View, key []byte) any {
			o := listNonEmpty(v, key)
			val := listPopSide(o.List(), side)
			v.Touch(key)
			v.DeleteIfEmpty(key, o)
			s.propagate(v.ID(), [][]byte{listPopWord(side), key})
			s.publishKeyEvent(keyevents.List, listPopEvent(side), key, v.ID())
			s.notifyEmptied(v.ID(), key, o)
			return &listKV{key: key, val: val}
		},
		func(c *Ctx, res any) {
			r, ok := res.(*listKV)
			if !ok {
				c.NullArray()
				return
			}
			c.Array(2)
			c.Bulk(r.key)
			c.Bulk(r.val)
		})
}

func cmdBLPop(c *Ctx) { blockingPop(c, listLeft) }
func cmdBRPop(c *Ctx) { blockingPop(c, listRight) }

func blockingMove(c *Ctx, from, to int, timeoutArg []byte, rpoplpush bool) {
	timeout, ok := c.ParseTimeout(timeoutArg)
	if !ok {
		return
	}
	src, dst := c.Args[1], c.Args[2]
	argv := func(src, dst []byte) [][]byte {
		if rpoplpush {
			return [][]byte{listWordRPopLPush, src, dst}
		}
		return [][]byte{listWordLMove, src, dst, listSideWord(from), listSideWord(to)}
	}
	o, ok := c.WriteType(src, keyspace.TList)
	if !ok {
		return
	}
	if o != nil && o.List().Len() > 0 {
		lmove(c, src, dst, from, to, argv(src, dst))
		return
	}
	if c.InMulti() {
		c.Null()
		return
	}
	s := c.s
	dstKey := append([]byte(nil), dst...)
	c.Block(timeout, [][]byte{src}, [][]byte{dst}, listReady,
		func(v keyspace.View, key []byte) any {
			so := listNonEmpty(v, key)
			val, ok := listMove(v, key, dstKey, so, from, to)
			if !ok {
				return listWrongType{}
			}
			s.propagate(v.ID(), argv(key, dstKey))
			s.notifyMove(v.ID(), key, dstKey, so, from, to)
			return val
		},
		func(c *Ctx, res any) {
			switch r := res.(type) {
			case []byte:
				c.Bulk(r)
			case listWrongType:
				c.Err(errWrongType)
			default:
				c.NullArray() // Redis 7.0 times out every list command with a null array
			}
		})
}

func cmdBLMove(c *Ctx) {
	from, ok1 := listSideArg(c.Args[3])
	to, ok2 := listSideArg(c.Args[4])
	if !ok1 || !ok2 {
		c.Err(errSyntax)
		return
	}
	blockingMove(c, from, to, c.Args[5], false)
}

func cmdBRPopLPush(c *Ctx) {
	blockingMove(c, listRight, listLeft, c.Args[3], true)
}

func cmdBLMPop(c *Ctx) {
	keys, side, count, ok := lmpopArgs(c, 2)
	if !ok {
		return
	}
	timeout, ok := c.ParseTimeout(c.Args[1])
	if !ok {
		return
	}
	k, o, ok := listFirstNonEmpty(c, keys)
	if !ok {
		return
	}
	if o != nil {
		listMPopFrom(c.s, c.DB, k, o, side, count).write(c)
		return
	}
	if c.InMulti() {
		c.NullArray()
		return
	}
	s := c.s
	c.Block(timeout, keys, nil, listReady,
		func(v keyspace.View, key []byte) any {
			return listMPopFrom(s, v, key, listNonEmpty(v, key), side, count)
		},
		func(c *Ctx, res any) {
			r, ok := res.(*listMPopResult)
			if !ok {
				c.NullArray()
				return
			}
			r.write(c)
		})
}
