package keyevents

import (
	"testing"
)

func TestParseFormat(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"KEA", "AKE"},
		{"gx", "gx"},
		{"xg", "gx"},
		{"Egx", "gxE"},
		{"K$lshzxetdEg", "AKE"}, // every A class spelled out
		{"KEAm", "AKEm"},
		{"En", "nE"},
		{"Kn", "nK"},
		{"KEAn", "AKEn"}, // the one deliberate difference from 7.0 ("AKE")
		{"AAAA", "A"},
		{"m", "m"},
	}
	for _, c := range cases {
		got, err := Canonical(c.in)
		if err != nil || got != c.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"Q", "KEA ", "k", "a", "KE1"} {
		if _, err := Parse(bad); err != ErrBadClass {
			t.Errorf("Parse(%q) err = %v, want ErrBadClass", bad, err)
		}
	}
}

// FuzzParse checks that the printed form parses back to the same flags and
// prints the same again (CONFIG GET output fed to CONFIG SET is stable).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"KEA", "Egx", "AKEmn", "", "z$t", "Q"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		out := c.Format()
		c2, err := Parse(out)
		if err != nil {
			t.Fatalf("Format(%q) = %q does not parse: %v", s, out, err)
		}
		if c2 != c {
			t.Fatalf("round trip of %q: %b -> %q -> %b", s, c, out, c2)
		}
		if c2.Format() != out {
			t.Fatalf("not stable: %q -> %q", out, c2.Format())
		}
	})
}
