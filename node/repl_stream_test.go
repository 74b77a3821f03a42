package node

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The stream's blocks give every reader exactly the bytes written, across
// block boundaries, and the backlog the last repl-backlog-size of them.
func TestStreamBlocks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int64 // repl-backlog-size
		start  int64 // offset the stream starts at
		chunks []int // sizes of the appends
	}{
		{"within one block", 1 << 20, 0, []int{10, 20, 30}},
		{"across blocks", 1 << 20, 100, []int{streamBlockSize - 5, 10, streamBlockSize, 3}},
		{"larger than a block", 1 << 20, 7, []int{3 * streamBlockSize, 1}},
		{"backlog smaller than the stream", 16 << 10, 0, []int{streamBlockSize, streamBlockSize, streamBlockSize, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &replLog{size: tc.size}
			l.resetStream(tc.start)
			from := streamPos{blk: l.tail, off: tc.start}
			var all []byte
			for i, n := range tc.chunks {
				b := bytes.Repeat([]byte{byte('a' + i)}, n)
				all = append(all, b...)
				l.appendStream(b)
			}
			end := tc.start + int64(len(all))
			if l.offset != end || l.offsetA.Load() != end {
				t.Fatalf("offset = %d, want %d", l.offset, end)
			}
			if got := bytes.Join(from.gather(nil, end), nil); !bytes.Equal(got, all) {
				t.Fatalf("a reader from the start got %d bytes, want the %d written", len(got), len(all))
			}
			if want := min(int64(len(all)), tc.size); l.histlen != want {
				t.Fatalf("histlen = %d, want %d", l.histlen, want)
			}
			first := end - l.histlen
			for _, off := range []int64{first, (first + end) / 2, end} {
				p, ok := l.posAt(off)
				if !ok {
					t.Fatalf("offset %d not in the backlog [%d, %d]", off, first, end)
				}
				if got := bytes.Join(p.gather(nil, end), nil); !bytes.Equal(got, all[off-tc.start:]) {
					t.Fatalf("from %d: got %d bytes, want %d", off, len(got), end-off)
				}
			}
			if _, ok := l.posAt(first - 1); ok && first > tc.start {
				t.Fatalf("offset %d is before the backlog, yet found", first-1)
			}
			if _, ok := l.posAt(end + 1); ok {
				t.Fatal("an offset past the stream was found")
			}
		})
	}
}

// WAITs that ask for an ACK before a sender runs share one GETACK.
func TestAckRequestsCoalesce(t *testing.T) {
	l := &replLog{size: 1 << 20}
	l.resetStream(0)
	for i := 0; i < 5; i++ {
		l.requestAck()
	}
	l.mu.Lock()
	l.takeAckRequest()
	l.takeAckRequest() // nothing more was asked
	l.mu.Unlock()
	if got := bytes.Count(bytes.Join((&streamPos{blk: l.head}).gather(nil, l.offset), nil), getackCmd); got != 1 {
		t.Fatalf("%d GETACKs in the stream for 5 requests before a send, want 1", got)
	}
	l.requestAck()
	l.mu.Lock()
	l.takeAckRequest()
	l.mu.Unlock()
	if n := l.getacksSent.Load(); n != 2 {
		t.Fatalf("getacks sent = %d, want 2 (a request after a send gets its own)", n)
	}
}

// fakeReplica is a replication link driven by the test: it syncs, then
// reads the stream only when told, and acknowledges only when told.
type fakeReplica struct {
	rc      *respClient
	off     int64 // stream offset of the next unread byte
	getacks int
}

