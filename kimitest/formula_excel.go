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
)

// The excel formula: a _plugin of functions over the account's uploaded
// CSV, TSV and XLSX files (the first row is the header), each called as
// "excel.<function>" with a file_id. Its live schema is known only by its
// function names (each requiring file_id), so the parameters below are
// the emulator's reconstruction, in the spirit of pandas; the outputs are
// plain-text tables. Failures are outputs starting "ERROR: ", as the live
// lambda reports its own ("File <id> is empty or not found").

// excelParams are each function's parameters besides file_id and sheet.
var excelParams = map[string]string{
	"read_file":    ``,
	"list_sheets":  ``,
	"describe":     ``,
	"inspect":      ``,
	"pipe":         `"steps":{"description":"operations to apply in order, each {\"function\":…, …arguments}","items":{"type":"object"},"type":"array"}`,
	"groupby":      `"agg":{"description":"sum, mean, count, min or max (default sum)","type":"string"},"by":{"description":"column to group by","type":"string"},"column":{"description":"column to aggregate","type":"string"}`,
	"orderby":      `"ascending":{"default":true,"type":"boolean"},"column":{"description":"column to sort by","type":"string"}`,
	"filter":       `"column":{"type":"string"},"op":{"description":"==, !=, >, >=, <, <= or contains","type":"string"},"value":{"description":"value to compare with","type":"string"}`,
	"head":         `"n":{"default":5,"description":"rows to show","type":"integer"}`,
	"value_counts": `"column":{"type":"string"}`,
	"correlation":  `"column1":{"type":"string"},"column2":{"type":"string"}`,
	"sample":       `"n":{"default":5,"type":"integer"},"seed":{"type":"integer"}`,
	"select":       `"columns":{"items":{"type":"string"},"type":"array"}`,
	"count":        ``,
	"sum":          `"column":{"type":"string"}`,
	"distinct":     `"column":{"type":"string"}`,
	"add_column":   `"expression":{"description":"arithmetic over columns and numbers, e.g. price * qty","type":"string"},"name":{"type":"string"}`,
}

var excelOrder = []string{"read_file", "list_sheets", "describe", "inspect", "pipe", "groupby", "orderby", "filter", "head",
	"value_counts", "correlation", "sample", "select", "count", "sum", "distinct", "add_column"}

var excelPluginJSON = func() string {
	var fns []string
	for _, name := range excelOrder {
		props := `"file_id":{"description":"id of a file uploaded to the Files API","type":"string"},"sheet":{"description":"sheet name (xlsx; default the first)","type":"string"}`
		if p := excelParams[name]; p != "" {
			props = p + "," + props
		}
		fns = append(fns, fmt.Sprintf(`{"description":"%s on a CSV or Excel file","name":"%s","parameters":{"properties":{%s},"required":["file_id"],"type":"object"}}`,
			strings.ReplaceAll(name, "_", " "), name, props))
	}
	return `{"_plugin":{"description":"Excel and CSV analysis: read, describe, filter, sort, group and compute over an uploaded file","functions":[` +
		strings.Join(fns, ",") + `],"name":"excel"},"type":"_plugin"}`
}()

// Bounds of the excel functions.
const (
	excelMaxBytes  = 8 << 20
	excelMaxRows   = 100000
	excelMaxOutput = 16 << 10
)

type excelTable struct {
	sheets []string
	header []string
	rows   [][]string
}

