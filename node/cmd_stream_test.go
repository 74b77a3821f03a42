package node

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"regexp"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/redistest"
)

// streamCorpus runs against warden and a real redis-server 7.0 in order;
// the replies must be identical (deterministic IDs everywhere, and time
// dependent replies compared by shape).
var streamCorpus = []edgeCase{
	ec("XADD", "s", "1-1", "a", "1"),
	ec("XADD", "s", "1-1", "a", "1"),
	ec("XADD", "s", "0-0", "a", "1"),
	ec("XADD", "s", "1-*", "b", "2"),
	ec("XADD", "s", "2-*", "a", "3", "b", "4"),
	ec("XADD", "s", "2", "a", "3"),
	ec("XADD", "s", "3-0", "a"),
	ec("XADD", "s", "bad", "a", "1"),
	ec("XADD", "s", "3-0", "f", "v", "g"),
	ec("XADD", "s", "NOMKSTREAM", "3-0", "f", "v"),
	ec("XADD", "nos", "NOMKSTREAM", "1-0", "f", "v"),
	ec("EXISTS", "nos"),
	ec("XADD", "s", "MAXLEN", "-1", "4-0", "f", "v"),
	ec("XADD", "s", "MAXLEN", "x", "4-0", "f", "v"),
	ec("XADD", "s", "MAXLEN", "10", "MINID", "1", "4-0", "f", "v"),
	ec("XADD", "s", "LIMIT", "10", "4-0", "f", "v"),
	ec("XADD", "s", "MAXLEN", "10", "LIMIT", "10", "4-0", "f", "v"),
	ec("XADD", "s", "MAXLEN", "~", "10", "LIMIT", "-1", "4-0", "f", "v"),
	ec("XADD", "s", "MAXLEN", "~", "10", "LIMIT", "5", "4-0", "f", "v"),
	ec("XADD", "s", "MINID", "=", "0", "5-0", "f", "v"),
	ec("XADD", "s", "MINID", "bad", "5-0", "f", "v"),
	ec("XADD", "s", "18446744073709551615-18446744073709551615", "f", "v"),
	ec("XADD", "s", "18446744073709551615-*", "f", "v"),
	ec("XADD", "s", "*", "f", "v"),
	ec("XADD", "max", "18446744073709551615-18446744073709551615", "f", "v"),
	ec("XADD", "max", "*", "f", "v"),
	ec("XADD", "max", "18446744073709551615-*", "f", "v"),
	ec("XLEN", "s"),
	ec("XLEN", "nosuch"),
	ec("XLEN", "str"),
	ec("XADD", "str", "*", "f", "v"),
	ec("TYPE", "s"),
	ec("OBJECT", "ENCODING", "s"),
	ec("XADD", "r", "1-0", "a", "1"),
	ec("XADD", "r", "2-0", "a", "2"),
	ec("XADD", "r", "3-0", "a", "3"),
	ec("XADD", "r", "3-5", "a", "3", "b", "x"),
	ec("XADD", "r", "4-0", "a", "4"),
	ec("XRANGE", "r", "-", "+"),
	ec("XRANGE", "r", "2", "3"),
	ec("XRANGE", "r", "(2-0", "+"),
	ec("XRANGE", "r", "-", "(3-5"),
	ec("XRANGE", "r", "(-", "+"),
	ec("XRANGE", "r", "(18446744073709551615-18446744073709551615", "+"),
	ec("XRANGE", "r", "-", "(0-0"),
	ec("XRANGE", "r", "-", "+", "COUNT", "2"),
	ec("XRANGE", "r", "-", "+", "COUNT", "0"),
	ec("XRANGE", "r", "-", "+", "COUNT", "-1"),
	ec("XRANGE", "r", "-", "+", "COUNT"),
	ec("XRANGE", "r", "-", "+", "LIMIT", "1"),
	ec("XRANGE", "r", "x", "+"),
	ec("XRANGE", "nosuch", "-", "+"),
	ec("XRANGE", "str", "-", "+"),
	ec("XRANGE", "r", "5", "1"),
	ec("XREVRANGE", "r", "+", "-"),
	ec("XREVRANGE", "r", "+", "-", "COUNT", "2"),
	ec("XREVRANGE", "r", "(4-0", "(1-0"),
	ec("XREVRANGE", "r", "3", "3"),
	ec("XDEL", "r", "2-0", "9-9"),
	ec("XDEL", "r", "bad"),
	ec("XDEL", "nosuch", "1-0"),
	ec("XRANGE", "r", "-", "+"),
	ec("XINFO", "STREAM", "r"),
	ec("XTRIM", "r", "MAXLEN", "3"),
	ec("XTRIM", "r", "MINID", "3-5"),
	ec("XTRIM", "r", "LIMIT", "3"),
	ec("XTRIM", "r", "MAXLEN", "~", "0"),
	ec("XTRIM", "r", "MAXLEN", "1", "extra"),
	ec("XTRIM", "nosuch", "MAXLEN", "1"),
	ec("XINFO", "STREAM", "r"),
	ec("XSETID", "r", "1-0"),
	ec("XSETID", "r", "10-0"),
	ec("XSETID", "r", "10-0", "ENTRIESADDED", "0"),
	ec("XSETID", "r", "11-0", "ENTRIESADDED", "100", "MAXDELETEDID", "12-0"),
	ec("XSETID", "r", "11-0", "ENTRIESADDED", "100", "MAXDELETEDID", "10-0"),
	ec("XSETID", "nosuch", "1-0"),
	ec("XSETID", "r", "11-0", "FOO"),
	ec("XINFO", "STREAM", "r"),
	// consumer groups
	ec("XGROUP", "CREATE", "g", "grp", "$"),
	ec("XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"),
	ec("XGROUP", "CREATE", "g", "grp", "$", "MKSTREAM"),
	ec("XGROUP", "CREATE", "g", "grp2", "0", "ENTRIESREAD", "-2"),
	ec("XGROUP", "CREATE", "g", "grp2", "0", "BOGUS"),
	ec("XGROUP", "CREATE", "g", "grp2", "0", "ENTRIESREAD", "0"),
	ec("XGROUP", "CREATE", "str", "grp", "$"),
	ec("XADD", "g", "1-0", "a", "1"),
	ec("XADD", "g", "2-0", "a", "2"),
	ec("XADD", "g", "3-0", "a", "3"),
	ec("XINFO", "GROUPS", "g"),
	ec("XREADGROUP", "GROUP", "grp2", "alice", "COUNT", "2", "STREAMS", "g", ">"),
	ec("XINFO", "GROUPS", "g"),
	ec("XREADGROUP", "GROUP", "grp2", "bob", "STREAMS", "g", ">"),
	ec("XREADGROUP", "GROUP", "grp2", "bob", "STREAMS", "g", ">"),
	ec("XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g", "0"),
	ec("XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g", "$"),
	ec("XREADGROUP", "GROUP", "nogrp", "alice", "STREAMS", "g", ">"),
	ec("XREADGROUP", "GROUP", "grp2", "alice", "STREAMS", "g"),
	ec("XREADGROUP", "STREAMS", "g", ">"),
	ec("XREADGROUP", "GROUP", "grp2", "alice", "NOACK", "STREAMS", "nosuch", ">"),
	ec("XREAD", "STREAMS", "g", ">"),
	ec("XREAD", "GROUP", "a", "b", "STREAMS", "g", "0"),
	ec("XREAD", "NOACK", "STREAMS", "g", "0"),
	ec("XREAD", "COUNT", "2", "STREAMS", "g", "r", "0", "0"),
	ec("XREAD", "STREAMS", "g", "$"),
	ec("XREAD", "STREAMS", "g", "bad"),
	ec("XREAD", "BLOCK", "-1", "STREAMS", "g", "0"),
	ec("XREAD", "BLOCK", "x", "STREAMS", "g", "0"),
	ec("XREAD", "STREAMS", "str", "0"),
	ec("XREAD", "COUNT", "1"),
	ecShape("XPENDING", "g", "grp2"),
	ec("XPENDING", "g", "nogrp"),
	ec("XPENDING", "g", "grp2", "-", "+"),
	ecShape("XPENDING", "g", "grp2", "-", "+", "10"),
	ecShape("XPENDING", "g", "grp2", "-", "+", "10", "alice"),
	ec("XPENDING", "g", "grp2", "-", "+", "10", "nobody"),
	ec("XPENDING", "g", "grp2", "IDLE", "999999", "-", "+", "10"),
	ec("XPENDING", "g", "grp2", "IDLE", "x", "-", "+", "10"),
	ec("XPENDING", "g", "grp2", "-", "+", "x"),
	ecShape("XPENDING", "g", "grp2", "(1-0", "+", "1"), // idle times tick
	ec("XACK", "g", "grp2", "1-0", "9-0"),
	ec("XACK", "g", "grp2", "bad"),
	ec("XACK", "g", "nogrp", "1-0"),
	ec("XACK", "nosuch", "grp", "1-0"),
	ec("XCLAIM", "g", "grp2", "carol", "0", "2-0", "JUSTID"),
	ec("XCLAIM", "g", "grp2", "carol", "0", "2-0", "RETRYCOUNT", "7", "JUSTID"),
	ec("XCLAIM", "g", "grp2", "carol", "999999", "2-0", "JUSTID"),
	ec("XCLAIM", "g", "grp2", "carol", "x", "2-0"),
	ec("XCLAIM", "g", "nogrp", "carol", "0", "2-0"),
	ec("XCLAIM", "g", "grp2", "carol", "0", "2-0", "BOGUS"),
	ec("XCLAIM", "g", "grp2", "carol", "0", "2-0", "IDLE", "x"),
	ec("XCLAIM", "g", "grp2", "dave", "0", "1-0", "FORCE", "JUSTID"),
	ec("XCLAIM", "g", "grp2", "dave", "0", "3-0", "LASTID", "5-0", "JUSTID"),
	ec("XINFO", "GROUPS", "g"),
	ec("XDEL", "g", "3-0"),
	ec("XINFO", "GROUPS", "g"),
	ec("XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "COUNT", "1"),
	ec("XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "JUSTID"),
	ec("XAUTOCLAIM", "g", "grp2", "erin", "0", "0", "COUNT", "0"),
	ec("XAUTOCLAIM", "g", "grp2", "erin", "x", "0"),
	ec("XAUTOCLAIM", "g", "nogrp", "erin", "0", "0"),
	ec("XAUTOCLAIM", "g", "grp2", "erin", "0", "bad"),
	ec("XREADGROUP", "GROUP", "grp2", "erin", "STREAMS", "g", "0"),
	ec("XGROUP", "CREATECONSUMER", "g", "grp2", "frank"),
	ec("XGROUP", "CREATECONSUMER", "g", "grp2", "frank"),
	ec("XGROUP", "CREATECONSUMER", "g", "nogrp", "frank"),
	ec("XGROUP", "DELCONSUMER", "g", "grp2", "erin"),
	ec("XGROUP", "DELCONSUMER", "g", "grp2", "nobody"),
	ecShape("XINFO", "CONSUMERS", "g", "grp2"),
	ec("XINFO", "CONSUMERS", "g", "nogrp"),
	ec("XINFO", "CONSUMERS", "nosuch", "grp"),
	ec("XGROUP", "SETID", "g", "grp2", "0", "ENTRIESREAD", "1"),
	ec("XGROUP", "SETID", "g", "nogrp", "0"),
	ec("XGROUP", "SETID", "g", "grp2", "$"),
	ec("XINFO", "GROUPS", "g"),
	ec("XGROUP", "DESTROY", "g", "grp"),
	ec("XGROUP", "DESTROY", "g", "grp"),
	ec("XGROUP", "DESTROY", "nosuch", "grp"),
	ec("XGROUP", "FOO"),
	ec("XGROUP", "HELP"),
	ec("XINFO", "HELP"),
	ec("XINFO", "STREAM", "nosuch"),
	ec("XINFO", "STREAM", "g", "FULL", "COUNT"),
	ec("XINFO", "STREAM", "g", "BOGUS"),
	ec("XINFO", "STREAM", "str"),
	// lag and entries-read through deletions and trims
	ec("XADD", "l", "1-0", "a", "1"),
	ec("XADD", "l", "2-0", "a", "1"),
	ec("XADD", "l", "3-0", "a", "1"),
	ec("XGROUP", "CREATE", "l", "g1", "0"),
	ec("XGROUP", "CREATE", "l", "g2", "0"),
	ec("XGROUP", "CREATE", "l", "g3", "$"),
	ec("XINFO", "GROUPS", "l"),
	ec("XREADGROUP", "GROUP", "g1", "c", "COUNT", "1", "STREAMS", "l", ">"),
	ec("XDEL", "l", "2-0"),
	ec("XINFO", "GROUPS", "l"),
	ec("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "l", ">"),
	ec("XINFO", "GROUPS", "l"),
	ec("XDEL", "l", "1-0", "3-0"),
	ec("XINFO", "GROUPS", "l"),
	ec("XINFO", "STREAM", "l"),
	ec("XADD", "l", "4-0", "a", "1"),
	ec("XINFO", "GROUPS", "l"),
	ec("XTRIM", "l", "MAXLEN", "0"),
	ec("XINFO", "STREAM", "l"),
	ec("XINFO", "GROUPS", "l"),
	ec("DEL", "l"),
	// history with a deleted entry, several streams, counts
	ec("XADD", "h", "1-0", "a", "1"),
	ec("XADD", "h", "2-0", "a", "2"),
	ec("XADD", "h", "3-0", "a", "3"),
	ec("XGROUP", "CREATE", "h", "g", "0", "ENTRIESREAD", "0"),
	ec("XREADGROUP", "GROUP", "g", "c", "COUNT", "0", "STREAMS", "h", ">"),
	ec("XDEL", "h", "2-0"),
	ec("XREADGROUP", "GROUP", "g", "c", "STREAMS", "h", "0"),
	ec("XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "h", "1-0"),
	ec("XREADGROUP", "GROUP", "g", "c", "STREAMS", "h", "h", "0", ">"),
	ec("XREAD", "COUNT", "1", "STREAMS", "h", "nosuch", "r", "0", "0", "0"),
	ec("XREAD", "STREAMS", "nosuch", "0"),
	ec("XAUTOCLAIM", "h", "g", "d", "0", "(1-0", "COUNT", "1"),
	ec("XAUTOCLAIM", "h", "g", "d", "0", "-", "JUSTID"),
	ec("XCLAIM", "h", "g", "d", "0", "2-0", "1-0"),
	ecShape("XPENDING", "h", "g", "-", "+", "10", "d", "extra"), // idle times tick
	ec("XPENDING", "h", "g"),
	ec("XINFO", "GROUPS", "h"),
	ec("XGROUP", "CREATE", "h", "g5", "1-0", "ENTRIESREAD", "1"),
	ec("XGROUP", "CREATE", "h", "g6", "3-0", "ENTRIESREAD", "7"),
	ec("XINFO", "GROUPS", "h"),
	ec("XSETID", "h", "3-0", "ENTRIESADDED", "1"),
	ec("XSETID", "h", "3-0", "MAXDELETEDID", "4-0"),
	ec("XSETID", "h", "3-0", "ENTRIESADDED", "-1"),
	ec("XSETID", "h", "2-0"),
	ec("XADD", "h", "MAXLEN", "~", "1", "LIMIT", "1", "4-0", "a", "4"),
	ec("XADD", "h", "MINID", "~", "9", "LIMIT", "0", "5-0", "a", "5"),
	ec("XLEN", "h"),
	ec("XTRIM", "h", "MINID", "4-0"),
	ec("XRANGE", "h", "-", "+"),
	ecShape("XINFO", "STREAM", "h", "FULL", "COUNT", "1"),
	ec("XGROUP", "CREATECONSUMER", "h", "g", "c"),
	ec("XGROUP", "DELCONSUMER", "h", "g", "c"),
	ec("XINFO", "CONSUMERS", "h", "g5"),
	ec("XREAD", "COUNT", "x", "STREAMS", "h", "0"),
	ec("XREAD", "STREAMS"),
	ec("XREADGROUP", "GROUP", "g", "STREAMS", "h", ">"),
	ec("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "NOACK", "COUNT", "1", "STREAMS", "h", ">"),
	ec("XADD", "h", "*"),
	ec("XADD", "h", "NOMKSTREAM"),
	ec("XADD", "h", "MAXLEN"),
	ec("XADD", "h", "MAXLEN", "1"),
	ec("XADD", "h", "MAXLEN", "~"),
	ec("XTRIM", "h", "MAXLEN"),
	ec("XTRIM", "h", "MAXLEN", "~"),
	ec("XTRIM", "h", "FOO", "1"),
	ec("XRANGE", "h", "(", "+"),
	ec("XRANGE", "h", "((1", "+"),
	ec("XRANGE", "h", "1-", "+"),
	ec("XRANGE", "h", "-1", "+"),
	ec("XRANGE", "h", " 1", "+"),
	ec("XRANGE", "h", "01-0", "+"),
	ec("XDEL", "h", "+"),
	ec("XDEL", "h", "5"),
	ec("XGROUP", "CREATE", "h", "g7", "-"),
	ec("XGROUP", "CREATE", "h", "g7", "+"),
	ec("XGROUP", "SETID", "h", "g", "0", "ENTRIESREAD"),
	ec("XGROUP", "SETID", "h", "g", "0", "MKSTREAM"),
	ec("XACK", "h", "g"),
	ec("XCLAIM", "h", "g", "c", "0"),
	ec("XCLAIM", "h", "g", "c", "0", "1-0", "LASTID", "x"),
	ec("XCLAIM", "h", "g", "c", "0", "1-0", "TIME"),
	ec("XAUTOCLAIM", "h", "g", "c", "0", "0", "COUNT", "0"),
	ec("XAUTOCLAIM", "h", "g", "c", "0", "0", "COUNT", "922337203685477580"),
	ec("XAUTOCLAIM", "h", "g", "c", "0", "0", "COUNT"),
	ec("XPENDING", "h", "g", "IDLE", "1", "-", "+"),
	ec("XPENDING", "h", "g", "-"),
	ec("XINFO", "STREAM", "h", "FULL", "COUNT", "-5"),
	ec("XINFO", "GROUPS"),
	ec("XINFO", "FOO", "h"),
	// a last ID past the last entry (XSETID) serves nothing
	ec("XADD", "v", "1-0", "a", "1"),
	ec("XSETID", "v", "100-0"),
	ec("XREAD", "STREAMS", "v", "50-0"),
	ec("XREAD", "STREAMS", "v", "0-5"),
	ec("XGROUP", "CREATE", "v", "g", "50-0"),
	ec("XREADGROUP", "GROUP", "g", "c", "STREAMS", "v", ">"),
	ecShape("XINFO", "CONSUMERS", "v", "g"),
	ec("XINFO", "GROUPS", "v"),
}

func TestStreamCommandsMatchRedis(t *testing.T) {
	_, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	for _, c := range []*respClient{wc, rc} {
		c.mustDo(t, "SET", "str", "x")
	}
	for _, tc := range streamCorpus {
		label := strings.Join(tc.args, " ")
		got := wc.mustDo(t, tc.args...)
		want := rc.mustDo(t, tc.args...)
		g, w := canonical(got, tc.cmp), canonical(want, tc.cmp)
		// Unix ms times (delivery, seen) are each server's clock.
		g, w = unixMs.ReplaceAllString(g, ":T"), unixMs.ReplaceAllString(w, ":T")
		if g != w {
			t.Errorf("%s:\n  warden %s\n  redis  %s", label, g, w)
		}
	}
}

var unixMs = regexp.MustCompile(`:1[0-9]{12}\b`)

// streamBuild makes a stream with deleted entries, several nodes, differing
// fields, groups, PELs and consumers (explicit IDs and times, so two servers
// end byte-identical).
var streamBuild = [][]string{
	{"CONFIG", "SET", "stream-node-max-entries", "4"},
	{"XADD", "ds", "1-1", "a", "1", "b", "x"},
	{"XADD", "ds", "1-2", "a", "2", "b", "y"},
	{"XADD", "ds", "1-3", "c", "3"},
	{"XADD", "ds", "2-0", "a", "-7", "b", "long value long value long value long value long value long value"},
	{"XADD", "ds", "5-0", "a", "100000", "b", "z"},
	{"XADD", "ds", "5-1", "a", "1"},
	{"XADD", "ds", "9000000000-0", "k", "v"},
	{"XDEL", "ds", "1-2", "5-0"},
	{"XGROUP", "CREATE", "ds", "g1", "0"},
	{"XGROUP", "CREATE", "ds", "g2", "$"},
	{"XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "ds", ">"},
	{"XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "ds", ">"},
	{"XCLAIM", "ds", "g1", "carol", "0", "1-1", "TIME", "1700000000000", "RETRYCOUNT", "5", "JUSTID"},
	{"XCLAIM", "ds", "g1", "bob", "0", "2-0", "TIME", "1700000000001", "JUSTID"},
	{"XCLAIM", "ds", "g1", "alice", "0", "1-3", "TIME", "1700000000002", "JUSTID"},
	{"XGROUP", "CREATECONSUMER", "ds", "g2", "idle"},
	{"XSETID", "ds", "9000000000-5", "ENTRIESADDED", "20", "MAXDELETEDID", "5-0"},
}

// TestStreamDumpMatchesRedis: a stream Redis dumps restores into warden,
// whose DUMP of it is byte-identical (the RDB encoding is Redis's), and
// Redis restores warden's payload to the same stream.
func TestStreamDumpMatchesRedis(t *testing.T) {
	_, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	for _, cmd := range streamBuild {
		for _, c := range []*respClient{wc, rc} {
			if v := c.mustDo(t, cmd...); v.isErr() {
				t.Fatalf("%q: %v", cmd, v)
			}
		}
	}
	// Seen times differ between the servers: a consumer's seen-time is
	// the clock's; compare the rest.
	// radix-tree-nodes counts Redis's rax internals; it is not compared.
	full := func(c *respClient, key string) string {
		s := c.mustDo(t, "XINFO", "STREAM", key, "FULL").String()
		return regexp.MustCompile(`"radix-tree-nodes" :[0-9]+`).ReplaceAllString(s, "")
	}
	wantFull := full(rc, "ds")
	payload := rc.mustDo(t, "DUMP", "ds").Str
	if v := wc.mustDo(t, "RESTORE", "fromredis", "0", payload); v.isErr() {
		t.Fatalf("RESTORE of Redis's payload: %v", v)
	}
	if v := rc.mustDo(t, "RESTORE", "fromredis", "0", payload); v.isErr() {
		t.Fatal(v)
	}
	if g, w := full(wc, "fromredis"), full(rc, "fromredis"); g != w {
		t.Errorf("XINFO STREAM FULL after RESTORE:\n  warden %s\n  redis  %s", g, w)
	}
	// Redis keeps a loaded node's listpack bytes as they are, so its DUMP
	// of warden's payload equals its own only if warden wrote Redis's exact
	// bytes (the two LZF compressors differ; Redis recompresses).
	wpay := wc.mustDo(t, "DUMP", "fromredis").Str
	if v := rc.mustDo(t, "RESTORE", "roundtrip", "0", wpay); v.isErr() {
		t.Fatalf("Redis refuses warden's payload: %v", v)
	}
	if g := rc.mustDo(t, "DUMP", "roundtrip").Str; g != payload {
		t.Errorf("warden's encoding of Redis's stream differs:\n  via warden %x\n  redis      %x", g, payload)
	}
	// The stream warden built itself.
	wp := wc.mustDo(t, "DUMP", "ds").Str
	if v := rc.mustDo(t, "RESTORE", "fromwarden", "0", wp); v.isErr() {
		t.Fatalf("Redis refuses warden's payload: %v", v)
	}
	if g := full(rc, "fromwarden"); g != wantFull {
		t.Logf("(seen-time differs between servers)\n  warden-built %s\n  redis-built  %s", g, wantFull)
	}
	for _, args := range [][]string{
		{"XRANGE", "fromwarden", "-", "+"},
		{"XINFO", "GROUPS", "fromwarden"},
		{"XPENDING", "fromwarden", "g1"}, // the summary: idle times tick
	} {
		g := rc.mustDo(t, args...).String()
		for i, a := range args {
			if a == "fromwarden" {
				args[i] = "ds"
			}
		}
		w := rc.mustDo(t, args...).String()
		if g != w {
			t.Errorf("%v:\n  restored %s\n  original %s", args, g, w)
		}
	}
}

// TestStreamBlocking: XREAD BLOCK is woken by XADD; XREADGROUP BLOCK by
// XADD (entries become pending), and by XGROUP DESTROY with NOGROUP.
func TestStreamBlocking(t *testing.T) {
	s, addr := startServer(t, "save", "")
	ctx := context.Background()
	c1, c2 := newClient(t, addr), newClient(t, addr)
	got := make(chan []redis.XStream, 1)
	go func() {
		r, _ := c1.XRead(ctx, &redis.XReadArgs{Streams: []string{"bs", "$"}, Block: 0}).Result()
		got <- r
	}()
	waitBlocked(t, s, 1)
	if err := c2.XAdd(ctx, &redis.XAddArgs{Stream: "bs", ID: "5-0", Values: []string{"f", "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if len(r) != 1 || r[0].Stream != "bs" || len(r[0].Messages) != 1 || r[0].Messages[0].ID != "5-0" {
		t.Fatalf("XREAD BLOCK got %+v", r)
	}
	c2.XGroupCreate(ctx, "bs", "g", "$")
	errs := make(chan error, 1)
	go func() {
		r, err := c1.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"bs", ">"}, Block: 0}).Result()
		if err == nil && (len(r) != 1 || r[0].Messages[0].ID != "6-0") {
			t.Errorf("XREADGROUP got %+v", r)
		}
		errs <- err
	}()
	waitBlocked(t, s, 1)
	c2.XAdd(ctx, &redis.XAddArgs{Stream: "bs", ID: "6-0", Values: []string{"f", "v"}})
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if p := c2.XPending(ctx, "bs", "g").Val(); p == nil || p.Count != 1 {
		t.Fatalf("pending after a blocked delivery: %+v", p)
	}
	go func() {
		_, err := c1.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"bs", ">"}, Block: 0}).Result()
		errs <- err
	}()
	waitBlocked(t, s, 1)
	c2.XGroupDestroy(ctx, "bs", "g")
	if err := <-errs; err == nil || !strings.HasPrefix(err.Error(), "NOGROUP") {
		t.Fatalf("XREADGROUP on a destroyed group: %v", err)
	}
	// A timeout answers a null array.
	if _, err := c1.XRead(ctx, &redis.XReadArgs{Streams: []string{"bs", "$"}, Block: 10 * time.Millisecond}).Result(); err != redis.Nil {
		t.Fatalf("XREAD timeout: %v", err)
	}
}

// streamPropCorpus exercises what stream commands propagate.
var streamPropCorpus = [][]string{
	{"XADD", "p", "1-0", "a", "1"},
	{"XADD", "p", "2-0", "a", "2"},
	{"XGROUP", "CREATE", "p", "g", "0"},
	{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "p", ">"},
	{"XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "p", "0"},
	{"XADD", "p", "3-0", "a", "3"},
	{"XREADGROUP", "GROUP", "g", "c2", "NOACK", "STREAMS", "p", ">"},
	{"XCLAIM", "p", "g", "c3", "0", "1-0", "LASTID", "9-0"},
	{"XCLAIM", "p", "g", "c3", "0", "7-0", "LASTID", "10-0"},
	{"XDEL", "p", "2-0"},
	{"XADD", "p", "MAXLEN", "~", "1", "4-0", "a", "4"},
	{"XAUTOCLAIM", "p", "g", "c4", "0", "0"},
	{"XGROUP", "CREATE", "p", "g2", "$"},
	{"XTRIM", "p", "MINID", "~", "5", "LIMIT", "10"},
	{"XTRIM", "p", "MAXLEN", "~", "0"},
	{"XTRIM", "p", "MAXLEN", "1"},
	{"XGROUP", "SETID", "p", "g", "$"},
	{"XADD", "p", "NOMKSTREAM", "5-*", "a", "9"},
	{"XACK", "p", "g", "1-0", "8-0"},
	{"XGROUP", "CREATECONSUMER", "p", "g", "c9"},
	{"XGROUP", "DELCONSUMER", "p", "g", "c9"},
	{"XGROUP", "DESTROY", "p", "g2"},
	{"XSETID", "p", "20-0"},
}

// TestStreamPropagationMatchesRedis: the commands warden propagates for the
// corpus are what Redis 7.0 writes to its AOF (delivery times aside).
func TestStreamPropagationMatchesRedis(t *testing.T) {
	s, addr := startServer(t, "save", "")
	dir := t.TempDir()
	rs := redistest.Start(t, dir, "--appendonly", "yes", "--appendfsync", "always")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	feed := captureWrites(s, false)
	for _, cmd := range streamPropCorpus {
		g, w := wc.mustDo(t, cmd...).String(), rc.mustDo(t, cmd...).String()
		if g != w {
			t.Errorf("%q:\n  warden %s\n  redis  %s", cmd, g, w)
		}
	}
	times := regexp.MustCompile(`TIME [0-9]{13}`)
	// One known difference: after XREADGROUP without NOACK warden also
	// propagates XGROUP SETID (as Redis 7.2 does), so entries-read reaches
	// replicas and the AOF; that line and the MULTI/EXEC it may add are
	// left out of the comparison.
	norm := func(lines []string) string {
		var out []string
		for i, l := range lines {
			if l == "SELECT 0" || l == "MULTI" || l == "EXEC" {
				continue
			}
			if strings.HasPrefix(l, "XGROUP SETID") && i > 0 && strings.HasPrefix(lines[i-1], "XCLAIM") {
				continue
			}
			out = append(out, times.ReplaceAllString(l, "TIME t"))
		}
		return strings.Join(out, "\n")
	}
	var redisLines []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		redisLines = redisAOFCommands(t, dir)
		if len(redisLines) > 0 && strings.HasPrefix(redisLines[len(redisLines)-1], "XSETID") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if g, w := norm(feed.all()), norm(redisLines); g != w {
		t.Errorf("propagated commands differ:\nwarden:\n%s\nredis:\n%s", g, w)
	}
}

// redisAOFCommands reads the commands of a Redis 7 AOF directory's
// incremental file.
func redisAOFCommands(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "appendonlydir", "*.incr.aof"))
	if len(files) == 0 {
		return nil
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	r := bufio.NewReader(bytes.NewReader(b))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return out
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		args := make([]string, 0, n)
		for range n {
			h, err := r.ReadString('\n')
			if err != nil {
				return out
			}
			l, _ := strconv.Atoi(strings.TrimSpace(h[1:]))
			buf := make([]byte, l+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return out
			}
			args = append(args, string(buf[:l]))
		}
		out = append(out, strings.Join(args, " "))
	}
}

// TestStreamCopyIsIndependent: COPY of a stream deep-copies entries and
// groups; writing the copy leaves the source alone.
func TestStreamCopyIsIndependent(t *testing.T) {
	c, ctx := setup(t)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "src", ID: "1-0", Values: []string{"f", "v"}})
	c.XGroupCreate(ctx, "src", "g", "0")
	c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"src", ">"}})
	if n, err := c.Copy(ctx, "src", "dst", 0, false).Result(); err != nil || n != 1 {
		t.Fatalf("COPY: %v %v", n, err)
	}
	c.XAck(ctx, "dst", "g", "1-0")
	c.XAdd(ctx, &redis.XAddArgs{Stream: "dst", ID: "2-0", Values: []string{"f", "v"}})
	if n := c.XLen(ctx, "src").Val(); n != 1 {
		t.Errorf("source length %d after writing the copy", n)
	}
	if p := c.XPending(ctx, "src", "g").Val(); p == nil || p.Count != 1 {
		t.Errorf("source PEL after XACK on the copy: %+v", p)
	}
	if p := c.XPending(ctx, "dst", "g").Val(); p == nil || p.Count != 0 {
		t.Errorf("copy PEL: %+v", p)
	}
}

