package kimitest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// The excel functions compute on an uploaded CSV, as excel.<function>.
func TestExcelFunctions(t *testing.T) {
	srv := setup(t)
	f := mustUpload(t, srv, "sales.csv", "file-extract", []byte("city,product,price,qty\nParis,tea,2.5,4\nLyon,coffee,3,2\nParis,coffee,3,1\nNice,tea,2.5,6\n"))
	run := func(fn string, args map[string]any) string {
		t.Helper()
		if args == nil {
			args = map[string]any{}
		}
		args["file_id"] = f.ID
		return output(t, srv, "moonshot/excel:latest", "excel."+fn, args)
	}
	for _, c := range []struct {
		fn   string
		args map[string]any
		want string
	}{
		{"count", nil, "4"},
		{"list_sheets", nil, "Sheet1"},
		{"sum", map[string]any{"column": "qty"}, "13"},
		{"distinct", map[string]any{"column": "city"}, "Paris\nLyon\nNice"},
		{"value_counts", map[string]any{"column": "product"}, "tea  2\ncoffee  2"},
		{"groupby", map[string]any{"by": "city", "column": "qty", "agg": "sum"}, "city  sum(qty)\nParis  5\nLyon  2\nNice  6"},
		{"groupby", map[string]any{"by": "product", "column": "price", "agg": "mean"}, "product  mean(price)\ntea  2.5\ncoffee  3"},
		{"filter", map[string]any{"column": "qty", "op": ">", "value": "3"}, "city   product  price  qty\nParis  tea      2.5    4  \nNice   tea      2.5    6  "},
		{"orderby", map[string]any{"column": "qty", "ascending": false}, "city   product  price  qty\nNice   tea      2.5    6  \nParis  tea      2.5    4  \nLyon   coffee   3      2  \nParis  coffee   3      1  "},
		{"select", map[string]any{"columns": []string{"qty"}}, "qty\n4  \n2  \n1  \n6  "},
		{"head", map[string]any{"n": 1}, "city   product  price  qty\nParis  tea      2.5    4  "},
		{"add_column", map[string]any{"name": "total", "expression": "price * qty"}, "city   product  price  qty  total\nParis  tea      2.5    4    10   \nLyon   coffee   3      2    6    \nParis  coffee   3      1    3    \nNice   tea      2.5    6    15   "},
		{"correlation", map[string]any{"column1": "price", "column2": "qty"}, "-0.9113"},
		{"describe", nil, "column  count  mean  std  min  max\nprice  4  2.75  0.2887  2.5  3\nqty  4  3.25  2.2174  1  6"},
		{"inspect", nil, "city: text, 0 empty\nproduct: text, 0 empty\nprice: number, 0 empty\nqty: number, 0 empty"},
		{"pipe", map[string]any{"steps": []map[string]any{{"function": "filter", "column": "product", "op": "==", "value": "tea"}, {"function": "sum", "column": "qty"}}}, "10"},
		{"sum", map[string]any{"column": "city"}, `ERROR: column "city" holds "Paris", not a number`},
		{"sum", map[string]any{"column": "nope"}, `ERROR: no column "nope" (columns: city, product, price, qty)`},
	} {
		if got := run(c.fn, c.args); got != c.want {
			t.Errorf("%s %v:\n got %q\nwant %q", c.fn, c.args, got, c.want)
		}
	}
	if got := run("read_file", nil); !strings.HasPrefix(got, "4 rows × 4 columns\ncity") {
		t.Errorf("read_file %q", got)
	}
	a, b := run("sample", map[string]any{"n": 2, "seed": 3}), run("sample", map[string]any{"n": 2, "seed": 3})
	if a != b || strings.Count(a, "\n") != 2 {
		t.Errorf("sample not reproducible: %q vs %q", a, b)
	}
	if got := output(t, srv, "moonshot/excel:latest", "excel.count", map[string]any{"file_id": "missing"}); got != "ERROR: File missing is empty or not found" {
		t.Errorf("missing file: %q", got)
	}
}

// Any file and any arguments: an answer, never a panic, within bounds.
func FuzzExcelCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n3,x\n"), "sum", `{"column":"a"}`)
	f.Add([]byte("a\tb\n\"q\n"), "add_column", `{"name":"c","expression":"a / b"}`)
	f.Add([]byte("PK\x03\x04"), "describe", `{}`)
	f.Add([]byte("x,y\n1,1\n2,2\n"), "pipe", `{"steps":[{"function":"orderby","column":"x","ascending":false},{"function":"head","n":-3}]}`)
	f.Fuzz(func(t *testing.T, data []byte, fn, args string) {
		fs := newFileStore()
		fs.files["f"] = &storedFile{id: "f", filename: "in.csv", data: &blob{mem: data, size: int64(len(data))}}
		var a map[string]json.RawMessage
		if json.Unmarshal([]byte(args), &a) != nil {
			a = map[string]json.RawMessage{}
		}
		a["file_id"] = json.RawMessage(`"f"`)
		if out := runExcel(context.Background(), fs, fn, a); len(out) > excelMaxOutput+4096 && !strings.HasPrefix(out, "ERROR") {
			t.Errorf("output of %d bytes", len(out))
		}
	})
}
