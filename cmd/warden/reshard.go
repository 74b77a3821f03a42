package main

// `warden reshard`, `warden rebalance` and `warden cluster add-shard |
// remove-shard`: the operator's resharding tools. They read the slot
// table from GET /status, plan the moves with the reshard package (pure
// functions), submit them as slot migrations (POST /migrations, signed
// with the cluster secret as `warden failover` does) and follow them
// (GET /migrations) until every slot moved or one migration failed.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/wardenkv/warden/node/httpapi"
	"github.com/wardenkv/warden/raftfsm"
	"github.com/wardenkv/warden/reshard"
	"github.com/wardenkv/warden/slotmap"
	"golang.org/x/term"
)

// pollEvery is how often the tools read GET /migrations (a test shortens it).
var pollEvery = 100 * time.Millisecond

// pollGrace is how long GET /migrations may keep failing (a leader
// change, a node restarting) before the tools give up.
var pollGrace = 30 * time.Second

// defaultBatch bounds the slots of one migration: a long move becomes
// several, each flipped (and shown) on its own.
const defaultBatch = 1024

// errNoMigrations: the node has no POST /migrations (a build without the
// slot mover).
var errNoMigrations = errors.New("this cluster has no slot migration API (POST /migrations answered 404)")

// opsClient talks to one node's HTTP API.
type opsClient struct {
	hc     *http.Client
	base   string
	secret string
}

// opsFlags are the flags every resharding tool takes.
type opsFlags struct {
	addr, secretFile *string
	tf               *tlsFlags
}

func addOpsFlags(fs *flag.FlagSet) opsFlags {
	return opsFlags{
		addr:       fs.String("http", defaultHTTP(), "any node's HTTP address, host:port or URL ($WARDEN_HTTP_ADDR sets the default)"),
		secretFile: fs.String("secret-file", "", "file holding the cluster secret (default: $"+secretEnv+")"),
		tf:         addTLSFlags(fs),
	}
}

func (f opsFlags) client() (*opsClient, error) {
	secret, err := loadSecret(*f.secretFile)
	if err != nil {
		return nil, err
	}
	hc, err := f.tf.client(failoverTimeout)
	if err != nil {
		return nil, err
	}
	return &opsClient{hc: hc, base: f.tf.url(*f.addr), secret: secret}, nil
}

// do sends a request (signed unless a GET) and returns the body of a 2xx
// answer; other answers become an error naming the status and message.
// While the cluster has no Raft leader (an election: the node did not
// forward, so nothing was done) it retries, for up to pollGrace.
func (c *opsClient) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	deadline := time.Now().Add(pollGrace)
	for {
		msg, code, err := c.once(ctx, method, path, body)
		if code != http.StatusServiceUnavailable || !bytes.HasPrefix(bytes.TrimSpace(msg), []byte("no raft leader")) ||
			time.Now().After(deadline) {
			return msg, code, err
		}
		select {
		case <-ctx.Done():
			return msg, code, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *opsClient) once(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	u := c.base + path
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && c.secret != "" {
		httpapi.SignRequest(req, c.secret, body)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: read body: %w", method, u, err)
	}
	if resp.StatusCode/100 != 2 {
		text := strings.TrimSpace(string(msg))
		if len(text) > 500 {
			text = text[:500] + "..."
		}
		if resp.StatusCode == http.StatusUnauthorized && c.secret == "" {
			text += " (give the cluster secret with --secret-file or $" + secretEnv + ")"
		}
		return msg, resp.StatusCode, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, text)
	}
	return msg, resp.StatusCode, nil
}

// status is the slot table to plan from: the leader's /status when the
// node asked is a follower, since a follower may not have applied the flip
// of a migration the leader has already reported done (a rebalance right
// after a reshard would plan from the old table); the node's own when the
// leader cannot be reached.
func (c *opsClient) status(ctx context.Context) (httpapi.Status, error) {
	st, err := c.statusAt(ctx, c)
	if err != nil || st.Raft.State == "Leader" || st.Leader.HTTPAddr == "" {
		return st, err
	}
	scheme, _, _ := strings.Cut(c.base, "://")
	leader := *c
	leader.base = scheme + "://" + st.Leader.HTTPAddr
	if lst, err := c.statusAt(ctx, &leader); err == nil {
		return lst, nil
	}
	return st, nil
}

