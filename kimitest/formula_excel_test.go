package kimitest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const salesCSV = "city,product,price,qty\nParis,tea,2.5,4\nLyon,coffee,3,2\nParis,coffee,3,1\nNice,tea,2.5,6\n"

// excelRunner runs excel.<fn> on one uploaded file.
func excelRunner(t *testing.T, srv *Server, id string) func(fn string, args map[string]any) string {
	return func(fn string, args map[string]any) string {
		t.Helper()
		if args == nil {
			args = map[string]any{}
		}
		args["file_id"] = id
		return output(t, srv, "moonshot/excel:latest", "excel."+fn, args)
	}
}

// The 17 excel functions compute on an uploaded CSV, with the live
// schema's parameters, as pandas would.
func TestExcelFunctions(t *testing.T) {
	srv := setup(t)
	run := excelRunner(t, srv, mustUpload(t, srv, "sales.csv", "file-extract", []byte(salesCSV)).ID)
	table := func(lines ...string) string { return strings.Join(lines, "\n") }
	for _, c := range []struct {
		fn   string
		args map[string]any
		want string
	}{
		{"read_file", nil, table("File: sales.csv", "Rows: 4", "Columns: 4", "Column names: city, product, price, qty", "Data types:",
			"  city: object (0 missing)", "  product: object (0 missing)", "  price: float64 (0 missing)", "  qty: int64 (0 missing)",
			"Memory usage: 48 bytes", "Missing values: 0", "Duplicate rows: 0")},
		{"list_sheets", nil, "1 sheet(s)\nSheet1: 4 rows × 4 columns (city, product, price, qty)"},
		{"count", nil, "4"},
		{"count", map[string]any{"column": "city"}, "4"},
		{"sum", map[string]any{"column": "qty"}, "13"},
		{"head", map[string]any{"n": 1}, table("city   product  price  qty", "Paris  tea      2.5    4", "[1 rows × 4 columns]")},
		{"head", map[string]any{"n": -3}, table("city   product  price  qty", "Paris  tea      2.5    4", "[1 rows × 4 columns]")},
		{"select", map[string]any{"columns": "city, qty"}, table("city   qty", "Paris  4", "Lyon   2", "Paris  1", "Nice   6", "[4 rows × 2 columns]")},
		{"distinct", map[string]any{"columns": "product"}, table("product", "tea", "coffee", "[2 rows × 1 columns]")},
		{"distinct", map[string]any{"columns": "product,price"}, table("product  price", "tea      2.5", "coffee   3", "[2 rows × 2 columns]")},
		{"value_counts", map[string]any{"column": "city"}, table("city   count", "Paris  2", "Lyon   1", "Nice   1", "[3 rows × 2 columns]")},
		{"value_counts", map[string]any{"column": "city", "top_n": 1}, table("city   count", "Paris  2", "[1 rows × 2 columns]")},
		// Groups sorted by key, as pandas does; agg keeps its order.
		{"groupby", map[string]any{"by": "city", "agg": json.RawMessage(`{"qty":"sum","price":["mean","max"]}`)},
			table("city   qty  price_mean  price_max", "Lyon   2    3           3", "Nice   6    2.5         2.5", "Paris  5    2.75        3", "[3 rows × 4 columns]")},
		{"groupby", map[string]any{"by": "product,city", "agg": map[string]string{"qty": "count"}, "limit": 2},
			table("product  city   qty", "coffee   Lyon   1", "coffee   Paris  1", "[2 rows × 3 columns]")},
		{"groupby", map[string]any{"by": "product", "agg": map[string]string{"qty": "std"}}, table("product  qty", "coffee   0.7071", "tea      1.4142", "[2 rows × 2 columns]")},
		{"groupby", map[string]any{"by": "product", "agg": map[string]string{"qty": "median"}}, table("product  qty", "coffee   1.5", "tea      5", "[2 rows × 2 columns]")},
		{"orderby", map[string]any{"by": "price,qty", "desc": true, "limit": 3}, table("city   product  price  qty", "Lyon   coffee   3      2", "Paris  coffee   3      1", "Nice   tea      2.5    6", "[3 rows × 4 columns]")},
		{"orderby", map[string]any{"by": "city"}, table("city   product  price  qty", "Lyon   coffee   3      2", "Nice   tea      2.5    6", "Paris  tea      2.5    4", "Paris  coffee   3      1", "[4 rows × 4 columns]")},
		{"filter", map[string]any{"query": "qty > 1 and product == 'tea'"}, table("city   product  price  qty", "Paris  tea      2.5    4", "Nice   tea      2.5    6", "[2 rows × 4 columns]")},
		{"filter", map[string]any{"query": "city.str.contains('r') | price * qty >= 15"}, table("city   product  price  qty", "Paris  tea      2.5    4", "Paris  coffee   3      1", "Nice   tea      2.5    6", "[3 rows × 4 columns]")},
		{"filter", map[string]any{"query": "city in ['Lyon', 'Nice'] and not qty < 3"}, table("city  product  price  qty", "Nice  tea      2.5    6", "[1 rows × 4 columns]")},
		{"filter", map[string]any{"query": "1 < qty <= 4", "limit": 1}, table("city   product  price  qty", "Paris  tea      2.5    4", "[1 rows × 4 columns]")},
		{"filter", map[string]any{"query": "city > 3"}, "ERROR: '>' not supported between instances of 'str' and 'float'"},
		{"filter", map[string]any{"query": "qty = 3"}, `ERROR: invalid expression "qty = 3": use == to compare`},
		{"filter", map[string]any{"query": "qty + 1"}, `ERROR: the query "qty + 1" is not a condition`},
		{"filter", map[string]any{"query": "town == 'Lyon'"}, `ERROR: name "town" is not defined (columns: city, product, price, qty)`},
		{"add_column", map[string]any{"column_name": "total", "expression": "price * qty"}, table("city   product  price  qty  total", "Paris  tea      2.5    4    10", "Lyon   coffee   3      2    6", "Paris  coffee   3      1    3", "Nice   tea      2.5    6    15", "[4 rows × 5 columns]")},
		// Python's precedence and modulo: ((qty+1)**2 % 7) - (-1).
		{"add_column", map[string]any{"column_name": "qty", "expression": "(qty + 1) ** 2 % 7 - -1"}, table("city   product  price  qty", "Paris  tea      2.5    5", "Lyon   coffee   3      3", "Paris  coffee   3      5", "Nice   tea      2.5    1", "[4 rows × 4 columns]")},
		{"add_column", map[string]any{"column_name": "label", "expression": "city + '/' + product"}, table("city   product  price  qty  label", "Paris  tea      2.5    4    Paris/tea", "Lyon   coffee   3      2    Lyon/coffee", "Paris  coffee   3      1    Paris/coffee", "Nice   tea      2.5    6    Nice/tea", "[4 rows × 5 columns]")},
		{"add_column", map[string]any{"column_name": "bad", "expression": "city * 2"}, "ERROR: unsupported operand type(s) for *: 'str' and 'float'"},
		{"correlation", nil, table("       price    qty", "price  1        -0.9113", "qty    -0.9113  1", "[2 rows × 3 columns]")},
		{"correlation", map[string]any{"method": "spearman"}, table("       price    qty", "price  1        -0.8944", "qty    -0.8944  1", "[2 rows × 3 columns]")},
		{"correlation", map[string]any{"method": "kendall"}, table("       price    qty", "price  1        -0.8165", "qty    -0.8165  1", "[2 rows × 3 columns]")},
		{"correlation", map[string]any{"method": "cosine"}, "ERROR: method must be either 'pearson', 'spearman', 'kendall', or a callable, 'cosine' was supplied"},
		{"describe", nil, table("       price   qty", "count  4       4", "mean   2.75    3.25", "std    0.2887  2.2174", "min    2.5     1",
			"25%    2.5     1.75", "50%    2.75    3", "75%    3       4.5", "max    3       6", "[8 rows × 3 columns]")},
		{"sample", map[string]any{"n": 2, "frac": 0.5}, "ERROR: Please enter a value for `frac` OR `n`, not both"},
		{"sample", map[string]any{"n": 5}, "ERROR: Cannot take a larger sample than population when 'replace=False'"},
		{"sample", map[string]any{"frac": 2}, "ERROR: Replace has to be set to `True` when upsampling the population `frac` > 1."},
		{"pipe", map[string]any{"operations": []map[string]any{{"name": "filter", "arguments": map[string]any{"query": `product == "tea"`}}, {"name": "sum", "arguments": map[string]any{"column": "qty"}}}}, "10"},
		{"pipe", map[string]any{"operations": []map[string]any{
			{"name": "add_column", "arguments": map[string]any{"column_name": "total", "expression": "price*qty"}},
			{"name": "groupby", "arguments": map[string]any{"by": "city", "agg": map[string]string{"total": "sum"}}},
			{"name": "orderby", "arguments": map[string]any{"by": "total", "desc": true}},
			{"name": "head", "arguments": map[string]any{"n": 2}},
		}}, table("city   total", "Nice   15", "Paris  13", "[2 rows × 2 columns]")},
		{"pipe", map[string]any{"operations": []map[string]any{{"name": "count", "arguments": map[string]any{}}, {"name": "head", "arguments": map[string]any{}}}},
			"ERROR: operation 1 (count) returns a value, not a table: it must be the last"},
		{"pipe", map[string]any{"operations": []map[string]any{{"name": "filter", "arguments": map[string]any{"query": "x"}}}},
			`ERROR: operation 1 (filter): name "x" is not defined (columns: city, product, price, qty)`},
		{"sum", map[string]any{"column": "city"}, `ERROR: column "city" is not numeric (dtype object)`},
		{"sum", map[string]any{"column": "nope"}, `ERROR: column "nope" not found (columns: city, product, price, qty)`},
	} {
		if got := run(c.fn, c.args); got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.fn, c.args, got, c.want)
		}
	}
	if got := run("inspect", nil); !strings.Contains(got, "qty: int64, 4 unique, 0 missing (0%), min 1, max 6, mean 3.25") ||
		!strings.Contains(got, "Grouping suggestions: group by city, product") {
		t.Errorf("inspect:\n%s", got)
	}
	a, b := run("sample", map[string]any{"n": 2, "random_state": 3}), run("sample", map[string]any{"n": 2, "random_state": 3})
	if a != b || !strings.HasSuffix(a, "[2 rows × 4 columns]") {
		t.Errorf("sample not reproducible: %q vs %q", a, b)
	}
	if got := run("sample", map[string]any{"frac": 3, "replace": true}); !strings.HasSuffix(got, "[12 rows × 4 columns]") {
		t.Errorf("upsample: %q", got)
	}
	debug := run("pipe", map[string]any{"debug": true, "operations": []map[string]any{
		{"name": "head", "arguments": map[string]any{"n": 3}}, {"name": "count", "arguments": map[string]any{}}}})
	if !strings.HasPrefix(debug, "Step 1: head\ncity") || !strings.HasSuffix(debug, "\n\nStep 2: count\n3") {
		t.Errorf("pipe debug:\n%s", debug)
	}
	if got := output(t, srv, "moonshot/excel:latest", "excel.count", map[string]any{"file_id": "missing"}); got != "ERROR: File missing is empty or not found" {
		t.Errorf("missing file: %q", got)
	}
}

