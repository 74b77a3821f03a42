package keyspace

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenkv/warden/slotmap"
)

// modelVal is what the model expects under a key.
type modelVal struct {
	typ    Type
	str    string
	expire int64
}

// runTableOps applies the ops spelled by b to a one-database store and to a
// map, through the View API (several ops per Tx, so objects made inline
// strings again at unlock are exercised), and checks every key, DBSIZE,
// iteration, snapshot views and the accounting against the model after
// each Tx. Each op is 3 bytes: kind, key, value length.
func runTableOps(t *testing.T, b []byte) {
	s := New(1)
	var acctSum int64
	s.SetSizer(func(keyLen int, o *Object) int64 {
		if o.Type == TString {
			return int64(keyLen + len(o.Str) + 16)
		}
		return int64(keyLen + 100)
	})
	model := map[string]modelVal{}
	// Keys share slots ({tag}) so tables grow, shrink and compact.
	key := func(c byte) []byte {
		if c%4 == 0 {
			return []byte("k" + strconv.Itoa(int(c)))
		}
		return []byte("{t}" + strings.Repeat("k", int(c%7)) + strconv.Itoa(int(c)))
	}
	val := func(c, n byte) []byte {
		return bytes.Repeat([]byte{'a' + c%26}, int(n)%(2*inlineMax+8))
	}
	const now = 1_000_000
	rounds := 0
	for i := 0; i+2 < len(b) && i < 3*3000; {
		tx := s.Lock([]Key{{0, []byte("k0")}})
		tx.Extend(nil, 0)
		tx.SetNow(now)
		v := tx.DB(0)
		for j, n := 0, 1+int(b[i]%5); j < n && i+2 < len(b); j, i = j+1, i+3 {
			k, ks := key(b[i+1]), string(key(b[i+1]))
			x := val(b[i], b[i+2])
			m, had := model[ks]
			switch b[i] % 12 {
			case 0, 1: // SET
				v.SetString(k, x, 0, false)
				model[ks] = modelVal{TString, string(x), 0}
			case 2: // SET ... KEEPTTL
				v.SetString(k, x, 0, true)
				model[ks] = modelVal{TString, string(x), m.expire}
			case 3: // GET, APPEND in place through the object
				o := v.Get(k)
				if (o != nil) != had {
					t.Fatalf("Get(%s) = %v, model has it %v", k, o, had)
				}
				if o != nil && o.Type == TString {
					o.Str = append(o.Str, x...)
					m.str += string(x)
					model[ks] = m
				}
				if o != nil && o.Type != TString {
					m.str = string(x)
					model[ks] = m
					switch o.Type {
					case THash:
						o.Hash().Set([]byte("f"), x)
					case TZSet:
						o.ZSet().Set([]byte("m"), float64(len(x)))
					case TSet:
						o.Set() // an intset no longer: kept as an object
						o.Set()["n"+m.str] = struct{}{}
					}
				}
			case 4: // DEL
				if v.Delete(k) != had {
					t.Fatalf("Delete(%s) disagrees with the model (%v)", k, had)
				}
				delete(model, ks)
			case 5: // EXPIRE / PERSIST, and expired keys
				at := int64(0)
				switch b[i+2] % 3 {
				case 1:
					at = now + 1000
				case 2:
					at = now - 1 // already past: the next lookup deletes it
				}
				if v.SetExpire(k, at) != had {
					t.Fatalf("SetExpire(%s) disagrees", k)
				}
				if had {
					m.expire = at
					model[ks] = m
				}
			case 6: // a collection over whatever was there
				o := &Object{Type: THash, Val: NewHash(0)}
				o.Hash().Set([]byte("f"), x)
				v.Set(k, o)
				model[ks] = modelVal{THash, string(x), 0}
			case 7: // Set of a new string object, changed after it was stored (PFADD)
				if had {
					continue
				}
				o := &Object{Type: TString, Str: []byte("p")}
				v.Set(k, o)
				o.Str = append(o.Str, x...)
				model[ks] = modelVal{TString, "p" + string(x), 0}
			case 9: // a small sorted set
				o := &Object{Type: TZSet, Val: NewZSet()}
				o.ZSet().Set([]byte("m"), float64(len(x)))
				v.Set(k, o)
				model[ks] = modelVal{TZSet, string(x), 0}
			case 10, 11: // an intset
				v.Set(k, &Object{Type: TSet, Val: IntSetOf([]int64{1, int64(len(x))})})
				model[ks] = modelVal{TSet, string(x), 0}
			case 8: // GetString
				got, typ, ok := v.GetString(k)
				live := had && (m.expire == 0 || m.expire > now)
				if ok != live || ok && (typ != m.typ || typ == TString && string(got) != m.str) {
					t.Fatalf("GetString(%s) = %q %v %v, model %+v", k, got, typ, ok, m)
				}
			}
			// A past TTL is gone at the next lookup; drop it from the model.
			if m, ok := model[ks]; ok && m.expire != 0 && m.expire <= now {
				v.Get(k)
				delete(model, ks)
			}
		}
		tx.Unlock()
		if rounds++; rounds%2 == 0 {
			s.DemoteQueued() // the cron's sweep: objects back inline
		}
		// Check the whole store against the model.
		tx = s.LockAll()
		tx.SetNow(now)
		v = tx.DB(0)
		if n := s.DB(0).Len(); n != int64(len(model)) {
			t.Fatalf("Len %d, model %d", n, len(model))
		}
		seen := 0
		acctSum = 0
		v.Each(func(k string, o *Object) bool {
			m, ok := model[k]
			if !ok || o.Type != m.typ || o.Type == TString && string(o.Str) != m.str || o.Expire != m.expire {
				t.Fatalf("Each: %s = %v %q exp %d; model %+v (%v)", k, o.Type, o.Str, o.Expire, m, ok)
			}
			if !collectionHolds(o, m.str) {
				t.Fatalf("Each: %s (%v) does not hold %q", k, o.Type, m.str)
			}
			acctSum += int64(o.acct) * 8
			seen++
			return true
		})
		if seen != len(model) {
			t.Fatalf("Each saw %d keys, model %d", seen, len(model))
		}
		if s.Used() != acctSum {
			t.Fatalf("Used %d, sum of counted sizes %d", s.Used(), acctSum)
		}
		for ks, m := range model {
			got, typ, ok := v.GetString([]byte(ks))
			if !ok || typ != m.typ || typ == TString && string(got) != m.str {
				t.Fatalf("GetString(%s) = %q %v %v, model %+v", ks, got, typ, ok, m)
			}
		}
		tx.Unlock()
	}
}

