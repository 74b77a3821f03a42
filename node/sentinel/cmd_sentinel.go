package sentinel

import (
	"fmt"
	"strings"
)

const errNoSuchMaster = "ERR No such master with that name"

// sentinelSubs are SENTINEL's subcommands with Redis 7.0's arities.
var sentinelSubs = map[string]subcommand{
	"get-master-addr-by-name": {3, sentinelGetMasterAddr},
	"masters":                 {2, sentinelMasters},
	"master":                  {3, sentinelMaster},
	"replicas":                {3, sentinelReplicas},
	"slaves":                  {3, sentinelReplicas},
	"sentinels":               {3, sentinelSentinels},
	"ckquorum":                {3, sentinelCKQuorum},
	"failover":                {3, sentinelFailover},
	"myid":                    {2, func(s *Server, c *client, args [][]byte) { c.conn.WriteBulkString(s.view.MyID()) }},
	// The replicated state is authoritative: there is nothing to reset
	// or to flush, and no scripts.
	"reset":           {3, func(s *Server, c *client, args [][]byte) { c.conn.WriteInt(0) }},
	"flushconfig":     {2, func(s *Server, c *client, args [][]byte) { c.conn.WriteString("OK") }},
	"pending-scripts": {2, func(s *Server, c *client, args [][]byte) { c.conn.WriteArray(0) }},
	"help":            {2, sentinelHelp},
	// Topology changes go through warden's Raft log, not through here.
	"monitor": {6, sentinelUnsupported},
	"remove":  {3, sentinelUnsupported},
	"set":     {-5, sentinelUnsupported},
	"config":  {-3, sentinelUnsupported},
}

// mutating are the subcommands that change (or would change) what
// Sentinel does: with Auth.Guarded and no password they are refused.
var mutating = map[string]bool{
	"sentinel|failover": true, "sentinel|reset": true, "sentinel|set": true, "sentinel|remove": true,
	"sentinel|monitor": true, "sentinel|config": true, "sentinel|flushconfig": true,
}

func sentinelUnsupported(s *Server, c *client, args [][]byte) {
	c.err(fmt.Sprintf("ERR SENTINEL %s is not supported: warden's masters and settings come from its replicated control plane", strings.ToUpper(string(args[1]))))
}

func sentinelGetMasterAddr(s *Server, c *client, args [][]byte) {
	m, ok := master(s.view, string(args[2]))
	// No address yet (a shard without a master): nil, so clients retry
	// instead of dialing an empty address.
	if !ok || m.Addr.Host == "" || m.Addr.Port == 0 {
		c.conn.WriteRaw([]byte("*-1\r\n")) // Sentinel's null array
		return
	}
	// A node cut off from the majority would name a master that may have
	// been replaced (often itself): an error sends go-redis, Jedis and
	// Lettuce on to the next sentinel.
	if err := s.view.Vouch(); err != nil {
		c.err(errorReply(err))
		return
	}
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(m.Addr.Host)
	c.conn.WriteBulkString(fmt.Sprint(m.Addr.Port))
}

func sentinelMasters(s *Server, c *client, args [][]byte) {
	ms := masters(s.view)
	others := len(s.view.Sentinels())
	c.conn.WriteArray(len(ms))
	for _, m := range ms {
		writeFields(c, masterFields(m, others))
	}
}

func sentinelMaster(s *Server, c *client, args [][]byte) {
	m, ok := master(s.view, string(args[2]))
	if !ok {
		c.err(errNoSuchMaster)
		return
	}
	writeFields(c, masterFields(m, len(s.view.Sentinels())))
}

func sentinelReplicas(s *Server, c *client, args [][]byte) {
	m, ok := master(s.view, string(args[2]))
	if !ok {
		c.err(errNoSuchMaster)
		return
	}
	c.conn.WriteArray(len(m.Replicas))
	for _, r := range m.Replicas {
		writeFields(c, replicaFields(m, r))
	}
}

func sentinelSentinels(s *Server, c *client, args [][]byte) {
	m, ok := master(s.view, string(args[2]))
	if !ok {
		c.err(errNoSuchMaster)
		return
	}
	peers := s.view.Sentinels()
	c.conn.WriteArray(len(peers))
	for _, p := range peers {
		writeFields(c, sentinelFields(m, p))
	}
}

func sentinelCKQuorum(s *Server, c *client, args [][]byte) {
	name := string(args[2])
	if _, ok := master(s.view, name); !ok {
		c.err(errNoSuchMaster)
		return
	}
	msg, err := s.view.CKQuorum(name)
	if err != nil {
		c.err(errorReply(err))
		return
	}
	c.conn.WriteString(oneLine(msg))
}

func sentinelFailover(s *Server, c *client, args [][]byte) {
	name := string(args[2])
	if _, ok := master(s.view, name); !ok {
		c.err(errNoSuchMaster)
		return
	}
	if err := s.view.Failover(name); err != nil {
		s.log.Info("SENTINEL FAILOVER refused", "master", name, "err", err)
		c.err(errorReply(err))
		return
	}
	s.log.Info("SENTINEL FAILOVER accepted", "master", name)
	c.conn.WriteString("OK")
}

var sentinelHelpLines = []string{
	"SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"CKQUORUM <master-name>",
	"    Check if the current Sentinel configuration is able to reach the quorum",
	"    needed to failover a master and the majority needed to authorize the",
	"    failover.",
	"GET-MASTER-ADDR-BY-NAME <master-name>",
	"    Return the ip and port number of the master with that name.",
	"FAILOVER <master-name>",
	"    Manually failover a master node (gracefully: the replica catches up first).",
	"FLUSHCONFIG",
	"    Accepted; warden's state is replicated, there is no file to rewrite.",
	"MASTER <master-name>",
	"    Show the state and info of the specified master.",
	"MASTERS",
	"    Show a list of monitored masters and their state.",
	"MYID",
	"    Return the ID of the Sentinel instance (warden's node id).",
	"PENDING-SCRIPTS",
	"    Get pending scripts information (always empty).",
	"REPLICAS <master-name>",
	"    Show a list of replicas for this master and their state.",
	"RESET <pattern>",
	"    Accepted and ignored (returns 0): the replicated state is authoritative.",
	"SENTINELS <master-name>",
	"    Show a list of Sentinel instances for this master and their state.",
	"HELP",
	"    Prints this help.",
}

func sentinelHelp(s *Server, c *client, args [][]byte) {
	c.conn.WriteArray(len(sentinelHelpLines))
	for _, l := range sentinelHelpLines {
		c.conn.WriteString(l)
	}
}

// errorReply turns a View error into a reply error: text that starts with an
// error code (NOGOODSLAVE ..., INPROG ...) is sent as it is, anything else
// gets Redis's generic "ERR " prefix.
func errorReply(err error) string {
	msg := oneLine(err.Error())
	code, _, _ := strings.Cut(msg, " ")
	if code != "" && code[0] >= 'A' && code[0] <= 'Z' && strings.IndexFunc(code, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}) < 0 {
		return msg
	}
	return "ERR " + msg
}

// oneLine keeps a status or error reply on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
