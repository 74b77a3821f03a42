package acl

import (
	"errors"
	"strings"
	"testing"
)

// testCatalog is a small command set with Redis 7.0's categories for
// these commands.
func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	defs := []CommandDef{
		{Name: "get", Categories: []string{"@read", "@string", "@fast"}},
		{Name: "set", Categories: []string{"@write", "@string", "@slow"}},
		{Name: "hget", Categories: []string{"@read", "@hash", "@fast"}},
		{Name: "hset", Categories: []string{"@write", "@hash", "@fast"}},
		{Name: "hdel", Categories: []string{"@write", "@hash", "@fast"}},
		{Name: "select", Categories: []string{"@fast", "@connection"}},
		{Name: "auth", Categories: []string{"@fast", "@connection"}},
		{Name: "publish", Categories: []string{"@pubsub", "@fast"}},
		{Name: "psubscribe", Categories: []string{"@pubsub", "@slow"}},
		{Name: "config", Categories: []string{"@slow"}},
		{Name: "config|get", Categories: []string{"@admin", "@slow", "@dangerous"}},
		{Name: "config|set", Categories: []string{"@admin", "@slow", "@dangerous"}},
		{Name: "client", Categories: []string{"@slow"}},
		{Name: "client|kill", Categories: []string{"@admin", "@slow", "@dangerous", "@connection"}},
		{Name: "client|id", Categories: []string{"@slow", "@connection"}},
	}
	c, err := NewCatalog(defs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSetUserDescribe(t *testing.T) {
	cat := testCatalog(t)
	const h1 = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a" // sha256("p1")
	cases := []struct {
		rules []string
		want  string
	}{
		{nil, "off resetchannels -@all"},
		{[]string{"on", ">p1", "~foo*", "%R~bar", "%W~baz", "&ch*", "+get"}, "on #" + h1 + " ~foo* %R~bar %W~baz resetchannels &ch* -@all +get"},
		{[]string{"+@all", "-get", "allkeys", "allchannels"}, "off ~* &* +@all -get"},
		{[]string{"+config|get", "+client", "-client|kill", "nopass", "on"}, "on nopass resetchannels -@all +client -client|kill +config|get"},
		{[]string{"+@hash", "-hdel", "+select|0"}, "off resetchannels -@all +@hash -hdel +select|0"},
		{[]string{"~a", "%R~a"}, "off ~a resetchannels -@all"},
		{[]string{"%RW~a"}, "off ~a resetchannels -@all"},
		{[]string{"allkeys", "resetkeys", "~x"}, "off ~x resetchannels -@all"},
		{[]string{"(+set ~x*)"}, "off resetchannels -@all (~x* resetchannels -@all +set)"},
		{[]string{"(+set", "~x*)", "clearselectors"}, "off resetchannels -@all"},
		{[]string{"on", "nopass", "reset"}, "off sanitize-payload resetchannels -@all"},
		{[]string{">p1", "<p1"}, "off resetchannels -@all"},
		{[]string{"#" + h1, "nopass"}, "off nopass resetchannels -@all"},
		{[]string{"+@all", "-@all", "+get"}, "off resetchannels -@all +get"},
		{[]string{"skip-sanitize-payload"}, "off skip-sanitize-payload resetchannels -@all"},
	}
	for _, tc := range cases {
		s := NewStore(cat)
		if err := s.SetUser("u", tc.rules); err != nil {
			t.Fatalf("%q: %v", tc.rules, err)
		}
		if got := s.User("u").Describe(cat); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.rules, got, tc.want)
		}
	}
}

