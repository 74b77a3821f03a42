package rdb

import (
	"encoding/binary"
	"strconv"

	"github.com/wardenkv/warden/keyspace"
	"github.com/wardenkv/warden/keyspace/stream"
)

// Streams as Redis 7.0 writes them (RDB_TYPE_STREAM_LISTPACKS_2): the rax of
// listpack nodes keyed by the big-endian master ID, each node a master entry
// (count, deleted, fields, 0) followed by flagged, delta-encoded entries; then
// length, last ID, first ID, max deleted ID, entries added; then the groups
// with their PEL and consumers.

const (
	streamFlagDeleted    = 1
	streamFlagSameFields = 2
)

func appendStreamID16(dst []byte, id stream.ID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.Ms)
	return binary.BigEndian.AppendUint64(dst, id.Seq)
}

func lpInt(w *listpackWriter, v int64) { w.add(strconv.AppendInt(nil, v, 10)) }

// streamNodeListpack builds one node's listpack.
func streamNodeListpack(master stream.ID, mf [][]byte, live int, es []stream.NodeEntry) []byte {
	var w listpackWriter
	lpInt(&w, int64(live))
	lpInt(&w, int64(len(es)-live))
	lpInt(&w, int64(len(mf)))
	for _, f := range mf {
		w.add(f)
	}
	lpInt(&w, 0)
	for _, e := range es {
		nf := len(e.Fields) / 2
		same := nf == len(mf)
		for i := 0; same && i < nf; i++ {
			same = string(e.Fields[2*i]) == string(mf[i])
		}
		flags := int64(0)
		if e.Deleted {
			flags |= streamFlagDeleted
		}
		if same {
			flags |= streamFlagSameFields
		}
		lpInt(&w, flags)
		lpInt(&w, int64(e.ID.Ms-master.Ms))
		lpInt(&w, int64(e.ID.Seq-master.Seq))
		cnt := int64(nf + 3)
		if same {
			for i := 1; i < len(e.Fields); i += 2 {
				w.add(e.Fields[i])
			}
		} else {
			lpInt(&w, int64(nf))
			for _, x := range e.Fields {
				w.add(x)
			}
			cnt += int64(nf + 1)
		}
		lpInt(&w, cnt)
	}
	return w.finish()
}

func appendStream(dst []byte, s *stream.Stream, compress bool) []byte {
	dst = AppendLength(dst, uint64(s.Nodes()))
	s.EachNode(func(master stream.ID, mf [][]byte, live int, es []stream.NodeEntry) {
		dst = appendString(dst, appendStreamID16(nil, master), compress)
		dst = appendString(dst, streamNodeListpack(master, mf, live, es), compress)
	})
	dst = AppendLength(dst, uint64(s.Len()))
	dst = AppendLength(dst, s.LastID.Ms)
	dst = AppendLength(dst, s.LastID.Seq)
	dst = AppendLength(dst, s.FirstID.Ms)
	dst = AppendLength(dst, s.FirstID.Seq)
	dst = AppendLength(dst, s.MaxDeletedID.Ms)
	dst = AppendLength(dst, s.MaxDeletedID.Seq)
	dst = AppendLength(dst, s.EntriesAdded)
	groups := s.Groups()
	dst = AppendLength(dst, uint64(len(groups)))
	for _, g := range groups {
		dst = appendString(dst, []byte(g.Name), compress)
		dst = AppendLength(dst, g.LastID.Ms)
		dst = AppendLength(dst, g.LastID.Seq)
		dst = AppendLength(dst, uint64(g.EntriesRead))
		dst = AppendLength(dst, uint64(g.PEL.Len()))
		g.PEL.Range(stream.ID{}, stream.MaxID, func(id stream.ID, n *stream.NACK) bool {
			dst = appendStreamID16(dst, id)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(n.DeliveryTime))
			dst = AppendLength(dst, n.DeliveryCount)
			return true
		})
		cons := g.Consumers()
		dst = AppendLength(dst, uint64(len(cons)))
		for _, c := range cons {
			dst = appendString(dst, []byte(c.Name), compress)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(c.SeenTime))
			dst = AppendLength(dst, uint64(c.PEL.Len()))
			c.PEL.Range(stream.ID{}, stream.MaxID, func(id stream.ID, _ *stream.NACK) bool {
				dst = appendStreamID16(dst, id)
				return true
			})
		}
	}
	return dst
}

