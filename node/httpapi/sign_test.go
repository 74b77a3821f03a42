package httpapi

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/testcerts"
	"github.com/wardenkv/warden/node/config"
	"github.com/wardenkv/warden/node/tlsconf"
)

// sign returns the Authorization header pair SignRequest gives a request
// to rawURL with body.
func sign(t *testing.T, secret, method, rawURL, body string) []string {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	SignRequest(req, secret, []byte(body))
	return []string{"Authorization", req.Header.Get("Authorization")}
}

// signedAt is a signature with a chosen timestamp and nonce.
func signedAt(secret, method, uri string, ts time.Time, nonce, body string) []string {
	return []string{"Authorization", authHeader(requestKey(secret), method, uri, ts.UnixMilli(), nonce, []byte(body))}
}

// The header is exactly the documented format, so other clients can
// produce it: recomputed here from the primitives, not from sign.go.
func TestSignatureFormat(t *testing.T) {
	req, err := http.NewRequest("POST", "http://127.0.0.1:1/failover?shard=1&target=n3", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	SignRequest(req, "s3cret", []byte("{}"))
	h := req.Header.Get("Authorization")
	parts := regexp.MustCompile(`^` + SignatureScheme + ` ts=(\d+), nonce=([0-9a-f]{32}), sig=([0-9a-f]{64})$`).FindStringSubmatch(h)
	if parts == nil {
		t.Fatalf("header %q is not in the documented format", h)
	}
	ts, _ := strconv.ParseInt(parts[1], 10, 64)
	nonce, sig := parts[2], parts[3]
	if d := time.Since(time.UnixMilli(ts)); d < -time.Minute || d > time.Minute {
		t.Fatalf("ts %d is not now", ts)
	}
	k, err := hkdf.Key(sha256.New, []byte("s3cret"), nil, "warden http request signature v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	bh := sha256.Sum256([]byte("{}"))
	m := hmac.New(sha256.New, k)
	io.WriteString(m, "POST\n/failover?shard=1&target=n3\n"+strconv.FormatInt(ts, 10)+"\n"+nonce+"\n"+hex.EncodeToString(bh[:]))
	if want := hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("sig %s, want %s (header %q)", sig, want, h)
	}
	// Another request gets another nonce.
	SignRequest(req, "s3cret", []byte("{}"))
	if strings.Contains(req.Header.Get("Authorization"), nonce) {
		t.Fatalf("nonce %s reused", nonce)
	}
}

// A captured signed request sent again is refused: it reached the view once.
func TestSignedRequestReplayRefused(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret"})
	join := sign(t, "s3cret", "POST", base+"/join", joinBody)
	do(t, "POST", base+"/join", joinBody, join...).expect(t, 200, "gossip_addrs")
	r := do(t, "POST", base+"/join", joinBody, join...)
	r.expect(t, 401, "replayed request")
	fail := sign(t, "s3cret", "POST", base+"/failover?shard=0", "")
	do(t, "POST", base+"/failover?shard=0", "", fail...).expect(t, 200, `"shard": 0`)
	do(t, "POST", base+"/failover?shard=0", "", fail...).expect(t, 401, "replayed request")
	if j, f := v.calls(); len(j) != 1 || len(f) != 1 {
		t.Fatalf("view saw joins %v failovers %v, want one of each", j, f)
	}
}

// Timestamps more than SignatureWindow away from the node's clock, either
// way, are refused with the offset; inside the window they pass.
func TestSignedRequestStaleTimestamp(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret"})
	for i, off := range []time.Duration{-SignatureWindow - 5*time.Second, SignatureWindow + 5*time.Second, -time.Hour} {
		h := signedAt("s3cret", "POST", "/failover", time.Now().Add(off), fmt.Sprintf("%032x", i+1), "")
		do(t, "POST", base+"/failover", "", h...).expect(t, 401, "off this node's clock")
	}
	if _, f := v.calls(); len(f) != 0 {
		t.Fatalf("stale requests reached the view: %v", f)
	}
	h := signedAt("s3cret", "POST", "/failover", time.Now().Add(-SignatureWindow/2), fmt.Sprintf("%032x", 99), "")
	do(t, "POST", base+"/failover", "", h...).expect(t, 200, `"shard": 0`)
}

// A signature only covers what was signed: another secret, method, path,
// query or body, or a malformed header, is refused.
func TestSignedRequestTampered(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret"})
	other := strings.Replace(joinBody, `"n4"`, `"evil"`, 1)
	for _, c := range []struct {
		path, body string
		hdr        []string
		want       string
	}{
		{"/join", joinBody, sign(t, "wrong", "POST", base+"/join", joinBody), "bad signature"},
		{"/join", other, sign(t, "s3cret", "POST", base+"/join", joinBody), "bad signature"},
		{"/failover?shard=2", "", sign(t, "s3cret", "POST", base+"/failover?shard=0", ""), "bad signature"},
		{"/failover?shard=0&force=1", "", sign(t, "s3cret", "POST", base+"/failover?shard=0", ""), "bad signature"},
		{"/failover", "", sign(t, "s3cret", "GET", base+"/failover", ""), "bad signature"},
		{"/failover", joinBody, sign(t, "s3cret", "POST", base+"/join", joinBody), "bad signature"},
		{"/failover", "", []string{"Authorization", SignatureScheme}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=1, nonce=00"}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=x, nonce=00000000000000000000, sig=00"}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=1, ts=2, nonce=00000000000000000000, sig=00"}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=1, nonce=ZZ000000000000000000, sig=" + strings.Repeat("0", 64)}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=1, nonce=0000000000000000000000, sig=" + strings.Repeat("0", 64) + ", x=1"}, "malformed"},
		{"/failover", "", []string{"Authorization", SignatureScheme + " ts=1, nonce=" + strings.Repeat("0", 65) + ", sig=" + strings.Repeat("0", 64)}, "malformed"},
	} {
		r := do(t, "POST", base+c.path, c.body, c.hdr...)
		if r.code != 401 || !strings.Contains(r.body, c.want) {
			t.Errorf("POST %s with %q: %d %q, want 401 %q", c.path, c.hdr, r.code, r.body, c.want)
		}
	}
	if j, f := v.calls(); len(j)+len(f) != 0 {
		t.Fatalf("tampered requests reached the view: %v %v", j, f)
	}
}

