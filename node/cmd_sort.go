package node

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerSort(t table) {
	const g = "generic"
	t.add(
		&Command{Name: "sort", Arity: -2, Flags: fWrite | fDenyOOM, FirstKey: 1, KeyFn: sortKeys, WholeDB: sortReadsOthers, Run: func(c *Ctx) { sortGeneric(c, false) }, Group: g},
		&Command{Name: "sort_ro", Arity: -2, Flags: fReadonly, FirstKey: 1, KeyFn: func(args [][]byte) [][]byte { return args[1:2] }, WholeDB: sortReadsOthers, Run: func(c *Ctx) { sortGeneric(c, true) }, Group: g},
	)
}

// sortKeys is Redis's sortGetKeys: the sorted key and the last STORE key.
func sortKeys(args [][]byte) [][]byte {
	if len(args) < 2 {
		return nil
	}
	keys := [][]byte{args[1]}
	var store []byte
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case eq(a, "limit"):
			i += 2
		case eq(a, "get"), eq(a, "by"):
			i++
		case eq(a, "store") && i+1 < len(args):
			store = args[i+1]
		}
	}
	if store != nil {
		keys = append(keys, store)
	}
	return keys
}

// sortReadsOthers reports whether a SORT reads keys named by its BY or GET
// patterns, which no key position declares: it then holds the whole
// database.
func sortReadsOthers(args [][]byte) bool {
	for i := 2; i+1 < len(args); i++ {
		if eq(args[i], "by") || eq(args[i], "get") {
			return true
		}
	}
	return false
}

type sortItem struct {
	obj    []byte
	score  float64
	cmp    []byte
	hasCmp bool
}

// sortLookup is Redis's lookupKeyByPattern: "#" is the element itself;
// the first '*' takes the element, and "->field" after it reads a hash
// field.
func (c *Ctx) sortLookup(pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	post := pattern[star+1:]
	if f := bytes.Index(post, []byte("->")); f >= 0 && f+2 < len(post) {
		field = post[f+2:]
		post = post[:f]
	}
	key := make([]byte, 0, star+len(subst)+len(post))
	key = append(append(append(key, pattern[:star]...), subst...), post...)
	o := c.DB.Get(key)
	if o == nil {
		return nil, false
	}
	if field != nil {
		if o.Type != keyspace.THash {
			return nil, false
		}
		return o.Hash().Get(field)
	}
	if o.Type != keyspace.TString {
		return nil, false
	}
	return o.Str, true
}

