package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

// isTerminal reports whether v is a character device such as a tty. Tests
// pass buffers, which are never terminals.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// useColor reports whether ANSI attributes may be written to w.
func useColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Model output is full of <, > and &; keep it readable.
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSONLine writes v as one compact JSON document on one line (JSON
// Lines), as the session does for each turn.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// cutNote is printed on stderr after an answer that max_tokens cut short;
// with --json the finish_reason in the document says it.
const cutNote = "[answer cut: max tokens reached; raise --max-tokens]"

// noteCut tells on w when the shown answer (choice 0) ended for want of
// tokens, which the answer itself does not show.
func noteCut(w io.Writer, resp *onesdk.Response) {
	if resp != nil && len(resp.Choices) > 0 && resp.Choices[0].FinishReason == kimi.FinishLength {
		fmt.Fprintln(w, cutNote)
	}
}

const (
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

// replyPrinter writes one assistant reply as it arrives: the answer to out,
// the reasoning apart on reason (stderr; nil hides it). Every delta is
// written at once — out is unbuffered — so the answer appears as it is
// generated.
type replyPrinter struct {
	out    io.Writer
	reason io.Writer
	dim    bool

	inReason    bool
	reasonNL    bool // last reasoning written ends with a newline
	wroteText   bool
	textNL      bool // last text written ends with a newline
	reasonError error
}

func (p *replyPrinter) reasoning(s string) {
	if p.reason == nil || s == "" {
		return
	}
	if !p.inReason {
		p.inReason = true
		if p.dim {
			p.writeReason(ansiDim)
		}
	}
	p.writeReason(s)
	p.reasonNL = strings.HasSuffix(s, "\n")
}

// writeReason ignores failures after the first: the answer matters more
// than the reasoning, so a broken stderr must not end the reply.
func (p *replyPrinter) writeReason(s string) {
	if p.reasonError == nil {
		_, p.reasonError = io.WriteString(p.reason, s)
	}
}

func (p *replyPrinter) endReasoning() {
	if !p.inReason {
		return
	}
	p.inReason = false
	if p.dim {
		p.writeReason(ansiReset)
	}
	if !p.reasonNL {
		p.writeReason("\n")
	}
}

func (p *replyPrinter) text(s string) error {
	if s == "" {
		return nil
	}
	p.endReasoning()
	p.wroteText = true
	p.textNL = strings.HasSuffix(s, "\n")
	_, err := io.WriteString(p.out, s)
	return err
}

// finish ends the reply with a newline, also after a failure, so that an
// error message starts on a line of its own.
func (p *replyPrinter) finish() error {
	p.endReasoning()
	if p.wroteText && !p.textNL {
		p.textNL = true
		_, err := io.WriteString(p.out, "\n")
		return err
	}
	return nil
}

// table is the text form of a result: rows of cells, aligned in columns
// two spaces apart. A row that ends with an empty cell closes its last
// column with a tab, which right alignment needs.
type table struct {
	rows  [][]string
	flags uint // tabwriter flags, e.g. tabwriter.AlignRight
}

// row adds a line of cells.
func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// field adds a "name:  value" line, as the commands that show one object
// print them.
func (t *table) field(name, value string) { t.row(name+":", value) }

func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', t.flags)
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// print writes a command's result on w: doc as indented JSON with --json,
// else the table that text fills.
func (a *app) print(w io.Writer, doc any, text func(*table)) error {
	if a.jsonOut {
		return writeJSON(w, doc)
	}
	var t table
	text(&t)
	return t.write(w)
}

// printList writes the rows of a list command: with --json as the API
// lists them, {"object":"list","data":[...]} with [] rather than null when
// there are none; else a table of the header and a line of cells per row.
func printList[T any](a *app, w io.Writer, rows []T, header []string, cells func(T) []string) error {
	if rows == nil {
		rows = []T{}
	}
	return a.print(w, map[string]any{"object": "list", "data": rows}, func(t *table) {
		t.row(header...)
		for _, r := range rows {
			t.row(cells(r)...)
		}
	})
}
