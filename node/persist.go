package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tidwall/redcon"
	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/aof"
	"github.com/wardenkv/warden/keyspace/rdb"
)

// persist is the node's durability state: RDB snapshots (SAVE, BGSAVE, save
// rules), the append-only file and its rewrites. One snapshot runs at a time
// (Redis's one child process); the other kind is scheduled behind it.
type persist struct {
	mu               sync.Mutex
	child            string // "rdb" or "aof" while a snapshot is being written
	childStart       time.Time
	childDone        chan struct{} // closed when child ends; nil when none runs
	bgsaveScheduled  bool
	rewriteScheduled bool
	lastBgsaveErr    error
	lastBgsaveTry    time.Time
	lastBgsaveSecs   int64
	rdbSaves         int64
	lastRewriteErr   error
	lastRewriteSecs  int64
	rewrites         int64
	rewriteFailures  int64
	rewriteBase      int64 // AOF size after the last rewrite (auto-aof-rewrite-percentage)

	aof       *aof.AOF // nil when appendonly is off; guarded by mu
	bgsaveBad atomic.Bool
	loading   atomic.Bool
	loaded    atomic.Int64 // keys loaded at startup
	expired   atomic.Int64 // keys already expired at load

	// Shutdown (see prepareShutdown). While an attempt runs, replies are
	// held (hold is closed when it fails); once one succeeded, exiting is
	// set and held replies are never sent.
	shutdownMu sync.Mutex // one attempt at a time
	holdMu     sync.Mutex
	hold       chan struct{}
	holding    atomic.Bool
	exiting    atomic.Bool
}

// aofEnd is the end offset of everything appended to the AOF so far; a
// client whose reply depends on writes made on its behalf by another
// goroutine (a served BLPOP) waits for it.
func (s *Server) aofAppend(db int, cmds ...[][]byte) int64 {
	a := s.aofLog.Load()
	if a == nil {
		return 0
	}
	end := a.Append(db, cmds...)
	for {
		cur := s.aofEnd.Load()
		if end <= cur || s.aofEnd.CompareAndSwap(cur, end) {
			return end
		}
	}
}

// syncAOF makes the client's writes durable per appendfsync before its
// replies are sent (appendfsync always: fsynced, group-committed with the
// other clients waiting; otherwise written to the file).
func (s *Server) syncAOF(cl *Client) {
	end := cl.aofPending
	cl.aofPending = 0
	a := s.aofLog.Load()
	if a == nil || end == 0 {
		return
	}
	if err := a.Sync(end); err != nil && !cl.internal && s.cfg.Get("appendfsync") == "always" {
		// Not durable, so not acknowledged: the connection closes without
		// the replies (Redis exits instead). The data stays buffered and
		// the AOF retries the write; the error is logged by the AOF and
		// refuses writes (MISCONF) until then. With everysec and no the
		// reply goes out, as Redis's does.
		cl.Kill()
	}
}

// aofRefusal is the MISCONF text while the AOF cannot take writes, as
// Redis words it ("... AOF file: No space left on device"), or "".
func (s *Server) aofRefusal() string {
	a := s.aofLog.Load()
	if a == nil {
		return ""
	}
	err := a.LastError()
	if err == nil {
		return ""
	}
	return "MISCONF Errors writing to the AOF file: " + strerror(err)
}

// strerror renders err's OS error the way C's strerror does
// ("No space left on device"); other errors as they are.
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	msg := errno.Error()
	if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return msg
}

func (s *Server) rdbPath() string {
	return filepath.Join(s.cfg.Get("dir"), s.cfg.Get("dbfilename"))
}

func (s *Server) aofOptions() (aof.Options, error) {
	fsync, err := aof.ParseFsync(s.cfg.Get("appendfsync"))
	if err != nil {
		return aof.Options{}, err
	}
	return aof.Options{
		Dir:            filepath.Join(s.cfg.Get("dir"), s.cfg.Get("appenddirname")),
		FileName:       s.cfg.Get("appendfilename"),
		Fsync:          fsync,
		UseRDBPreamble: s.cfg.Bool("aof-use-rdb-preamble"),
		LoadTruncated:  s.cfg.Bool("aof-load-truncated"),
		Log:            s.log,
	}, nil
}

