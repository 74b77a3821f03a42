package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const binPrefix = "warden-clustertest-"

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds ./cmd/warden once per test binary and returns its path, or
// returns $CLUSTERTEST_BINARY when set (say, a binary built with -race).
// The build directory outlives the test binary (nothing runs at its exit),
// so each build first removes those of test binaries that are gone.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("CLUSTERTEST_BINARY"); p != "" {
			build.path, build.err = filepath.Abs(p)
			return
		}
		sweepBinaries()
		dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", binPrefix, os.Getpid()))
		if err != nil {
			build.err = fmt.Errorf("clustertest: temp dir for the binary: %w", err)
			return
		}
		path := filepath.Join(dir, "warden")
		cmd := exec.Command("go", "build", "-o", path, "github.com/wardenkv/warden/cmd/warden")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			build.err = fmt.Errorf("clustertest: go build ./cmd/warden: %w\n%s", err, out)
			return
		}
		build.path = path
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// sweepBinaries removes build directories left by test binaries that have
// exited (their pid is part of the name).
func sweepBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binPrefix+"*"))
	for _, d := range dirs {
		pid, ok := namePID(strings.TrimPrefix(filepath.Base(d), binPrefix))
		if ok && !alive(pid) {
			os.RemoveAll(d)
		}
	}
}

// namePID parses the pid at the start of "<pid>-rest".
func namePID(s string) (int, bool) {
	head, _, ok := strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	pid, err := strconv.Atoi(head)
	return pid, err == nil && pid > 0
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
