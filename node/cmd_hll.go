package node

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/wardenkv/warden/hll"
	"github.com/wardenkv/warden/keyevents"
	"github.com/wardenkv/warden/keyspace"
)

func registerHyperLogLog(t table) {
	const g = "hyperloglog"
	t.add(
		&Command{Name: "pfadd", Arity: -2, Flags: fWrite | fDenyOOM | fFast, FirstKey: 1, Run: cmdPfAdd, Group: g},
		&Command{Name: "pfcount", Arity: -2, Flags: fReadonly, FirstKey: 1, LastKey: -1, Run: cmdPfCount, Group: g},
		&Command{Name: "pfmerge", Arity: -2, Flags: fWrite | fDenyOOM, FirstKey: 1, LastKey: -1, Run: cmdPfMerge, Group: g},
		&Command{Name: "pfdebug", Arity: 3, Flags: fWrite | fDenyOOM | fAdmin, FirstKey: 2, Run: cmdPfDebug, Group: g},
		&Command{Name: "pfselftest", Arity: 1, Flags: fAdmin, Run: cmdPfSelfTest, Group: g},
	)
}

const errNotHLL = "WRONGTYPE Key is not a valid HyperLogLog string value."

// hllRead returns key's HLL value (nil when missing); ok=false after an
// error reply (another type, or a string that is not a HLL).
func (c *Ctx) hllRead(key []byte, write bool) (*keyspace.Object, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.Get(key)
	} else {
		o = c.Read(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type != keyspace.TString {
		c.Err(errWrongType)
		return nil, false
	}
	if !hll.Valid(o.Str) {
		c.Err(errNotHLL)
		return nil, false
	}
	return o, true
}

func (c *Ctx) hllMaxBytes() int { return int(min(c.s.hllSparseMaxBytes.Load(), 1<<30)) }

// hllErr replies the error of a HLL that failed to decode.
func (c *Ctx) hllErr(err error) {
	if errors.Is(err, hll.ErrInvalid) {
		c.Err(hll.ErrInvalid.Error())
		return
	}
	c.Err("ERR " + err.Error())
}

func cmdPfAdd(c *Ctx) {
	key := c.Args[1]
	o, ok := c.hllRead(key, true)
	if !ok {
		return
	}
	updated := false
	if o == nil {
		o = &keyspace.Object{Type: keyspace.TString, Str: hll.New(), LRU: keyspace.LRUClock()}
		c.DB.Set(key, o)
		updated = true
	}
	maxBytes := c.hllMaxBytes()
	for _, ele := range c.Args[2:] {
		v, changed, err := hll.Add(o.Str, ele, maxBytes)
		if err != nil {
			c.hllErr(err)
			return
		}
		o.Str = v
		updated = updated || changed
	}
	if !updated {
		c.Int(0)
		return
	}
	hll.Invalidate(o.Str)
	c.DB.Touch(key)
	c.PropagateArgs()
	c.notify(keyevents.String, "pfadd", key)
	c.Int(1)
}

// hllMergeKeys merges the registers of keys' HyperLogLogs into max (a
// missing key adds none); dense says whether any of them is dense.
func (c *Ctx) hllMergeKeys(keys [][]byte, max []uint8) (dense, ok bool) {
	for _, key := range keys {
		o, ok := c.hllRead(key, false)
		if !ok {
			return false, false
		}
		if o == nil {
			continue
		}
		dense = dense || hll.Encoding(o.Str) == hll.Dense
		if err := hll.MergeInto(max, o.Str); err != nil {
			c.hllErr(err)
			return false, false
		}
	}
	return dense, true
}

func cmdPfCount(c *Ctx) {
	if len(c.Args) > 2 {
		max := make([]uint8, hll.Registers)
		if _, ok := c.hllMergeKeys(c.Args[1:], max); !ok {
			return
		}
		c.Int(int64(hll.CountRegisters(max)))
		return
	}
	key := c.Args[1]
	o, ok := c.hllRead(key, false)
	if !ok {
		return
	}
	if o == nil {
		c.Int(0)
		return
	}
	card, updated, err := hll.Count(o.Str)
	if err != nil {
		c.hllErr(err)
		return
	}
	if updated {
		// The cached cardinality is part of the string: Redis counts
		// it as a change and propagates PFCOUNT.
		c.DB.Touch(key)
		c.PropagateArgs()
	}
	c.Int(int64(card))
}

func cmdPfMerge(c *Ctx) {
	max := make([]uint8, hll.Registers)
	dense, ok := c.hllMergeKeys(c.Args[1:], max)
	if !ok {
		return
	}
	dst := c.Args[1]
	o := c.DB.Get(dst)
	if o == nil {
		o = &keyspace.Object{Type: keyspace.TString, Str: hll.New(), LRU: keyspace.LRUClock()}
		c.DB.Set(dst, o)
	}
	v := o.Str
	var err error
	if dense {
		if v, err = hll.ToDense(v); err != nil {
			c.hllErr(err)
			return
		}
	}
	if v, err = hll.SetFrom(v, max, c.hllMaxBytes()); err != nil {
		c.hllErr(err)
		return
	}
	o.Str = v
	c.DB.Touch(dst)
	c.PropagateArgs()
	c.notify(keyevents.String, "pfadd", dst)
	c.OK()
}

func cmdPfDebug(c *Ctx) {
	sub, key := c.Args[1], c.Args[2]
	o := c.DB.Get(key)
	if o == nil {
		c.Err("ERR The specified key does not exist")
		return
	}
	if o.Type != keyspace.TString {
		c.Err(errWrongType)
		return
	}
	if !hll.Valid(o.Str) {
		c.Err(errNotHLL)
		return
	}
	// toDense converts in place; Redis propagates the command when it
	// changed the encoding.
	toDense := func() (bool, bool) {
		if hll.Encoding(o.Str) == hll.Dense {
			return false, true
		}
		d, err := hll.ToDense(o.Str)
		if err != nil {
			c.hllErr(err)
			return false, false
		}
		o.Str = d
		c.DB.Touch(key)
		c.PropagateArgs()
		return true, true
	}
	switch {
	case eq(sub, "getreg"):
		if _, ok := toDense(); !ok {
			return
		}
		regs := hll.DenseRegisters(o.Str)
		c.Array(len(regs))
		for _, r := range regs {
			c.Int(int64(r))
		}
	case eq(sub, "decode"):
		if hll.Encoding(o.Str) != hll.Sparse {
			c.Err("ERR HLL encoding is not sparse")
			return
		}
		var b strings.Builder
		for i, op := range hll.Decode(o.Str) {
			if i > 0 {
				b.WriteByte(' ')
			}
			if op.Kind == 'v' {
				fmt.Fprintf(&b, "v:%d,%d", op.Value, op.Len)
			} else {
				fmt.Fprintf(&b, "%c:%d", op.Kind, op.Len)
			}
		}
		c.BulkString(b.String())
	case eq(sub, "encoding"):
		if hll.Encoding(o.Str) == hll.Dense {
			c.Status("dense")
		} else {
			c.Status("sparse")
		}
	case eq(sub, "todense"):
		conv, ok := toDense()
		if !ok {
			return
		}
		if conv {
			c.Int(1)
		} else {
			c.Int(0)
		}
	default:
		c.Err(fmt.Sprintf("ERR Unknown PFDEBUG subcommand '%s'", sub))
	}
}

// cmdPfSelfTest checks the register packing and the estimator's error on
// a random set, as Redis's PFSELFTEST does (with fewer elements).
func cmdPfSelfTest(c *Ctx) {
	if err := hllSelfTest(); err != nil {
		c.Err("ERR " + err.Error())
		return
	}
	c.OK()
}

func hllSelfTest() error {
	v, err := hll.ToDense(hll.New())
	if err != nil {
		return err
	}
	sparse := hll.New()
	seed := rand.Uint64()
	for i := range 200000 {
		ele := []byte(strconv.FormatUint(seed+uint64(i), 10))
		if v, _, err = hll.Add(v, ele, hll.DefaultMaxSize); err != nil {
			return err
		}
		if sparse, _, err = hll.Add(sparse, ele, hll.DefaultMaxSize); err != nil {
			return err
		}
		if n := i + 1; n%10000 == 0 {
			hll.Invalidate(v)
			card, _, err := hll.Count(v)
			if err != nil {
				return err
			}
			hll.Invalidate(sparse)
			card2, _, err := hll.Count(sparse)
			if err != nil {
				return err
			}
			if card != card2 {
				return fmt.Errorf("TESTFAILED sparse and dense estimates differ (%d, %d)", card2, card)
			}
			// Redis allows 5 standard errors (1.04/sqrt(m)).
			if diff := float64(card) - float64(n); diff > float64(n)*0.0406 || -diff > float64(n)*0.0406 {
				return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%v", n, diff)
			}
		}
	}
	return nil
}
