package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...any) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprintln(t.tw)
}

func (t *table) flush() error { return t.tw.Flush() }

// printList prints list as one JSON array of what toJSON makes of each item,
// or as a table: header, then the row of each item.
func printList[T, J any](w io.Writer, asJSON bool, list []T, toJSON func(*T) J, header []any, row func(*T) []any) error {
	if asJSON {
		out := make([]J, len(list))
		for i := range list {
			out[i] = toJSON(&list[i])
		}
		return printJSON(w, out)
	}
	t := newTable(w, header...)
	for i := range list {
		t.row(row(&list[i])...)
	}
	return t.flush()
}
