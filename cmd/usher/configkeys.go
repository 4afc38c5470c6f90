package main

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// configKey is one leaf setting of Config.
type configKey struct {
	Path  string       // dotted YAML path, e.g. "smtp.port"
	Env   string       // environment variable, e.g. "USHER_SMTP_PORT"
	Index []int        // field index for reflect.Value.FieldByIndex
	Type  reflect.Type // type of the field
}

// configKeys derives the leaf settings from the yaml tags of Config, in declaration order.
func configKeys() []configKey {
	return configCollectKeys(reflect.TypeFor[Config](), "", nil)
}

// configCollectKeys walks the struct type t; prefix is the dotted path of t and index its field
// index. Nested structs are sections; every other field is a leaf.
func configCollectKeys(t reflect.Type, prefix string, index []int) []configKey {
	var keys []configKey
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // what yaml.v3 does
		}
		path := prefix + name
		idx := append(append([]int(nil), index...), i)
		if f.Type.Kind() == reflect.Struct {
			keys = append(keys, configCollectKeys(f.Type, path+".", idx)...)
			continue
		}
		keys = append(keys, configKey{
			Path:  path,
			Env:   configEnvPrefix + strings.ToUpper(strings.ReplaceAll(path, ".", "_")),
			Index: idx,
			Type:  f.Type,
		})
	}
	return keys
}

// configApplyEnv sets the keys given by USHER_* variables of env. Unknown USHER_* variables and
// bad values are added to p; USHER_TEST_* variables are ignored. When a variable appears twice,
// the first one wins, as with os.Getenv.
func configApplyEnv(c *Config, env []string, keys []configKey, p *configProblems) {
	byEnv := make(map[string]configKey, len(keys))
	for _, k := range keys {
		byEnv[k.Env] = k
	}
	seen := map[string]bool{}
	root := reflect.ValueOf(c).Elem()
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, configEnvPrefix) || strings.HasPrefix(name, configEnvTestPrefix) || seen[name] {
			continue
		}
		seen[name] = true
		k, known := byEnv[name]
		if !known {
			p.addErr(fmt.Errorf("%s: unknown setting", name))
			continue
		}
		if err := configSetValue(root.FieldByIndex(k.Index), value); err != nil {
			p.addErr(fmt.Errorf("%s: %w", name, err))
			continue
		}
		p.sources[k.Path] = "from " + name
	}
}

// configSetValue sets the leaf v from its textual form, as found in the environment.
func configSetValue(v reflect.Value, raw string) error {
	if v.Type() == reflect.TypeFor[configDuration]() {
		d, err := configParseDuration(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be an integer, got %q", raw)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("settings of type %s cannot be set from the environment", v.Type())
	}
	return nil
}
