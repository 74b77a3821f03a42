package clustertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultImage is the image Options.Docker runs: `make image` builds it
// (FROM scratch around bin/warden, deploy/Dockerfile).
const DefaultImage = "warden:dev"

// compose runs a cluster's nodes as the services of a docker compose
// project instead of as local processes: created by `docker-compose up`,
// faulted with the docker CLI (kill, pause, network disconnect/connect) and
// with iptables entered into a container's network namespace (nsenter), so
// a fault suite can run against containers as operators deploy them.
//
// Each node's directory on the host is bind-mounted at the same path in
// its container, so --dir, --logfile and a tmpfs mounted there behave as
// for a process. Nodes get fixed addresses on the project's own network
// (ipam), which they bind and announce, so the test's clients on the host
// reach them and a reconnected container keeps its address.
type compose struct {
	project string // wj<pid>-<tag>: a later run removes what a killed one left
	file    string // the compose file, rewritten as nodes are added
	network string // the docker network's name
	prefix  string // "10.a.b."
	image   string

	mu       sync.Mutex
	next     int
	services []string // YAML of each node's service, in order
}

func newCompose(t testing.TB, dir, image string) *compose {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("clustertest: the docker target enters containers' namespaces with nsenter, which needs root (euid %d)", os.Geteuid())
	}
	for _, tool := range []string{"docker", "docker-compose", "nsenter", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("clustertest: the docker target needs %s: %v", tool, err)
		}
	}
	if err := run("docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Skipf("clustertest: no docker engine: %v", err)
	}
	if image == "" {
		image = DefaultImage
	}
	if err := run("docker", "image", "inspect", image); err != nil {
		t.Skipf("clustertest: image %s not found (make image builds it): %v", image, err)
	}
	sweepProjects()
	prefix, err := freeSubnet()
	if err != nil {
		t.Skipf("clustertest: %v", err)
	}
	project := fmt.Sprintf("wj%d-%06x", os.Getpid(), rand.IntN(1<<24))
	d := &compose{project: project, file: filepath.Join(dir, "docker-compose.yml"), network: project + "_net",
		prefix: prefix, image: image, next: 2}
	t.Cleanup(d.down)
	return d
}

// addNode reserves an address for node id and returns it.
func (d *compose) addNode(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ip := d.prefix + strconv.Itoa(d.next)
	d.next++
	return ip
}

func (d *compose) container(id string) string { return d.project + "-" + id }

// create adds n's service to the compose file and starts it with `up`.
func (d *compose) create(n *Node) error {
	var args []string
	for i, a := range n.Args {
		if i == 0 && a == "server" {
			continue // the image's entrypoint is /warden server
		}
		args = append(args, strings.ReplaceAll(a, "$", "$$")) // compose interpolates $
	}
	cmd, _ := json.Marshal(args)
	dir, _ := json.Marshal(n.Dir + ":" + n.Dir)
	svc := fmt.Sprintf(`  %s:
    image: %q
    container_name: %q
    command: %s
    volumes: [%s]
    restart: "no"
    stop_grace_period: 15s
    healthcheck: {disable: true}
    networks:
      net: {ipv4_address: %q}
`, n.ID, d.image, d.container(n.ID), cmd, dir, n.Host)
	d.mu.Lock()
	d.services = append(d.services, svc)
	file := fmt.Sprintf("version: \"2.4\"\nservices:\n%snetworks:\n  net:\n    ipam:\n      config: [{subnet: %q}]\n",
		strings.Join(d.services, ""), d.prefix+"0/24")
	err := os.WriteFile(d.file, []byte(file), 0o644)
	d.mu.Unlock()
	if err != nil {
		return err
	}
	return run("docker-compose", "-p", d.project, "-f", d.file, "up", "-d", "--no-deps", "--no-recreate", n.ID)
}

// down removes the project's containers and network.
func (d *compose) down() {
	run("docker-compose", "-p", d.project, "-f", d.file, "down", "-v", "--remove-orphans", "-t", "1")
}

// sweepProjects removes containers and networks of earlier runs whose
// process is gone (a killed harness cannot take its containers with it).
func sweepProjects() {
	dead := func(name string) bool {
		pid, ok := namePID(strings.TrimPrefix(name, "wj"))
		return strings.HasPrefix(name, "wj") && ok && !alive(pid)
	}
	for _, list := range [][]string{{"ps", "-a", "--format", "{{.Names}}"}, {"network", "ls", "--format", "{{.Name}}"}} {
		out, err := exec.Command("docker", list...).Output()
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if name := sc.Text(); dead(name) {
				if list[0] == "ps" {
					run("docker", "rm", "-f", name)
				} else {
					run("docker", "network", "rm", name)
				}
			}
		}
	}
}