// startPersistence loads the data set from disk (the AOF when appendonly is
// on, else dump.rdb) and opens the AOF for appending. It runs before the
// first client is accepted.
func (s *Server) startPersistence() error {
	p := &s.persist
	p.loading.Store(true)
	defer p.loading.Store(false)
	start := time.Now()
	if s.cfg.Bool("appendonly") {
		opts, err := s.aofOptions()
		if err != nil {
			return err
		}
		existed := aof.Exists(opts.Dir, opts.FileName)
		if !existed {
			if err := s.loadRDBFile(s.rdbPath()); err != nil {
				return err
			}
		}
		a, err := aof.Open(opts)
		if err != nil {
			return fmt.Errorf("open the append only file in %s: %w", opts.Dir, err)
		}
		if existed {
			st, err := a.Load(func(r *bufio.Reader) error {
				info, err := rdb.Load(r, s.insertLoaded)
				if err == nil {
					err = s.loadFunctions(info.Functions, "replace")
				}
				return err
			}, s.replayer())
			if err != nil {
				a.Close()
				return fmt.Errorf("load the append only file in %s: %w", opts.Dir, err)
			}
			s.log.Info("DB loaded from append only file", "commands", st.Commands, "bytes", st.Bytes, "truncated", st.Truncated, "took", time.Since(start).Round(time.Microsecond))
		}
		s.dirty.Store(0)
		p.mu.Lock()
		p.aof = a
		p.rewriteBase, _ = a.Size()
		p.mu.Unlock()
		s.aofLog.Store(a)
		if !existed && s.totalKeys() > 0 {
			// The data came from dump.rdb: give the new AOF its base before
			// any write, or a crash would leave an AOF without that data.
			if err := s.rewriteAOF(true); err != nil {
				return fmt.Errorf("create the append only file from %s: %w", s.rdbPath(), err)
			}
		}
	} else if err := s.loadRDBFile(s.rdbPath()); err != nil {
		return err
	}
	s.dirty.Store(0)
	s.log.Info("data set ready", "keys", s.totalKeys(), "expired_at_load", p.expired.Load(), "took", time.Since(start).Round(time.Microsecond))
	return nil
}

func (s *Server) totalKeys() int64 {
	var n int64
	for i := 0; i < s.store.NumDBs(); i++ {
		n += s.store.DB(i).Len()
	}
	return n
}

// loadRDBFile loads path if it exists; a missing file is an empty data set.
func (s *Server) loadRDBFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	start := time.Now()
	info, err := rdb.Load(bufio.NewReaderSize(f, 1<<20), s.insertLoaded)
	if err == nil {
		err = s.loadFunctions(info.Functions, "replace")
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	s.log.Info("DB loaded from disk", "file", path, "keys", s.persist.loaded.Load(), "took", time.Since(start).Round(time.Microsecond))
	if ri, ok := rdb.ReplInfoFromAux(info.Aux); ok {
		s.restoreReplInfo(ri)
	}
	return nil
}

// insertLoaded stores one key read from an RDB file or AOF base. Keys that
// expired while the server was down are dropped, as a Redis master does.
func (s *Server) insertLoaded(e rdb.LoadedEntry) error {
	if e.DB < 0 || e.DB >= s.store.NumDBs() {
		return fmt.Errorf("key %q is in db %d but databases is %d", e.Key, e.DB, s.store.NumDBs())
	}
	if e.Obj.Expire != 0 && e.Obj.Expire <= time.Now().UnixMilli() {
		s.persist.expired.Add(1)
		return nil
	}
	e.Obj.LRU = keyspace.LRUClock()
	tx := s.store.Lock1(e.DB, e.Key)
	tx.DB(e.DB).Load(e.Key, e.Obj)
	tx.Unlock()
	s.persist.loaded.Add(1)
	return nil
}

