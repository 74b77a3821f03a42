// Command testprogress reads `go test -json` on stdin and prints one line per
// package as it finishes (with the output of failed tests), a line every
// half minute naming the packages still running, and at the end the slowest
// packages. It exits 1 when any package or build failed, so
// `go test -json ./... | go run ./internal/testprogress` fails as go test does.
package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Stdin, os.Stdout, 30*time.Second))
}

// run copies the report of r to w, with a progress line every tick.
func run(r io.Reader, w io.Writer, tick time.Duration) int {
	rep := newReport(w, time.Now())
	events := make(chan []byte)
	errc := make(chan error, 1)
	go func() { errc <- readLines(r, events) }()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case line, ok := <-events:
			if !ok {
				if err := <-errc; err != nil {
					fmt.Fprintf(w, "testprogress: read: %v\n", err)
					return 1
				}
				return rep.finish(time.Now())
			}
			rep.line(line)
		case now := <-t.C:
			rep.progress(now)
		}
	}
}
