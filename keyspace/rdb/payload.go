package rdb

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/wardenkv/warden/keyspace"
)

// ErrPayload is returned for a DUMP payload whose RDB version or checksum is
// wrong.
var ErrPayload = errors.New("DUMP payload version or checksum are wrong")

// DumpPayload serializes o as DUMP does: type byte, value, RDB version (2
// bytes little endian) and the CRC64 of all that (8 bytes little endian).
func DumpPayload(o *keyspace.Object) []byte {
	typ, b := AppendValue([]byte{0}, o)
	b[0] = typ
	return appendFooter(b)
}

func appendFooter(b []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

// CheckPayload verifies a DUMP payload's footer (version <= MaxVersion and
// checksum), as Redis's verifyDumpPayload.
func CheckPayload(p []byte) error {
	if len(p) < 10 {
		return ErrPayload
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > MaxVersion {
		return ErrPayload
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return ErrPayload
	}
	return nil
}

// ParsePayload verifies and decodes a DUMP payload. Errors are ErrPayload
// (footer) or wrap ErrCorrupt / ErrUnknownType / ErrEmptyKey (body), which
// RESTORE reports as "Bad data format".
func ParsePayload(p []byte) (*keyspace.Object, error) {
	if err := CheckPayload(p); err != nil {
		return nil, err
	}
	body := p[:len(p)-10]
	if len(body) == 0 {
		return nil, corrupt("empty payload")
	}
	return DecodeValue(bytes.NewReader(body[1:]), body[0])
}
