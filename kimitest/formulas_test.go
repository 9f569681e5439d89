package kimitest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

type testFiber struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	CreatedAt int64  `json:"created_at"`
	LambdaID  string `json:"lambda_id"`
	Status    string `json:"status"`
	Context   struct {
		Input           string  `json:"input"`
		Output          *string `json:"output"`
		EncryptedOutput string  `json:"encrypted_output"`
		Error           string  `json:"error"`
	} `json:"context"`
	Formula        string `json:"formula"`
	OrganizationID string `json:"organization_id"`
	ProjectID      string `json:"project_id"`
	Error          string `json:"error"`
}

// runFiber posts a fiber call with arguments encoded as a string.
func runFiber(t *testing.T, srv *Server, formula, name string, args any) testFiber {
	t.Helper()
	var a string
	if s, ok := args.(string); ok {
		a = s
	} else {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		a = string(b)
	}
	r := wantStatus(t, ktDo(t, srv, "POST", "/v1/formulas/"+formula+"/fibers", map[string]string{"name": name, "arguments": a}), 200)
	return decodeOK[testFiber](t, r)
}

type formulaListing struct {
	Object string
	Tools  []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string `json:"name"`
			Parameters struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
				Required   []string                   `json:"required"`
			} `json:"parameters"`
		} `json:"function"`
	}
}

// output runs a fiber that must succeed and returns its output.
func output(t *testing.T, srv *Server, formula, name string, args any) string {
	t.Helper()
	f := runFiber(t, srv, formula, name, args)
	if f.Status != "succeeded" || f.Context.Output == nil {
		t.Fatalf("%s %s: status %q, error %q / %q", formula, name, f.Status, f.Error, f.Context.Error)
	}
	return *f.Context.Output
}

func TestFormulaToolsListing(t *testing.T) {
	srv := setup(t)
	want := map[string][]string{
		"web-search": {"web_search"}, "convert": {"convert"}, "rethink": {"rethink"},
		"random-choice": {"random_choice"}, "mew": {"mew_generator"}, "memory": {"memory"},
		"date": {"date"}, "base64": {"base64_encode", "base64_decode"}, "fetch": {"fetch"},
	}
	for name, fns := range want {
		for _, ref := range []string{name + ":latest", name} {
			r := wantStatus(t, ktDo(t, srv, "GET", "/v1/formulas/moonshot/"+ref+"/tools", nil), 200)
			if !strings.HasPrefix(string(r.Body), `{"object":"list","tools":[{"function":{"name":"`) {
				t.Errorf("%s: body starts %.80s", ref, r.Body)
			}
			body := decodeOK[formulaListing](t, r)
			if body.Object != "list" || len(body.Tools) != len(fns) {
				t.Fatalf("%s: %s", ref, r.Body)
			}
			for i, tl := range body.Tools {
				p := tl.Function.Parameters
				if tl.Type != "function" || tl.Function.Name != fns[i] || p.Type != "object" || p.Properties == nil || p.Required == nil {
					t.Errorf("%s: tool %d: %+v", ref, i, tl)
				}
				for _, req := range p.Required {
					if _, ok := p.Properties[req]; !ok {
						t.Errorf("%s: required %s not a property", ref, req)
					}
				}
			}
		}
	}
	r := wantStatus(t, ktDo(t, srv, "GET", "/v1/formulas/moonshot/excel:latest/tools", nil), 200)
	var ex struct {
		Tools []struct {
			Type   string `json:"type"`
			Plugin struct {
				Name      string `json:"name"`
				Functions []struct {
					Name string `json:"name"`
				} `json:"functions"`
			} `json:"_plugin"`
		}
	}
	if err := json.Unmarshal(r.Body, &ex); err != nil || len(ex.Tools) != 1 || ex.Tools[0].Type != "_plugin" ||
		ex.Tools[0].Plugin.Name != "excel" || len(ex.Tools[0].Plugin.Functions) == 0 {
		t.Fatalf("excel: %v %s", err, r.Body)
	}
	// The live key order: "function" before "type" (convert's entry as captured).
	r = wantStatus(t, ktDo(t, srv, "GET", "/v1/formulas/moonshot/convert:latest/tools", nil), 200)
	if !strings.Contains(string(r.Body), `"required":["value","from_unit","to_unit"],"type":"object"}},"type":"function"}]}`) {
		t.Errorf("convert: %s", r.Body)
	}
}

