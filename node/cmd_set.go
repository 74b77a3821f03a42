package node

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerSets(t table) {
	const g = "set"
	r, rf := fReadonly, fReadonly|fFast
	t.add(
		&Command{Name: "sadd", Arity: -3, Flags: fWrite | fDenyOOM | fFast, FirstKey: 1, Run: cmdSAdd, Group: g},
		&Command{Name: "srem", Arity: -3, Flags: fWrite | fFast, FirstKey: 1, Run: cmdSRem, Group: g},
		&Command{Name: "smembers", Arity: 2, Flags: r, FirstKey: 1, Run: cmdSMembers, Group: g},
		&Command{Name: "sismember", Arity: 3, Flags: rf, FirstKey: 1, Run: cmdSIsMember, Group: g},
		&Command{Name: "smismember", Arity: -3, Flags: rf, FirstKey: 1, Run: cmdSMIsMember, Group: g},
		&Command{Name: "scard", Arity: 2, Flags: rf, FirstKey: 1, Run: cmdSCard, Group: g},
		&Command{Name: "spop", Arity: -2, Flags: fWrite | fFast, FirstKey: 1, Run: cmdSPop, Group: g},
		&Command{Name: "srandmember", Arity: -2, Flags: r, FirstKey: 1, Run: cmdSRandMember, Group: g},
		&Command{Name: "smove", Arity: 4, Flags: fWrite | fFast, FirstKey: 1, LastKey: 2, Run: cmdSMove, Group: g},
		&Command{Name: "sinter", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Run: cmdSInter, Group: g},
		&Command{Name: "sintercard", Arity: -3, Flags: r, KeyFn: setsNumKeys, Run: cmdSInterCard, Group: g},
		&Command{Name: "sunion", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Run: cmdSUnion, Group: g},
		&Command{Name: "sdiff", Arity: -2, Flags: r, FirstKey: 1, LastKey: -1, Run: cmdSDiff, Group: g},
		&Command{Name: "sinterstore", Arity: -3, Flags: fWrite | fDenyOOM, FirstKey: 1, LastKey: -1, Run: cmdSInterStore, Group: g},
		&Command{Name: "sunionstore", Arity: -3, Flags: fWrite | fDenyOOM, FirstKey: 1, LastKey: -1, Run: cmdSUnionStore, Group: g},
		&Command{Name: "sdiffstore", Arity: -3, Flags: fWrite | fDenyOOM, FirstKey: 1, LastKey: -1, Run: cmdSDiffStore, Group: g},
		&Command{Name: "sscan", Arity: -3, Flags: r, FirstKey: 1, Run: cmdSScan, Group: g},
	)
}

// ---- helpers shared by the hash, set and bitmap families ----

// setsCountArg parses the count of SRANDMEMBER / HRANDFIELD (range
// -LONG_MAX..LONG_MAX, with Redis's error texts).
func (c *Ctx) setsCountArg(b []byte) (int64, bool) {
	n, ok := c.ParseInt(b)
	if !ok {
		return 0, false
	}
	if n == math.MinInt64 {
		c.Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return 0, false
	}
	return n, true
}

// setsParseCursor parses a SCAN cursor as Redis's strtoul-based parser does.
func setsParseCursor(b []byte) (uint64, bool) {
	if len(b) > 0 && (b[0] == ' ' || (b[0] >= '\t' && b[0] <= '\r')) {
		return 0, false
	}
	i, neg := 0, false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		// strtoul parses nothing; Redis accepts it only when the string is empty.
		return 0, len(b) == 0
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if neg {
		v = -v
	}
	return v, true
}

// scanStart begins HSCAN, SSCAN and ZSCAN: it checks the cursor, reads the
// key and parses MATCH/COUNT. When ok is false it has already replied (an
// error, or the empty page of a missing key).
func (c *Ctx) scanStart(t keyspace.Type) (o *keyspace.Object, pattern []byte, ok bool) {
	if _, valid := setsParseCursor(c.Args[2]); !valid {
		c.Err("ERR invalid cursor")
		return nil, nil, false
	}
	if o, ok = c.ReadType(c.Args[1], t); !ok {
		return nil, nil, false
	}
	if o == nil {
		c.Array(2)
		c.BulkString("0")
		c.Array(0)
		return nil, nil, false
	}
	pattern, ok = c.setsScanOpts()
	return o, pattern, ok
}

