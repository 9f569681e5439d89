package kimitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The excel formula: a _plugin of 17 functions over the account's
// uploaded CSV, TSV and XLSX files (the first row is the header), each
// called as "excel.<function>" with a file_id and, for workbooks, a
// sheet_name (default the first sheet). The parameters are the
// platform's (formula_catalog.json). The live tool runs pandas; the
// emulator computes the same operations the way pandas does (a column is
// numeric when all its cells are, groups come sorted by key, std is the
// sample deviation, quantiles interpolate linearly, NaN is skipped), and
// reads filter queries and add_column expressions in the pandas
// query/eval syntax: comparisons, and/or/not (& | ~), in lists,
// arithmetic, backquoted column names and .str.contains/startswith/
// endswith. The live outputs' layout is not public, so the plain-text
// tables are the emulator's own. Failures are outputs starting "ERROR: ",
// as the live lambda reports its own ("File <id> is empty or not found").

// Bounds of the excel functions.
const (
	excelMaxBytes  = 8 << 20
	excelMaxRows   = 100000
	excelMaxOutput = 16 << 10
	excelMaxCell   = 200      // characters of a cell shown in a table
	excelMaxText   = 32 << 20 // bytes of text one expression may build over all rows
	excelMaxExpr   = 1000
	excelMaxSteps  = 20
)

type excelTable struct {
	header []string
	rows   [][]string
	// kinds caches colKind per column (0: not yet known). A subset of
	// the rows keeps its table's kinds, as a pandas frame keeps its
	// dtypes when filtered.
	kinds []byte
}

// subset is t with other rows (filtered, sorted, sampled), same columns
// and dtypes.
func (t *excelTable) subset(rows [][]string) *excelTable {
	for i := range t.header {
		t.colKind(i)
	}
	return &excelTable{header: t.header, rows: rows, kinds: t.kinds}
}

type excelBook struct {
	filename string
	csv      bool // sheet_name is ignored
	sheets   []string
	tables   []*excelTable
}

func loadExcel(files *fileStore, id string) (*excelBook, string) {
	notFound := fmt.Sprintf("ERROR: File %s is empty or not found", id)
	files.mu.Lock()
	f := files.files[id]
	files.mu.Unlock()
	if f == nil || f.data == nil || f.data.size == 0 {
		return nil, notFound
	}
	if f.data.size > excelMaxBytes {
		return nil, fmt.Sprintf("ERROR: File %s is larger than %d bytes", id, excelMaxBytes)
	}
	r, err := f.data.open()
	if err != nil {
		return nil, notFound
	}
	defer r.Close()
	data, _ := io.ReadAll(io.LimitReader(r, excelMaxBytes))
	book := &excelBook{filename: f.filename}
	if bytes.HasPrefix(data, []byte("PK")) {
		sheets, err := xlsxWorkbook(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, "ERROR: cannot read the workbook: " + err.Error()
		}
		for _, s := range sheets {
			var records [][]string
			for _, line := range s.rows {
				records = append(records, strings.Split(line, "\t"))
			}
			book.sheets = append(book.sheets, s.name)
			book.tables = append(book.tables, newExcelTable(records))
		}
		if len(sheets) == 0 {
			return nil, notFound
		}
		return book, ""
	}
	cr := csv.NewReader(bytes.NewReader(data))
	if strings.HasSuffix(strings.ToLower(f.filename), ".tsv") {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, "ERROR: cannot read the CSV: " + err.Error()
	}
	if len(records) == 0 {
		return nil, notFound
	}
	book.csv, book.sheets = true, []string{"Sheet1"}
	book.tables = []*excelTable{newExcelTable(records)}
	return book, ""
}

// newExcelTable takes the first record as the header (blank names become
// "Unnamed: i", as pandas names them) and pads or cuts the rows to it.
func newExcelTable(records [][]string) *excelTable {
	if len(records) > excelMaxRows+1 {
		records = records[:excelMaxRows+1]
	}
	t := &excelTable{}
	if len(records) == 0 {
		return t
	}
	t.header = slices.Clone(records[0])
	for i, h := range t.header {
		if strings.TrimSpace(h) == "" {
			t.header[i] = "Unnamed: " + strconv.Itoa(i)
		}
	}
	t.rows = records[1:]
	for i, row := range t.rows {
		for len(row) < len(t.header) {
			row = append(row, "")
		}
		t.rows[i] = row[:len(t.header)]
	}
	return t
}

