package aof

import (
	"os"
	"syscall"
)

// datasync flushes f's data (and the size, which fdatasync covers) as Redis's
// redis_fsync does on Linux, skipping the timestamp-only metadata an fsync adds.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
