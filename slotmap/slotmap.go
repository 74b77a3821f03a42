// Package slotmap maps keys to Redis Cluster hash slots: CRC16-XMODEM of the
// key (or of its {hash tag}) modulo 16384.
package slotmap

import "bytes"

// NumSlots is the number of hash slots, as in Redis Cluster.
const NumSlots = 16384

// crcTables[k][v] is the CRC of byte v followed by k zero bytes:
// crcTables[0] is the classic table, the rest let CRC16 take 8 bytes per
// step (slicing-by-8) instead of one.
var crcTables [8][256]uint16

func init() {
	for i := range crcTables[0] {
		crc := uint16(i) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		crcTables[0][i] = crc
	}
	for k := 1; k < len(crcTables); k++ {
		for i := range crcTables[k] {
			c := crcTables[k-1][i]
			crcTables[k][i] = c<<8 ^ crcTables[0][byte(c>>8)]
		}
	}
}

// CRC16 is CRC-16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses.
func CRC16(b []byte) uint16 {
	var crc uint16
	t := &crcTables
	// The CRC is linear: the state folds into the next two bytes, and each
	// byte's share is its table entry for the bytes that follow it.
	for len(b) >= 8 {
		crc = t[7][b[0]^byte(crc>>8)] ^ t[6][b[1]^byte(crc)] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, c := range b {
		crc = crc<<8 ^ t[0][byte(crc>>8)^c]
	}
	return crc
}

// HashTag returns the part of key that is hashed: the text between the first
// '{' and the next '}' when that text is non-empty, else the whole key.
func HashTag(key []byte) []byte {
	i := bytes.IndexByte(key, '{')
	if i < 0 {
		return key
	}
	j := bytes.IndexByte(key[i+1:], '}')
	if j <= 0 { // no '}', or "{}"
		return key
	}
	return key[i+1 : i+1+j]
}

// Slot returns the hash slot of key.
func Slot(key []byte) int {
	return int(CRC16(HashTag(key)) & (NumSlots - 1))
}

// SlotString is Slot for a string key, without copying it.
func SlotString(key string) int {
	return Slot([]byte(key))
}
