package node

import (
	"strings"
	"testing"
)

// TestKeyPositionsAgreeWithMetadata proves the registration tables (which
// dispatch, locking and cluster routing read) and Redis 7.0.15's metadata
// (which COMMAND INFO reports) name the same key positions for every
// command and subcommand both know.
func TestKeyPositionsAgreeWithMetadata(t *testing.T) {
	tab := buildCommandTable()
	var all []*Command
	for _, c := range tab {
		all = append(all, c)
		for _, s := range c.Subs {
			all = append(all, s)
		}
	}
	checked := 0
	for _, cmd := range all {
		m, ok := serverCmdTable[cmd.Name]
		if !ok {
			continue
		}
		checked++
		movable := strings.Contains(" "+m.flags+" ", " movablekeys ")
		if (cmd.KeyFn != nil) != movable {
			t.Errorf("%s: KeyFn set = %v, Redis movablekeys = %v", cmd.Name, cmd.KeyFn != nil, movable)
		}
		if cmd.KeyFn != nil {
			// Redis still reports the fixed part of some movable commands' range.
			if m.first != 0 && (cmd.FirstKey != m.first || cmd.LastKey != m.last || cmd.Step != m.step) {
				t.Errorf("%s: movable; registered first/last/step %d/%d/%d, Redis %d/%d/%d", cmd.Name,
					cmd.FirstKey, cmd.LastKey, cmd.Step, m.first, m.last, m.step)
			}
			continue
		}
		if cmd.FirstKey != m.first || cmd.LastKey != m.last || cmd.Step != m.step {
			t.Errorf("%s: registered first/last/step %d/%d/%d, Redis %d/%d/%d", cmd.Name,
				cmd.FirstKey, cmd.LastKey, cmd.Step, m.first, m.last, m.step)
		}
		notKey := len(m.specs) > 0
		for _, sp := range m.specs {
			if !strings.Contains(sp.flags, "not_key") {
				notKey = false
			}
		}
		if notKey != (cmd.Flags&fNotKey != 0) {
			t.Errorf("%s: fNotKey = %v, Redis key specs all not_key = %v", cmd.Name, cmd.Flags&fNotKey != 0, notKey)
		}
	}
	if checked < 200 {
		t.Fatalf("only %d commands compared: is the metadata table loaded?", checked)
	}
}
