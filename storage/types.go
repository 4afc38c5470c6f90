package storage

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// List is a list of strings kept in one column as a JSON array
// (scopes, redirect URIs, authentication methods).
type List []string

// Value implements driver.Valuer.
func (l List) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *List) Scan(src any) error {
	return scanJSON(src, (*[]string)(l))
}

// Has reports whether s is in the list.
func (l List) Has(s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// Duration is a time.Duration written as a Go duration string ("48h0m0s")
// in JSON, so settings stay readable in the database.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Details is a small string map kept as a JSON object (audit details).
type Details map[string]string

// Value implements driver.Valuer.
func (d Details) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(d))
	return string(b), err
}

// Scan implements sql.Scanner.
func (d *Details) Scan(src any) error {
	return scanJSON(src, (*map[string]string)(d))
}

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("storage: cannot scan %T as JSON", src)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("storage: scan JSON: %w", err)
	}
	return nil
}
