package config

import (
	"errors"
	"fmt"
	"strings"
)

// SetAll is CONFIG SET of several directives at run time, applied as Redis
// applies them: every value is checked, then all are stored, then the
// hooks run, so a hook sees the whole new configuration (a certificate and
// its key changed together, say). If a value or a hook fails, every value
// is restored and the hooks that already ran are run again with the old
// values. failed names the directive at fault; rollback reports hooks that
// failed while restoring.
func (c *Config) SetAll(pairs [][2]string) (failed string, err, rollback error) {
	names := make([]string, len(pairs))
	vals := make([]string, len(pairs))
	old := make([]string, len(pairs))
	hooks := make([][]func(string) error, len(pairs))
	c.mu.Lock()
	ignored := c.ignoredSet
	for i, p := range pairs {
		name := strings.ToLower(p[0])
		if n, ok := c.aliases[name]; ok {
			name = n
		}
		d, ok := c.dirs[name]
		if !ok {
			c.mu.Unlock()
			return p[0], fmt.Errorf("%w '%s'", ErrUnknown, name), nil
		}
		if d.Immutable {
			c.mu.Unlock()
			return name, fmt.Errorf("can't set immutable config"), nil
		}
		v, err := normalize(d, c.vals[name], p[1])
		if err != nil {
			c.mu.Unlock()
			return name, err, nil
		}
		names[i], vals[i], hooks[i] = name, v, c.hooks[name]
	}
	for i, name := range names {
		old[i] = c.vals[name]
		c.vals[name] = vals[i]
	}
	var noEffect []*Directive
	for _, name := range names {
		noEffect = append(noEffect, c.dirs[name])
	}
	c.mu.Unlock()
	for i := range names {
		for _, h := range hooks[i] {
			if err := h(vals[i]); err != nil {
				c.mu.Lock()
				for j := len(names) - 1; j >= 0; j-- { // an alias and its name: the first old value
					c.vals[names[j]] = old[j]
				}
				c.mu.Unlock()
				var rerrs []error
				for j := 0; j <= i; j++ {
					for _, h := range hooks[j] {
						if rerr := h(old[j]); rerr != nil {
							rerrs = append(rerrs, fmt.Errorf("restore %s: %w", names[j], rerr))
						}
					}
				}
				return names[i], err, errors.Join(rerrs...)
			}
		}
	}
	for i, d := range noEffect {
		if d.NoEffect != "" && vals[i] != d.Default && ignored != nil {
			ignored(names[i], vals[i], d.NoEffect)
		}
	}
	return "", nil, nil
}
