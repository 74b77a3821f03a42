package keyspace

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestSetGetDelete(t *testing.T) {
	s := New(2)
	tx := s.Lock1(0, []byte("k"))
	v := tx.DB(0)
	v.SetString([]byte("k"), []byte("v1"), 0, false)
	if o := v.Get([]byte("k")); o == nil || string(o.Str) != "v1" {
		t.Fatalf("Get = %v", o)
	}
	v.SetString([]byte("k"), []byte("v2"), 0, false)
	if o := v.Get([]byte("k")); string(o.Str) != "v2" {
		t.Fatalf("overwrite: %q", o.Str)
	}
	if !v.Delete([]byte("k")) || v.Delete([]byte("k")) {
		t.Fatal("Delete should report true once")
	}
	tx.Unlock()
	if n := s.DB(0).Len(); n != 0 {
		t.Fatalf("Len after delete = %d", n)
	}
}

func TestLazyAndActiveExpiry(t *testing.T) {
	s := New(1)
	var expired []string
	s.OnExpire = func(db int, key []byte) { expired = append(expired, string(key)) }
	tx := s.LockAll()
	v := tx.DB(0)
	past := time.Now().UnixMilli() - 1
	for i := 0; i < 1000; i++ {
		v.SetString([]byte(fmt.Sprint("k", i)), []byte("x"), past, false)
	}
	v.SetString([]byte("live"), []byte("x"), past+time.Hour.Milliseconds(), false)
	if v.Get([]byte("k1")) != nil {
		t.Fatal("expired key visible")
	}
	tx.Unlock()
	if len(expired) != 1 || expired[0] != "k1" {
		t.Fatalf("lazy expiry reported %v", expired)
	}
	for i := 0; i < 100 && s.DB(0).Len() > 1; i++ {
		s.ActiveExpire(10 * time.Millisecond)
	}
	if n := s.DB(0).Len(); n != 1 {
		t.Fatalf("after active expiry Len = %d, want 1", n)
	}
	if n := s.DB(0).Volatile(); n != 1 {
		t.Fatalf("Volatile = %d, want 1", n)
	}
}

// Overwriting an expired key expires it first, as a lookup would (its
// event and DEL, as Redis's lookupKeyWrite), so writers need no lookup of
// their own; a replica replaces it silently.
func TestSetOverExpiredKeyExpiresIt(t *testing.T) {
	for _, replica := range []bool{false, true} {
		s := New(1)
		s.NoExpire.Store(replica)
		var expired []string
		s.OnExpire = func(db int, key []byte) { expired = append(expired, string(key)) }
		tx := s.Lock1(0, []byte("k"))
		v := tx.DB(0)
		v.SetString([]byte("k"), []byte("old"), time.Now().UnixMilli()-1, false)
		v.SetString([]byte("k"), []byte("new"), 0, true) // KEEPTTL: the dead TTL must not carry over
		got, _, ok := v.GetString([]byte("k"))
		tx.Unlock()
		if !ok || string(got) != "new" {
			t.Fatalf("replica %v: k = %q %v, want new", replica, got, ok)
		}
		if want := map[bool]int{false: 1, true: 0}[replica]; len(expired) != want {
			t.Fatalf("replica %v: OnExpire called for %v, want %d calls", replica, expired, want)
		}
		if n := s.DB(0).Volatile(); n != 0 {
			t.Fatalf("replica %v: Volatile = %d, want 0", replica, n)
		}
	}
}

func TestReplicaDoesNotExpire(t *testing.T) {
	s := New(1)
	s.NoExpire.Store(true)
	tx := s.Lock1(0, []byte("k"))
	v := tx.DB(0)
	v.SetString([]byte("k"), []byte("x"), time.Now().UnixMilli()-1, false)
	if v.Get([]byte("k")) != nil {
		t.Fatal("replica served a logically expired key")
	}
	tx.Unlock()
	if s.DB(0).Len() != 1 {
		t.Fatal("replica deleted an expired key itself")
	}
	if s.ActiveExpire(time.Millisecond) != 0 {
		t.Fatal("replica ran active expiry")
	}
}

