package keyspace

import (
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
