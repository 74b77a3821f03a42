// Package slotmap maps keys to Redis Cluster hash slots: CRC16-XMODEM of the
// key (or of its {hash tag}) modulo 16384.
package slotmap

// NumSlots is the number of hash slots, as in Redis Cluster.
const NumSlots = 16384

var crcTable [256]uint16

func init() {
	for i := range crcTable {
		crc := uint16(i) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		crcTable[i] = crc
	}
}

// CRC16 is CRC-16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster uses.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
	}
	return crc
}

// HashTag returns the part of key that is hashed: the text between the first
// '{' and the next '}' when that text is non-empty, else the whole key.
func HashTag(key []byte) []byte {
	for i, c := range key {
		if c == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j == i+1 {
						return key
					}
					return key[i+1 : j]
				}
			}
			return key
		}
	}
	return key
}

// Slot returns the hash slot of key.
func Slot(key []byte) int {
	return int(CRC16(HashTag(key)) & (NumSlots - 1))
}

// SlotString is Slot for a string key, without copying it.
func SlotString(key string) int {
	return Slot([]byte(key))
}
