// Package deploy holds the Dockerfile and compose file; this test runs the
// compose cluster for real.
package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/clustertest"
)

var services = []string{"n1", "n2", "n3"}

// hostPorts are one node's published ports.
type hostPorts struct{ resp, sentinel, http int }

// The compose cluster from deploy/docker-compose.yml: compose refuses to
// run it without WARDEN_CLUSTER_SECRET, three containers (listening on
// their network's addresses, with the secret) become healthy, the master
// takes a write that reaches the replicas, changing the cluster without
// the secret is refused, `compose kill` of the master makes a survivor
// master within seconds, and the key is there.
func TestComposeFailover(t *testing.T) {
	compose, image := composeSetup(t)
	ports := publishPorts(t)
	var env []string
	for i, s := range services {
		p := ports[i]
		up := strings.ToUpper(s)
		env = append(env, fmt.Sprintf("WARDEN_%s_RESP=%d", up, p.resp),
			fmt.Sprintf("WARDEN_%s_SENTINEL=%d", up, p.sentinel), fmt.Sprintf("WARDEN_%s_HTTP=%d", up, p.http))
	}
	proj := newProject(compose, "wardentest", "docker-compose.yml", image, env...)
	// Without the secret, compose refuses (and names the variable).
	noSecret := proj.command("config")
	noSecret.Env = append(environWithoutSecret(), "WARDEN_IMAGE="+image)
	if out, err := noSecret.CombinedOutput(); err == nil || !strings.Contains(string(out), "WARDEN_CLUSTER_SECRET") {
		t.Fatalf("compose config without WARDEN_CLUSTER_SECRET: %v\n%s\nwant a refusal naming the variable", err, out)
	}
	ids := proj.up(t, services) // service -> container id

	ctx := context.Background()
	master := agreedMaster(t, ctx, ports, services, "")
	mi := index(master)
	if got := redisCLI(t, ports[mi].resp, "SET", "compose:key", "before"); got != "OK" {
		t.Fatalf("SET on master %s: %q", master, got)
	}
	for i, s := range services {
		clustertest.WaitFor(t, 30*time.Second, "the key to reach replica "+s, func() bool {
			return redisCLI(t, ports[i].resp, "GET", "compose:key") == "before"
		})
	}

	// Without the secret nothing changes the cluster: POST /failover is
	// 401, SENTINEL FAILOVER is refused, replication commands are refused
	// (REPLCONF: redis-cli turns PSYNC into its own replica mode).
	other := services[(mi+1)%len(services)]
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/failover?shard=0&force=1", ports[index(other)].http), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /failover without the secret: %s, want 401", resp.Status)
	}
	if got := redisCLI(t, ports[index(other)].sentinel, "SENTINEL", "FAILOVER", "mymaster"); !strings.HasPrefix(got, "NOPERM") {
		t.Fatalf("SENTINEL FAILOVER without a password: %q, want NOPERM", got)
	}
	if got := redisCLI(t, ports[mi].resp, "REPLCONF", "listening-port", "1"); !strings.HasPrefix(got, "NOPERM") {
		t.Fatalf("REPLCONF without the replication credential: %q, want NOPERM", got)
	}
	if m := agreedMaster(t, ctx, ports, services, ""); m != master {
		t.Fatalf("the master moved from %s to %s without the secret", master, m)
	}

	survivors := slices.DeleteFunc(slices.Clone(services), func(s string) bool { return s == master })
	killed := time.Now()
	if _, err := proj.run("kill", master); err != nil {
		t.Fatal(err)
	}
	// The container's exit time, not the start of the (slow) compose CLI.
	if at, err := time.Parse(time.RFC3339Nano, inspect(t, ids[master], "{{.State.FinishedAt}}")); err == nil && at.After(killed) {
		killed = at
	}
	var newMaster string
	var wrote time.Time
	clustertest.WaitFor(t, 60*time.Second, "a survivor named master that accepts a write", func() bool {
		st, err := status(ctx, ports[index(survivors[0])].http)
		if err != nil {
			return false
		}
		sh := shard0(st)
		if sh == nil || sh.Master == "" || sh.Master == master || index(sh.Master) < 0 {
			return false
		}
		if redisCLI(t, ports[index(sh.Master)].resp, "SET", "compose:after", "1") != "OK" {
			return false
		}
		newMaster, wrote = sh.Master, time.Now()
		return true
	})
	t.Logf("failover: %v from the death of %s (compose kill) to the first write accepted by the new master %s",
		wrote.Sub(killed).Round(time.Millisecond), master, newMaster)
	if got := redisCLI(t, ports[index(newMaster)].resp, "GET", "compose:key"); got != "before" {
		t.Fatalf("GET on the new master %s: %q, want the value written before the kill", newMaster, got)
	}
	// A master fences itself while it cannot hear a Raft majority: on a
	// busy machine the leadership may move once more right after the
	// failover (CI saw "failed to contact quorum of nodes, stepping
	// down"), and the new master answers READONLY until it hears the new
	// leader. The write must go through once it does.
	clustertest.WaitFor(t, 30*time.Second, "a SET accepted by the new master", func() bool {
		return redisCLI(t, ports[index(newMaster)].resp, "SET", "compose:key", "after") == "OK"
	})
	// Every survivor's /status names the new master.
	if m := agreedMaster(t, ctx, ports, survivors, master); m != newMaster {
		t.Fatalf("survivors agree on %s, the write went to %s", m, newMaster)
	}
}

