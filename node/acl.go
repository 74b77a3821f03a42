package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/acl"
	"github.com/wardenkv/warden/node/config"
)

// ACL wiring: the model (users, rules, the check) is package acl; this
// file builds its command catalog from the metadata table, runs the check
// in dispatch, and serves the ACL command.

// aclCatalog builds the ACL command catalog from the one metadata table:
// every command Redis 7.0 has (so rule descriptions count categories as
// Redis does), plus warden's own commands with categories derived from
// their flags.
func (s *Server) aclCatalog() (*acl.Catalog, error) {
	seen := map[string]bool{}
	var defs []acl.CommandDef
	for name, m := range serverCmdTable {
		defs = append(defs, acl.CommandDef{Name: name, Categories: strings.Fields(m.acl), Hidden: newerThan70(m.since)})
		seen[name] = true
	}
	forEachCommand(s.cmds, func(c *Command) {
		if !seen[c.Name] {
			defs = append(defs, acl.CommandDef{Name: c.Name, Categories: cmdACL(c), Hidden: true})
			seen[c.Name] = true
		}
	})
	cat, err := acl.NewCatalog(defs)
	if err != nil {
		return nil, err
	}
	forEachCommand(s.cmds, func(c *Command) {
		c.aclID, _ = cat.ID(c.Name)
		setKeyPerm(c)
	})
	return cat, nil
}

// forEachCommand calls fn for every command and subcommand, COMMAND's
// included.
func forEachCommand(cmds map[string]*Command, fn func(*Command)) {
	for _, c := range cmds {
		fn(c)
		for _, sub := range c.Subs {
			fn(sub)
		}
	}
	for _, sub := range serverCommandSubs {
		fn(sub)
	}
}

// newerThan70 reports whether a "since" version is after Redis 7.0.
func newerThan70(since string) bool {
	major, rest, _ := strings.Cut(since, ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, _ := strconv.Atoi(major)
	mi, _ := strconv.Atoi(minor)
	return ma > 7 || ma == 7 && mi > 0
}

// initACL builds the users: the default user from requirepass, then the
// config's "user" directives or the aclfile.
func (s *Server) initACL(cfg *config.Config) error {
	cat, err := s.aclCatalog()
	if err != nil {
		return fmt.Errorf("acl catalog: %w", err)
	}
	s.acl = acl.NewStore(cat)
	s.acl.SetPubsubDefault(cfg.Get("acl-pubsub-default") == "allchannels")
	cfg.OnSet("acl-pubsub-default", func(v string) error { s.acl.SetPubsubDefault(v == "allchannels"); return nil })
	s.acl.SetDefaultPassword(cfg.Get("requirepass"))
	file := cfg.Get("aclfile")
	if len(cfg.Users) > 0 && file != "" {
		return errors.New("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both")
	}
	if len(cfg.Users) > 0 {
		if err := s.acl.ConfigUsers(cfg.Users); err != nil {
			return fmt.Errorf("user directives: %w", err)
		}
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("Error loading ACLs, user directives will be ignored: opening the ACL file %s: %w", file, err)
		}
		if _, err := s.acl.Load(file, data); err != nil {
			return fmt.Errorf("Aborting Redis startup because of ACL errors: %w", err)
		}
	}
	return nil
}

// ACL returns the user store (tests, the sentinel listener).
func (s *Server) ACL() *acl.Store { return s.acl }

// aclBufs are a client's reused key and channel lists for the check.
type aclBufs struct {
	keys  []acl.KeyRef
	chans []acl.ChannelRef
}