// streamFull is XINFO STREAM FULL without the fields a replay legitimately
// changes (a consumer's seen-time is the replaying server's clock; the rax
// node count is Redis's internal).
func streamFull(t *testing.T, c *respClient, key string) string {
	t.Helper()
	s := c.mustDo(t, "XINFO", "STREAM", key, "FULL").String()
	s = regexp.MustCompile(`"seen-time" :[0-9]+`).ReplaceAllString(s, `"seen-time"`)
	// The node layout follows stream-node-max-entries, which an AOF replay
	// under another setting legitimately changes.
	return regexp.MustCompile(`"radix-tree-(nodes|keys)" :[0-9]+`).ReplaceAllString(s, "")
}

// TestStreamPersistRestart: streams (entries, deletions, groups, PELs,
// consumers, counters, an empty stream) survive an RDB restart and an AOF
// replay after a rewrite, with and without the RDB preamble.
func TestStreamPersistRestart(t *testing.T) {
	for _, mode := range [][]string{
		{"appendonly", "yes", "save", "", "aof-use-rdb-preamble", "yes"},
		{"appendonly", "yes", "save", "", "aof-use-rdb-preamble", "no"},
		{"appendonly", "no", "save", "3600 1"},
	} {
		t.Run(strings.Join(mode, "-"), func(t *testing.T) {
			dir := t.TempDir()
			n := mustStartNodeIn(t, dir, mode...)
			c := dialResp(t, n.addr)
			for _, cmd := range streamBuild {
				if v := c.mustDo(t, cmd...); v.isErr() {
					t.Fatalf("%q: %v", cmd, v)
				}
			}
			c.mustDo(t, "XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
			c.mustDo(t, "XADD", "trimmed", "7-0", "f", "v")
			c.mustDo(t, "XDEL", "trimmed", "7-0")
			if mode[1] == "yes" {
				c.mustDo(t, "BGREWRITEAOF")
				waitFor(t, func() bool {
					return strings.Contains(c.mustDo(t, "INFO", "persistence").String(), "aof_rewrite_in_progress:0")
				}, "rewrite to finish")
				// Writes after the rewrite replay on top of its base.
				c.mustDo(t, "XADD", "ds", "9000000001-0", "after", "rewrite")
				c.mustDo(t, "XREADGROUP", "GROUP", "g2", "dave", "STREAMS", "ds", ">")
			} else {
				c.mustDo(t, "SAVE")
			}
			keys := []string{"ds", "empty", "trimmed"}
			before := map[string]string{}
			for _, k := range keys {
				before[k] = streamFull(t, c, k)
			}
			if err := n.stop(); err != nil {
				t.Fatal(err)
			}
			n2 := mustStartNodeIn(t, dir, mode...)
			c2 := dialResp(t, n2.addr)
			for _, k := range keys {
				if after := streamFull(t, c2, k); after != before[k] {
					t.Errorf("%s after restart:\n  before %s\n  after  %s", k, before[k], after)
				}
			}
		})
	}
}

// TestStreamRedisReplicaOfWarden: a real redis-server replica of warden ends
// with the same streams, through the initial snapshot (RDB type 19) and the
// command stream (XADD with resolved IDs, rewritten trims, the XCLAIMs and
// SETIDs of consumer groups, a blocked XREADGROUP served later).
func TestStreamRedisReplicaOfWarden(t *testing.T) {
	s, addr := startServer(t, "save", "")
	wc := dialResp(t, addr)
	for _, cmd := range streamBuild[:9] {
		wc.mustDo(t, cmd...)
	}
	rs, replica := redisReplicaOf(t, addr)
	master := newClient(t, addr)
	rc := dialResp(t, rs.Addr)
	ctx := context.Background()
	for _, cmd := range streamBuild[9:] {
		if v := wc.mustDo(t, cmd...); v.isErr() {
			t.Fatalf("%q: %v", cmd, v)
		}
	}
	for i := 0; i < 300; i++ {
		wc.mustDo(t, "XADD", "ds", "MAXLEN", "~", "150", "*", "i", strconv.Itoa(i))
	}
	wc.mustDo(t, "XADD", "ds", "MINID", "~", "0", "*", "i", "x")
	wc.mustDo(t, "XREADGROUP", "GROUP", "g2", "erin", "COUNT", "10", "STREAMS", "ds", ">")
	wc.mustDo(t, "XREADGROUP", "GROUP", "g2", "noack", "NOACK", "COUNT", "5", "STREAMS", "ds", ">")
	wc.mustDo(t, "XAUTOCLAIM", "ds", "g2", "frank", "0", "0", "COUNT", "3")
	wc.mustDo(t, "XACK", "ds", "g2", wc.mustDo(t, "XPENDING", "ds", "g2", "-", "+", "1").Elems[0].Elems[0].Str)
	wc.mustDo(t, "XGROUP", "CREATE", "ds", "g3", "$")
	done := make(chan error, 1)
	go func() {
		_, err := master.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g3", Consumer: "blocked", Streams: []string{"ds", ">"}, Block: 0, Count: 2}).Result()
		done <- err
	}()
	waitBlocked(t, s, 1)
	wc.mustDo(t, "XADD", "ds", "*", "wake", "up")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		want := replOffsetOf(t, master)
		return want >= 0 && replOffsetOf(t, replica) == want
	}, "the replica to catch up")
	if g, w := streamFull(t, rc, "ds"), streamFull(t, wc, "ds"); g != w {
		t.Errorf("replica differs:\n  warden  %s\n  replica %s", w, g)
	}
}