func (c *opsClient) statusAt(ctx context.Context, at *opsClient) (httpapi.Status, error) {
	var st httpapi.Status
	body, _, err := at.do(ctx, http.MethodGet, "/status", nil)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("GET /status: bad JSON: %w", err)
	}
	return st, nil
}

// migrationRequest is the body of POST /migrations.
type migrationRequest struct {
	From   int      `json:"from"`
	To     int      `json:"to"`
	Ranges [][2]int `json:"ranges"`
}

// migrationInfo is one element of GET /migrations.
type migrationInfo struct {
	ID         uint64          `json:"id"`
	From       int             `json:"from"`
	To         int             `json:"to"`
	Ranges     [][2]int        `json:"ranges"`
	State      string          `json:"state"`
	KeysMoved  int64           `json:"keys_moved"`
	BytesMoved int64           `json:"bytes_moved"`
	Started    json.RawMessage `json:"started,omitempty"`
	Finished   json.RawMessage `json:"finished,omitempty"`
	Reason     string          `json:"reason,omitempty"`
}

// terminal: the record will not change this migration any more.
func (m migrationInfo) terminal() bool {
	return m.State == raftfsm.MigrationDone || m.State == raftfsm.MigrationCancelled
}

func pairs(rs []slotmap.Range) [][2]int {
	out := make([][2]int, len(rs))
	for i, r := range rs {
		out[i] = [2]int{r.Start, r.End}
	}
	return out
}

// noRoute: the node has no such route at all (net/http's mux answer),
// as opposed to a 404 about a shard or migration.
func noRoute(code int, msg []byte) bool {
	return code == http.StatusNotFound && bytes.HasPrefix(bytes.TrimSpace(msg), []byte("404 page not found"))
}

func (c *opsClient) submit(ctx context.Context, from, to int, rs []slotmap.Range) (uint64, error) {
	body, _ := json.Marshal(migrationRequest{From: from, To: to, Ranges: pairs(rs)})
	msg, code, err := c.do(ctx, http.MethodPost, "/migrations", body)
	if noRoute(code, msg) {
		return 0, fmt.Errorf("%w: %v", errNoMigrations, err)
	}
	if err != nil {
		return 0, err
	}
	var r struct {
		ID *uint64 `json:"id"`
	}
	if err := json.Unmarshal(msg, &r); err != nil || r.ID == nil {
		return 0, fmt.Errorf("POST /migrations: want {\"id\":N}, got %q", bytes.TrimSpace(msg))
	}
	return *r.ID, nil
}

// migrations reads GET /migrations: a list, or an object holding one
// under "migrations".
func (c *opsClient) migrations(ctx context.Context) ([]migrationInfo, error) {
	msg, code, err := c.do(ctx, http.MethodGet, "/migrations", nil)
	body := msg
	if noRoute(code, msg) {
		return nil, fmt.Errorf("%w: %v", errNoMigrations, err)
	}
	if err != nil {
		return nil, err
	}
	var list []migrationInfo
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		var wrapped struct {
			Migrations []migrationInfo `json:"migrations"`
		}
		err = json.Unmarshal(t, &wrapped)
		list = wrapped.Migrations
	} else {
		err = json.Unmarshal(t, &list)
	}
	if err != nil {
		return nil, fmt.Errorf("GET /migrations: bad JSON: %w", err)
	}
	return list, nil
}

// shardsOf turns /status into the planner's input: the shards in
// service that can take part (a shard without a master can neither send
// nor receive; one that owns slots makes planning impossible).
func shardsOf(st httpapi.Status) ([]reshard.Shard, error) {
	var out []reshard.Shard
	for _, sh := range st.Shards {
		if sh.Removed {
			continue
		}
		var rs []slotmap.Range
		for _, f := range strings.Fields(sh.Slots) {
			r, err := slotmap.ParseRange(f)
			if err != nil {
				return nil, fmt.Errorf("/status shard %d: %w", sh.ID, err)
			}
			rs = append(rs, r)
		}
		if sh.Master == "" {
			if len(rs) > 0 {
				return nil, fmt.Errorf("shard %d owns slots but has no master: wait for its failover", sh.ID)
			}
			continue // a new shard whose nodes have not joined yet
		}
		out = append(out, reshard.Shard{ID: sh.ID, Slots: rs})
	}
	return out, nil
}