// aclRequest describes one invocation for u's check: the key and channel
// arguments are extracted only when u's rules restrict them.
func (s *Server) aclRequest(cl *Client, u *acl.User, cmd *Command, args [][]byte) acl.Request {
	id, isSub := cmd.aclID, strings.Contains(cmd.Name, "|")
	if cmd.Name == "command" && len(args) > 1 {
		if sub := serverCommandSubs[strings.ToLower(string(args[1]))]; sub != nil {
			id, isSub = sub.aclID, true
		}
	}
	r := acl.Request{ID: id, Sub: isSub, Args: args, NoAuth: cmd.Flags&fNoAuth != 0}
	if (cmd.FirstKey > 0 || cmd.KeyFn != nil) && cmd.Flags&fNotKey == 0 && u.RestrictsKeys() {
		cl.aclBuf.keys = aclKeys(cl.aclBuf.keys[:0], cmd, args)
		r.Keys = cl.aclBuf.keys
	}
	switch cmd.Name {
	case "publish", "spublish", "subscribe", "ssubscribe", "psubscribe":
		if !u.RestrictsChannels() {
			break
		}
		out := cl.aclBuf.chans[:0]
		last := len(args) - 1
		if cmd.Name == "publish" || cmd.Name == "spublish" {
			last = 1
		}
		for i := 1; i <= last; i++ {
			out = append(out, acl.ChannelRef{Pos: i, Pattern: cmd.Name == "psubscribe"})
		}
		cl.aclBuf.chans = out
		r.Channels = out
	}
	return r
}

// aclKeys appends the key positions of an invocation with the access
// each needs, from the key specs (as Redis's getKeysFromCommandWithSpecs).
func aclKeys(out []acl.KeyRef, cmd *Command, args [][]byte) []acl.KeyRef {
	keys := cmd.keys(args, nil)
	p := 0
	for i, k := range keys {
		if cmd.KeyFn == nil {
			p = cmd.FirstKey + i*max(cmd.Step, 1)
		} else {
			for j := p + 1; j < len(args); j++ {
				if string(args[j]) == string(k) {
					p = j
					break
				}
			}
		}
		perm := cmd.aclKeyPerm
		if !cmd.aclKeyUniform {
			perm = specPerm(keyFlags(cmd, cmdKeySpecs(cmd), args, p))
		}
		out = append(out, acl.KeyRef{Pos: p, Perm: perm})
	}
	return out
}

// specPerm is what Redis's ACLSelectorCheckKey requires for a key spec's
// flags: read for access, write for insert, delete and update.
func specPerm(flags []string) acl.KeyPerm {
	var perm acl.KeyPerm
	for _, f := range flags {
		switch f {
		case "access":
			perm |= acl.PermRead
		case "insert", "delete", "update":
			perm |= acl.PermWrite
		}
	}
	return perm
}

// setKeyPerm precomputes the key access of commands whose key specs all
// need the same (nearly all), so the check skips keyFlags.
func setKeyPerm(c *Command) {
	switch c.Name {
	case "set", "bitfield", "sort": // flags depend on the arguments
		return
	}
	specs := cmdKeySpecs(c)
	if len(specs) == 0 {
		return
	}
	p := specPerm(strings.Fields(specs[0].flags))
	for _, ks := range specs[1:] {
		if specPerm(strings.Fields(ks.flags)) != p {
			return
		}
	}
	c.aclKeyPerm, c.aclKeyUniform = p, true
}

// aclCheck runs the permission check for cl (its user) and logs a
// refusal with context (toplevel, multi, lua); it returns acl.OK or the
// reason and the command's full name.
func (s *Server) aclCheck(cl *Client, cmd *Command, args [][]byte, context string) (acl.Reason, string) {
	u := cl.user.Load()
	if u == nil || u.AllowsAll() {
		return acl.OK, ""
	}
	r := s.aclRequest(cl, u, cmd, args)
	reason, pos := u.Check(s.acl.Catalog(), &r)
	if reason == acl.OK {
		return acl.OK, ""
	}
	name := s.acl.Catalog().Name(r.ID)
	s.aclLogDenial(cl, reason, context, aclObject(reason, name, args, pos), u.Name())
	return reason, name
}