// TestStreamCommandInfoMatchesRedis: the stream commands' registration
// (arity, key positions) and the metadata table agree with each other and
// with a real redis-server's COMMAND INFO.
func TestStreamCommandInfoMatchesRedis(t *testing.T) {
	s, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	var names []string
	for name, cmd := range s.cmds {
		if cmd.Group != "stream" {
			continue
		}
		names = append(names, name)
		for sub := range cmd.Subs {
			names = append(names, name+"|"+sub)
		}
	}
	if len(names) < 20 {
		t.Fatalf("only %d stream commands registered", len(names))
	}
	for _, name := range names {
		g := wc.mustDo(t, "COMMAND", "INFO", name).String()
		w := rc.mustDo(t, "COMMAND", "INFO", name).String()
		if cmd := s.cmds[name]; cmd != nil && cmd.Subs != nil {
			// Redis lists subcommands in its dict's order; each is
			// compared on its own.
			g, w = g[:strings.Index(g, "*[*[\""+name+"|")], w[:strings.Index(w, "*[*[\""+name+"|")]
		}
		if g != w {
			t.Errorf("COMMAND INFO %s:\n  warden %s\n  redis  %s", name, g, w)
		}
		// The flags dispatch acts on agree with the table's.
		cmd := s.cmds[name]
		if c, sub, ok := strings.Cut(name, "|"); ok {
			cmd = s.cmds[c].Subs[sub]
		}
		meta := " " + serverCmdTable[name].flags + " "
		for _, f := range []struct {
			flag Flags
			name string
		}{{fWrite, "write"}, {fReadonly, "readonly"}, {fDenyOOM, "denyoom"}, {fFast, "fast"}, {fBlocking, "blocking"}, {fLoading, "loading"}, {fStale, "stale"}} {
			if (cmd.Flags&f.flag != 0) != strings.Contains(meta, " "+f.name+" ") {
				t.Errorf("%s: flag %s registered %v, table %q", name, f.name, cmd.Flags&f.flag != 0, meta)
			}
		}
	}
}

