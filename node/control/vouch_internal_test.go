package control

import (
	"testing"
	"time"
)

func TestHearsMajorityAt(t *testing.T) {
	now := time.Unix(1000, 0)
	const lease = 750 * time.Millisecond
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name    string
		raftAt  time.Time
		reports []time.Time
		voters  int
		want    bool
	}{
		{"raft contact within the lease", ago(100 * time.Millisecond), nil, 3, true},
		{"raft contact exactly one lease ago", ago(lease), nil, 3, false},
		{"never heard anyone", time.Time{}, nil, 3, false},
		{"cut off: only its own report", ago(2 * time.Second), []time.Time{now}, 3, false},
		{"election: gossip from a majority", ago(2 * time.Second), []time.Time{now, ago(50 * time.Millisecond)}, 3, true},
		{"election: the other report is stale", ago(2 * time.Second), []time.Time{now, ago(time.Second)}, 3, false},
		{"5 voters: 2 of 5 is a minority", time.Time{}, []time.Time{now, now}, 5, false},
		{"5 voters: 3 of 5", time.Time{}, []time.Time{now, now, now}, 5, true},
		{"no voters in the record yet", time.Time{}, nil, 0, false},
		{"single voter hears itself", time.Time{}, []time.Time{now}, 1, true},
	}
	for _, tc := range tests {
		if got := hearsMajorityAt(now, tc.raftAt, tc.reports, tc.voters, lease); got != tc.want {
			t.Errorf("%s: hearsMajorityAt = %v, want %v", tc.name, got, tc.want)
		}
	}
}
