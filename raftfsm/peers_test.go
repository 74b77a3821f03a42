package raftfsm

import (
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

func TestParsePeers(t *testing.T) {
	voter := func(id, addr string) raft.Server {
		return raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addr), Suffrage: raft.Voter}
	}
	good := map[string][]raft.Server{
		"":                  nil,
		" ,":                nil,
		"n1=127.0.0.1:7001": {voter("n1", "127.0.0.1:7001")},
		" n1=127.0.0.1:7001 , n2=warden-2:7001,,n3=[::1]:7003 ": {
			voter("n1", "127.0.0.1:7001"), voter("n2", "warden-2:7001"), voter("n3", "[::1]:7003"),
		},
	}
	for in, want := range good {
		got, err := ParsePeers(in)
		if err != nil {
			t.Fatalf("ParsePeers(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ParsePeers(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{
		"n1",
		"n1=",
		"=127.0.0.1:7001",
		"n1=127.0.0.1",
		"n1=127.0.0.1:7001:7002",
		"n1=127.0.0.1:7001,n2",
		"n1:127.0.0.1:7001",
	} {
		if got, err := ParsePeers(in); err == nil {
			t.Fatalf("ParsePeers(%q) = %v, want an error", in, got)
		}
	}
}
