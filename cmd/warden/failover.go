package main

// `warden failover` asks the cluster for a manual failover over the HTTP
// API, signing the request with the cluster secret (the secret itself never
// goes on the wire, and a captured request cannot be replayed), which curl
// cannot do by itself.

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wardenkv/warden/node/httpapi"
)

// secretEnv holds the cluster secret when --secret-file is not given (the
// variable the compose setup uses).
const secretEnv = "WARDEN_CLUSTER_SECRET"

// failoverTimeout covers a graceful failover (the node allows 45 s) and a
// forward to the leader.
const failoverTimeout = 60 * time.Second

// runFailover: `warden failover [--http host:port] [--shard N] [--to node]
// [--force] [--secret-file F]`.
func runFailover(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("failover", flag.ContinueOnError)
	addr := fs.String("http", defaultHTTP(), "any node's HTTP address, host:port or URL ($WARDEN_HTTP_ADDR sets the default)")
	shard := fs.Int("shard", 0, "shard to fail over")
	to := fs.String("to", "", "node id of the replica to promote (default: the best replica)")
	force := fs.Bool("force", false, "promote without waiting for the replica to catch up (unreplicated writes are lost)")
	secretFile := fs.String("secret-file", "", "file holding the cluster secret (default: $"+secretEnv+")")
	tf := addTLSFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("failover: unexpected arguments %q", fs.Args())
	}
	if *shard < 0 {
		return fmt.Errorf("failover: bad --shard %d: want a non-negative integer", *shard)
	}
	secret, err := loadSecret(*secretFile)
	if err != nil {
		return err
	}
	q := url.Values{"shard": {strconv.Itoa(*shard)}}
	if *to != "" {
		q.Set("target", *to)
	}
	if *force {
		q.Set("force", "1")
	}
	u := tf.url(*addr) + "/failover?" + q.Encode()
	req, err := http.NewRequest(http.MethodPost, u, nil)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	if secret != "" {
		httpapi.SignRequest(req, secret, nil)
	}
	hc, err := tf.client(failoverTimeout)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read body: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if resp.StatusCode == http.StatusUnauthorized && secret == "" {
			msg += " (give the cluster secret with --secret-file or $" + secretEnv + ")"
		}
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, msg)
	}
	var fr httpapi.FailoverResponse
	if err := json.Unmarshal(body, &fr); err != nil {
		return fmt.Errorf("failover: bad JSON from %s: %w", *addr, err)
	}
	_, err = fmt.Fprintf(out, "shard %d: master is now %s (%s)\n", fr.Shard, orDash(fr.Master), orDash(fr.MasterAddr))
	return err
}

// loadSecret reads the cluster secret from file (one trailing newline
// ignored, as editors and echo add one) or, without a file, $WARDEN_CLUSTER_SECRET.
// It is not a flag value, which any local user could read from ps.
func loadSecret(file string) (string, error) {
	if file == "" {
		return os.Getenv(secretEnv), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read cluster secret: %w", err)
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", errors.New("read cluster secret: " + file + " is empty")
	}
	return s, nil
}
