package slotmap

// Slot-set arithmetic over range lists, through a bitmap of the 16384
// slots: simple, and cheap at this size.

// Count is the number of slots in rs (ranges assumed disjoint).
func Count(rs []Range) int {
	n := 0
	for _, r := range rs {
		n += r.End - r.Start + 1
	}
	return n
}

// Union returns the slots of all the lists as sorted, merged ranges,
// dropping any slot out of 0-16383.
func Union(lists ...[]Range) []Range {
	set := bitmap()
	for _, rs := range lists {
		set.add(rs, true)
	}
	return set.ranges()
}

// Subtract returns a without the slots of b, as sorted, merged ranges.
func Subtract(a, b []Range) []Range {
	set := bitmap()
	set.add(a, true)
	set.add(b, false)
	return set.ranges()
}

// ContainsAll reports whether owned holds every slot of want.
func ContainsAll(owned, want []Range) bool {
	set := bitmap()
	set.add(owned, true)
	for _, r := range want {
		if r.Start < 0 || r.End >= NumSlots {
			return false
		}
		for i := r.Start; i <= r.End; i++ {
			if !set[i] {
				return false
			}
		}
	}
	return true
}

type slotSet []bool

func bitmap() slotSet { return make(slotSet, NumSlots) }

func (s slotSet) add(rs []Range, in bool) {
	for _, r := range rs {
		for i := max(r.Start, 0); i <= r.End && i < NumSlots; i++ {
			s[i] = in
		}
	}
}

func (s slotSet) ranges() []Range {
	var out []Range
	for i, in := range s {
		if !in {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End+1 == i {
			out[n-1].End = i
			continue
		}
		out = append(out, Range{Start: i, End: i})
	}
	return out
}