// replayer returns the function that applies AOF commands through the
// normal dispatch, as an internal client whose replies are discarded.
func (s *Server) replayer() func(argv [][]byte) error {
	cl := s.internalClient()
	return func(argv [][]byte) error {
		if len(argv) == 0 {
			return nil
		}
		if _, msg := s.lookup(&cl.ctx, argv); msg != "" {
			return fmt.Errorf("%s (reading the append only file)", strings.TrimPrefix(msg, "ERR "))
		}
		s.call(cl, argv)
		return nil
	}
}

// internalClient is a client with no connection (AOF replay).
func (s *Server) internalClient() *Client {
	conn := newNullConn()
	cl := &Client{ID: s.nextID.Add(1), conn: conn, authed: true, internal: true, killed: make(chan struct{}), created: time.Now()}
	cl.setProto(2)
	cl.ctx = Ctx{s: s, cl: cl, conn: conn}
	conn.SetContext(cl)
	return cl
}

// ---- snapshots: RDB files and AOF bases

// snapshotWriter serializes a snapshot's partitions into w, either as an RDB
// image (dump.rdb, AOF preamble, a diskless full sync) or as AOF commands.
// A slot is serialized under its partition's lock (on the walking goroutine
// or on a command's) and queued; only the walking goroutine writes, between
// slots, with no lock held, so a slow destination (a replica's socket)
// slows the walk, never a command.
type snapshotWriter struct {
	mu       sync.Mutex
	queue    []*[]byte // serialized chunks not written yet
	spare    []*[]byte
	w        io.Writer
	fw       *rdb.FileWriter
	compress bool
	err      error // the walking goroutine's only
}

// chunkPool recycles capture buffers: a snapshot serializes the whole data
// set, and fresh buffers would feed the garbage collector the same amount.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (sw *snapshotWriter) capture(db int, pv keyspace.PartView) {
	if pv.Len() == 0 {
		return
	}
	bp := chunkPool.Get().(*[]byte)
	chunk := sw.appendSelect((*bp)[:0], db)
	empty := len(chunk)
	pv.Each(func(key []byte, o *keyspace.Object) bool {
		if o.Big() { // serialized later, with no lock held
			pv.Freeze(key, o, sw.captureBig)
			return true
		}
		chunk = sw.appendEntry(chunk, key, o)
		return true
	})
	*bp = chunk
	if len(chunk) == empty {
		*bp = chunk[:0]
		chunkPool.Put(bp)
		return
	}
	sw.enqueue(bp)
}

// captureBig serializes one frozen big value (keyspace.Frozen).
func (sw *snapshotWriter) captureBig(db int, key []byte, o *keyspace.Object) {
	bp := chunkPool.Get().(*[]byte)
	*bp = sw.appendEntry(sw.appendSelect((*bp)[:0], db), key, o)
	sw.enqueue(bp)
}

func (sw *snapshotWriter) appendSelect(b []byte, db int) []byte {
	if sw.fw != nil {
		return rdb.AppendSelectDB(b, db)
	}
	return aof.AppendSelect(b, db)
}

func (sw *snapshotWriter) appendEntry(b, key []byte, o *keyspace.Object) []byte {
	if sw.fw != nil {
		return rdb.AppendEntry(b, key, o, sw.compress)
	}
	return aof.AppendEntryCommands(b, key, o)
}

func (sw *snapshotWriter) enqueue(bp *[]byte) {
	sw.mu.Lock()
	sw.queue = append(sw.queue, bp)
	sw.mu.Unlock()
}

