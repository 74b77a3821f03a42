package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/wardenkv/warden/internal/testcerts"
)

// TLS settings that cannot work are refused at startup with the reason.
func TestClusterTLSFlagErrors(t *testing.T) {
	f := testcerts.New(t)
	certs := []string{"--tls-cert-file", f.CertFile, "--tls-key-file", f.KeyFile, "--tls-ca-cert-file", f.CAFile}
	base := []string{"server", "--dir", t.TempDir(), "--raft-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--sentinel-port", "0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"--port", "0", "--tls-port", freePort(t)}, certs...), "needs tls-replication yes"},
		{append([]string{"--port", "0", "--tls-replication", "yes"}, certs...), "needs a tls-port"},
		{[]string{"--port", "0", "--tls-cluster", "yes"}, "tls-cert-file and tls-key-file are required"},
		{[]string{"--port", "0", "--tls-cluster", "yes", "--tls-cert-file", f.CertFile, "--tls-key-file", f.KeyFile},
			"Either tls-ca-cert-file or tls-ca-cert-dir must be specified"},
		{[]string{"--port", "0", "--tls-key-file-pass", "secret"}, "encrypted private keys are not supported"},
	} {
		out, err := exec.Command(wardenBin, append(append([]string{}, base...), tc.args...)...).CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %v, output %q; want status 1 naming %q", tc.args, err, out, tc.want)
		}
	}
}
