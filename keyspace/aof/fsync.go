package aof

import (
	"fmt"
	"strings"
)

// Fsync is the appendfsync policy.
type Fsync int

const (
	FsyncAlways   Fsync = iota // fsync before acknowledging each write (group commit)
	FsyncEverySec              // write before acknowledging, fsync once a second
	FsyncNo                    // write before acknowledging, let the OS flush
)

// ParseFsync parses an appendfsync value ("always", "everysec", "no"; any case, as
// Redis's enum configs).
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(s) {
	case "always":
		return FsyncAlways, nil
	case "everysec":
		return FsyncEverySec, nil
	case "no":
		return FsyncNo, nil
	}
	return 0, fmt.Errorf("aof: invalid appendfsync %q (always, everysec or no)", s)
}

// String returns the policy's config name.
func (p Fsync) String() string {
	switch p {
	case FsyncAlways:
		return "always"
	case FsyncEverySec:
		return "everysec"
	case FsyncNo:
		return "no"
	}
	return fmt.Sprintf("Fsync(%d)", int(p))
}
