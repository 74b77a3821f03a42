package rdb

import "hash/crc64"

// Redis's crc64.c is the Jones polynomial (0xad93d23594c935a9), reflected
// input and output, initial value 0 and no final xor. Go's hash/crc64 uses
// the same reflected table algorithm but complements the value on entry and
// exit, which CRC64 undoes.
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5) // bit-reversed 0xad93d23594c935a9

// CRC64 continues Redis's crc64(crc, p) over p.
func CRC64(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, jonesTable, p)
}
