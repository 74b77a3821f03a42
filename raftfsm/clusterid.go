package raftfsm

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// clusterIDFile holds a node's 40-hex cluster id under its dir, as Redis
// keeps its node id in nodes.conf: a restart keeps the identity clients
// and CLUSTER NODES know it by.
const clusterIDFile = "cluster-node-id"

// LoadClusterID returns the cluster id kept in dir, creating a random one
// on first start.
func LoadClusterID(dir string) (string, error) {
	p := filepath.Join(dir, clusterIDFile)
	b, err := os.ReadFile(p)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !ValidClusterID(id) {
			return "", fmt.Errorf("%s: %q is not a 40-hex node id", p, id)
		}
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read cluster node id: %w", err)
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("cluster node id: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("cluster node id: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write cluster node id: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write cluster node id: %w", err)
	}
	return id, nil
}

// ValidClusterID reports whether id is 40 lower-case hex digits.
func ValidClusterID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func derivedID(name string) string {
	h := sha1.Sum([]byte("warden-node:" + name))
	return hex.EncodeToString(h[:])
}
