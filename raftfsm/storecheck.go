package raftfsm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// ErrCorrupt marks a damaged Raft log store or snapshot (a *CorruptError).
var ErrCorrupt = errors.New("raft state is corrupt")

// CorruptError names a damaged file of this node's Raft state and the way
// out: move it aside, and the node, still a member of the configuration,
// gets the log or a snapshot from the leader again.
type CorruptError struct {
	Path   string // the damaged raft.db, or snapshot directory
	Reason string
	Aside  string // what to move aside: the file itself, or the whole raft directory
}

func (e *CorruptError) Error() string {
	what, how := "raft store "+e.Path, "move it aside"
	if e.Aside != e.Path {
		what, how = "raft snapshot "+e.Path, "move the raft directory aside"
	}
	return fmt.Sprintf("%s is corrupt (%s); %s (mv %s %s.corrupt) and restart: "+
		"the node rejoins the cluster and fetches the record from the leader", what, e.Reason, how, e.Aside, e.Aside)
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// checkRaftState vets dir's raft.db and snapshots before Raft touches them.
// bbolt trusts its file: bad pages panic inside it and pages past the end
// of a truncated file fault (SIGBUS) on the mmap, both in goroutines
// nobody can recover, and Raft panics on a log entry it cannot decode.
// So: cheap header checks here, then a full read in a child process,
// where a crash is just a verdict.
func checkRaftState(dir string, log *slog.Logger) error {
	path := filepath.Join(dir, "raft.db")
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("raft store: %w", err)
	case fi.Size() == 0:
		// Created but never written (a crash before bbolt initialised it):
		// no state, bbolt starts it afresh.
	default:
		if reason := checkBoltHeader(path, fi.Size()); reason != "" {
			return &CorruptError{Path: path, Reason: reason, Aside: path}
		}
		if err := checkInChild(path, log); err != nil {
			return err
		}
	}
	return checkSnapshots(dir)
}

// bbolt's on-disk layout (go.etcd.io/bbolt, page.go and db.go): every page
// starts with a 16-byte header (id u64, flags u16, count u16, overflow
// u32); pages 0 and 1 hold the meta, whose checksum is FNV-64a over the
// fields before it.
const (
	boltPageHeader   = 16
	boltMetaSize     = 64
	boltMetaSumOff   = 56
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	boltFreelistFlag = 0x10
	boltNoFreelist   = ^uint64(0)
)

type boltMeta struct {
	pageSize             uint32
	root, freelist, high uint64 // root bucket page, freelist page, first page past the end
	txid                 uint64
}

func parseBoltMeta(b []byte) (boltMeta, string) {
	le := binary.LittleEndian
	if len(b) < boltMetaSize {
		return boltMeta{}, "short read"
	}
	if le.Uint32(b[0:]) != boltMagic {
		return boltMeta{}, "not a bbolt meta page"
	}
	if v := le.Uint32(b[4:]); v != boltVersion {
		return boltMeta{}, fmt.Sprintf("bbolt version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(b[:boltMetaSumOff])
	if sum := le.Uint64(b[boltMetaSumOff:]); sum != 0 && sum != h.Sum64() {
		return boltMeta{}, "checksum mismatch"
	}
	return boltMeta{pageSize: le.Uint32(b[8:]), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]),
		high: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}, ""
}

