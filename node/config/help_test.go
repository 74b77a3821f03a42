package config

import (
	"bytes"
	"strings"
	"testing"
)

// Every directive has a one-line meaning: --help is generated from the table.
func TestEveryDirectiveHasUsage(t *testing.T) {
	for _, d := range directives {
		if d.Usage == "" || strings.Contains(d.Usage, "\n") {
			t.Errorf("directive %s: Usage %q, want one line", d.Name, d.Usage)
		}
	}
}

func TestWriteHelp(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHelp(&b); err != nil {
		t.Fatal(err)
	}
	table, compat, _ := strings.Cut(b.String(), "\n\n")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if !strings.Contains(compat, "activedefrag, ") {
		t.Errorf("help does not list the directives accepted without effect:\n%s", compat)
	}
	if len(lines) != len(directives)+1 {
		t.Fatalf("%d lines for %d directives:\n%s", len(lines), len(directives), b.String())
	}
	for _, want := range [][]string{
		{"port", "6379", "TCP port for clients", "[startup only]"},
		{"save", `"3600 1 300 100 60 10000"`, "RDB snapshot"},
		{"appendfsync", "everysec", "(always|everysec|no)"},
		{"requirepass", `""`, "password"},
	} {
		found := false
		for _, l := range lines {
			if f := strings.Fields(l); len(f) > 0 && f[0] == want[0] {
				found = true
				for _, w := range want[1:] {
					if !strings.Contains(l, w) {
						t.Errorf("help line %q lacks %q", l, w)
					}
				}
			}
		}
		if !found {
			t.Errorf("no help line for %s", want[0])
		}
	}
}

// --name=value is --name value; the value is everything after the first '='.
func TestFlagLinesEqualsForm(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{[]string{"--port=6390"}, map[string]string{"port": "6390"}},
		{[]string{"--port=6390", "--bind", "127.0.0.1", "::1"}, map[string]string{"port": "6390", "bind": "127.0.0.1 ::1"}},
		{[]string{"--requirepass=a=b c"}, map[string]string{"requirepass": "a=b c"}},
		{[]string{"--save="}, map[string]string{"save": ""}},
		{[]string{"--save=900 1", "--appendonly=yes"}, map[string]string{"save": "900 1", "appendonly": "yes"}},
	} {
		cfg := New()
		if err := cfg.Load("", c.args); err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		for k, v := range c.want {
			if got := cfg.Get(k); got != v {
				t.Errorf("%q: %s = %q, want %q", c.args, k, got, v)
			}
		}
	}
	if err := New().Load("", []string{"--port=x"}); err == nil {
		t.Error("--port=x accepted")
	}
}