// refuseBusy refuses to plan while a migration is under way: its slots
// are about to change hands.
func refuseBusy(ms []migrationInfo) error {
	for _, m := range ms {
		if !m.terminal() {
			return fmt.Errorf("migration %d (shard %d -> %d) is still %s: wait for it (or cancel it) first", m.ID, m.From, m.To, m.State)
		}
	}
	return nil
}

// progress shows migrations as they go: a bar on a terminal, else one
// plain line per finished slot range.
type progress interface {
	update(slotsDone int, keys, bytes int64)
	finished(m migrationInfo, slots int, took time.Duration)
	close()
}

func newProgress(out io.Writer, total int) progress {
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return newBar(out, total)
	}
	return &plainProgress{out: out, start: time.Now()}
}

type plainProgress struct {
	out         io.Writer
	start       time.Time
	keys, bytes int64
	slots       int
}

func (p *plainProgress) update(int, int64, int64) {}

func (p *plainProgress) finished(m migrationInfo, slots int, took time.Duration) {
	p.keys += m.KeysMoved
	p.bytes += m.BytesMoved
	p.slots += slots
	fmt.Fprintf(p.out, "migration %d: slots %s shard %d -> %d: %s, %d slots, %d keys, %s in %s (%s/s)\n",
		m.ID, rangesText(m.Ranges), m.From, m.To, m.State, slots, m.KeysMoved, bytesHuman(m.BytesMoved),
		took.Round(time.Millisecond), bytesHuman(rate(m.BytesMoved, took)))
}

func (p *plainProgress) close() {
	took := time.Since(p.start)
	fmt.Fprintf(p.out, "moved %d slots, %d keys, %s in %s\n", p.slots, p.keys, bytesHuman(p.bytes), took.Round(time.Millisecond))
}

type barProgress struct {
	bar   *progressbar.ProgressBar
	start time.Time
}

func newBar(out io.Writer, total int) *barProgress {
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetDescription("slots"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("slots"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
	)
	return &barProgress{bar: bar, start: time.Now()}
}

func (b *barProgress) update(slotsDone int, keys, bytes int64) {
	took := time.Since(b.start)
	b.bar.Describe(fmt.Sprintf("%d keys, %s (%s/s)", keys, bytesHuman(bytes), bytesHuman(rate(bytes, took))))
	b.bar.Set(slotsDone)
}

func (b *barProgress) finished(migrationInfo, int, time.Duration) {}

func (b *barProgress) close() { b.bar.Exit() }

func rate(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

func rangesText(ps [][2]int) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = slotmap.Range{Start: p[0], End: p[1]}.String()
	}
	return strings.Join(parts, " ")
}

// runOpts shape how moves are carried out.
type runOpts struct {
	batch    int // slots per migration at most (<= 0: a move is one migration)
	parallel int // migrations under way at once (>= 1)
}

// job is one migration to submit and follow.
type job struct {
	from, to int
	slots    []slotmap.Range
	id       uint64
	start    time.Time
	last     migrationInfo // latest sighting
}

