package node

import (
	"strconv"
	"strings"
	"testing"

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
	"geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"}

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
