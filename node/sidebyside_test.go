package node

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
)

// pair is one warden and one real redis-server fed the same commands.
type pair struct {
	w, r *respClient
}

// newPair starts warden and redis-server 7.0 side by side (skipped, with
// the reason, when redis-server is not installed).
func newPair(t *testing.T) *pair {
	t.Helper()
	rs := redistest.Start(t, "", "--enable-debug-command", "yes")
	_, addr := startServer(t, "save", "", "enable-debug-command", "yes")
	return &pair{w: dialResp(t, addr), r: dialResp(t, rs.Addr)}
}

// same runs each command on both servers and fails on any textual
// difference of the replies (errors included).
func (p *pair) same(t *testing.T, cmds ...[]string) {
	t.Helper()
	for _, args := range cmds {
		got, want := p.w.mustDo(t, args...), p.r.mustDo(t, args...)
		if got.String() != want.String() {
			t.Errorf("%q:\n warden %.400s\n redis  %.400s", strings.Join(args, " "), got, want)
		}
	}
}

// both runs a command on both servers without comparing (setup).
func (p *pair) both(t *testing.T, args ...string) {
	t.Helper()
	p.w.mustDo(t, args...)
	p.r.mustDo(t, args...)
}

// cmds splits each line on spaces into a command.
func cmds(lines ...string) [][]string {
	out := make([][]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Fields(l)
	}
	return out
}

// dataCmds are the commands of issue 14's data families registered here.
var dataCmds = []string{"pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest",
	"geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
	"bitop", "bitfield", "bitfield_ro",
	"sort", "sort_ro", "lcs"}

// TestDataCommandMeta checks the registration of the data families against
// a running redis-server 7.0's COMMAND INFO: arity, key positions and the
// flags dispatch relies on.
func TestDataCommandMeta(t *testing.T) {
	srv, _ := startServer(t, "save", "")
	rs := redistest.Start(t, "")
	rc := dialResp(t, rs.Addr)
	for _, name := range dataCmds {
		cmd := srv.cmds[name]
		if cmd == nil {
			t.Errorf("%s is not registered", name)
			continue
		}
		info := rc.mustDo(t, "COMMAND", "INFO", name).Elems[0]
		if info.Null {
			t.Fatalf("redis-server does not know %s", name)
		}
		arity, _ := strconv.Atoi(info.Elems[1].Str)
		first, _ := strconv.Atoi(info.Elems[3].Str)
		last, _ := strconv.Atoi(info.Elems[4].Str)
		step, _ := strconv.Atoi(info.Elems[5].Str)
		if cmd.Arity != arity {
			t.Errorf("%s: arity %d, redis %d", name, cmd.Arity, arity)
		}
		if cmd.KeyFn == nil && (cmd.FirstKey != first || cmd.FirstKey > 0 && (cmd.LastKey != last || cmd.Step != step)) {
			t.Errorf("%s: keys %d %d %d, redis %d %d %d", name, cmd.FirstKey, cmd.LastKey, cmd.Step, first, last, step)
		}
		flags := map[string]bool{}
		for _, f := range info.Elems[2].Elems {
			flags[f.Str] = true
		}
		for _, f := range []struct {
			bit  Flags
			name string
		}{{fWrite, "write"}, {fReadonly, "readonly"}, {fDenyOOM, "denyoom"}, {fAdmin, "admin"}, {fFast, "fast"}, {fNoScript, "noscript"}} {
			if got := cmd.Flags&f.bit != 0; got != flags[f.name] {
				t.Errorf("%s: %s %v, redis %v", name, f.name, got, flags[f.name])
			}
		}
		if got := cmd.KeyFn != nil; got != flags["movablekeys"] {
			t.Errorf("%s: movablekeys %v, redis %v", name, got, flags["movablekeys"])
		}
	}
}

// FuzzDataCommands sends random argument vectors to the data families'
// commands (parsers of BITFIELD, GEOSEARCH, SORT, LCS, PF*): each must give
// one well-formed reply that is not an internal error (a recovered panic).
func FuzzDataCommands(f *testing.F) {
	_, addr := startServer(f, "save", "")
	for _, sd := range []string{
		"bitfield\x00k\x00set\x00i64\x00#3\x00-1\x00overflow\x00sat\x00incrby\x00u63\x000\x009223372036854775807",
		"bitfield_ro\x00k\x00get\x00u8\x00#99999999999",
		"geoadd\x00g\x00nx\x0013.3\x0038.1\x00m", "geosearch\x00g\x00frommember\x00m\x00bybox\x001e308\x001\x00km\x00count\x001\x00any",
		"georadius\x00g\x000\x0085\x001e30\x00m\x00store\x00d", "pfadd\x00h\x00a", "pfmerge\x00h\x00h", "pfdebug\x00getreg\x00h",
		"sort\x00l\x00by\x00w_*->f\x00get\x00#\x00limit\x000\x00-1\x00alpha\x00store\x00d", "lcs\x00a\x00b\x00idx\x00minmatchlen\x00-5\x00withmatchlen",
		"bitop\x00xor\x00d\x00a\x00b",
	} {
		f.Add(sd)
	}
	c := dialResp(f, addr)
	c.mustDo(f, "set", "a", "ohmytext")
	c.mustDo(f, "set", "b", "mynewtext")
	c.mustDo(f, "rpush", "l", "3", "1", "2")
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		if len(args) == 0 || len(args) > 32 {
			return
		}
		if !slices.Contains(dataCmds, strings.ToLower(args[0])) {
			if len(args[0]) == 0 {
				return
			}
			args[0] = dataCmds[int(args[0][0])%len(dataCmds)]
		}
		if strings.EqualFold(args[0], "pfselftest") {
			return // slow by design
		}
		for _, a := range args[1:] {
			// Offsets up to proto-max-bulk-len are valid and would build
			// 512 MB strings: keep the fuzzer's values small.
			if n, err := strconv.ParseInt(strings.TrimPrefix(a, "#"), 10, 64); err == nil && (n > 1<<16 || n < -1<<16) {
				return
			}
		}
		v, err := c.do(10*time.Second, args...)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if strings.Contains(v.String(), "internal error") {
			t.Fatalf("%q: %v", args, v)
		}
		if v, err := c.do(10*time.Second, "ping"); err != nil || v.String() != "+PONG" {
			t.Fatalf("after %q: PING %v %v", args, v, err)
		}
	})
}