// collectionHolds reports whether a collection written by runTableOps
// holds what it last wrote (x): field f = x, member m scored len(x), or the
// integer len(x) or member "n"+x.
func collectionHolds(o *Object, x string) bool {
	switch o.Type {
	case THash:
		v, ok := o.Hash().Get([]byte("f"))
		return ok && string(v) == x && o.Len() == 1
	case TZSet:
		sc, ok := o.ZSet().ScoreOf([]byte("m"))
		return ok && sc == float64(len(x)) && o.Len() == 1
	case TSet:
		if is, ok := o.IntSet(); ok {
			return is.Has([]byte(strconv.Itoa(len(x))))
		}
		_, ok := o.SetView()["n"+x]
		_, ok2 := o.SetView()[strconv.Itoa(len(x))]
		return ok || ok2
	}
	return true
}

func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 1, 5, 3, 1, 70, 1, 2, 0, 4, 1, 0, 8, 2, 2})
	f.Add(bytes.Repeat([]byte{0, 7, 3, 7, 9, 1, 5, 7, 2, 3, 9, 90, 6, 7, 1, 4, 9, 0}, 30))
	f.Fuzz(runTableOps)
}

// TestTableAgainstModel runs long pseudo-random op sequences (the fuzz
// target's model, seeded deterministically).
func TestTableAgainstModel(t *testing.T) {
	for seed := range 6 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			b := make([]byte, 3*3000)
			x := uint32(seed*2654435761 + 1)
			for i := range b {
				x ^= x << 13
				x ^= x >> 17
				x ^= x << 5
				b[i] = byte(x)
			}
			runTableOps(t, b)
		})
	}
}

// TestTableGrowShrinkCompact fills one slot's table, empties most of it
// and rewrites values of other lengths, checking every key each round.
func TestTableGrowShrinkCompact(t *testing.T) {
	var tb table
	model := map[string]string{}
	k := func(i int) []byte { return []byte("key:" + strconv.Itoa(i)) }
	check := func() {
		t.Helper()
		if tb.len() != len(model) {
			t.Fatalf("len %d, model %d", tb.len(), len(model))
		}
		for ks, want := range model {
			pos := tb.find([]byte(ks), keyHash([]byte(ks)))
			if pos < 0 {
				t.Fatalf("%s not found", ks)
			}
			if r := tb.recAt(pos); string(r.val) != want {
				t.Fatalf("%s = %q, want %q", ks, r.val, want)
			}
		}
		if tb.n > 0 && tb.garbage > len(tb.arena) {
			t.Fatalf("garbage %d over arena %d", tb.garbage, len(tb.arena))
		}
	}
	for round := range 3 {
		for i := range 5000 {
			key, v := k(i), strings.Repeat("v", (i+round)%40)
			if pos := tb.find(key, keyHash(key)); pos >= 0 {
				r := tb.recAt(pos)
				tb.putInline(pos, &r, kindStr, []byte(v), 0, 0, 0)
			} else {
				tb.insert(key, keyHash(key), nil, []byte(v), 0, 0, 0)
			}
			model[string(key)] = v
		}
		check()
		for i := range 5000 {
			if i%10 != 0 {
				key := k(i)
				tb.remove(tb.find(key, keyHash(key)))
				delete(model, string(key))
			}
		}
		check()
		if len(tb.ents) > 8*len(model) || len(tb.arena) > 200*len(model) {
			t.Fatalf("after deleting 90%%: %d entries, %d arena bytes for %d keys", len(tb.ents), len(tb.arena), len(model))
		}
	}
	for ks := range model {
		tb.remove(tb.find([]byte(ks), keyHash([]byte(ks))))
	}
	if tb.n != 0 || tb.ents != nil || tb.arena != nil {
		t.Fatalf("empty table keeps %d entries, %d arena bytes", len(tb.ents), len(tb.arena))
	}
}

