// Package digest computes DEBUG DIGEST and DEBUG DIGEST-VALUE exactly as
// Redis 7.0's debug.c does (SHA1 mixes, order-independent for sets, hashes
// and sorted sets), so a warden data set and a redis-server data set can be
// compared by their digests, and a master with its replicas.
package digest

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// Sum is one 20-byte digest.
type Sum [20]byte

// Hex is the digest as DEBUG DIGEST prints it.
func (d *Sum) Hex() string { return hex.EncodeToString(d[:]) }

// xor is Redis's xorDigest: digest ^= SHA1(b).
func (d *Sum) xor(b []byte) {
	h := sha1.Sum(b)
	for i := range d {
		d[i] ^= h[i]
	}
}

// mix is Redis's mixDigest: digest = SHA1(digest ^ SHA1(b)).
func (d *Sum) mix(b []byte) {
	d.xor(b)
	*d = sha1.Sum(d[:])
}

// Value is DEBUG DIGEST-VALUE's digest of one value (expiring or not).
func Value(o *keyspace.Object) Sum {
	var d Sum
	object(&d, o)
	return d
}

// object is Redis's xorObjectDigest.
func object(d *Sum, o *keyspace.Object) {
	var typ [4]byte
	binary.BigEndian.PutUint32(typ[:], uint32(rdbType(o.Type)))
	d.mix(typ[:])
	switch o.Type {
	case keyspace.TString:
		d.mix(o.Str)
	case keyspace.TList:
		l := o.List()
		for i := range l.Len() {
			d.mix(l.Index(i))
		}
	case keyspace.TSet:
		if is, ok := o.IntSet(); ok {
			is.Each(d.xor)
			break
		}
		for m := range o.Set() {
			d.xor([]byte(m))
		}
	case keyspace.TZSet:
		for _, e := range o.ZSet().All() {
			var ed Sum
			ed.mix([]byte(e.Member))
			ed.mix(formatG17(e.Score))
			d.xor(ed[:])
		}
	case keyspace.THash:
		o.Hash().Range(func(f string, v []byte) bool {
			var ed Sum
			ed.mix([]byte(f))
			ed.mix(v)
			d.xor(ed[:])
			return true
		})
	case keyspace.TStream:
		s := o.Val.(*stream.Stream)
		s.Range(stream.ID{}, stream.MaxID, false, func(id stream.ID, fv [][]byte) bool {
			b := strconv.AppendUint(nil, id.Ms, 10)
			b = append(b, '.')
			d.mix(strconv.AppendUint(b, id.Seq, 10))
			for _, x := range fv {
				d.mix(x)
			}
			return true
		})
	}
	if o.Expire != 0 {
		d.xor([]byte("!!expire!!"))
	}
}

// formatG17 is C's "%.17g", which Redis 7.0 mixes in for a score.
func formatG17(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// rdbType is Redis's OBJ_* type number, which the digest mixes in.
func rdbType(t keyspace.Type) int {
	switch t {
	case keyspace.TString:
		return 0
	case keyspace.TList:
		return 1
	case keyspace.TSet:
		return 2
	case keyspace.TZSet:
		return 3
	case keyspace.THash:
		return 4
	case keyspace.TStream:
		return 6
	}
	return 255
}

// Dataset accumulates DEBUG DIGEST over databases: call DB for each
// non-empty database in order, then Key for each of its keys.
type Dataset struct{ final Sum }

// DB starts database id (Redis mixes the number in, so the same keys in
// another database digest differently).
func (ds *Dataset) DB(id int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	ds.final.mix(b[:])
}

// Key adds one key and its value.
func (ds *Dataset) Key(key []byte, o *keyspace.Object) {
	var d Sum
	d.mix(key)
	object(&d, o)
	ds.final.xor(d[:])
}

// Sum is the digest so far (all zeros for an empty data set).
func (ds *Dataset) Sum() Sum { return ds.final }