// execute submits moves (each cut into migrations of at most batch
// slots), up to parallel at a time, and follows them to their end. It
// returns nil only when every slot moved; after a failure it submits no
// more but lets the migrations under way finish, then reports.
func execute(ctx context.Context, c *opsClient, moves []reshard.Move, o runOpts, out io.Writer) error {
	var queue []*job
	total := 0
	for _, m := range moves {
		total += m.Count()
		for _, chunk := range reshard.Split(m.Slots, o.batch) {
			queue = append(queue, &job{from: m.From, to: m.To, slots: chunk})
		}
	}
	if total == 0 {
		fmt.Fprintln(out, "nothing to move: the slots are already where they should be")
		return nil
	}
	p := newProgress(out, total)
	defer p.close()
	var active []*job
	var failed error
	done := 0
	var keys, bytes int64 // of the finished migrations
	var failingSince time.Time
	for len(active) > 0 || (len(queue) > 0 && failed == nil) {
		for failed == nil && len(queue) > 0 && len(active) < max(o.parallel, 1) {
			j := queue[0]
			id, err := c.submit(ctx, j.from, j.to, j.slots)
			if err != nil {
				failed = fmt.Errorf("submitting slots %s (shard %d -> %d): %w", rangesText(pairs(j.slots)), j.from, j.to, err)
				break
			}
			queue = queue[1:]
			j.id, j.start = id, time.Now()
			active = append(active, j)
		}
		if len(active) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d slots moved; stopped following %d migrations under way: %w", done, total, len(active), ctx.Err())
		case <-time.After(pollEvery):
		}
		list, err := c.migrations(ctx)
		if err != nil {
			// A leader change or a restarting node: keep trying a while.
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > pollGrace {
				return fmt.Errorf("%d of %d slots moved; following migrations: %w", done, total, err)
			}
			continue
		}
		failingSince = time.Time{}
		byID := make(map[uint64]migrationInfo, len(list))
		for _, m := range list {
			byID[m.ID] = m
		}
		var still []*job
		var akeys, abytes int64
		for _, j := range active {
			m, ok := byID[j.id]
			if !ok {
				failed = cmp.Or(failed, fmt.Errorf("migration %d is no longer listed by GET /migrations", j.id))
				continue
			}
			j.last = m
			if !m.terminal() {
				still = append(still, j)
				akeys, abytes = akeys+m.KeysMoved, abytes+m.BytesMoved
				continue
			}
			keys, bytes = keys+m.KeysMoved, bytes+m.BytesMoved
			if m.State == raftfsm.MigrationDone {
				n := reshard.Count(j.slots)
				done += n
				p.finished(m, n, time.Since(j.start))
				continue
			}
			p.finished(m, 0, time.Since(j.start))
			failed = cmp.Or(failed, fmt.Errorf("migration %d (slots %s, shard %d -> %d) was %s: %s",
				j.id, rangesText(pairs(j.slots)), j.from, j.to, m.State, cmp.Or(m.Reason, "no reason given")))
		}
		active = still
		p.update(done, keys+akeys, bytes+abytes)
	}
	if failed != nil {
		return fmt.Errorf("%d of %d slots moved; %w", done, total, failed)
	}
	return nil
}

// signalContext is cancelled on SIGINT/SIGTERM: the tool stops following
// (the migration under way goes on in the cluster; nothing is left half
// done by stopping the tool).
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// runReshard: `warden reshard --from S --to T (--slots N | --slot-range A-B)`.
func runReshard(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reshard", flag.ContinueOnError)
	of := addOpsFlags(fs)
	from := fs.Int("from", -1, "source shard id")
	to := fs.Int("to", -1, "target shard id")
	slots := fs.Int("slots", 0, "move this many slots: the source's highest-numbered ones")
	slotRange := fs.String("slot-range", "", "move exactly these slots, A-B (the source must own them all)")
	ro := addRunFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reshard: unexpected arguments %q", fs.Args())
	}
	if *from < 0 || *to < 0 {
		return errors.New("reshard: --from and --to are required (shard ids, see warden status)")
	}
	if (*slots > 0) == (*slotRange != "") {
		return errors.New("reshard: give exactly one of --slots N and --slot-range A-B")
	}
	var r slotmap.Range
	if *slotRange != "" {
		var err error
		if r, err = slotmap.ParseRange(*slotRange); err != nil {
			return fmt.Errorf("reshard: --slot-range: %w", err)
		}
	}
	s, err := of.open("reshard")
	if err != nil {
		return err
	}
	defer s.cancel()
	var mv reshard.Move
	if *slotRange != "" {
		mv, err = reshard.PlanRange(s.shards, *from, *to, r)
	} else {
		mv, err = reshard.PlanSlots(s.shards, *from, *to, *slots)
	}
	if err != nil {
		return fmt.Errorf("reshard: %w", err)
	}
	return execute(s.ctx, s.c, []reshard.Move{mv}, ro.opts(), out)
}

// runFlags are --batch and --parallel.
type runFlags struct{ batch, parallel *int }

func addRunFlags(fs *flag.FlagSet) runFlags {
	return runFlags{
		batch:    fs.Int("batch", defaultBatch, "slots per migration at most"),
		parallel: fs.Int("parallel", 1, "migrations under way at once"),
	}
}

func (f runFlags) opts() runOpts { return runOpts{batch: *f.batch, parallel: max(*f.parallel, 1)} }

// session is one run of a planning tool: its client, a context that
// SIGINT/SIGTERM cancel, and the shards to plan over.
type session struct {
	c      *opsClient
	ctx    context.Context
	cancel context.CancelFunc
	shards []reshard.Shard
}

