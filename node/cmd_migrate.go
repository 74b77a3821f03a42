package node

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// MIGRATE moves keys to another server as Redis 7.0 does: DUMP payloads
// sent as RESTORE commands over a cached connection, the local keys deleted
// (unless COPY) only once the target acknowledged each, and the command
// propagated as a DEL of exactly those keys. The keys' partitions stay
// locked for the whole exchange (bounded by the timeout), so no write can
// land between the DUMP and the DEL and be lost.

const (
	migrateCacheTTL = 10 * time.Second // Redis's MIGRATE_SOCKET_CACHE_TTL
	migrateCacheMax = 64               // Redis's MIGRATE_SOCKET_CACHE_ITEMS
	migrateLineMax  = 1024             // Redis reads each reply into 1 KB
)

func registerMigrate(t table) {
	t.add(
		&Command{Name: "migrate", Arity: -6, Flags: fWrite, FirstKey: 3, LastKey: 3, Step: 1, KeyFn: migrateKeys, Run: cmdMigrate, Group: "generic"},
		&Command{Name: "restore-asking", Arity: -4, Flags: fWrite | fDenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Run: cmdRestore, Group: "server"},
		&Command{Name: "asking", Arity: 1, Flags: fFast, Run: cmdAsking, Group: "cluster"},
	)
}

// cmdAsking accepts the ASK protocol's handshake. warden never answers
// -ASK (a slot changes owner in one Raft command, with no importing state a
// client could be sent to), so the flag has nothing to unlock.
func cmdAsking(c *Ctx) {
	if clusterOf(c) != nil {
		c.OK()
	}
}

// migrateKeys is Redis's migrateGetKeys: the key argument, or with KEYS
// every argument after it (the key argument must then be empty).
func migrateKeys(args [][]byte) [][]byte {
	if len(args) < 6 {
		return nil
	}
	for i := 6; i < len(args); i++ {
		switch {
		case eq(args[i], "auth"):
			i++
		case eq(args[i], "auth2"):
			i += 2
		case eq(args[i], "keys"):
			if len(args[3]) == 0 && i+1 < len(args) {
				return args[i+1:]
			}
			return args[3:4] // as Redis's key specs: the key argument
		}
	}
	return args[3:4]
}

type migrateOpts struct {
	copy, replace  bool
	user, password []byte
	keys           [][]byte
	db             int64
	timeout        time.Duration
}

// parseMigrate checks MIGRATE's arguments in Redis 7.0's order: options,
// then timeout and database.
func parseMigrate(c *Ctx) (migrateOpts, bool) {
	o := migrateOpts{keys: c.Args[3:4]}
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch a := c.Args[j]; {
		case eq(a, "copy"):
			o.copy = true
		case eq(a, "replace"):
			o.replace = true
		case eq(a, "auth"):
			if more < 1 {
				c.Err(errSyntax)
				return o, false
			}
			j++
			o.password = c.Args[j]
		case eq(a, "auth2"):
			if more < 2 {
				c.Err(errSyntax)
				return o, false
			}
			o.user, o.password = c.Args[j+1], c.Args[j+2]
			j += 2
		case eq(a, "keys"):
			if len(c.Args[3]) != 0 {
				c.Err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
				return o, false
			}
			o.keys = c.Args[j+1:]
			j = len(c.Args)
		default:
			c.Err(errSyntax)
			return o, false
		}
	}
	ms, ok := c.ParseInt(c.Args[5])
	if !ok {
		return o, false
	}
	if o.db, ok = c.ParseInt(c.Args[4]); !ok {
		return o, false
	}
	if ms <= 0 {
		ms = 1000
	}
	o.timeout = time.Duration(min(ms, int64(time.Duration(1<<62)/time.Millisecond))) * time.Millisecond
	return o, true
}