// composeSetup skips unless a compose test can run here (not -short;
// docker, compose and redis-cli installed) and builds the image; it returns
// the compose command and the image.
func composeSetup(t *testing.T) (compose []string, image string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the compose test builds an image and runs containers")
	}
	compose = composeCommand(t)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed: the compose test talks to the containers with it")
	}
	return compose, buildImage(t)
}

// composeCommand returns the compose command this machine has: the docker
// plugin, else the standalone docker-compose; it skips when docker or
// compose is missing or the daemon does not answer.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker not installed: compose test skipped")
	}
	if out, err := exec.Command("docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		t.Skipf("docker daemon not available (%v): %s", err, strings.TrimSpace(string(out)))
	}
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Skip("neither `docker compose` nor docker-compose installed: compose test skipped")
	return nil
}

// project is one compose project a test runs: a compose file under a
// random project name, with the same environment for every compose run.
type project struct {
	compose    []string // the compose command (composeCommand)
	name, file string
	env        []string
}

// newProject names a project prefix plus a random suffix. Its environment
// is this process's, less any WARDEN_CLUSTER_SECRET of its own, plus
// WARDEN_IMAGE=image, a random WARDEN_CLUSTER_SECRET and env.
func newProject(compose []string, prefix, file, image string, env ...string) *project {
	secret := fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
	return &project{
		compose: compose,
		name:    fmt.Sprintf("%s%06x", prefix, rand.IntN(1<<24)),
		file:    file,
		env:     slices.Concat(environWithoutSecret(), []string{"WARDEN_IMAGE=" + image, "WARDEN_CLUSTER_SECRET=" + secret}, env),
	}
}

func environWithoutSecret() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "WARDEN_CLUSTER_SECRET=") })
}

// command is compose with args on the project, in the project's environment.
func (p *project) command(args ...string) *exec.Cmd {
	cmd := exec.Command(p.compose[0], slices.Concat(p.compose[1:], []string{"-p", p.name, "-f", p.file}, args)...)
	cmd.Env = p.env
	return cmd
}

