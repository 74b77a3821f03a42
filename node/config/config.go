// Package config reads warden's redis.conf-style configuration: a file of
// "directive arg..." lines, then "--directive value" overrides, and serves
// CONFIG GET/SET at run time.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Kind is how a directive's value is parsed and validated.
type Kind int

const (
	String Kind = iota
	Int
	Bool   // yes|no
	Enum   // one of Directive.Enum
	Memory // bytes with optional k/kb/m/mb/g/gb suffix
)

// Directive describes one configuration name.
type Directive struct {
	Name      string
	Usage     string // one line for `warden server --help`
	Default   string
	Kind      Kind
	Enum      []string
	Min, Max  int64
	Immutable bool // settable only at startup
	Sensitive bool // not echoed in logs
	// Validate, when set, checks a value beyond its Kind.
	Validate func(string) error
	// Canonical, when set, validates a value and rewrites it into the form
	// CONFIG GET shows (as Redis prints notify-keyspace-events).
	Canonical func(string) (string, error)
	// Merge, when set, combines a new value with the current one (a
	// client-output-buffer-limit line names only the classes it changes).
	Merge func(old, val string) (string, error)
	// NoEffect, when set, says why warden accepts this Redis directive
	// without acting on it (compat.go); setting it is logged.
	NoEffect string
}

// Config holds the current value of every directive.
type Config struct {
	mu      sync.RWMutex
	dirs    map[string]*Directive
	names   []string
	vals    map[string]string
	hooks   map[string][]func(string) error
	aliases map[string]string // Redis's old names (slave-read-only...) to the current ones
	File    string            // the config file given at startup, if any
	// Users are the "user" directives (name and rules each), which may
	// repeat; the ACL store applies them at start.
	Users []string
	// ignoredSet, when set, is told when a NoEffect directive is set to a
	// value other than its default, so the node can log it.
	ignoredSet func(name, val, why string)
}

// OnIgnoredSet registers fn to be told when a directive warden accepts
// without acting on it (NoEffect) is set to a value other than its default.
func (c *Config) OnIgnoredSet(fn func(name, val, why string)) {
	c.mu.Lock()
	c.ignoredSet = fn
	c.mu.Unlock()
}

// ErrUnknown is returned for a directive warden does not know.
var ErrUnknown = errors.New("unknown directive")

// New returns a Config with every directive at its default.
func New() *Config {
	c := &Config{dirs: map[string]*Directive{}, vals: map[string]string{}, hooks: map[string][]func(string) error{}, aliases: map[string]string{}}
	for i := range directives {
		c.Register(directives[i])
	}
	for i := range compatDirectives {
		if !c.Known(compatDirectives[i].Name) {
			c.Register(compatDirectives[i])
		}
	}
	for alias, name := range aliases {
		if c.Known(name) {
			c.aliases[alias] = name
			c.names = append(c.names, alias)
		}
	}
	slices.Sort(c.names)
	return c
}

// Canonical is the current name of a directive given by any of its names.
func (c *Config) Canonical(name string) string {
	name = strings.ToLower(name)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if n, ok := c.aliases[name]; ok {
		return n
	}
	return name
}

// IsAlias reports whether name is an old name of another directive.
func (c *Config) IsAlias(name string) bool { return c.Canonical(name) != strings.ToLower(name) }

// Register adds a directive (later packages add theirs).
func (c *Config) Register(d Directive) {
	c.mu.Lock()
	defer c.mu.Unlock()
	dd := d
	c.dirs[d.Name] = &dd
	if _, ok := c.vals[d.Name]; !ok {
		c.names = append(c.names, d.Name)
		slices.Sort(c.names)
	}
	c.vals[d.Name] = d.Default
}

// OnSet registers fn to run when name changes at run time; an error from fn
// rejects the change.
func (c *Config) OnSet(name string, fn func(string) error) {
	name = c.Canonical(name)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks[name] = append(c.hooks[name], fn)
}

