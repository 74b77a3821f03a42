// Package redistest runs a real redis-server for interop tests. It is for
// tests only.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/internal/testhost"
)

const (
	attempts     = 10               // ports tried before giving up
	readyTimeout = 10 * time.Second // to answer PING (after loading its files)
	stopTimeout  = 10 * time.Second // to exit on SIGTERM
)

// Server is a real redis-server started for a test on a free loopback port.
type Server struct {
	Port string // as "6379"
	Addr string // as "127.0.0.1:6379"
	Dir  string // working directory

	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been waited for
	log    *testhost.LogBuffer
}

// Start runs redis-server on dir (a new temporary directory when dir is "")
// with --dbfilename dump.rdb, --save "" and --appendonly no, followed by
// directives ("--name", "value" flags, overriding those). It skips the test
// when redis-server is not installed, fails it with the server's log when
// the server does not come up, returns once PING answers PONG (files
// loaded), and stops the server at cleanup.
func Start(t testing.TB, dir string, directives ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed (apt-get install redis-server): interop test skipped")
	}
	if dir == "" {
		dir = t.TempDir()
	}
	for range attempts {
		s, err := start(bin, dir, directives)
		if errors.Is(err, errPortTaken) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.stop(); err != nil {
				t.Error(err)
			}
		})
		return s
	}
	t.Fatalf("redistest: no free port for redis-server after %d attempts", attempts)
	return nil
}

var errPortTaken = errors.New("port taken")

// start runs one redis-server on a port free a moment ago; errPortTaken
// when another process bound it meanwhile.
func start(bin, dir string, directives []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"}, directives...)
	s := &Server{Port: port, Addr: net.JoinHostPort("127.0.0.1", port), Dir: dir,
		cmd: exec.Command(bin, args...), exited: make(chan struct{}), log: &testhost.LogBuffer{}}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.WaitDelay = time.Second // a forked child may hold the log pipe
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	c := s.newClient(0)
	defer c.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		// PING answers LOADING while the files load: wait for PONG.
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.cmd.Process.Kill()
			<-s.exited
			return nil, fmt.Errorf("redistest: redis-server on %s did not answer PING in %v (%w):\n%s", s.Addr, readyTimeout, err, s.Log())
		}
		select {
		case <-s.exited:
			if strings.Contains(s.Log(), "Address already in use") {
				return nil, errPortTaken
			}
			return nil, fmt.Errorf("redistest: redis-server %s exited before answering PING:\n%s", strings.Join(args, " "), s.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// freePort returns a loopback port nothing listens on.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("redistest: finding a free port: %w", err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

func (s *Server) newClient(db int) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, DB: db, Protocol: 2, DisableIndentity: true, MaxRetries: -1})
}

// Client returns a RESP2 client of database db that does not retry; it is
// closed at cleanup.
func (s *Server) Client(t testing.TB, db int) *redis.Client {
	c := s.newClient(db)
	t.Cleanup(func() { c.Close() })
	return c
}

// Log returns what the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Stop shuts the server down with SIGTERM (gracefully: Redis flushes and
// fsyncs its AOF, and saves when save points are set) and waits for it to
// exit. It does nothing once the server has exited.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
}

func (s *Server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redistest: signalling redis-server: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("redistest: redis-server on %s did not exit on SIGTERM in %v:\n%s", s.Addr, stopTimeout, s.Log())
	}
}

// WaitAsleep polls the server until it stops answering within 20 ms (a
// DEBUG SLEEP issued elsewhere has started) or 10 s pass.
func (s *Server) WaitAsleep(t testing.TB) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, ReadTimeout: 20 * time.Millisecond, MaxRetries: -1, PoolSize: 1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s never stopped answering", s.Addr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
