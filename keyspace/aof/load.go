package aof

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// LoadStats summarizes a Load.
type LoadStats struct {
	Commands  int   // commands passed to apply (not the implicit SELECT 0, MULTI, EXEC)
	Bytes     int64 // bytes loaded from all files (after any truncation)
	Truncated bool  // a truncated tail (or an unfinished MULTI) was cut off
}

// LoadError reports why a file could not be loaded, and where.
type LoadError struct {
	File   string // file name inside the AOF directory
	Offset int64  // byte offset of the bad or incomplete element
	Err    error
}

func (e *LoadError) Error() string {
	if e.Offset < 0 { // the file itself is the problem, not its content
		return fmt.Sprintf("aof: can't open the append-only file %s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("aof: %s at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *LoadError) Unwrap() error { return e.Err }

var (
	// ErrCorrupt wraps malformed content.
	ErrCorrupt = errors.New("bad AOF format")
	// ErrTruncated is returned for a truncated tail when aof-load-truncated
	// is off.
	ErrTruncated = errors.New("unexpected end of file (aof-load-truncated is off)")
	// errShort marks a read that hit the end of the file inside a command.
	errShort = errors.New("short read")
)

// Load replays the AOF: the base file (if any) through loadRDB when it is an
// RDB image (it starts with "REDIS", as .base.rdb files and legacy preamble
// files do; commands that follow the image are replayed too), otherwise its
// commands through apply; then every incr file in manifest order.
//
// As Redis loads each file with a fresh client, apply receives a SELECT 0
// before the first command it gets from each file, then the file's
// commands, SELECT included. MULTI and EXEC are not passed on: the commands of a transaction
// are applied only once its EXEC has been read. apply's argv is only valid
// during the call.
//
// A truncated last command of the last listed file, or a MULTI without its
// EXEC at its end, is cut off (the file is truncated before it, with a
// warning) when LoadTruncated, as Redis does with aof-load-truncated yes;
// otherwise it is a *LoadError wrapping ErrTruncated. Anything else
// malformed, including a truncated command in any earlier file (even one
// followed only by empty files, as Redis 7 decides), is a *LoadError
// wrapping ErrCorrupt: never a silent partial load. Like Redis, a bulk
// length running past the end of the last file is taken as a truncated
// tail. A listed file that is missing or unreadable is a *LoadError with
// Offset -1.
//
// Load must run before the first Append.
func (a *AOF) Load(loadRDB func(r *bufio.Reader) error, apply func(argv [][]byte) error) (LoadStats, error) {
	a.manMu.Lock()
	files := a.man.loadList()
	a.manMu.Unlock()
	// The incr file Open just created is not part of the AOF it found:
	// leaving it out keeps "the last file" what it was on disk.
	if n := len(files); n > 0 && a.fresh != "" && files[n-1].name == a.fresh {
		files = files[:n-1]
	}
	sizes := make([]int64, len(files))
	for i, fi := range files {
		st, err := os.Stat(filepath.Join(a.opts.Dir, fi.name))
		if err != nil {
			return LoadStats{}, &LoadError{File: fi.name, Offset: -1, Err: unwrapPath(err)}
		}
		sizes[i] = st.Size()
	}
	l := &loader{a: a, loadRDB: loadRDB, apply: apply}
	for i, fi := range files {
		if err := l.file(fi, sizes[i], fi.typ == typeBase, i == len(files)-1); err != nil {
			return l.stats, err
		}
	}
	if l.stats.Truncated {
		a.manMu.Lock()
		a.refreshSizes()
		a.manMu.Unlock()
		a.wmu.Lock()
		a.curSize.Store(fileSize(filepath.Join(a.opts.Dir, a.fileName)))
		a.wmu.Unlock()
	}
	return l.stats, nil
}

type loader struct {
	a       *AOF
	loadRDB func(r *bufio.Reader) error
	apply   func(argv [][]byte) error
	stats   LoadStats

	selected bool // the current file's implicit SELECT 0 was applied
}

type queued struct {
	argv [][]byte
	off  int64
}

// file replays one file; tail reports whether a truncated end may be cut
// (it is the last file).
func (l *loader) file(fi fileInfo, size int64, base, tail bool) error {
	path := filepath.Join(l.a.opts.Dir, fi.name)
	f, err := os.Open(path)
	if err != nil {
		return &LoadError{File: fi.name, Offset: -1, Err: unwrapPath(err)}
	}
	defer f.Close()
	p := newParser(f, size)
	if base {
		if head, _ := p.br.Peek(5); string(head) == "REDIS" {
			if l.loadRDB == nil {
				return &LoadError{File: fi.name, Err: fmt.Errorf("%w: the base is an RDB image and no RDB loader was given", ErrCorrupt)}
			}
			if err := l.loadRDB(p.br); err != nil {
				return &LoadError{File: fi.name, Offset: p.pos(), Err: fmt.Errorf("loading the RDB base: %w", err)}
			}
		}
	}
	l.selected = false
	inMulti := false
	var multiStart int64
	var queue []queued
	for {
		start := p.pos()
		argv, err := p.next(inMulti)
		if err == io.EOF {
			break
		}
		if err == errShort {
			cut := start
			if inMulti {
				cut = multiStart
			}
			return l.truncate(fi.name, path, cut, tail)
		}
		if err != nil {
			var le *LoadError
			if errors.As(err, &le) {
				le.File = fi.name
				return le
			}
			return &LoadError{File: fi.name, Offset: p.pos(), Err: err}
		}
		switch {
		case bytes.EqualFold(argv[0], []byte("multi")):
			if !inMulti { // a nested MULTI is an error reply Redis ignores while loading
				inMulti, multiStart, queue = true, start, queue[:0]
			}
			continue
		case bytes.EqualFold(argv[0], []byte("exec")):
			if inMulti { // EXEC without MULTI: likewise ignored
				for _, q := range queue {
					if err := l.run(fi.name, q.off, q.argv); err != nil {
						return err
					}
				}
				inMulti, queue = false, queue[:0]
			}
			continue
		}
		if inMulti {
			queue = append(queue, queued{slices.Clone(argv), start})
			continue
		}
		if err := l.run(fi.name, start, argv); err != nil {
			return err
		}
	}
	if inMulti {
		l.a.log.Warn("Revert incomplete MULTI/EXEC transaction in AOF file", "file", fi.name, "offset", multiStart)
		return l.truncate(fi.name, path, multiStart, tail)
	}
	l.stats.Bytes += p.pos()
	return nil
}

func (l *loader) run(file string, off int64, argv [][]byte) error {
	if !l.selected {
		if err := l.apply([][]byte{[]byte("SELECT"), []byte("0")}); err != nil {
			return &LoadError{File: file, Offset: off, Err: fmt.Errorf("replaying the implicit SELECT 0: %w", err)}
		}
		l.selected = true
	}
	if err := l.apply(argv); err != nil {
		name := argv[0]
		if len(name) > 32 {
			name = name[:32]
		}
		return &LoadError{File: file, Offset: off, Err: fmt.Errorf("replaying %q: %w", name, err)}
	}
	l.stats.Commands++
	return nil
}

// truncate cuts a file's incomplete tail at cut, if allowed.
func (l *loader) truncate(file, path string, cut int64, tail bool) error {
	if !tail {
		// Redis 7: "the truncated file is not the last file". Only the
		// file appends went to can have a torn tail.
		return &LoadError{File: file, Offset: cut, Err: fmt.Errorf("%w: truncated command in a file that is not the last one", ErrCorrupt)}
	}
	if !l.a.opts.LoadTruncated {
		return &LoadError{File: file, Offset: cut, Err: ErrTruncated}
	}
	if err := os.Truncate(path, cut); err != nil {
		return &LoadError{File: file, Offset: cut, Err: fmt.Errorf("truncating the incomplete tail: %w", err)}
	}
	l.a.log.Warn("AOF: short read: truncated the AOF at the last complete command (aof-load-truncated)", "file", file, "offset", cut)
	l.stats.Truncated = true
	l.stats.Bytes += cut
	return nil
}

// parser reads RESP multibulk commands from one file, never trusting a
// length before the bytes it announces are known to exist.
type parser struct {
	br    *bufio.Reader
	cr    countReader
	size  int64 // file size: a bulk that runs past it is a short read
	arena []byte
	argv  [][]byte
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

func newParser(r io.Reader, size int64) *parser {
	p := &parser{size: size}
	p.cr.r = r
	p.br = bufio.NewReaderSize(&p.cr, 64<<10)
	return p
}

// pos is the offset of the next unread byte.
func (p *parser) pos() int64 { return p.cr.n - int64(p.br.Buffered()) }

func (p *parser) corrupt(off int64, format string, args ...any) error {
	return &LoadError{Offset: off, Err: fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))}
}

func short(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errShort
	}
	return err
}

