package control_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
	"github.com/wardenkv/warden/node/httpapi"
)

// postRaw POSTs to url with exactly this Authorization header.
func postRaw(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Over plain HTTP the cluster secret never travels: nodes join through
// signed POST /join, a signed POST /failover works once and its replay is
// refused by every node, and the secret as a bearer token is refused with
// what to do instead.
func TestSignedControlRequests(t *testing.T) {
	const secret = "s3cret"
	c := clustertest.Start(t, clustertest.Options{Nodes: 3, Secret: secret})
	ctx := context.Background()
	m := c.Master(t, 0)
	st := statusOf(t, m)
	epoch := st.Epoch
	var follower, replica *clustertest.Node
	for _, n := range c.Nodes {
		if n.ID != st.Leader.NodeID && follower == nil {
			follower = n
		}
		if n != m && replica == nil {
			replica = n
		}
	}

	// The secret itself, in clear: refused, cluster unchanged.
	code, body := postRaw(t, follower.HTTP()+"/failover?shard=0&force=1", "Bearer "+secret)
	if code != http.StatusUnauthorized || !strings.Contains(body, "signed request") || !strings.Contains(body, "tls-cluster") {
		t.Fatalf("bearer secret over plain HTTP: %d %q, want 401 pointing at signed requests or TLS", code, body)
	}

	// A signed failover, captured.
	url := follower.HTTP() + "/failover?shard=0&target=" + replica.ID
	req, err := http.NewRequest(http.MethodPost, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	httpapi.SignRequest(req, secret, nil)
	captured := req.Header.Get("Authorization")
	if strings.Contains(captured, secret) {
		t.Fatalf("the signed header %q contains the secret", captured)
	}
	if code, body := postRaw(t, url, captured); code != http.StatusOK || !strings.Contains(body, replica.ID) {
		t.Fatalf("signed POST /failover: %d %q", code, body)
	}
	c.WaitFor(t, 20*time.Second, replica.ID+" to master shard 0", func() bool {
		st, err := m.Status(ctx)
		return err == nil && st.Shards[0].Master == replica.ID && st.Epoch > epoch
	})
	epoch = statusOf(t, m).Epoch

	// Replayed to every node (the same URL path and query), it is refused.
	for _, n := range c.Nodes {
		code, body := postRaw(t, n.HTTP()+"/failover?shard=0&target="+replica.ID, captured)
		if code != http.StatusUnauthorized || !strings.Contains(body, "replayed request") {
			t.Errorf("replay to %s: %d %q, want 401 replayed", n.ID, code, body)
		}
	}
	if st := statusOf(t, m); st.Epoch != epoch || st.Shards[0].Master != replica.ID {
		t.Fatalf("a replay changed the cluster: epoch %d -> %d, master %s", epoch, st.Epoch, st.Shards[0].Master)
	}

	// A new node joins through signed POST /join (Add waits until it is ready).
	n4 := c.Add(t, "n4", "--voter", "no")
	c.WaitFor(t, 20*time.Second, "n4 in the record", func() bool {
		st, err := m.Status(ctx)
		return err == nil && st.Member(n4.ID) != nil
	})
}