// Missing cells are NaN: skipped by sums and counts, last in a sort,
// shown as NaN, and they make an int column float.
func TestExcelMissingValues(t *testing.T) {
	srv := setup(t)
	run := excelRunner(t, srv, mustUpload(t, srv, "gaps.tsv", "file-extract", []byte("name\tscore\tunit price\nann\t3\t\nbob\t\t2\n\t5\t4\n")).ID)
	for _, c := range []struct {
		fn   string
		args map[string]any
		want string
	}{
		{"count", map[string]any{"column": "score"}, "2"},
		{"sum", map[string]any{"column": "score"}, "8"},
		{"orderby", map[string]any{"by": "score", "desc": true}, "name  score  unit price\nNaN   5      4\nann   3      NaN\nbob   NaN    2\n[3 rows × 3 columns]"},
		{"filter", map[string]any{"query": "`unit price` >= 2 and score.notna()"}, "name  score  unit price\nNaN   5      4\n[1 rows × 3 columns]"},
		{"filter", map[string]any{"query": "name.str.startswith('a', na=False)"}, "name  score  unit price\nann   3      NaN\n[1 rows × 3 columns]"},
		{"add_column", map[string]any{"column_name": "t", "expression": "score * `unit price`"}, "name  score  unit price  t\nann   3      NaN         NaN\nbob   NaN    2           NaN\nNaN   5      4           20\n[3 rows × 4 columns]"},
		{"groupby", map[string]any{"by": "name", "agg": map[string]string{"score": "mean"}}, "name  score\nann   3\nbob   NaN\n[2 rows × 2 columns]"},
	} {
		if got := run(c.fn, c.args); got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.fn, c.args, got, c.want)
		}
	}
	if got := run("read_file", nil); !strings.Contains(got, "  score: float64 (1 missing)") || !strings.Contains(got, "Missing values: 3") {
		t.Errorf("read_file:\n%s", got)
	}
}