func TestWatchDirty(t *testing.T) {
	s := New(1)
	w := &Watch{}
	tx := s.Lock1(0, []byte("a"))
	tx.DB(0).AddWatch([]byte("a"), w)
	tx.DB(0).SetString([]byte("b{a}"), []byte("x"), 0, false) // same slot, other key
	if w.Dirty.Load() {
		t.Fatal("write to another key dirtied the watch")
	}
	tx.DB(0).SetString([]byte("a"), []byte("x"), 0, false)
	if !w.Dirty.Load() {
		t.Fatal("write to watched key did not dirty the watch")
	}
	tx.Unlock()
}

func TestFlushAndSwap(t *testing.T) {
	s := New(2)
	tx := s.LockAll()
	tx.DB(0).SetString([]byte("a"), []byte("0"), 0, false)
	tx.DB(1).SetString([]byte("b"), []byte("1"), time.Now().UnixMilli()+60000, false)
	tx.DB(0).Swap(tx.DB(1))
	if tx.DB(0).Get([]byte("b")) == nil || tx.DB(1).Get([]byte("a")) == nil {
		t.Fatal("swap did not exchange contents")
	}
	tx.Unlock()
	if s.DB(0).Volatile() != 1 || s.DB(1).Volatile() != 0 {
		t.Fatal("swap did not move TTL counts")
	}
	tx = s.LockAll(0)
	tx.DB(0).Flush()
	tx.Unlock()
	if s.DB(0).Len() != 0 || s.DB(1).Len() != 1 {
		t.Fatal("flush emptied the wrong database")
	}
}

func TestSlotKeys(t *testing.T) {
	s := New(1)
	tx := s.LockAll()
	v := tx.DB(0)
	for i := 0; i < 10; i++ {
		v.SetString([]byte("{tag}"+strconv.Itoa(i)), []byte("x"), 0, false)
	}
	slot := 8338 // CLUSTER KEYSLOT {tag}
	if n := v.SlotLen(slot); n != 10 {
		t.Fatalf("SlotLen = %d", n)
	}
	if got := v.SlotKeys(slot, 3); len(got) != 3 {
		t.Fatalf("SlotKeys count 3 = %v", got)
	}
	tx.Unlock()
}

// Concurrent writers on many keys with multi-key locks must not deadlock.
func TestConcurrentMultiKeyLocking(t *testing.T) {
	s := New(1)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				a := []byte(strconv.Itoa((i * 7) % 97))
				b := []byte(strconv.Itoa((i*13 + g) % 97))
				tx := s.Lock([]Key{{0, a}, {0, b}})
				tx.DB(0).SetString(a, b, 0, false)
				tx.DB(0).SetString(b, a, 0, false)
				tx.Unlock()
			}
		}(g)
	}
	wg.Wait()
}

// One extender at a time (a script) takes partitions in any order while
// holding others; multi-key lockers and LockAll back off instead. Nothing
// may deadlock, and the extender keeps every partition it took.
func TestExtendWhileOthersLock(t *testing.T) {
	s := New(2)
	var extender sync.Mutex // what the node's script lock is
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := []byte(strconv.Itoa((i * 7) % 97))
				b := []byte(strconv.Itoa((i*13 + g) % 97))
				var tx *Tx
				switch {
				case g == 0 && i%50 == 0:
					tx = s.LockAll(0)
				case g%2 == 0:
					tx = s.Lock([]Key{{0, a}, {0, b}, {1, a}})
				default:
					tx = s.Lock1(0, a)
				}
				tx.DB(0).SetString(a, b, 0, false)
				tx.Unlock()
			}
		}(g)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3000; i++ {
			extender.Lock()
			first := []byte(strconv.Itoa((i * 31) % 97))
			tx := s.Lock1(0, first)
			// Undeclared keys, highest partitions first: out of order.
			for j := 96; j >= 90; j-- {
				k := []byte(strconv.Itoa((i + j) % 97))
				tx.Extend([]Key{{0, k}, {1, k}})
				if !tx.Holds(0, k) || !tx.Holds(1, k) || !tx.Holds(0, first) {
					t.Errorf("extended Tx does not hold %q", k)
				}
			}
			if i%500 == 0 {
				tx.Extend(nil, 1)
			}
			tx.Unlock()
			extender.Unlock()
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("deadlock: the extender did not finish")
	}
	close(stop)
	wg.Wait()
}

