package node

import (
	"context"
	"strings"
	"testing"
)

// TestSortSideBySide compares SORT and SORT_RO with Redis 7.0 on lists,
// sets and sorted sets with every option. Sets are only compared where
// Redis's reply does not depend on its hash table order (sorted output).
func TestSortSideBySide(t *testing.T) {
	p := newPair(t)
	for _, setup := range cmds(
		"rpush l 3 1 2 10 -5 1.5 2", "rpush la banana apple Cherry apple2 10", "rpush lbad 1 x 2", "rpush le",
		"sadd s 5 3 9 1", "sadd sa pear fig apple", "zadd z 1 c 2 b 3 a 4 d",
		"set w_3 30", "set w_1 10", "set w_2 -1", "set w_10 5", "set w_-5 7", "set w_1.5 x",
		"hset h_3 f 3 g c", "hset h_1 f 1 g a", "hset h_2 f 2 g b", "set o_3 three", "set o_1 one", "set o_c ccc",
		"set wz_a 4", "set wz_b 3", "set wz_c 2", "set wz_d 1", "set str x", "hset hx f 1",
	) {
		p.both(t, setup...)
	}
	p.same(t, cmds(
		"sort l", "sort l desc", "sort l alpha", "sort l alpha desc", "sort l limit 1 3", "sort l limit -1 2", "sort l limit 0 0",
		"sort l limit 5 10", "sort l limit 100 1", "sort l limit 0 -1", "sort l limit 2 -5", "sort l limit x 1", "sort l limit 0",
		"sort la", "sort la alpha", "sort la alpha desc limit 1 2", "sort lbad", "sort lbad alpha", "sort le", "sort nosuch",
		"sort s", "sort s desc", "sort sa alpha", "sort sa", "sort z", "sort z alpha", "sort z alpha desc",
		"sort l by w_*", "sort l by w_* desc", "sort l by nosort", "sort l by nosort desc", "sort l by nosort limit 1 2",
		"sort l by nosort desc limit 1 2", "sort l by nosort limit 10 2", "sort z by nosort", "sort z by nosort desc limit 1 2",
		"sort z by wz_*", "sort z by wz_* desc", "sort z by nosort desc limit 0 10",
		"sort l by w_* get #", "sort l by w_* get o_* get # get h_*->g", "sort l get o_* get #", "sort l get h_*->f get h_*->",
		"sort l get h_*->nofield get nosuch_*", "sort l get constant", "sort l get #x", "sort l by h_*->f get h_*->g",
		"sort la by o_* alpha", "sort la by nosuch_* alpha", "sort la by nosuch_*", "sort l by h_*->f alpha",
		"sort s by nosort store dst", "lrange dst 0 -1", "sort sa by nosort store dst", "lrange dst 0 -1",
		"sort l store dst", "lrange dst 0 -1", "sort l get o_* store dst", "lrange dst 0 -1", "sort l limit 0 0 store dst", "exists dst",
		"sort nosuch store dst2", "sort l store", "sort l store dst store dst3", "lrange dst3 0 -1", "exists dst",
		"sort str", "sort hx", "sort l foo", "sort l asc desc alpha", "sort l by", "sort l get",
		"sort_ro l", "sort_ro l by w_* get # get o_*", "sort_ro l store dst", "sort_ro nosuch", "sort_ro str",
		"set str2 y", "sort l store str2", "type str2",
		"command getkeys sort l store d limit 0 1 store e", "command getkeys sort l by store get store", "command getkeys sort_ro l",
		"command getkeys georadius g 1 2 3 km store x storedist y", "command getkeys georadiusbymember g m 3 km store x", "command getkeys georadius g 1 2 3 km storedist y store", "command getkeys georadius g 1 2 3 km store",
		"command getkeys geosearchstore d s frommember m byradius 1 km", "command getkeys bitop and d a b c", "command getkeys pfcount a b",
	)...)
}

// SORT propagates as sent, STORE included (Redis does; checked in its
// AOF); the BY/GET keys are read under the whole database's lock.
func TestSortPropagation(t *testing.T) {
	s, addr := startServer(t, "save", "")
	feed := captureWrites(s, false)
	c := newClient(t, addr)
	ctx := context.Background()
	c.RPush(ctx, "l", 3, 1, 2)
	feed.take()
	c.Do(ctx, "sort", "l", "store", "d")
	c.Do(ctx, "sort", "l", "by", "w_*", "get", "#")
	c.Do(ctx, "sort", "nosuch", "store", "nothing")
	want := []string{"sort l store d"}
	if got := feed.take(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("propagated %q, want %q", got, want)
	}
	if !sortReadsOthers([][]byte{[]byte("sort"), []byte("l"), []byte("BY"), []byte("w_*")}) || sortReadsOthers([][]byte{[]byte("sort"), []byte("l"), []byte("desc")}) {
		t.Error("sortReadsOthers")
	}
}
