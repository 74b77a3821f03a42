package raftfsm

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The Raft connection handshake: mutual challenge–response on the cluster
// secret, run once per connection (Raft pools them) before any RPC.
//
//	dialer   -> acceptor  magic "WRDNRAF2" | nonceD (32 bytes)
//	acceptor -> dialer    nonceA (32) | HMAC(k, "accept" | nonceD | nonceA)
//	dialer   -> acceptor  HMAC(k, "dial" | nonceA | nonceD)
//
// k is derived from the secret (HKDF-SHA256) apart from gossip's key and
// HTTP's signing key. Each side proves the secret over the other side's fresh
// nonce, so a recorded exchange replays nowhere, and the labels keep one
// side's proof from passing as the other's. Neither address goes into
// the MAC: behind NAT or port publishing the two ends disagree on them,
// and the nonces already bind a proof to one connection. The functions
// take any net.Conn, so they can run inside a TLS connection unchanged.
// Without TLS the connection is not encrypted: the handshake keeps
// strangers out, it does not stop an attacker who can hijack TCP.
const (
	handshakeMagic   = "WRDNRAF2"
	handshakeNonce   = 32
	handshakeMAC     = sha256.Size
	handshakeTimeout = 5 * time.Second
)

// ErrHandshake is a peer that does not prove the cluster secret (or does
// not speak the handshake at all).
var ErrHandshake = errors.New("wrong cluster secret, or not a warden raft peer")

func handshakeKey(secret string) []byte {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "warden raft handshake v2", 32)
	if err != nil {
		panic(err) // only for key lengths over 255 hashes
	}
	return k
}

func handshakeSum(key []byte, label string, first, second []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write(first)
	m.Write(second)
	return m.Sum(nil)
}

// dialHandshake is the dialer's side on c.
func dialHandshake(c net.Conn, key []byte, deadline time.Time) error {
	c.SetDeadline(deadline)
	hello := make([]byte, len(handshakeMagic)+handshakeNonce)
	copy(hello, handshakeMagic)
	nonceD := hello[len(handshakeMagic):]
	rand.Read(nonceD)
	if _, err := c.Write(hello); err != nil {
		return fmt.Errorf("send raft handshake: %w", err)
	}
	reply := make([]byte, handshakeNonce+handshakeMAC)
	if _, err := io.ReadFull(c, reply); err != nil {
		return fmt.Errorf("read raft handshake: %w", err)
	}
	nonceA, proof := reply[:handshakeNonce], reply[handshakeNonce:]
	if !hmac.Equal(proof, handshakeSum(key, "accept", nonceD, nonceA)) {
		return ErrHandshake
	}
	if _, err := c.Write(handshakeSum(key, "dial", nonceA, nonceD)); err != nil {
		return fmt.Errorf("send raft handshake: %w", err)
	}
	return c.SetDeadline(time.Time{})
}

// acceptHandshake is the accepting side on c.
func acceptHandshake(c net.Conn, key []byte, deadline time.Time) error {
	c.SetDeadline(deadline)
	hello := make([]byte, len(handshakeMagic)+handshakeNonce)
	if _, err := io.ReadFull(c, hello); err != nil {
		return fmt.Errorf("read raft handshake: %w", err)
	}
	if string(hello[:len(handshakeMagic)]) != handshakeMagic {
		return ErrHandshake
	}
	nonceD := hello[len(handshakeMagic):]
	reply := make([]byte, handshakeNonce, handshakeNonce+handshakeMAC)
	rand.Read(reply)
	nonceA := reply[:handshakeNonce:handshakeNonce]
	reply = append(reply, handshakeSum(key, "accept", nonceD, nonceA)...)
	if _, err := c.Write(reply); err != nil {
		return fmt.Errorf("send raft handshake: %w", err)
	}
	proof := make([]byte, handshakeMAC)
	if _, err := io.ReadFull(c, proof); err != nil {
		return fmt.Errorf("read raft handshake: %w", err)
	}
	if !hmac.Equal(proof, handshakeSum(key, "dial", nonceA, nonceD)) {
		return ErrHandshake
	}
	return c.SetDeadline(time.Time{})
}