// checkBoltHeader validates what bbolt reads before anything else, with
// plain reads (no mmap): the meta pages and that the file holds every page
// the meta says it has. It returns why the file is corrupt, or "".
func checkBoltHeader(path string, size int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "" // the child reports why it cannot be read
	}
	defer f.Close()
	read := func(off int64, n int) []byte {
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil {
			return nil
		}
		return b
	}
	m0, why0 := parseBoltMeta(read(boltPageHeader, boltMetaSize))
	// Like bbolt: the page size comes from meta 0, or is the OS's when
	// meta 0 is unreadable.
	pageSize := int64(os.Getpagesize())
	if why0 == "" {
		pageSize = int64(m0.pageSize)
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return fmt.Sprintf("meta page 0 gives page size %d", pageSize)
	}
	if size < 2*pageSize {
		return fmt.Sprintf("%d bytes, shorter than its two meta pages of %d bytes", size, pageSize)
	}
	m1, why1 := parseBoltMeta(read(pageSize+boltPageHeader, boltMetaSize))
	// bbolt uses the newest valid meta: one bad meta page is a torn write
	// it recovers from, both bad is the end.
	m := m0
	switch {
	case why0 != "" && why1 != "":
		return fmt.Sprintf("both meta pages are invalid: page 0: %s; page 1: %s", why0, why1)
	case why0 != "" || (why1 == "" && m1.txid > m0.txid):
		m = m1
	}
	if int64(m.pageSize) != pageSize {
		return fmt.Sprintf("meta pages disagree on the page size (%d and %d)", pageSize, m.pageSize)
	}
	if m.high < 4 || m.high > uint64(size/pageSize) {
		return fmt.Sprintf("truncated: %d bytes, but its meta (txid %d) says it holds %d pages of %d bytes (%d bytes)",
			size, m.txid, m.high, pageSize, int64(m.high)*pageSize)
	}
	if m.root < 2 || m.root >= m.high {
		return fmt.Sprintf("root page %d outside pages 2..%d", m.root, m.high-1)
	}
	if m.freelist == boltNoFreelist {
		return ""
	}
	if m.freelist < 2 || m.freelist >= m.high {
		return fmt.Sprintf("freelist page %d outside pages 2..%d", m.freelist, m.high-1)
	}
	// bbolt reads the freelist while opening, before any check could run.
	le := binary.LittleEndian
	off := int64(m.freelist) * pageSize
	hdr := read(off, boltPageHeader)
	if hdr == nil {
		return fmt.Sprintf("freelist page %d unreadable", m.freelist)
	}
	flags, count, overflow := le.Uint16(hdr[8:]), uint64(le.Uint16(hdr[10:])), uint64(le.Uint32(hdr[12:]))
	if flags != boltFreelistFlag {
		return fmt.Sprintf("freelist page %d has page flags %#x", m.freelist, flags)
	}
	if m.freelist+overflow >= m.high {
		return fmt.Sprintf("freelist page %d overflows past the last page", m.freelist)
	}
	ids := off + boltPageHeader
	if count == 0xFFFF { // the real count is the first element
		c := read(ids, 8)
		if c == nil {
			return "freelist count unreadable"
		}
		count, ids = le.Uint64(c), ids+8
	}
	if end := off + int64(overflow+1)*pageSize; count > uint64(end-ids)/8 {
		return fmt.Sprintf("freelist claims %d free pages, more than its %d page(s) hold", count, overflow+1)
	}
	list := read(ids, int(count)*8)
	if list == nil && count > 0 {
		return "freelist unreadable"
	}
	for i := range int(count) {
		if id := le.Uint64(list[i*8:]); id < 2 || id >= m.high {
			return fmt.Sprintf("freelist lists page %d outside pages 2..%d", id, m.high-1)
		}
	}
	return ""
}

// The child process: a binary linking this package, started with this
// variable naming a raft.db, checks it and exits before main runs.
const (
	checkEnv         = "WARDEN_INTERNAL_RAFT_STORE_CHECK"
	checkExitCorrupt = 3
	checkExitError   = 4
	checkTimeout     = 2 * time.Minute
	lockTimeout      = 5 * time.Second
)

func init() {
	if path := os.Getenv(checkEnv); path != "" {
		os.Exit(childCheck(path))
	}
}

func childCheck(path string) int {
	// Damaged pages can send bbolt round a cycle or allocate by a wild
	// count: bound the stack and the memory, and call breaking either
	// corruption (a healthy check needs a few bytes per page).
	debug.SetMaxStack(64 << 20)
	budget := uint64(256 << 20)
	if fi, err := os.Stat(path); err == nil {
		budget += uint64(fi.Size())
	}
	go watchMemory(budget)
	reason, err := deepCheck(path)
	switch {
	case err != nil:
		fmt.Println(err)
		return checkExitError
	case reason != "":
		fmt.Println(reason)
		return checkExitCorrupt
	}
	return 0
}

func watchMemory(budget uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}}
	for {
		time.Sleep(10 * time.Millisecond)
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > budget {
			fmt.Printf("reading it made bbolt use over %d MiB: its pages point in a cycle or hold wild counts\n", budget>>20)
			os.Exit(checkExitCorrupt)
		}
	}
}

// deepCheck reads all of path the way Raft will: bbolt's consistency check
// (every page reachable once or free), every key and value, every log
// entry decoded and the stable-store values. It returns why the file is
// corrupt, or an error when it cannot be read at all.
func deepCheck(path string) (string, error) {
	opts := &bbolt.Options{ReadOnly: true, Timeout: lockTimeout}
	db, err := bbolt.Open(path, 0o600, opts)
	switch {
	case errors.Is(err, bbolt.ErrTimeout):
		return "", fmt.Errorf("raft store %s is locked by another process", path)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("raft store: %w", err)
	case err != nil:
		return err.Error(), nil
	}
	var problems []string
	var buckets int
	err = db.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			if len(problems) < 3 {
				problems = append(problems, e.Error())
			}
		}
		if len(problems) > 0 {
			return nil
		}
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if string(name) == "logs" || string(name) == "conf" {
				buckets++
			}
			return touchBucket(b)
		})
	})
	db.Close()
	switch {
	case err != nil:
		return err.Error(), nil
	case len(problems) > 0:
		return "bbolt check: " + strings.Join(problems, "; "), nil
	case buckets == 0:
		return "", nil // bbolt initialised it, raft-boltdb had not yet: no state
	case buckets == 1:
		return "one of raft-boltdb's two buckets (logs, conf) is missing", nil
	}
	return checkLogs(path)
}

// touchBucket reads every key and value, so a page past the end of the
// file or a wild element offset shows up here.
func touchBucket(b *bbolt.Bucket) error {
	err := b.ForEach(func(k, v []byte) error {
		for _, c := range k {
			touched ^= c
		}
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				return touchBucket(sub)
			}
			return nil
		}
		for _, c := range v {
			touched ^= c
		}
		return nil
	})
	return err
}

