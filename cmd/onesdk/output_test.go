package main

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/onesdk-go/onesdk"
)

// What the printers write: an empty list as [] in JSON, whatever the SDK
// returned, and as a bare header in a table; columns two spaces apart.
// Right aligned, every cell is padded on its left, and a row ends with an
// empty cell so that its last column is aligned too.
func TestPrinters(t *testing.T) {
	header := []string{"ID", "CONTEXT"}
	cells := func(m onesdk.Model) []string { return []string{m.ID, strconv.Itoa(m.ContextLength)} }
	var fields table
	fields.field("id", "x")
	fields.field("context length", "8192")
	amounts := table{flags: tabwriter.AlignRight}
	amounts.row("cash:", "1.5", "USD", "")
	amounts.row("voucher:", "10", "USD", "")
	for _, tc := range []struct {
		name  string
		print func(io.Writer) error
		want  string
	}{
		{"empty list, --json", func(w io.Writer) error {
			return printList(&app{jsonOut: true}, w, []onesdk.Model(nil), header, cells)
		}, "{\n  \"data\": [],\n  \"object\": \"list\"\n}\n"},
		{"empty list", func(w io.Writer) error {
			return printList(&app{}, w, []onesdk.Model(nil), header, cells)
		}, "ID  CONTEXT\n"},
		{"fields", fields.write, "id:              x\ncontext length:  8192\n"},
		{"amounts", amounts.write, "     cash:  1.5  USD\n  voucher:   10  USD\n"},
	} {
		var b bytes.Buffer
		if err := tc.print(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s: printed %q, want %q", tc.name, b.String(), tc.want)
		}
	}
}

// The list commands print an empty list as [] and a bare header.
func TestEmptyLists(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		args   []string
		header string
	}{
		{[]string{"cache", "list"}, "ID STATUS TOKENS EXPIRES NAME METADATA"},
		{[]string{"cache", "list", "--all"}, "ID STATUS TOKENS EXPIRES NAME METADATA"},
		{[]string{"tag", "list"}, "TAG CACHE CREATED"},
		{[]string{"tag", "list", "--all"}, "TAG CACHE CREATED"},
		{[]string{"files", "list"}, "ID NAME BYTES STATUS CREATED"},
	} {
		if l := decodeOne[struct{ Data []any }](t, []byte(e.run(t, append([]string{"--json"}, tc.args...)...).mustOK(t).stdout)); l.Data == nil || len(l.Data) != 0 {
			t.Errorf("%v --json: data %v, want []", tc.args, l.Data)
		}
		if out := e.run(t, tc.args...).mustOK(t).stdout; strings.Join(strings.Fields(out), " ") != tc.header || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: printed %q, want the header %q alone", tc.args, out, tc.header)
		}
	}
}