// aclDenied answers a refused command with Redis's NOPERM text (and logs
// it); it returns "" when cl may run cmd.
func (s *Server) aclDenied(cl *Client, cmd *Command, args [][]byte, context string) string {
	reason, name := s.aclCheck(cl, cmd, args, context)
	switch reason {
	case acl.OK:
		return ""
	case acl.DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case acl.DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", name)
}

// aclExecDenied is EXEC's check of each queued command (the rules may
// have changed since it was queued).
func (s *Server) aclExecDenied(cl *Client, cmd *Command, args [][]byte) string {
	reason, _ := s.aclCheck(cl, cmd, args, "multi")
	why := "no permission"
	switch reason {
	case acl.OK:
		return ""
	case acl.DeniedCommand:
		why = "no permission to execute the command or subcommand"
	case acl.DeniedKey:
		why = "no permission to touch the specified keys"
	case acl.DeniedChannel:
		why = "no permission to access one of the channels used as arguments"
	}
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + why
}

// aclScriptDenied is redis.call's check, as the script's caller.
func (s *Server) aclScriptDenied(caller *Client, cmd *Command, args [][]byte) string {
	reason, _ := s.aclCheck(caller, cmd, args, "lua")
	switch reason {
	case acl.OK:
		return ""
	case acl.DeniedCommand:
		return "The user executing the script can't run this command or subcommand"
	case acl.DeniedKey:
		return "The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case acl.DeniedChannel:
		return "The user executing the script can't publish to the channel mentioned in the command"
	}
	return "The user executing the script is lacking the permissions for the command"
}

func aclObject(reason acl.Reason, name string, args [][]byte, pos int) string {
	if reason == acl.DeniedCommand {
		return name
	}
	if pos < len(args) {
		return string(args[pos])
	}
	return ""
}

func (s *Server) aclLogDenial(cl *Client, reason acl.Reason, context, object, user string) {
	line := cl.ctx.clientLine(nil, cl)
	s.aclLog.Add(acl.LogEntry{
		Reason: reason, Context: context, Object: object, Username: user,
		Created: time.Now(), ClientInfo: string(line),
	}, int(s.cfg.Int("acllog-max-len")))
}

// killUserClients closes the connections authenticated as users that ACL
// DELUSER or ACL LOAD removed.
func (s *Server) killUserClients(users []*acl.User, except *Client) (self bool) {
	if len(users) == 0 {
		return false
	}
	gone := map[*acl.User]bool{}
	for _, u := range users {
		gone[u] = true
	}
	s.clientMu.Lock()
	var victims []*Client
	for _, cl := range s.clients {
		if gone[cl.user.Load()] {
			victims = append(victims, cl)
		}
	}
	s.clientMu.Unlock()
	for _, cl := range victims {
		cl.user.Store(s.acl.Default())
		if cl == except {
			// The caller gets its reply, then is closed (Redis's
			// CLIENT_CLOSE_AFTER_COMMAND).
			cl.authed = false
			self = true
			continue
		}
		cl.Kill()
	}
	return self
}

// authenticate is AUTH/HELLO AUTH: it logs a failure as Redis does.
func (c *Ctx) authenticate(user, pass []byte) bool {
	if c.s.isReplicationCredential(user, pass) {
		c.cl.authed, c.cl.replAuthed = true, true
		c.cl.user.Store(c.s.acl.Default())
		return true
	}
	name := "default"
	if user != nil {
		name = string(user)
	}
	u := c.s.acl.Authenticate(name, pass)
	if u == nil {
		ctx := "toplevel"
		if c.cl.multi != nil {
			ctx = "multi"
		}
		c.s.aclLogDenial(c.cl, acl.DeniedAuth, ctx, string(c.Args[0]), name)
		return false
	}
	c.cl.authed, c.cl.replAuthed = true, false
	c.cl.user.Store(u)
	return true
}

// defaultAuthed is Redis's authRequired negation for a new connection.
func (s *Server) defaultAuthed() bool {
	d := s.acl.Default()
	return d.NoPass() && d.Enabled()
}

func registerACL(t table) {
	const g = "server"
	t.add(&Command{Name: "acl", Arity: -2, Group: g, Subs: subs(
		&Command{Name: "cat", Arity: -2, Flags: fNoScript | fLoading | fStale, Run: cmdACLCat, Group: g},
		&Command{Name: "deluser", Arity: -3, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLDelUser, Group: g},
		&Command{Name: "dryrun", Arity: -4, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLDryRun, Group: g},
		&Command{Name: "genpass", Arity: -2, Flags: fNoScript | fLoading | fStale, Run: cmdACLGenPass, Group: g},
		&Command{Name: "getuser", Arity: 3, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLGetUser, Group: g},
		&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdACLHelp, Group: g},
		&Command{Name: "list", Arity: 2, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLList, Group: g},
		&Command{Name: "load", Arity: 2, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLLoad, Group: g},
		&Command{Name: "log", Arity: -2, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLLog, Group: g},
		&Command{Name: "save", Arity: 2, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLSave, Group: g},
		&Command{Name: "setuser", Arity: -3, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLSetUser, Group: g},
		&Command{Name: "users", Arity: 2, Flags: fAdmin | fNoScript | fLoading | fStale, Run: cmdACLUsers, Group: g},
		&Command{Name: "whoami", Arity: 2, Flags: fNoScript | fLoading | fStale, Run: cmdACLWhoAmI, Group: g},
	)})
}

