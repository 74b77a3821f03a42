package node

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ---- COMMAND

// serverCommandSubs are COMMAND's subcommands (dispatched by cmdCommand).
var serverCommandSubs map[string]*Command

func init() {
	serverCommandSubs = map[string]*Command{
		"count":           {Name: "command|count", Arity: 2, Flags: fLoading | fStale, Run: cmdCommandCount, Group: "server"},
		"list":            {Name: "command|list", Arity: -2, Flags: fLoading | fStale, Run: cmdCommandList, Group: "server"},
		"info":            {Name: "command|info", Arity: -2, Flags: fLoading | fStale, Run: cmdCommandInfo, Group: "server"},
		"docs":            {Name: "command|docs", Arity: -2, Flags: fLoading | fStale, Run: cmdCommandDocs, Group: "server"},
		"getkeys":         {Name: "command|getkeys", Arity: -4, Flags: fLoading | fStale, Run: cmdCommandGetKeys, Group: "server"},
		"getkeysandflags": {Name: "command|getkeysandflags", Arity: -4, Flags: fLoading | fStale, Run: cmdCommandGetKeysAndFlags, Group: "server"},
		"help":            {Name: "command|help", Arity: 2, Flags: fLoading | fStale, Run: cmdCommandHelp, Group: "server"},
	}
}

func cmdCommand(c *Ctx) {
	if len(c.Args) == 1 {
		cmds := c.s.sortedCommands()
		c.Array(len(cmds))
		for _, cmd := range cmds {
			c.commandInfo(cmd)
		}
		return
	}
	sub := serverCommandSubs[strings.ToLower(string(c.Args[1]))]
	if sub == nil {
		c.Err(fmt.Sprintf("ERR unknown subcommand '%.128s'. Try COMMAND HELP.", c.Args[1]))
		return
	}
	if sub.Arity > 0 && len(c.Args) != sub.Arity || len(c.Args) < -sub.Arity {
		c.Err(fmt.Sprintf("ERR wrong number of arguments for '%s' command", sub.Name))
		return
	}
	sub.Run(c)
}

func sortCommands(cmds []*Command) {
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
}

// commandSubsOf returns a command's subcommands in name order (COMMAND's
// own are not in its Subs).
func commandSubsOf(cmd *Command) []*Command {
	if cmd.Name == "command" && cmd.Subs == nil {
		out := make([]*Command, 0, len(serverCommandSubs))
		for _, s := range serverCommandSubs {
			out = append(out, s)
		}
		sortCommands(out)
		return out
	}
	return sortedSubs(cmd)
}

// lookupCommandName finds a command by "name" or "container|sub".
func (s *Server) lookupCommandName(name string) *Command {
	name = strings.ToLower(name)
	base, sub, hasSub := strings.Cut(name, "|")
	cmd := s.cmds[base]
	if cmd == nil || !hasSub {
		return cmd
	}
	if cmd.Name == "command" && cmd.Subs == nil {
		return serverCommandSubs[sub]
	}
	return cmd.Subs[sub]
}

func cmdCommandCount(c *Ctx) { c.Int(int64(len(c.s.cmds))) }

func cmdCommandInfo(c *Ctx) {
	if len(c.Args) == 2 {
		cmds := c.s.sortedCommands()
		c.Array(len(cmds))
		for _, cmd := range cmds {
			c.commandInfo(cmd)
		}
		return
	}
	c.Array(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		if cmd := c.s.lookupCommandName(string(a)); cmd != nil {
			c.commandInfo(cmd)
		} else {
			c.NullArray()
		}
	}
}

// groupACL maps a command group to its ACL category.
var groupACL = map[string]string{
	"string": "@string", "list": "@list", "hash": "@hash", "set": "@set",
	"sorted-set": "@sortedset", "sorted_set": "@sortedset", "zset": "@sortedset",
	"generic": "@keyspace", "keys": "@keyspace", "pubsub": "@pubsub",
	"connection": "@connection", "transactions": "@transaction",
	"bitmap": "@bitmap", "hyperloglog": "@hyperloglog", "geo": "@geo",
	"stream": "@stream", "scripting": "@scripting",
}

