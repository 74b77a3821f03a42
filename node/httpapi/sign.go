package httpapi

// Signed requests: a state-changing call (POST /join, POST /failover) proves
// the cluster secret without sending it, and cannot be replayed.
//
//	Authorization: Warden-HMAC-SHA256 ts=<unix ms>, nonce=<hex>, sig=<hex>
//	sig = hex(HMAC-SHA256(k, METHOD "\n" request-URI "\n" ts "\n" nonce "\n" hex(SHA-256(body))))
//
// k is derived from the secret (HKDF-SHA256, its own label) apart from
// Raft's handshake key and gossip's key, so a signature says nothing about
// them. The request-URI is path and query (?shard=, ?target=), so neither
// can be changed in flight. A node accepts ts within ±SignatureWindow of its
// own clock, so cluster nodes and operators' hosts need roughly synced
// clocks (NTP); it remembers each nonce until its ts leaves the window and
// refuses a second use. Followers forward the caller's header unchanged:
// the leader, where every change runs, checks the same nonce, so a request
// captured on its way to one node and replayed to another is refused there
// too (unless leadership moved to a node that never saw it, within the
// window).

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureScheme is the Authorization scheme of signed requests.
const SignatureScheme = "Warden-HMAC-SHA256"

// SignatureWindow is how far a request's timestamp may be from the
// receiving node's clock, either way.
const SignatureWindow = 30 * time.Second

const (
	nonceBytes    = 16
	minNonceHex   = 16
	maxNonceHex   = 64
	maxNonces     = 10000 // remembered at once; 10k joins/failovers in a minute is abuse
	sweepInterval = time.Second
)

// Reasons a signed request is refused; the guard maps them to HTTP codes.
var (
	ErrBadSignature = errors.New("bad signature (wrong cluster secret?)")
	ErrMalformedSig = errors.New("malformed " + SignatureScheme + " header")
	ErrStale        = errors.New("request timestamp outside the allowed window")
	ErrReplay       = errors.New("replayed request (nonce already used)")
	ErrNoncesFull   = errors.New("too many signed requests in the last minute")
)

// requestKey derives the signing key from the cluster secret.
func requestKey(secret string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "warden http request signature v1", 32)
	if err != nil {
		panic(err) // only for key lengths over 255 hashes
	}
	return k
}

func signature(key []byte, method, uri string, ts int64, nonce string, body []byte) []byte {
	bh := sha256.Sum256(body)
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\n%s\n%d\n%s\n%s", method, uri, ts, nonce, hex.EncodeToString(bh[:]))
	return m.Sum(nil)
}

func authHeader(key []byte, method, uri string, ts int64, nonce string, body []byte) string {
	return fmt.Sprintf("%s ts=%d, nonce=%s, sig=%s", SignatureScheme, ts, nonce,
		hex.EncodeToString(signature(key, method, uri, ts, nonce, body)))
}

// SignRequest sets req's Authorization to a fresh signature of its method,
// path and query, and body (which must be what req sends) under secret.
// Sign each attempt anew: a node refuses a signature it has seen.
func SignRequest(req *http.Request, secret string, body []byte) {
	n := make([]byte, nonceBytes)
	rand.Read(n) // never fails (crypto/rand panics instead)
	req.Header.Set("Authorization", authHeader(requestKey(secret), req.Method, req.URL.RequestURI(),
		time.Now().UnixMilli(), hex.EncodeToString(n), body))
}

// sigParams is a parsed signature header.
type sigParams struct {
	ts    int64
	nonce string
	sig   []byte
}

// parseSig parses the part after the scheme: "ts=..., nonce=..., sig=...".
func parseSig(s string) (sigParams, error) {
	var p sigParams
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return p, fmt.Errorf("%w: want ts=<unix ms>, nonce=<hex>, sig=<hex>", ErrMalformedSig)
		}
		seen[k] = true
		switch k {
		case "ts":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return p, fmt.Errorf("%w: ts must be unix milliseconds", ErrMalformedSig)
			}
			p.ts = n
		case "nonce":
			if len(v) < minNonceHex || len(v) > maxNonceHex || !isLowerHex(v) {
				return p, fmt.Errorf("%w: nonce must be %d-%d lower-case hex digits", ErrMalformedSig, minNonceHex, maxNonceHex)
			}
			p.nonce = v
		case "sig":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return p, fmt.Errorf("%w: sig must be %d hex digits", ErrMalformedSig, 2*sha256.Size)
			}
			p.sig = b
		default:
			return p, fmt.Errorf("%w: unknown parameter %q", ErrMalformedSig, k)
		}
	}
	if !seen["ts"] || !seen["nonce"] || !seen["sig"] {
		return p, fmt.Errorf("%w: want ts=<unix ms>, nonce=<hex>, sig=<hex>", ErrMalformedSig)
	}
	return p, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// verifier checks signed requests for one node and remembers their nonces.
type verifier struct {
	key    []byte
	window time.Duration
	now    func() time.Time // tests move the clock

	mu        sync.Mutex
	seen      map[string]int64 // nonce -> unix ms after which its ts is stale anyway
	max       int
	lastSweep int64
}

func newVerifier(secret string) *verifier {
	return &verifier{key: requestKey(secret), window: SignatureWindow, now: time.Now,
		seen: make(map[string]int64), max: maxNonces}
}

// fresh checks p's timestamp against the clock; cheap, so it runs before
// the body is read.
func (v *verifier) fresh(p sigParams) error {
	now := v.now().UnixMilli()
	if d := time.Duration(now-p.ts) * time.Millisecond; d > v.window || d < -v.window {
		return fmt.Errorf("%w: it is %.1fs off this node's clock (allowed ±%s); sign with the current time and keep the clocks in sync (NTP)",
			ErrStale, d.Seconds(), v.window)
	}
	return nil
}

// verify checks p's signature over the request and, if it holds, records
// its nonce; a nonce already recorded, or no room to record it, refuses.
func (v *verifier) verify(p sigParams, method, uri string, body []byte) error {
	if err := v.fresh(p); err != nil {
		return err
	}
	if !hmac.Equal(p.sig, signature(v.key, method, uri, p.ts, p.nonce, body)) {
		return ErrBadSignature
	}
	now := v.now().UnixMilli()
	v.mu.Lock()
	defer v.mu.Unlock()
	// Expired nonces go once a second, or at once when the set is full;
	// only holders of the secret can add any, and never beyond max.
	if now-v.lastSweep >= sweepInterval.Milliseconds() || len(v.seen) >= v.max {
		for n, exp := range v.seen {
			if exp < now {
				delete(v.seen, n)
			}
		}
		v.lastSweep = now
	}
	if _, dup := v.seen[p.nonce]; dup {
		return ErrReplay
	}
	if len(v.seen) >= v.max {
		return ErrNoncesFull
	}
	v.seen[p.nonce] = p.ts + v.window.Milliseconds()
	return nil
}

func (v *verifier) remembered() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.seen)
}