// drain writes the queued chunks (the walking goroutine, no lock held).
func (sw *snapshotWriter) drain() {
	sw.mu.Lock()
	q := sw.queue
	sw.queue = sw.spare[:0]
	sw.mu.Unlock()
	for i, bp := range q {
		if sw.err == nil {
			if sw.fw != nil {
				sw.err = sw.fw.Write(*bp)
			} else {
				_, sw.err = sw.w.Write(*bp)
			}
		}
		if cap(*bp) <= 1<<20 { // not a big value's buffer
			*bp = (*bp)[:0]
			chunkPool.Put(bp)
		}
		q[i] = nil
	}
	sw.spare = q
}

// snapshotOpts shape a snapshot's output.
type snapshotOpts struct {
	asRDB   bool // an RDB image, else AOF commands
	aofBase bool // the RDB is an AOF base (aux aof-base 1)
	usedMem int64
	repl    *rdb.ReplInfo // the replication position to record, if any
}

// beginSnapshot starts a snapshot into w under tx (which holds every
// partition). It returns the function that completes it: walk, trailer.
// o.usedMem is recorded in the RDB header (read before tx was taken:
// reading it stops the world briefly).
func (s *Server) beginSnapshot(tx *keyspace.Tx, w io.Writer, o snapshotOpts) (func() error, error) {
	sw := &snapshotWriter{w: w, compress: s.cfg.Bool("rdbcompression")}
	if o.asRDB {
		fw, err := rdb.NewFileWriter(w, rdb.FileOptions{
			Compress: sw.compress,
			Checksum: s.cfg.Bool("rdbchecksum"),
			AOFBase:  o.aofBase,
			UsedMem:  o.usedMem,
			Repl:     o.repl,
			// (under tx, which holds every partition: no FUNCTION
			// command runs meanwhile, keyless as they are, but their
			// order against the walk does not matter)
			Functions: s.functionCodes(),
		})
		if err != nil {
			return nil, err
		}
		for i := 0; i < s.store.NumDBs(); i++ {
			db := s.store.DB(i)
			if n := db.Len(); n > 0 {
				if err := fw.ResizeDB(i, uint64(n), uint64(db.Volatile())); err != nil {
					return nil, err
				}
			}
		}
		sw.fw = fw
	} else if err := writeFunctionLoads(w, s.functionCodes()); err != nil {
		return nil, err
	}
	sn, err := tx.BeginSnapshot(sw.capture)
	if err != nil {
		return nil, err
	}
	sn.Between = sw.drain
	return func() error {
		sn.Run()
		sw.drain() // what commands captured after the walk's last slot
		if sw.err != nil {
			return sw.err
		}
		if sw.fw != nil {
			return sw.fw.Close()
		}
		return nil
	}, nil
}

// claimChild reserves the single snapshot slot for kind ("rdb" or "aof").
func (p *persist) claimChild(kind string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.child != "" {
		return &childBusyError{p.child}
	}
	p.child, p.childStart, p.childDone = kind, time.Now(), make(chan struct{})
	return nil
}

// releaseChild frees the snapshot slot. Callers hold p.mu.
func (p *persist) releaseChild() {
	p.child = ""
	if p.childDone != nil {
		close(p.childDone)
		p.childDone = nil
	}
}

// childBusyError: another snapshot holds the slot.
type childBusyError struct{ kind string }

func (e *childBusyError) Error() string { return fmt.Sprintf("a %s snapshot is in progress", e.kind) }