// docGroup maps warden's Group names to Redis's COMMAND DOCS groups.
func docGroup(g string) string {
	switch g {
	case "zset", "sorted_set":
		return "sorted-set"
	case "keys", "":
		return "generic"
	}
	return g
}

// cmdMetaFlags returns a command's COMMAND INFO flags.
func cmdMetaFlags(cmd *Command) []string {
	if m, ok := serverCmdTable[cmd.Name]; ok {
		return strings.Fields(m.flags)
	}
	return cmd.flagList()
}

// cmdACL returns a command's ACL categories.
func cmdACL(cmd *Command) []string {
	if m, ok := serverCmdTable[cmd.Name]; ok {
		return strings.Fields(m.acl)
	}
	var out []string
	if cmd.Flags&fWrite != 0 {
		out = append(out, "@write")
	}
	if cmd.Flags&fReadonly != 0 {
		out = append(out, "@read")
	}
	if cat := groupACL[cmd.Group]; cat != "" && cat != "@pubsub" {
		out = append(out, cat)
	}
	if cmd.Flags&fPubsub != 0 {
		out = append(out, "@pubsub")
	}
	if cmd.Flags&fAdmin != 0 {
		out = append(out, "@admin")
	}
	if cmd.Flags&fFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if cmd.Flags&fBlocking != 0 {
		out = append(out, "@blocking")
	}
	if cmd.Flags&fAdmin != 0 {
		out = append(out, "@dangerous")
	}
	return out
}

// cmdKeySpecs returns Redis's key specs, or ones derived from the command's
// key positions.
func cmdKeySpecs(cmd *Command) []serverKeySpec {
	if m, ok := serverCmdTable[cmd.Name]; ok {
		return m.specs
	}
	if cmd.KeyFn != nil {
		return []serverKeySpec{{flags: "RW access update", bsType: "u", fkType: "u"}}
	}
	if cmd.FirstKey <= 0 {
		return nil
	}
	flags := "RO access"
	if cmd.Flags&fWrite != 0 {
		flags = "RW access update"
	}
	last := cmd.LastKey
	if last >= 0 {
		last -= cmd.FirstKey
	}
	return []serverKeySpec{{flags: flags, bsType: "i", bsNum: cmd.FirstKey, fkType: "r", a: last, b: max(cmd.Step, 1)}}
}

func (c *Ctx) statusSet(items []string) {
	c.SetHeader(len(items))
	for _, s := range items {
		c.Status(s)
	}
}

// commandInfo writes one COMMAND INFO entry (Redis 7 shape).
func (c *Ctx) commandInfo(cmd *Command) {
	m, known := serverCmdTable[cmd.Name]
	// The registration is the source of key positions
	// (TestKeyPositionsAgreeWithMetadata proves Redis's metadata agrees);
	// only movable-key commands report Redis's fixed part.
	first, last, step := cmd.FirstKey, cmd.LastKey, cmd.Step
	if known && cmd.KeyFn != nil {
		first, last, step = m.first, m.last, m.step
	}
	c.Array(10)
	c.BulkString(cmd.Name)
	c.Int(int64(cmd.Arity))
	c.statusSet(cmdMetaFlags(cmd))
	c.Int(int64(first))
	c.Int(int64(last))
	c.Int(int64(step))
	c.statusSet(cmdACL(cmd))
	tips := strings.Fields(m.tips)
	c.SetHeader(len(tips))
	for _, t := range tips {
		c.BulkString(t)
	}
	specs := cmdKeySpecs(cmd)
	c.SetHeader(len(specs))
	for _, ks := range specs {
		c.keySpec(ks)
	}
	if subs := commandSubsOf(cmd); len(subs) > 0 {
		c.Array(len(subs))
		for _, sub := range subs {
			c.commandInfo(sub)
		}
	} else {
		c.SetHeader(0)
	}
}

