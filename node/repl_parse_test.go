package node

import (
	"bufio"
	"bytes"
	"slices"
	"testing"
)

// FuzzParseBuffered checks the replica's copy-free parser against
// readCommand: whenever parseBuffered takes a command, readCommand reads the
// same arguments from the same bytes and consumes exactly as many.
func FuzzParseBuffered(f *testing.F) {
	for _, seed := range []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n",
		"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n",
		"*1\r\n$0\r\n\r\n",
		"*0\r\n",
		"*1\n$4\nPING\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nab\r\n",
		"*1\r\n$-1\r\n",
		"*01\r\n$04\r\nPING\r\n",
		"\r\n",
		"*1\r\n$3\r\nab",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		argv, n, ok := parseBuffered(data, nil)
		if !ok {
			return
		}
		if n <= 0 || n > len(data) || data[0] != '*' {
			t.Fatalf("parseBuffered(%q) took %d bytes", data, n)
		}
		mr := &masterReader{r: bufio.NewReader(bytes.NewReader(data))}
		want, err := readCommand(mr)
		if err != nil {
			t.Fatalf("parseBuffered took %q, readCommand fails: %v", data[:n], err)
		}
		if !slices.EqualFunc(argv, want, bytes.Equal) {
			t.Fatalf("%q: parseBuffered %q, readCommand %q", data[:n], argv, want)
		}
		if !bytes.Equal(mr.raw, data[:n]) {
			t.Fatalf("%q: parseBuffered took %d bytes, readCommand %q", data, n, mr.raw)
		}
		for _, a := range argv { // an argument grown by a command must not overwrite the next
			if cap(a) != len(a) {
				t.Fatalf("argument %q has spare capacity", a)
			}
		}
	})
}