// setsScanOpts parses the MATCH / COUNT options of HSCAN and SSCAN
// (starting at args[3]); it replies the error and returns ok=false.
func (c *Ctx) setsScanOpts() (pattern []byte, ok bool) {
	for i := 3; i < len(c.Args); i += 2 {
		a := c.Args[i]
		more := len(c.Args) - i
		switch {
		case eq(a, "count") && more >= 2:
			n, ok := c.ParseInt(c.Args[i+1])
			if !ok {
				return nil, false
			}
			if n < 1 {
				c.Err(errSyntax)
				return nil, false
			}
		case eq(a, "match") && more >= 2:
			pattern = c.Args[i+1]
			if len(pattern) == 1 && pattern[0] == '*' {
				pattern = nil
			}
		default:
			c.Err(errSyntax)
			return nil, false
		}
	}
	return pattern, true
}

// setsRandomKey returns a random key of the non-empty map m: uniformly for
// small maps, and for large ones by skipping a random number of entries
// from Go's randomised iteration start (O(1), nearly uniform).
func setsRandomKey[M ~map[string]V, V any](m M) string {
	n := len(m)
	var skip int
	if n <= 128 {
		skip = rand.IntN(n)
	} else {
		skip = rand.IntN(64)
	}
	for k := range m {
		if skip == 0 {
			return k
		}
		skip--
	}
	panic("setsRandomKey: empty map")
}

// setsKeys returns all keys of m.
func setsKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// setsSample returns k distinct random keys of m (0 < k < len(m)).
func setsSample[M ~map[string]V, V any](m M, k int) []string {
	n := len(m)
	if n <= 128 || k*3 > n {
		keys := setsKeys(m)
		for i := 0; i < k; i++ {
			j := i + rand.IntN(n-i)
			keys[i], keys[j] = keys[j], keys[i]
		}
		return keys[:k]
	}
	seen := make(map[string]struct{}, k)
	out := make([]string, 0, k)
	for len(out) < k {
		key := setsRandomKey(m)
		if _, dup := seen[key]; dup {
			continue
		}
		seen[key] = struct{}{}
		out = append(out, key)
	}
	return out
}

// setsPicker draws random keys of m with repetition.
type setsPicker[M ~map[string]V, V any] struct {
	m    M
	keys []string
}

func newSetsPicker[M ~map[string]V, V any](m M, draws int64) *setsPicker[M, V] {
	p := &setsPicker[M, V]{m: m}
	if len(m) <= 128 || int64(len(m))/16 <= draws { // draws*16 could overflow
		p.keys = setsKeys(m)
	}
	return p
}

func (p *setsPicker[M, V]) next() string {
	if p.keys != nil {
		return p.keys[rand.IntN(len(p.keys))]
	}
	return setsRandomKey(p.m)
}

// setsIntsetMax is set-max-intset-entries: sets of at most this many integers
// are intsets in Redis, which list their members in ascending order.
const setsIntsetMax = 512

// setsWriteMembers replies members (in place reordered as Redis would list
// them) as a set (asSet, a RESP3 set) or an array.
func (c *Ctx) setsWriteMembers(members []string, asSet bool) {
	if asSet {
		c.SetHeader(len(members))
	} else {
		c.Array(len(members))
	}
	if len(members) <= setsIntsetMax && len(members) > 1 {
		var buf [64]int64
		ints := buf[:0]
		all := true
		for _, m := range members {
			n, ok := keyspace.ParseInt([]byte(m))
			if !ok {
				all = false
				break
			}
			ints = append(ints, n)
		}
		if all {
			slices.Sort(ints)
			var nb [24]byte
			for _, n := range ints {
				c.Bulk(strconv.AppendInt(nb[:0], n, 10))
			}
			return
		}
	}
	for _, m := range members {
		c.BulkString(m)
	}
}

// setsWriteSet replies the members of s (SMEMBERS order rules).
func (c *Ctx) setsWriteSet(s keyspace.Set, asSet bool) {
	if len(s) <= setsIntsetMax {
		c.setsWriteMembers(setsKeys(s), asSet)
		return
	}
	if asSet {
		c.SetHeader(len(s))
	} else {
		c.Array(len(s))
	}
	for m := range s {
		c.BulkString(m)
	}
}

func (c *Ctx) setsEmpty() { c.SetHeader(0) }

// ---- commands ----

func setsHas(s keyspace.Set, m []byte) bool {
	_, in := s[string(m)]
	return in
}

// setsNewObject wraps a keyspace.Set or a *keyspace.IntSet.
func setsNewObject(s any) *keyspace.Object {
	return &keyspace.Object{Type: keyspace.TSet, Val: s, LRU: keyspace.LRUClock()}
}