func newFakeReplica(t *testing.T, addr string) *fakeReplica {
	t.Helper()
	rc := dialResp(t, addr)
	// A small fixed receive buffer (no autotuning up to tcp_rmem's
	// maximum): a replica that stops reading stalls the master's sender
	// after a few MB.
	if err := rc.c.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	rc.c.Write(respCommand("PSYNC", "?", "-1"))
	line := readLine(t, rc.r)
	f := strings.Fields(line)
	if len(f) != 3 || f[0] != "+FULLRESYNC" {
		t.Fatalf("PSYNC reply %q", line)
	}
	off, _ := strconv.ParseInt(f[2], 10, 64)
	hdr := readLine(t, rc.r)
	for hdr == "" { // newlines while the master prepares the RDB
		hdr = readLine(t, rc.r)
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(hdr, "$"), 10, 64)
	if err != nil {
		t.Fatalf("RDB header %q", hdr)
	}
	if _, err := io.CopyN(io.Discard, rc.r, n); err != nil {
		t.Fatalf("read the RDB: %v", err)
	}
	return &fakeReplica{rc: rc, off: off}
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read from the master: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// readUntil reads the stream up to offset end and then on until it has
// seen getacks GETACKs.
func (f *fakeReplica) readUntil(t *testing.T, end int64, getacks int) {
	t.Helper()
	f.rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	cr := &countingReader{r: f.rc.r}
	br := bufio.NewReaderSize(cr, 1<<16)
	at := func() int64 { return f.off + cr.n - int64(br.Buffered()) }
	for at() < end || f.getacks < getacks {
		v, err := readResp(br)
		if err != nil {
			t.Fatalf("read the stream at %d: %v", at(), err)
		}
		if len(v.Elems) >= 2 && strings.EqualFold(v.Elems[0].Str, "replconf") && strings.EqualFold(v.Elems[1].Str, "getack") {
			f.getacks++
		}
	}
	if br.Buffered() > 0 {
		t.Fatalf("%d bytes after the last GETACK", br.Buffered())
	}
	f.off += cr.n
}

func (f *fakeReplica) ack(t *testing.T) {
	t.Helper()
	if _, err := f.rc.c.Write(respCommand("REPLCONF", "ACK", strconv.FormatInt(f.off, 10))); err != nil {
		t.Fatalf("ACK: %v", err)
	}
}

type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// WAIT is woken by the replica's ACK (WAIT 1 0 never times out), the WAITs
// made while the replica is busy share one GETACK, and a WAIT that no ACK
// satisfies replies with the count at its timeout.
func TestWaitWokenByAckOneGetack(t *testing.T) {
	// No PINGs: the stream holds only what the test counts.
	s, addr := startServer(t, "save", "", "repl-ping-replica-period", "3600")
	ctx := context.Background()
	rep := newFakeReplica(t, addr)
	master := newClient(t, addr)
	waitFor(t, func() bool { return strings.Contains(master.Info(ctx, "replication").Val(), "state=online") }, "the replica online")

	// Keep the sender busy: more than the socket buffers hold, unread.
	big := strings.Repeat("v", 1<<20)
	for i := 0; i < 32; i++ {
		if err := master.Set(ctx, "big"+strconv.Itoa(i), big, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	const waiters = 8
	asked := s.repl.ackRequests.Load()
	var wg sync.WaitGroup
	got := make([]int64, waiters)
	errs := make([]error, waiters)
	for i := 0; i < waiters; i++ {
		c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1; o.ReadTimeout = 60 * time.Second })
		if err := c.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], errs[i] = c.Do(ctx, "WAIT", 1, 0).Int64()
		}(i)
	}
	waitFor(t, func() bool { return s.repl.ackRequests.Load() == asked+waiters }, "every WAIT to ask for an ACK")
	// A WAIT that only a timeout ends replies how many acknowledged: none.
	start := time.Now()
	if n, err := master.Do(ctx, "WAIT", 1, 100).Int64(); err != nil || n != 0 {
		t.Fatalf("WAIT 1 100 before any ACK = %d %v, want 0", n, err)
	}
	t.Logf("WAIT 1 100 timed out after %v", time.Since(start))

	// The replica reads on: the writes, then one GETACK for all the WAITs
	// (the sender was stuck on the unread stream while they asked).
	end := s.repl.offsetA.Load()
	rep.readUntil(t, end, 1)
	if n := s.repl.getacksSent.Load(); n != 1 || rep.off != s.repl.offsetA.Load() {
		t.Fatalf("%d GETACKs sent for %d WAITs, stream read to %d of %d; want 1 GETACK ending the stream",
			n, waiters+1, rep.off, s.repl.offsetA.Load())
	}
	start = time.Now()
	rep.ack(t)
	wg.Wait()
	t.Logf("%d WAITs woken %v after the ACK", waiters, time.Since(start))
	for i := range got {
		if errs[i] != nil || got[i] != 1 {
			t.Fatalf("WAIT %d = %d %v, want 1", i, got[i], errs[i])
		}
	}
	if n, err := master.Do(ctx, "WAIT", 1, 0).Int64(); err != nil || n != 1 {
		t.Fatalf("WAIT after the ACK = %d %v, want 1 at once", n, err)
	}
}