// sheet picks the named sheet, or the first.
func (b *excelBook) sheet(name string) (*excelTable, string) {
	if name == "" {
		return b.tables[0], ""
	}
	if i := slices.Index(b.sheets, name); i >= 0 {
		return b.tables[i], ""
	}
	if b.csv {
		return b.tables[0], ""
	}
	return nil, fmt.Sprintf("ERROR: Worksheet named %q not found (sheets: %s)", name, strings.Join(b.sheets, ", "))
}

// runExcel runs one function; its answer is at most excelMaxOutput bytes
// and a line saying it was cut.
func runExcel(ctx context.Context, files *fileStore, fn string, args map[string]json.RawMessage) string {
	out := excelAnswer(ctx, files, fn, args)
	if len(out) > excelMaxOutput {
		out = truncUTF8(out, excelMaxOutput) + "\n… (output truncated)"
	}
	return out
}

func excelAnswer(ctx context.Context, files *fileStore, fn string, args map[string]json.RawMessage) string {
	book, errText := loadExcel(files, argString(args, "file_id", ""))
	if book == nil {
		return errText
	}
	switch fn {
	case "list_sheets":
		var b strings.Builder
		fmt.Fprintf(&b, "%d sheet(s)", len(book.sheets))
		for i, name := range book.sheets {
			t := book.tables[i]
			fmt.Fprintf(&b, "\n%s: %d rows × %d columns", name, len(t.rows), len(t.header))
			if len(t.header) > 0 {
				b.WriteString(" (" + strings.Join(t.header, ", ") + ")")
			}
		}
		return b.String()
	case "read_file":
		t, e := book.sheet(argString(args, "sheet_name", ""))
		if e != "" {
			return e
		}
		return t.info(book.filename)
	}
	t, e := book.sheet(argString(args, "sheet_name", ""))
	if e != "" {
		return e
	}
	t = t.subset(t.rows)
	if fn != "pipe" {
		out, scalar, e := t.apply(ctx, fn, args)
		if e != "" {
			return e
		}
		if out == nil {
			return scalar
		}
		return out.render()
	}
	var ops []struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if err := json.Unmarshal(args["operations"], &ops); err != nil || len(ops) == 0 || len(ops) > excelMaxSteps {
		return fmt.Sprintf("ERROR: operations must be a list of 1 to %d operations, each {\"name\", \"arguments\"}", excelMaxSteps)
	}
	debug := argBool(args, "debug")
	var steps []string
	result := ""
	for i, op := range ops {
		if !slices.Contains(pipeOperations, op.Name) {
			return fmt.Sprintf("ERROR: operation %d: unknown operation %q (pipe supports: %s)", i+1, op.Name, strings.Join(pipeOperations, ", "))
		}
		out, scalar, e := t.apply(ctx, op.Name, op.Arguments)
		if e != "" {
			return fmt.Sprintf("ERROR: operation %d (%s): %s", i+1, op.Name, strings.TrimPrefix(e, "ERROR: "))
		}
		if out == nil && i < len(ops)-1 {
			return fmt.Sprintf("ERROR: operation %d (%s) returns a value, not a table: it must be the last", i+1, op.Name)
		}
		if out != nil {
			t, result = out, out.render()
		} else {
			result = scalar
		}
		if debug {
			steps = append(steps, fmt.Sprintf("Step %d: %s\n%s", i+1, op.Name, result))
		}
	}
	if debug {
		return strings.Join(steps, "\n\n")
	}
	return result
}

// pipeOperations are the functions a pipe chains (the schema's enum).
var pipeOperations = []string{"groupby", "orderby", "filter", "head", "describe", "inspect", "value_counts", "correlation",
	"sample", "select", "count", "sum", "distinct", "add_column"}

// colKind is a column's dtype as pandas infers it: 'i' int64, 'f'
// float64, 'b' bool, 'o' object (text). Empty cells are NaN: they make an
// int column float and do not count otherwise; a column of nothing but
// empty cells is float64, an empty table's columns object.
func (t *excelTable) colKind(i int) byte {
	if len(t.kinds) != len(t.header) {
		t.kinds = make([]byte, len(t.header))
	}
	if t.kinds[i] == 0 {
		t.kinds[i] = t.inferKind(i)
	}
	return t.kinds[i]
}