func cmdSAdd(c *Ctx) {
	key := c.Args[1]
	o, ok := c.WriteType(key, keyspace.TSet)
	if !ok {
		return
	}
	// Integers only, at most set-max-intset-entries: an IntSet, as Redis
	// makes an intset.
	added, done := 0, false
	if o == nil {
		if is, ok := keyspace.IntSetFrom(c.Args[2:]); ok {
			c.DB.Set(key, setsNewObject(is))
			added, done = is.Len(), true
		}
	} else if is, ok := o.IntSet(); ok {
		added, done = is.AddAll(c.Args[2:])
	}
	if !done {
		var s keyspace.Set
		if o == nil {
			s = make(keyspace.Set, len(c.Args)-2)
		} else {
			s = o.Set()
		}
		for _, m := range c.Args[2:] {
			if _, ok := s[string(m)]; !ok {
				s[string(m)] = struct{}{}
				added++
			}
		}
		if o == nil {
			c.DB.Set(key, setsNewObject(s))
		}
	}
	if o != nil && added > 0 {
		c.DB.Touch(key)
	}
	if added > 0 {
		c.PropagateArgs()
		c.notify(keyevents.Set, "sadd", key)
	}
	c.Int(int64(added))
}

func cmdSRem(c *Ctx) {
	c.removeMembers(keyspace.TSet, func(o *keyspace.Object, m []byte) bool {
		if is, ok := o.IntSet(); ok {
			return is.Remove(m)
		}
		s := o.Set()
		if _, ok := s[string(m)]; ok {
			delete(s, string(m))
			return true
		}
		return false
	})
}

func cmdSMembers(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TSet)
	if !ok {
		return
	}
	if o == nil {
		c.setsEmpty()
		return
	}
	if is, ok := o.IntSet(); ok {
		c.SetHeader(is.Len())
		is.Each(c.Bulk)
		return
	}
	c.setsWriteSet(o.Set(), true)
}

func cmdSIsMember(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TSet)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	if setsObjectHas(o, c.Args[2]) {
		c.Int(1)
	} else {
		c.Int(0)
	}
}

// setsObjectHas reports whether the set o holds m (nil: an empty set).
func setsObjectHas(o *keyspace.Object, m []byte) bool {
	if o == nil {
		return false
	}
	if is, ok := o.IntSet(); ok {
		return is.Has(m)
	}
	_, in := o.Set()[string(m)]
	return in
}

func cmdSMIsMember(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TSet)
	if !ok {
		return
	}
	c.Array(len(c.Args) - 2)
	for _, m := range c.Args[2:] {
		if setsObjectHas(o, m) {
			c.Int(1)
		} else {
			c.Int(0)
		}
	}
}

func cmdSCard(c *Ctx) {
	o, ok := c.ReadType(c.Args[1], keyspace.TSet)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	c.Int(int64(o.Len()))
}

func cmdSPop(c *Ctx) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Err(errSyntax)
		return
	}
	if len(c.Args) == 3 {
		spopCount(c)
		return
	}
	o, ok := c.WriteType(key, keyspace.TSet)
	if !ok {
		return
	}
	if o == nil {
		c.Null()
		return
	}
	var m string
	if is, ok := o.IntSet(); ok {
		m = string(is.At(rand.IntN(is.Len()), nil))
		is.Remove([]byte(m))
	} else {
		s := o.Set()
		m = setsRandomKey(s)
		delete(s, m)
	}
	c.BulkString(m)
	c.DB.Touch(key)
	c.DB.DeleteIfEmpty(key, o)
	c.Propagate([]byte("SREM"), key, []byte(m))
	c.notify(keyevents.Set, "spop", key)
	c.notifyEmptied(key, o)
}

func spopCount(c *Ctx) {
	key := c.Args[1]
	n, ok := keyspace.ParseInt(c.Args[2])
	if !ok || n < 0 {
		c.Err(errNotPositive)
		return
	}
	o, ok := c.WriteType(key, keyspace.TSet)
	if !ok {
		return
	}
	if o == nil || n == 0 {
		c.setsEmpty()
		return
	}
	s := o.Set()
	if n >= int64(len(s)) {
		c.setsWriteSet(s, true)
		c.DB.Delete(key)
		c.Propagate([]byte("DEL"), key)
		c.notify(keyevents.Set, "spop", key)
		c.notify(keyevents.Generic, "del", key)
		return
	}
	argv := make([][]byte, 0, n+2)
	argv = append(argv, []byte("SREM"), key)
	var popped []string
	if n*3 > int64(len(s)) {
		popped = setsSample(s, int(n))
		for _, m := range popped {
			delete(s, m)
		}
	} else {
		popped = make([]string, 0, n)
		for range n {
			m := setsRandomKey(s)
			delete(s, m)
			popped = append(popped, m)
		}
	}
	c.SetHeader(len(popped))
	for _, m := range popped {
		c.BulkString(m)
		argv = append(argv, []byte(m))
	}
	c.DB.Touch(key)
	c.Propagate(argv...)
	c.notify(keyevents.Set, "spop", key)
}