func cmdMigrate(c *Ctx) {
	o, ok := parseMigrate(c)
	if !ok {
		return
	}
	if len(o.keys) == 0 { // KEYS with none
		c.Status("NOKEY")
		return
	}
	// Keys that are gone (often just expired) are skipped; none at all is
	// NOKEY, not an error.
	var keys [][]byte
	var restores []byte
	restore := []byte("RESTORE")
	if c.s.cluster != nil {
		restore = []byte("RESTORE-ASKING")
	}
	now := c.DB.Now()
	for _, k := range o.keys {
		obj := c.Read(k)
		if obj == nil {
			continue
		}
		ttl := int64(0)
		if obj.Expire != 0 {
			ttl = max(obj.Expire-now, 1)
		}
		argv := [][]byte{restore, k, strconv.AppendInt(nil, ttl, 10), rdb.DumpPayload(obj)}
		if o.replace {
			argv = append(argv, []byte("REPLACE"))
		}
		restores = aof.AppendCommand(restores, argv...)
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		c.Status("NOKEY")
		return
	}
	var auth []byte
	if o.user != nil {
		auth = aof.AppendCommand(nil, []byte("AUTH"), o.user, o.password)
	} else if o.password != nil {
		auth = aof.AppendCommand(nil, []byte("AUTH"), o.password)
	}
	addr := net.JoinHostPort(string(c.Args[1]), string(c.Args[2]))
	var prefix int // replies before the RESTOREs' (AUTH, SELECT)
	replies, err := c.s.migrateConns.exchange(addr, o.timeout, int(o.db), func(sel bool) ([]byte, int) {
		out := append([]byte(nil), auth...)
		prefix = 0
		if auth != nil {
			prefix++
		}
		if sel {
			out = aof.AppendCommand(out, []byte("SELECT"), strconv.AppendInt(nil, o.db, 10))
			prefix++
		}
		return append(out, restores...), prefix + len(keys)
	})

	// As Redis: the first error line (AUTH's, SELECT's or a RESTORE's) is
	// the reply, and a key is deleted only when its RESTORE succeeded and
	// AUTH and SELECT did too.
	var targetErr []byte
	for _, r := range replies {
		if len(r) > 0 && r[0] == '-' {
			targetErr = r[1:]
			break
		}
	}
	var deleted [][]byte
	prefixOK := len(replies) >= prefix && !hasErrorLine(replies[:prefix])
	for i, k := range keys {
		if o.copy || !prefixOK || prefix+i >= len(replies) {
			break
		}
		if r := replies[prefix+i]; len(r) > 0 && r[0] == '-' {
			continue
		}
		if c.DB.Delete(k) {
			c.notify(keyevents.Generic, "del", k)
			deleted = append(deleted, k)
		}
	}
	if len(deleted) > 0 {
		c.Propagate(append([][]byte{[]byte("DEL")}, deleted...)...)
	}
	switch {
	case targetErr != nil:
		c.Err("ERR Target instance replied with error: " + string(targetErr))
	case err != nil:
		c.Err(migrateErrReply(err))
	default:
		c.OK()
	}
}

// migrateErrReply is the client's error for a failed exchange: Redis's
// text, without the cause (which is for the log).
func migrateErrReply(err error) string {
	for _, e := range []error{errMigrateConnect, errMigrateWrite, errMigrateRead} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "IOERR " + err.Error()
}

func hasErrorLine(lines [][]byte) bool {
	for _, r := range lines {
		if len(r) > 0 && r[0] == '-' {
			return true
		}
	}
	return false
}

// migrateConns caches MIGRATE's connections per target, as Redis does, so
// moving many keys one MIGRATE at a time costs one connect.
type migrateConns struct {
	mu    sync.Mutex
	conns map[string]*migrateConn
}

type migrateConn struct {
	mu     sync.Mutex // one exchange at a time
	conn   net.Conn
	r      *bufio.Reader
	lastDB int // -1: unknown, SELECT next time
	used   time.Time
	closed bool
}

var (
	errMigrateConnect = errors.New("IOERR error or timeout connecting to the client")
	errMigrateWrite   = errors.New("IOERR error or timeout writing to target instance")
	errMigrateRead    = errors.New("IOERR error or timeout reading to target instance")
)