// Clients doing SET then WAIT against a warden replica: every WAIT 1 0 is
// acknowledged (the replica answers GETACK at once; nothing polls).
func TestWaitWithWardenReplica(t *testing.T) {
	_, maddr := startServer(t, "save", "")
	_, mport, _ := strings.Cut(maddr, ":")
	_, raddr := startServer(t, "save", "", "replicaof", "127.0.0.1 "+mport)
	ctx := context.Background()
	waitLinkUp(t, newClient(t, raddr))
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	start := time.Now()
	for i := 0; i < 8; i++ {
		c := newClient(t, maddr, func(o *redis.Options) { o.PoolSize = 1; o.ReadTimeout = 30 * time.Second })
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if err := c.Set(ctx, "k"+strconv.Itoa(i), j, 0).Err(); err != nil {
					errc <- err
					return
				}
				if n, err := c.Do(ctx, "WAIT", 1, 0).Int64(); err != nil || n != 1 {
					errc <- fmt.Errorf("WAIT 1 0 = %d %v", n, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	t.Logf("400 acknowledged SET+WAIT pairs in %v", time.Since(start))
	r := newClient(t, raddr)
	for i := 0; i < 8; i++ {
		if v := r.Get(ctx, "k"+strconv.Itoa(i)).Val(); v != "49" {
			t.Fatalf("replica k%d = %q, want 49", i, v)
		}
	}
}

// A replica that stops reading is dropped once it is the output limit
// behind, and the writes that pass the limit go on (the close does not
// happen under their locks).
func TestReplicaOverOutputLimitDropped(t *testing.T) {
	s, addr := startServer(t, "save", "")
	s.repl.mu.Lock()
	s.repl.outLimit = 1 << 20
	s.repl.mu.Unlock()
	ctx := context.Background()
	rep := newFakeReplica(t, addr) // and never reads again
	master := newClient(t, addr)
	waitFor(t, func() bool { return strings.Contains(master.Info(ctx, "replication").Val(), "state=online") }, "the replica online")
	big := strings.Repeat("v", 1<<20)
	for i := 0; i < 32; i++ {
		if err := master.Set(ctx, "big"+strconv.Itoa(i), big, 0).Err(); err != nil {
			t.Fatalf("write %d with a stuck replica: %v", i, err)
		}
	}
	waitFor(t, func() bool {
		return strings.Contains(master.Info(ctx, "replication").Val(), "connected_slaves:0")
	}, "the stuck replica to be dropped")
	rep.rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.Copy(io.Discard, rep.rc.r); err != nil {
		t.Fatalf("the dropped replica's link: %v, want closed (EOF)", err)
	}
	if err := master.Set(ctx, "after", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// With two replicas an ACK completes exactly the WAITs it satisfies: WAIT 1
// at the first replica's ACK, WAIT 2 only at the second one's, and an ACK
// below a WAIT's offset completes nothing.
func TestWaitCompletedByTheAckThatSatisfiesIt(t *testing.T) {
	s, addr := startServer(t, "save", "", "repl-ping-replica-period", "3600")
	ctx := context.Background()
	r1, r2 := newFakeReplica(t, addr), newFakeReplica(t, addr)
	master := newClient(t, addr)
	waitFor(t, func() bool { return strings.Count(master.Info(ctx, "replication").Val(), "state=online") == 2 }, "both replicas online")
	// Both acknowledge the stream so far.
	end := s.repl.offsetA.Load()
	r1.readUntil(t, end, 0)
	r2.readUntil(t, end, 0)
	r1.ack(t)
	r2.ack(t)
	waitFor(t, func() bool { return s.repl.acked(end) == 2 }, "both ACKs counted")

	type result struct {
		n   int64
		err error
	}
	wait := func(want int) <-chan result {
		c := newClient(t, addr, func(o *redis.Options) { o.PoolSize = 1; o.ReadTimeout = 60 * time.Second })
		if err := c.Set(ctx, "k"+strconv.Itoa(want), want, 0).Err(); err != nil {
			t.Fatal(err)
		}
		ch := make(chan result, 1)
		go func() {
			n, err := c.Do(ctx, "WAIT", want, 0).Int64()
			ch <- result{n, err}
		}()
		return ch
	}
	asked := s.repl.ackRequests.Load()
	w1, w2 := wait(1), wait(2)
	waitFor(t, func() bool { return s.repl.ackRequests.Load() == asked+2 }, "both WAITs to ask for an ACK")
	waitFor(t, func() bool { return s.repl.getacksSent.Load() >= 1 }, "a GETACK in the stream")
	stale := r1.off // an ACK of what was acknowledged already
	r1.readUntil(t, s.repl.offsetA.Load(), 1)
	if _, err := r1.rc.c.Write(respCommand("REPLCONF", "ACK", strconv.FormatInt(stale, 10))); err != nil {
		t.Fatal(err)
	}
	r1.ack(t)
	if got := <-w1; got.err != nil || got.n != 1 {
		t.Fatalf("WAIT 1 = %d %v, want 1", got.n, got.err)
	}
	s.repl.waiters.mu.Lock()
	blocked := len(s.repl.waiters.list)
	s.repl.waiters.mu.Unlock()
	if blocked != 1 {
		t.Fatalf("%d WAITs blocked after one replica's ACK, want 1 (WAIT 2)", blocked)
	}
	select {
	case got := <-w2:
		t.Fatalf("WAIT 2 replied %d %v with one replica's ACK", got.n, got.err)
	default:
	}
	r2.readUntil(t, s.repl.offsetA.Load(), 1)
	r2.ack(t)
	if got := <-w2; got.err != nil || got.n != 2 {
		t.Fatalf("WAIT 2 = %d %v, want 2", got.n, got.err)
	}
}
