package aof

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File types in the manifest, as Redis 7.0 names them.
const (
	typeBase = 'b' // the rewrite's snapshot: loaded first
	typeHist = 'h' // superseded by a rewrite: never loaded, deleted on sight
	typeIncr = 'i' // commands appended since the base, loaded in order
)

// maxManifestLine is Redis's MANIFEST_MAX_LINE: longer lines are refused.
const maxManifestLine = 1024

// errManifest wraps every manifest parse error.
var errManifest = errors.New("aof: invalid manifest")

type fileInfo struct {
	name string
	seq  int64
	typ  byte
}

// manifest is the list of files making up the AOF, in Redis 7.0's format.
type manifest struct {
	base    *fileInfo
	hist    []fileInfo
	incr    []fileInfo
	baseSeq int64 // highest base seq handed out (names of the next base)
	incrSeq int64 // highest incr seq handed out
}

func (m *manifest) clone() *manifest {
	c := *m
	if m.base != nil {
		b := *m.base
		c.base = &b
	}
	c.hist = append([]fileInfo(nil), m.hist...)
	c.incr = append([]fileInfo(nil), m.incr...)
	return &c
}

// loadList is the files Load replays, in order: the base, then the incr files.
func (m *manifest) loadList() []fileInfo {
	var files []fileInfo
	if m.base != nil {
		files = append(files, *m.base)
	}
	return append(files, m.incr...)
}

// empty reports whether the manifest lists no loadable file.
func (m *manifest) empty() bool { return m.base == nil && len(m.incr) == 0 }

func manifestName(fileName string) string     { return fileName + ".manifest" }
func tempManifestName(fileName string) string { return "temp-" + fileName + ".manifest" }

func incrName(fileName string, seq int64) string {
	return fileName + "." + strconv.FormatInt(seq, 10) + ".incr.aof"
}

func baseName(fileName string, seq int64, rdb bool) string {
	ext := ".base.aof"
	if rdb {
		ext = ".base.rdb"
	}
	return fileName + "." + strconv.FormatInt(seq, 10) + ext
}

// parseManifest parses a manifest with the rules of Redis 7.0's
// aofLoadManifestFromFile, so both servers accept and refuse the same files.
func parseManifest(data []byte) (*manifest, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty manifest", errManifest)
	}
	m := &manifest{}
	var maxIncr int64
	for lineno := 1; len(data) > 0; lineno++ {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i+1], data[i+1:]
		}
		if line[0] == '#' {
			continue
		}
		if i < 0 || len(line) > maxManifestLine {
			return nil, fmt.Errorf("%w: line %d is too long or unterminated", errManifest, lineno)
		}
		trimmed := strings.Trim(string(line), " \t\r\n")
		args, err := splitArgs(trimmed)
		// argc >= 6 rather than == 6: Redis leaves room for future keys.
		if trimmed == "" || err != nil || len(args) < 6 || len(args)%2 != 0 {
			return nil, fmt.Errorf("%w: line %d", errManifest, lineno)
		}
		var fi fileInfo
		for j := 0; j < len(args); j += 2 {
			switch strings.ToLower(args[j]) {
			case "file":
				fi.name = args[j+1]
				if fi.name == "" || strings.ContainsAny(fi.name, `/\`) {
					return nil, fmt.Errorf("%w: line %d: file can't be a path, just a filename", errManifest, lineno)
				}
			case "seq":
				fi.seq = atoll(args[j+1])
			case "type":
				if args[j+1] != "" {
					fi.typ = args[j+1][0]
				}
			}
		}
		if fi.name == "" || fi.seq == 0 || fi.typ == 0 {
			return nil, fmt.Errorf("%w: line %d: missing file, seq or type", errManifest, lineno)
		}
		switch fi.typ {
		case typeBase:
			if m.base != nil {
				return nil, fmt.Errorf("%w: line %d: duplicate base file", errManifest, lineno)
			}
			b := fi
			m.base = &b
			m.baseSeq = fi.seq
		case typeHist:
			m.hist = append(m.hist, fi)
		case typeIncr:
			if fi.seq <= maxIncr {
				return nil, fmt.Errorf("%w: line %d: non-monotonic incr sequence number", errManifest, lineno)
			}
			m.incr = append(m.incr, fi)
			m.incrSeq, maxIncr = fi.seq, fi.seq
		default:
			return nil, fmt.Errorf("%w: line %d: unknown file type %q", errManifest, lineno, fi.typ)
		}
	}
	return m, nil
}

// atoll parses a leading decimal integer like C's atoll (0 when none).
func atoll(s string) int64 {
	i, neg := 0, false
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n > (1<<63-1)/10-1 {
			return 0 // overflow: refused as seq 0
		}
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// format renders the manifest as Redis's getAofManifestAsString does: base,
// then history, then incr files.
func (m *manifest) format() []byte {
	var b []byte
	line := func(fi fileInfo) {
		b = append(b, "file "...)
		b = appendRepr(b, fi.name)
		b = append(b, " seq "...)
		b = strconv.AppendInt(b, fi.seq, 10)
		b = append(b, " type "...)
		b = append(b, fi.typ, '\n')
	}
	if m.base != nil {
		line(*m.base)
	}
	for _, fi := range m.hist {
		line(fi)
	}
	for _, fi := range m.incr {
		line(fi)
	}
	return b
}

// persistManifest replaces the manifest atomically and durably: temp file,
// fsync, rename, fsync of the directory.
func persistManifest(dir, fileName string, m *manifest) error {
	tmp := filepath.Join(dir, tempManifestName(fileName))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("aof: writing manifest: %w", err)
	}
	_, err = f.Write(m.format())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, manifestName(fileName)))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("aof: persisting manifest %s: %w", manifestName(fileName), err)
	}
	return nil
}

// readManifest loads dir's manifest; a missing one is an empty manifest.
func readManifest(dir, fileName string) (*manifest, error) {
	path := filepath.Join(dir, manifestName(fileName))
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("aof: reading manifest: %w", err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