func (c *Ctx) keySpec(ks serverKeySpec) {
	n := 3
	if ks.notes != "" {
		n++
	}
	c.Map(n)
	if ks.notes != "" {
		c.BulkString("notes")
		c.BulkString(ks.notes)
	}
	c.BulkString("flags")
	c.statusSet(strings.Fields(ks.flags))
	c.BulkString("begin_search")
	c.Map(2)
	c.BulkString("type")
	switch ks.bsType {
	case "i":
		c.BulkString("index")
		c.BulkString("spec")
		c.Map(1)
		c.BulkString("index")
		c.Int(int64(ks.bsNum))
	case "k":
		c.BulkString("keyword")
		c.BulkString("spec")
		c.Map(2)
		c.BulkString("keyword")
		c.BulkString(ks.bsKeyword)
		c.BulkString("startfrom")
		c.Int(int64(ks.bsNum))
	default:
		c.BulkString("unknown")
		c.BulkString("spec")
		c.Map(0)
	}
	c.BulkString("find_keys")
	c.Map(2)
	c.BulkString("type")
	switch ks.fkType {
	case "r":
		c.BulkString("range")
		c.BulkString("spec")
		c.Map(3)
		c.BulkString("lastkey")
		c.Int(int64(ks.a))
		c.BulkString("keystep")
		c.Int(int64(ks.b))
		c.BulkString("limit")
		c.Int(int64(ks.c))
	case "n":
		c.BulkString("keynum")
		c.BulkString("spec")
		c.Map(3)
		c.BulkString("keynumidx")
		c.Int(int64(ks.a))
		c.BulkString("firstkey")
		c.Int(int64(ks.b))
		c.BulkString("keystep")
		c.Int(int64(ks.c))
	default:
		c.BulkString("unknown")
		c.BulkString("spec")
		c.Map(0)
	}
}