// A workbook: list_sheets names every sheet, sheet_name picks one, the
// first is the default.
func TestExcelWorkbook(t *testing.T) {
	srv := setup(t)
	cell := func(ref, v string) string {
		if _, ok := num(v); ok {
			return `<c r="` + ref + `"><v>` + v + `</v></c>`
		}
		return `<c r="` + ref + `" t="inlineStr"><is><t>` + v + `</t></is></c>`
	}
	row := func(n string, a, b string) string {
		return `<row r="` + n + `">` + cell("A"+n, a) + cell("B"+n, b) + `</row>`
	}
	book := makeZip(t,
		"[Content_Types].xml", xmlHead+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml", xmlHead+`<workbook `+ssmlNS+`><sheets><sheet name="Q1" sheetId="1"/><sheet name="Q2" sheetId="2"/></sheets></workbook>`,
		"xl/worksheets/sheet1.xml", xlsxSheetXML(row("1", "region", "revenue")+row("2", "北区", "120")+row("3", "南区", "80")),
		"xl/worksheets/sheet2.xml", xlsxSheetXML(row("1", "region", "revenue")+row("2", "北区", "150")+row("3", "南区", "95")+row("4", "西区", "40")),
	)
	run := excelRunner(t, srv, mustUpload(t, srv, "sales.xlsx", "file-extract", book).ID)
	for _, c := range []struct {
		fn   string
		args map[string]any
		want string
	}{
		{"list_sheets", nil, "2 sheet(s)\nQ1: 2 rows × 2 columns (region, revenue)\nQ2: 3 rows × 2 columns (region, revenue)"},
		{"sum", map[string]any{"column": "revenue"}, "200"},
		{"sum", map[string]any{"column": "revenue", "sheet_name": "Q2"}, "285"},
		{"filter", map[string]any{"query": "revenue > 90", "sheet_name": "Q2"}, "region  revenue\n北区      150\n南区      95\n[2 rows × 2 columns]"},
		{"filter", map[string]any{"query": "region == '西区'", "sheet_name": "Q2"}, "region  revenue\n西区      40\n[1 rows × 2 columns]"},
		{"count", map[string]any{"sheet_name": "Q3"}, `ERROR: Worksheet named "Q3" not found (sheets: Q1, Q2)`},
	} {
		if got := run(c.fn, c.args); got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.fn, c.args, got, c.want)
		}
	}
}