// dockerStart starts n's container (creating it the first time) and
// watches it exit.
func (n *Node) dockerStart() error {
	d := n.c.docker
	ctr := d.container(n.ID)
	var err error
	if n.created {
		err = run("docker", "start", ctr)
	} else if err = d.create(n); err == nil {
		n.created = true
	}
	if err != nil {
		return fmt.Errorf("clustertest: start %s: %w", n.ID, err)
	}
	pid, err := inspectInt(ctr, "{{.State.Pid}}")
	if err != nil || pid <= 0 {
		return fmt.Errorf("clustertest: start %s: no pid for %s: %v", n.ID, ctr, err)
	}
	exited := make(chan struct{})
	started := make(chan struct{})
	go func() {
		w := exec.Command("docker", "wait", ctr)
		w.Start()
		close(started)
		w.Wait()
		close(exited)
	}()
	<-started
	n.pid, n.exited, n.stopped = pid, exited, false
	return nil
}

// dockerSignal is signal for a container: SIGSTOP and SIGCONT are docker
// pause and unpause (the cgroup freezer), the rest docker kill -s.
func (n *Node) dockerSignal(sig syscall.Signal) error {
	ctr := n.c.docker.container(n.ID)
	switch sig {
	case syscall.SIGSTOP:
		return run("docker", "pause", ctr)
	case syscall.SIGCONT:
		return run("docker", "unpause", ctr)
	}
	return run("docker", "kill", "-s", strconv.Itoa(int(sig)), ctr)
}

// dockerExitCode is the container's last exit code.
func (n *Node) dockerExitCode() int {
	code, err := inspectInt(n.c.docker.container(n.ID), "{{.State.ExitCode}}")
	if err != nil {
		return -1
	}
	return code
}

// inspectInt is a number docker inspect -f format shows for container ctr.
func inspectInt(ctr, format string) (int, error) {
	out, err := exec.Command("docker", "inspect", "-f", format, ctr).Output()
	if err != nil {
		return 0, fmt.Errorf("docker inspect %s: %w", ctr, err)
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}

// dockerPartition disconnects n's container from the project's network
// (on), or clears its firewall and connects it again with its address.
// Unlike a namespace partition, the test's clients lose it too.
func (c *Cluster) dockerPartition(n *Node, on bool) error {
	d := c.docker
	ctr := d.container(n.ID)
	if on {
		if err := run("docker", "network", "disconnect", "-f", d.network, ctr); err != nil {
			return err
		}
		n.mu.Lock()
		n.disconnected = true
		n.mu.Unlock()
		return nil
	}
	var errs []string
	if n.Running() {
		for _, chain := range []string{"INPUT", "OUTPUT"} {
			if _, err := n.NetnsExec("iptables", "-w", "-F", chain); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	n.mu.Lock()
	disconnected := n.disconnected
	n.mu.Unlock()
	if disconnected {
		out, err := exec.Command("docker", "network", "connect", "--ip", n.Host, d.network, ctr).CombinedOutput()
		if err != nil && !bytes.Contains(out, []byte("already exists")) {
			errs = append(errs, fmt.Sprintf("connect %s: %v: %s", ctr, err, bytes.TrimSpace(out)))
		} else {
			n.mu.Lock()
			n.disconnected = false
			n.mu.Unlock()
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// dockerSignalAndWait is signalAndWait for a container.
func (n *Node) dockerSignalAndWait(sig syscall.Signal, exited chan struct{}, stopped bool) {
	if stopped {
		n.dockerSignal(syscall.SIGCONT) // a frozen container takes no signal
	}
	n.dockerSignal(sig)
	select {
	case <-exited:
	case <-time.After(exitTimeout):
		run("docker", "kill", n.c.docker.container(n.ID))
		<-exited
		n.c.t.Errorf("clustertest: %s did not exit within %v of %v; killed", n.ID, exitTimeout, sig)
	}
}

// Disconnected reports whether docker shows n's container off the
// cluster's network (Options.Docker; false otherwise): how a fault suite
// checks that a Partition is in effect.
func (n *Node) Disconnected() bool {
	d := n.c.docker
	if d == nil {
		return false
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", d.container(n.ID)).Output()
	return err == nil && !bytes.Contains(out, []byte(`"`+d.network+`"`))
}