// BenchmarkTable measures the slot table's lookups and in-place updates
// beside a Go map of objects (what it replaced).
func BenchmarkTable(b *testing.B) {
	const n = 1000
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	val := []byte("value:123456")
	filled := func() *table {
		tb := &table{}
		for _, k := range keys {
			tb.insert(k, keyHash(k), nil, val, 0, 0, 0)
		}
		return tb
	}
	b.Run("find", func(b *testing.B) {
		tb := filled()
		for i := 0; b.Loop(); i++ {
			k := keys[i%n]
			if tb.find(k, keyHash(k)) < 0 {
				b.Fatal("missing")
			}
		}
	})
	b.Run("update", func(b *testing.B) {
		tb := filled()
		for i := 0; b.Loop(); i++ {
			k := keys[i%n]
			pos := tb.find(k, keyHash(k))
			r := tb.recAt(pos)
			tb.putInline(pos, &r, kindStr, val[:len(val)-i%2], 0, 0, 0)
		}
	})
	b.Run("gomap", func(b *testing.B) {
		m := map[string]*Object{}
		for _, k := range keys {
			m[string(k)] = NewString(val)
		}
		for i := 0; b.Loop(); i++ {
			if m[string(keys[i%n])] == nil {
				b.Fatal("missing")
			}
		}
	})
}

// TestInlineCollectionViewsSurviveUnlock: a command may hold views of a
// small collection's members past its unlock (a blocked client's ZPOPMIN
// reply is written after it), so putting the changed collection back
// inline (DemoteQueued, the sweep after the unlock) must not write over
// its old bytes.
func TestInlineCollectionViewsSurviveUnlock(t *testing.T) {
	s := New(1)
	k := []byte("z")
	tx := s.Lock1(0, k)
	o := &Object{Type: TZSet, Val: NewZSet()}
	tx.DB(0).Set(k, o)
	o.ZSet().Set([]byte("a"), 1)
	o.ZSet().Set([]byte("b"), 2)
	tx.Unlock()
	s.DemoteQueued() // the sweep that puts it back inline
	tb := s.dbs[0].parts[slotmap.Slot(k)/SlotsPerPart].slots[slotmap.Slot(k)%SlotsPerPart]
	if r := tb.recAt(tb.find(k, keyHash(k))); r.isObj() {
		t.Fatal("a 2-member sorted set is not inline after the unlock")
	}
	for round := range 3 {
		tx = s.Lock1(0, k)
		z := tx.DB(0).Get(k).ZSet()
		es := z.ByRank(0, 0, false)
		want := ZEntry{strings.Clone(es[0].Member), es[0].Score}
		z.RemoveEntries(es)
		z.Set([]byte{'c' + byte(round)}, 0) // same length, other bytes
		if round == 2 {
			tx.DB(0).SetExpire(k, 1<<50) // the tail moves by the TTL's 8 bytes
		}
		tx.Unlock()
		s.DemoteQueued() // the sweep that puts it back inline
		if es[0] != want {
			t.Fatalf("round %d: a popped entry read after the unlock is %q %v, want %q %v", round, es[0].Member, es[0].Score, want.Member, want.Score)
		}
	}
	// A read leaves the record where it was; a string stored over it next
	// must not write over the members the reader still holds.
	k = []byte("z2")
	tx = s.Lock1(0, k)
	o = &Object{Type: TZSet, Val: NewZSet()}
	tx.DB(0).Set(k, o)
	for _, m := range []string{"aaaa", "bbbb", "cccc"} {
		o.ZSet().Set([]byte(m), 1)
	}
	tx.Unlock()
	s.DemoteQueued() // the sweep that puts it back inline
	tx = s.Lock1(0, k)
	es := tx.DB(0).Get(k).ZSet().ByRank(0, 2, false)
	want := make([]string, len(es))
	for i, e := range es {
		want[i] = strings.Clone(e.Member)
	}
	tx.Unlock()
	s.DemoteQueued() // the sweep that puts it back inline
	if len(es) != 3 {
		t.Fatalf("ByRank(0, 2) of 3 members: %d entries", len(es))
	}
	tx = s.Lock1(0, k)
	tx.DB(0).SetString(k, []byte("xxxxxxxxxxxx"), 0, false) // fits in the old record
	tx.Unlock()
	s.DemoteQueued() // the sweep that puts it back inline
	for i, e := range es {
		if e.Member != want[i] {
			t.Fatalf("member %d read after a SET over the key: %q, want %q", i, e.Member, want[i])
		}
	}
}