// IntVar returns an integer directive's value kept current as CONFIG SET
// changes it: what a command reads on every call, without Get's
// canonicalization, lock and parse. (A hook that may refuse a value for
// name must be registered before IntVar is called: hooks run in order.)
func (c *Config) IntVar(name string) *atomic.Int64 {
	v := new(atomic.Int64)
	v.Store(c.Int(name))
	c.OnSet(name, func(s string) error {
		if n, err := ParseMemory(s); err == nil {
			v.Store(n)
		}
		return nil
	})
	return v
}

// Get returns the value of name ("" when unknown).
func (c *Config) Get(name string) string {
	name = c.Canonical(name)
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vals[name]
}

// Int returns the numeric value of an Int or Memory directive.
func (c *Config) Int(name string) int64 {
	v := c.Get(name)
	n, err := ParseMemory(v)
	if err != nil {
		return 0
	}
	return n
}

// Bool returns the value of a yes/no directive.
func (c *Config) Bool(name string) bool { return c.Get(name) == "yes" }

// Known reports whether name is a directive.
func (c *Config) Known(name string) bool {
	name = c.Canonical(name)
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.dirs[name]
	return ok
}

// normalize validates val for d and returns its canonical form.
func normalize(d *Directive, old, val string) (string, error) {
	if d.Merge != nil {
		var err error
		if val, err = d.Merge(old, val); err != nil {
			return "", err
		}
	}
	switch d.Kind {
	case Int:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return "", fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if (d.Min != 0 || d.Max != 0) && (n < d.Min || n > d.Max) {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", d.Min, d.Max)
		}
		val = strconv.FormatInt(n, 10)
	case Memory:
		n, err := ParseMemory(val)
		if err != nil || n < 0 { // Redis's memtoull takes no sign
			return "", fmt.Errorf("argument must be a memory value")
		}
		if (d.Min != 0 || d.Max != 0) && (n < d.Min || n > d.Max) {
			return "", fmt.Errorf("argument must be between %d and %d inclusive", d.Min, d.Max)
		}
		val = strconv.FormatInt(n, 10)
	case Bool:
		val = strings.ToLower(val)
		switch val { // warden's own flags read naturally as --voter true
		case "true":
			val = "yes"
		case "false":
			val = "no"
		}
		if val != "yes" && val != "no" {
			return "", fmt.Errorf("argument must be 'yes' or 'no'")
		}
	case Enum:
		val = strings.ToLower(val)
		if !slices.Contains(d.Enum, val) {
			return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(d.Enum, ", "))
		}
	}
	if d.Validate != nil {
		if err := d.Validate(val); err != nil {
			return "", err
		}
	}
	if d.Canonical != nil {
		return d.Canonical(val)
	}
	return val, nil
}

// Set changes a directive at startup (running=false) or at run time
// (CONFIG SET, running=true), where immutable ones are refused.
func (c *Config) Set(name, val string, running bool) error {
	name = c.Canonical(name)
	c.mu.Lock()
	d, ok := c.dirs[name]
	if !ok {
		c.mu.Unlock()
		return fmt.Errorf("%w '%s'", ErrUnknown, name)
	}
	if running && d.Immutable {
		c.mu.Unlock()
		return fmt.Errorf("can't set immutable config")
	}
	old := c.vals[name]
	v, err := normalize(d, old, val)
	if err != nil {
		c.mu.Unlock()
		return err
	}
	hooks := c.hooks[name]
	c.vals[name] = v
	ignored := c.ignoredSet
	c.mu.Unlock()
	if d.NoEffect != "" && v != d.Default && ignored != nil {
		ignored(name, v, d.NoEffect)
	}
	if running {
		for _, h := range hooks {
			if err := h(v); err != nil {
				c.mu.Lock()
				c.vals[name] = old
				c.mu.Unlock()
				return err
			}
		}
	}
	return nil
}

// Match returns name/value pairs whose names match the glob pattern.
func (c *Config) Match(pattern string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out [][2]string
	for _, n := range c.names {
		if ok, _ := path.Match(strings.ToLower(pattern), n); ok || pattern == n {
			v, ok := c.vals[n]
			if !ok { // an alias
				v = c.vals[c.aliases[n]]
			}
			out = append(out, [2]string{n, v})
		}
	}
	return out
}

