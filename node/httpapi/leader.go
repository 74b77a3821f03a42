package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HopHeader marks a request one node already forwarded to the leader it knew
// of; a node that is not the leader refuses to forward it again, so stale
// leader views cannot bounce a request around.
const HopHeader = "X-Warden-Forwarded"

// LeaderHeader names the leader that answered a forwarded request.
const LeaderHeader = "X-Warden-Leader"

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req JoinRequest
	if err := decodeStrict(body, &req); err != nil {
		http.Error(w, "bad join request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.ID == "" || req.RaftAddr == "" {
		http.Error(w, "bad join request: id and raft_addr are required", http.StatusBadRequest)
		return
	}
	if !s.cfg.View.IsLeader() {
		s.forward(w, r, body)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	resp, err := s.cfg.View.Join(ctx, req)
	if errors.Is(err, ErrNotLeader) {
		s.forward(w, r, body)
		return
	}
	if err != nil {
		s.log.Warn("join failed", "node", req.ID, "raft_addr", req.RaftAddr, "err", err)
		http.Error(w, "join "+req.ID+": "+err.Error(), errorStatus(err))
		return
	}
	s.log.Info("node joined", "node", req.ID, "raft_addr", req.RaftAddr, "voter", req.Voter)
	if resp.GossipAddrs == nil {
		resp.GossipAddrs = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleFailover(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r) // unused here, but forwarded verbatim
	if !ok {
		return
	}
	shard := 0
	if v := r.URL.Query().Get("shard"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, fmt.Sprintf("bad shard %q: want a non-negative integer", v), http.StatusBadRequest)
			return
		}
		shard = n
	}
	// target names the replica to promote (CLUSTER FAILOVER sends its own
	// id); force=1 skips waiting for it to catch up.
	target := r.URL.Query().Get("target")
	force := r.URL.Query().Get("force") == "1"
	// epoch (with target) completes a handoff under way at that epoch:
	// the frozen master reports that target has caught up.
	epoch, handoff := uint64(0), r.URL.Query().Has("epoch")
	if handoff {
		v := r.URL.Query().Get("epoch")
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || target == "" {
			http.Error(w, fmt.Sprintf("bad epoch %q: want an integer, with a target", v), http.StatusBadRequest)
			return
		}
		epoch = n
	}
	if !s.cfg.View.IsLeader() {
		s.forward(w, r, body)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	var err error
	if handoff {
		err = s.cfg.View.CompleteHandoff(ctx, shard, target, epoch)
	} else {
		err = s.cfg.View.Failover(ctx, shard, target, force)
	}
	if errors.Is(err, ErrNotLeader) {
		s.forward(w, r, body)
		return
	}
	if err != nil {
		s.log.Warn("manual failover failed", "shard", shard, "err", err)
		http.Error(w, fmt.Sprintf("failover shard %d: %v", shard, err), errorStatus(err))
		return
	}
	resp := FailoverResponse{Shard: shard}
	for _, sh := range s.cfg.View.Status().Shards {
		if sh.ID == shard {
			resp.Master, resp.MasterAddr = sh.Master, sh.MasterAddr
		}
	}
	s.log.Info("manual failover done", "shard", shard, "master", resp.Master)
	writeJSON(w, http.StatusOK, resp)
}

// guard wraps a state-changing handler: with a secret configured it runs
// only for requests signed with it (sign.go), or, over TLS only, carrying
// it as a bearer token. The signature covers the body, so guard reads it
// (bounded) and hands the handler a fresh reader over the same bytes.
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Secret == "" {
			h(w, r)
			return
		}
		scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		switch {
		case strings.EqualFold(scheme, SignatureScheme):
			p, err := parseSig(rest)
			if err == nil {
				// Stale or malformed requests are refused before the body is read.
				err = s.sigs.fresh(p)
			}
			if err != nil {
				s.unauthorized(w, r, err)
				return
			}
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			if err := s.sigs.verify(p, r.Method, r.URL.RequestURI(), body); err != nil {
				if errors.Is(err, ErrNoncesFull) {
					s.log.Warn("refused signed request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
					w.Header().Set("Retry-After", strconv.Itoa(int(SignatureWindow.Seconds())))
					http.Error(w, err.Error(), http.StatusTooManyRequests)
					return
				}
				s.unauthorized(w, r, err)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h(w, r)
		case strings.EqualFold(scheme, "Bearer") && r.TLS == nil:
			// The token is the secret itself: in clear it hands Raft and
			// gossip to anyone on the path. (Too late for this request, but
			// refusing makes the client fix it before it becomes a habit.)
			s.unauthorized(w, r, errors.New("a Bearer token over plain HTTP exposes the cluster secret and is refused; "+
				"send a signed request ("+SignatureScheme+", as `warden failover` does) or run the control plane over TLS (tls-cluster yes)"))
		case strings.EqualFold(scheme, "Bearer"):
			// Hashing first makes the comparison constant-time in the length too.
			got, want := sha256.Sum256([]byte(rest)), sha256.Sum256([]byte(s.cfg.Secret))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				s.unauthorized(w, r, errors.New("wrong cluster secret"))
				return
			}
			h(w, r)
		default:
			s.unauthorized(w, r, errors.New("missing cluster credentials: send a signed request ("+SignatureScheme+")"))
		}
	}
}