func (t *excelTable) inferKind(i int) byte {
	if len(t.rows) == 0 {
		return 'o'
	}
	allBool, allInt, allNum, empty, any := true, true, true, false, false
	for _, r := range t.rows {
		c := r[i]
		if c == "" {
			empty = true
			continue
		}
		any = true
		if _, ok := pyBool(c); !ok {
			allBool = false
		}
		if v, ok := num(c); !ok {
			allNum, allInt = false, false
		} else if v != math.Trunc(v) || strings.ContainsAny(c, ".eEnN") {
			allInt = false
		}
		if !allBool && !allNum {
			return 'o'
		}
	}
	switch {
	case !any || allNum && (!allInt || empty):
		return 'f'
	case allNum:
		return 'i'
	case allBool && !empty:
		return 'b'
	}
	return 'o'
}

func pyBool(s string) (bool, bool) {
	switch s {
	case "True", "TRUE", "true":
		return true, true
	case "False", "FALSE", "false":
		return false, true
	}
	return false, false
}

func numericKind(k byte) bool { return k == 'i' || k == 'f' }

// normCell is a cell as a key of a column of kind k: in a numeric column
// 3, 3.0 and 3.00 are one value, as pandas reads them.
func normCell(c string, k byte) string {
	if v, ok := num(c); ok && numericKind(k) {
		return fmtNum(v)
	}
	return c
}

var dtypeName = map[byte]string{'i': "int64", 'f': "float64", 'b': "bool", 'o': "object"}

func (t *excelTable) col(name string) (int, string) {
	i := slices.Index(t.header, strings.TrimSpace(name))
	if i < 0 {
		return -1, fmt.Sprintf("ERROR: column %q not found (columns: %s)", name, strings.Join(t.header, ", "))
	}
	return i, ""
}