// sortStrtod is strtod as SORT uses it: leading spaces allowed, the whole
// rest must parse, NaN and out-of-range values refused.
func sortStrtod(b []byte) (float64, bool) {
	s := string(bytes.TrimLeft(b, " \t\n\v\f\r"))
	if s == "" {
		return 0, true // strtod parses nothing and stops at the end
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func sortGeneric(c *Ctx, readonly bool) {
	var desc, alpha, dontSort bool
	var limitStart, limitCount int64 = 0, -1
	var by, store []byte
	var gets [][]byte
	for j := 2; j < len(c.Args); j++ {
		left := len(c.Args) - j - 1
		a := c.Args[j]
		switch {
		case eq(a, "asc"):
			desc = false
		case eq(a, "desc"):
			desc = true
		case eq(a, "alpha"):
			alpha = true
		case eq(a, "limit") && left >= 2:
			var ok bool
			if limitStart, ok = c.ParseInt(c.Args[j+1]); !ok {
				return
			}
			if limitCount, ok = c.ParseInt(c.Args[j+2]); !ok {
				return
			}
			j += 2
		case !readonly && eq(a, "store") && left >= 1:
			store = c.Args[j+1]
			j++
		case eq(a, "by") && left >= 1:
			by = c.Args[j+1]
			if bytes.IndexByte(by, '*') < 0 {
				dontSort = true
			} else if c.s.cluster != nil {
				c.Err("ERR BY option of SORT denied in Cluster mode.")
				return
			}
			j++
		case eq(a, "get") && left >= 1:
			if c.s.cluster != nil {
				c.Err("ERR GET option of SORT denied in Cluster mode.")
				return
			}
			gets = append(gets, c.Args[j+1])
			j++
		default:
			c.Err(errSyntax)
			return
		}
	}
	o := c.Read(c.Args[1])
	var typ keyspace.Type = keyspace.TList
	if o != nil {
		typ = o.Type
		if typ != keyspace.TSet && typ != keyspace.TList && typ != keyspace.TZSet {
			c.Err(errWrongType)
			return
		}
	}
	// A set has no order of its own: stored results are sorted (ALPHA)
	// so they are the same everywhere, as Redis does.
	if dontSort && typ == keyspace.TSet && store != nil {
		dontSort, alpha, by = false, true, nil
	}
	n := 0
	if o != nil {
		n = o.Len()
	}
	start := max(limitStart, 0)
	end := int64(n) - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= int64(n) {
		start, end = int64(n)-1, int64(n)-2
	}
	if end >= int64(n) {
		end = int64(n) - 1
	}
	var items []sortItem
	switch {
	case o == nil:
	case typ == keyspace.TList && dontSort:
		if end >= start {
			l := o.List()
			for i := start; i <= end; i++ {
				idx := int(i)
				if desc {
					idx = l.Len() - 1 - int(i)
				}
				items = append(items, sortItem{obj: l.Index(idx)})
			}
			end -= start
			start = 0
		}
	case typ == keyspace.TList:
		l := o.List()
		for i := range l.Len() {
			items = append(items, sortItem{obj: l.Index(i)})
		}
	case typ == keyspace.TSet:
		for m := range o.SetView() {
			items = append(items, sortItem{obj: []byte(m)})
		}
	case typ == keyspace.TZSet && dontSort:
		if end >= start {
			z := o.ZSet()
			r := int(start)
			if desc {
				r = z.Len() - 1 - int(start)
			}
			it := z.IterAt(r, desc)
			for i := start; i <= end && it.Valid(); i++ {
				items = append(items, sortItem{obj: []byte(it.Member())})
				it.Next()
			}
			end -= start
			start = 0
		}
	case typ == keyspace.TZSet:
		z := o.ZSet()
		for it := z.IterAt(0, false); it.Valid(); it.Next() {
			items = append(items, sortItem{obj: []byte(it.Member())})
		}
	}
	convErr := false
	if !dontSort {
		for i := range items {
			it := &items[i]
			val := it.obj
			if by != nil {
				v, ok := c.sortLookup(by, it.obj)
				if !ok {
					continue
				}
				val = v
			}
			if alpha {
				if by != nil {
					it.cmp, it.hasCmp = val, true
				}
				continue
			}
			f, ok := sortStrtod(val)
			if !ok {
				convErr = true
			}
			it.score = f
		}
		byPattern := by != nil
		cmp := func(a, b *sortItem) int {
			var r int
			switch {
			case !alpha:
				switch {
				case a.score > b.score:
					r = 1
				case a.score < b.score:
					r = -1
				default:
					r = bytes.Compare(a.obj, b.obj)
				}
			case byPattern:
				switch {
				case !a.hasCmp || !b.hasCmp:
					switch {
					case a.hasCmp == b.hasCmp:
						r = 0
					case !a.hasCmp:
						r = -1
					default:
						r = 1
					}
				default:
					r = bytes.Compare(a.cmp, b.cmp)
				}
			default:
				r = bytes.Compare(a.obj, b.obj)
			}
			if desc {
				r = -r
			}
			return r
		}
		// Pointers are sorted: moving the items costs more than comparing
		// them. Only ALPHA BY can compare different items equal; that
		// sort is stable, as glibc's qsort is in practice.
		ptrs := make([]*sortItem, len(items))
		for i := range items {
			ptrs[i] = &items[i]
		}
		if alpha && byPattern {
			slices.SortStableFunc(ptrs, cmp)
		} else {
			slices.SortFunc(ptrs, cmp)
		}
		sorted := make([]sortItem, len(items))
		for i, p := range ptrs {
			sorted[i] = *p
		}
		items = sorted
	}
	outLen := int(end - start + 1)
	if len(gets) > 0 {
		outLen *= len(gets)
	}
	if convErr {
		c.Err("ERR One or more scores can't be converted into double")
		return
	}
	if store == nil {
		c.Array(outLen)
		for j := start; j <= end; j++ {
			it := items[j]
			if len(gets) == 0 {
				c.Bulk(it.obj)
			}
			for _, g := range gets {
				v, ok := c.sortLookup(g, it.obj)
				if !ok {
					c.Null()
				} else {
					c.Bulk(v)
				}
			}
		}
		return
	}
	if outLen == 0 {
		if c.DB.Delete(store) {
			c.PropagateArgs()
			c.notify(keyevents.Generic, "del", store)
		}
		c.Int(0)
		return
	}
	lo := listNewObject()
	l := lo.List()
	for j := start; j <= end; j++ {
		it := items[j]
		if len(gets) == 0 {
			l.PushBack(listCopy(it.obj))
			continue
		}
		for _, g := range gets {
			v, _ := c.sortLookup(g, it.obj)
			l.PushBack(listCopy(v))
		}
	}
	c.DB.Set(store, lo)
	c.DB.Signal(store)
	c.PropagateArgs()                            // Redis propagates SORT as sent (checked in its AOF)
	c.notify(keyevents.List, "sortstore", store) // a list class event in Redis
	c.Int(int64(outLen))
}