func cmdCommandDocs(c *Ctx) {
	var cmds []*Command
	if len(c.Args) == 2 {
		cmds = c.s.sortedCommands()
	} else {
		for _, a := range c.Args[2:] {
			if cmd := c.s.lookupCommandName(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.Map(len(cmds))
	for _, cmd := range cmds {
		c.BulkString(cmd.Name)
		c.commandDoc(cmd)
	}
}

// docArg is one node of a COMMAND DOCS argument tree (commanddocs_args.go,
// generated from redis-server by internal/gencmddocs).
type docArg struct {
	name, typ                         string
	keySpec                           int // -1: none
	token, summary, since, deprecated string
	flags                             string // space-separated
	args                              []docArg
}

// emptyToken marks a token that is present and empty (MIGRATE's "" key).
const emptyToken = "\x00"

// docArgs writes an argument tree in Redis's order of fields.
func (c *Ctx) docArgs(args []docArg) {
	c.Array(len(args))
	for _, a := range args {
		n := 2
		for _, present := range []bool{a.keySpec >= 0, a.token != "", a.summary != "", a.since != "", a.deprecated != "", a.flags != "", a.args != nil} {
			if present {
				n++
			}
		}
		c.Map(n)
		c.BulkString("name")
		c.BulkString(a.name)
		c.BulkString("type")
		c.BulkString(a.typ)
		if a.keySpec >= 0 {
			c.BulkString("key_spec_index")
			c.Int(int64(a.keySpec))
		}
		for _, f := range [][2]string{{"token", a.token}, {"summary", a.summary}, {"since", a.since}, {"deprecated_since", a.deprecated}} {
			if f[1] == emptyToken {
				f[1] = ""
			} else if f[1] == "" {
				continue
			}
			c.BulkString(f[0])
			c.BulkString(f[1])
		}
		if a.flags != "" {
			c.BulkString("flags")
			c.statusSet(strings.Fields(a.flags))
		}
		if a.args != nil {
			c.BulkString("arguments")
			c.docArgs(a.args)
		}
	}
}

// commandDoc writes one COMMAND DOCS entry.
func (c *Ctx) commandDoc(cmd *Command) {
	m, known := serverCmdTable[cmd.Name]
	if !known {
		m.group = docGroup(cmd.Group)
	}
	docFlags := strings.Fields(m.docFlags)
	subs := commandSubsOf(cmd)
	n := 1
	args := serverCmdArgs[cmd.Name]
	for _, present := range []bool{m.summary != "", m.since != "", m.complexity != "", len(docFlags) > 0,
		m.deprecatedSince != "", m.replacedBy != "", len(m.history) > 0, args != nil, len(subs) > 0} {
		if present {
			n++
		}
	}
	c.Map(n)
	if m.summary != "" {
		c.BulkString("summary")
		c.BulkString(m.summary)
	}
	if m.since != "" {
		c.BulkString("since")
		c.BulkString(m.since)
	}
	c.BulkString("group")
	c.BulkString(m.group)
	if m.complexity != "" {
		c.BulkString("complexity")
		c.BulkString(m.complexity)
	}
	if len(docFlags) > 0 {
		c.BulkString("doc_flags")
		c.statusSet(docFlags)
	}
	if m.deprecatedSince != "" {
		c.BulkString("deprecated_since")
		c.BulkString(m.deprecatedSince)
	}
	if m.replacedBy != "" {
		c.BulkString("replaced_by")
		c.BulkString(m.replacedBy)
	}
	if len(m.history) > 0 {
		c.BulkString("history")
		c.SetHeader(len(m.history))
		for _, h := range m.history {
			c.Array(2)
			c.BulkString(h[0])
			c.BulkString(h[1])
		}
	}
	if args != nil {
		c.BulkString("arguments")
		c.docArgs(args)
	}
	if len(subs) > 0 {
		c.BulkString("subcommands")
		c.Map(len(subs))
		for _, sub := range subs {
			c.BulkString(sub.Name)
			c.commandDoc(sub)
		}
	}
}

func cmdCommandList(c *Ctx) {
	var match func(cmd *Command) bool
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 5 && eq(c.Args[2], "filterby"):
		arg := c.Args[4]
		switch {
		case eq(c.Args[3], "module"):
			match = func(*Command) bool { return false }
		case eq(c.Args[3], "aclcat"):
			cat := "@" + strings.ToLower(string(arg))
			match = func(cmd *Command) bool {
				for _, a := range cmdACL(cmd) {
					if a == cat {
						return true
					}
				}
				return false
			}
		case eq(c.Args[3], "pattern"):
			pat := bytes.ToLower(arg)
			match = func(cmd *Command) bool { return globMatch(pat, []byte(cmd.Name)) }
		default:
			c.Err(errSyntax)
			return
		}
	default:
		c.Err(errSyntax)
		return
	}
	var names []string
	for _, cmd := range c.s.sortedCommands() {
		if match == nil || match(cmd) {
			names = append(names, cmd.Name)
		}
		for _, sub := range commandSubsOf(cmd) {
			if match == nil || match(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.BulkStrings(names)
}

// getKeysTarget resolves COMMAND GETKEYS's command and returns its keys
// with their argument positions; it replies the error itself.
func (c *Ctx) getKeysTarget() (*Command, [][]byte, []int, bool) {
	args := c.Args[2:]
	cmd := c.s.cmds[strings.ToLower(string(args[0]))]
	if cmd != nil && len(args) >= 2 {
		if cmd.Subs != nil {
			cmd = cmd.Subs[strings.ToLower(string(args[1]))]
		} else if cmd.Name == "command" {
			cmd = serverCommandSubs[strings.ToLower(string(args[1]))]
		}
	}
	if cmd == nil {
		c.Err("ERR Invalid command specified")
		return nil, nil, nil, false
	}
	if (cmd.FirstKey <= 0 && cmd.KeyFn == nil) || cmd.Flags&fNotKey != 0 {
		c.Err("ERR The command has no key arguments")
		return nil, nil, nil, false
	}
	if cmd.Arity > 0 && len(args) != cmd.Arity || len(args) < -cmd.Arity {
		c.Err("ERR Invalid number of arguments specified for command")
		return nil, nil, nil, false
	}
	keys := cmd.keys(args, nil)
	if len(keys) == 0 {
		if strings.Contains(serverCmdTable[cmd.Name].flags, "no_mandatory_keys") {
			return cmd, nil, nil, true
		}
		c.Err("ERR Invalid arguments specified for command")
		return nil, nil, nil, false
	}
	pos := make([]int, len(keys))
	p := 0
	for i, k := range keys {
		for j := p + 1; j < len(args); j++ {
			if bytes.Equal(args[j], k) {
				p = j
				break
			}
		}
		pos[i] = p
	}
	return cmd, keys, pos, true
}

func cmdCommandGetKeys(c *Ctx) {
	_, keys, _, ok := c.getKeysTarget()
	if ok {
		c.Bulks(keys)
	}
}

func cmdCommandGetKeysAndFlags(c *Ctx) {
	cmd, keys, pos, ok := c.getKeysTarget()
	if !ok {
		return
	}
	specs := cmdKeySpecs(cmd)
	c.Array(len(keys))
	for i, k := range keys {
		flags := keyFlags(cmd, specs, c.Args[2:], pos[i])
		c.Array(2)
		c.Bulk(k)
		c.statusSet(flags)
	}
}

func cmdCommandHelp(c *Ctx) {
	serverHelp(c, "command",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	)
}

// keyFlags returns the flags of the key at args[pos] (args[0] is the
// command name) as Redis 7.0 derives them: from the getkeys procedure
// where Redis takes flags from one (SET and BITFIELD, whose specs say
// variable_flags; SORT, whose STORE spec is incomplete), else from the
// key spec that covers the position.
func keyFlags(cmd *Command, specs []serverKeySpec, args [][]byte, pos int) []string {
	switch cmd.Name {
	case "set": // setGetKeys
		for _, a := range args[min(3, len(args)):] {
			if eq(a, "get") {
				return []string{"RW", "access", "update"}
			}
		}
		return []string{"OW", "update"}
	case "bitfield": // bitfieldGetKeys
		if bitfieldReadOnly(args) {
			return []string{"RO", "access"}
		}
		return []string{"RW", "access", "update"}
	case "sort": // sortGetKeys
		if pos > 1 && eq(args[pos-1], "store") {
			return []string{"OW", "update"}
		}
		return []string{"RO", "access"}
	}
	if len(specs) == 0 {
		return nil
	}
	for _, ks := range specs {
		if specCovers(ks, args, pos) {
			return strings.Fields(ks.flags)
		}
	}
	// A spec the walk above cannot evaluate: the last index spec starting
	// at or before the key.
	best := specs[0]
	for _, ks := range specs {
		if ks.bsType == "i" && ks.bsNum <= pos {
			best = ks
		}
	}
	return strings.Fields(best.flags)
}

// specCovers reports whether key spec ks finds a key at pos.
func specCovers(ks serverKeySpec, args [][]byte, pos int) bool {
	start := -1
	switch ks.bsType {
	case "i":
		start = ks.bsNum
	case "k":
		if ks.bsNum < 0 {
			return false
		}
		for j := ks.bsNum; j < pos; j++ {
			if eq(args[j], ks.bsKeyword) {
				start = j + 1 // the last occurrence before pos
			}
		}
	}
	if start < 0 || pos < start {
		return false
	}
	step := max(ks.b, 1)
	switch ks.fkType {
	case "r": // range: a = last key (negative: from the end), b = step
		last := start + ks.a
		if ks.a < 0 {
			last = len(args) + ks.a
		}
		return pos <= last && (pos-start)%step == 0
	case "k": // keynum: a = numkeys index, b = first key, c = step
		if start+ks.a >= len(args) {
			return false
		}
		n, err := strconv.Atoi(string(args[start+ks.a]))
		ok := err == nil
		first := start + ks.b
		step = max(ks.c, 1)
		return ok && pos >= first && pos < first+int(n)*step && (pos-first)%step == 0
	}
	return false
}

// bitfieldReadOnly is bitfieldGetKeys' test: only GET and OVERFLOW
// operations, each complete.
func bitfieldReadOnly(args [][]byte) bool {
	for i := 2; i < len(args); i++ {
		rem := len(args) - i - 1
		switch {
		case eq(args[i], "get") && rem >= 2:
			i += 2
		case (eq(args[i], "set") || eq(args[i], "incrby")) && rem >= 3:
			return false
		case eq(args[i], "overflow") && rem >= 1:
			i++
		default:
			return false
		}
	}
	return true
}