// The secret itself as a bearer token is refused over plain HTTP, with
// what to do instead.
func TestBearerOverPlainHTTPRefused(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret"})
	for _, path := range []string{"/join", "/failover"} {
		r := do(t, "POST", base+path, joinBody, "Authorization", "Bearer s3cret")
		r.expect(t, 401, "Bearer token over plain HTTP")
		for _, want := range []string{"signed request", "warden failover", "tls-cluster"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("401 body %q does not mention %q", r.body, want)
			}
		}
	}
	if j, f := v.calls(); len(j)+len(f) != 0 {
		t.Fatalf("bearer requests reached the view: %v %v", j, f)
	}
}

// Over TLS (tls-cluster) the bearer token is still accepted, as are
// signatures; both schemes are offered on a 401.
func TestBearerOverTLS(t *testing.T) {
	files := testcerts.New(t)
	cfg := config.New()
	for _, kv := range [][2]string{{"tls-cluster", "yes"}, {"tls-cert-file", files.CertFile},
		{"tls-key-file", files.KeyFile}, {"tls-ca-cert-file", files.CAFile}} {
		if err := cfg.Set(kv[0], kv[1], false); err != nil {
			t.Fatal(err)
		}
	}
	m, err := tlsconf.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	v := &fakeView{leader: true, status: sampleStatus()}
	_, base := start(t, Config{View: v, Secret: "s3cret", TLS: m})
	base = "https://" + strings.TrimPrefix(base, "http://")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: files.ClientConfig(t)}}
	post := func(path string, hdr ...string) (int, string, http.Header) {
		req, err := http.NewRequest("POST", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	if code, body, h := post("/failover", "Authorization", "Bearer wrong"); code != 401 || !strings.Contains(body, "wrong cluster secret") ||
		len(h.Values("WWW-Authenticate")) != 2 {
		t.Fatalf("wrong bearer over TLS: %d %q %v", code, body, h.Values("WWW-Authenticate"))
	}
	if code, body, _ := post("/failover", "Authorization", "Bearer s3cret"); code != 200 {
		t.Fatalf("bearer over TLS: %d %q, want 200", code, body)
	}
	if code, body, _ := post("/failover", sign(t, "s3cret", "POST", base+"/failover", "")...); code != 200 {
		t.Fatalf("signed over TLS: %d %q, want 200", code, body)
	}
	if _, f := v.calls(); len(f) != 2 {
		t.Fatalf("failovers %v, want 2", f)
	}
}

// The nonce memory is bounded: when full of live nonces a request is
// refused with 429 (it does not grow), and nonces whose timestamps have
// left the window are forgotten.
func TestNonceMemoryBounded(t *testing.T) {
	v := &fakeView{leader: true, status: sampleStatus()}
	s, base := start(t, Config{View: v, Secret: "s3cret"})
	var clock atomic.Int64
	clock.Store(time.Now().UnixMilli())
	s.sigs.now = func() time.Time { return time.UnixMilli(clock.Load()) }
	s.sigs.max = 3
	req := func(i int) reply {
		h := signedAt("s3cret", "POST", "/failover", time.UnixMilli(clock.Load()), fmt.Sprintf("%032x", i), "")
		return do(t, "POST", base+"/failover", "", h...)
	}
	for i := range 3 {
		req(i).expect(t, 200, `"shard": 0`)
	}
	r := req(3)
	r.expect(t, 429, "too many signed requests")
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if n := s.sigs.remembered(); n != 3 {
		t.Fatalf("%d nonces remembered, want the cap 3", n)
	}
	// Past the window the old nonces are stale anyway, so they go.
	clock.Add((SignatureWindow + time.Second).Milliseconds())
	req(4).expect(t, 200, `"shard": 0`)
	if n := s.sigs.remembered(); n != 1 {
		t.Fatalf("%d nonces remembered after the window, want 1", n)
	}
	// And an old request cannot come back now that its nonce is forgotten.
	h := signedAt("s3cret", "POST", "/failover", time.UnixMilli(clock.Load()).Add(-SignatureWindow-2*time.Second), fmt.Sprintf("%032x", 0), "")
	do(t, "POST", base+"/failover", "", h...).expect(t, 401, "off this node's clock")
}

// A request captured on its way to one follower and replayed to another is
// refused by the leader: followers forward the caller's signature, and
// the leader remembers its nonce.
func TestReplayThroughAnotherNodeRefused(t *testing.T) {
	fa, leader, abase, lbase := pair(t, "tok")
	fb := &fakeView{info: fa.Leader()}
	_, bbase := start(t, Config{View: fb, Secret: "tok"})
	h := sign(t, "tok", "POST", abase+"/join", joinBody)
	r := do(t, "POST", abase+"/join", joinBody, h...)
	r.expect(t, 200, "gossip_addrs")
	r = do(t, "POST", bbase+"/join", joinBody, h...)
	r.expect(t, 401, "replayed request")
	if r.header.Get(LeaderHeader) != "n1" {
		t.Fatalf("the refusal did not come from the leader: headers %v", r.header)
	}
	do(t, "POST", lbase+"/join", joinBody, h...).expect(t, 401, "replayed request")
	if lj, _ := leader.calls(); len(lj) != 1 {
		t.Fatalf("leader saw joins %v, want 1", lj)
	}
}
