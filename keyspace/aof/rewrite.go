package aof

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// tempBasePattern names the base being written; leftovers are removed by Open.
const tempBasePattern = "temp-rewriteaof-*.tmp"

// ErrRewriteInProgress is returned by BeginRewrite while a rewrite runs.
var ErrRewriteInProgress = errors.New("aof: a rewrite is already in progress")

// Rewrite is a BGREWRITEAOF in progress: the new base is written into a temp
// file while appends go to the incr file BeginRewrite opened.
type Rewrite struct {
	a         *AOF
	f         *os.File
	bw        *bufio.Writer
	rdb       bool
	firstIncr int64  // seq of the incr file opened by BeginRewrite
	failed    *error // the AOF's fsync failure when the rewrite began (Finish clears it)
	done      bool
}

// BeginRewrite starts a rewrite. The server calls it while it holds every
// keyspace lock, so the data set it then snapshots into Base is exactly the
// state before the first command of the new incr file. It opens a new incr
// file (seq+1), writes out and fsyncs the buffer into the old file, then
// persists a manifest that lists the old base, the old incr files and the
// new incr file and switches Append to the new file (the next append starts
// with SELECT).
//
// Every step is crash-safe: until Finish the manifest on disk always lists
// files that together hold every acknowledged write, and only its last
// file can end in a torn write (the one Load may cut, as Redis does).
func (a *AOF) BeginRewrite() (*Rewrite, error) {
	a.manMu.Lock()
	defer a.manMu.Unlock()
	if a.rewriting {
		return nil, ErrRewriteInProgress
	}
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	tmp, err := os.CreateTemp(a.opts.Dir, tempBasePattern)
	if err != nil {
		return nil, fmt.Errorf("aof: creating the rewrite's temp base: %w", err)
	}
	m := a.man.clone()
	m.incrSeq++
	name := incrName(a.opts.FileName, m.incrSeq)
	// O_TRUNC: a file of that name is not in the manifest, so it is the
	// leftover of a switch that crashed before persisting it.
	f, err := os.OpenFile(filepath.Join(a.opts.Dir, name), os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		discardTemp(tmp)
		return nil, fmt.Errorf("aof: creating %s: %w", name, err)
	}
	// Write out and fsync the old file's data before the manifest lists the
	// new file: a crash then leaves a torn write only in the last listed
	// file. mu stays held from the moment the buffer is empty until the
	// switch, so no Append lands in between with a SELECT state that
	// belongs to the old file.
	old := a.file
	for {
		if err := a.flushLocked(); err != nil {
			// Nothing changed: appends keep going to the old file.
			f.Close()
			discardTemp(tmp)
			return nil, err
		}
		a.mu.Lock()
		if len(a.buf) == 0 {
			break
		}
		a.mu.Unlock()
	}
	// The old file must be durable before synced starts describing the new
	// one; nothing reaches the new file before this returns (wmu is held).
	// After an fsync failure that proves nothing (the new base replaces the
	// old files), and it must not stop the rewrite that ends the failure.
	failed := a.failed.Load()
	if failed == nil {
		if err := a.fsyncTo(old, a.written.Load()); err != nil {
			a.mu.Unlock()
			f.Close()
			discardTemp(tmp)
			return nil, err // the AOF is now failed (see Sync)
		}
	}
	m.incr = append(m.incr, fileInfo{name: name, seq: m.incrSeq, typ: typeIncr})
	if err := persistManifest(a.opts.Dir, a.opts.FileName, m); err != nil {
		a.mu.Unlock()
		// The new file stays (empty): a manifest that did reach the disk
		// may list it.
		f.Close()
		discardTemp(tmp)
		return nil, err
	}
	a.man = m
	a.file, a.fileName, a.curDB = f, name, -1 // each file loads from db 0: re-SELECT
	a.mu.Unlock()
	if err := old.Close(); err != nil {
		a.log.Warn("AOF: closing the previous incr file", "err", err)
	}
	a.otherIncr.Add(a.curSize.Swap(0))
	a.rewriting = true
	return &Rewrite{a: a, f: tmp, bw: bufio.NewWriterSize(tmp, 1<<20), rdb: a.opts.UseRDBPreamble, firstIncr: m.incrSeq, failed: failed}, nil
}

