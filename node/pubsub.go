package node

// pubsubHub holds channel and pattern subscriptions.
type pubsubHub struct{}

func newPubsubHub() *pubsubHub { return &pubsubHub{} }

// unsubscribeAll drops every subscription of cl (RESET, disconnect).
func (h *pubsubHub) unsubscribeAll(cl *Client) {}