// cols reads a column list, comma-separated as the schema says (a JSON
// array is accepted too).
func (t *excelTable) cols(args map[string]json.RawMessage, key string) ([]int, string) {
	var names []string
	if json.Unmarshal(args[key], &names) != nil {
		for n := range strings.SplitSeq(argString(args, key, ""), ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Sprintf("ERROR: %s must name at least one column", key)
	}
	var idx []int
	for _, n := range names {
		i, e := t.col(n)
		if e != "" {
			return nil, e
		}
		idx = append(idx, i)
	}
	return idx, ""
}

func (t *excelTable) project(idx []int, rows [][]string) *excelTable {
	out := &excelTable{}
	for _, i := range idx {
		out.header = append(out.header, t.header[i])
		out.kinds = append(out.kinds, t.colKind(i))
	}
	for _, r := range rows {
		row := make([]string, len(idx))
		for k, i := range idx {
			row[k] = r[i]
		}
		out.rows = append(out.rows, row)
	}
	return out
}

func num(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil && !math.IsNaN(v)
}

func (t *excelTable) numbers(i int) []float64 {
	var vs []float64
	for _, r := range t.rows {
		if v, ok := num(r[i]); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// render is the table as aligned text: a header line, then the rows,
// NaN for empty cells, each cell cut at excelMaxCell characters and the
// rows cut before the text would pass excelMaxOutput.
func (t *excelTable) render() string {
	// A table too wide for the budget shows its first columns.
	cols, w := 0, 0
	for _, h := range t.header {
		if w += min(utf8.RuneCountInString(h), excelMaxCell) + 2; w > excelMaxOutput {
			break
		}
		cols++
	}
	if cols < len(t.header) {
		idx := make([]int, cols)
		for i := range idx {
			idx[i] = i
		}
		return t.project(idx, t.rows).render() + fmt.Sprintf(" (%d more columns not shown)", len(t.header)-cols)
	}
	cut := func(c string, body bool) string {
		if c == "" && body {
			return "NaN"
		}
		if utf8.RuneCountInString(c) > excelMaxCell {
			return string([]rune(c)[:excelMaxCell-1]) + "…"
		}
		return c
	}
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(cut(h, false))
	}
	// Every line is as wide as the widest cells shown, so a row that
	// widens a column widens all the others: count the whole text.
	shown := 0
	next := make([]int, len(widths))
	for _, r := range t.rows {
		total := 0
		for i, c := range r {
			next[i] = max(widths[i], utf8.RuneCountInString(cut(c, true)))
			total += next[i] + 2
		}
		if (shown+2)*total > excelMaxOutput {
			break
		}
		copy(widths, next)
		shown++
	}
	var b strings.Builder
	line := func(cells []string, body bool) {
		var l strings.Builder
		for i, c := range cells {
			c = cut(c, body)
			if i > 0 {
				l.WriteString("  ")
			}
			l.WriteString(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(t.header, false)
	for _, r := range t.rows[:shown] {
		line(r, true)
	}
	if shown < len(t.rows) {
		fmt.Fprintf(&b, "… (%d more rows)\n", len(t.rows)-shown)
	}
	fmt.Fprintf(&b, "[%d rows × %d columns]", len(t.rows), len(t.header))
	return b.String()
}

// info is read_file's summary: size, columns and their types, missing
// values, duplicate rows.
func (t *excelTable) info(filename string) string {
	var b strings.Builder
	mem := 0
	missing := 0
	for _, r := range t.rows {
		for _, c := range r {
			mem += len(c)
			if c == "" {
				missing++
			}
		}
	}
	seen := map[string]bool{}
	dups := 0
	for _, r := range t.rows {
		k := strings.Join(r, "\x00")
		if seen[k] {
			dups++
		}
		seen[k] = true
	}
	fmt.Fprintf(&b, "File: %s\nRows: %d\nColumns: %d\nColumn names: %s\nData types:\n", filename, len(t.rows), len(t.header), strings.Join(t.header, ", "))
	for i, h := range t.header {
		empty := 0
		for _, r := range t.rows {
			if r[i] == "" {
				empty++
			}
		}
		fmt.Fprintf(&b, "  %s: %s (%d missing)\n", h, dtypeName[t.colKind(i)], empty)
	}
	fmt.Fprintf(&b, "Memory usage: %d bytes\nMissing values: %d\nDuplicate rows: %d", mem, missing, dups)
	return b.String()
}

// apply runs one function on t. A function that gives a table returns it
// (so that pipe can chain it); count and sum return a value.
func (t *excelTable) apply(ctx context.Context, fn string, args map[string]json.RawMessage) (*excelTable, string, string) {
	if args == nil {
		args = map[string]json.RawMessage{}
	}
	limit := func(rows [][]string) [][]string {
		if n, ok := args["limit"]; ok && string(n) != "null" {
			if l := argInt(args, "limit", 0); l >= 0 && int(l) < len(rows) {
				return rows[:l]
			}
		}
		return rows
	}
	switch fn {
	case "count":
		if argString(args, "column", "") == "" {
			return nil, strconv.Itoa(len(t.rows)), ""
		}
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return nil, "", e
		}
		n := 0
		for _, r := range t.rows {
			if r[i] != "" {
				n++
			}
		}
		return nil, strconv.Itoa(n), ""
	case "sum":
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return nil, "", e
		}
		k := t.colKind(i)
		if !numericKind(k) {
			return nil, "", fmt.Sprintf("ERROR: column %q is not numeric (dtype %s)", t.header[i], dtypeName[k])
		}
		s := 0.0
		for _, v := range t.numbers(i) {
			s += v
		}
		return nil, fmtNum(s), ""
	case "head":
		n := int(argInt(args, "n", 5))
		switch {
		case n < 0:
			n = max(0, len(t.rows)+n)
		case n > len(t.rows):
			n = len(t.rows)
		}
		return t.subset(t.rows[:n]), "", ""
	case "sample":
		return t.sample(args)
	case "select":
		idx, e := t.cols(args, "columns")
		if e != "" {
			return nil, "", e
		}
		return t.project(idx, t.rows), "", ""
	case "distinct":
		idx, e := t.cols(args, "columns")
		if e != "" {
			return nil, "", e
		}
		p := t.project(idx, t.rows)
		for k := range p.header {
			kind := p.colKind(k)
			for _, r := range p.rows {
				r[k] = normCell(r[k], kind)
			}
		}
		seen := map[string]bool{}
		var rows [][]string
		for _, r := range p.rows {
			k := strings.Join(r, "\x00")
			if !seen[k] {
				seen[k] = true
				rows = append(rows, r)
			}
		}
		p.rows = rows
		return p, "", ""
	case "value_counts":
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return nil, "", e
		}
		counts := map[string]int{}
		var order []string
		kind := t.colKind(i)
		for _, r := range t.rows {
			if r[i] == "" {
				continue
			}
			v := normCell(r[i], kind)
			if counts[v] == 0 {
				order = append(order, v)
			}
			counts[v]++
		}
		sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] > counts[order[b]] })
		if n := int(argInt(args, "top_n", 10)); n >= 0 && n < len(order) {
			order = order[:n]
		}
		out := &excelTable{header: []string{t.header[i], "count"}}
		for _, v := range order {
			out.rows = append(out.rows, []string{v, strconv.Itoa(counts[v])})
		}
		return out, "", ""
	case "describe":
		return t.describe(), "", ""
	case "inspect":
		return nil, t.inspect(), ""
	case "correlation":
		return t.correlation(argString(args, "method", "pearson"))
	case "orderby":
		idx, e := t.cols(args, "by")
		if e != "" {
			return nil, "", e
		}
		desc := argBool(args, "desc")
		kinds := make([]byte, len(idx))
		for k, i := range idx {
			kinds[k] = t.colKind(i)
		}
		rows := slices.Clone(t.rows)
		sort.SliceStable(rows, func(a, b int) bool {
			for k, i := range idx {
				x, y := rows[a][i], rows[b][i]
				if x == "" || y == "" { // NaN last, whatever the direction
					if x != y {
						return y == ""
					}
					continue
				}
				c := compareCells(x, y, kinds[k])
				if c != 0 {
					return (c < 0) != desc
				}
			}
			return false
		})
		return t.subset(limit(rows)), "", ""
	case "filter":
		q := argString(args, "query", "")
		ex, e := t.compile(q)
		if e != "" {
			return nil, "", e
		}
		vals, e := t.eval(ctx, ex)
		if e != "" {
			return nil, "", e
		}
		var rows [][]string
		for n, v := range vals {
			if v.kind != 'b' && v.kind != 'z' {
				return nil, "", fmt.Sprintf("ERROR: the query %q is not a condition", q)
			}
			if v.b {
				rows = append(rows, t.rows[n])
			}
		}
		return t.subset(limit(rows)), "", ""
	case "add_column":
		name := strings.TrimSpace(argString(args, "column_name", ""))
		if name == "" {
			return nil, "", "ERROR: column_name must not be empty"
		}
		ex, e := t.compile(argString(args, "expression", ""))
		if e != "" {
			return nil, "", e
		}
		out := &excelTable{header: slices.Clone(t.header)}
		at := slices.Index(out.header, name)
		if at < 0 {
			out.header = append(out.header, name)
		}
		vals, e := t.eval(ctx, ex)
		if e != "" {
			return nil, "", e
		}
		for n, r := range t.rows {
			v := vals[n]
			row := slices.Clone(r)
			if at < 0 {
				row = append(row, v.cell())
			} else {
				row[at] = v.cell()
			}
			out.rows = append(out.rows, row)
		}
		return out, "", ""
	case "groupby":
		return t.groupby(args, limit)
	}
	return nil, "", fmt.Sprintf("ERROR: unknown function %q", fn)
}

