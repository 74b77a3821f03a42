package clustertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	readyTimeout = 30 * time.Second // a started node to answer /readyz 200 (or PING)
	exitTimeout  = 15 * time.Second // a signalled node to exit
)

// Node is one warden process of a Cluster.
type Node struct {
	ID           string
	Host         string // the address it binds and announces
	Port         int    // RESP
	RaftPort     int
	GossipPort   int
	HTTPPort     int
	SentinelPort int
	Dir          string // its --dir
	LogPath      string // its --logfile; stdout and stderr go there too
	// Args is the whole command line after the binary ("server", flags).
	// Restart uses it as it is then, so a test may change it in between.
	Args []string

	joinVia string // the HTTP address it joined through (Add), "" for --peers nodes

	c  *Cluster
	ns string // network namespace, "" for the root one

	tlsCert string // its certificate, with Options.TLS

	mu           sync.Mutex
	pid          int  // Options.Docker: the container's process, seen from here
	created      bool // Options.Docker: its container exists
	disconnected bool // Options.Docker: Partition took it off the network
	cmd          *exec.Cmd
	exited       chan struct{} // closed once the process has been waited for
	stopped      bool          // SIGSTOPped
	partitioned  bool
}

// Addr is the RESP address, "host:port".
func (n *Node) Addr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.Port)) }

// RaftAddr is the Raft address, "host:port".
func (n *Node) RaftAddr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.RaftPort)) }

// SentinelAddr is the Sentinel listener's address, "host:port".
func (n *Node) SentinelAddr() string {
	return net.JoinHostPort(n.Host, strconv.Itoa(n.SentinelPort))
}

// HTTP is the base URL of the HTTP API, "http://host:port" (https with
// Options.TLS).
func (n *Node) HTTP() string {
	scheme := "http://"
	if n.c.tls != nil {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(n.Host, strconv.Itoa(n.HTTPPort))
}

// Client returns a new go-redis client for the node, closed at cleanup. It
// does not retry failed commands (MaxRetries -1), so a test sees every
// error a failover causes instead of a retry hiding it or writing twice,
// and it honours context deadlines on reads and writes.
func (n *Node) Client() *redis.Client {
	cl := redis.NewClient(&redis.Options{
		Addr:                  n.Addr(),
		Password:              n.c.opts.Password,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          2 * time.Second,
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
		TLSConfig:             n.c.TLSConfig(),
	})
	n.c.addCloser(cl)
	return cl
}

// start runs the process with n.Args; it does not wait for readiness.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited != nil && !isClosed(n.exited) {
		return fmt.Errorf("clustertest: start %s: already running", n.ID)
	}
	if n.c.docker != nil {
		if logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
			fmt.Fprintf(logf, "=== clustertest: start %s: container %s: %s\n", n.ID, n.c.docker.container(n.ID), shellJoin(n.Args))
			logf.Close()
		}
		return n.dockerStart()
	}
	logf, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("clustertest: start %s: %w", n.ID, err)
	}
	defer logf.Close() // the child has its own copy
	argv := append([]string{n.c.bin}, n.Args...)
	if n.ns != "" {
		// ip netns exec execs the binary in place, so the pid is warden's.
		argv = append([]string{"ip", "netns", "exec", n.ns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = n.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Die with the test binary even when it is killed (go test -timeout).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	fmt.Fprintf(logf, "=== clustertest: start %s: %s\n", n.ID, shellJoin(argv))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("clustertest: start %s: %w", n.ID, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	n.cmd, n.exited, n.stopped = cmd, exited, false
	return nil
}

// Running reports whether the process is alive (a SIGSTOPped one is).
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exited != nil && !isClosed(n.exited)
}

// Stopped reports whether the node is SIGSTOPped.
func (n *Node) Stopped() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stopped
}

// Partitioned reports whether Partition cut the node off.
func (n *Node) Partitioned() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.partitioned
}

// Kill sends SIGKILL and waits for the process to exit.
func (n *Node) Kill() { n.signalAndWait(syscall.SIGKILL) }

// Term sends SIGTERM (a clean shutdown) and waits for the process to exit;
// after exitTimeout it kills it and fails the test.
func (n *Node) Term() { n.signalAndWait(syscall.SIGTERM) }

// Stop freezes the process with SIGSTOP: it holds its sockets but answers
// nothing, like a hung machine.
func (n *Node) Stop() {
	if n.signal(syscall.SIGSTOP) {
		n.mu.Lock()
		n.stopped = true
		docker := n.c.docker != nil
		pid := n.pid
		if !docker {
			pid = n.cmd.Process.Pid
		}
		n.mu.Unlock()
		if !docker { // docker pause returns once the freezer holds every task
			waitStopped(pid)
		}
	}
}

