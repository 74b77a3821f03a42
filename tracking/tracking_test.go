package tracking

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// conn records the frames pushed to it.
type conn struct {
	mu     sync.Mutex
	resp3  bool
	sub    bool
	closed bool
	frames []string
}

func (c *conn) RESP3() bool      { return c.resp3 }
func (c *conn) Subscribed() bool { return c.sub }
func (c *conn) Closed() bool     { return c.closed }
func (c *conn) Push(f []byte) {
	c.mu.Lock()
	c.frames = append(c.frames, string(f))
	c.mu.Unlock()
}

func (c *conn) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames = nil
	return f
}

func inv(keys ...string) string {
	return ">2\r\n$10\r\ninvalidate\r\n" + string(appendKeys(nil, bs(keys...)))
}

func bs(keys ...string) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}

func same(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
}

func TestParse(t *testing.T) {
	target := &conn{}
	lookup := func(id int64) Conn {
		if id == 7 {
			return target
		}
		return nil
	}
	cases := []struct {
		args string
		err  error
		want Options
		on   bool
	}{
		{"on", nil, Options{}, true},
		{"OFF", nil, Options{}, false},
		{"on bcast prefix a prefix b noloop", nil, Options{BCast: true, NoLoop: true, Prefixes: bs("a", "b")}, true},
		{"on optin", nil, Options{OptIn: true}, true},
		{"on optout", nil, Options{OptOut: true}, true},
		{"on redirect 7", nil, Options{RedirectID: 7, Redirect: target}, true},
		{"on redirect 8", ErrNoRedirect, Options{}, false},
		{"on redirect 07", ErrNotInt, Options{}, false},
		{"on redirect +7", ErrNotInt, Options{}, false},
		{"on redirect 7 redirect 7", ErrRedirectTwice, Options{}, false},
		{"on redirect", ErrSyntax, Options{}, false},
		{"on prefix", ErrSyntax, Options{}, false},
		{"on what", ErrSyntax, Options{}, false},
		{"maybe", ErrSyntax, Options{}, false},
		{"maybe redirect 8", ErrNoRedirect, Options{}, false}, // options first, as Redis
	}
	for _, c := range cases {
		got, err := Parse(bs(strings.Fields(c.args)...), lookup)
		if !errors.Is(err, c.err) {
			t.Errorf("%q: err %v, want %v", c.args, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		if got.On != c.on || got.Options.BCast != c.want.BCast || got.Options.NoLoop != c.want.NoLoop ||
			got.Options.OptIn != c.want.OptIn || got.Options.OptOut != c.want.OptOut ||
			got.Options.RedirectID != c.want.RedirectID || got.Options.Redirect != c.want.Redirect ||
			len(got.Options.Prefixes) != len(c.want.Prefixes) {
			t.Errorf("%q: got %+v", c.args, got)
		}
	}
}

func TestEnableErrors(t *testing.T) {
	cases := []struct {
		first, second Options
		err           string
	}{
		{Options{}, Options{Prefixes: bs("a")}, "requires BCAST"},
		{Options{}, Options{BCast: true}, "switch BCAST"},
		{Options{BCast: true}, Options{}, "switch BCAST"},
		{Options{}, Options{BCast: true, OptIn: true}, "switch BCAST"},
		{Options{}, Options{OptIn: true, OptOut: true}, "both OPTIN"},
		{Options{OptIn: true}, Options{OptOut: true}, "switch OPTIN/OPTOUT"},
		{Options{BCast: true, Prefixes: bs("ab")}, Options{BCast: true, Prefixes: bs("a")}, "Prefix 'a' overlaps with an existing prefix 'ab'"},
		{Options{BCast: true, Prefixes: bs("x")}, Options{BCast: true, Prefixes: bs("b", "bc")}, "Prefix 'b' overlaps with another provided prefix 'bc'"},
		{Options{BCast: true}, Options{BCast: true, Prefixes: bs("q")}, "overlaps with an existing prefix ''"},
	}
	for _, c := range cases {
		tb := New()
		if err := tb.Enable(1, &conn{}, c.first); err != nil {
			t.Fatalf("%+v: %v", c.first, err)
		}
		err := tb.Enable(1, &conn{}, c.second)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%+v then %+v: %v, want %q", c.first, c.second, err, c.err)
		}
	}
}

func TestInvalidate(t *testing.T) {
	tb := New()
	a, b := &conn{resp3: true}, &conn{resp3: true}
	tb.Enable(1, a, Options{})
	tb.Enable(2, b, Options{NoLoop: true})
	tb.Remember(1, bs("k", "j"))
	tb.Remember(2, bs("k"))
	tb.Remember(2, bs("k")) // once per client
	if st := tb.Stats(); st != (Stats{Clients: 2, Keys: 2, Items: 3}) {
		t.Fatalf("stats %+v", st)
	}
	tb.Invalidate(2, []byte("k")) // client 2 wrote it: NOLOOP
	same(t, "a", a.take(), inv("k"))
	same(t, "b", b.take())
	tb.Invalidate(3, []byte("k")) // forgotten after the first change
	same(t, "a again", a.take())
	if st := tb.Stats(); st != (Stats{Clients: 2, Keys: 1, Items: 1}) {
		t.Fatalf("stats %+v", st)
	}
	// A running command receives its invalidations after its reply.
	tb.Begin(1)
	tb.Invalidate(1, []byte("j"))
	same(t, "a while running", a.take())
	tb.End(1)
	same(t, "a after End", a.take(), inv("j"))
	// Tracking off: the keys stay, nothing is sent.
	tb.Remember(1, bs("x"))
	tb.Disable(1)
	tb.Invalidate(0, []byte("x"))
	same(t, "a off", a.take())
}

func TestOptInOut(t *testing.T) {
	tb := New()
	a := &conn{resp3: true}
	tb.Enable(1, a, Options{OptIn: true})
	tb.Remember(1, bs("no"))
	tb.Caching(1, true)
	tb.Remember(1, bs("yes"))
	tb.ResetCaching(1)
	tb.Remember(1, bs("no2"))
	if err := tb.Caching(1, false); !errors.Is(err, ErrCachingNo) {
		t.Fatal(err)
	}
	for _, k := range []string{"no", "yes", "no2"} {
		tb.Invalidate(0, []byte(k))
	}
	same(t, "optin", a.take(), inv("yes"))
	tb.Disable(1)
	if err := tb.Caching(1, true); !errors.Is(err, ErrCachingMode) {
		t.Fatal(err)
	}
	tb.Enable(1, a, Options{OptOut: true})
	tb.Caching(1, false)
	tb.Remember(1, bs("no"))
	tb.ResetCaching(1)
	tb.Remember(1, bs("yes"))
	for _, k := range []string{"no", "yes"} {
		tb.Invalidate(0, []byte(k))
	}
	same(t, "optout", a.take(), inv("yes"))
}

func TestBroadcast(t *testing.T) {
	tb := New()
	a, b, all := &conn{resp3: true}, &conn{resp3: true}, &conn{resp3: true}
	tb.Enable(1, a, Options{BCast: true, Prefixes: bs("u:", "o:")})
	tb.Enable(2, b, Options{BCast: true, NoLoop: true, Prefixes: bs("u:")})
	tb.Enable(3, all, Options{BCast: true})
	for _, k := range []string{"u:2", "o:1", "x", "u:1"} {
		tb.Invalidate(9, []byte(k))
	}
	tb.Invalidate(2, []byte("u:3")) // b's own write
	tb.Broadcast()
	same(t, "a", a.take(), inv("o:1"), inv("u:1", "u:2", "u:3"))
	same(t, "b", b.take(), inv("u:1", "u:2"))
	same(t, "all", all.take(), inv("o:1", "u:1", "u:2", "u:3", "x"))
	tb.Broadcast()
	same(t, "nothing new", a.take())
	if st := tb.Stats(); st.Prefixes != 3 || st.Keys != 0 {
		t.Fatalf("stats %+v", st)
	}
	tb.Disable(1)
	tb.Gone(3)
	if st := tb.Stats(); st.Prefixes != 1 || st.Clients != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRedirectAndFlush(t *testing.T) {
	tb := New()
	sub := &conn{sub: true}
	r3 := &conn{resp3: true}
	c2 := &conn{}
	tb.Enable(1, c2, Options{RedirectID: 5, Redirect: sub})
	tb.Enable(2, r3, Options{})
	tb.Remember(1, bs("k"))
	tb.Invalidate(0, []byte("k"))
	same(t, "RESP2 redirect", sub.take(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n")
	tb.Flush()
	same(t, "flush RESP2", sub.take(), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n")
	same(t, "flush RESP3", r3.take(), ">2\r\n$10\r\ninvalidate\r\n_\r\n")
	// A RESP3 client whose redirect target left is told so.
	tb.Enable(2, r3, Options{RedirectID: 5, Redirect: sub})
	sub.closed = true
	tb.Remember(2, bs("k"))
	tb.Invalidate(0, []byte("k"))
	same(t, "broken", r3.take(), ">2\r\n$21\r\ntracking-redir-broken\r\n:5\r\n")
	if in := tb.ClientInfo(2); !in.Broken || strings.Join(in.Flags, ",") != "on,broken_redirect" || in.Redirect != 5 {
		t.Fatalf("info %+v", in)
	}
	// A RESP2 redirect target that is not subscribed receives nothing.
	plain := &conn{}
	tb.Enable(1, c2, Options{RedirectID: 6, Redirect: plain})
	tb.Remember(1, bs("z"))
	tb.Invalidate(0, []byte("z"))
	same(t, "not subscribed", plain.take())
}

func TestLimit(t *testing.T) {
	tb := New()
	a := &conn{resp3: true}
	tb.Enable(1, a, Options{})
	tb.SetMaxKeys(2)
	tb.Remember(1, bs("a", "b", "c", "d", "e"))
	tb.Limit()
	if st := tb.Stats(); st.Keys != 2 || st.Items != 2 {
		t.Fatalf("stats %+v", st)
	}
	if got := a.take(); len(got) != 3 {
		t.Fatalf("evictions sent %q, want 3", got)
	}
	tb.SetMaxKeys(0)
	tb.Remember(1, bs("f", "g", "h"))
	tb.Limit()
	if st := tb.Stats(); st.Keys != 5 {
		t.Fatalf("no limit: stats %+v", st)
	}
}

// TestConcurrent: writers, readers and mode switches at once (run with
// -race); every remembered key is invalidated exactly once per change.
func TestConcurrent(t *testing.T) {
	tb := New()
	var wg sync.WaitGroup
	conns := make([]*conn, 8)
	for i := range conns {
		conns[i] = &conn{resp3: true}
		tb.Enable(int64(i+1), conns[i], Options{NoLoop: i%2 == 0})
	}
	for i := range conns {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			for n := 0; n < 500; n++ {
				k := []byte{'k', byte(n % 17)}
				tb.Begin(id)
				tb.Remember(id, [][]byte{k})
				tb.Invalidate(id, k)
				tb.End(id)
				tb.Broadcast()
				tb.Limit()
			}
		}(int64(i + 1))
	}
	wg.Wait()
	tb.Flush()
	if st := tb.Stats(); st.Keys != 0 || st.Items != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// BenchmarkRememberInvalidate: one tracked read and the write that
// invalidates it (a push to a RESP3 connection).
func BenchmarkRememberInvalidate(b *testing.B) {
	tb := New()
	a := &conn{resp3: true}
	tb.Enable(1, a, Options{})
	k := [][]byte{[]byte("key:1")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tb.Remember(1, k)
		tb.Invalidate(2, k[0])
		if len(a.frames) > 1024 {
			a.take()
		}
	}
}

// BenchmarkInvalidateUntracked: a write to a key nobody read while a
// client tracks others (the common write path once tracking is used).
func BenchmarkInvalidateUntracked(b *testing.B) {
	tb := New()
	tb.Enable(1, &conn{resp3: true}, Options{})
	tb.Remember(1, [][]byte{[]byte("other")})
	k := []byte("key:1")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		tb.Invalidate(2, k)
	}
}