func cmdACLSetUser(c *Ctx) {
	name := string(c.Args[2])
	if strings.ContainsAny(name, " \t\r\n\x00") {
		c.Err("ERR Usernames can't contain spaces or null characters")
		return
	}
	rules := make([]string, 0, len(c.Args)-3)
	for _, a := range c.Args[3:] {
		rules = append(rules, string(a))
	}
	if err := c.s.acl.SetUser(name, rules); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	if u := c.s.acl.User(name); u != nil {
		c.s.killRevokedSubscribers(u)
	}
	c.OK()
}

func cmdACLGetUser(c *Ctx) {
	u := c.s.acl.User(string(c.Args[2]))
	if u == nil {
		c.Null()
		return
	}
	in := u.Info(c.s.acl.Catalog())
	c.Map(6)
	c.BulkString("flags")
	c.SetHeader(len(in.Flags))
	for _, f := range in.Flags {
		c.BulkString(f)
	}
	c.BulkString("passwords")
	c.BulkStrings(in.Passwords)
	c.selectorInfo(in.Root)
	c.BulkString("selectors")
	c.Array(len(in.Selectors))
	for _, si := range in.Selectors {
		c.Map(3)
		c.selectorInfo(si)
	}
}

func (c *Ctx) selectorInfo(si acl.SelectorInfo) {
	c.BulkString("commands")
	c.BulkString(si.Commands)
	c.BulkString("keys")
	c.BulkString(si.Keys)
	c.BulkString("channels")
	c.BulkString(si.Channels)
}

func cmdACLDelUser(c *Ctx) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		names = append(names, string(a))
	}
	gone, err := c.s.acl.DelUser(names...)
	if err != nil {
		c.Err(err.Error())
		return
	}
	self := c.s.killUserClients(gone, c.cl)
	c.Int(int64(len(gone)))
	if self {
		c.clientKillOne(c.cl)
	}
}

func cmdACLUsers(c *Ctx) { c.BulkStrings(c.s.acl.Names()) }

func cmdACLList(c *Ctx) { c.BulkStrings(c.s.acl.List()) }

func cmdACLWhoAmI(c *Ctx) {
	u := c.cl.user.Load()
	if u == nil {
		u = c.s.acl.Default()
	}
	c.BulkString(u.Name())
}