func (f opsFlags) open(tool string) (*session, error) {
	c, err := f.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := signalContext()
	shards, err := plannerInput(ctx, c)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s: %w", tool, err)
	}
	return &session{c: c, ctx: ctx, cancel: cancel, shards: shards}, nil
}

// plannerInput reads /status and /migrations: the shards, once no
// migration is under way.
func plannerInput(ctx context.Context, c *opsClient) ([]reshard.Shard, error) {
	st, err := c.status(ctx)
	if err != nil {
		return nil, err
	}
	shards, err := shardsOf(st)
	if err != nil {
		return nil, err
	}
	ms, err := c.migrations(ctx)
	if errors.Is(err, errNoMigrations) {
		return shards, nil // nothing can be under way; submitting will say so
	}
	if err != nil {
		return nil, err
	}
	return shards, refuseBusy(ms)
}

// runRebalance: `warden rebalance`: even out the slots across shards.
func runRebalance(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rebalance", flag.ContinueOnError)
	of := addOpsFlags(fs)
	ro := addRunFlags(fs)
	dryRun := fs.Bool("dry-run", false, "print the plan and move nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("rebalance: unexpected arguments %q", fs.Args())
	}
	s, err := of.open("rebalance")
	if err != nil {
		return err
	}
	defer s.cancel()
	moves := reshard.Rebalance(s.shards)
	printPlan(out, moves)
	if *dryRun {
		return nil
	}
	return execute(s.ctx, s.c, moves, ro.opts(), out)
}

func printPlan(out io.Writer, moves []reshard.Move) {
	for _, m := range moves {
		fmt.Fprintf(out, "plan: shard %d -> %d: %d slots (%s)\n", m.From, m.To, m.Count(), rangesText(pairs(m.Slots)))
	}
}

// runCluster: `warden cluster add-shard | remove-shard N`.
func runCluster(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("cluster: want add-shard or remove-shard N")
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add-shard":
		return runAddShard(args, out)
	case "remove-shard":
		return runRemoveShard(args, out)
	}
	return fmt.Errorf("cluster: unknown subcommand %q (want add-shard or remove-shard N)", sub)
}

func runAddShard(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cluster add-shard", flag.ContinueOnError)
	of := addOpsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("cluster add-shard: unexpected arguments %q", fs.Args())
	}
	c, err := of.client()
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	body, _, err := c.do(ctx, http.MethodPost, "/shards", nil)
	if err != nil {
		return fmt.Errorf("cluster add-shard: %w", err)
	}
	var r httpapi.ShardResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("cluster add-shard: bad JSON: %w", err)
	}
	_, err = fmt.Fprintf(out, "shard %d added, with no slots yet: the next nodes to join become its master and replica; then run warden rebalance\n", r.ID)
	return err
}

func runRemoveShard(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cluster remove-shard", flag.ContinueOnError)
	of := addOpsFlags(fs)
	ro := addRunFlags(fs)
	// The shard id comes first (remove-shard 3 --http ...) or last.
	var idArg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		idArg, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if idArg == "" && fs.NArg() == 1 {
		idArg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("cluster remove-shard: unexpected arguments %q", fs.Args())
	}
	id, err := strconv.Atoi(idArg)
	if err != nil || id < 0 {
		return fmt.Errorf("cluster remove-shard: want a shard id, got %q", idArg)
	}
	s, err := of.open("cluster remove-shard")
	if err != nil {
		return err
	}
	defer s.cancel()
	moves, err := reshard.Drain(s.shards, id)
	if err != nil {
		return fmt.Errorf("cluster remove-shard: %w", err)
	}
	printPlan(out, moves)
	if err := execute(s.ctx, s.c, moves, ro.opts(), out); err != nil {
		return fmt.Errorf("cluster remove-shard %d: draining: %w", id, err)
	}
	if _, _, err := s.c.do(s.ctx, http.MethodDelete, "/shards/"+strconv.Itoa(id), nil); err != nil {
		return fmt.Errorf("cluster remove-shard %d: %w", id, err)
	}
	_, err = fmt.Fprintf(out, "shard %d removed: its nodes are spares now (they serve no slot; the next add-shard places them)\n", id)
	return err
}
