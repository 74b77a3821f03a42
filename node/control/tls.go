package control

import (
	"errors"

	"github.com/wardenkv/warden/node"
	"github.com/wardenkv/warden/node/config"
)

// resolveTLS reads which control-plane links use TLS. With tls-cluster
// the HTTP API and Raft speak TLS with mutual authentication. With
// tls-replication (or a node listening only for TLS) the record holds the
// node's TLS port, since replicas reach their master at the address the
// record gives, and the Sentinel port speaks TLS as the addresses it hands
// out do.
func resolveTLS(cfg *config.Config, srv *node.Server, s *settings) error {
	s.tlsCluster = cfg.Bool("tls-cluster")
	hasTLS := srv.TLSAddr() != nil
	plain := cfg.Int("port") != 0 || !hasTLS
	s.tlsData = hasTLS && cfg.Bool("tls-replication")
	if cfg.Bool("tls-replication") && !hasTLS {
		return errors.New("tls-replication yes in cluster mode needs a tls-port: any node may become the master its replicas reach over TLS")
	}
	if !plain && !s.tlsData {
		return errors.New("a node without a plain port (port 0) in cluster mode needs tls-replication yes: replicas reach their master on its TLS port")
	}
	// The record's address was chosen from it: fixed while in cluster mode.
	was := cfg.Get("tls-replication")
	cfg.OnSet("tls-replication", func(v string) error {
		if v == was {
			return nil
		}
		return errors.New("tls-replication can't be changed in cluster mode (the record holds the port it chose)")
	})
	return nil
}
