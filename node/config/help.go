package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteHelp lists the directives in table order (related ones together)
// with their defaults and meanings: `warden server --help`.
func WriteHelp(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DIRECTIVE\tDEFAULT\tMEANING")
	for _, d := range directives {
		def := d.Default
		switch {
		case def == "":
			def = `""`
		case strings.ContainsAny(def, " \t"):
			def = fmt.Sprintf("%q", def)
		}
		usage := d.Usage
		if d.Kind == Enum {
			usage += " (" + strings.Join(d.Enum, "|") + ")"
		}
		if d.Immutable {
			usage += " [startup only]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", d.Name, def, usage)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var names []string
	implemented := map[string]bool{}
	for _, d := range directives {
		implemented[d.Name] = true
	}
	for _, d := range compatDirectives {
		if !implemented[d.Name] {
			names = append(names, d.Name)
		}
	}
	_, err := fmt.Fprintf(w, "\nAlso accepted with Redis's defaults, for redis.conf compatibility, but with no\neffect in warden (setting one logs why): %s\n", strings.Join(names, ", "))
	return err
}