func cmdSRandMember(c *Ctx) {
	key := c.Args[1]
	if len(c.Args) > 3 {
		c.Err(errSyntax)
		return
	}
	if len(c.Args) == 2 {
		o, ok := c.ReadType(key, keyspace.TSet)
		if !ok {
			return
		}
		if o == nil {
			c.Null()
			return
		}
		if is, ok := o.IntSet(); ok {
			var buf [24]byte
			c.Bulk(is.At(rand.IntN(is.Len()), buf[:]))
			return
		}
		c.BulkString(setsRandomKey(o.Set()))
		return
	}
	n, ok := c.setsCountArg(c.Args[2])
	if !ok {
		return
	}
	o, ok := c.ReadType(key, keyspace.TSet)
	if !ok {
		return
	}
	if o == nil || n == 0 {
		c.Array(0)
		return
	}
	s := o.SetView()
	switch {
	case n < 0:
		p := newSetsPicker(s, -n)
		if c.randRepliesTooBig(-n, 1, func() int { return len(p.next()) }) {
			return
		}
		c.Array(int(-n))
		for range -n {
			c.BulkString(p.next())
		}
	case n >= int64(len(s)):
		c.setsWriteSet(s, false)
	default:
		members := setsSample(s, int(n))
		c.Array(len(members))
		for _, m := range members {
			c.BulkString(m)
		}
	}
}

func cmdSMove(c *Ctx) {
	src, dst, member := c.Args[1], c.Args[2], c.Args[3]
	so := c.DB.Get(src)
	if so == nil {
		c.Int(0)
		return
	}
	do := c.DB.Get(dst)
	if so.Type != keyspace.TSet || (do != nil && do.Type != keyspace.TSet) {
		c.Err(errWrongType)
		return
	}
	s := so.Set()
	if string(src) == string(dst) {
		if _, in := s[string(member)]; in {
			c.Int(1)
		} else {
			c.Int(0)
		}
		return
	}
	if _, in := s[string(member)]; !in {
		c.Int(0)
		return
	}
	delete(s, string(member))
	c.DB.Touch(src)
	c.DB.DeleteIfEmpty(src, so)
	c.notify(keyevents.Set, "srem", src) // before dst's "new", as Redis
	c.notifyEmptied(src, so)
	if do == nil {
		c.DB.Set(dst, setsNewObject(keyspace.Set{string(member): {}}))
		c.notify(keyevents.Set, "sadd", dst)
	} else if d := do.Set(); !setsHas(d, member) {
		d[string(member)] = struct{}{}
		c.DB.Touch(dst)
		c.notify(keyevents.Set, "sadd", dst)
	}
	c.PropagateArgs()
	c.Int(1)
}

// setsLoad looks up the source sets of a multi-key operation; missing keys
// give nil entries. ok=false after a WRONGTYPE reply.
func (c *Ctx) setsLoad(keys [][]byte) ([]keyspace.Set, bool) {
	sets := make([]keyspace.Set, len(keys))
	for i, k := range keys {
		o := c.Read(k)
		if o == nil {
			continue
		}
		if o.Type != keyspace.TSet {
			c.Err(errWrongType)
			return nil, false
		}
		sets[i] = o.SetView()
	}
	return sets, true
}

// setsInter returns the members of the intersection (nil if any set is
// missing), stopping after limit members when limit > 0.
func setsInter(sets []keyspace.Set, limit int) []string {
	for _, s := range sets {
		if len(s) == 0 {
			return nil
		}
	}
	sorted := slices.Clone(sets)
	slices.SortFunc(sorted, func(a, b keyspace.Set) int { return len(a) - len(b) })
	var out []string
outer:
	for m := range sorted[0] {
		for _, s := range sorted[1:] {
			if _, in := s[m]; !in {
				continue outer
			}
		}
		out = append(out, m)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

func setsUnion(sets []keyspace.Set) keyspace.Set {
	size := 0
	for _, s := range sets {
		size = max(size, len(s))
	}
	out := make(keyspace.Set, size)
	for _, s := range sets {
		for m := range s {
			out[m] = struct{}{}
		}
	}
	return out
}

func setsDiff(sets []keyspace.Set) keyspace.Set {
	out := make(keyspace.Set)
	if len(sets[0]) == 0 {
		return out
	}
outer:
	for m := range sets[0] {
		for _, s := range sets[1:] {
			if _, in := s[m]; in {
				continue outer
			}
		}
		out[m] = struct{}{}
	}
	return out
}

func cmdSInter(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[1:])
	if !ok {
		return
	}
	c.setsWriteMembers(setsInter(sets, 0), true)
}

func cmdSUnion(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[1:])
	if !ok {
		return
	}
	c.setsWriteSet(setsUnion(sets), true)
}

