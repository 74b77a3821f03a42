// Package clusterpub carries cluster-mode PUBLISH to every other node, as
// Redis Cluster's bus does: a message published on one node reaches the
// subscribers of every node. warden has no cluster bus, so each node keeps
// one RESP connection to each peer and sends it CLUSTER PUBLISH-LOCAL,
// which the peer delivers to its own subscribers only (no loop).
//
// Delivery is best effort, as on Redis's bus: a message is queued per
// peer (bounded) and dropped, and counted, when the queue is full; the
// connection is dialled again after an error. Messages to one peer keep
// their order.
package clusterpub

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wardenkv/warden/keyspace/aof"
)

// Config is what a Fanout needs from its node.
type Config struct {
	// Dial connects to a peer's RESP address (TLS included when the node
	// uses it between nodes).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Auth returns the credentials to AUTH with (the replication ones);
	// an empty password sends no AUTH.
	Auth func() (user, pass string)
	// QueueLen bounds the messages waiting per peer (default 4096).
	QueueLen int
	Log      *slog.Logger
}

// Fanout sends published messages to the current set of peers.
type Fanout struct {
	cfg Config

	mu    sync.Mutex
	peers map[string]*peer
	done  bool

	sent, dropped atomic.Int64
}

// New returns a Fanout with no peers.
func New(cfg Config) *Fanout {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Fanout{cfg: cfg, peers: map[string]*peer{}}
}

// SetPeers makes addrs (host:port, this node excluded) the peers: new
// ones are connected, those gone are closed.
func (f *Fanout) SetPeers(addrs []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return
	}
	want := make(map[string]bool, len(addrs))
	for _, a := range addrs {
		want[a] = true
		if f.peers[a] == nil {
			p := &peer{addr: a, q: make(chan []byte, f.cfg.QueueLen), stop: make(chan struct{})}
			f.peers[a] = p
			go p.run(f)
		}
	}
	for a, p := range f.peers {
		if !want[a] {
			close(p.stop)
			delete(f.peers, a)
		}
	}
}

// Publish queues channel and message for every peer; it never blocks.
func (f *Fanout) Publish(channel, message []byte) {
	frame := Frame(channel, message)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.peers {
		select {
		case p.q <- frame:
		default:
			f.dropped.Add(1)
		}
	}
}

// Stats reports the messages written to peers and those dropped.
func (f *Fanout) Stats() (sent, dropped int64) { return f.sent.Load(), f.dropped.Load() }

// Close disconnects every peer; later calls do nothing.
func (f *Fanout) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	for a, p := range f.peers {
		close(p.stop)
		delete(f.peers, a)
	}
}

// Frame is CLUSTER PUBLISH-LOCAL channel message as a RESP array.
func Frame(channel, message []byte) []byte {
	return command([]byte("CLUSTER"), []byte("PUBLISH-LOCAL"), channel, message)
}

type peer struct {
	addr string
	q    chan []byte
	stop chan struct{}
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
	ioTimeout  = 5 * time.Second
)

// run keeps a connection to the peer and writes what is queued, batching
// whatever is waiting into one write.
func (p *peer) run(f *Fanout) {
	backoff := minBackoff
	for {
		conn, err := p.connect(f)
		if err != nil {
			f.cfg.Log.Debug("fanout: peer unreachable", "peer", p.addr, "err", err)
			select {
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		err = p.pump(f, conn)
		conn.Close()
		if err == nil {
			return // stopped
		}
		f.cfg.Log.Debug("fanout: peer connection lost", "peer", p.addr, "err", err)
	}
}

// connect dials the peer and authenticates.
func (p *peer) connect(f *Fanout) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	conn, err := f.cfg.Dial(ctx, p.addr)
	if err != nil {
		return nil, err
	}
	if f.cfg.Auth != nil {
		if user, pass := f.cfg.Auth(); pass != "" {
			args := [][]byte{[]byte("AUTH"), []byte(pass)}
			if user != "" {
				args = [][]byte{[]byte("AUTH"), []byte(user), []byte(pass)}
			}
			conn.SetDeadline(time.Now().Add(ioTimeout))
			if _, err := conn.Write(command(args...)); err != nil {
				conn.Close()
				return nil, fmt.Errorf("AUTH: %w", err)
			}
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil || len(line) == 0 || line[0] != '+' {
				conn.Close()
				return nil, fmt.Errorf("AUTH refused: %q %v", line, err)
			}
			conn.SetDeadline(time.Time{})
		}
	}
	return conn, nil
}

// pump writes queued frames until stop (nil) or an error. The replies
// (integers, or errors worth no retry) are read and dropped so that the
// peer's output buffer never fills.
func (p *peer) pump(f *Fanout, conn net.Conn) error {
	readErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, conn)
		if err == nil {
			err = io.EOF
		}
		readErr <- err
	}()
	w := bufio.NewWriterSize(conn, 64<<10)
	for {
		select {
		case <-p.stop:
			return nil
		case err := <-readErr:
			return err
		case frame := <-p.q:
			n := 1
			w.Write(frame)
		more:
			for w.Buffered() < 64<<10 {
				select {
				case frame = <-p.q:
					w.Write(frame)
					n++
				default:
					break more
				}
			}
			conn.SetWriteDeadline(time.Now().Add(ioTimeout))
			if err := w.Flush(); err != nil {
				f.dropped.Add(int64(n))
				return err
			}
			f.sent.Add(int64(n))
		}
	}
}

// command renders args as a RESP array.
func command(args ...[]byte) []byte { return aof.AppendCommand(nil, args...) }