// The schema is the platform's: parameters it does not declare fail the
// fiber before the tool runs.
func TestExcelSchema(t *testing.T) {
	f := formulas()["excel"]
	if len(f.fns) != 17 {
		t.Fatalf("%d excel functions, want 17", len(f.fns))
	}
	for name, want := range map[string][]string{
		"excel.groupby": {"file_id", "by", "agg"}, "excel.filter": {"file_id", "query"},
		"excel.add_column": {"file_id", "column_name", "expression"}, "excel.pipe": {"file_id", "operations"},
	} {
		if got := f.fns[name].required; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s requires %v, want %v", name, got, want)
		}
	}
	if got := f.fns["excel.groupby"].props["agg"].Type; got != "object" {
		t.Errorf("groupby agg is %q, want object", got)
	}
}

// Any file and any arguments: an answer, never a panic, within bounds.
func FuzzExcelCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n3,x\n"), "sum", `{"column":"a"}`)
	f.Add([]byte("a\tb\n\"q\n"), "add_column", `{"column_name":"c","expression":"a / b"}`)
	f.Add([]byte("PK\x03\x04"), "describe", `{}`)
	f.Add([]byte("x,y\n1,1\n2,2\n"), "pipe", `{"operations":[{"name":"orderby","arguments":{"by":"x","desc":true}},{"name":"head","arguments":{"n":-3}}]}`)
	f.Add([]byte("x,y\n1,a\n,b\n"), "filter", `{"query":"not (x > 0 or y.str.contains('[a-z]', case=False)) & x in [1, 2]"}`)
	f.Add([]byte("k,v\na,1\na,2\nb,\n"), "groupby", `{"by":"k","agg":{"v":["sum","std","median","min"]}}`)
	f.Add([]byte("x,y\n1,2\n3,5\n2,2\n"), "correlation", `{"method":"kendall"}`)
	f.Fuzz(func(t *testing.T, data []byte, fn, args string) {
		fs := newFileStore()
		fs.files["f"] = &storedFile{id: "f", filename: "in.csv", data: &blob{mem: data, size: int64(len(data))}}
		var a map[string]json.RawMessage
		if json.Unmarshal([]byte(args), &a) != nil {
			a = map[string]json.RawMessage{}
		}
		a["file_id"] = json.RawMessage(`"f"`)
		if out := runExcel(context.Background(), fs, fn, a); len(out) > excelMaxOutput+64 {
			t.Errorf("output of %d bytes", len(out))
		}
	})
}