func TestFormulaNotFound(t *testing.T) {
	srv := setup(t)
	for _, ref := range []string{"moonshot/quickjs:latest", "moonshot/code-runner:latest", "moonshot/code_runner:latest",
		"moonshot/nope:latest", "other/convert:latest", "moonshot/convert:v2", "Moonshot/convert:latest"} {
		wantAPIError(t, ktDo(t, srv, "GET", "/v1/formulas/"+ref+"/tools", nil), 404, "resource_not_found_error", "formula not found")
		wantAPIError(t, ktDo(t, srv, "POST", "/v1/formulas/"+ref+"/fibers", `{"name":"convert","arguments":"{}"}`),
			404, "resource_not_found_error", "formula not found")
	}
	// Authenticated like every route.
	r := ktDo(t, srv, "GET", "/v1/formulas/moonshot/convert:latest/tools", nil, "Authorization", "Bearer sk-wrong")
	wantStatus(t, r, 401)
}

func TestFormulaFiberObject(t *testing.T) {
	srv := setup(t)
	body := `{"name": "convert", "arguments": "{\"value\": 72, \"from_unit\": \"°F\", \"to_unit\": \"°C\"}"}`
	r := wantStatus(t, ktDo(t, srv, "POST", "/v1/formulas/moonshot/convert/fibers", body), 200)
	f := decodeOK[testFiber](t, r)
	id := regexp.MustCompile(`^fiber-[0-9a-z]{20}$`)
	lid := regexp.MustCompile(`^lambda-[0-9a-z]{20}$`)
	if !id.MatchString(f.ID) || !lid.MatchString(f.LambdaID) || f.Object != "fiber" || f.Status != "succeeded" ||
		f.Formula != "moonshot/convert:latest" || f.Error != "" || f.Context.Error != "" {
		t.Fatalf("%s", r.Body)
	}
	if got, want := f.Context.Input, `{"name":"convert","arguments":"{\"value\": 72, \"from_unit\": \"°F\", \"to_unit\": \"°C\"}"}`; got != want {
		t.Errorf("input %s, want %s", got, want)
	}
	if f.Context.Output == nil || *f.Context.Output != "72.0 °F = 22.22 °C" {
		t.Errorf("output %v", f.Context.Output)
	}
	acct := srv.Emulator.accounts[srv.Key]
	if f.OrganizationID != acct.OrgID || f.ProjectID != acct.ProjectID {
		t.Errorf("org %s project %s", f.OrganizationID, f.ProjectID)
	}
	if d := time.Now().Unix() - f.CreatedAt; d < -5 || d > 5 {
		t.Errorf("created_at %d", f.CreatedAt)
	}
	if !strings.HasPrefix(string(r.Body), `{"id":"fiber-`) {
		t.Errorf("field order: %.40s", r.Body)
	}
}

func TestFormulaFiberBadBodies(t *testing.T) {
	srv := setup(t)
	for _, b := range []string{``, `nope`, `[]`, `"x"`, `null`, `{}`, `{"name":"convert"}`, `{"arguments":"{}"}`,
		`{"name":1,"arguments":"{}"}`, `{"name":"convert","arguments":{}}`, `{"name":"convert","arguments":null}`,
		`{"name":"convert","arguments":"{}"`} {
		r := ktDo(t, srv, "POST", "/v1/formulas/moonshot/convert:latest/fibers", b)
		if typ, _ := apiErr(t, wantStatus(t, r, 400)); typ != "invalid_request_error" {
			t.Errorf("%q: %s", b, r.Body)
		}
	}
	big := `{"name":"rethink","arguments":"{\"thought\":\"` + strings.Repeat("x", maxFiberBody) + `\"}"}`
	wantStatus(t, ktDo(t, srv, "POST", "/v1/formulas/moonshot/rethink:latest/fibers", big), 400)
}

