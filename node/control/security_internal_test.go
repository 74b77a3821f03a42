package control

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testhost"
)

// insecure-cluster's warning is repeated on every tick (a minute in the
// binary), not just logged once at start.
func TestInsecureWarningRepeats(t *testing.T) {
	buf := &testhost.LogBuffer{}
	c := &Control{log: slog.New(slog.NewTextHandler(buf, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.insecureLoop(ctx, listener{"http-addr", "0.0.0.0:8080"}, 10*time.Millisecond)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(buf.String(), "running without cluster-secret") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("warnings logged: %d, want at least 3", strings.Count(buf.String(), "running without cluster-secret"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if strings.Count(buf.String(), "listener=http-addr addr=0.0.0.0:8080") < 3 {
		t.Fatalf("the warning does not name the listener")
	}
	if insecureWarnEvery != time.Minute {
		t.Fatalf("insecureWarnEvery = %v, want a minute", insecureWarnEvery)
	}
}

// The replication credential is the HMAC of the secret, never the secret.
func TestReplicationPassword(t *testing.T) {
	p := ReplicationPassword("s3cret")
	if len(p) != 64 || strings.Contains(p, "s3cret") || p == ReplicationPassword("other") || p != ReplicationPassword("s3cret") {
		t.Fatalf("ReplicationPassword = %q", p)
	}
}
