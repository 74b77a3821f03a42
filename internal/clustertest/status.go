package clustertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
)

// Status is the part of GET /status the harness and tests read. It is
// defined here, not imported from node/httpapi, so the tests check the wire
// format rather than share the server's types (Post does use httpapi's
// request signing: one implementation of the scheme, tested there).
type Status struct {
	NodeID string `json:"node_id"`
	Raft   struct {
		State        string `json:"state"`
		Term         uint64 `json:"term"`
		LastLogIndex uint64 `json:"last_log_index"`
		CommitIndex  uint64 `json:"commit_index"`
		AppliedIndex uint64 `json:"applied_index"`
	} `json:"raft"`
	Leader struct {
		NodeID   string `json:"node_id"`
		RaftAddr string `json:"raft_addr"`
		HTTPAddr string `json:"http_addr"`
	} `json:"leader"`
	Epoch   uint64   `json:"epoch"`
	Shards  []Shard  `json:"shards"`
	Members []Member `json:"members"`
}

// Shard is one entry of Status.Shards.
type Shard struct {
	ID         int             `json:"id"`
	Name       string          `json:"name"`
	Master     string          `json:"master"` // node id, "" while none
	MasterAddr string          `json:"master_addr"`
	Replicas   IDList          `json:"replicas"`
	Epoch      uint64          `json:"epoch"`
	Slots      json.RawMessage `json:"slots"`
	Reason     string          `json:"reason"` // set when the master was promoted without having synced
	Removed    bool            `json:"removed"`
}

// Member is one entry of Status.Members.
type Member struct {
	ID       string `json:"id"`
	Addr     string `json:"addr"`
	State    string `json:"state"` // alive, pfail, fail
	Role     string `json:"role"`  // master, replica
	Shard    int    `json:"shard"`
	Offset   int64  `json:"offset"`
	Lag      int64  `json:"lag"`
	Voter    bool   `json:"voter"`
	HTTPAddr string `json:"http_addr"`
}

// Shard returns the shard with this id, or nil.
func (s Status) Shard(id int) *Shard {
	for i := range s.Shards {
		if s.Shards[i].ID == id {
			return &s.Shards[i]
		}
	}
	return nil
}

// Member returns the member with this id, or nil.
func (s Status) Member(id string) *Member {
	for i := range s.Members {
		if s.Members[i].ID == id {
			return &s.Members[i]
		}
	}
	return nil
}

// IDList is a list of node ids that also decodes a list of objects carrying
// an "id" or "node_id", so the harness does not break if /status renders
// replicas as objects.
type IDList []string

// UnmarshalJSON accepts ["n2","n3"] and [{"id":"n2",...},...].
func (l *IDList) UnmarshalJSON(b []byte) error {
	var ids []string
	if err := json.Unmarshal(b, &ids); err == nil {
		*l = ids
		return nil
	}
	var objs []struct {
		ID     string `json:"id"`
		NodeID string `json:"node_id"`
	}
	if err := json.Unmarshal(b, &objs); err != nil {
		return fmt.Errorf("replicas: neither ids nor objects: %w", err)
	}
	*l = (*l)[:0]
	for _, o := range objs {
		if o.ID == "" {
			o.ID = o.NodeID
		}
		*l = append(*l, o.ID)
	}
	return nil
}

var httpClient = &http.Client{Timeout: 3 * time.Second}

// Status fetches GET /status from the node.
func (n *Node) Status(ctx context.Context) (Status, error) {
	var st Status
	body, code, err := n.get(ctx, "/status")
	if err != nil {
		return st, err
	}
	if code != http.StatusOK {
		return st, fmt.Errorf("%s GET /status: %d %s", n.ID, code, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("%s GET /status: decode: %w", n.ID, err)
	}
	return st, nil
}

// Ready reports whether GET /readyz answers 200, and the body otherwise
// (the reason, or the error).
func (n *Node) Ready(ctx context.Context) (bool, string) {
	body, code, err := n.get(ctx, "/readyz")
	if err != nil {
		return false, err.Error()
	}
	return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
}

// Get GETs path on the node's HTTP API, returning the body and status.
func (n *Node) Get(ctx context.Context, path string) ([]byte, int, error) { return n.get(ctx, path) }

func (n *Node) get(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.HTTP()+path, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s GET %s: %w", n.ID, path, err)
	}
	resp, err := n.c.httpClient().Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s GET %s: %w", n.ID, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("%s GET %s: read body: %w", n.ID, path, err)
	}
	return body, resp.StatusCode, nil
}

// postClient has no timeout of its own (a graceful failover waits for a
// replica to catch up; the caller's context bounds it) and no proxy.
var postClient = &http.Client{Transport: &http.Transport{Proxy: nil}}

// Post POSTs to path (with its query) on the node's HTTP API, signed with
// the cluster's secret when it has one, and returns the status code and
// body.
func (n *Node) Post(ctx context.Context, path string) (int, string, error) {
	return n.PostJSON(ctx, path, nil)
}

// PostJSON is Post with a JSON body.
func (n *Node) PostJSON(ctx context.Context, path string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.HTTP()+path, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("%s POST %s: %w", n.ID, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s := n.c.opts.Secret; s != "" {
		httpapi.SignRequest(req, s, body)
	}
	pc := postClient
	if n.c.tls != nil {
		pc = &http.Client{Transport: n.c.tls.http.Transport}
	}
	resp, err := pc.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s POST %s: %w", n.ID, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", fmt.Errorf("%s POST %s: read body: %w", n.ID, path, err)
	}
	return resp.StatusCode, string(out), nil
}
