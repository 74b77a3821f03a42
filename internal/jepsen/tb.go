package jepsen

import (
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
)

// runTB lets the suite drive internal/clustertest outside `go test`: the
// harness only needs testing.TB's logging, failure and cleanup methods.
// Fatal ends the run through a panic that Run recovers; Skip likewise, with
// the reason. The embedded interface is nil: any other method would panic,
// and the harness calls none.
type runTB struct {
	testing.TB
	log *slog.Logger
	dir string

	mu       sync.Mutex
	failed   bool
	errs     []string
	cleanups []func()
}

type tbAbort struct {
	skip bool
	msg  string
}

func (t *runTB) Helper()                   {}
func (t *runTB) Name() string              { return "warden-jepsen" }
func (t *runTB) TempDir() string           { d, _ := os.MkdirTemp(t.dir, "tmp"); return d }
func (t *runTB) Log(a ...any)              { t.log.Info(fmt.Sprint(a...)) }
func (t *runTB) Logf(f string, a ...any)   { t.log.Info(fmt.Sprintf(f, a...)) }
func (t *runTB) Error(a ...any)            { t.fail(fmt.Sprint(a...)) }
func (t *runTB) Errorf(f string, a ...any) { t.fail(fmt.Sprintf(f, a...)) }
func (t *runTB) Fatal(a ...any)            { t.fail(fmt.Sprint(a...)); panic(tbAbort{msg: fmt.Sprint(a...)}) }
func (t *runTB) Fatalf(f string, a ...any) {
	t.fail(fmt.Sprintf(f, a...))
	panic(tbAbort{msg: fmt.Sprintf(f, a...)})
}
func (t *runTB) Skip(a ...any)            { panic(tbAbort{skip: true, msg: fmt.Sprint(a...)}) }
func (t *runTB) Skipf(f string, a ...any) { panic(tbAbort{skip: true, msg: fmt.Sprintf(f, a...)}) }
func (t *runTB) Failed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}
func (t *runTB) Cleanup(f func()) {
	t.mu.Lock()
	t.cleanups = append(t.cleanups, f)
	t.mu.Unlock()
}

func (t *runTB) fail(msg string) {
	t.log.Error("harness", "err", msg)
	t.mu.Lock()
	t.failed = true
	t.errs = append(t.errs, msg)
	t.mu.Unlock()
}

// cleanup runs the registered cleanups, last first.
func (t *runTB) cleanup() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}