// touched keeps touchBucket's reads from being optimised away.
var touched byte

// checkLogs decodes every log entry between the first and last index and
// the stable-store values, through raft-boltdb itself.
func checkLogs(path string) (string, error) {
	st, err := raftboltdb.New(raftboltdb.Options{Path: path,
		BoltOptions: &bbolt.Options{ReadOnly: true, Timeout: lockTimeout}})
	if err != nil {
		return "", fmt.Errorf("reopen raft store: %w", err)
	}
	defer st.Close()
	first, err := st.FirstIndex()
	if err != nil {
		return "first log index: " + err.Error(), nil
	}
	last, err := st.LastIndex()
	if err != nil {
		return "last log index: " + err.Error(), nil
	}
	for i := first; first > 0 && i <= last; i++ {
		var l raft.Log
		if err := st.GetLog(i, &l); err != nil {
			return fmt.Sprintf("log entry %d of %d-%d: %v", i, first, last, err), nil
		}
		if l.Index != i {
			return fmt.Sprintf("log entry stored at %d says index %d", i, l.Index), nil
		}
		// What the FSM and Raft decode: our commands are JSON, and Raft
		// panics on a configuration it cannot decode.
		switch l.Type {
		case raft.LogCommand:
			if !json.Valid(l.Data) {
				return fmt.Sprintf("log entry %d: the command is not valid JSON", i), nil
			}
		case raft.LogConfiguration:
			if why := decodesAsConfiguration(l.Data); why != "" {
				return fmt.Sprintf("log entry %d: %s", i, why), nil
			}
		}
	}
	// raft's stable-store keys (raft/api.go): two uint64s and a server id.
	for _, k := range []string{"CurrentTerm", "LastVoteTerm"} {
		if v, err := st.Get([]byte(k)); err == nil && len(v) != 8 {
			return fmt.Sprintf("stable value %s is %d bytes, want 8", k, len(v)), nil
		}
	}
	return "", nil
}

func decodesAsConfiguration(b []byte) (why string) {
	defer func() {
		if r := recover(); r != nil {
			why = fmt.Sprint(r)
		}
	}()
	raft.DecodeConfiguration(b)
	return ""
}

// checkInChild runs deepCheck in a copy of this binary, so a panic or a
// fault inside bbolt ends the copy, not this process.
func checkInChild(path string, log *slog.Logger) error {
	self := "/proc/self/exe" // works even when the binary was replaced on disk
	if runtime.GOOS != "linux" {
		exe, err := os.Executable()
		if err != nil {
			log.Warn("raft store: cannot run the full check, header checked only", "path", path, "err", err)
			return nil
		}
		self = exe
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), checkEnv+"="+path)
	var stdout bytes.Buffer
	stderr := &limitedBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	var exit *exec.ExitError
	switch {
	case err == nil:
		log.Debug("raft store checked", "path", path, "took", time.Since(start))
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("check raft store %s: no verdict within %v", path, checkTimeout)
	case !errors.As(err, &exit):
		// Could not start a copy of ourselves (no /proc, say): the header
		// checks stand alone.
		log.Warn("raft store: cannot run the full check, header checked only", "path", path, "err", err)
		return nil
	case exit.ExitCode() == checkExitCorrupt:
		return &CorruptError{Path: path, Reason: out, Aside: path}
	case exit.ExitCode() == checkExitError:
		return errors.New(out)
	}
	if reason := crashReason(stderr.String()); reason != "" {
		return &CorruptError{Path: path, Reason: "reading it crashed bbolt: " + reason, Aside: path}
	}
	return fmt.Errorf("check raft store %s: %w", path, err)
}

// crashReason extracts the one line that says why a Go program died: the
// signal of a fault, else the panic or fatal error message.
func crashReason(stderr string) string {
	reason := ""
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[signal "):
			sig, _, _ := strings.Cut(strings.TrimPrefix(line, "[signal "), " code=")
			return "signal " + sig
		case reason != "":
		case strings.HasPrefix(line, "panic: "):
			reason = strings.TrimSuffix(strings.TrimPrefix(line, "panic: "), " [recovered]")
		case strings.HasPrefix(line, "fatal error: "):
			reason = strings.TrimPrefix(line, "fatal error: ")
		}
	}
	return reason
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// checkSnapshots opens every snapshot Raft could restore (meta.json parses,
// state.bin matches its CRC). Raft itself skips a broken one and restores
// an older one, which leaves a gap if the log was compacted past it.
func checkSnapshots(dir string) error {
	snapDir := filepath.Join(dir, "snapshots")
	entries, err := os.ReadDir(snapDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("raft snapshots: %w", err)
	}
	store, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, hclog.NewNullLogger())
	if err != nil {
		return fmt.Errorf("raft snapshots: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue // raft ignores these too (a snapshot cut short by a crash)
		}
		_, rc, err := store.Open(e.Name())
		if err != nil {
			return &CorruptError{Path: filepath.Join(snapDir, e.Name()), Reason: err.Error(), Aside: dir}
		}
		rc.Close()
	}
	return nil
}
