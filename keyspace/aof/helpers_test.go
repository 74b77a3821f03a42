package aof

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testOptions(dir string, w io.Writer) Options {
	if w == nil {
		w = io.Discard
	}
	return Options{Dir: dir, FileName: "appendonly.aof", Fsync: FsyncAlways, LoadTruncated: true,
		Log: slog.New(slog.NewTextHandler(w, nil))}
}

func mustOpen(t *testing.T, opts Options) *AOF {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func argv(words ...string) [][]byte {
	out := make([][]byte, len(words))
	for i, w := range words {
		out[i] = []byte(w)
	}
	return out
}

// record returns an apply that collects commands as space-joined strings.
func record(out *[]string) func([][]byte) error {
	return func(a [][]byte) error {
		parts := make([]string, len(a))
		for i, b := range a {
			parts[i] = string(b)
		}
		*out = append(*out, strings.Join(parts, " "))
		return nil
	}
}

// loadCommands opens dir and returns every command Load replays (a fake RDB
// loader consumes a "REDIS...\n" line and records it as "RDB ...").
func loadCommands(t *testing.T, opts Options) ([]string, LoadStats, error) {
	t.Helper()
	a, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var got []string
	st, err := a.Load(fakeRDB(&got), record(&got))
	return got, st, err
}

func fakeRDB(out *[]string) func(r *bufio.Reader) error {
	return func(r *bufio.Reader) error {
		line, err := r.ReadString('\n')
		*out = append(*out, "RDB "+strings.TrimSpace(line))
		return err
	}
}

func readManifestFile(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "appendonly.aof.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func resp(cmds ...[]string) []byte {
	var b []byte
	for _, c := range cmds {
		b = AppendCommand(b, argv(c...)...)
	}
	return b
}