// next reads one command: io.EOF at a clean end, errShort when the file ends
// inside it. keep preserves the bytes of earlier commands (a MULTI queue);
// otherwise the returned argv is overwritten by the next call.
func (p *parser) next(keep bool) ([][]byte, error) {
	if !keep {
		p.arena = p.arena[:0]
		if cap(p.arena) > 64<<20 {
			p.arena = nil
		}
	}
	p.argv = p.argv[:0]
	for { // '#' lines are annotations (aof-timestamp-enabled)
		b, err := p.br.Peek(1)
		if err != nil {
			return nil, err // io.EOF: clean end between commands
		}
		if b[0] != '#' {
			break
		}
		if err := p.skipLine(); err != nil {
			return nil, err
		}
	}
	argcAt := p.pos()
	argc, err := p.header('*')
	if err != nil {
		return nil, err
	}
	if argc < 1 {
		return nil, p.corrupt(argcAt, "invalid multibulk length %d", argc)
	}
	for j := int64(0); j < argc; j++ {
		off := p.pos()
		n, err := p.header('$')
		if err != nil {
			return nil, err
		}
		if n+2 > p.size-p.pos() {
			return nil, errShort
		}
		start := len(p.arena)
		p.arena = slices.Grow(p.arena, int(n))[:start+int(n)]
		if _, err := io.ReadFull(p.br, p.arena[start:]); err != nil {
			return nil, short(err)
		}
		crlfAt := p.pos()
		for _, want := range []byte{'\r', '\n'} {
			c, err := p.br.ReadByte()
			if err != nil {
				return nil, short(err)
			}
			if c != want {
				return nil, p.corrupt(crlfAt, "bulk of %d bytes (header at %d) not followed by CRLF", n, off)
			}
		}
		p.argv = append(p.argv, p.arena[start:start+int(n):start+int(n)])
	}
	return p.argv, nil
}

// header reads a "*<n>" or "$<n>" line.
func (p *parser) header(prefix byte) (int64, error) {
	off := p.pos()
	line, err := p.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return 0, p.corrupt(off, "line too long")
	case err != nil:
		return 0, short(err)
	}
	if line[0] != prefix {
		return 0, p.corrupt(off, "expected '%c', got %q", prefix, clip(line))
	}
	body := line[1 : len(line)-1]
	if len(body) > 0 && body[len(body)-1] == '\r' {
		body = body[:len(body)-1]
	}
	if len(body) == 0 || len(body) > 18 {
		return 0, p.corrupt(off, "invalid length line %q", clip(line))
	}
	var n int64
	for _, c := range body {
		if c < '0' || c > '9' {
			return 0, p.corrupt(off, "invalid length line %q", clip(line))
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

func (p *parser) skipLine() error {
	for {
		_, err := p.br.ReadSlice('\n')
		if err == nil {
			return nil
		}
		if err != bufio.ErrBufferFull {
			return short(err)
		}
	}
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
