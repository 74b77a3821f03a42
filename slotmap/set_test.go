package slotmap

import (
	"fmt"
	"testing"
)

func TestSlotSets(t *testing.T) {
	r := func(a, b int) Range { return Range{a, b} }
	show := func(rs []Range) string { return fmt.Sprint(rs) }
	cases := []struct {
		name string
		got  []Range
		want string
	}{
		{"union merges and sorts", Union([]Range{r(10, 20), r(0, 4)}, []Range{r(5, 9), r(30, 30)}), "[0-20 30]"},
		{"union drops out-of-range slots", Union([]Range{r(-5, 1), r(16383, 16390)}), "[0-1 16383]"},
		{"subtract splits", Subtract([]Range{r(0, 100)}, []Range{r(10, 19), r(50, 200)}), "[0-9 20-49]"},
		{"subtract everything", Subtract([]Range{r(0, 5)}, []Range{r(0, 5)}), "[]"},
	}
	for _, c := range cases {
		if s := show(c.got); s != c.want {
			t.Errorf("%s: %s, want %s", c.name, s, c.want)
		}
	}
	owned := []Range{r(0, 99), r(200, 299)}
	for _, c := range []struct {
		want []Range
		ok   bool
	}{
		{[]Range{r(0, 99)}, true},
		{[]Range{r(50, 60), r(250, 299)}, true},
		{[]Range{r(90, 210)}, false},
		{[]Range{r(-1, 0)}, false},
		{[]Range{r(299, 16384)}, false},
		{nil, true},
	} {
		if got := ContainsAll(owned, c.want); got != c.ok {
			t.Errorf("ContainsAll(%v, %v) = %v, want %v", owned, c.want, got, c.ok)
		}
	}
	if n := Count([]Range{r(0, 9), r(20, 20)}); n != 11 {
		t.Errorf("Count = %d, want 11", n)
	}
}