// Any expression: a function or an error, never a panic.
func FuzzExcelExpression(f *testing.F) {
	for _, s := range []string{"a > 1 and b == 'x'", "`unit price` * 2 ** -1", "a.str.contains('(', regex=False)", "((((a))))", "~(a in [1, 'b']) | b.isna()", "a // 0 % 0", "not not not a"} {
		f.Add(s)
	}
	t := &excelTable{header: []string{"a", "b", "unit price"}, rows: [][]string{{"1", "x", "2"}, {"", "", "3.5"}, {"3", "y", ""}}}
	f.Fuzz(func(_ *testing.T, src string) {
		ex, e := t.compile(src)
		if e != "" {
			return
		}
		for _, r := range t.rows {
			ex(r)
		}
	})
}

// pyRandom draws what CPython's random.Random draws (the values below are
// CPython 3's, for the same seeds and calls).
func TestPyRandom(t *testing.T) {
	r := newPyRandom(42)
	if a, b := r.random(), r.random(); a != 0.6394267984578837 || b != 0.025010755222666936 {
		t.Errorf("Random(42).random() twice = %v, %v", a, b)
	}
	for _, c := range []struct {
		seed uint64
		n, k int
		want []int
	}{{7, 10, 4, []int{5, 2, 6, 9}}, {1<<40 + 5, 30, 3, []int{16, 8, 21}}, {0, 100, 7, []int{49, 97, 53, 5, 33, 65, 62}}} {
		if got := newPyRandom(c.seed).sample(c.n, c.k); !slices.Equal(got, c.want) {
			t.Errorf("Random(%d).sample(range(%d), %d) = %v, want %v", c.seed, c.n, c.k, got, c.want)
		}
	}
	r = newPyRandom(1)
	var got []int
	for range 3 {
		got = append(got, r.choice(5, nil))
	}
	cum := []float64{1, 1, 4, 9}
	for range 4 {
		got = append(got, r.choice(4, cum))
	}
	if want := []int{0, 4, 3, 2, 3, 3, 3}; !slices.Equal(got, want) {
		t.Errorf("Random(1).choices = %v, want %v", got, want)
	}
	if got := pyJSON(map[string]any{"a": []any{1, "x, y: z"}, "b": "<猫>"}); got != `{"a": [1, "x, y: z"], "b": "<猫>"}` {
		t.Errorf("pyJSON: %s", got)
	}
}