// TestStreamBlockedGroupUnblockedWhenKeyGoes: as in Redis 7.0, XREADGROUP
// blocked on a stream that is deleted or overwritten with another type gets
// "UNBLOCKED the stream key no longer exists"; XREAD keeps waiting.
func TestStreamBlockedGroupUnblockedWhenKeyGoes(t *testing.T) {
	s, addr := startServer(t, "save", "")
	ctx := context.Background()
	c := newClient(t, addr)
	for _, gone := range []func(){
		func() { c.Del(ctx, "k") },
		func() { c.Set(ctx, "k", "x", 0) },
		func() { c.FlushAll(ctx) },
		func() { c.FlushDB(ctx) },
		func() { c.Do(ctx, "SWAPDB", "0", "1") },
	} {
		c.Del(ctx, "k")
		c.XGroupCreateMkStream(ctx, "k", "g", "$")
		errs := make(chan error, 1)
		go func() {
			errs <- newClient(t, addr).XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{"k", ">"}, Block: 0}).Err()
		}()
		waitBlocked(t, s, 1)
		gone()
		if err := <-errs; err == nil || err.Error() != "UNBLOCKED the stream key no longer exists" {
			t.Fatalf("blocked XREADGROUP: %v", err)
		}
	}
	// XREAD is not unblocked by the deletion; a later XADD serves it.
	c.XAdd(ctx, &redis.XAddArgs{Stream: "r", ID: "1-0", Values: []string{"f", "v"}})
	got := make(chan []redis.XStream, 1)
	go func() {
		r, _ := newClient(t, addr).XRead(ctx, &redis.XReadArgs{Streams: []string{"r", "$"}, Block: 0}).Result()
		got <- r
	}()
	waitBlocked(t, s, 1)
	c.Del(ctx, "r")
	c.XAdd(ctx, &redis.XAddArgs{Stream: "r", ID: "2-0", Values: []string{"f", "v"}})
	if r := <-got; len(r) != 1 || r[0].Messages[0].ID != "2-0" {
		t.Fatalf("XREAD after the key was recreated: %+v", r)
	}
}

