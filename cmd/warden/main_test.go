package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests drive the real binary the way an operator does: flags, config
// files, signals, and Redis's own redis-cli.

var wardenBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "warden-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wardenBin = filepath.Join(dir, "warden")
	build := exec.Command("go", "build", "-o", wardenBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build warden: %v\n%s", err, out)
		os.Exit(1)
	}
	// Cluster tests (internal/clustertest) run this binary rather than build another.
	if os.Getenv("CLUSTERTEST_BINARY") == "" {
		os.Setenv("CLUSTERTEST_BINARY", wardenBin)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// startWarden runs `warden server args...` and waits until it accepts
// connections on port.
func startWarden(t *testing.T, port string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(wardenBin, append([]string{"server"}, args...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
			return cmd, &logs
		}
		if time.Now().After(deadline) {
			t.Fatalf("warden did not listen on %s: %s", port, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func redisCLI(t *testing.T, port string, args ...string) string {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-p", port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v: %s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestRedisCLI(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools): skipping the redis-cli test")
	}
	port := freePort(t)
	startWarden(t, port, "--port", port, "--dir", t.TempDir())
	if got := redisCLI(t, port, "PING"); got != "PONG" {
		t.Fatalf("PING = %q", got)
	}
	if got := redisCLI(t, port, "SET", "greeting", "hello world"); got != "OK" {
		t.Fatalf("SET = %q", got)
	}
	if got := redisCLI(t, port, "GET", "greeting"); got != "hello world" {
		t.Fatalf("GET = %q", got)
	}
	if got := redisCLI(t, port, "INFO", "keyspace"); !strings.Contains(got, "db0:keys=1,expires=0") {
		t.Fatalf("INFO keyspace = %q", got)
	}
	if got := redisCLI(t, port, "LPUSH", "greeting", "x"); got != "WRONGTYPE Operation against a key holding the wrong kind of value" {
		t.Fatalf("LPUSH on a string = %q", got)
	}
	if got := redisCLI(t, port, "NOSUCHCOMMAND"); !strings.HasPrefix(got, "ERR unknown command 'NOSUCHCOMMAND'") {
		t.Fatalf("unknown command = %q", got)
	}
	// Pipe mode (mass insertion) as operators use it.
	in := strings.NewReader("SET a 1\r\nSET b 2\r\nINCR a\r\n")
	cmd := exec.Command("redis-cli", "-p", port, "--pipe")
	cmd.Stdin = in
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "errors: 0, replies: 3") {
		t.Fatalf("redis-cli --pipe: %v: %s", err, out)
	}
	if got := redisCLI(t, port, "GET", "a"); got != "2" {
		t.Fatalf("GET a after pipe = %q", got)
	}
}

func TestConfigFileAndFlags(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "warden.conf")
	os.WriteFile(conf, []byte("# comment\nport 1\nrequirepass \"s3cret\"\ndatabases 4\n"), 0o644)
	// The flag overrides the file's port, as redis-server does.
	startWarden(t, port, conf, "--port", port, "--dir", dir)
	if got := redisCLI(t, port, "PING"); !strings.HasPrefix(got, "NOAUTH") {
		t.Fatalf("PING without auth = %q", got)
	}
	if got := redisCLI(t, port, "-a", "s3cret", "--no-auth-warning", "SELECT", "4"); got != "ERR DB index is out of range" {
		t.Fatalf("SELECT 4 with databases 4 = %q", got)
	}
	if got := redisCLI(t, port, "-a", "s3cret", "--no-auth-warning", "CONFIG", "GET", "databases"); got != "databases\n4" {
		t.Fatalf("CONFIG GET databases = %q", got)
	}
}

func TestUnknownDirective(t *testing.T) {
	out, err := exec.Command(wardenBin, "server", "--port", "0", "--no-such-directive", "1").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1; output %s", err, out)
	}
	if !strings.Contains(string(out), "no-such-directive") {
		t.Fatalf("error does not name the directive: %s", out)
	}
	out, err = exec.Command(wardenBin, "server", "--port", "notaport").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "port") {
		t.Fatalf("bad port accepted: %v %s", err, out)
	}
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(wardenBin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "warden ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestSIGTERMShutsDown(t *testing.T) {
	port := freePort(t)
	cmd, logs := startWarden(t, port, "--port", port, "--dir", t.TempDir())
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("warden did not exit within 30s of SIGTERM")
	}
}

