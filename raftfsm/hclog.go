package raftfsm

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns the hclog.Logger Raft wants, writing to log: each
// line becomes one slog record at the matching level, with Raft's
// key/value pairs as attributes and the logger's name (raft, raft.xxx) as
// component. hclog formats nothing itself.
func newHCLogger(name string, log *slog.Logger) hclog.Logger {
	il := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: name, Level: hclog.Off, Output: io.Discard})
	il.RegisterSink(slogSink{log})
	return il
}

type slogSink struct{ log *slog.Logger }

func (s slogSink) Accept(name string, level hclog.Level, msg string, args ...any) {
	l := slogLevel(level)
	if !s.log.Enabled(context.Background(), l) {
		return
	}
	attrs := make([]any, 0, len(args)+2)
	attrs = append(attrs, "component", name)
	for _, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 { // hclog.Fmt("%+v", x)
			if format, ok := f[0].(string); ok {
				a = fmt.Sprintf(format, f[1:]...)
			}
		}
		attrs = append(attrs, a)
	}
	s.log.Log(context.Background(), l, msg, attrs...)
}

// slogLevel maps hclog's levels onto slog's; Trace sits below Debug.
func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default: // Info, and NoLevel/Off, which Raft does not log at
		return slog.LevelInfo
	}
}
