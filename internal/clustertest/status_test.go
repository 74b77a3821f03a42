package clustertest

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

func TestStatusDecode(t *testing.T) {
	for _, replicas := range []string{`["n2","n3"]`, `[{"id":"n2"},{"node_id":"n3"}]`} {
		var st Status
		doc := `{"node_id":"n1","raft":{"state":"Leader","term":3},"leader":{"node_id":"n1","raft_addr":"a","http_addr":"h"},
			"epoch":4,"shards":[{"id":0,"name":"mymaster","master":"n1","master_addr":"127.0.0.1:1","replicas":` + replicas + `,
			"epoch":4,"slots":[[0,16383]]}],"members":[{"id":"n2","state":"pfail","role":"replica","shard":0,"offset":7,"lag":1,"voter":true}]}`
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			t.Fatalf("%s: %v", replicas, err)
		}
		sh := st.Shard(0)
		if sh == nil || sh.Master != "n1" || !slices.Equal(sh.Replicas, IDList{"n2", "n3"}) || st.Raft.Term != 3 {
			t.Fatalf("%s: decoded %+v", replicas, st)
		}
		if m := st.Member("n2"); m == nil || m.State != "pfail" || m.Offset != 7 || !m.Voter {
			t.Fatalf("member: %+v", m)
		}
		if st.Shard(1) != nil || st.Member("n9") != nil {
			t.Fatal("lookup of a missing shard or member found one")
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
