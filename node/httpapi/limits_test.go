package httpapi

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestMaxClients: the HTTP listener serves at most MaxClients connections at
// once (maxclients); more wait in the listen backlog, holding no descriptor,
// until one closes. Before, every connection was accepted, so a flood used
// up the process's descriptors and stalled the RESP listeners too.
func TestMaxClients(t *testing.T) {
	s, base := start(t, Config{View: &fakeView{}, MaxClients: 2})
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		client := &http.Client{Timeout: 60 * time.Second}
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			done <- result{0, err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{resp.StatusCode, nil}
	}()
	// Two idle connections hold both slots: the request is not served (the
	// server would take 5 s, its header timeout, to drop them itself).
	select {
	case r := <-done:
		t.Fatalf("served past MaxClients: %+v", r)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	select {
	case r := <-done:
		if r.err != nil || r.code != http.StatusOK {
			t.Fatalf("after a slot freed: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("request not served after a slot freed")
	}
}