// waitStopped waits (up to 2 s) until every thread of pid is in the stopped
// state: kill(2) only queues SIGSTOP, and a thread that is running can still
// answer a request before it parks.
func waitStopped(pid int) {
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		if err != nil || len(tasks) == 0 {
			return // not Linux, or gone
		}
		all := true
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			// The state follows the ")" that closes the command name.
			i := bytes.LastIndexByte(b, ')')
			if err == nil && (i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't')) {
				all = false
				break
			}
		}
		if all {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Cont resumes a stopped process with SIGCONT.
func (n *Node) Cont() {
	if n.signal(syscall.SIGCONT) {
		n.mu.Lock()
		n.stopped = false
		n.mu.Unlock()
	}
}

// signal sends sig to a running process; false (and a test error) when it
// is not running.
func (n *Node) signal(sig syscall.Signal) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited == nil || isClosed(n.exited) {
		n.c.t.Errorf("clustertest: %v to %s: not running", sig, n.ID)
		return false
	}
	if n.c.docker != nil {
		if err := n.dockerSignal(sig); err != nil {
			n.c.t.Errorf("clustertest: %v to %s: %v", sig, n.ID, err)
			return false
		}
		return true
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		n.c.t.Errorf("clustertest: %v to %s: %v", sig, n.ID, err)
		return false
	}
	return true
}

// signalAndWait sends sig (SIGCONT too if the process is stopped, or the
// signal stays pending) and waits for the exit. A node that is not running
// is left alone.
func (n *Node) signalAndWait(sig syscall.Signal) {
	n.mu.Lock()
	cmd, exited, stopped := n.cmd, n.exited, n.stopped
	n.mu.Unlock()
	if exited == nil || isClosed(exited) {
		return
	}
	if n.c.docker != nil {
		n.dockerSignalAndWait(sig, exited, stopped)
		n.mu.Lock()
		n.stopped = false
		n.mu.Unlock()
		return
	}
	cmd.Process.Signal(sig)
	if stopped {
		cmd.Process.Signal(syscall.SIGCONT)
	}
	select {
	case <-exited:
	case <-time.After(exitTimeout):
		cmd.Process.Kill()
		<-exited
		n.c.t.Errorf("clustertest: %s did not exit within %v of %v; killed", n.ID, exitTimeout, sig)
	}
	n.mu.Lock()
	n.stopped = false
	n.mu.Unlock()
}

// Restart starts the node again with the same ports, dir and Args (after
// Term if it is still running) and waits until it is ready.
func (n *Node) Restart(t testing.TB) {
	t.Helper()
	n.RestartAsync(t)
	n.waitReady(t, time.Now().Add(readyTimeout))
}

// RestartAsync is Restart without waiting for readiness, for a node that
// cannot become ready yet (say, partitioned).
func (n *Node) RestartAsync(t testing.TB) {
	t.Helper()
	n.Term()
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits until the node answers /readyz with 200 (PING in
// standalone mode), failing early with its log if the process exits.
func (n *Node) waitReady(t testing.TB, deadline time.Time) {
	t.Helper()
	if err := n.awaitReady(deadline); err != nil {
		t.Fatal(err)
	}
}

// errPortTaken: the node exited because another process bound one of its
// ports between freePorts and the node's own bind.
var errPortTaken = errors.New("address already in use")

// awaitReady is waitReady returning the failure; it wraps errPortTaken
// when the node died of a port taken meanwhile.
func (n *Node) awaitReady(deadline time.Time) error {
	last := ""
	for {
		if !n.Running() {
			tail := n.LogTail(40)
			err := fmt.Errorf("clustertest: %s exited while starting (%v); log tail:\n%s", n.ID, n.exitState(), tail)
			if strings.Contains(n.LogSinceStart(), errPortTaken.Error()) {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := false
		if n.c.opts.Standalone {
			ok, last = n.pings(ctx)
		} else {
			ok, last = n.Ready(ctx)
		}
		cancel()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("clustertest: %s not ready after %v (last: %s); log tail:\n%s", n.ID, readyTimeout, last, n.LogTail(40))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *Node) pings(ctx context.Context) (bool, string) {
	cl := redis.NewClient(&redis.Options{Addr: n.Addr(), Password: n.c.opts.Password, DialTimeout: time.Second, MaxRetries: -1, ContextTimeoutEnabled: true,
		TLSConfig: n.c.TLSConfig()})
	defer cl.Close()
	if err := cl.Ping(ctx).Err(); err != nil {
		return false, err.Error()
	}
	return true, "PONG"
}

// WaitExit waits up to timeout for the process to exit by itself and
// returns its exit code (-1 if a signal ended it); ok is false if it is
// still running then.
func (n *Node) WaitExit(timeout time.Duration) (code int, ok bool) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if exited == nil {
		return 0, false
	}
	select {
	case <-exited:
		if n.c.docker != nil {
			return n.dockerExitCode(), true
		}
		return cmd.ProcessState.ExitCode(), true
	case <-time.After(timeout):
		return 0, false
	}
}

// LogSinceStart returns what the node logged since it was last started.
func (n *Node) LogSinceStart() string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if i := bytes.LastIndex(b, []byte("=== clustertest: start ")); i >= 0 {
		b = b[i:]
		if j := bytes.IndexByte(b, '\n'); j >= 0 {
			b = b[j+1:]
		}
	}
	return string(b)
}

func (n *Node) exitState() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.exited == nil || !isClosed(n.exited) {
		return "not exited"
	}
	if n.c.docker != nil {
		return "container exited"
	}
	return n.cmd.ProcessState.String()
}

// LogTail returns the last lines of the node's log.
func (n *Node) LogTail(lines int) string {
	b, err := os.ReadFile(n.LogPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	b = bytes.TrimRight(b, "\n")
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if lines--; lines == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// shellJoin renders argv for the log, quoting empty and spaced arguments.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\"'") {
			q[i] = strconv.Quote(a)
		}
	}
	return strings.Join(q, " ")
}
