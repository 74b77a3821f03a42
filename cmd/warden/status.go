package main

// `warden status` and `warden healthcheck` talk to a node's HTTP API.
// healthcheck is the Docker HEALTHCHECK of a FROM scratch image, where there
// is no shell and no curl.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
)

const defaultHTTPAddr = "127.0.0.1:8080"

// defaultHTTP is the node to ask: $WARDEN_HTTP_ADDR (set in the container
// image to the node's own port) or the default http-addr on loopback.
func defaultHTTP() string {
	if a := os.Getenv("WARDEN_HTTP_ADDR"); a != "" {
		return a
	}
	return defaultHTTPAddr
}

// baseURL accepts host:port or a URL; a wildcard host (the server's
// --http-addr 0.0.0.0:8080, say) is reached on loopback.
func baseURL(addr string) string {
	if strings.Contains(addr, "://") {
		return strings.TrimSuffix(addr, "/")
	}
	for _, wild := range []string{"0.0.0.0:", "[::]:", ":"} {
		if strings.HasPrefix(addr, wild) {
			return "http://127.0.0.1:" + strings.TrimPrefix(addr, wild)
		}
	}
	return "http://" + addr
}

func httpClient(timeout time.Duration) *http.Client {
	// No proxy: the node is local or on the cluster network.
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil}}
}

// get fetches url and returns the body, or an error naming the status unless it is 200.
func get(c *http.Client, url string) ([]byte, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return body, fmt.Errorf("GET %s: %s: %s", url, resp.Status, msg)
	}
	return body, nil
}

// runHealthcheck: `warden healthcheck [--http host:port] [--live]`. nil means healthy.
func runHealthcheck(args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	addr := fs.String("http", defaultHTTP(), "node HTTP address, host:port or URL ($WARDEN_HTTP_ADDR sets the default)")
	live := fs.Bool("live", false, "check liveness (/healthz) instead of readiness (/readyz)")
	tf := addTLSFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected arguments %q", fs.Args())
	}
	path := "/readyz"
	if *live {
		path = "/healthz"
	}
	hc, err := tf.client(2 * time.Second)
	if err != nil {
		return err
	}
	_, err = get(hc, tf.url(*addr)+path)
	return err
}

// runStatus: `warden status [--http host:port] [--json]`.
func runStatus(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	addr := fs.String("http", defaultHTTP(), "node HTTP address, host:port or URL ($WARDEN_HTTP_ADDR sets the default)")
	asJSON := fs.Bool("json", false, "print the raw /status JSON")
	tf := addTLSFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("status: unexpected arguments %q", fs.Args())
	}
	hc, err := tf.client(5 * time.Second)
	if err != nil {
		return err
	}
	body, err := get(hc, tf.url(*addr)+"/status")
	if err != nil {
		return err
	}
	if *asJSON {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err != nil {
			return fmt.Errorf("status: bad JSON from %s: %w", *addr, err)
		}
		buf.WriteByte('\n')
		_, err := out.Write(buf.Bytes())
		return err
	}
	var st httpapi.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("status: bad JSON from %s: %w", *addr, err)
	}
	return printStatus(out, &st)
}

func printStatus(out io.Writer, st *httpapi.Status) error {
	ew := &errWriter{w: out}
	leader := "none (no raft leader)"
	if st.Leader.NodeID != "" {
		leader = st.Leader.NodeID
		if st.Leader.NodeID == st.NodeID {
			leader += " (this node)"
		}
		var where []string
		if st.Leader.RaftAddr != "" {
			where = append(where, "raft "+st.Leader.RaftAddr)
		}
		if st.Leader.HTTPAddr != "" {
			where = append(where, "http "+st.Leader.HTTPAddr)
		}
		if len(where) > 0 {
			leader += "  [" + strings.Join(where, ", ") + "]"
		}
	}
	r := st.Raft
	fmt.Fprintf(ew, "node:    %s\n", st.NodeID)
	fmt.Fprintf(ew, "raft:    %s, term %d, log %d, commit %d, applied %d\n",
		orDash(r.State), r.Term, r.LastLogIndex, r.CommitIndex, r.AppliedIndex)
	fmt.Fprintf(ew, "leader:  %s\n", leader)
	fmt.Fprintf(ew, "epoch:   %d\n", st.Epoch)

	byID := make(map[string]httpapi.Member, len(st.Members))
	for _, m := range st.Members {
		byID[m.ID] = m
	}
	for _, sh := range st.Shards {
		if sh.Removed {
			fmt.Fprintf(ew, "\nshard %d %s  (removed)\n", sh.ID, sh.Name)
			continue
		}
		fmt.Fprintf(ew, "\nshard %d %s  (epoch %d, slots %s)\n", sh.ID, sh.Name, sh.Epoch, orDash(sh.Slots))
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		if sh.Master == "" {
			fmt.Fprintf(tw, "  master\t-\t(none)\t\t\n")
		} else {
			m := byID[sh.Master]
			addr := sh.MasterAddr
			if addr == "" {
				addr = m.Addr
			}
			fmt.Fprintf(tw, "  master\t%s\t%s\t%s\toffset %d\n", sh.Master, orDash(addr), orDash(m.State), m.Offset)
		}
		reps := append([]string(nil), sh.Replicas...)
		sort.Strings(reps)
		for _, id := range reps {
			m, ok := byID[id]
			lag := "lag ?"
			if ok {
				lag = "lag " + bytesHuman(m.Lag)
			}
			fmt.Fprintf(tw, "  replica\t%s\t%s\t%s\t%s\n", id, orDash(m.Addr), orDash(m.State), lag)
		}
		if len(reps) == 0 {
			fmt.Fprintf(tw, "  replica\t-\t(none)\t\t\n")
		}
		tw.Flush()
		if sh.Reason != "" {
			fmt.Fprintf(ew, "  note: %s\n", sh.Reason)
		}
	}

	fmt.Fprintf(ew, "\nmembers (%d)\n", len(st.Members))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tADDR\tSTATE\tROLE\tSHARD\tOFFSET\tLAG\tVOTER\tHTTP")
	members := append([]httpapi.Member(nil), st.Members...)
	sort.Slice(members, func(i, j int) bool { return members[i].ID < members[j].ID })
	for _, m := range members {
		shard, lag := "-", "-"
		if m.Role != "" {
			shard = strconv.Itoa(m.Shard)
		}
		if m.Role == "replica" {
			lag = strconv.FormatInt(m.Lag, 10)
		}
		voter := "no"
		if m.Voter {
			voter = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n",
			m.ID, orDash(m.Addr), orDash(m.State), orDash(m.Role), shard, m.Offset, lag, voter, orDash(m.HTTPAddr))
	}
	tw.Flush()
	return ew.err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// bytesHuman prints exact bytes below 1 KiB and one decimal above.
func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + suffix
}

// errWriter keeps the first write error so printStatus can report it once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("status: write: %w", err)
	}
	return n, err
}
