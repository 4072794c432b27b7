package main

import (
	"context"
	"io"
	"log/slog"
)

// newLogger returns the server's logger: JSON lines on w, one object per
// entry, from level up. Entries carry ids and outcomes, never patient
// data: every package the server wires logs that way.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// quieter returns log raised to at least min: for chatty components (the
// job engine's periodic counters) whose info entries only matter when
// debugging.
func quieter(log *slog.Logger, min slog.Level) *slog.Logger {
	return slog.New(minLevel{log.Handler(), min})
}

// minLevel drops entries below min before its handler sees them.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
