package lua

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestTableSmallAgainstMap drives LTable (string keys in small, then
// strdict; number and boolean keys in dict; the array part) through random
// sets and deletes against a Go map, and checks lookups, Next (with
// deletions during the walk, which Lua allows) and ForEach after each step.
func TestTableSmallAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 300; round++ {
		tb := newLTable(rng.Intn(3), rng.Intn(12))
		model := map[LValue]LValue{}
		nkeys := 1 + rng.Intn(24)
		key := func() LValue {
			switch rng.Intn(4) {
			case 0:
				return LNumber(1 + rng.Intn(6)) // array part
			case 1:
				return LNumber(float64(rng.Intn(5)) + 0.5) // dict
			case 2:
				return LBool(rng.Intn(2) == 0)
			}
			return LString(fmt.Sprint("k", rng.Intn(nkeys)))
		}
		for step := 0; step < 60; step++ {
			k := key()
			if rng.Intn(3) == 0 {
				tb.RawSet(k, LNil)
				delete(model, k)
			} else {
				v := LNumber(rng.Intn(1000))
				tb.RawSet(k, v)
				model[k] = v
			}
			check(t, tb, model)
			if rng.Intn(10) == 0 { // delete during a walk
				before := len(model)
				seen := map[LValue]bool{}
				for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
					if seen[k] {
						t.Fatalf("round %d: %v seen twice", round, k)
					}
					seen[k] = true
					if model[k] != v {
						t.Fatalf("round %d: next %v=%v, model %v", round, k, v, model[k])
					}
					if rng.Intn(2) == 0 {
						tb.RawSet(k, LNil)
						delete(model, k)
					}
				}
				// Only keys already walked were deleted: all were walked.
				if len(seen) != before {
					t.Fatalf("round %d: walked %d of %d keys", round, len(seen), before)
				}
				check(t, tb, model)
			}
		}
	}
}

func check(t *testing.T, tb *LTable, model map[LValue]LValue) {
	t.Helper()
	for k, v := range model {
		if got := tb.RawGet(k); got != v {
			t.Fatalf("RawGet(%v) = %v, want %v", k, got, v)
		}
		if s, ok := k.(LString); ok {
			if got := tb.RawGetString(string(s)); got != v {
				t.Fatalf("RawGetString(%v) = %v, want %v", k, got, v)
			}
			if got := tb.RawGetH(k); got != v {
				t.Fatalf("RawGetH(%v) = %v, want %v", k, got, v)
			}
		}
	}
	walked := map[LValue]LValue{}
	for k, v := tb.Next(LNil); k != LNil; k, v = tb.Next(k) {
		if _, dup := walked[k]; dup {
			t.Fatalf("Next: %v twice", k)
		}
		walked[k] = v
	}
	each := map[LValue]LValue{}
	tb.ForEach(func(k, v LValue) { each[k] = v })
	for _, got := range []map[LValue]LValue{walked, each} {
		if len(got) != len(model) {
			t.Fatalf("walked %v, want %v", got, model)
		}
		for k, v := range model {
			if got[k] != v {
				t.Fatalf("walk: %v = %v, want %v", k, got[k], v)
			}
		}
	}
}

// TestTablePairsDeleteLua: clearing fields while pairs() walks a table, in
// Lua, small and large.
func TestTablePairsDeleteLua(t *testing.T) {
	L := NewState()
	defer L.Close()
	err := L.DoString(`
for _, n in ipairs({1, 3, 8, 9, 20}) do
  local t = {}
  for i = 1, n do t["k" .. i] = i end
  local seen = 0
  for k, v in pairs(t) do
    assert(t[k] == v)
    seen = seen + 1
    t[k] = nil
  end
  assert(seen == n, "seen " .. seen .. " of " .. n)
  assert(next(t) == nil)
  t.a = 1; t.b = 2
  local c = 0
  for k in pairs(t) do c = c + 1 end
  assert(c == 2)
end
local s = {ok = "OK"}
assert(s.ok == "OK" and next(s) == "ok" and next(s, "ok") == nil)
`)
	if err != nil {
		t.Fatal(err)
	}
}
