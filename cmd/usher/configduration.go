package main

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// configDuration is a time.Duration written as a Go duration string ("30s", "10m", "24h") in
// YAML and in the environment. "0" is accepted without a unit.
type configDuration time.Duration

// Duration returns d as a time.Duration.
func (d configDuration) Duration() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does.
func (d configDuration) String() string { return time.Duration(d).String() }

// UnmarshalYAML decodes a duration string. A bad value is reported as a *yaml.TypeError so that
// the decoder goes on and the other problems of the file are reported too.
func (d *configDuration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: must be a duration like 30s, 10m or 24h", n.Line)}}
	}
	v, err := configParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = v
	return nil
}

// MarshalYAML encodes d as a duration string, so that a Config round-trips.
func (d configDuration) MarshalYAML() (any, error) { return d.String(), nil }

// configParseDuration parses a duration as written in the file or the environment.
func configParseDuration(s string) (configDuration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("must be a duration like 30s, 10m or 24h, got %q", s)
	}
	return configDuration(v), nil
}