func TestFormulaFiberFailures(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct{ formula, name string }{
		{"moonshot/convert:latest", "web_search"},
		{"moonshot/base64:latest", "base64"},
		{"moonshot/excel:latest", "read_file"}, // bare name of a _plugin function
		{"moonshot/excel:latest", "excel.nope"},
	} {
		f := runFiber(t, srv, c.formula, c.name, map[string]any{"file_id": "x"})
		if f.Status != "failed" || f.Error != "no matching lambda found" || f.Context.Output != nil {
			t.Errorf("%s %s: %+v", c.formula, c.name, f)
		}
	}
	for _, c := range []struct {
		args any
		want string
	}{
		{"[1]", "arguments must be a JSON object"},
		{"not json", "arguments must be a JSON object"},
		{map[string]any{"from_unit": "m", "to_unit": "ft"}, `missing required parameter "value"`},
		{map[string]any{"value": "3", "from_unit": "m", "to_unit": "ft"}, `parameter "value" must be of type number`},
		{map[string]any{"value": 3, "from_unit": 1, "to_unit": "ft"}, `parameter "from_unit" must be of type string`},
	} {
		f := runFiber(t, srv, "moonshot/convert:latest", "convert", c.args)
		if f.Status != "failed" || !strings.Contains(f.Context.Error, c.want) {
			t.Errorf("%v: %+v", c.args, f)
		}
	}
	f := runFiber(t, srv, "moonshot/mew:latest", "mew_generator", map[string]any{"mood": "angry"})
	if f.Status != "failed" || !strings.Contains(f.Context.Error, `"mood"`) {
		t.Errorf("enum: %+v", f)
	}
	f = runFiber(t, srv, "moonshot/random-choice:latest", "random_choice", map[string]any{"candidates": []any{"a", 1}})
	if f.Status != "failed" || !strings.Contains(f.Context.Error, `"candidates"`) {
		t.Errorf("items: %+v", f)
	}
	f = runFiber(t, srv, "moonshot/random-choice:latest", "random_choice", map[string]any{"candidates": []string{"a"}, "count": 1.5})
	if f.Status != "failed" || !strings.Contains(f.Context.Error, `"count" must be of type integer`) {
		t.Errorf("integer: %+v", f)
	}
	// The excel function, qualified, runs (its failures are ERROR output).
	out := output(t, srv, "moonshot/excel:latest", "excel.read_file", map[string]any{"file_id": "nope"})
	if !strings.HasPrefix(out, "ERROR: ") {
		t.Errorf("excel: %q", out)
	}
}

func TestFormulaConvert(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct {
		v        float64
		from, to string
		want     string
	}{
		{72, "°F", "°C", "72.0 °F = 22.22 °C"},
		{100, "celsius", "F", "100.0 °C = 212.0 °F"},
		{0, "degC", "K", "0.0 °C = 273.15 K"},
		{1, "mile", "km", "1.0 mi = 1.61 km"},
		{12, "inch", "ft", "12.0 in = 1.0 ft"},
		{2.5, "KG", "pound", "2.5 kg = 5.51 lb"},
		{1, "gallon", "L", "1.0 gal = 3.79 L"},
		{1, "acre", "m^2", "1.0 acre = 4046.86 m^2"},
		{1, "hectare", "acre", "1.0 hectare = 2.47 acre"},
		{100, "km/h", "mph", "100.0 km/h = 62.14 mph"},
		{90, "minute", "hour", "90.0 min = 1.5 h"},
		{1, "kWh", "joule", "1.0 kWh = 3600000.0 J"},
		{1, "atm", "bar", "1.0 atm = 1.01 bar"},
		{1, "floz", "ml", "1.0 floz = 29.57 mL"},
		{0.00001, "m", "mm", "1e-05 m = 0.01 mm"},
	} {
		got := output(t, srv, "moonshot/convert:latest", "convert", map[string]any{"value": c.v, "from_unit": c.from, "to_unit": c.to})
		if got != c.want {
			t.Errorf("%v %s→%s: %q, want %q", c.v, c.from, c.to, got, c.want)
		}
	}
	for _, c := range [][2]string{{"m", "kg"}, {"furlong", "m"}, {"USD", "EUR"}} {
		got := output(t, srv, "moonshot/convert:latest", "convert", map[string]any{"value": 1, "from_unit": c[0], "to_unit": c[1]})
		if !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%v: %q", c, got)
		}
	}
}