func cmdSDiff(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[1:])
	if !ok {
		return
	}
	c.setsWriteSet(setsDiff(sets), true)
}

// setsNumKeys is SINTERCARD's KeyFn: numkeys key [key ...] [LIMIT n].
func setsNumKeys(args [][]byte) [][]byte {
	if len(args) < 3 {
		return nil
	}
	n, ok := keyspace.ParseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	return args[2 : 2+n]
}

func cmdSInterCard(c *Ctx) {
	n, ok := keyspace.ParseInt(c.Args[1])
	if !ok || n < 1 {
		c.Err("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(c.Args)-2) {
		c.Err("ERR Number of keys can't be greater than number of args")
		return
	}
	var limit int64
	for i := 2 + int(n); i < len(c.Args); i++ {
		if eq(c.Args[i], "limit") && i+1 < len(c.Args) {
			i++
			l, ok := keyspace.ParseInt(c.Args[i])
			if !ok || l < 0 {
				c.Err("ERR LIMIT can't be negative")
				return
			}
			limit = l
			continue
		}
		c.Err(errSyntax)
		return
	}
	sets, ok := c.setsLoad(c.Args[2 : 2+n])
	if !ok {
		return
	}
	lim := 0
	if limit > 0 && limit < math.MaxInt32 {
		lim = int(limit)
	}
	c.Int(int64(setsInterCount(sets, lim)))
}

// setsInterCount counts the intersection without building it.
func setsInterCount(sets []keyspace.Set, limit int) int {
	for _, s := range sets {
		if len(s) == 0 {
			return 0
		}
	}
	sorted := slices.Clone(sets)
	slices.SortFunc(sorted, func(a, b keyspace.Set) int { return len(a) - len(b) })
	n := 0
outer:
	for m := range sorted[0] {
		for _, s := range sorted[1:] {
			if _, in := s[m]; !in {
				continue outer
			}
		}
		n++
		if limit > 0 && n >= limit {
			break
		}
	}
	return n
}

// setsStore replaces dst with result (deleting dst when result is empty)
// and replies the cardinality.
func (c *Ctx) setsStore(dst []byte, result keyspace.Set) {
	if len(result) == 0 {
		if c.DB.Delete(dst) {
			c.PropagateArgs()
			c.notify(keyevents.Generic, "del", dst)
		}
		c.Int(0)
		return
	}
	var val any = result
	if len(result) <= keyspace.IntSetMax {
		members := make([][]byte, 0, len(result))
		for m := range result {
			members = append(members, []byte(m))
		}
		if is, ok := keyspace.IntSetFrom(members); ok {
			val = is // integers only: an intset, as Redis stores them
		}
	}
	c.DB.Set(dst, setsNewObject(val))
	c.PropagateArgs()
	c.notify(keyevents.Set, c.cmd.Name, dst)
	c.Int(int64(len(result)))
}

func cmdSInterStore(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[2:])
	if !ok {
		return
	}
	members := setsInter(sets, 0)
	result := make(keyspace.Set, len(members))
	for _, m := range members {
		result[m] = struct{}{}
	}
	c.setsStore(c.Args[1], result)
}

func cmdSUnionStore(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[2:])
	if !ok {
		return
	}
	c.setsStore(c.Args[1], setsUnion(sets))
}

func cmdSDiffStore(c *Ctx) {
	sets, ok := c.setsLoad(c.Args[2:])
	if !ok {
		return
	}
	c.setsStore(c.Args[1], setsDiff(sets))
}

func cmdSScan(c *Ctx) {
	o, pattern, ok := c.scanStart(keyspace.TSet)
	if !ok {
		return
	}
	s := o.SetView()
	c.Array(2)
	c.BulkString("0")
	if pattern == nil {
		c.setsWriteSet(s, false)
		return
	}
	var members []string
	for m := range s {
		if globMatch(pattern, m) {
			members = append(members, m)
		}
	}
	c.setsWriteMembers(members, false)
}