// ParseMemory parses "100", "1k", "1kb", "5mb", "2gb" (k=1000, kb=1024 as in
// redis.conf).
func ParseMemory(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse memory %q: %w", s, err)
	}
	return n * mult, nil
}

// Load reads the optional config file, then applies args ("--name value...").
func (c *Config) Load(file string, args []string) error {
	if file != "" {
		c.File = file
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("open config: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		line := 0
		for sc.Scan() {
			line++
			if err := c.applyLine(sc.Text()); err != nil {
				return fmt.Errorf("%s:%d: %w", file, line, err)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("read config %s: %w", file, err)
		}
	}
	lines, err := FlagLines(args)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := c.applyLine(l); err != nil {
			return fmt.Errorf("command line: %w", err)
		}
	}
	return nil
}

// FlagLines turns redis-server style arguments into config lines:
// "--port 7000 --save 900 1" -> ["port 7000", "save 900 1"]; "--port=7000"
// is "--port 7000" (the value after the first '=', kept whole).
func FlagLines(args []string) ([]string, error) {
	var lines []string
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			if name, val, ok := strings.Cut(a[2:], "="); ok {
				lines = append(lines, name+" "+quote(val))
				continue
			}
			lines = append(lines, a[2:])
			continue
		}
		if len(lines) == 0 {
			return nil, fmt.Errorf("unexpected argument %q (directives are given as --name value)", a)
		}
		lines[len(lines)-1] += " " + quote(a)
	}
	return lines, nil
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'\\") {
		return strconv.Quote(s)
	}
	return s
}

func (c *Config) applyLine(line string) error {
	args, err := SplitArgs(line)
	if err != nil {
		return err
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "#") {
		return nil
	}
	name := strings.ToLower(args[0])
	if name == "user" && len(args) >= 2 {
		c.mu.Lock()
		c.Users = append(c.Users, strings.Join(args[1:], " "))
		c.mu.Unlock()
		return nil
	}
	if !c.Known(name) {
		return fmt.Errorf("%w '%s'", ErrUnknown, args[0])
	}
	if len(args) < 2 {
		return fmt.Errorf("directive '%s': wrong number of arguments", name)
	}
	val := strings.Join(args[1:], " ")
	if err := c.Set(name, val, false); err != nil {
		return fmt.Errorf("directive '%s' %q: %w", name, val, err)
	}
	return nil
}

// SplitArgs splits a line like Redis's sdssplitargs: spaces separate,
// "double quotes" with \n \t \xHH escapes, 'single quotes' literal.
func SplitArgs(line string) ([]string, error) {
	var out []string
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n') {
			i++
		}
		if i >= len(line) {
			return out, nil
		}
		var b strings.Builder
		switch line[i] {
		case '"':
			i++
			for {
				if i >= len(line) {
					return nil, errors.New("unbalanced quotes")
				}
				ch := line[i]
				if ch == '"' {
					i++
					break
				}
				if ch == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						ch = '\n'
					case 'r':
						ch = '\r'
					case 't':
						ch = '\t'
					case 'a':
						ch = '\a'
					case 'b':
						ch = '\b'
					case 'x':
						if i+2 < len(line) {
							if v, err := strconv.ParseUint(line[i+1:i+3], 16, 8); err == nil {
								ch = byte(v)
								i += 2
							}
						}
					default:
						ch = line[i]
					}
				}
				b.WriteByte(ch)
				i++
			}
			if i < len(line) && line[i] != ' ' && line[i] != '\t' {
				return nil, errors.New("closing quote must be followed by a space")
			}
		case '\'':
			i++
			for {
				if i >= len(line) {
					return nil, errors.New("unbalanced quotes")
				}
				if line[i] == '\'' {
					i++
					break
				}
				b.WriteByte(line[i])
				i++
			}
		default:
			for i < len(line) && line[i] != ' ' && line[i] != '\t' {
				b.WriteByte(line[i])
				i++
			}
		}
		out = append(out, b.String())
	}
}