// Cluster flags are checked before anything starts: a lease as long as the
// failover delay would let two masters take writes, bad peers, bad addresses.
func TestClusterFlagErrors(t *testing.T) {
	dir := t.TempDir()
	base := []string{"server", "--port", "0", "--dir", dir, "--raft-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--sentinel-port", "0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--master-lease-ms", "1000", "--down-after-milliseconds", "1000"}, "master-lease-ms"},
		{[]string{"--peers", "n1=127.0.0.1:1,n1=127.0.0.1:2"}, "listed twice"},
		{[]string{"--peers", "n1"}, "id=host:port"},
		{[]string{"--voter", "maybe"}, "voter"},
		{[]string{"--node-id", "a b"}, "node-id"},
	} {
		out, err := exec.Command(wardenBin, append(append([]string{}, base...), tc.args...)...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %v, output %q; want status 1 naming %q", tc.args, err, out, tc.want)
		}
	}
}

// --help of every subcommand exits 0 without an error line; the server's
// lists the directives with defaults and meanings; -h is not a file name.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{
		{"server", "--help"}, {"server", "-h"}, {"server", "--port", "7000", "--help"},
		{"status", "--help"}, {"status", "-h"}, {"failover", "--help"}, {"healthcheck", "--help"}, {"--help"},
	} {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(wardenBin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Errorf("%q: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
			continue
		}
		if strings.Contains(stderr.String(), "warden:") {
			t.Errorf("%q printed an error line:\n%s", args, stderr.String())
		}
		if args[0] == "server" {
			out := stdout.String()
			for _, want := range []string{"--name=value", "port ", "6379", "TCP port for clients", "appendfsync", "everysec"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q lacks %q:\n%s", args, want, out)
				}
			}
		}
	}
	// An unknown single-dash option is refused, not opened as a config file.
	out, err := exec.Command(wardenBin, "server", "-x").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown option "-x"`) {
		t.Errorf("server -x: %v\n%s", err, out)
	}
}

// --name=value works as --name value does, for a node that really starts.
func TestServerEqualsFlags(t *testing.T) {
	port := freePort(t)
	startWarden(t, port, "--port="+port, "--dir="+t.TempDir(), "--save=", "--loglevel=warning")
	out, err := exec.Command("redis-cli", "-p", port, "config", "get", "loglevel").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "warning") {
		t.Fatalf("config get loglevel: %v\n%s", err, out)
	}
}

// CONFIG GET dir answers the absolute path, as Redis does, for a dir given
// relative to the working directory; the files still land there.
func TestConfigGetDirAbsolute(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(base, "data")
	configDir := func(bin, port string) string {
		t.Helper()
		cmd := exec.Command(bin, "--port", port, "--dir", "data", "--save", "")
		if bin == wardenBin {
			cmd.Args = append([]string{bin, "server"}, cmd.Args[1:]...)
		}
		cmd.Dir = base
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			out, err := exec.Command("redis-cli", "-p", port, "config", "get", "dir").CombinedOutput()
			if err == nil && strings.HasPrefix(string(out), "dir\n") {
				if save, err := exec.Command("redis-cli", "-p", port, "save").CombinedOutput(); err != nil || strings.TrimSpace(string(save)) != "OK" {
					t.Fatalf("%s: SAVE: %v %s", bin, err, save)
				}
				return strings.TrimSpace(strings.TrimPrefix(string(out), "dir\n"))
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not answer CONFIG GET dir: %v %s\n%s", bin, err, out, logs.String())
			}
		}
	}
	if err := os.Mkdir(want, 0o755); err != nil { // redis-server needs it to exist
		t.Fatal(err)
	}
	if redis, err := exec.LookPath("redis-server"); err == nil {
		if got := configDir(redis, freePort(t)); got != want {
			t.Fatalf("redis-server: CONFIG GET dir = %q, want %q (the premise)", got, want)
		}
		os.Remove(filepath.Join(want, "dump.rdb"))
	}
	if got := configDir(wardenBin, freePort(t)); got != want {
		t.Errorf("warden: CONFIG GET dir = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(want, "dump.rdb")); err != nil {
		t.Errorf("SAVE did not write into the dir: %v", err)
	}
}