// eval is ex's value for every row.
func (t *excelTable) eval(ctx context.Context, ex xexpr) ([]xval, string) {
	vals := make([]xval, len(t.rows))
	for n, r := range t.rows {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, "ERROR: cancelled"
		}
		v, err := ex(r)
		if err != "" {
			return nil, "ERROR: " + err
		}
		vals[n] = v
	}
	return vals, ""
}

// compareCells orders two non-empty cells of a column of kind k.
func compareCells(x, y string, k byte) int {
	if numericKind(k) {
		a, _ := num(x)
		b, _ := num(y)
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	if k == 'b' {
		a, _ := pyBool(x)
		b, _ := pyBool(y)
		switch {
		case a == b:
			return 0
		case b:
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

func (t *excelTable) sample(args map[string]json.RawMessage) (*excelTable, string, string) {
	_, hasN := args["n"]
	_, hasFrac := args["frac"]
	replace := argBool(args, "replace")
	n := 1
	switch {
	case hasN && hasFrac:
		return nil, "", "ERROR: Please enter a value for `frac` OR `n`, not both"
	case hasFrac:
		f := argFloat(args, "frac", 0)
		if f < 0 {
			return nil, "", "ERROR: A negative number of rows requested. Please provide `n` >= 0."
		}
		if f > 1 && !replace {
			return nil, "", "ERROR: Replace has to be set to `True` when upsampling the population `frac` > 1."
		}
		n = int(math.RoundToEven(f * float64(len(t.rows)))) // Python's round()
	case hasN:
		n = int(argInt(args, "n", 1))
	}
	if n < 0 {
		return nil, "", "ERROR: A negative number of rows requested. Please provide `n` >= 0."
	}
	if !replace && n > len(t.rows) {
		return nil, "", "ERROR: Cannot take a larger sample than population when 'replace=False'"
	}
	if n > excelMaxRows {
		return nil, "", fmt.Sprintf("ERROR: at most %d rows", excelMaxRows)
	}
	if len(t.rows) == 0 {
		return t.subset(nil), "", ""
	}
	rng := rand.New(rand.NewPCG(uint64(argInt(args, "random_state", 0)), 7))
	rows := make([][]string, 0, n)
	if replace {
		for range n {
			rows = append(rows, t.rows[rng.IntN(len(t.rows))])
		}
	} else {
		for _, i := range rng.Perm(len(t.rows))[:n] {
			rows = append(rows, t.rows[i])
		}
	}
	return t.subset(rows), "", ""
}

func (t *excelTable) describe() *excelTable {
	var numeric []int
	for i := range t.header {
		if numericKind(t.colKind(i)) {
			numeric = append(numeric, i)
		}
	}
	out := &excelTable{header: []string{""}}
	if len(numeric) == 0 { // pandas describes the text columns instead
		out.rows = [][]string{{"count"}, {"unique"}, {"top"}, {"freq"}}
		for i, h := range t.header {
			out.header = append(out.header, h)
			counts := map[string]int{}
			var order []string
			n, top := 0, ""
			for _, r := range t.rows {
				if r[i] == "" {
					continue
				}
				n++
				if counts[r[i]] == 0 {
					order = append(order, r[i])
				}
				counts[r[i]]++
			}
			for _, v := range order { // the most frequent; the first seen on a tie
				if counts[v] > counts[top] {
					top = v
				}
			}
			out.rows[0] = append(out.rows[0], strconv.Itoa(n))
			out.rows[1] = append(out.rows[1], strconv.Itoa(len(counts)))
			out.rows[2] = append(out.rows[2], top)
			out.rows[3] = append(out.rows[3], strconv.Itoa(counts[top]))
		}
		return out
	}
	stats := []string{"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
	for _, s := range stats {
		out.rows = append(out.rows, []string{s})
	}
	for _, i := range numeric {
		out.header = append(out.header, t.header[i])
		vs := t.numbers(i)
		slices.Sort(vs)
		mean, sd := meanStd(vs)
		vals := []float64{float64(len(vs)), mean, sd, quantile(vs, 0), quantile(vs, .25), quantile(vs, .5), quantile(vs, .75), quantile(vs, 1)}
		for k, v := range vals {
			cell := fmtRound(v)
			if len(vs) == 0 && k > 0 || len(vs) < 2 && k == 2 {
				cell = ""
			}
			out.rows[k] = append(out.rows[k], cell)
		}
	}
	return out
}

// quantile of sorted vs, interpolating linearly (pandas' default).
func quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(vs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(vs)-1)
	return vs[lo] + (vs[hi]-vs[lo])*(pos-float64(lo))
}

func (t *excelTable) inspect() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Shape: %d rows × %d columns\n\nColumns:\n", len(t.rows), len(t.header))
	var groupable, category, empty []string
	for i, h := range t.header {
		k := t.colKind(i)
		missing := 0
		distinct := map[string]bool{}
		for _, r := range t.rows {
			if r[i] == "" {
				missing++
			} else {
				distinct[r[i]] = true
			}
		}
		pct := 0.0
		if len(t.rows) > 0 {
			pct = 100 * float64(missing) / float64(len(t.rows))
		}
		fmt.Fprintf(&b, "  %s: %s, %d unique, %d missing (%s%%)", h, dtypeName[k], len(distinct), missing, fmtNum(math.Round(pct*10)/10))
		if numericKind(k) {
			if vs := t.numbers(i); len(vs) > 0 {
				mean, _ := meanStd(vs)
				fmt.Fprintf(&b, ", min %s, max %s, mean %s", fmtNum(slices.Min(vs)), fmtNum(slices.Max(vs)), fmtRound(mean))
			}
		}
		b.WriteString("\n")
		switch {
		case len(distinct) == 0:
			empty = append(empty, h)
		case k == 'o' && len(distinct) <= 50 && len(distinct) < len(t.rows):
			groupable = append(groupable, h)
			if len(distinct)*2 <= len(t.rows) {
				category = append(category, h)
			}
		}
	}
	b.WriteString("\nGrouping suggestions: ")
	if len(groupable) == 0 {
		b.WriteString("none")
	} else {
		b.WriteString("group by " + strings.Join(groupable, ", "))
	}
	b.WriteString("\nOptimization suggestions: ")
	var tips []string
	if len(category) > 0 {
		tips = append(tips, "store "+strings.Join(category, ", ")+" as category")
	}
	if len(empty) > 0 {
		tips = append(tips, "drop the empty columns "+strings.Join(empty, ", "))
	}
	if len(tips) == 0 {
		tips = []string{"none"}
	}
	b.WriteString(strings.Join(tips, "; "))
	return b.String()
}

func (t *excelTable) correlation(method string) (*excelTable, string, string) {
	if method == "" {
		method = "pearson"
	}
	if method != "pearson" && method != "kendall" && method != "spearman" {
		return nil, "", fmt.Sprintf("ERROR: method must be either 'pearson', 'spearman', 'kendall', or a callable, '%s' was supplied", method)
	}
	var numeric []int
	for i := range t.header {
		if numericKind(t.colKind(i)) {
			numeric = append(numeric, i)
		}
	}
	if len(numeric) == 0 {
		return nil, "", "ERROR: no numeric columns to correlate"
	}
	out := &excelTable{header: []string{""}}
	for _, i := range numeric {
		out.header = append(out.header, t.header[i])
	}
	for _, i := range numeric {
		row := []string{t.header[i]}
		for _, j := range numeric {
			var xs, ys []float64
			for _, r := range t.rows {
				x, ok1 := num(r[i])
				y, ok2 := num(r[j])
				if ok1 && ok2 {
					xs, ys = append(xs, x), append(ys, y)
				}
			}
			c := math.NaN()
			switch method {
			case "pearson":
				c = pearson(xs, ys)
			case "spearman":
				c = pearson(ranks(xs), ranks(ys))
			case "kendall":
				c = kendall(xs, ys)
			}
			cell := ""
			if !math.IsNaN(c) {
				cell = fmtRound(c)
			}
			row = append(row, cell)
		}
		out.rows = append(out.rows, row)
	}
	return out, "", ""
}

func pearson(xs, ys []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	mx, sx := meanStd(xs)
	my, sy := meanStd(ys)
	if sx == 0 || sy == 0 {
		return math.NaN()
	}
	c := 0.0
	for k := range xs {
		c += (xs[k] - mx) * (ys[k] - my)
	}
	return c / float64(len(xs)-1) / sx / sy
}

// ranks are average ranks, ties sharing theirs.
func ranks(vs []float64) []float64 {
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return vs[idx[a]] < vs[idx[b]] })
	r := make([]float64, len(vs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && vs[idx[j+1]] == vs[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// kendall is Kendall's tau-b, as pandas computes it; quadratic, so it is
// bounded to the first 5,000 pairs of values.
func kendall(xs, ys []float64) float64 {
	n := min(len(xs), 5000)
	if n < 2 {
		return math.NaN()
	}
	var conc, disc, tx, ty float64
	for i := range n {
		for j := i + 1; j < n; j++ {
			dx, dy := xs[i]-xs[j], ys[i]-ys[j]
			switch {
			case dx == 0 && dy == 0:
			case dx == 0:
				tx++
			case dy == 0:
				ty++
			case dx*dy > 0:
				conc++
			default:
				disc++
			}
		}
	}
	d := math.Sqrt((conc + disc + tx) * (conc + disc + ty))
	if d == 0 {
		return math.NaN()
	}
	return (conc - disc) / d
}

var aggFuncs = []string{"sum", "mean", "count", "min", "max", "std", "median"}

func (t *excelTable) groupby(args map[string]json.RawMessage, limit func([][]string) [][]string) (*excelTable, string, string) {
	by, e := t.cols(args, "by")
	if e != "" {
		return nil, "", e
	}
	type aggSpec struct {
		col int
		fn  string
	}
	var specs []aggSpec
	var names []string
	add := func(c int, fn string) string {
		if !slices.Contains(aggFuncs, fn) {
			return fmt.Sprintf("ERROR: unknown aggregation %q (use %s)", fn, strings.Join(aggFuncs, ", "))
		}
		if fn != "count" && fn != "min" && fn != "max" && !numericKind(t.colKind(c)) {
			return fmt.Sprintf("ERROR: cannot compute %s of column %q: it is not numeric", fn, t.header[c])
		}
		specs = append(specs, aggSpec{c, fn})
		return ""
	}
	keys, err := orderedKeys(args["agg"])
	if err != nil || len(keys) == 0 {
		return nil, "", `ERROR: agg must be an object such as {"sales": "sum"}`
	}
	for _, kv := range keys {
		c, e := t.col(kv.key)
		if e != "" {
			return nil, "", e
		}
		var fn string
		var fns []string
		switch {
		case json.Unmarshal(kv.value, &fn) == nil:
			if e := add(c, fn); e != "" {
				return nil, "", e
			}
			names = append(names, t.header[c])
		case json.Unmarshal(kv.value, &fns) == nil && len(fns) > 0:
			for _, f := range fns {
				if e := add(c, f); e != "" {
					return nil, "", e
				}
				names = append(names, t.header[c]+"_"+f)
			}
		default:
			return nil, "", fmt.Sprintf("ERROR: agg of %q must be a function name or a list of them", kv.key)
		}
	}
	kinds := make([]byte, len(by))
	for k, i := range by {
		kinds[k] = t.colKind(i)
	}
	groups := map[string][][]string{}
	var order [][]string
	for _, r := range t.rows {
		key := make([]string, len(by))
		skip := false
		for k, i := range by {
			key[k] = normCell(r[i], kinds[k])
			skip = skip || r[i] == "" // pandas drops NaN keys
		}
		if skip {
			continue
		}
		id := strings.Join(key, "\x00")
		if _, ok := groups[id]; !ok {
			order = append(order, key)
		}
		groups[id] = append(groups[id], r)
	}
	sort.SliceStable(order, func(a, b int) bool {
		for k := range by {
			if c := compareCells(order[a][k], order[b][k], kinds[k]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	out := &excelTable{}
	for _, i := range by {
		out.header = append(out.header, t.header[i])
	}
	out.header = append(out.header, names...)
	for _, key := range order {
		rows := groups[strings.Join(key, "\x00")]
		row := slices.Clone(key)
		for _, s := range specs {
			sub := &excelTable{rows: rows}
			vs := sub.numbers(s.col)
			cell := ""
			switch s.fn {
			case "count":
				n := 0
				for _, r := range rows {
					if r[s.col] != "" {
						n++
					}
				}
				cell = strconv.Itoa(n)
			case "sum":
				v := 0.0
				for _, x := range vs {
					v += x
				}
				cell = fmtRound(v)
			case "mean", "std", "median":
				if len(vs) > 0 {
					m, sd := meanStd(vs)
					switch s.fn {
					case "mean":
						cell = fmtRound(m)
					case "std":
						if len(vs) > 1 {
							cell = fmtRound(sd)
						}
					default:
						slices.Sort(vs)
						cell = fmtRound(quantile(vs, .5))
					}
				}
			case "min", "max":
				var best string
				k := t.colKind(s.col)
				for _, r := range rows {
					c := r[s.col]
					if c == "" {
						continue
					}
					if best == "" || (compareCells(c, best, k) < 0) == (s.fn == "min") && c != best {
						best = c
					}
				}
				cell = best
			}
			row = append(row, cell)
		}
		out.rows = append(out.rows, row)
	}
	out.rows = limit(out.rows)
	return out, "", ""
}

type keyValue struct {
	key   string
	value json.RawMessage
}

// orderedKeys reads a JSON object's members in their order.
func orderedKeys(raw json.RawMessage) ([]keyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object")
	}
	var out []keyValue
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, keyValue{tok.(string), v})
	}
	return out, nil
}

func meanStd(vs []float64) (float64, float64) {
	if len(vs) == 0 {
		return 0, 0
	}
	m := 0.0
	for _, v := range vs {
		m += v
	}
	m /= float64(len(vs))
	if len(vs) < 2 {
		return m, 0
	}
	s := 0.0
	for _, v := range vs {
		s += (v - m) * (v - m)
	}
	return m, math.Sqrt(s / float64(len(vs)-1))
}

func fmtRound(v float64) string {
	if math.IsInf(v, 0) {
		if v > 0 {
			return "inf"
		}
		return "-inf"
	}
	if math.IsNaN(v) {
		return ""
	}
	return fmtNum(math.Round(v*10000) / 10000)
}
