package gossip

import (
	"encoding/json"
	"time"

	"github.com/hashicorp/memberlist"
)

// wireReport is the heartbeat each node sends to every live peer.
type wireReport struct {
	From     string   `json:"from"`
	Addr     string   `json:"addr"` // sender's gossip address
	Meta     Meta     `json:"meta"`
	Suspects []string `json:"suspects,omitempty"`
}

// delegate implements memberlist.Delegate and memberlist.EventDelegate. The
// event callbacks run under memberlist's node lock: they only touch the table
// and must never call back into memberlist.
type delegate struct{ d *Detector }

var (
	_ memberlist.Delegate      = delegate{}
	_ memberlist.EventDelegate = delegate{}
)

// NodeMeta is unused: metadata travels in reports, which are fresh every
// interval, instead of in alive messages, which are not.
func (delegate) NodeMeta(int) []byte                 { return nil }
func (delegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (delegate) LocalState(bool) []byte              { return nil }
func (delegate) MergeRemoteState(buf []byte, _ bool) {}

func (g delegate) NotifyMsg(b []byte) {
	var w wireReport
	if err := json.Unmarshal(b, &w); err != nil {
		g.d.log.Debug("gossip: bad report", "err", err)
		return
	}
	w.Meta.ID = w.From
	g.d.tab.received(w.From, w.Addr, w.Meta, w.Suspects, time.Now())
}

func (g delegate) NotifyJoin(n *memberlist.Node) {
	g.d.tab.nodeJoined(n, true, time.Now())
}

func (g delegate) NotifyUpdate(n *memberlist.Node) {
	g.d.tab.nodeJoined(n, false, time.Now())
}

func (g delegate) NotifyLeave(n *memberlist.Node) {
	g.d.tab.nodeLeft(n.Name)
}
