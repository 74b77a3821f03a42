package raftfsm

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestSlogLevel(t *testing.T) {
	for _, c := range []struct {
		in   hclog.Level
		want slog.Level
	}{
		{hclog.Trace, slog.LevelDebug - 4},
		{hclog.Debug, slog.LevelDebug},
		{hclog.Info, slog.LevelInfo},
		{hclog.Warn, slog.LevelWarn},
		{hclog.Error, slog.LevelError},
		{hclog.NoLevel, slog.LevelInfo},
	} {
		if got := slogLevel(c.in); got != c.want {
			t.Errorf("slogLevel(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// Raft's lines reach slog once each: at their own level, without hclog's
// prefix or timestamp, with one component key and Raft's pairs as attrs;
// lines below the handler's level are dropped.
func TestHCLoggerLines(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHCLogger("raft", log)
	h.Error("failed to contact", "server-id", "n2", "error", "dial tcp: refused")
	h.Warn("heartbeat timeout reached, starting election", "last-leader-id", "")
	h.Info("initial configuration", "servers", hclog.Fmt("%+v", []int{1, 2}))
	h.Debug("noise")
	h.Named("snapshot").Info("retained")
	h.With("peer", "n3").Info("pipelining replication")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`level=ERROR msg="failed to contact" component=raft server-id=n2 error="dial tcp: refused"`,
		`level=WARN msg="heartbeat timeout reached, starting election" component=raft last-leader-id=""`,
		`level=INFO msg="initial configuration" component=raft servers="[1 2]"`,
		`level=INFO msg=retained component=raft.snapshot`,
		`level=INFO msg="pipelining replication" component=raft peer=n3`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, l := range lines {
		if !strings.HasSuffix(l, want[i]) {
			t.Errorf("line %d = %q, want it to end %q", i, l, want[i])
		}
		if strings.Count(l, "component=") != 1 || strings.Contains(l, "[ERROR]") || strings.Contains(l, "raft: ") {
			t.Errorf("line %d = %q: doubled prefix or component", i, l)
		}
	}
}
