package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// configDecodeFile decodes the YAML file at path into c, strictly. Unknown keys and bad values
// are added to p (they do not stop the decoding); an unreadable file or a syntax error is
// returned.
func configDecodeFile(path string, c *Config, p *configProblems) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err) // the *PathError names the path
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return fmt.Errorf("config file %s: %w", path, err) // "yaml: line N: …"
	}
	lines := configLineIndex(&root, "", map[int][]string{}, p, path)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(c)
	var typeErr *yaml.TypeError
	switch {
	case err == nil, errors.Is(err, io.EOF): // io.EOF: empty file, or only comments
	case errors.As(err, &typeErr):
		for _, msg := range typeErr.Errors {
			p.addErr(configFileProblem(path, msg, lines))
		}
	default:
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		p.addErr(fmt.Errorf("config file %s: must hold a single YAML document", path))
	}
	return nil
}

// configLineIndex walks the mapping nodes under n and returns, for each line, the dotted paths
// of the keys and values on that line (parents first). It also records in p.sources where each
// key is set, so that validation problems can point at the line.
func configLineIndex(n *yaml.Node, prefix string, lines map[int][]string, p *configProblems, file string) map[int][]string {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return configLineIndex(n.Content[0], prefix, lines, p, file)
	}
	if n.Kind != yaml.MappingNode {
		return lines
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := prefix + k.Value
		lines[k.Line] = append(lines[k.Line], path)
		if v.Line != k.Line {
			lines[v.Line] = append(lines[v.Line], path)
		}
		p.sources[path] = fmt.Sprintf("line %d of %s", k.Line, file)
		configLineIndex(v, path+".", lines, p, file)
	}
	return lines
}

// configFileProblem rewrites one message of a *yaml.TypeError ("line N: …") as a problem that
// starts with the key: `smtp.hsot: unknown setting (line 3 of usher.yaml)`.
func configFileProblem(file, msg string, lines map[int][]string) error {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return fmt.Errorf("config file %s: %s", file, msg)
	}
	_, rest, _ := strings.Cut(msg, ": ")
	paths := lines[line]
	if name, ok := configUnknownFieldName(rest); ok {
		for _, path := range paths {
			if path == name || strings.HasSuffix(path, "."+name) {
				return fmt.Errorf("%s: unknown setting (line %d of %s)", path, line, file)
			}
		}
		return fmt.Errorf("%s: unknown setting (line %d of %s)", name, line, file)
	}
	if len(paths) == 0 {
		return fmt.Errorf("config file %s: %s", file, msg)
	}
	return fmt.Errorf("%s: %s (line %d of %s)", paths[len(paths)-1], rest, line, file)
}

// configUnknownFieldName extracts the key from the message of yaml.v3 for an unknown key,
// "field NAME not found in type T".
func configUnknownFieldName(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, "field ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, " not found in type ")
	return name, ok
}