// rdbSave writes dump.rdb from a point-in-time snapshot. With background
// it returns once the snapshot has begun; otherwise when the file is on disk.
func (s *Server) rdbSave(background bool) error {
	p := &s.persist
	if err := p.claimChild("rdb"); err != nil {
		return err
	}
	path := s.rdbPath()
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf("temp-%d-%d.rdb", os.Getpid(), time.Now().UnixNano()))
	f, err := os.Create(tmp)
	if err != nil {
		p.finishBgsave(s, fmt.Errorf("create %s: %w", tmp, err), 0)
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	usedMem := heapInUse()
	unlockApply := s.lockReplApply()
	tx := s.store.LockAll()
	dirtyAtStart := s.dirty.Load()
	finish, err := s.beginSnapshot(tx, bw, snapshotOpts{asRDB: true, usedMem: usedMem, repl: s.snapshotReplInfo()})
	tx.Unlock()
	unlockApply()
	if err != nil {
		f.Close()
		os.Remove(tmp)
		p.finishBgsave(s, err, 0)
		return err
	}
	run := func() error {
		err := finish()
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, path)
		}
		if err == nil {
			err = syncDir(filepath.Dir(path))
		}
		if err != nil {
			os.Remove(tmp)
			err = fmt.Errorf("save %s: %w", path, err)
		}
		p.finishBgsave(s, err, dirtyAtStart)
		return err
	}
	if background {
		go run()
		return nil
	}
	return run()
}

func (p *persist) finishBgsave(s *Server, err error, dirtyAtStart int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	took := time.Since(p.childStart)
	p.lastBgsaveSecs = int64(took.Seconds())
	p.releaseChild()
	p.lastBgsaveErr = err
	p.lastBgsaveTry = time.Now()
	p.bgsaveBad.Store(err != nil)
	if err != nil {
		s.log.Error("background saving error", "err", err)
		return
	}
	p.rdbSaves++
	s.dirty.Add(-dirtyAtStart)
	s.lastSave.Store(time.Now().Unix())
	s.log.Info("DB saved on disk", "file", s.rdbPath(), "took", took.Round(time.Microsecond))
}

// rewriteAOF compacts the AOF: a new base from a snapshot, while new writes
// go to a new incremental file opened at the same cut.
func (s *Server) rewriteAOF(wait bool) error {
	p := &s.persist
	p.mu.Lock()
	a := p.aof
	p.mu.Unlock()
	if a == nil {
		return errors.New("append only file is off (appendonly no)")
	}
	if err := p.claimChild("aof"); err != nil {
		return err
	}
	usedMem := heapInUse()
	tx := s.store.LockAll()
	rw, err := a.BeginRewrite()
	if err != nil {
		tx.Unlock()
		p.finishRewrite(s, a, err)
		return err
	}
	finish, err := s.beginSnapshot(tx, rw.Base(), snapshotOpts{asRDB: rw.RDB(), aofBase: true, usedMem: usedMem})
	tx.Unlock()
	if err == nil && s.cfg.Bool("no-appendfsync-on-rewrite") {
		a.SetFsync(aof.FsyncNo) // restored by finishRewrite
	}
	if err != nil {
		rw.Abort()
		p.finishRewrite(s, a, err)
		return err
	}
	run := func() error {
		err := finish()
		if err == nil {
			err = rw.Finish()
		} else {
			rw.Abort()
		}
		p.finishRewrite(s, a, err)
		return err
	}
	if wait {
		return run()
	}
	go run()
	return nil
}