func TestFormulaDate(t *testing.T) {
	srv := setup(t)
	run := func(args map[string]any) string {
		t.Helper()
		return output(t, srv, "moonshot/date:latest", "date", args)
	}
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"operation": "convert", "date": "2026-01-15 12:00:00", "from_zone": "Asia/Shanghai", "to_zone": "America/New_York"}, "2026-01-14 23:00:00"},
		{map[string]any{"operation": "convert", "date": "2026-07-15 12:00:00", "from_zone": "UTC", "to_zone": "Europe/Paris", "format": "%a %d %b %Y %I:%M %p %Z %z %j %%"}, "Wed 15 Jul 2026 02:00 PM CEST +0200 196 %"},
		{map[string]any{"operation": "between", "date1": "2024-01-01", "date2": "2025-01-01"}, "366 days"},
		{map[string]any{"operation": "between", "date1": "2025-03-10", "date2": "2025-03-01"}, "-9 days"},
		{map[string]any{"operation": "add", "date": "2024-02-28 10:00:00", "days": 2}, "2024-03-01 10:00:00"},
		{map[string]any{"operation": "subtract", "date": "2026-01-01", "days": 1, "format": "%Y-%m-%d (%A, %B)"}, "2025-12-31 (Wednesday, December)"},
		{map[string]any{"operation": "add", "date": "01/02/2026", "days": 30, "format": "%d/%m/%Y"}, "03/03/2026"},
	} {
		if got := run(c.args); got != c.want {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
	got := run(map[string]any{"operation": "time", "zone": "Asia/Tokyo"})
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", got, time.FixedZone("JST", 9*3600))
	if err != nil || time.Since(tm).Abs() > time.Minute {
		t.Errorf("time: %q %v", got, err)
	}
	for _, args := range []map[string]any{
		{"operation": "time", "zone": "Mars/Olympus"},
		{"operation": "add", "date": "not a date", "days": 1},
		{"operation": "between", "date1": "2025-01-01"},
	} {
		if got := run(args); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%v: %q", args, got)
		}
	}
}

func TestFormulaBase64(t *testing.T) {
	srv := setup(t)
	enc := output(t, srv, "moonshot/base64:latest", "base64_encode", map[string]any{"data": "天蓝色 RGB"})
	if enc != "5aSp6JOd6ImyIFJHQg==" {
		t.Errorf("encode: %q", enc)
	}
	if dec := output(t, srv, "moonshot/base64:latest", "base64_decode", map[string]any{"data": enc}); dec != "天蓝色 RGB" {
		t.Errorf("decode: %q", dec)
	}
	if got := output(t, srv, "moonshot/base64:latest", "base64_encode", map[string]any{"data": "é", "encoding": "latin-1"}); got != "6Q==" {
		t.Errorf("latin-1: %q", got)
	}
	for _, args := range []map[string]any{{"data": "!!!"}, {"data": "/w=="}, {"data": "aGk=", "encoding": "klingon"}} {
		if got := output(t, srv, "moonshot/base64:latest", "base64_decode", args); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%v: %q", args, got)
		}
	}
}

