package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/redistest"
)

// busyTranscript drives a long script on the server at addr and returns
// what the other clients and the script's caller were told: BUSY for a
// PING, the KILL replies, the killed script's error; then a script that
// wrote: UNKILLABLE, SHUTDOWN refused, SHUTDOWN NOSAVE stops the server.
func busyTranscript(t *testing.T, addr string, stopped func() bool) []string {
	ctx := context.Background()
	var out []string
	errText := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		return err.Error()
	}
	long := func(script string) chan error {
		done := make(chan error, 1)
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, ReadTimeout: -1, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		go func() { done <- c.Eval(ctx, script, nil).Err() }()
		return done
	}
	other := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1, ReadTimeout: 30 * time.Second})
	t.Cleanup(func() { other.Close() })
	waitBusy := func() {
		waitFor(t, func() bool {
			err := other.Ping(ctx).Err()
			return err != nil && strings.HasPrefix(err.Error(), "BUSY")
		}, "BUSY from another client")
	}

	done := long("local i = 0 while true do i = i + 1 end")
	waitBusy()
	out = append(out, "ping: "+errText(other.Ping(ctx).Err()))
	out = append(out, "get: "+errText(other.Get(ctx, "x").Err()))
	out = append(out, "function kill: "+errText(other.Do(ctx, "function", "kill").Err()))
	out = append(out, "function stats: "+errText(other.Do(ctx, "function", "stats").Err()))
	out = append(out, "script kill: "+errText(other.Do(ctx, "script", "kill").Err()))
	select {
	case err := <-done:
		out = append(out, "killed script: "+errText(err))
	case <-time.After(30 * time.Second):
		t.Fatal("SCRIPT KILL did not stop the script")
	}
	out = append(out, "ping after: "+errText(other.Ping(ctx).Err()))
	out = append(out, "script kill idle: "+errText(other.Do(ctx, "script", "kill").Err()))

	done = long("redis.call('set', 'w', '1') while true do end")
	waitBusy()
	out = append(out, "script kill after write: "+errText(other.Do(ctx, "script", "kill").Err()))
	out = append(out, "shutdown: "+errText(other.Do(ctx, "shutdown").Err()))
	err := other.Do(ctx, "shutdown", "nosave").Err()
	out = append(out, "shutdown nosave answered: "+map[bool]string{true: "no", false: "yes"}[err != nil && !errors.Is(err, redis.Nil)])
	waitFor(t, stopped, "the server to stop after SHUTDOWN NOSAVE")
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the script's caller never heard back after SHUTDOWN NOSAVE")
	}
	return out
}

// BUSY, SCRIPT KILL, FUNCTION KILL, UNKILLABLE and SHUTDOWN NOSAVE with a
// real endless script, on warden and on redis-server: the same replies.
func TestScriptBusyAndKill(t *testing.T) {
	rs := redistest.Start(t, "", "--busy-reply-threshold", "100")
	s, addr := startServer(t, "save", "", "busy-reply-threshold", "100")
	probe := func(a string) func() bool {
		return func() bool {
			c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1, DialTimeout: time.Second})
			defer c.Close()
			return c.Ping(context.Background()).Err() != nil
		}
	}
	want := busyTranscript(t, rs.Addr, probe(rs.Addr))
	got := busyTranscript(t, addr, probe(addr))
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("warden %q\n        redis  %q", g, w)
		}
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("warden did not stop")
	}
	// The unfinished script's write reached nothing durable: no AOF here,
	// but no replica either (nothing propagated).
	if n := s.repl.offsetA.Load(); n != 0 {
		t.Errorf("master_repl_offset %d after an aborted script: its write was propagated", n)
	}
}