func (p *persist) finishRewrite(s *Server, a *aof.AOF, err error) {
	if fs, perr := aof.ParseFsync(s.cfg.Get("appendfsync")); perr == nil {
		a.SetFsync(fs)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	took := time.Since(p.childStart)
	p.lastRewriteSecs = int64(took.Seconds())
	p.releaseChild()
	p.lastRewriteErr = err
	if err != nil {
		p.rewriteFailures++
		s.log.Error("background AOF rewrite failed", "err", err)
		return
	}
	p.rewrites++
	p.rewriteFailures = 0
	p.rewriteBase, _ = a.Size()
	s.log.Info("background AOF rewrite finished", "took", took.Round(time.Microsecond))
}

// persistCron runs the save rules, scheduled jobs and automatic AOF
// rewrites (once per cron tick).
func (s *Server) persistCron() {
	p := &s.persist
	p.mu.Lock()
	busy := p.child != ""
	doBgsave, doRewrite := false, false
	if !busy {
		switch {
		case p.rewriteScheduled:
			p.rewriteScheduled, doRewrite = false, true
		case p.bgsaveScheduled:
			p.bgsaveScheduled, doBgsave = false, true
		}
	}
	retryOK := p.lastBgsaveErr == nil || time.Since(p.lastBgsaveTry) > 5*time.Second
	rewriteBase := p.rewriteBase
	a := p.aof
	p.mu.Unlock()
	if busy {
		return
	}
	if !doBgsave && !doRewrite && retryOK {
		doBgsave = s.saveRuleDue()
	}
	if !doBgsave && !doRewrite && a != nil {
		doRewrite = autoRewriteDue(a, rewriteBase, s.cfg.Int("auto-aof-rewrite-percentage"), s.cfg.Int("auto-aof-rewrite-min-size"))
	}
	switch {
	case doRewrite:
		if err := s.rewriteAOF(false); err != nil {
			s.log.Warn("automatic AOF rewrite not started", "err", err)
		}
	case doBgsave:
		if err := s.rdbSave(true); err != nil {
			s.log.Warn("background save not started", "err", err)
		}
	}
}

// saveRuleDue reports whether a "save <seconds> <changes>" rule is met.
func (s *Server) saveRuleDue() bool {
	dirty := s.dirty.Load()
	if dirty == 0 {
		return false
	}
	since := time.Now().Unix() - s.lastSave.Load()
	for _, r := range parseSaveRules(s.cfg.Get("save")) {
		if dirty >= r[1] && since >= r[0] {
			return true
		}
	}
	return false
}

func parseSaveRules(v string) [][2]int64 {
	f := strings.Fields(v)
	var out [][2]int64
	for i := 0; i+1 < len(f); i += 2 {
		secs, err1 := strconv.ParseInt(f[i], 10, 64)
		changes, err2 := strconv.ParseInt(f[i+1], 10, 64)
		if err1 == nil && err2 == nil {
			out = append(out, [2]int64{secs, changes})
		}
	}
	return out
}

func autoRewriteDue(a *aof.AOF, base, pct, minSize int64) bool {
	if pct <= 0 {
		return false
	}
	total, _ := a.Size()
	if total < minSize {
		return false
	}
	if base <= 0 {
		base = 1
	}
	return (total-base)*100/base >= pct
}

// writesRefused returns the MISCONF error while the last background save
// failed (stop-writes-on-bgsave-error) or the AOF cannot be written.
func (s *Server) writesRefused() string {
	p := &s.persist
	if p.bgsaveBad.Load() && s.cfg.Bool("stop-writes-on-bgsave-error") && len(parseSaveRules(s.cfg.Get("save"))) > 0 {
		return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."
	}
	return s.aofRefusal()
}

// prepareShutdown makes the data set durable before the server stops, as
// Redis's prepareForShutdown and finishShutdown do: the AOF is written out
// and fsynced, and dump.rdb is saved when save rules are set (or save),
// unless nosave. When that fails it returns the error, unless force, and
// the server must keep serving (Redis: "Error trying to save the DB, can't
// exit."). FORCE exits anyway; NOSAVE only skips dump.rdb, as in Redis.
//
// Replies are held while it runs (Redis serves no client during its final
// save), so a write that lands after the final snapshot is never
// acknowledged and then lost: on failure they are released, on success the
// connections close unanswered (holdReply).
func (s *Server) prepareShutdown(save, nosave, force bool) error {
	p := &s.persist
	p.shutdownMu.Lock()
	defer p.shutdownMu.Unlock()
	if p.exiting.Load() {
		return nil
	}
	p.holdMu.Lock()
	p.hold = make(chan struct{})
	p.holding.Store(true)
	p.holdMu.Unlock()
	err := s.persistForShutdown(save, nosave, force)
	if err != nil && !force {
		s.log.Error("Errors trying to shut down the server. Check the logs for more information.", "err", err)
		p.releaseHold()
		return err
	}
	p.exiting.Store(true)
	return nil
}

func (s *Server) persistForShutdown(save, nosave, force bool) error {
	exit := ", can't exit." // Redis's wording, both ways
	if force {
		exit = ". Exit anyway."
	}
	if a := s.aofLog.Load(); a != nil {
		if err := a.Flush(); err != nil {
			s.log.Error("Error trying to write and fsync the AOF"+exit, "err", err)
			return fmt.Errorf("flush the AOF: %w", err)
		}
	}
	if nosave || !save && len(parseSaveRules(s.cfg.Get("save"))) == 0 {
		return nil
	}
	s.log.Info("Saving the final RDB snapshot before exiting.")
	for { // a running snapshot is waited for, not failed on
		err := s.rdbSave(false)
		if err == nil {
			return nil
		}
		if s.persist.childKind() == "" {
			s.log.Error("Error trying to save the DB"+exit, "err", err)
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// releaseHold lets held replies go (the shutdown attempt failed, or the
// connections are closed already).
func (p *persist) releaseHold() {
	p.holdMu.Lock()
	defer p.holdMu.Unlock()
	if p.hold != nil {
		close(p.hold)
		p.hold = nil
	}
	p.holding.Store(false)
}

// holdReply keeps cl's replies from leaving while a shutdown attempt runs.
// If the shutdown goes ahead the connection is closed with them unsent.
// cl must hold no keyspace lock (the final save needs them all).
func (s *Server) holdReply(cl *Client) {
	p := &s.persist
	if !p.holding.Load() {
		return
	}
	p.holdMu.Lock()
	ch := p.hold
	p.holdMu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-cl.killed:
		}
	}
	if p.exiting.Load() {
		cl.Kill() // returns once the connection is closed, also when another goroutine is killing it
		if w := redcon.BaseWriter(cl.conn); w != nil {
			w.SetBuffer(nil)
		}
	}
}

// Terminate is SIGTERM or SIGINT (sig names it): a shutdown as Redis does
// it. If the final save fails the server logs it and keeps serving; a later
// signal tries again. During loading nothing is saved (the data set is
// still what is on disk): the server stops once loading ends.
func (s *Server) Terminate(sig string) {
	select {
	case <-s.started:
	default:
		s.log.Warn("Received shutdown signal during loading, scheduling shutdown.", "signal", sig)
		s.Shutdown()
		return
	}
	s.log.Warn("Received "+sig+" scheduling shutdown...", "signal", sig)
	if err := s.ShutdownWith(ShutdownFlags{}, sig); err != nil {
		s.log.Error(sig+" received but errors trying to shut down the server, check the logs for more information", "signal", sig)
	}
}

// finalPersist runs when Serve returns without a successful SHUTDOWN or
// signal (its context ended): nothing can keep serving, so it saves as a
// forced shutdown would. Held replies are released: their connections are
// closed by now.
func (s *Server) finalPersist() {
	_ = s.prepareShutdown(false, false, true) // force: failures are logged, never returned
	s.persist.releaseHold()
}

// closePersistence closes the AOF (after prepareShutdown): what was
// appended since is written and fsynced, unacknowledged.
func (s *Server) closePersistence() {
	p := &s.persist
	p.mu.Lock()
	a := p.aof
	p.aof = nil
	p.mu.Unlock()
	s.aofLog.Store(nil)
	if a != nil {
		if err := a.Close(); err != nil {
			s.log.Error("closing the AOF failed", "err", err)
		}
	}
}

// setAppendOnly turns the AOF on (opening it and writing a base with a
// rewrite, as Redis does) or off at run time.
func (s *Server) setAppendOnly(on bool) error {
	p := &s.persist
	p.mu.Lock()
	cur := p.aof
	p.mu.Unlock()
	if on == (cur != nil) {
		return nil
	}
	if !on {
		s.closePersistence()
		return nil
	}
	opts, err := s.aofOptions()
	if err != nil {
		return err
	}
	a, err := aof.Open(opts)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.aof = a
	p.rewriteScheduled = true
	p.mu.Unlock()
	s.aofLog.Store(a)
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