// exchange sends build's commands to addr and reads one line per command.
// build is told whether a SELECT must be sent (the connection's database
// is not db) and returns the bytes and the number of replies to read. A
// connection that fails before any reply, other than by timing out, is
// reconnected once: a cached socket the target closed while idle.
func (m *migrateConns) exchange(addr string, timeout time.Duration, db int, build func(sel bool) ([]byte, int)) ([][]byte, error) {
	for attempt := 0; ; attempt++ {
		mc, err := m.get(addr, timeout)
		if err != nil {
			return nil, err
		}
		mc.mu.Lock()
		if mc.closed { // closed by the idle sweep between get and Lock
			mc.mu.Unlock()
			continue
		}
		sel := mc.lastDB != db
		out, n := build(sel)
		replies, err := mc.roundTrip(out, n, timeout)
		if err == nil {
			mc.lastDB = db
			for _, r := range replies {
				if len(r) > 0 && r[0] == '-' {
					mc.lastDB = -1 // as Redis: after an error, SELECT again
				}
			}
		}
		mc.used = time.Now()
		mc.mu.Unlock()
		if err == nil {
			return replies, nil
		}
		m.drop(addr, mc)
		if len(replies) == 0 && attempt == 0 && !errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		return replies, err
	}
}

func (mc *migrateConn) roundTrip(out []byte, n int, timeout time.Duration) ([][]byte, error) {
	_ = mc.conn.SetDeadline(time.Now().Add(timeout))
	if _, err := mc.conn.Write(out); err != nil {
		return nil, fmt.Errorf("%w: %w", errMigrateWrite, err)
	}
	replies := make([][]byte, 0, n)
	for range n {
		_ = mc.conn.SetReadDeadline(time.Now().Add(timeout))
		line, err := mc.readLine()
		if err != nil {
			return replies, fmt.Errorf("%w: %w", errMigrateRead, err)
		}
		replies = append(replies, line)
	}
	return replies, nil
}

// readLine reads one reply line (without CRLF), at most migrateLineMax bytes
// kept; a longer line is read through and truncated.
func (mc *migrateConn) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := mc.r.ReadSlice('\n')
		if len(line) < migrateLineMax {
			line = append(line, chunk[:min(len(chunk), migrateLineMax-len(line))]...)
		}
		switch {
		case err == nil:
			for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
				line = line[:len(line)-1]
			}
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return nil, err
		}
	}
}

func (m *migrateConns) get(addr string, timeout time.Duration) (*migrateConn, error) {
	m.mu.Lock()
	if mc := m.conns[addr]; mc != nil {
		m.mu.Unlock()
		return mc, nil
	}
	m.mu.Unlock()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		// Redis waits for the socket to become writable and only a
		// timeout fails the connect; a refused connect fails the write.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("%w: %w", errMigrateConnect, err)
		}
		return nil, fmt.Errorf("%w: %w", errMigrateWrite, err)
	}
	mc := &migrateConn{conn: conn, r: bufio.NewReaderSize(conn, 4096), lastDB: -1, used: time.Now()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old := m.conns[addr]; old != nil { // another MIGRATE connected first
		conn.Close()
		return old, nil
	}
	if m.conns == nil {
		m.conns = make(map[string]*migrateConn)
	}
	if len(m.conns) >= migrateCacheMax { // Redis drops a random one
		for a, victim := range m.conns {
			go victim.close()
			delete(m.conns, a)
			break
		}
	}
	m.conns[addr] = mc
	return mc, nil
}

func (m *migrateConns) drop(addr string, mc *migrateConn) {
	m.mu.Lock()
	if m.conns[addr] == mc {
		delete(m.conns, addr)
	}
	m.mu.Unlock()
	mc.close()
}

func (mc *migrateConn) close() {
	mc.mu.Lock()
	mc.closed = true
	mc.conn.Close()
	mc.mu.Unlock()
}

// closeIdle closes connections unused for migrateCacheTTL (from cron).
func (m *migrateConns) closeIdle(now time.Time) {
	m.mu.Lock()
	var idle []*migrateConn
	for a, mc := range m.conns {
		if mc.mu.TryLock() { // busy ones are in use, not idle
			if now.Sub(mc.used) > migrateCacheTTL {
				idle = append(idle, mc)
				delete(m.conns, a)
			}
			mc.mu.Unlock()
		}
	}
	m.mu.Unlock()
	for _, mc := range idle {
		mc.close()
	}
}

// closeAll closes every cached connection (shutdown).
func (m *migrateConns) closeAll() {
	m.mu.Lock()
	conns := m.conns
	m.conns = nil
	m.mu.Unlock()
	for _, mc := range conns {
		mc.close()
	}
}