func TestList(t *testing.T) {
	l := NewList()
	for i := 0; i < 100; i++ {
		l.PushBack([]byte{byte(i)})
		l.PushFront([]byte{byte(200 + i%50)})
	}
	if l.Len() != 200 || l.Index(0)[0] != 200+99%50 || l.Index(199)[0] != 99 {
		t.Fatalf("list shape wrong: len %d", l.Len())
	}
	l.Insert(100, []byte("mid"))
	if string(l.Index(100)) != "mid" {
		t.Fatal("Insert")
	}
	l.RemoveAt(100)
	for l.Len() > 0 {
		l.PopFront()
	}
	if l.PopBack() != nil {
		t.Fatal("pop from empty")
	}
}

func BenchmarkSetString(b *testing.B) {
	s := New(1)
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	val := []byte("value")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(len(keys)-1)]
		tx := s.Lock1(0, k)
		tx.DB(0).SetString(k, val, 0, false)
		tx.Unlock()
	}
}

// fillStrings stores n keys "key:<i>" with the value "value" in db 0 and
// returns them.
func fillStrings(s *Store, n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
		tx := s.Lock1(0, keys[i])
		tx.DB(0).SetString(keys[i], []byte("value"), 0, false)
		tx.Unlock()
	}
	return keys
}

func BenchmarkGet(b *testing.B) {
	s := New(1)
	keys := fillStrings(s, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(len(keys)-1)]
		tx := s.Lock1(0, k)
		if tx.DB(0).Get(k) == nil {
			b.Fatal("missing")
		}
		tx.Unlock()
	}
}

// BenchmarkParallelSet shows partitioned locking scaling across cores.
func BenchmarkParallelSet(b *testing.B) {
	s := New(1)
	val := []byte("value")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		buf := make([]byte, 0, 16)
		for pb.Next() {
			buf = strconv.AppendInt(append(buf[:0], "key:"...), int64(i&0xffff), 10)
			tx := s.Lock1(0, buf)
			tx.DB(0).SetString(buf, val, 0, false)
			tx.Unlock()
			i++
		}
	})
}

func BenchmarkListPushPop(b *testing.B) {
	l := NewList()
	v := []byte("x")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.PushFront(v)
		if i%2 == 1 {
			l.PopBack()
		}
	}
}

// Redis 7's touchWatchedKey: a key that had already expired when watched
// and is then deleted by expiry is no change; one that expires after the
// WATCH is.
func TestWatchExpiredKeyDeletedByExpiry(t *testing.T) {
	s := New(1)
	now := time.Now().UnixMilli()
	tx := s.LockAll()
	tx.DB(0).SetString([]byte("gone"), []byte("x"), now-1, false)   // expired, still stored
	tx.DB(0).SetString([]byte("later"), []byte("x"), now+50, false) // expires after the WATCH
	before, after := &Watch{}, &Watch{}
	tx.DB(0).AddWatch([]byte("gone"), before)
	tx.DB(0).AddWatch([]byte("later"), after)
	tx.Unlock()
	time.Sleep(100 * time.Millisecond)
	if n := s.ActiveExpire(time.Second); n != 2 {
		t.Fatalf("active expiry deleted %d keys, want 2", n)
	}
	if before.Dirty.Load() {
		t.Fatal("expiry of a key already expired when watched dirtied the watch")
	}
	if !after.Dirty.Load() {
		t.Fatal("expiry of a key alive when watched left the watch clean")
	}
	// From then on the key is absent like any other: creating it is a change.
	tx = s.LockAll()
	tx.DB(0).SetString([]byte("gone"), []byte("y"), 0, false)
	tx.Unlock()
	if !before.Dirty.Load() {
		t.Fatal("creating the key after its expiry left the watch clean")
	}
}

// BenchmarkGetStringRandom reads 1M small strings in a random order: the
// cost of a lookup's cache misses (table header, index, record).
func BenchmarkGetStringRandom(b *testing.B) {
	s := New(1)
	keys := fillStrings(s, 1<<20)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i&(len(keys)-1)]
		tx := s.Lock1(0, k)
		if _, _, ok := tx.DB(0).GetString(k); !ok {
			b.Fatal("missing")
		}
		tx.Unlock()
	}
}