func loadExcel(files *fileStore, id, sheet string) (*excelTable, string) {
	files.mu.Lock()
	f := files.files[id]
	files.mu.Unlock()
	if f == nil || f.data == nil || f.data.size == 0 {
		return nil, fmt.Sprintf("ERROR: File %s is empty or not found", id)
	}
	if f.data.size > excelMaxBytes {
		return nil, fmt.Sprintf("ERROR: File %s is larger than %d bytes", id, excelMaxBytes)
	}
	r, err := f.data.open()
	if err != nil {
		return nil, fmt.Sprintf("ERROR: File %s is empty or not found", id)
	}
	defer r.Close()
	data, _ := io.ReadAll(io.LimitReader(r, excelMaxBytes))
	t := &excelTable{}
	var records [][]string
	switch {
	case bytes.HasPrefix(data, []byte("PK")):
		text, err := extractXLSX(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, "ERROR: cannot read the workbook: " + err.Error()
		}
		cur := ""
		for line := range strings.Lines(text) {
			line = strings.TrimRight(line, "\r\n")
			if name, ok := strings.CutPrefix(line, "# "); ok {
				t.sheets = append(t.sheets, name)
				cur = name
				continue
			}
			if (sheet == "" && len(t.sheets) == 1) || cur == sheet {
				if line != "" {
					records = append(records, strings.Split(line, "\t"))
				}
			}
		}
		if sheet != "" && !slices.Contains(t.sheets, sheet) {
			return nil, fmt.Sprintf("ERROR: no sheet %q (sheets: %s)", sheet, strings.Join(t.sheets, ", "))
		}
	default:
		cr := csv.NewReader(bytes.NewReader(data))
		if strings.HasSuffix(strings.ToLower(f.filename), ".tsv") {
			cr.Comma = '\t'
		}
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		records, err = cr.ReadAll()
		if err != nil {
			return nil, "ERROR: cannot read the CSV: " + err.Error()
		}
		t.sheets = []string{"Sheet1"}
	}
	if len(records) == 0 {
		return nil, fmt.Sprintf("ERROR: File %s is empty or not found", id)
	}
	if len(records) > excelMaxRows+1 {
		records = records[:excelMaxRows+1]
	}
	t.header, t.rows = records[0], records[1:]
	for i, row := range t.rows {
		for len(row) < len(t.header) {
			row = append(row, "")
		}
		t.rows[i] = row[:len(t.header)]
	}
	return t, ""
}

func (t *excelTable) col(name string) (int, string) {
	i := slices.Index(t.header, name)
	if i < 0 {
		return -1, fmt.Sprintf("ERROR: no column %q (columns: %s)", name, strings.Join(t.header, ", "))
	}
	return i, ""
}