func (d *decoder) streamID16() (stream.ID, error) {
	var b [16]byte
	if err := d.full(b[:]); err != nil {
		return stream.ID{}, err
	}
	return stream.ID{Ms: binary.BigEndian.Uint64(b[:8]), Seq: binary.BigEndian.Uint64(b[8:])}, nil
}

func (d *decoder) streamIDLens() (stream.ID, error) {
	ms, err := d.plainLength()
	if err != nil {
		return stream.ID{}, err
	}
	seq, err := d.plainLength()
	return stream.ID{Ms: ms, Seq: seq}, err
}

// streamNode parses one node's listpack.
func streamNode(master stream.ID, lp []byte) ([][]byte, []stream.NodeEntry, error) {
	var els [][]byte
	if err := listpackEach(lp, func(v []byte) error {
		els = append(els, v)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	p := 0
	next := func() ([]byte, bool) {
		if p >= len(els) {
			return nil, false
		}
		p++
		return els[p-1], true
	}
	nextInt := func() (int64, bool) {
		v, ok := next()
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(string(v), 10, 64)
		return n, err == nil
	}
	count, ok1 := nextInt()
	deleted, ok2 := nextInt()
	nmf, ok3 := nextInt()
	if !ok1 || !ok2 || !ok3 || count < 0 || deleted < 0 || nmf < 0 || nmf > int64(len(els)) {
		return nil, nil, corrupt("stream master entry")
	}
	mf := make([][]byte, nmf)
	for i := range mf {
		v, ok := next()
		if !ok {
			return nil, nil, corrupt("stream master fields")
		}
		mf[i] = v
	}
	if z, ok := nextInt(); !ok || z != 0 {
		return nil, nil, corrupt("stream master terminator")
	}
	var es []stream.NodeEntry
	for p < len(els) {
		flags, ok1 := nextInt()
		msd, ok2 := nextInt()
		seqd, ok3 := nextInt()
		if !ok1 || !ok2 || !ok3 {
			return nil, nil, corrupt("stream entry header")
		}
		e := stream.NodeEntry{
			ID:      stream.ID{Ms: master.Ms + uint64(msd), Seq: master.Seq + uint64(seqd)},
			Deleted: flags&streamFlagDeleted != 0,
		}
		nf := nmf
		if flags&streamFlagSameFields == 0 {
			n, ok := nextInt()
			if !ok || n <= 0 || n > int64(len(els)) {
				return nil, nil, corrupt("stream entry field count")
			}
			nf = n
			e.Fields = make([][]byte, 0, 2*nf)
			for range nf {
				f, ok1 := next()
				v, ok2 := next()
				if !ok1 || !ok2 {
					return nil, nil, corrupt("stream entry fields")
				}
				e.Fields = append(e.Fields, f, v)
			}
		} else {
			if nf == 0 {
				return nil, nil, corrupt("stream entry without fields")
			}
			e.Fields = make([][]byte, 0, 2*nf)
			for i := range nf {
				v, ok := next()
				if !ok {
					return nil, nil, corrupt("stream entry values")
				}
				e.Fields = append(e.Fields, mf[i], v)
			}
		}
		if _, ok := nextInt(); !ok { // lp-count
			return nil, nil, corrupt("stream entry lp-count")
		}
		es = append(es, e)
	}
	live := 0
	for _, e := range es {
		if !e.Deleted {
			live++
		}
	}
	if int64(live) != count || int64(len(es)-live) != deleted {
		return nil, nil, corrupt("stream node counters")
	}
	return mf, es, nil
}

func (d *decoder) stream(typ byte) (*keyspace.Object, error) {
	s := stream.New()
	nodes, err := d.count(2)
	if err != nil {
		return nil, err
	}
	for range nodes {
		key, err := d.string()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, corrupt("stream node key length %d", len(key))
		}
		master := stream.ID{Ms: binary.BigEndian.Uint64(key[:8]), Seq: binary.BigEndian.Uint64(key[8:])}
		lp, err := d.string()
		if err != nil {
			return nil, err
		}
		mf, es, err := streamNode(master, lp)
		if err != nil {
			return nil, err
		}
		if err := s.LoadNode(master, mf, es); err != nil {
			return nil, corrupt("%v", err)
		}
	}
	length, err := d.plainLength()
	if err != nil {
		return nil, err
	}
	if length != uint64(s.Len()) {
		return nil, corrupt("stream length %d, nodes hold %d", length, s.Len())
	}
	if s.LastID, err = d.streamIDLens(); err != nil {
		return nil, err
	}
	if s.Len() > 0 && s.LastID.Less(s.Last()) {
		return nil, corrupt("stream last ID below its entries")
	}
	if typ >= TypeStreamListpacks2 {
		if s.FirstID, err = d.streamIDLens(); err != nil {
			return nil, err
		}
		if s.MaxDeletedID, err = d.streamIDLens(); err != nil {
			return nil, err
		}
		if s.EntriesAdded, err = d.plainLength(); err != nil {
			return nil, err
		}
	} else {
		s.FirstID = s.First()
		s.EntriesAdded = uint64(s.Len())
	}
	ngroups, err := d.count(3)
	if err != nil {
		return nil, err
	}
	for range ngroups {
		name, err := d.string()
		if err != nil {
			return nil, err
		}
		last, err := d.streamIDLens()
		if err != nil {
			return nil, err
		}
		entriesRead := int64(stream.InvalidEntriesRead)
		if typ >= TypeStreamListpacks2 {
			n, err := d.plainLength()
			if err != nil {
				return nil, err
			}
			entriesRead = int64(n)
		} else {
			entriesRead = s.EstimateDistance(last)
		}
		g := s.CreateGroup(string(name), last, entriesRead)
		if g == nil {
			return nil, corrupt("duplicate stream group %q", name)
		}
		npel, err := d.count(17)
		if err != nil {
			return nil, err
		}
		for range npel {
			id, err := d.streamID16()
			if err != nil {
				return nil, err
			}
			var t [8]byte
			if err := d.full(t[:]); err != nil {
				return nil, err
			}
			cnt, err := d.plainLength()
			if err != nil {
				return nil, err
			}
			if g.PEL.Get(id) != nil {
				return nil, corrupt("duplicate PEL entry")
			}
			g.PEL.Put(id, &stream.NACK{DeliveryTime: int64(binary.LittleEndian.Uint64(t[:])), DeliveryCount: cnt})
		}
		ncons, err := d.count(10)
		if err != nil {
			return nil, err
		}
		for range ncons {
			cname, err := d.string()
			if err != nil {
				return nil, err
			}
			var t [8]byte
			if err := d.full(t[:]); err != nil {
				return nil, err
			}
			c := g.CreateConsumer(string(cname), int64(binary.LittleEndian.Uint64(t[:])))
			if c == nil {
				return nil, corrupt("duplicate stream consumer %q", cname)
			}
			if typ >= TypeStreamListpacks3 {
				if err := d.full(t[:]); err != nil {
					return nil, err
				}
				c.ActiveTime = int64(binary.LittleEndian.Uint64(t[:]))
			}
			n, err := d.count(16)
			if err != nil {
				return nil, err
			}
			for range n {
				id, err := d.streamID16()
				if err != nil {
					return nil, err
				}
				nack := g.PEL.Get(id)
				if nack == nil || nack.Consumer != nil {
					return nil, corrupt("consumer PEL entry not in the group PEL")
				}
				nack.Consumer = c
				c.PEL.Put(id, nack)
			}
		}
		ok := true
		g.PEL.Range(stream.ID{}, stream.MaxID, func(_ stream.ID, n *stream.NACK) bool {
			ok = n.Consumer != nil
			return ok
		})
		if !ok {
			return nil, corrupt("group PEL entry without a consumer")
		}
	}
	return &keyspace.Object{Type: keyspace.TStream, Val: s}, nil
}