// unauthorized answers 401 with the reason and the schemes accepted here.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, reason error) {
	s.log.Warn("refused unauthenticated request", "path", r.URL.Path, "remote", r.RemoteAddr, "err", reason)
	w.Header().Add("WWW-Authenticate", SignatureScheme+` realm="warden"`)
	if r.TLS != nil {
		w.Header().Add("WWW-Authenticate", `Bearer realm="warden"`)
	}
	http.Error(w, "unauthorized: "+reason.Error(), http.StatusUnauthorized)
}

// forward replays the request on the leader and copies its answer back.
// The caller's Authorization goes along unchanged: the leader checks the
// same signature and nonce, so replaying a request captured on its way to
// this node through any other node is refused by the leader.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Header.Get(HopHeader) != "" {
		http.Error(w, "not the raft leader, and the request was already forwarded once", http.StatusServiceUnavailable)
		return
	}
	leader := s.cfg.View.Leader()
	if !leader.Known() || leader.HTTPAddr == "" {
		http.Error(w, "no raft leader", http.StatusServiceUnavailable)
		return
	}
	target := BaseURL(leader.HTTPAddr, s.cfg.TLS != nil) + r.URL.RequestURI()
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(body))
	if err != nil {
		http.Error(w, "forward to leader: "+err.Error(), http.StatusBadGateway)
		return
	}
	for _, h := range []string{"Authorization", "Content-Type"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(HopHeader, "1")
	s.log.Info("forwarding to raft leader", "path", r.URL.Path, "leader", leader.NodeID, "addr", leader.HTTPAddr)
	resp, err := s.fwd.Do(req)
	if err != nil {
		s.log.Warn("forward to leader failed", "leader", leader.NodeID, "addr", leader.HTTPAddr, "err", err)
		http.Error(w, fmt.Sprintf("forward to leader %s at %s: %v", leader.NodeID, leader.HTTPAddr, err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "WWW-Authenticate", "Retry-After", "X-Content-Type-Options"} {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	w.Header().Set(LeaderHeader, leader.NodeID)
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, maxBodyBytes))
}

// leaderURL accepts "host:port" or a full base URL.
func leaderURL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimSuffix(addr, "/")
	}
	return "http://" + addr
}

func forwardClient() *http.Client {
	// No proxy: the leader is a cluster peer, and env proxies would misroute it.
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		ResponseHeaderTimeout: requestTimeout,
	}
	return &http.Client{
		Transport: tr,
		// A redirect from a peer is not something to follow with our secret.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		code := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "read body: "+err.Error(), code)
		return nil, false
	}
	return body, true
}

// decodeStrict decodes exactly one JSON value. Unknown fields are allowed so
// a newer node can still join through an older leader.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body, want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func errorStatus(err error) int {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, ErrUnknownShard):
		return http.StatusNotFound
	case errors.Is(err, ErrUnavailable):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
