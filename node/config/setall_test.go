package config

import (
	"errors"
	"testing"
)

// SetAll stores every value before any hook runs, and a failing hook
// restores all values and re-runs the hooks that already ran.
func TestSetAllHooksSeeTheWholeChange(t *testing.T) {
	c := New()
	var seen [][2]string
	c.OnSet("masteruser", func(v string) error {
		seen = append(seen, [2]string{v, c.Get("replica-announce-ip")})
		return nil
	})
	c.OnSet("replica-announce-ip", func(v string) error {
		if v == "bad" {
			return errors.New("refused")
		}
		return nil
	})
	if _, err, _ := c.SetAll([][2]string{{"masteruser", "u1"}, {"replica-announce-ip", "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != [2]string{"u1", "10.0.0.1"} {
		t.Fatalf("the first hook saw %v, want the second value already set", seen)
	}
	seen = nil
	name, err, rerr := c.SetAll([][2]string{{"MasterUser", "u2"}, {"replica-announce-ip", "bad"}})
	if name != "replica-announce-ip" || err == nil || rerr != nil {
		t.Fatalf("failing hook: %q %v %v", name, err, rerr)
	}
	if c.Get("masteruser") != "u1" || c.Get("replica-announce-ip") != "10.0.0.1" {
		t.Fatalf("values not restored: %q %q", c.Get("masteruser"), c.Get("replica-announce-ip"))
	}
	if len(seen) != 2 || seen[1] != [2]string{"u1", "10.0.0.1"} {
		t.Fatalf("hooks on rollback: %v, want the first re-run with the old values", seen)
	}
	if name, err, _ := c.SetAll([][2]string{{"port", "1"}}); name != "port" || err == nil || err.Error() != "can't set immutable config" {
		t.Fatalf("immutable: %q %v", name, err)
	}
	if name, err, _ := c.SetAll([][2]string{{"masteruser", "u3"}, {"hz", "x"}}); name != "hz" || err == nil || c.Get("masteruser") != "u1" {
		t.Fatalf("a bad value after a good one: %q %v, masteruser %q", name, err, c.Get("masteruser"))
	}
}