// The review's cases: bounded tables, workbook sheets named Sheet1, half
// fractions rounded to even, ties and numeric keys as pandas has them.
func TestExcelEdges(t *testing.T) {
	srv := setup(t)
	var big strings.Builder
	big.WriteString("a,b\n")
	for range 1600 {
		big.WriteString(",\n")
	}
	big.WriteString(strings.Repeat("x", 20000) + ",y\n")
	run := excelRunner(t, srv, mustUpload(t, srv, "big.csv", "file-extract", []byte(big.String())).ID)
	if got := run("head", map[string]any{"n": 2000}); len(got) > excelMaxOutput+200 || !strings.Contains(got, "more rows)") {
		t.Errorf("head of a wide table: %d bytes", len(got))
	}
	if got := run("filter", map[string]any{"query": "a + a + a + a + a + a + a + a == 'z'"}); !strings.HasPrefix(got, "a  b\n[0 rows") {
		t.Errorf("joins: %.80q", got)
	}

	run = excelRunner(t, srv, mustUpload(t, srv, "keys.csv", "file-extract", []byte("k,c,v\n3,a,1\n3.0,b,2\n3.00,b,4\n4,a,8\n5,,16\n")).ID)
	for _, c := range []struct {
		fn   string
		args map[string]any
		want string
	}{
		{"value_counts", map[string]any{"column": "k"}, "k  count\n3  3\n4  1\n5  1\n[3 rows × 2 columns]"},
		{"groupby", map[string]any{"by": "k", "agg": map[string]string{"v": "sum"}}, "k  v\n3  7\n4  8\n5  16\n[3 rows × 2 columns]"},
		{"distinct", map[string]any{"columns": "k"}, "k\n3\n4\n5\n[3 rows × 1 columns]"},
		{"sample", map[string]any{"frac": 0.5}, ""}, // 2 of 5 rows: round(2.5) is 2
	} {
		got := run(c.fn, c.args)
		if c.want == "" {
			if !strings.HasSuffix(got, "[2 rows × 3 columns]") {
				t.Errorf("sample frac 0.5: %q", got)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.fn, c.args, got, c.want)
		}
	}
	run = excelRunner(t, srv, mustUpload(t, srv, "tie.csv", "file-extract", []byte("c\na\nb\nb\na\n")).ID)
	if got := run("describe", nil); !strings.Contains(got, "top     a") {
		t.Errorf("describe top on a tie: %q", got)
	}
	book := makeZip(t, "[Content_Types].xml", xmlHead+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml", xmlHead+`<workbook `+ssmlNS+`><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>`,
		"xl/worksheets/sheet1.xml", xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>`))
	run = excelRunner(t, srv, mustUpload(t, srv, "one.xlsx", "file-extract", book).ID)
	if got := run("count", map[string]any{"sheet_name": "Summary"}); got != `ERROR: Worksheet named "Summary" not found (sheets: Sheet1)` {
		t.Errorf("a wrong sheet of a one-sheet workbook: %q", got)
	}
}

// The excel functions on a 10,000-row CSV: a load and one operation per
// call, as each fiber reads its file afresh.
func BenchmarkExcel(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("city,product,price,qty\n")
	cities := []string{"Paris", "Lyon", "Nice", "Lille", "Nantes"}
	for i := range 10000 {
		fmt.Fprintf(&csv, "%s,p%d,%d.5,%d\n", cities[i%5], i%37, i%20, i%9)
	}
	fs := newFileStore()
	data := []byte(csv.String())
	fs.files["f"] = &storedFile{id: "f", filename: "sales.csv", data: &blob{mem: data, size: int64(len(data))}}
	for _, c := range []struct{ name, fn, args string }{
		{"sum", "sum", `{"column":"qty"}`},
		{"groupby", "groupby", `{"by":"city","agg":{"qty":"sum","price":["mean","max"]}}`},
		{"filter", "filter", `{"query":"price * qty > 50 and city.str.startswith('L')","limit":5}`},
		{"describe", "describe", `{}`},
	} {
		var args map[string]json.RawMessage
		json.Unmarshal([]byte(c.args), &args)
		args["file_id"] = json.RawMessage(`"f"`)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if out := runExcel(context.Background(), fs, c.fn, args); strings.HasPrefix(out, "ERROR") {
					b.Fatal(out)
				}
			}
		})
	}
}