// run runs compose with args and returns its output; the error carries it too.
func (p *project) run(args ...string) (string, error) {
	out, err := p.command(args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", strings.Join(p.compose, " "), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// up starts the project, takes it down at cleanup (logging the containers'
// last lines if the test failed), waits until the containers of services
// are all healthy and returns their ids by service.
func (p *project) up(t *testing.T, services []string) map[string]string {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := p.run("logs", "--no-color", "--tail", "60")
			t.Logf("container logs:\n%s", out)
		}
		if _, err := p.run("down", "-v", "--remove-orphans", "-t", "2"); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if _, err := p.run("up", "-d"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, s := range services {
		out, err := p.run("ps", "-q", s)
		if err != nil || strings.TrimSpace(out) == "" {
			t.Fatalf("container of %s: %v %q", s, err, out)
		}
		ids[s] = strings.TrimSpace(out)
	}
	clustertest.WaitFor(t, 120*time.Second, fmt.Sprintf("all %d containers healthy", len(services)), func() bool {
		for _, s := range services {
			state := inspect(t, ids[s], "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}")
			if strings.HasPrefix(state, "exited") || strings.HasPrefix(state, "dead") {
				t.Fatalf("%s: container %s", s, state)
			}
			if state != "running healthy" {
				return false
			}
		}
		return true
	})
	return ids
}

// buildImage builds a uniquely tagged image from deploy/Dockerfile with the
// harness's static binary as bin/warden, and removes it at cleanup.
func buildImage(t *testing.T) string {
	t.Helper()
	bin := clustertest.Binary(t)
	ctxDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(ctxDir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, bin, filepath.Join(ctxDir, "bin", "warden"), 0o755)
	copyFile(t, "Dockerfile", filepath.Join(ctxDir, "Dockerfile"), 0o644)
	image := fmt.Sprintf("warden:test-%06x", rand.IntN(1<<24))
	out, err := exec.Command("docker", "build", "-q", "-t", image, ctxDir).CombinedOutput()
	if err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", "-f", image).CombinedOutput(); err != nil {
			t.Errorf("docker rmi %s: %v: %s", image, err, out)
		}
	})
	return image
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// publishPorts picks free loopback ports for every published port, so the
// test runs beside a cluster started with the defaults.
func publishPorts(t *testing.T) []hostPorts {
	t.Helper()
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	next := func() int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		return ln.Addr().(*net.TCPAddr).Port
	}
	ps := make([]hostPorts, len(services))
	for i := range ps {
		ps[i] = hostPorts{next(), next(), next()}
	}
	return ps
}

func inspect(t *testing.T, id, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "inspect", "-f", format, id).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect %s: %v: %s", id, err, out)
	}
	return strings.TrimSpace(string(out))
}

// redisCLI runs the real redis-cli against a published port and returns
// its trimmed output (errors included: "ERR ...", "READONLY ...").
func redisCLI(t *testing.T, port int, args ...string) string {
	t.Helper()
	cmd := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...)
	out, _ := cmd.CombinedOutput() // redis-cli exits 0 on error replies; connection errors show in out
	return strings.TrimSpace(string(out))
}

// agreedMaster waits until the nodes' /status all name one master for
// shard 0, other than not, and returns it.
func agreedMaster(t *testing.T, ctx context.Context, ports []hostPorts, nodes []string, not string) string {
	t.Helper()
	var master, last string
	clustertest.WaitFor(t, 30*time.Second, "the nodes' /status to agree on a master", func() bool {
		master = ""
		for _, s := range nodes {
			st, err := status(ctx, ports[index(s)].http)
			if err != nil {
				last = err.Error()
				return false
			}
			sh := shard0(st)
			if sh == nil || sh.Master == "" || sh.Master == not || (master != "" && sh.Master != master) {
				last = fmt.Sprintf("%s names %+v", s, sh)
				return false
			}
			master = sh.Master
		}
		return index(master) >= 0
	})
	if master == "" {
		t.Fatalf("no agreed master: %s", last)
	}
	return master
}

func status(ctx context.Context, port int) (clustertest.Status, error) {
	var st clustertest.Status
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/status", port), nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("GET /status on %d: %w", port, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /status on %d: %s", port, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("GET /status on %d: decode: %w", port, err)
	}
	return st, nil
}

func shard0(st clustertest.Status) *clustertest.Shard { return st.Shard(0) }

// index is a service's position in services, -1 for an unknown name.
func index(s string) int {
	for i, x := range services {
		if x == s {
			return i
		}
	}
	return -1
}
