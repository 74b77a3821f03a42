package node

import (
	"fmt"
	"strconv"
	"syscall"
)

// minReservedFDs is Redis's CONFIG_MIN_RESERVED_FDS: descriptors kept for
// everything but client connections (listeners, RDB/AOF files, replication
// links, Raft and gossip).
const minReservedFDs = 32

// MaxClients is the maxclients in effect: the limit of connections each
// RESP or HTTP listener of the process holds.
func (s *Server) MaxClients() int { return int(s.cfg.Int("maxclients")) }

// FitOpenFiles does what Redis's adjustOpenFilesLimit does at start, for a
// process with listeners listeners that each admit maxclients connections:
// it raises RLIMIT_NOFILE (up to the hard limit, or past it where the
// process may) to listeners*maxclients+32, and when the OS refuses, lowers
// maxclients to what the limit allows and logs it, so that extra clients get
// "max number of clients reached" instead of exhausting the descriptors
// (which stalls every listener). A later CONFIG SET maxclients is refused
// when the limit cannot be raised to fit it, as in Redis. It fails only when
// the limit is too low to start at all.
func (s *Server) FitOpenFiles(listeners int) error {
	listeners = max(listeners, 1)
	want := s.cfg.Int("maxclients")
	fit, r := fitOpenFiles(want, listeners)
	switch {
	case fit < 1:
		return fmt.Errorf("open files limit (ulimit -n) of %d is not enough for the server to start: increase it to at least %d", r.old, r.need)
	case fit < want:
		s.log.Warn("maxclients has been reduced to compensate for low ulimit; if you need higher maxclients increase 'ulimit -n'",
			"requested_maxclients", want, "required_fds", r.need, "setrlimit_err", r.err,
			"open_files_limit", r.cur, "listeners", listeners, "maxclients", fit)
		if err := s.cfg.Set("maxclients", strconv.FormatInt(fit, 10), false); err != nil {
			return fmt.Errorf("lower maxclients to %d: %w", fit, err)
		}
	case r.cur > r.old:
		s.log.Info("increased maximum number of open files", "open_files_limit", r.cur, "was", r.old)
	}
	s.cfg.OnSet("maxclients", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("maxclients %q: %w", v, err)
		}
		if fit, _ := fitOpenFiles(n, listeners); fit < n {
			return fmt.Errorf("The operating system is not able to handle the specified number of clients, try with %d", fit)
		}
		return nil
	})
	return nil
}

// rlimitResult is what fitOpenFiles did: the limit before (old) and after
// (cur), the limit it needed and why it could not get it.
type rlimitResult struct {
	old, cur, need uint64
	err            error
}

// fitOpenFiles raises the open files limit toward what maxclients
// connections on each listener need and returns the maxclients the limit
// then allows (maxclients itself when it fits).
func fitOpenFiles(maxclients int64, listeners int) (int64, rlimitResult) {
	r := rlimitResult{need: uint64(maxclients)*uint64(listeners) + minReservedFDs}
	cur, hard, err := getNofile()
	if err != nil {
		// As Redis: assume 1024 when the limit cannot be read.
		r.old, r.cur, r.err = 1024, 1024, err
	} else {
		r.old, r.cur = cur, cur
		if cur < r.need {
			if err := setNofile(r.need, max(hard, r.need)); err == nil {
				r.cur = r.need
			} else {
				r.err = err
				// Without the privilege to raise the hard limit, the soft
				// one can still go up to it.
				if hard > cur && setNofile(hard, hard) == nil {
					r.cur = min(hard, r.need)
				}
			}
		}
	}
	if r.cur >= r.need {
		return maxclients, r
	}
	if r.cur <= minReservedFDs {
		return 0, r
	}
	return int64((r.cur - minReservedFDs) / uint64(listeners)), r
}

func getNofile() (cur, hard uint64, err error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, 0, fmt.Errorf("getrlimit NOFILE: %w", err)
	}
	return uint64(l.Cur), uint64(l.Max), nil
}

func setNofile(cur, hard uint64) error {
	l := syscall.Rlimit{Cur: cur, Max: hard}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("setrlimit NOFILE to %d: %w", cur, err)
	}
	return nil
}