func TestFormulaRandomChoice(t *testing.T) {
	srv := setup(t)
	rc := func(args map[string]any) string {
		t.Helper()
		return output(t, srv, "moonshot/random-choice:latest", "random_choice", args)
	}
	// Python's random, seeded: the live tool's answer to this call.
	if got := rc(map[string]any{"candidates": []string{"apple", "banana", "cherry", "durian"}, "count": 2, "seed": 42}); got != "apple, durian" {
		t.Errorf("seed 42: %q, want the live answer \"apple, durian\"", got)
	}
	cands := []string{"a", "b", "c", "d", "e"}
	a1 := rc(map[string]any{"candidates": cands, "count": 3, "seed": 42})
	a2 := rc(map[string]any{"candidates": cands, "count": 3, "seed": 42})
	if a1 != a2 || len(strings.Split(a1, ", ")) != 3 {
		t.Errorf("seeded: %q vs %q", a1, a2)
	}
	seen := map[string]bool{}
	for _, s := range strings.Split(a1, ", ") {
		if seen[s] {
			t.Errorf("repeat without replace: %q", a1)
		}
		seen[s] = true
	}
	if first, again := rc(map[string]any{"candidates": cands}), rc(map[string]any{"candidates": cands}); first != again {
		t.Error("unseeded call not reproducible")
	}
	// Zero weights are never drawn.
	got := rc(map[string]any{"candidates": []string{"x", "y", "z"}, "weights": []float64{0, 1, 0}, "count": 20, "replace": true})
	if got != strings.TrimSuffix(strings.Repeat("y, ", 20), ", ") {
		t.Errorf("weights: %q", got)
	}
	var j struct {
		Selected []string `json:"selected"`
		Count    int      `json:"count"`
	}
	if err := json.Unmarshal([]byte(rc(map[string]any{"candidates": cands, "count": 2, "format": "json", "seed": 7})), &j); err != nil || len(j.Selected) != 2 || j.Count != 2 {
		t.Errorf("json: %v %+v", err, j)
	}
	if d := rc(map[string]any{"candidates": cands, "format": "detailed", "seed": 7}); !strings.Contains(d, "\n1. ") {
		t.Errorf("detailed: %q", d)
	}
	for _, args := range []map[string]any{
		{"candidates": cands, "count": 6},
		{"candidates": []string{}},
		{"candidates": cands, "weights": []float64{1}},
		{"candidates": cands, "weights": []float64{0, 0, 0, 0, 0}},
		{"candidates": cands, "count": 0},
	} {
		if got := rc(args); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%v: %q", args, got)
		}
	}
}

