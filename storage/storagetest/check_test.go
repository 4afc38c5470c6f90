package storagetest

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDiff checks the comparison the suite relies on: a helper that saw no
// difference where there is one would let every round trip pass.
func TestDiff(t *testing.T) {
	type inner struct {
		At    *time.Time
		Names []string
	}
	type record struct {
		Name  string
		When  time.Time
		Data  []byte
		Inner inner
		Map   map[string]string
	}
	at := time.Date(2031, 1, 2, 3, 4, 5, 6000, time.UTC)
	base := record{Name: "a", When: at, Data: []byte("x"), Inner: inner{At: &at, Names: []string{"n"}}, Map: map[string]string{"k": "v"}}
	cases := []struct {
		name  string
		edit  func(r *record)
		field string // "" when the records must compare equal
	}{
		{"identical", func(r *record) {}, ""},
		{"same instant in another zone", func(r *record) { r.When = at.In(zone) }, ""},
		{"slice emptied", func(r *record) { r.Inner.Names = nil }, "Inner.Names"},
		{"string", func(r *record) { r.Name = "b" }, "Name"},
		{"time", func(r *record) { r.When = at.Add(time.Microsecond) }, "When"},
		{"bytes", func(r *record) { r.Data = []byte("y") }, "Data"},
		{"pointer to nil", func(r *record) { r.Inner.At = nil }, "Inner.At"},
		{"pointed-to time", func(r *record) { r.Inner.At = ptr(at.Add(time.Second)) }, "Inner.At"},
		{"slice element", func(r *record) { r.Inner.Names = []string{"m"} }, "Inner.Names[0]"},
		{"map", func(r *record) { r.Map = map[string]string{"k": "w"} }, "Map"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := base
			c.edit(&got)
			d := diff(got, base)
			switch {
			case c.field == "" && len(d) > 0:
				t.Fatalf("want no difference, got %v", d)
			case c.field != "" && (len(d) == 0 || !strings.HasPrefix(d[0], c.field+":")):
				t.Fatalf("want a difference in %s, got %v", c.field, d)
			}
		})
	}
	empty := base
	empty.Inner.Names, empty.Data, empty.Map = []string{}, []byte{}, map[string]string{}
	none := base
	none.Inner.Names, none.Data, none.Map = nil, nil, nil
	if d := diff(empty, none); len(d) > 0 {
		t.Fatalf("empty and nil slices and maps: want equal, got %v", d)
	}
}

// TestClock checks that the fake clock moves only when advanced, and is safe
// for concurrent use.
func TestClock(t *testing.T) {
	c := NewClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("new clock: want %s, got %s", start, c.Now())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	if want := start.Add(10 * time.Second); !c.Now().Equal(want) {
		t.Fatalf("after 10 advances of 1s: want %s, got %s", want, c.Now())
	}
}
