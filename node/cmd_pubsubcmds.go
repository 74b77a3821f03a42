package node

func registerPubsub(t table) {
	const g = "pubsub"
	sub := fPubsub | fNoScript | fLoading | fStale | fPubsubOK
	ro := fPubsub | fLoading | fStale
	t.add(
		&Command{Name: "subscribe", Arity: -2, Flags: sub, Run: cmdSubscribe, Group: g},
		&Command{Name: "unsubscribe", Arity: -1, Flags: sub, Run: cmdUnsubscribe, Group: g},
		&Command{Name: "psubscribe", Arity: -2, Flags: sub, Run: cmdPSubscribe, Group: g},
		&Command{Name: "punsubscribe", Arity: -1, Flags: sub, Run: cmdPUnsubscribe, Group: g},
		// Shard channels are keys only for cluster routing (fNotKey): no
		// partition lock is held while a subscriber's output drains.
		&Command{Name: "ssubscribe", Arity: -2, Flags: sub | fNotKey, FirstKey: 1, LastKey: -1, Run: cmdSSubscribe, Group: g},
		&Command{Name: "sunsubscribe", Arity: -1, Flags: sub | fNotKey, FirstKey: 1, LastKey: -1, Run: cmdSUnsubscribe, Group: g},
		&Command{Name: "publish", Arity: 3, Flags: ro | fFast, Run: cmdPublish, Group: g},
		&Command{Name: "spublish", Arity: 3, Flags: ro | fFast | fNotKey, FirstKey: 1, Run: cmdSPublish, Group: g},
		&Command{Name: "pubsub", Arity: -2, Group: g, Subs: subs(
			&Command{Name: "channels", Arity: -2, Flags: ro, Run: cmdPubsubChannels, Group: g},
			&Command{Name: "shardchannels", Arity: -2, Flags: ro, Run: cmdPubsubShardChannels, Group: g},
			&Command{Name: "numsub", Arity: -2, Flags: ro, Run: cmdPubsubNumSub, Group: g},
			&Command{Name: "shardnumsub", Arity: -2, Flags: ro, Run: cmdPubsubShardNumSub, Group: g},
			&Command{Name: "numpat", Arity: 2, Flags: ro, Run: cmdPubsubNumPat, Group: g},
			&Command{Name: "help", Arity: 2, Flags: fLoading | fStale, Run: cmdPubsubHelp, Group: g},
		)},
	)
}

func cmdSubscribe(c *Ctx)  { c.s.hub.subscribe(c, psChannel, c.Args[1:]) }
func cmdPSubscribe(c *Ctx) { c.s.hub.subscribe(c, psPattern, c.Args[1:]) }
func cmdSSubscribe(c *Ctx) {
	// Redis 7.0 refuses it in EXEC (a DENY_BLOCKING client), where SUBSCRIBE
	// and PSUBSCRIBE stay allowed for backward compatibility.
	if c.InMulti() {
		c.Err("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
		return
	}
	c.s.hub.subscribe(c, psShard, c.Args[1:])
}
func cmdUnsubscribe(c *Ctx) { c.s.hub.unsubscribe(c, psChannel, c.Args[1:]) }
func cmdPUnsubscribe(c *Ctx) {
	c.s.hub.unsubscribe(c, psPattern, c.Args[1:])
}
func cmdSUnsubscribe(c *Ctx) {
	c.s.hub.unsubscribe(c, psShard, c.Args[1:])
}

// cmdPublish delivers to this node's subscribers (the count it answers,
// as Redis) and, in cluster mode, to every other node's (clusterpub), as
// Redis Cluster's bus does; outside it, to the replicas.
func cmdPublish(c *Ctx) {
	n := c.s.hub.publish(c.Args[1], c.Args[2])
	c.s.stats.pubsubMessages.Add(1)
	if f := c.s.slots.fan.Load(); f != nil {
		f.Publish(c.Args[1], c.Args[2])
	} else {
		c.propagatePublish(false)
	}
	c.Int(n)
}

// cmdClusterPublishLocal is a peer's fanout of a cluster-mode PUBLISH:
// this node's subscribers only, never sent on.
func cmdClusterPublishLocal(c *Ctx) {
	n := c.s.hub.publish(c.Args[2], c.Args[3])
	c.s.stats.pubsubMessages.Add(1)
	c.Int(n)
}

// propagatePublish sends a PUBLISH or SPUBLISH to the replicas, not to the
// AOF, as Redis does outside cluster mode (forceCommandPropagation with
// PROPAGATE_REPL): clients subscribed on a replica get what is published
// on its master. In cluster mode Redis sends SPUBLISH to its shard's
// nodes over the cluster bus; warden's shard is the master and the
// replicas its stream reaches, so SPUBLISH takes the same way there
// (PUBLISH goes to every node by fanout). A replica forwards its master's
// stream instead.
func (c *Ctx) propagatePublish(shard bool) {
	if c.s.replica.active.Load() {
		return
	}
	c.s.repl.feed(-1, c.Args)
	c.cl.replPending = c.s.repl.offsetA.Load()
}

func cmdSPublish(c *Ctx) {
	n := c.s.hub.spublish(c.Args[1], c.Args[2])
	c.s.stats.pubsubMessages.Add(1)
	c.propagatePublish(true)
	c.Int(n)
}

func pubsubChannels(c *Ctx, shard bool) {
	if len(c.Args) > 3 {
		c.Err("ERR unknown subcommand or wrong number of arguments for '" + string(c.Args[1]) + "'. Try PUBSUB HELP.")
		return
	}
	var pat []byte
	if len(c.Args) == 3 {
		pat = c.Args[2]
	}
	c.BulkStrings(c.s.hub.channelList(pat, shard))
}

func cmdPubsubChannels(c *Ctx)      { pubsubChannels(c, false) }
func cmdPubsubShardChannels(c *Ctx) { pubsubChannels(c, true) }

func pubsubNumSub(c *Ctx, shard bool) {
	names := c.Args[2:]
	counts := c.s.hub.numSub(names, shard)
	c.Array(2 * len(names))
	for i, n := range names {
		c.Bulk(n)
		c.Int(counts[i])
	}
}

func cmdPubsubNumSub(c *Ctx)      { pubsubNumSub(c, false) }
func cmdPubsubShardNumSub(c *Ctx) { pubsubNumSub(c, true) }

func cmdPubsubNumPat(c *Ctx) {
	_, pats, _ := c.s.hub.counts()
	c.Int(int64(pats))
}

func cmdPubsubHelp(c *Ctx) {
	serverHelp(c, "pubsub",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	)
}
