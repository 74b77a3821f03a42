package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadFileThenFlags(t *testing.T) {
	f := filepath.Join(t.TempDir(), "redis.conf")
	os.WriteFile(f, []byte("# a comment\n\nport 7000\nsave 900 1 300 10\nrequirepass \"a b\\x41\"\nmaxmemory 1mb\n"), 0o644)
	c := New()
	if err := c.Load(f, []string{"--port", "7001", "--save", ""}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"port": "7001", "save": "", "requirepass": "a bA", "maxmemory": "1048576", "databases": "16"} {
		if got := c.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestUnknownAndInvalid(t *testing.T) {
	c := New()
	if err := c.Load("", []string{"--bogus", "1"}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown directive: %v", err)
	}
	for _, args := range [][]string{{"--port", "x"}, {"--port", "70000"}, {"--appendonly", "maybe"}, {"--loglevel", "loud"}, {"--save", "1"}, {"stray"}} {
		if err := New().Load("", args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if err := c.Set("port", "7000", true); err == nil {
		t.Error("immutable port changed at run time")
	}
	if err := c.Set("maxmemory", "2gb", true); err != nil || c.Int("maxmemory") != 2<<30 {
		t.Errorf("maxmemory 2gb: %v %d", err, c.Int("maxmemory"))
	}
}

func TestMatch(t *testing.T) {
	c := New()
	got := c.Match("max*")
	if len(got) < 3 {
		t.Fatalf("max* matched %v", got)
	}
	for _, kv := range got {
		if kv[0][:3] != "max" {
			t.Errorf("max* matched %s", kv[0])
		}
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := SplitArgs(`set "a b" 'c d' e\x`)
	if err != nil || len(got) != 4 || got[1] != "a b" || got[2] != "c d" || got[3] != `e\x` {
		t.Fatalf("SplitArgs = %q %v", got, err)
	}
	if _, err := SplitArgs(`"unterminated`); err == nil {
		t.Fatal("unbalanced quotes accepted")
	}
}

func FuzzConfigLine(f *testing.F) {
	f.Add("port 6379")
	f.Add(`save "900 1"`)
	f.Add(`requirepass "\x41\"'`)
	f.Add("client-output-buffer-limit normal 1mb 2 3 replica 0 0 0")
	f.Add("slave-read-only no")
	f.Add("oom-score-adj-values 0 -2000 2000")
	f.Fuzz(func(t *testing.T, line string) {
		c := New()
		_ = c.applyLine(line) // must never panic
	})
}

// TestIntVarFollowsConfigSet: the cached value starts at the loaded one and
// follows a run-time CONFIG SET (memory units included); a refused value
// leaves it alone.
func TestIntVarFollowsConfigSet(t *testing.T) {
	c := New()
	if err := c.Load("", []string{"--stream-node-max-bytes", "2kb"}); err != nil {
		t.Fatal(err)
	}
	v := c.IntVar("stream-node-max-bytes")
	if v.Load() != 2048 {
		t.Fatalf("loaded %d, want 2048", v.Load())
	}
	if err := c.Set("STREAM-NODE-MAX-BYTES", "1mb", true); err != nil {
		t.Fatal(err)
	}
	if v.Load() != 1<<20 {
		t.Fatalf("after CONFIG SET: %d, want %d", v.Load(), 1<<20)
	}
	if err := c.Set("stream-node-max-bytes", "lots", true); err == nil {
		t.Fatal("a non-number was accepted")
	}
	if v.Load() != 1<<20 {
		t.Fatalf("after a refused set: %d", v.Load())
	}
}