// TestStreamRDBFileInterop: redis-server loads the dump.rdb warden saves
// with streams, and warden loads redis-server's, to the same streams.
func TestStreamRDBFileInterop(t *testing.T) {
	build := func(t *testing.T, c *respClient) map[string]string {
		for _, cmd := range streamBuild {
			if v := c.mustDo(t, cmd...); v.isErr() {
				t.Fatalf("%q: %v", cmd, v)
			}
		}
		c.mustDo(t, "XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM")
		for i := 0; i < 250; i++ {
			c.mustDo(t, "XADD", "big", strconv.Itoa(i+1)+"-0", "n", strconv.Itoa(i), "payload", strings.Repeat("p", i%70))
		}
		c.mustDo(t, "XTRIM", "big", "MAXLEN", "~", "120")
		c.mustDo(t, "SAVE")
		out := map[string]string{}
		for _, k := range []string{"ds", "empty", "big"} {
			out[k] = c.mustDo(t, "XINFO", "STREAM", k, "FULL", "COUNT", "0").String()
		}
		return out
	}
	full := func(c *respClient, k string) string {
		return c.mustDo(t, "XINFO", "STREAM", k, "FULL", "COUNT", "0").String()
	}
	nodes := regexp.MustCompile(`"radix-tree-nodes" :[0-9]+`)
	t.Run("warden to redis", func(t *testing.T) {
		dir := t.TempDir()
		n := mustStartNodeIn(t, dir, "save", "")
		want := build(t, dialResp(t, n.addr))
		if err := n.stop(); err != nil {
			t.Fatal(err)
		}
		rs := redistest.Start(t, dir)
		rc := dialResp(t, rs.Addr)
		for k, w := range want {
			if g := full(rc, k); nodes.ReplaceAllString(g, "") != nodes.ReplaceAllString(w, "") {
				t.Errorf("%s loaded by redis-server:\n  redis  %s\n  warden %s", k, g, w)
			}
		}
	})
	t.Run("redis to warden", func(t *testing.T) {
		dir := t.TempDir()
		rs := redistest.Start(t, dir)
		want := build(t, dialResp(t, rs.Addr))
		rs.Stop(t)
		n := mustStartNodeIn(t, dir, "save", "")
		wc := dialResp(t, n.addr)
		for k, w := range want {
			if g := full(wc, k); nodes.ReplaceAllString(g, "") != nodes.ReplaceAllString(w, "") {
				t.Errorf("%s loaded by warden:\n  warden %s\n  redis  %s", k, g, w)
			}
		}
	})
}