func TestFormulaMemory(t *testing.T) {
	srv := setup(t, WithTimeScale(7200), WithKey("sk-a"), WithKey("sk-b"))
	a, b := srv.withKey("sk-a"), srv.withKey("sk-b")
	mem := func(s *Server, args map[string]any) string {
		t.Helper()
		return output(t, s, "moonshot/memory:latest", "memory", args)
	}
	if got := mem(a, map[string]any{"action": "store", "key": "user.name", "data": map[string]any{"v": "Ada"}}); !strings.Contains(got, `"success": true`) {
		t.Fatalf("store: %q", got)
	}
	mem(a, map[string]any{"action": "store", "key": "user.lang", "data": map[string]any{"v": "go"}, "ttl": 3600})
	mem(a, map[string]any{"action": "store", "key": "other", "data": map[string]any{}})
	if got := mem(a, map[string]any{"action": "retrieve", "key": "user.name"}); got != `{"v": "Ada"}` { // the data itself, as live
		t.Errorf("retrieve: %q", got)
	}
	if got := mem(a, map[string]any{"action": "list", "prefix": "user."}); !strings.Contains(got, `"keys": ["user.lang", "user.name"]`) {
		t.Errorf("list: %q", got)
	}
	// Another organization sees none of it.
	if got := mem(b, map[string]any{"action": "retrieve", "key": "user.name"}); !strings.HasPrefix(got, "ERROR: ") {
		t.Errorf("isolation: %q", got)
	}
	if got := mem(b, map[string]any{"action": "list"}); !strings.Contains(got, `"keys": []`) {
		t.Errorf("isolation list: %q", got)
	}
	// An hour is half a real second at this scale; the default day is 12 s.
	time.Sleep(700 * time.Millisecond)
	if got := mem(a, map[string]any{"action": "retrieve", "key": "user.lang"}); !strings.HasPrefix(got, "ERROR: ") {
		t.Errorf("expired entry: %q", got)
	}
	if got := mem(a, map[string]any{"action": "delete", "key": "user.name"}); !strings.Contains(got, `"success": true`) {
		t.Errorf("delete: %q", got)
	}
	if got := mem(a, map[string]any{"action": "list"}); !strings.Contains(got, `"keys": ["other"]`) {
		t.Errorf("after delete: %q", got)
	}
	for _, args := range []map[string]any{{"action": "retrieve"}, {"action": "store", "key": "k"}, {"action": "store", "key": "k", "data": map[string]any{}, "ttl": 0}} {
		if got := mem(a, args); !strings.HasPrefix(got, "ERROR: ") {
			t.Errorf("%v: %q", args, got)
		}
	}
	// Bounded: the store refuses past its byte budget.
	big := strings.Repeat("x", maxMemoryBytes/2)
	mem(a, map[string]any{"action": "store", "key": "b1", "data": map[string]any{"v": big}})
	if got := mem(a, map[string]any{"action": "store", "key": "b2", "data": map[string]any{"v": big}}); !strings.HasPrefix(got, "ERROR: ") {
		t.Errorf("over budget: %.60q", got)
	}
}

func TestFormulaFetch(t *testing.T) {
	page := `<html><head><title>T</title><style>p{}</style></head><body><h1>Hello &amp; welcome</h1>
<p>First <b>bold</b> para with a <a href="https://example.com/x">link</a>.</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>`
	srv := setup(t, WithFetchPage("https://example.com/", "text/html; charset=utf-8", page),
		WithFetchPage("https://example.com/data.txt", "text/plain", "0123456789"))
	fetch := func(args map[string]any) string {
		t.Helper()
		return output(t, srv, "moonshot/fetch:latest", "fetch", args)
	}
	want := "URL: https://example.com/\nTitle: T\n\n# Hello & welcome\n\nFirst **bold** para with a [link](https://example.com/x).\n\n- one\n- two"
	if got := fetch(map[string]any{"url": "https://example.com/"}); got != want {
		t.Errorf("html:\n%q\nwant\n%q", got, want)
	}
	if got := fetch(map[string]any{"url": "https://example.com/", "raw": true}); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Errorf("raw: %q", got)
	}
	got := fetch(map[string]any{"url": "https://example.com/data.txt", "max_length": 4, "start_index": 2})
	want = "URL: https://example.com/data.txt\n\nContent type text/plain cannot be simplified to markdown, but here is the raw content:\n2345\n\n<error>Content truncated. Call the fetch tool with a start_index of 6 to get more content.</error>"
	if got != want {
		t.Errorf("truncated: %q", got)
	}
	if got := fetch(map[string]any{"url": "https://example.com/data.txt", "start_index": 6}); !strings.HasSuffix(got, ":\n6789") {
		t.Errorf("rest: %q", got)
	}
	if got := fetch(map[string]any{"url": "https://example.com/data.txt", "start_index": 10}); !strings.HasSuffix(got, "<error>No more content available.</error>") {
		t.Errorf("past end: %q", got)
	}
	if got := fetch(map[string]any{"url": "https://unregistered.example/"}); !strings.HasPrefix(got, "ERROR: Failed to fetch https://unregistered.example/: ") || !strings.Contains(got, "offline") {
		t.Errorf("unregistered: %q", got)
	}
	if got := fetch(map[string]any{"url": "https://example.com/", "max_length": 1000000}); !strings.HasPrefix(got, "ERROR: ") {
		t.Errorf("max_length bound: %q", got)
	}
}