func cmdACLCat(c *Ctx) {
	if len(c.Args) > 3 {
		serverSubSyntaxErr(c, "acl")
		return
	}
	if len(c.Args) == 2 {
		c.BulkStrings(acl.Categories)
		return
	}
	names, ok := c.s.acl.Catalog().CategoryCommands(string(c.Args[2]))
	if !ok {
		c.Err(fmt.Sprintf("ERR Unknown category '%.128s'", c.Args[2]))
		return
	}
	c.BulkStrings(names)
}

func cmdACLGenPass(c *Ctx) {
	bits := int64(256)
	if len(c.Args) > 3 {
		serverSubSyntaxErr(c, "acl")
		return
	}
	if len(c.Args) == 3 {
		n, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if n <= 0 || n > 4096 {
			c.Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
			return
		}
		bits = n
	}
	chars := int((bits + 3) / 4)
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.BulkString(hex.EncodeToString(buf)[:chars])
}

func cmdACLDryRun(c *Ctx) {
	u := c.s.acl.User(string(c.Args[2]))
	if u == nil {
		c.Err(fmt.Sprintf("ERR User '%s' not found", c.Args[2]))
		return
	}
	args := c.Args[3:]
	cmd := c.s.lookupCommandName(string(args[0]))
	if cmd != nil && cmd.Subs != nil && len(args) > 1 {
		if sub := cmd.Subs[strings.ToLower(string(args[1]))]; sub != nil {
			cmd = sub
		}
	}
	if cmd == nil {
		c.Err(fmt.Sprintf("ERR Command '%s' not found", args[0]))
		return
	}
	if (cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity {
		c.Err(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name))
		return
	}
	r := c.s.aclRequest(c.cl, u, cmd, args)
	reason, pos := u.Check(c.s.acl.Catalog(), &r)
	switch reason {
	case acl.OK:
		c.OK()
	case acl.DeniedKey:
		c.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' key", args[pos]))
	case acl.DeniedChannel:
		c.BulkString(fmt.Sprintf("This user has no permissions to access the '%s' channel", args[pos]))
	default:
		c.BulkString(fmt.Sprintf("This user has no permissions to run the '%s' command", c.s.acl.Catalog().Name(r.ID)))
	}
}

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func cmdACLLoad(c *Ctx) {
	file := c.s.cfg.Get("aclfile")
	if file == "" {
		c.Err(errNoACLFile)
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		c.Err(fmt.Sprintf("ERR Error loading ACLs, opening file '%s': %s", file, errText(err)))
		return
	}
	retired, err := c.s.acl.Load(file, data)
	if err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	self := c.s.killUserClients(retired, c.cl)
	c.OK()
	if self {
		c.clientKillOne(c.cl)
	}
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func cmdACLSave(c *Ctx) {
	file := c.s.cfg.Get("aclfile")
	if file == "" {
		c.Err(errNoACLFile)
		return
	}
	// Written to a temporary file and renamed, so a crash never leaves a
	// truncated ACL file.
	err := writeFileAtomic(file, c.s.acl.Save(), 0o600)
	if err != nil {
		c.s.log.Warn("ACL SAVE failed", "file", file, "err", err)
		c.Err("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.OK()
}

func cmdACLLog(c *Ctx) {
	n := 10
	if len(c.Args) > 3 {
		serverSubSyntaxErr(c, "acl")
		return
	}
	if len(c.Args) == 3 {
		if eq(c.Args[2], "reset") {
			c.s.aclLog.Reset()
			c.OK()
			return
		}
		v, ok := c.ParseInt(c.Args[2])
		if !ok {
			return
		}
		if v < 0 {
			v = 0
		}
		n = int(min(v, 1<<31))
	}
	entries := c.s.aclLog.Entries(n)
	now := time.Now()
	c.Array(len(entries))
	for _, e := range entries {
		c.Map(7)
		c.BulkString("count")
		c.Int(int64(e.Count))
		c.BulkString("reason")
		c.BulkString(e.Reason.String())
		c.BulkString("context")
		c.BulkString(e.Context)
		c.BulkString("object")
		c.BulkString(e.Object)
		c.BulkString("username")
		c.BulkString(e.Username)
		c.BulkString("age-seconds")
		c.Double(float64(now.Sub(e.Created).Milliseconds()) / 1000)
		c.BulkString("client-info")
		c.BulkString(e.ClientInfo)
	}
}

func cmdACLHelp(c *Ctx) {
	serverHelp(c, "acl",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	)
}

// SentinelUsers authenticates an ACL user on the Sentinel port and
// returns its command check there: Sentinel's own commands (not in the
// catalog) need a user that may run every command (+@all), the rest are
// checked as on the data port.
func (s *Server) SentinelUsers(user string, pass []byte) (func(cmd string) bool, bool) {
	u := s.acl.Authenticate(user, pass)
	if u == nil {
		return nil, false
	}
	cat := s.acl.Catalog()
	return func(cmd string) bool { return u.AllowsCommand(cat, cmd) }, true
}

// aclAllowed is the check without logging (redis.acl_check_cmd).
func (s *Server) aclAllowed(cl *Client, cmd *Command, args [][]byte) bool {
	u := cl.user.Load()
	if u == nil || u.AllowsAll() {
		return true
	}
	r := s.aclRequest(cl, u, cmd, args)
	reason, _ := u.Check(s.acl.Catalog(), &r)
	return reason == acl.OK
}

// rewriteConfigUsers is CONFIG REWRITE's part for users (Redis's
// rewriteConfigUserOption): without an aclfile, the config file's "user"
// lines become the current users, where the first one was (else at the
// end, when there is more than the default user).
func (s *Server) rewriteConfigUsers(file string) error {
	if s.cfg.Get("aclfile") != "" {
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	users := s.acl.List()
	var out []string
	placed := false
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if args, err := config.SplitArgs(l); err == nil && len(args) > 0 && strings.EqualFold(args[0], "user") {
			if !placed {
				out = append(out, users...)
				placed = true
			}
			continue
		}
		out = append(out, l)
	}
	if !placed {
		if len(users) <= 1 {
			// Only the default user, which requirepass already
			// describes: the file stays as it was.
			return nil
		}
		out = append(out, users...)
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		perm = st.Mode().Perm()
	}
	if err := writeFileAtomic(file, []byte(strings.Join(out, "\n")+"\n"), perm); err != nil {
		return fmt.Errorf("rewrite users: %w", err)
	}
	return nil
}

// killRevokedSubscribers is Redis 7.0's ACLKillPubsubClientsIfNeeded:
// after a rule change, a client of u subscribed to a channel (or pattern,
// compared literally) its rules no longer allow is disconnected.
func (s *Server) killRevokedSubscribers(u *acl.User) {
	var victims []*Client
	h := s.hub
	h.mu.RLock()
	for cl, sub := range h.clients {
		if cl.user.Load() != u {
			continue
		}
		ok := true
		for ch := range cl.subs {
			ok = ok && u.ChannelAllowed([]byte(ch), false)
		}
		for ch := range sub.shard {
			ok = ok && u.ChannelAllowed([]byte(ch), false)
		}
		for p := range cl.psubs {
			ok = ok && u.ChannelAllowed([]byte(p), true)
		}
		if !ok {
			victims = append(victims, cl)
		}
	}
	h.mu.RUnlock()
	for _, cl := range victims {
		cl.Kill()
	}
}

// writeFileAtomic replaces path with data through a synced temporary
// file and a rename, so a crash leaves the old file or the new one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".warden-tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err2 := tmp.Sync(); err == nil {
		err = err2
	}
	if err2 := tmp.Close(); err == nil {
		err = err2
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
