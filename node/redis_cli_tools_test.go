package node

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wardenkv/warden/internal/redistest"
)

// redisCLI runs redis-cli against addr with args and returns its output;
// it must exit by itself within the timeout.
func redisCLI(t *testing.T, addr string, args ...string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// cliSummary is --bigkeys/--memkeys output from its summary on.
func cliSummary(t *testing.T, out string) string {
	t.Helper()
	_, s, ok := strings.Cut(out, "-------- summary -------")
	if !ok {
		t.Fatalf("no summary in:\n%s", out)
	}
	return strings.TrimSpace(s)
}

// loadToolData writes per type a small key and a big one, so the biggest
// key of each type is clear by count and by memory alike.
func loadToolData(t *testing.T, c *respClient) {
	t.Helper()
	for _, line := range []string{
		"set s-small abc", "set s-big " + strings.Repeat("x", 3000),
		"rpush l-small a", "rpush l-big " + strings.Repeat("element ", 50),
		"hset h-small f v", "hset h-big f1 v1 f2 v2 f3 v3 f4 v4 f5 v5 f6 v6 f7 v7 f8 v8 f9 v9 f10 " + strings.Repeat("v", 500),
		"sadd st-small a", "sadd st-big " + strings.Repeat("m1 m2 m3 m4 m5 m6 m7 m8 m9 ", 1),
		"zadd z-small 1 a", "zadd z-big 1 a 2 b 3 c 4 d 5 e",
		"xadd x-small 1-1 f v",
	} {
		if v := c.mustDo(t, strings.Fields(line)...); v.isErr() {
			t.Fatalf("%s: %v", line, v)
		}
	}
	for i := range 300 {
		c.mustDo(t, "xadd", "x-big", "*", "field", strings.Repeat("v", i))
	}
}

// TestRedisCLIToolsSideBySide runs the real redis-cli's --bigkeys,
// --memkeys, --latency and --stat against warden and Redis 7.0 holding the
// same keys: --bigkeys' summary must be identical, --memkeys must name
// the same biggest key of each type, --latency must print its sample line
// and --stat its table with the key count.
func TestRedisCLIToolsSideBySide(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli is not installed (apt-get install redis-tools)")
	}
	rs := redistest.Start(t, "")
	_, addr := startServer(t, "save", "")
	w, r := dialResp(t, addr), dialResp(t, rs.Addr)
	loadToolData(t, w)
	loadToolData(t, r)

	got, want := cliSummary(t, redisCLI(t, addr, "--bigkeys")), cliSummary(t, redisCLI(t, rs.Addr, "--bigkeys"))
	if got != want {
		t.Errorf("--bigkeys summary:\nwarden\n%s\nredis\n%s", got, want)
	}
	if !strings.Contains(got, `Biggest string found '"s-big"' has 3000 bytes`) || !strings.Contains(got, "Sampled 12 keys in the keyspace!") {
		t.Errorf("--bigkeys summary:\n%s", got)
	}

	biggest := regexp.MustCompile(`(?m)^Biggest +(\w+) found '"([^"]+)"' has \d+ bytes$`)
	names := func(out string) string {
		var s []string
		for _, m := range biggest.FindAllStringSubmatch(out, -1) {
			s = append(s, m[1]+"="+m[2])
		}
		return strings.Join(s, " ")
	}
	gm, wm := cliSummary(t, redisCLI(t, addr, "--memkeys")), cliSummary(t, redisCLI(t, rs.Addr, "--memkeys"))
	if names(gm) != names(wm) || !strings.Contains(names(gm), "string=s-big") || strings.Count(names(gm), "=") != 6 {
		t.Errorf("--memkeys biggest keys: warden %q redis %q\n%s", names(gm), names(wm), gm)
	}
	if !strings.Contains(gm, "Sampled 12 keys in the keyspace!") {
		t.Errorf("--memkeys summary:\n%s", gm)
	}

	// Not on a terminal, --latency samples for a second and prints
	// "min max avg count" once.
	lat := strings.TrimSpace(redisCLI(t, addr, "--latency"))
	if !regexp.MustCompile(`^\d+ \d+ \d+\.\d\d \d+$`).MatchString(lat) {
		t.Errorf("--latency printed %q", lat)
	}

	// --stat runs until stopped and stdio buffers a pipe: run it line
	// buffered and stop once its table shows the keys.
	if _, err := exec.LookPath("stdbuf"); err != nil {
		t.Skip("stdbuf (coreutils) is not installed: --stat's output cannot be read from a pipe")
	}
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "stdbuf", "-oL", "redis-cli", "-h", host, "-p", port, "--stat", "-i", "0.1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stdout)
	var lines []string
	row := regexp.MustCompile(`^12 +[\d.]+[BKMG] +\d+ +0 +\d+ \(\+\d+\) +\d+`)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if row.MatchString(sc.Text()) && len(lines) >= 4 {
			break
		}
	}
	if len(lines) < 3 || !strings.Contains(lines[0], "------- data ------") || !strings.HasPrefix(lines[1], "keys       mem") {
		t.Errorf("--stat printed:\n%s", strings.Join(lines, "\n"))
	}
	if !row.MatchString(lines[len(lines)-1]) {
		t.Errorf("--stat never showed 12 keys:\n%s", strings.Join(lines, "\n"))
	}
}