func num(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// render is the table as aligned text, a header line then rows.
func (t *excelTable) render(rows [][]string) string {
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))))
		}
		b.WriteString("\n")
	}
	line(t.header)
	for _, r := range rows {
		line(r)
		if b.Len() > excelMaxOutput {
			b.WriteString("… (output truncated)\n")
			break
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func runExcel(ctx context.Context, files *fileStore, fn string, args map[string]json.RawMessage) string {
	t, errText := loadExcel(files, argString(args, "file_id", ""), argString(args, "sheet", ""))
	if t == nil {
		return errText
	}
	if fn == "pipe" {
		var steps []map[string]json.RawMessage
		if json.Unmarshal(args["steps"], &steps) != nil || len(steps) == 0 || len(steps) > 20 {
			return "ERROR: steps must be a list of 1 to 20 operations"
		}
		out := ""
		for _, s := range steps {
			name := rawString(s["function"])
			if name == "pipe" || excelParams[name] == "" && !slices.Contains(excelOrder, name) {
				return fmt.Sprintf("ERROR: unknown operation %q in pipe", name)
			}
			out = t.apply(name, s)
			if strings.HasPrefix(out, "ERROR: ") {
				return out
			}
		}
		return out
	}
	return t.apply(fn, args)
}

// apply runs one function; the operations that reshape (filter,
// orderby, select, add_column, head, sample) change t, so that pipe can
// chain them, and print the result.
func (t *excelTable) apply(fn string, args map[string]json.RawMessage) string {
	switch fn {
	case "read_file":
		return fmt.Sprintf("%d rows × %d columns\n%s", len(t.rows), len(t.header), t.render(t.rows[:min(5, len(t.rows))]))
	case "list_sheets":
		return strings.Join(t.sheets, "\n")
	case "count":
		return strconv.Itoa(len(t.rows))
	case "inspect":
		var b strings.Builder
		for i, h := range t.header {
			kind, empty := "number", 0
			for _, r := range t.rows {
				if r[i] == "" {
					empty++
				} else if _, ok := num(r[i]); !ok {
					kind = "text"
				}
			}
			fmt.Fprintf(&b, "%s: %s, %d empty\n", h, kind, empty)
		}
		return strings.TrimRight(b.String(), "\n")
	case "head", "sample":
		n := max(0, min(int(argInt(args, "n", 5)), len(t.rows)))
		if fn == "sample" {
			rng := rand.New(rand.NewPCG(uint64(argInt(args, "seed", 0)), 7))
			idx := rng.Perm(len(t.rows))[:n]
			sort.Ints(idx)
			var rows [][]string
			for _, i := range idx {
				rows = append(rows, t.rows[i])
			}
			t.rows = rows
		} else {
			t.rows = t.rows[:n]
		}
		return t.render(t.rows)
	case "select":
		var cols []string
		json.Unmarshal(args["columns"], &cols)
		if len(cols) == 0 {
			return "ERROR: columns must name at least one column"
		}
		var idx []int
		for _, c := range cols {
			i, e := t.col(c)
			if e != "" {
				return e
			}
			idx = append(idx, i)
		}
		rows := make([][]string, len(t.rows))
		for r, row := range t.rows {
			for _, i := range idx {
				rows[r] = append(rows[r], row[i])
			}
		}
		t.header, t.rows = cols, rows
		return t.render(t.rows)
	case "sum", "distinct", "value_counts":
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return e
		}
		switch fn {
		case "sum":
			s := 0.0
			for _, r := range t.rows {
				v, ok := num(r[i])
				if !ok && r[i] != "" {
					return fmt.Sprintf("ERROR: column %q holds %q, not a number", t.header[i], r[i])
				}
				s += v
			}
			return fmtNum(s)
		case "distinct":
			var seen []string
			for _, r := range t.rows {
				if !slices.Contains(seen, r[i]) {
					seen = append(seen, r[i])
				}
			}
			return strings.Join(seen, "\n")
		default:
			counts := map[string]int{}
			var order []string
			for _, r := range t.rows {
				if counts[r[i]] == 0 {
					order = append(order, r[i])
				}
				counts[r[i]]++
			}
			sort.SliceStable(order, func(a, b int) bool { return counts[order[a]] > counts[order[b]] })
			var b strings.Builder
			for _, v := range order {
				fmt.Fprintf(&b, "%s  %d\n", v, counts[v])
			}
			return strings.TrimRight(b.String(), "\n")
		}
	case "describe":
		var b strings.Builder
		b.WriteString("column  count  mean  std  min  max\n")
		for i, h := range t.header {
			var vs []float64
			for _, r := range t.rows {
				if v, ok := num(r[i]); ok {
					vs = append(vs, v)
				}
			}
			if len(vs) == 0 {
				continue
			}
			mean, sd := meanStd(vs)
			fmt.Fprintf(&b, "%s  %d  %s  %s  %s  %s\n", h, len(vs), fmtRound(mean), fmtRound(sd), fmtNum(slices.Min(vs)), fmtNum(slices.Max(vs)))
		}
		return strings.TrimRight(b.String(), "\n")
	case "correlation":
		i, e := t.col(argString(args, "column1", ""))
		if e != "" {
			return e
		}
		j, e := t.col(argString(args, "column2", ""))
		if e != "" {
			return e
		}
		var xs, ys []float64
		for _, r := range t.rows {
			x, ok1 := num(r[i])
			y, ok2 := num(r[j])
			if ok1 && ok2 {
				xs, ys = append(xs, x), append(ys, y)
			}
		}
		mx, sx := meanStd(xs)
		my, sy := meanStd(ys)
		if len(xs) < 2 || sx == 0 || sy == 0 {
			return "ERROR: correlation needs two numeric columns that vary"
		}
		c := 0.0
		for k := range xs {
			c += (xs[k] - mx) * (ys[k] - my)
		}
		return fmtRound(c / float64(len(xs)-1) / sx / sy)
	case "orderby":
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return e
		}
		asc := true
		json.Unmarshal(args["ascending"], &asc)
		sort.SliceStable(t.rows, func(a, b int) bool {
			x, ok1 := num(t.rows[a][i])
			y, ok2 := num(t.rows[b][i])
			less := t.rows[a][i] < t.rows[b][i]
			if ok1 && ok2 {
				less = x < y
			}
			if !asc {
				return !less && t.rows[a][i] != t.rows[b][i]
			}
			return less
		})
		return t.render(t.rows)
	case "filter":
		i, e := t.col(argString(args, "column", ""))
		if e != "" {
			return e
		}
		op, want := argString(args, "op", ""), argString(args, "value", "")
		if want == "" && len(args["value"]) > 0 {
			want = strings.Trim(string(args["value"]), `"`)
		}
		var rows [][]string
		for _, r := range t.rows {
			ok, bad := compare(r[i], op, want)
			if bad {
				return fmt.Sprintf("ERROR: unknown op %q: use ==, !=, >, >=, <, <= or contains", op)
			}
			if ok {
				rows = append(rows, r)
			}
		}
		t.rows = rows
		return t.render(t.rows)
	case "groupby":
		g, e := t.col(argString(args, "by", ""))
		if e != "" {
			return e
		}
		c, e := t.col(argString(args, "column", ""))
		if e != "" {
			return e
		}
		agg := argString(args, "agg", "")
		if agg == "" {
			agg = "sum"
		}
		groups := map[string][]float64{}
		var order []string
		for _, r := range t.rows {
			if _, ok := groups[r[g]]; !ok {
				order = append(order, r[g])
			}
			v, _ := num(r[c])
			groups[r[g]] = append(groups[r[g]], v)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s  %s(%s)\n", t.header[g], agg, t.header[c])
		for _, k := range order {
			vs := groups[k]
			var v float64
			switch agg {
			case "sum":
				for _, x := range vs {
					v += x
				}
			case "mean":
				v, _ = meanStd(vs)
			case "count":
				v = float64(len(vs))
			case "min":
				v = slices.Min(vs)
			case "max":
				v = slices.Max(vs)
			default:
				return fmt.Sprintf("ERROR: unknown agg %q: use sum, mean, count, min or max", agg)
			}
			fmt.Fprintf(&b, "%s  %s\n", k, fmtRound(v))
		}
		return strings.TrimRight(b.String(), "\n")
	case "add_column":
		name, expr := argString(args, "name", ""), argString(args, "expression", "")
		if name == "" || len(expr) == 0 || len(expr) > 200 {
			return "ERROR: add_column needs a name and an expression of at most 200 characters"
		}
		f := strings.Fields(expr)
		if len(f) != 3 || !strings.Contains("+-*/", f[1]) || len(f[1]) != 1 {
			return "ERROR: the expression must be <column or number> <+ - * /> <column or number>"
		}
		operand := func(row []string, s string) (float64, string) {
			if v, ok := num(s); ok {
				return v, ""
			}
			i, e := t.col(s)
			if e != "" {
				return 0, e
			}
			v, _ := num(row[i])
			return v, ""
		}
		t.header = append(slices.Clone(t.header), name)
		for r, row := range t.rows {
			a, e1 := operand(row, f[0])
			b, e2 := operand(row, f[2])
			if e1 != "" || e2 != "" {
				return e1 + e2
			}
			var v float64
			switch f[1] {
			case "+":
				v = a + b
			case "-":
				v = a - b
			case "*":
				v = a * b
			default:
				v = a / b
			}
			t.rows[r] = append(slices.Clone(row), fmtRound(v))
		}
		return t.render(t.rows)
	}
	return fmt.Sprintf("ERROR: unknown function %q", fn)
}

func compare(cell, op, want string) (ok, badOp bool) {
	x, ok1 := num(cell)
	y, ok2 := num(want)
	cmp := strings.Compare(cell, want)
	if ok1 && ok2 {
		cmp = 0
		if x < y {
			cmp = -1
		} else if x > y {
			cmp = 1
		}
	}
	switch op {
	case "==", "=":
		return cmp == 0, false
	case "!=":
		return cmp != 0, false
	case ">":
		return cmp > 0, false
	case ">=":
		return cmp >= 0, false
	case "<":
		return cmp < 0, false
	case "<=":
		return cmp <= 0, false
	case "contains":
		return strings.Contains(cell, want), false
	}
	return false, true
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

func fmtRound(v float64) string { return fmtNum(math.Round(v*10000) / 10000) }