func TestFormulaMiscTools(t *testing.T) {
	srv := setup(t)
	if got := output(t, srv, "moonshot/rethink:latest", "rethink", map[string]any{"thought": "plan"}); got != rethinkOutput {
		t.Errorf("rethink: %q", got)
	}
	var m struct{ Sound, Blessing, Mood string }
	out := output(t, srv, "moonshot/mew:latest", "mew_generator", map[string]any{"mood": "sleepy"})
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Mood != "sleepy" || m.Sound == "" || m.Blessing == "" ||
		!strings.HasPrefix(out, `{"sound": `) {
		t.Errorf("mew: %q", out)
	}
	// The live tool's answer for a happy cat.
	if got := output(t, srv, "moonshot/mew:latest", "mew_generator", map[string]any{"mood": "happy"}); got != `{"sound": "喵喵喵~", "blessing": "愿你的生活像猫咪一样悠闲自在！", "mood": "happy"}` {
		t.Errorf("happy mew: %q", got)
	}
	if a, b := output(t, srv, "moonshot/mew:latest", "mew_generator", "{}"), output(t, srv, "moonshot/mew:latest", "mew_generator", "{}"); a != b {
		t.Errorf("mew without mood not deterministic: %q %q", a, b)
	}
}

func TestFormulaWebSearch(t *testing.T) {
	srv := setup(t)
	f := runFiber(t, srv, "moonshot/web-search:latest", "web_search", map[string]any{"query": "天蓝色 RGB", "classes": []string{"all"}})
	if f.Status != "succeeded" || f.Context.Output != nil ||
		!strings.HasPrefix(f.Context.EncryptedOutput, "----MOONSHOT ENCRYPTED BEGIN----") ||
		!strings.HasSuffix(f.Context.EncryptedOutput, "----MOONSHOT ENCRYPTED END----") {
		t.Fatalf("%+v", f)
	}
	var n int
	var amount float64
	for _, c := range srv.Emulator.Ledger(srv.Key) {
		if c.Kind == ChargeWebSearch {
			n += c.Count
			amount += c.Amount
		}
	}
	if n != 1 || !approx(amount, webSearchFee) {
		t.Errorf("charges %d, %v", n, amount)
	}
	// Other fibers are free.
	output(t, srv, "moonshot/rethink:latest", "rethink", map[string]any{"thought": "x"})
	if len(srv.Emulator.Ledger(srv.Key)) != 1 {
		t.Errorf("ledger %+v", srv.Emulator.Ledger(srv.Key))
	}
}

func TestFormulaFiberHostile(t *testing.T) {
	srv := setup(t)
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	for _, c := range []struct{ formula, name, args string }{
		{"convert", "convert", `{"value":1e308,"from_unit":"km","to_unit":"nm"}`},
		{"convert", "convert", `{"value":-1e308,"from_unit":"°F","to_unit":"K"}`},
		{"convert", "convert", `{"value":1,"from_unit":"` + strings.Repeat("é", 40000) + `","to_unit":"m"}`},
		{"random-choice", "random_choice", `{"candidates":["a"],"count":9007199254740993,"replace":true}`},
		{"random-choice", "random_choice", `{"candidates":["a","b"],"count":1e300}`},
		{"random-choice", "random_choice", `{"candidates":["a","b"],"seed":-5,"weights":[1e308,1e308]}`},
		{"date", "date", `{"operation":"add","date":"2026-01-01","days":9007199254740992}`},
		{"date", "date", `{"operation":"time","format":"` + strings.Repeat("%", 300) + `"}`},
		{"date", "date", `{"operation":"time","zone":"../../../etc/passwd"}`},
		{"fetch", "fetch", `{"url":"file:///etc/passwd"}`},
		{"fetch", "fetch", `{"url":"x","start_index":-1}`},
		{"memory", "memory", `{"action":"list","prefix":""}`},
		{"memory", "memory", `{"action":"store","key":"k","data":{"a":` + deep + `}}`},
		{"base64", "base64_decode", `{"data":"` + strings.Repeat("A", 100000) + `"}`},
		{"mew", "mew_generator", deep},
	} {
		r := ktDo(t, srv, "POST", "/v1/formulas/moonshot/"+c.formula+"/fibers", map[string]string{"name": c.name, "arguments": c.args})
		if r.Status != 200 {
			t.Errorf("%s %.60s: %d %.200s", c.name, c.args, r.Status, r.Body)
		}
	}
}