// TestStreamNodesSplitAsRedis: nodes split where Redis's do (by entries and
// by listpack bytes, with same-fields compression and integer encoding), so
// approximate trimming removes what Redis removes.
func TestStreamNodesSplitAsRedis(t *testing.T) {
	_, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	same := func(args ...string) {
		t.Helper()
		g, w := wc.mustDo(t, args...).String(), rc.mustDo(t, args...).String()
		g = regexp.MustCompile(`"radix-tree-nodes" :[0-9]+`).ReplaceAllString(g, "")
		w = regexp.MustCompile(`"radix-tree-nodes" :[0-9]+`).ReplaceAllString(w, "")
		if g != w {
			t.Fatalf("%q:\n  warden %s\n  redis  %s", args, g, w)
		}
	}
	for _, max := range [][2]string{{"4096", "100"}, {"300", "0"}, {"0", "7"}} {
		for _, c := range []*respClient{wc, rc} {
			c.mustDo(t, "CONFIG", "SET", "stream-node-max-bytes", max[0])
			c.mustDo(t, "CONFIG", "SET", "stream-node-max-entries", max[1])
			c.mustDo(t, "DEL", "n")
		}
		for i := 0; i < 600; i++ {
			args := []string{"XADD", "n", strconv.Itoa(1000+i/3) + "-" + strconv.Itoa(i%3)}
			switch i % 5 {
			case 0, 1:
				args = append(args, "a", strconv.Itoa(i*i-5000), "b", strings.Repeat("x", i%90))
			case 2:
				args = append(args, "a", strconv.Itoa(-i), "c", "1")
			case 3:
				args = append(args, "zz", strings.Repeat("y", i%300))
			default:
				args = append(args, "a", "1", "b", "2", "c", "3")
			}
			same(args...)
			if i%97 == 0 {
				same("XDEL", "n", strconv.Itoa(1000+i/3)+"-"+strconv.Itoa(i%3))
			}
		}
		same("XINFO", "STREAM", "n")
		same("XTRIM", "n", "MAXLEN", "~", "450")
		same("XTRIM", "n", "MINID", "~", "1100")
		same("XTRIM", "n", "MAXLEN", "~", "10", "LIMIT", "30")
		same("XINFO", "STREAM", "n")
		same("XADD", "n", "MAXLEN", "~", "100", "9999-0", "a", "1")
		same("XINFO", "STREAM", "n")
	}
	// A limit changed under an existing stream applies to its next appends.
	for _, c := range []*respClient{wc, rc} {
		c.mustDo(t, "CONFIG", "SET", "stream-node-max-entries", "3")
	}
	for i := 0; i < 20; i++ {
		same("XADD", "n", "10000-"+strconv.Itoa(i), "a", "1")
	}
	same("XINFO", "STREAM", "n")
}

