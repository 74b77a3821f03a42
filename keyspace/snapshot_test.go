package keyspace

import (
	"bytes"
	"strconv"
	"sync"
	"testing"
)

// Writers that race with a snapshot never leak their changes into it: the
// snapshot holds exactly the values present when it began.
func TestSnapshotIsPointInTime(t *testing.T) {
	s := New(2)
	const n = 5000
	tx := s.LockAll()
	for i := 0; i < n; i++ {
		k := []byte("k" + strconv.Itoa(i))
		tx.DB(i%2).SetString(k, []byte("v0"), 0, false)
	}
	var mu sync.Mutex
	got := map[string]string{}
	captures := map[string]int{}
	sn, err := tx.BeginSnapshot(func(db int, p PartView) {
		mu.Lock()
		defer mu.Unlock()
		p.Each(func(key []byte, o *Object) bool {
			captures[strconv.Itoa(db)+":"+string(key)]++
			got[strconv.Itoa(db)+":"+string(key)] = string(o.Str)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.BeginSnapshot(func(int, PartView) {}); err != ErrSnapshotRunning {
		t.Fatalf("second snapshot: %v", err)
	}
	tx.Unlock()

	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				k, nk := []byte("k"+strconv.Itoa(i)), []byte("new"+strconv.Itoa(i))
				tx := s.Lock([]Key{{i % 2, k}, {i % 2, nk}})
				tx.DB(i%2).SetString(k, []byte("v1"), 0, false)
				tx.DB(i%2).SetString(nk, []byte("x"), 0, false)
				tx.Unlock()
			}
		}(w)
	}
	sn.Run()
	wg.Wait()
	if s.Snapshotting() {
		t.Fatal("snapshot still marked running after Run")
	}
	if len(got) != n {
		t.Fatalf("snapshot has %d keys, want %d", len(got), n)
	}
	for k, v := range got {
		if v != "v0" {
			t.Fatalf("snapshot saw a later write: %s=%s", k, v)
		}
	}
	for k, c := range captures {
		if c != 1 {
			t.Fatalf("key %s captured %d times", k, c)
		}
	}
}

// Big values are frozen, not serialized under their slot's lock: the walk
// writes their image unlocked, a writer to one first has it written (the
// value as the snapshot began) and then changes it in place, and a string
// stored over a frozen one never reuses its bytes. Run with -race: the
// walk reads the images while writers and readers run.
func TestSnapshotFreezesBigValues(t *testing.T) {
	s := New(1)
	const members = 5000
	tx := s.LockAll()
	v := tx.DB(0)
	for i := 0; i < 8; i++ {
		set := Set{}
		for j := 0; j < members; j++ {
			set[strconv.Itoa(j)] = struct{}{}
		}
		v.Set([]byte("set"+strconv.Itoa(i)), &Object{Type: TSet, Val: set})
		v.SetString([]byte("str"+strconv.Itoa(i)), bytes.Repeat([]byte{'a'}, 100<<10), 0, false)
		v.SetString([]byte("small"+strconv.Itoa(i)), []byte("v0"), 0, false)
	}
	var mu sync.Mutex
	images := map[string]int{} // key -> members (sets) or count of 'a' (strings)
	underLock := map[string]bool{}
	record := func(key []byte, o *Object) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := images[string(key)]; dup {
			t.Errorf("%s written twice", key)
		}
		switch o.Type {
		case TSet:
			images[string(key)] = len(o.SetView())
		case TString:
			images[string(key)] = bytes.Count(o.Str, []byte{'a'})
		}
	}
	sn, err := tx.BeginSnapshot(func(db int, p PartView) {
		p.Each(func(key []byte, o *Object) bool {
			if o.Big() {
				p.Freeze(key, o, func(db int, key []byte, o *Object) { record(key, o) })
				return true
			}
			mu.Lock()
			underLock[string(key)] = true
			mu.Unlock()
			record(key, o)
			return true
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	tx.Unlock()

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func(i int) { // a writer per big key
			defer wg.Done()
			set, str := []byte("set"+strconv.Itoa(i)), []byte("str"+strconv.Itoa(i))
			for j := 0; j < 20; j++ {
				tx := s.Lock([]Key{{0, set}, {0, str}})
				// Half the writers wait for the copy between their locks,
				// as the dispatcher does; the others thaw under them.
				for i%2 == 0 {
					f := tx.DB(0).FrozenAmong([][]byte{set, str})
					if f == nil {
						break
					}
					tx.Unlock()
					f.WriteOut()
					tx = s.Lock([]Key{{0, set}, {0, str}})
				}
				tx.TrackWrites()
				v := tx.DB(0)
				v.Get(set).Set()["new"+strconv.Itoa(j)] = struct{}{}
				v.SetString(str, bytes.Repeat([]byte{'b'}, 100<<10), 0, false)
				tx.Unlock()
			}
		}(i)
		go func(i int) { // and a reader
			defer wg.Done()
			set := []byte("set" + strconv.Itoa(i))
			for j := 0; j < 20; j++ {
				tx := s.Lock1(0, set)
				if o := tx.DB(0).Get(set); o == nil || len(o.SetView()) < members {
					t.Errorf("%s: read %v", set, o)
				}
				tx.Unlock()
			}
		}(i)
	}
	sn.Run()
	wg.Wait()
	for i := 0; i < 8; i++ {
		for key, want := range map[string]int{"set" + strconv.Itoa(i): members, "str" + strconv.Itoa(i): 100 << 10} {
			if got, ok := images[key]; !ok || got != want {
				t.Errorf("image of %s: %d (written %v), want %d", key, got, ok, want)
			}
			if underLock[key] {
				t.Errorf("%s was serialized under its slot's lock", key)
			}
		}
		if !underLock["small"+strconv.Itoa(i)] {
			t.Errorf("small%d was not serialized in its slot's capture", i)
		}
	}
	// The writes all landed, and nothing stays frozen.
	tx = s.LockAll()
	defer tx.Unlock()
	for i := 0; i < 8; i++ {
		o := tx.DB(0).Get([]byte("set" + strconv.Itoa(i)))
		if n := len(o.SetView()); n != members+20 || o.cow {
			t.Errorf("set%d: %d members (cow %v), want %d", i, n, o.cow, members+20)
		}
	}
	for i := range tx.s.dbs[0].parts {
		p := &tx.s.dbs[0].parts[i]
		if len(p.cow) != 0 {
			t.Errorf("part %d still lists %d frozen values", p.id, len(p.cow))
		}
	}
}