func TestSetUserErrors(t *testing.T) {
	cat := testCatalog(t)
	cases := []struct {
		rules []string
		want  string
	}{
		{[]string{"+nosuch"}, "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{[]string{"foo"}, "Error in ACL SETUSER modifier 'foo': Syntax error"},
		{[]string{"+@nosuch"}, "Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"},
		{[]string{"%X~a"}, "Error in ACL SETUSER modifier '%X~a': Syntax error"},
		{[]string{"(foo"}, "Unmatched parenthesis in acl selector starting at '(foo'."},
		{[]string{"allkeys", "~a"}, "Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{[]string{"&*", "&a"}, "Error in ACL SETUSER modifier '&a': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"},
		{[]string{"<nope"}, "Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist"},
		{[]string{"#abc"}, "Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{[]string{"+config|get|x"}, "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"},
		{[]string{"+select|"}, "Error in ACL SETUSER modifier '+select|': Syntax error"},
		{[]string{"-select|0"}, "Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"},
		{[]string{"(+nosuch)"}, "Error in ACL SETUSER modifier '(+nosuch)': Unknown command or category name in ACL"},
	}
	for _, tc := range cases {
		s := NewStore(cat)
		err := s.SetUser("u", tc.rules)
		var re *RuleError
		if !errors.As(err, &re) || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %q", tc.rules, err, tc.want)
		}
		if s.User("u") != nil {
			t.Errorf("%q: a failed SETUSER created the user", tc.rules)
		}
	}
}

func TestCheck(t *testing.T) {
	cat := testCatalog(t)
	s := NewStore(cat)
	if err := s.SetUser("u", []string{"on", "nopass", "~k*", "%R~r*", "&c*", "+get", "+set", "+publish", "+psubscribe", "+select|0", "(+hset ~h*)"}); err != nil {
		t.Fatal(err)
	}
	u := s.User("u")
	id := func(n string) int { i, _ := cat.ID(n); return i }
	key1 := func(perm KeyPerm) []KeyRef { return []KeyRef{{Pos: 1, Perm: perm}} }
	ch1 := func(pat bool) []ChannelRef { return []ChannelRef{{Pos: 1, Pattern: pat}} }
	cases := []struct {
		name string
		r    Request
		want Reason
		pos  int
	}{
		{"get allowed key", Request{ID: id("get"), Args: [][]byte{[]byte("get"), []byte("k1")}, Keys: key1(PermRead)}, OK, 0},
		{"get read-only pattern", Request{ID: id("get"), Args: [][]byte{[]byte("get"), []byte("r1")}, Keys: key1(PermRead)}, OK, 0},
		{"set read-only pattern", Request{ID: id("set"), Args: [][]byte{[]byte("set"), []byte("r1")}, Keys: key1(PermWrite)}, DeniedKey, 1},
		{"get other key", Request{ID: id("get"), Args: [][]byte{[]byte("get"), []byte("x")}, Keys: key1(PermRead)}, DeniedKey, 1},
		{"hget denied", Request{ID: id("hget"), Args: [][]byte{[]byte("hget"), []byte("k")}, Keys: key1(PermRead)}, DeniedCommand, 0},
		{"hset selector", Request{ID: id("hset"), Args: [][]byte{[]byte("hset"), []byte("h1")}, Keys: key1(PermWrite)}, OK, 0},
		{"hset selector wrong key", Request{ID: id("hset"), Args: [][]byte{[]byte("hset"), []byte("k1")}, Keys: key1(PermWrite)}, DeniedKey, 1},
		{"select 0", Request{ID: id("select"), Args: [][]byte{[]byte("select"), []byte("0")}}, OK, 0},
		{"select 1", Request{ID: id("select"), Args: [][]byte{[]byte("select"), []byte("1")}}, DeniedCommand, 0},
		{"publish ok", Request{ID: id("publish"), Args: [][]byte{[]byte("publish"), []byte("c1")}, Channels: ch1(false)}, OK, 0},
		{"publish denied", Request{ID: id("publish"), Args: [][]byte{[]byte("publish"), []byte("x")}, Channels: ch1(false)}, DeniedChannel, 1},
		{"psubscribe literal", Request{ID: id("psubscribe"), Args: [][]byte{[]byte("psubscribe"), []byte("c*")}, Channels: ch1(true)}, OK, 0},
		{"psubscribe narrower", Request{ID: id("psubscribe"), Args: [][]byte{[]byte("psubscribe"), []byte("c1*")}, Channels: ch1(true)}, DeniedChannel, 1},
		{"auth no_auth", Request{ID: id("auth"), NoAuth: true, Args: [][]byte{[]byte("auth"), []byte("x")}}, OK, 0},
	}
	for _, tc := range cases {
		got, pos := u.Check(cat, &tc.r)
		if got != tc.want || pos != tc.pos {
			t.Errorf("%s: got %v@%d, want %v@%d", tc.name, got, pos, tc.want, tc.pos)
		}
	}
	if !s.Default().AllowsAll() || u.AllowsAll() {
		t.Fatal("AllowsAll: default should allow all, u should not")
	}
}

func TestAuthenticate(t *testing.T) {
	s := NewStore(testCatalog(t))
	if s.Authenticate("default", []byte("anything")) == nil {
		t.Fatal("nopass default refused")
	}
	s.SetDefaultPassword("secret")
	if s.Authenticate("default", []byte("x")) != nil || s.Authenticate("default", []byte("secret")) == nil {
		t.Fatal("requirepass not applied to default")
	}
	if err := s.SetUser("u", []string{">pw"}); err != nil {
		t.Fatal(err)
	}
	if s.Authenticate("u", []byte("pw")) != nil {
		t.Fatal("disabled user authenticated")
	}
	_ = s.SetUser("u", []string{"on"})
	if s.Authenticate("u", []byte("pw")) == nil || s.Authenticate("u", []byte("no")) != nil || s.Authenticate("nouser", []byte("pw")) != nil {
		t.Fatal("on user: wrong result")
	}
	u := s.User("u")
	if del, err := s.DelUser("u"); err != nil || len(del) != 1 {
		t.Fatalf("DelUser: %v %v", del, err)
	}
	if u.CheckPassword([]byte("pw")) || !u.Deleted() {
		t.Fatal("deleted user still authenticates")
	}
	if _, err := s.DelUser("default"); err != ErrDeleteDefault {
		t.Fatalf("DelUser default: %v", err)
	}
}

func TestFileRoundTripAndErrors(t *testing.T) {
	cat := testCatalog(t)
	s := NewStore(cat)
	_ = s.SetUser("a", []string{"on", ">x", "~k*", "%R~r", "&c", "+@hash", "-hdel", "+select|0", "(+set ~s*)"})
	_ = s.SetUser("b", []string{"+@all", "-config|set", "allkeys"})
	saved := s.Save()
	s2 := NewStore(cat)
	if _, err := s2.Load("users.acl", saved); err != nil {
		t.Fatal(err)
	}
	if got := string(s2.Save()); got != string(saved) {
		t.Fatalf("round trip:\n%s\nvs\n%s", got, saved)
	}
	bad := "user default on nopass ~* &* +@all\nuser a on >x ~* +get\nuser b on +nosuch\nuser c foo\nbogus line\nuser\nuser a on\n"
	_, err := s2.Load("/tmp/users.acl", []byte(bad))
	want := "/tmp/users.acl:3: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
		"/tmp/users.acl:4: Syntax error. /tmp/users.acl:5 should start with user keyword followed by the username. " +
		"/tmp/users.acl:6 should start with user keyword followed by the username. WARNING: Duplicate user 'a' found on line 7. " +
		"WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	if err == nil || err.Error() != want {
		t.Fatalf("load errors:\n got %v\nwant %s", err, want)
	}
	if got := string(s2.Save()); got != string(saved) {
		t.Fatal("a failed load changed the users")
	}
	// Loading without a default user resets it.
	_ = s2.SetUser("default", []string{">pw"})
	if _, err := s2.Load("f", []byte("user z on nopass\n")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s2.List(), "\n"); got != "user default on nopass ~* &* +@all\nuser z on nopass resetchannels -@all" {
		t.Fatalf("after load: %q", got)
	}
}

func TestLogMerge(t *testing.T) {
	var l Log
	e := LogEntry{Reason: DeniedKey, Context: "toplevel", Object: "k", Username: "u"}
	l.Add(e, 128)
	l.Add(LogEntry{Reason: DeniedCommand, Context: "toplevel", Object: "get", Username: "u"}, 128)
	l.Add(e, 128)
	got := l.Entries(-1)
	if len(got) != 2 || got[0].Object != "k" || got[0].Count != 2 || got[1].Count != 1 {
		t.Fatalf("entries: %+v", got)
	}
	for i := 0; i < 5; i++ {
		l.Add(LogEntry{Reason: DeniedKey, Object: strings.Repeat("x", i+1)}, 3)
	}
	if n := len(l.Entries(-1)); n != 3 {
		t.Fatalf("max len: %d entries", n)
	}
}

// FuzzSetUser: any rules either fail cleanly or give a user whose
// description, applied to a fresh user, describes the same (the ACL
// file round trip), without panics.
func FuzzSetUser(f *testing.F) {
	cat := testCatalog(f)
	for _, seed := range []string{"on >p ~a* %R~b &c +get", "+@all -get", "(+set ~x) clearselectors", "%RW~x +select|0 -@hash", "reset nopass", "(foo", "%~", "+config|get|x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rules string) {
		if len(rules) > 512 {
			return
		}
		s := NewStore(cat)
		if err := s.SetUser("u", strings.Split(rules, " ")); err != nil {
			return
		}
		d := s.User("u").Describe(cat)
		s2 := NewStore(cat)
		if _, err := s2.Load("f", []byte("user u "+d+"\n")); err != nil {
			t.Fatalf("rules %q described as %q, which does not load: %v", rules, d, err)
		}
		if d2 := s2.User("u").Describe(cat); d2 != d {
			t.Fatalf("rules %q: %q reloads as %q", rules, d, d2)
		}
	})
}

// BenchmarkCheck is the per-command cost: the default user (one atomic
// load) and a limited user (bitmap test plus one key pattern).
func BenchmarkCheck(b *testing.B) {
	cat := testCatalog(b)
	s := NewStore(cat)
	if err := s.SetUser("u", []string{"on", "nopass", "~k*", "+@read", "+@write"}); err != nil {
		b.Fatal(err)
	}
	id, _ := cat.ID("get")
	args := [][]byte{[]byte("get"), []byte("k1")}
	keys := []KeyRef{{Pos: 1, Perm: PermRead}}
	r := &Request{ID: id, Args: args, Keys: keys}
	for _, bc := range []struct {
		name string
		u    *User
	}{{"default", s.Default()}, {"limited", s.User("u")}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if res, _ := bc.u.Check(cat, r); res != OK {
					b.Fatal(res)
				}
			}
		})
	}
}