func discardTemp(f *os.File) {
	f.Close()
	os.Remove(f.Name())
}

// Base returns a buffered writer on the temp base file.
func (r *Rewrite) Base() io.Writer { return r.bw }

// RDB reports whether the base must be an RDB image (aof-use-rdb-preamble).
func (r *Rewrite) RDB() bool { return r.rdb }

// Finish makes the new base durable and current: it fsyncs the temp base,
// renames it to "<FileName>.<seq>.base.rdb" (or .aof), persists a manifest
// of the new base and the incr files opened since BeginRewrite (the old
// files listed as history, as Redis does, so a crash before they are gone
// cannot leak them), deletes the old files and drops them from the manifest.
func (r *Rewrite) Finish() error {
	if r.done {
		return errors.New("aof: rewrite already finished or aborted")
	}
	a := r.a
	err := r.bw.Flush()
	if err == nil {
		err = datasync(r.f)
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.Abort()
		return fmt.Errorf("aof: writing the rewritten base: %w", err)
	}

	a.manMu.Lock()
	defer a.manMu.Unlock()
	r.done = true
	a.rewriting = false
	if a.isClosed() {
		os.Remove(r.f.Name())
		return ErrClosed
	}
	m := a.man.clone()
	m.baseSeq++
	name := baseName(a.opts.FileName, m.baseSeq, r.rdb)
	if err := os.Rename(r.f.Name(), filepath.Join(a.opts.Dir, name)); err != nil {
		os.Remove(r.f.Name())
		return fmt.Errorf("aof: installing the rewritten base %s: %w", name, err)
	}
	var old []fileInfo
	if m.base != nil {
		old = append(old, fileInfo{name: m.base.name, seq: m.base.seq, typ: typeHist})
	}
	old = append(old, m.hist...)
	var keep []fileInfo
	for _, fi := range m.incr {
		if fi.seq >= r.firstIncr {
			keep = append(keep, fi)
		} else {
			old = append(old, fileInfo{name: fi.name, seq: fi.seq, typ: typeHist})
		}
	}
	m.base = &fileInfo{name: name, seq: m.baseSeq, typ: typeBase}
	m.hist, m.incr = old, keep
	if err := persistManifest(a.opts.Dir, a.opts.FileName, m); err != nil {
		return err // the old manifest (or the new one) still describes intact files
	}
	a.man = m
	a.refreshSizes()
	// The durable base now holds the whole data set as of the cut, and the
	// new incr file was never fsynced while failed (so no failure of its
	// own is hidden): the fsync failure of the old files no longer matters.
	if r.failed != nil && a.failed.CompareAndSwap(r.failed, nil) {
		a.log.Warn("AOF fsync error cleared: the rewritten AOF holds the whole data set", "base", name)
	}
	deleteFiles(a.log, a.opts.Dir, old)
	clean := m.clone()
	clean.hist = nil
	if err := persistManifest(a.opts.Dir, a.opts.FileName, clean); err != nil {
		// Harmless: history entries are deleted again by the next Open.
		a.log.Warn("AOF: dropping history entries from the manifest", "err", err)
		return nil
	}
	a.man = clean
	return nil
}

// Abort drops the rewrite: the temp base is removed and the manifest
// written by BeginRewrite (old base, old and new incr files) stays current.
func (r *Rewrite) Abort() {
	if r.done {
		return
	}
	r.done = true
	discardTemp(r.f)
	r.a.manMu.Lock()
	r.a.rewriting = false
	r.a.manMu.Unlock()
}