func TestFormulaFetchHostileHTML(t *testing.T) {
	for _, h := range []string{"<", "<a", "<İİİİ href=x>", "<A HREF='x", "<a href=\"\"></a></a></a>", "<!--", "<!-- x", "<script>",
		"<h9>", "<h1 / >", "&#xFFFFFFFF;", "<a href=" + strings.Repeat("İ", 50) + ">x</a>"} {
		htmlToMarkdown(h) // must not panic
	}
}

// Dates are read as Python's strptime reads them and counted as
// Python's (b - a).days: floored, over any span.
func TestFormulaDateParsing(t *testing.T) {
	utc := time.UTC
	for _, c := range []struct {
		s, format string
		want      string // RFC 3339, "" for a refusal
	}{
		{"2024-3-5", "%Y-%m-%d", "2024-03-05T00:00:00Z"},
		{"5 march 2024 7:05 pm", "%d %B %Y %I:%M %p", "2024-03-05T19:05:00Z"},
		{"Tue, 05 Mar 24", "%a, %d %b %y", "2024-03-05T00:00:00Z"},
		{"2024-065", "%Y-%j", "2024-03-05T00:00:00Z"},
		{"2024-03-05 10:00 +0800", "%Y-%m-%d %H:%M %z", "2024-03-05T10:00:00+08:00"},
		{"2024-03-05T10:00:00+08:00", "%Y-%m-%d", "2024-03-05T10:00:00+08:00"}, // an ISO form
		{"2024-04-31", "%Y-%m-%d", ""},
		{"2024-03-05 25:00", "%Y-%m-%d %H:%M", ""},
		{"2024-03-05x", "%Y-%m-%d", ""},
		{"12:00 am", "%I:%M %p", "1900-01-01T00:00:00Z"},
	} {
		got, ok := parseDate(c.s, c.format, utc)
		if s := got.Format(time.RFC3339); ok != (c.want != "") || ok && s != c.want {
			t.Errorf("parseDate(%q, %q) = %s, %v; want %q", c.s, c.format, s, ok, c.want)
		}
	}
	srv := setup(t)
	for args, want := range map[string]string{
		`{"operation":"between","date1":"2026-01-01","date2":"2026-08-13"}`:                   "224 days", // the live tool's answer
		`{"operation":"between","date1":"1700-01-01","date2":"2300-01-01"}`:                   "219145 days",
		`{"operation":"between","date1":"2024-01-02 00:00:00","date2":"2024-01-01 23:00:00"}`: "-1 days",
		`{"operation":"add","date":"2024-3-5","days":1,"format":"%Y-%m-%d"}`:                  "2024-03-06",
	} {
		if got := output(t, srv, "moonshot/date:latest", "date", json.RawMessage(args)); got != want {
			t.Errorf("date %s = %q, want %q", args, got, want)
		}
	}
}

// Any date and format: a time or a refusal, never a panic, and a parsed
// time formats through the same format.
func FuzzStrptime(f *testing.F) {
	f.Add("2024-3-5", "%Y-%m-%d")
	f.Add("5 march 2024 7:05 pm", "%d %B %Y %I:%M %p")
	f.Add("2024-03-05 10:00 +08:00", "%Y-%m-%d %H:%M %z")
	f.Add("2024-065", "%Y-%j")
	f.Add("%", "%%%")
	f.Fuzz(func(t *testing.T, s, format string) {
		if len(format) > 256 || len(s) > 256 {
			return
		}
		if tm, ok := strptime(s, format, time.UTC); ok {
			strftime(tm, format)
		}
	})
}
