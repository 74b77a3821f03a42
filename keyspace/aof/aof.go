package aof

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures an AOF (the appendonly directives).
type Options struct {
	Dir            string // appenddirname, already joined with the server dir
	FileName       string // appendfilename, e.g. "appendonly.aof"
	Fsync          Fsync
	UseRDBPreamble bool // aof-use-rdb-preamble: rewrite bases are .base.rdb, else .base.aof
	LoadTruncated  bool // aof-load-truncated
	Log            *slog.Logger
}

// ErrClosed is returned for data that can no longer reach the file.
var ErrClosed = errors.New("aof: closed")

// ErrMissingManifest is returned by Open when the manifest is missing or
// lists nothing while the directory holds AOF data files.
var ErrMissingManifest = errors.New("manifest missing")

// errNotRegular is the reason for a manifest entry that is not a file.
var errNotRegular = errors.New("not a regular file")

// maxSpare bounds the write buffer kept for reuse after a burst.
const maxSpare = 4 << 20

// AOF is an open append-only file set: the manifest, its base and incr files,
// and the current incr file that appends go to.
//
// Appends only touch an in-memory buffer under mu. Sync writes the whole
// buffer with one write under wmu (group commit: whoever comes first writes
// everybody's data) and, for appendfsync always, fsyncs under syncMu, so
// callers that queue behind an fsync usually find their data covered by the
// next one. Offsets are logical (bytes ever appended), not file offsets, so
// they stay comparable across incr file switches.
type AOF struct {
	opts   Options
	log    *slog.Logger
	policy atomic.Int32

	// Lock order: manMu, syncMu, wmu, mu.
	manMu     sync.Mutex // the manifest, file switches, the rewrite in progress
	man       *manifest
	rewriting bool

	syncMu sync.Mutex // held across an fsync of the current file

	wmu      sync.Mutex // writes to the current incr file
	file     *os.File
	fileName string
	fresh    string // the incr file Open created (not part of what Load replays)
	spare    []byte
	closed   bool
	// writeErrLogged is when a write error was last logged: the loop
	// retries every second, the log says so at most every 30 s (Redis's
	// AOF_WRITE_LOG_ERROR_RATE).
	writeErrLogged time.Time

	mu    sync.Mutex // the append buffer
	buf   []byte
	end   int64 // logical offset just after buf
	curDB int   // db of the last SELECT in the current incr file; -1: none yet

	written atomic.Int64 // logical offset handed to the OS
	synced  atomic.Int64 // logical offset known durable

	baseSize  atomic.Int64
	otherIncr atomic.Int64 // incr files before the current one
	curSize   atomic.Int64 // the current incr file

	failed    atomic.Pointer[error]  // first fsync failure: sticky (see Sync)
	writeErr  atomic.Pointer[error]  // the last write failed (disk full): retried by the loop until one succeeds
	fsyncs    atomic.Int64           // fsyncs of AOF files (tests, stats)
	fsyncHook atomic.Pointer[func()] // tests: runs in every fsync (disk latency)

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// Exists reports whether dir holds an AOF to load: a manifest listing a base or
// incr file (Redis's "AOF exists"), a manifest that does not parse (so that
// Open reports it rather than the server starting empty), or a legacy
// single-file AOF that Open would upgrade.
func Exists(dir, fileName string) bool {
	m, err := readManifest(dir, fileName)
	if err != nil {
		return true
	}
	if !m.empty() {
		return true
	}
	return needsUpgrade(dir, fileName, isDir(dir), m)
}

// Open opens the AOF in opts.Dir: reads the manifest (Redis 7 format, file
// "<FileName>.manifest": lines `file <name> seq <n> type b|h|i`), creating the
// directory, the manifest and a first incr file when none exists. History
// files left by an interrupted rewrite are deleted, as Redis does on start.
// Appends go to the last incr file.
//
// Every file the manifest lists must be a readable regular file: otherwise
// Open returns a *LoadError (Offset -1) naming it and changes nothing, as
// Redis refuses to start. A manifest that is missing or lists nothing while
// the directory holds non-empty AOF files is ErrMissingManifest.
//
// A legacy single-file AOF (Redis < 7: <FileName> in the server directory,
// the parent of opts.Dir, possibly with an RDB preamble) is upgraded as Redis
// 7.0 does: the manifest names it as the base and it is moved into opts.Dir.
func Open(opts Options) (*AOF, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.FileName == "" || strings.ContainsAny(opts.FileName, `/\`) {
		return nil, fmt.Errorf("aof: appendfilename %q must be a plain file name", opts.FileName)
	}
	dir := opts.Dir
	dirExisted := isDir(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("aof: creating %s: %w", dir, err)
	}
	m, err := readManifest(dir, opts.FileName)
	if err != nil {
		return nil, err
	}
	if needsUpgrade(dir, opts.FileName, dirExisted, m) {
		if m, err = upgrade(opts, m); err != nil {
			return nil, err
		}
	}
	if m.empty() {
		// A lost manifest must not turn into an empty data set that the
		// next rewrite then makes permanent.
		if names := dataFiles(dir, opts.FileName); len(names) > 0 {
			return nil, fmt.Errorf("aof: %w: %s is missing or lists no file, but %s holds AOF data (%s): restore the manifest or move the files away",
				ErrMissingManifest, manifestName(opts.FileName), dir, strings.Join(names, ", "))
		}
	} else if err := checkFiles(dir, m); err != nil {
		return nil, err
	}
	removeTemps(dir, opts.FileName)
	dirty := false
	if len(m.hist) > 0 {
		deleteFiles(opts.Log, dir, m.hist)
		m.hist, dirty = nil, true
	}
	// The last listed incr file is opened without O_CREATE: checkFiles saw it.
	flags, fresh := os.O_WRONLY|os.O_APPEND, ""
	if len(m.incr) == 0 {
		m.incrSeq++
		fresh = incrName(opts.FileName, m.incrSeq)
		m.incr = append(m.incr, fileInfo{name: fresh, seq: m.incrSeq, typ: typeIncr})
		// O_TRUNC: a file of that name is not in the manifest, so it holds
		// nothing that belongs to the data set.
		flags |= os.O_CREATE | os.O_TRUNC
		dirty = true
	}
	cur := m.incr[len(m.incr)-1].name
	f, err := os.OpenFile(filepath.Join(dir, cur), flags, 0o644)
	if err != nil {
		return nil, &LoadError{File: cur, Offset: -1, Err: unwrapPath(err)}
	}
	if dirty {
		if err := persistManifest(dir, opts.FileName, m); err != nil {
			f.Close()
			return nil, err
		}
	}
	a := &AOF{opts: opts, log: opts.Log, man: m, file: f, fileName: cur, fresh: fresh, curDB: -1,
		stop: make(chan struct{}), done: make(chan struct{})}
	a.policy.Store(int32(opts.Fsync))
	a.refreshSizes()
	if st, err := f.Stat(); err == nil {
		a.curSize.Store(st.Size())
	}
	go a.loop()
	return a, nil
}

// checkFiles verifies, before Open creates or changes anything, that every
// file the manifest lists for loading opens for reading and is a regular
// file. Redis refuses to start on a missing one as well; creating it instead
// would load an empty or partial data set without a word.
func checkFiles(dir string, m *manifest) error {
	for _, fi := range m.loadList() {
		f, err := os.Open(filepath.Join(dir, fi.name))
		if err == nil {
			var st os.FileInfo
			st, err = f.Stat()
			f.Close()
			if err == nil && !st.Mode().IsRegular() {
				err = errNotRegular
			}
		}
		if err != nil {
			return &LoadError{File: fi.name, Offset: -1, Err: unwrapPath(err)}
		}
	}
	return nil
}

// dataFiles lists the non-empty files in dir named like AOF bases and incr
// files of fileName (or the adopted legacy file itself).
func dataFiles(dir, fileName string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !isDataFileName(name, fileName) {
			continue
		}
		if st, err := e.Info(); err == nil && st.Mode().IsRegular() && st.Size() > 0 {
			out = append(out, name)
		}
	}
	return out
}

// isDataFileName matches "<fileName>", "<fileName>.<seq>.base.rdb|aof" and
// "<fileName>.<seq>.incr.aof".
func isDataFileName(name, fileName string) bool {
	if name == fileName {
		return true
	}
	rest, ok := strings.CutPrefix(name, fileName+".")
	if !ok {
		return false
	}
	seq, kind, ok := strings.Cut(rest, ".")
	if !ok || seq == "" || strings.Trim(seq, "0123456789") != "" {
		return false
	}
	return kind == "base.rdb" || kind == "base.aof" || kind == "incr.aof"
}

// unwrapPath drops the *os.PathError wrapping (operation and full path) so
// that messages read like Redis's: "<file>: no such file or directory".
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// refreshSizes recomputes the base and older incr sizes from the files
// (caller holds manMu, not wmu).
func (a *AOF) refreshSizes() {
	a.wmu.Lock()
	cur := a.fileName
	a.wmu.Unlock()
	var base, other int64
	if a.man.base != nil {
		base = fileSize(filepath.Join(a.opts.Dir, a.man.base.name))
	}
	for _, fi := range a.man.incr {
		if fi.name != cur {
			other += fileSize(filepath.Join(a.opts.Dir, fi.name))
		}
	}
	a.baseSize.Store(base)
	a.otherIncr.Store(other)
}

// Append encodes commands in RESP into the in-memory buffer, preceded by
// SELECT db when db differs from the last db written to the current incr
// file. The commands of one call are contiguous in the file. It returns the
// logical end offset of the appended data, for Sync.
func (a *AOF) Append(db int, cmds ...[][]byte) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(cmds) == 0 {
		return a.end
	}
	n := len(a.buf)
	if db != a.curDB {
		a.buf = AppendSelect(a.buf, db)
		a.curDB = db
	}
	for _, argv := range cmds {
		a.buf = AppendCommand(a.buf, argv...)
		if d, ok := SelectedDB(argv); ok { // a block may switch databases itself
			a.curDB = d
		}
	}
	a.end += int64(len(a.buf) - n)
	return a.end
}

// Sync makes the data up to offset end durable per the policy: it writes the
// buffer (one write for everything pending) and, for FsyncAlways, fsyncs
// before returning. For FsyncEverySec and FsyncNo it only writes; the
// background loop fsyncs every second for everysec.
//
// After a failed fsync every Sync returns that error: Linux may have dropped
// the unwritten pages, so later fsyncs prove nothing. It lasts until a
// rewrite has put the whole data set into a new durable base (Rewrite.Finish).
func (a *AOF) Sync(end int64) error {
	if p := a.failed.Load(); p != nil {
		return *p
	}
	if Fsync(a.policy.Load()) != FsyncAlways {
		if a.written.Load() >= end {
			return nil
		}
		a.wmu.Lock()
		defer a.wmu.Unlock()
		if a.written.Load() >= end {
			return nil
		}
		return a.flushLocked()
	}
	if a.synced.Load() >= end {
		return nil
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.synced.Load() >= end { // the previous leader's fsync covered us
		return nil
	}
	if p := a.failed.Load(); p != nil {
		return *p
	}
	f, w, err := a.writeOut()
	if err != nil {
		return err
	}
	return a.fsyncTo(f, w)
}

// writeOut writes the buffer and returns the file and offset to fsync.
func (a *AOF) writeOut() (*os.File, int64, error) {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if err := a.flushLocked(); err != nil {
		return nil, 0, err
	}
	if a.closed {
		return nil, 0, ErrClosed
	}
	return a.file, a.written.Load(), nil
}

// flushLocked writes the whole buffer to the current file (caller holds wmu).
func (a *AOF) flushLocked() error {
	a.mu.Lock()
	buf, end := a.buf, a.end
	if len(buf) == 0 {
		a.mu.Unlock()
		return nil
	}
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	a.buf, a.spare = a.spare[:0], nil
	a.mu.Unlock()

	n, err := a.file.Write(buf)
	a.curSize.Add(int64(n))
	if err != nil {
		// Put back what the OS did not take: the file stays a prefix of the
		// stream and the next flush (the loop retries every second)
		// completes the cut command.
		a.mu.Lock()
		rest := make([]byte, 0, len(buf)-n+len(a.buf))
		a.buf = append(append(rest, buf[n:]...), a.buf...)
		a.mu.Unlock()
		a.written.Store(end - int64(len(buf)-n))
		err = &WriteError{File: a.fileName, Err: unwrapPath(err)}
		first := a.writeErr.Swap(&err) == nil
		if first || time.Since(a.writeErrLogged) >= writeErrorLogEvery {
			a.writeErrLogged = time.Now()
			a.log.Error("Error writing to the AOF file", "file", a.fileName, "err", err, "pending_bytes", len(buf)-n)
		}
		return err
	}
	a.written.Store(end)
	if cap(buf) <= maxSpare {
		a.spare = buf[:0]
	}
	if a.writeErr.Load() != nil {
		// Logged before the error clears: whoever sees LastError() nil
		// finds the recovery in the log.
		a.log.Warn("AOF write error looks solved, Redis can write again.", "file", a.fileName)
		a.writeErr.Store(nil)
	}
	return nil
}

// writeErrorLogEvery rate-limits the log of a write error that persists
// while the loop retries (Redis's AOF_WRITE_LOG_ERROR_RATE).
const writeErrorLogEvery = 30 * time.Second

// WriteError is a failed write to an AOF file. The data stays buffered and
// is retried; Err is the bare OS error (e.g. syscall.ENOSPC).
type WriteError struct {
	File string
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("aof: writing %s: %v", e.File, e.Err) }

func (e *WriteError) Unwrap() error { return e.Err }

// fsyncTo fsyncs f, which holds the stream up to w (caller holds syncMu).
func (a *AOF) fsyncTo(f *os.File, w int64) error {
	if a.synced.Load() >= w {
		return nil
	}
	a.fsyncs.Add(1)
	if h := a.fsyncHook.Load(); h != nil {
		(*h)()
	}
	if err := datasync(f); err != nil {
		err = fmt.Errorf("aof: fsync: %w", err)
		if a.failed.CompareAndSwap(nil, &err) {
			a.log.Error("AOF fsync failed: refusing further writes", "file", f.Name(), "err", err)
		}
		return err
	}
	a.synced.Store(w)
	return nil
}

// LastError returns why the AOF cannot take writes now, if it cannot (for
// MISCONF refusals and INFO's aof_last_write_status): the fsync failure
// that stopped it (sticky, see Sync) or the last write error, which lasts
// until a write succeeds (the loop retries the pending data every second,
// so a disk that had filled up recovers once space is freed).
func (a *AOF) LastError() error {
	if p := a.failed.Load(); p != nil {
		return *p
	}
	if p := a.writeErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Flush writes everything appended so far and fsyncs it whatever the
// policy, as Redis does on shutdown. It reports why that failed: the
// caller must not exit as if the data were safe.
func (a *AOF) Flush() error {
	if p := a.failed.Load(); p != nil {
		return *p
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	f, w, err := a.writeOut()
	if err != nil {
		return err
	}
	return a.fsyncTo(f, w)
}

// SetFsync changes the policy (CONFIG SET appendfsync).
func (a *AOF) SetFsync(p Fsync) { a.policy.Store(int32(p)) }

// loop writes the buffer out every second and, for everysec, fsyncs it.
func (a *AOF) loop() {
	defer close(a.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			a.tick()
		}
	}
}

// tick writes out the buffer (retrying a write that failed, as Redis's
// serverCron does) and, for everysec, fsyncs.
func (a *AOF) tick() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.wmu.Lock()
	if a.closed {
		a.wmu.Unlock()
		return
	}
	err := a.flushLocked() // a failure is logged (rate-limited) and kept in writeErr
	f, w := a.file, a.written.Load()
	a.wmu.Unlock()
	if err == nil && Fsync(a.policy.Load()) == FsyncEverySec && a.failed.Load() == nil {
		_ = a.fsyncTo(f, w) // logged by fsyncTo; Sync reports it
	}
}

// Close writes and fsyncs pending data, closes the file and stops the
// background loop. A rewrite in progress can still be aborted, not finished.
func (a *AOF) Close() error {
	a.stopOnce.Do(func() { close(a.stop) })
	<-a.done
	a.manMu.Lock()
	defer a.manMu.Unlock()
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return nil
	}
	err := a.flushLocked()
	if e := a.fsyncTo(a.file, a.written.Load()); err == nil {
		err = e
	}
	if e := a.file.Close(); err == nil {
		err = e
	}
	a.closed, a.file = true, nil
	return err
}

func (a *AOF) isClosed() bool {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	return a.closed
}

// Size reports the current total size (base + incr files written so far)
// and the base size (aof_current_size, aof_base_size; auto-aof-rewrite).
func (a *AOF) Size() (total, base int64) {
	base = a.baseSize.Load()
	return base + a.otherIncr.Load() + a.curSize.Load(), base
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// deleteFiles removes superseded files; a failure only leaks disk space.
func deleteFiles(log *slog.Logger, dir string, files []fileInfo) {
	for _, fi := range files {
		if err := os.Remove(filepath.Join(dir, fi.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("AOF: removing a history file failed", "file", fi.name, "err", err)
		}
	}
}

// removeTemps deletes what an interrupted rewrite or manifest update left.
func removeTemps(dir, fileName string) {
	os.Remove(filepath.Join(dir, tempManifestName(fileName)))
	if tmps, err := filepath.Glob(filepath.Join(dir, tempBasePattern)); err == nil {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
}

// SelectedDB reports the database a SELECT command switches to.
func SelectedDB(argv [][]byte) (int, bool) {
	if len(argv) != 2 || !strings.EqualFold(string(argv[0]), "select") {
		return 0, false
	}
	d, err := strconv.Atoi(string(argv[1]))
	return d, err == nil
}
