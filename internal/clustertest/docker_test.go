package clustertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testImage builds a uniquely tagged image of a static warden (the race
// binary of `make test` needs libc, which a FROM-scratch image lacks) and
// removes it at cleanup.
func testImage(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds an image and runs containers")
	}
	if err := run("docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Skipf("no docker engine: %v", err)
	}
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	ctxDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(ctxDir, "bin", "warden"), "./cmd/warden")
	build.Dir = strings.TrimSpace(string(root))
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("static build: %v\n%s", err, out)
	}
	df, err := os.ReadFile(filepath.Join(build.Dir, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	image := fmt.Sprintf("warden:cltest-%06x", rand.IntN(1<<24))
	if out, err := exec.Command("docker", "build", "-q", "-t", image, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { run("docker", "rmi", "-f", image) })
	return image
}

// Two standalone nodes as containers of a compose project: reachable from
// the host at their fixed addresses, replicating across the project's
// network; pause freezes one, network disconnect cuts it off (from the
// test too) and Heal puts it back with its address, link cuts inside its
// namespace stop node-to-node dials, and kill/restart/TERM do what they say.
func TestDockerLifecycle(t *testing.T) {
	image := testImage(t)
	c := Start(t, Options{Nodes: 2, Standalone: true, Docker: true, Image: image})
	ctx := context.Background()
	n1, n2 := c.Node("n1"), c.Node("n2")
	c1, c2 := n1.Client(), n2.Client()
	if err := c2.ReplicaOf(ctx, n1.Host, strconv.Itoa(n1.Port)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	WaitFor(t, 30*time.Second, "n2 to replicate a key from n1", func() bool { return c2.Get(ctx, "before").Val() == "1" })

	// docker pause.
	n2.Stop()
	if !n2.Stopped() || !n2.Running() {
		t.Fatalf("after Stop: stopped %v running %v", n2.Stopped(), n2.Running())
	}
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	err := c2.Ping(pctx).Err()
	cancel()
	if err == nil {
		t.Fatal("a paused container answered PING")
	}
	n2.Cont()
	WaitFor(t, 10*time.Second, "n2 to answer after unpause", func() bool { return c2.Ping(ctx).Err() == nil })

	// docker network disconnect / connect.
	c.Partition(n2)
	if !n2.Disconnected() {
		t.Fatal("n2 still on the network after Partition")
	}
	if err := c1.Set(ctx, "during", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Heal(n2)
	if n2.Disconnected() {
		t.Fatal("n2 off the network after Heal")
	}
	WaitFor(t, 30*time.Second, "n2 to catch up after Heal", func() bool { return c2.Get(ctx, "during").Val() == "1" })

	// Link cuts inside the container's namespace.
	if !canDial(t, n2, n1) {
		t.Fatal("n2 cannot dial n1")
	}
	c.CutLinks(n2, 0, Cut{Peer: n1, In: true}, Cut{Peer: n1})
	if canDial(t, n2, n1) {
		t.Fatal("n2 dials n1 through the cuts")
	}
	c.Heal(n2)
	if !canDial(t, n2, n1) {
		t.Fatal("n2 cannot dial n1 after Heal")
	}

	// docker kill, start again; TERM exits 0.
	n2.Kill()
	if n2.Running() {
		t.Fatal("n2 runs after Kill")
	}
	n2.Restart(t)
	if err := c2.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after restart: %v", err)
	}
	n1.Term()
	if code, ok := n1.WaitExit(time.Second); !ok || code != 0 {
		t.Fatalf("n1 after TERM: exit code %d, exited %v", code, ok)
	}
}
