package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// mustEqual fails the test, listing every differing field, when got and want
// differ. Times compare with Equal (the same instant in any location), and an
// empty slice or map equals a nil one (a backend may read either back).
func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Fatalf("%s: read back differs from what was expected:\n\t%s", what, joinLines(d))
	}
}

// diff lists the fields where got and want differ, as "path: got X, want Y".
func diff(got, want any) []string {
	var out []string
	diffValue("", reflect.ValueOf(got), reflect.ValueOf(want), &out)
	return out
}

var timeType = reflect.TypeFor[time.Time]()

func diffValue(path string, got, want reflect.Value, out *[]string) {
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
		return
	}
	if got.Type() != want.Type() {
		*out = append(*out, fmt.Sprintf("%s: got type %s, want %s", path, got.Type(), want.Type()))
		return
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		if !g.Equal(w) {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, fmtTime(g), fmtTime(w)))
		}
	case got.Kind() == reflect.Pointer || got.Kind() == reflect.Interface:
		diffIndirect(path, got, want, out)
	case got.Kind() == reflect.Struct:
		for i := range got.NumField() {
			if f := got.Type().Field(i); f.IsExported() {
				diffValue(join(path, f.Name), got.Field(i), want.Field(i), out)
			}
		}
	case got.Kind() == reflect.Slice:
		diffSlice(path, got, want, out)
	case got.Kind() == reflect.Map:
		if (got.Len() != 0 || want.Len() != 0) && !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %#v, want %#v", path, got, want))
		}
	}
}

func diffIndirect(path string, got, want reflect.Value, out *[]string) {
	switch {
	case got.IsNil() && want.IsNil():
	case got.IsNil() || want.IsNil():
		*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, describe(got), describe(want)))
	default:
		diffValue(path, got.Elem(), want.Elem(), out)
	}
}

func diffSlice(path string, got, want reflect.Value, out *[]string) {
	if got.Len() == 0 && want.Len() == 0 {
		return
	}
	if got.Type().Elem().Kind() == reflect.Uint8 {
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			*out = append(*out, fmt.Sprintf("%s: got %q, want %q", path, got.Bytes(), want.Bytes()))
		}
		return
	}
	if got.Len() != want.Len() {
		*out = append(*out, fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len()))
		return
	}
	for i := range got.Len() {
		diffValue(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), out)
	}
}

// describe prints a pointer's target, or nil.
func describe(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	if t, ok := v.Elem().Interface().(time.Time); ok {
		return fmtTime(t)
	}
	return fmt.Sprintf("%v", v.Elem())
}

func fmtTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.999999999Z07:00 (MST)") }

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func joinLines(lines []string) string {
	var b bytes.Buffer
	for i, l := range lines {
		if i > 0 {
			b.WriteString("\n\t")
		}
		b.WriteString(l)
	}
	return b.String()
}

// mustNormalised fails the test when a time anywhere in v is not UTC with
// microsecond precision, as package storage promises for everything read back.
func mustNormalised(t *testing.T, what string, v any) {
	t.Helper()
	var bad []string
	walkTimes("", reflect.ValueOf(v), func(path string, tm time.Time) {
		if tm.Location() != time.UTC || tm.Nanosecond()%1000 != 0 {
			bad = append(bad, fmt.Sprintf("%s: %s is not UTC with microsecond precision", path, fmtTime(tm)))
		}
	})
	if len(bad) > 0 {
		t.Errorf("%s:\n\t%s", what, joinLines(bad))
	}
}

func walkTimes(path string, v reflect.Value, fn func(string, time.Time)) {
	switch {
	case !v.IsValid():
	case v.Type() == timeType:
		fn(path, v.Interface().(time.Time))
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
		if !v.IsNil() {
			walkTimes(path, v.Elem(), fn)
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				walkTimes(join(path, f.Name), v.Field(i), fn)
			}
		}
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8:
		for i := range v.Len() {
			walkTimes(fmt.Sprintf("%s[%d]", path, i), v.Index(i), fn)
		}
	}
}

// must fails the test now when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: want no error, got %v", what, err)
	}
}

// mustErr fails the test now unless err is target (errors.Is).
func mustErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: want an error that is %q, got %v", what, target, err)
	}
}

// checkErr is mustErr that lets the test go on.
func checkErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: want an error that is %q, got %v", what, target, err)
	}
}

// mustCount fails the test now unless err is nil and got is want.
func mustCount(t *testing.T, what string, got int, err error, want int) {
	t.Helper()
	must(t, what, err)
	if got != want {
		t.Fatalf("%s: want %d, got %d", what, want, got)
	}
}

// mustTime fails the test now unless got is the instant want.
func mustTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: want %s, got %s", what, fmtTime(want), fmtTime(got))
	}
}