// TestStreamRESP3MatchesRedis: the replies' RESP3 types (maps for XINFO and
// XREAD, nulls) are Redis's.
func TestStreamRESP3MatchesRedis(t *testing.T) {
	_, addr := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	wc, rc := dialResp(t, addr), dialResp(t, rs.Addr)
	for _, c := range []*respClient{wc, rc} {
		c.mustDo(t, "HELLO", "3")
	}
	for _, args := range [][]string{
		{"XADD", "s", "1-0", "a", "1"},
		{"XADD", "s", "2-0", "b", "2"},
		{"XADD", "s", "NOMKSTREAM", "nos", "1-0", "a", "1"},
		{"XADD", "nos", "NOMKSTREAM", "1-0", "a", "1"},
		{"XRANGE", "s", "-", "+"},
		{"XRANGE", "s", "-", "+", "COUNT", "0"},
		{"XREAD", "STREAMS", "s", "nos", "0", "0"},
		{"XREAD", "STREAMS", "s", "9-0"},
		{"XGROUP", "CREATE", "s", "g", "0"},
		{"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"},
		{"XDEL", "s", "1-0"},
		{"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"},
		{"XPENDING", "s", "g"},
		{"XPENDING", "s", "g", "IDLE", "99999", "-", "+", "5"},
		{"XINFO", "STREAM", "s"},
		{"XINFO", "GROUPS", "s"},
		{"XAUTOCLAIM", "s", "g", "d", "0", "0", "JUSTID"},
		{"XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"},
		{"XINFO", "STREAM", "e"},
		{"XINFO", "STREAM", "e", "FULL"},
		{"XINFO", "GROUPS", "e"},
		{"XPENDING", "e", "g"},
	} {
		g, w := wc.mustDo(t, args...).String(), rc.mustDo(t, args...).String()
		if g != w {
			t.Errorf("%q:\n  warden %s\n  redis  %s", args, g, w)
		}
	}
}

