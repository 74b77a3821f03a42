// Package acl is Redis 7.0's access control lists: users, the ACL SETUSER
// rule language, the per-command permission check and the ACL file format.
// It knows commands only through a Catalog built from the server's command
// metadata (names and ACL categories), so it has no dependency on node.
package acl

import (
	"fmt"
	"sort"
	"strings"
)

// Categories are Redis 7.0's ACL categories, in its order (ACL CAT, and
// the order the rule description tries them in).
var Categories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting",
}

// bitsCount is Redis's USER_COMMAND_BITS_COUNT; its last bit is never a
// command: +@all sets it, marking a selector that allows future commands.
const (
	bitsCount = 1024
	futureBit = bitsCount - 1
	words     = bitsCount / 64
)

// CommandDef describes one command (or "container|sub") for the catalog.
type CommandDef struct {
	Name       string   // lower case, "container|sub" for subcommands
	Categories []string // "@read", "@fast", ... as COMMAND INFO reports them
	// Hidden commands (warden's own, or newer than Redis 7.0) get an ID
	// and obey category rules, but are left out of category counting and
	// ACL CAT so both match Redis 7.0.
	Hidden bool
}

type catCmd struct {
	name   string
	cats   uint32
	parent int   // -1 for top-level commands
	subs   []int // for containers
	hidden bool
}

// Catalog is the fixed set of commands ACL rules can name, with IDs.
type Catalog struct {
	cmds   []catCmd
	top    []int // top-level command IDs in name order
	byName map[string]int
}

func categoryBit(name string) (uint32, bool) {
	for i, c := range Categories {
		if strings.EqualFold(c, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// NewCatalog assigns IDs to defs (in name order, containers before their
// subcommands). A subcommand's container must be in defs.
func NewCatalog(defs []CommandDef) (*Catalog, error) {
	sorted := append([]CommandDef(nil), defs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	c := &Catalog{byName: make(map[string]int, len(sorted))}
	if len(sorted) >= futureBit {
		return nil, fmt.Errorf("acl: %d commands exceed the %d command bits", len(sorted), futureBit)
	}
	for _, d := range sorted {
		name := strings.ToLower(d.Name)
		if _, dup := c.byName[name]; dup {
			return nil, fmt.Errorf("acl: duplicate command %q", name)
		}
		var cats uint32
		for _, cat := range d.Categories {
			b, ok := categoryBit(strings.TrimPrefix(cat, "@"))
			if !ok {
				return nil, fmt.Errorf("acl: command %q: unknown category %q", name, cat)
			}
			cats |= b
		}
		cc := catCmd{name: name, cats: cats, parent: -1, hidden: d.Hidden}
		id := len(c.cmds)
		if base, _, isSub := strings.Cut(name, "|"); isSub {
			pid, ok := c.byName[base]
			if !ok {
				return nil, fmt.Errorf("acl: subcommand %q without its container", name)
			}
			cc.parent = pid
			c.cmds[pid].subs = append(c.cmds[pid].subs, id)
		} else {
			c.top = append(c.top, id)
		}
		c.cmds = append(c.cmds, cc)
		c.byName[name] = id
	}
	return c, nil
}

// ID returns the ID of a command name ("get", "config|get"), any case.
func (c *Catalog) ID(name string) (int, bool) {
	id, ok := c.byName[strings.ToLower(name)]
	return id, ok
}

// Name returns the full name of command id.
func (c *Catalog) Name(id int) string { return c.cmds[id].name }

// CategoryCommands returns the names in category cat (without '@'), as
// ACL CAT <cat> lists them; ok is false for an unknown category.
func (c *Catalog) CategoryCommands(cat string) (names []string, ok bool) {
	bit, ok := categoryBit(cat)
	if !ok {
		return nil, false
	}
	for _, id := range c.top {
		names = c.appendCat(names, id, bit)
	}
	return names, true
}

func (c *Catalog) appendCat(names []string, id int, bit uint32) []string {
	cc := &c.cmds[id]
	if cc.cats&bit != 0 && !cc.hidden {
		names = append(names, cc.name)
	}
	for _, sub := range cc.subs {
		names = c.appendCat(names, sub, bit)
	}
	return names
}

// Categories returns the category names of command id, without '@'.
func (c *Catalog) Categories(id int) []string {
	var out []string
	for i, name := range Categories {
		if c.cmds[id].cats&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}
