package main

import (
	"io"
	"log/slog"
)

// ConfigLog is how the binary logs.
type ConfigLog struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// configValidateLog checks the log section.
func configValidateLog(l *ConfigLog, p *configProblems) {
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "must be one of debug, info, warn, error, got %q", l.Level)
	}
	switch l.Format {
	case "text", "json":
	default:
		p.add("log.format", "must be text or json, got %q", l.Format)
	}
}

// newLogger builds the process logger from the log settings.
func newLogger(c ConfigLog, w io.Writer) *slog.Logger {
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