// TestStreamBlockedAfterDifferentIDs: a client blocked after an ID the new
// entry does not pass keeps waiting without holding up the clients behind
// it, which are served in order.
func TestStreamBlockedAfterDifferentIDs(t *testing.T) {
	s, addr := startServer(t, "save", "")
	ctx := context.Background()
	c := newClient(t, addr)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "1-0", Values: []string{"f", "v"}})
	future := make(chan []redis.XStream, 1)
	go func() {
		r, _ := newClient(t, addr).XRead(ctx, &redis.XReadArgs{Streams: []string{"k", "100-0"}, Block: 0}).Result()
		future <- r
	}()
	waitBlocked(t, s, 1)
	now := make(chan []redis.XStream, 1)
	go func() {
		r, _ := newClient(t, addr).XRead(ctx, &redis.XReadArgs{Streams: []string{"k", "$"}, Block: 0}).Result()
		now <- r
	}()
	waitBlocked(t, s, 2)
	c.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "2-0", Values: []string{"f", "v"}})
	recv := func(ch chan []redis.XStream, who string) []redis.XStream {
		t.Helper()
		select {
		case r := <-ch:
			return r
		case <-time.After(30 * time.Second):
			t.Fatalf("the client blocked at %s was not served", who)
		}
		return nil
	}
	if r := recv(now, "$"); len(r) != 1 || r[0].Messages[0].ID != "2-0" {
		t.Fatalf("client blocked at $: %+v", r)
	}
	c.XAdd(ctx, &redis.XAddArgs{Stream: "k", ID: "101-0", Values: []string{"f", "v"}})
	if r := recv(future, "100-0"); len(r) != 1 || r[0].Messages[0].ID != "101-0" {
		t.Fatalf("client blocked at 100-0: %+v", r)
	}
}
