package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	ImportPath string // build-output and build-fail events
	Test       string
	Output     string
	Elapsed    float64 // seconds
}

// report keeps what is needed to print a package's result when it ends.
type report struct {
	w       io.Writer
	start   time.Time
	running map[string]time.Time        // package -> first event
	outputs map[string]*strings.Builder // package or package/test -> output
	builds  map[string]*strings.Builder // import path -> build output
	done    []result
	failed  bool
}

type result struct {
	pkg     string
	action  string // ok, FAIL, skip (no test files)
	elapsed time.Duration
}

func newReport(w io.Writer, now time.Time) *report {
	return &report{w: w, start: now, running: map[string]time.Time{},
		outputs: map[string]*strings.Builder{}, builds: map[string]*strings.Builder{}}
}

func readLines(r io.Reader, out chan<- []byte) error {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		out <- slices.Clone(sc.Bytes())
	}
	return sc.Err()
}

func (r *report) buf(m map[string]*strings.Builder, key string) *strings.Builder {
	b := m[key]
	if b == nil {
		b = &strings.Builder{}
		m[key] = b
	}
	return b
}

// line handles one line of input; a line that is not an event (go vet's
// or the build's plain output) is passed through.
func (r *report) line(l []byte) {
	var e event
	if err := json.Unmarshal(l, &e); err != nil || (e.Action == "" && e.Package == "") {
		fmt.Fprintf(r.w, "%s\n", l)
		return
	}
	switch e.Action {
	case "build-output":
		r.buf(r.builds, e.ImportPath).WriteString(e.Output)
		return
	case "build-fail":
		r.failed = true
		fmt.Fprintf(r.w, "BUILD FAIL %s\n%s", e.ImportPath, indent(r.builds[e.ImportPath]))
		return
	}
	if e.Package == "" {
		return
	}
	if _, ok := r.running[e.Package]; !ok {
		r.running[e.Package] = time.Now()
	}
	key := e.Package
	if e.Test != "" {
		key += "\x00" + e.Test
	}
	switch e.Action {
	case "output":
		r.buf(r.outputs, key).WriteString(e.Output)
	case "pass", "skip":
		if e.Test != "" {
			delete(r.outputs, key) // only failures are shown
			return
		}
		r.end(e, "ok")
	case "fail":
		if e.Test != "" {
			// Each test's own lines (a subtest's are not in its parent's).
			fmt.Fprintf(r.w, "--- FAIL: %s %s (%.1fs)\n%s", e.Package, e.Test, e.Elapsed, indent(r.outputs[key]))
			delete(r.outputs, key)
			return
		}
		r.failed = true
		r.end(e, "FAIL")
	}
}

// end prints the package's line; a failed package without failed tests
// (a panic, a timeout, a build error) shows its own output.
func (r *report) end(e event, action string) {
	out := r.outputs[e.Package]
	if action == "ok" && out != nil && strings.Contains(out.String(), "[no test files]") {
		action = "skip"
	}
	el := time.Duration(e.Elapsed * float64(time.Second)).Round(100 * time.Millisecond)
	r.done = append(r.done, result{e.Package, action, el})
	delete(r.running, e.Package)
	switch action {
	case "skip":
		fmt.Fprintf(r.w, "%-5s %s (no tests)\n", "-", e.Package)
		return
	case "FAIL":
		if out != nil && !strings.Contains(out.String(), "--- FAIL") {
			fmt.Fprint(r.w, indent(out))
		}
	}
	fmt.Fprintf(r.w, "%-5s %-50s %v\n", action, e.Package, el)
	delete(r.outputs, e.Package)
}

// progress names the packages still running, longest first.
func (r *report) progress(now time.Time) {
	if len(r.running) == 0 {
		fmt.Fprintf(r.w, "... %v: building (%d packages done)\n", now.Sub(r.start).Round(time.Second), len(r.done))
		return
	}
	pkgs := make([]string, 0, len(r.running))
	for p := range r.running {
		pkgs = append(pkgs, p)
	}
	slices.SortFunc(pkgs, func(a, b string) int { return r.running[a].Compare(r.running[b]) })
	fmt.Fprintf(r.w, "... %v: %d packages done, running: %s\n", now.Sub(r.start).Round(time.Second), len(r.done), strings.Join(pkgs, " "))
}

// finish prints the totals and the slowest packages, and returns the exit
// status.
func (r *report) finish(now time.Time) int {
	n := map[string]int{}
	for _, d := range r.done {
		n[d.action]++
	}
	slow := slices.Clone(r.done)
	slices.SortFunc(slow, func(a, b result) int { return int(b.elapsed - a.elapsed) })
	var names []string
	for _, d := range slow[:min(5, len(slow))] {
		if d.elapsed > 0 {
			names = append(names, fmt.Sprintf("%s %v", d.pkg, d.elapsed))
		}
	}
	fmt.Fprintf(r.w, "%d packages: %d ok, %d failed, %d without tests in %v; slowest: %s\n",
		len(r.done), n["ok"], n["FAIL"], n["skip"], now.Sub(r.start).Round(time.Second), strings.Join(names, ", "))
	if r.failed {
		return 1
	}
	return 0
}

func indent(b *strings.Builder) string {
	if b == nil || b.Len() == 0 {
		return ""
	}
	s := strings.TrimRight(b.String(), "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}
