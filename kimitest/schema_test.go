package kimitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// instanceFault checks the decoded value v (decoded with UseNumber)
// against the schema s of the document root, independently of the
// generator; it returns where v breaks the schema, "" when it does not.
// enum and const, when present, are all that is checked of a schema, as a
// model that writes the listed value follows nothing else.
func instanceFault(root, s *jsonValue, v any, path string, depth int) string {
	if depth > 64 {
		return ""
	}
	for range 8 {
		r := s.fieldString("$ref")
		if r == "" {
			break
		}
		s = resolveRef(root, r)
	}
	if !s.isObject() {
		return ""
	}
	if c := s.field("const"); c != nil {
		if !sameJSON(c, v) {
			return path + ": not the const"
		}
		return ""
	}
	if e := s.field("enum"); e != nil && e.kind == jsonArray {
		for _, it := range e.items {
			if sameJSON(it, v) {
				return ""
			}
		}
		return path + ": not in the enum"
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if l := s.field(k); l != nil && l.kind == jsonArray && len(l.items) > 0 {
			for _, br := range l.items {
				if instanceFault(root, br, v, path, depth+1) == "" {
					return ""
				}
			}
			return path + ": no " + k + " branch matches"
		}
	}
	if l := s.field("allOf"); l != nil && l.kind == jsonArray {
		for _, br := range l.items {
			if f := instanceFault(root, br, v, path, depth+1); f != "" {
				return f
			}
		}
	}
	types := schemaTypes(s)
	if len(types) > 0 && !slicesContainsFunc(types, func(t string) bool { return instanceHasType(v, t) }) {
		return fmt.Sprintf("%s: %v is not of type %v", path, v, types)
	}
	switch x := v.(type) {
	case map[string]any:
		props := s.field("properties")
		if r := s.field("required"); r != nil && r.kind == jsonArray {
			for _, k := range r.items {
				if _, ok := x[k.str]; !ok {
					return path + ": required " + k.str + " missing"
				}
			}
		}
		ap := s.field("additionalProperties")
		for k, val := range x {
			ps := props.field(k)
			switch {
			case ps != nil:
				if f := instanceFault(root, ps, val, path+"."+k, depth+1); f != "" {
					return f
				}
			case ap != nil && ap.kind == jsonBool && !ap.b:
				return path + ": extra key " + k
			case ap.isObject():
				if f := instanceFault(root, ap, val, path+"."+k, depth+1); f != "" {
					return f
				}
			}
		}
	case []any:
		if n := minItems(s); len(x) < n {
			return fmt.Sprintf("%s: %d items, minItems %d", path, len(x), n)
		}
		if m := s.field("maxItems"); m != nil && m.kind == jsonNumber && float64(len(x)) > m.num {
			return fmt.Sprintf("%s: %d items, maxItems %v", path, len(x), m.num)
		}
		if it := s.field("items"); it.isObject() {
			for i, el := range x {
				if f := instanceFault(root, it, el, fmt.Sprintf("%s[%d]", path, i), depth+1); f != "" {
					return f
				}
			}
		}
	case string:
		n := utf8.RuneCountInString(x)
		if m := s.field("minLength"); m != nil && m.kind == jsonNumber && float64(n) < m.num {
			return fmt.Sprintf("%s: %q shorter than %v", path, x, m.num)
		}
		if m := s.field("maxLength"); m != nil && m.kind == jsonNumber && float64(n) > m.num {
			return fmt.Sprintf("%s: %q longer than %v", path, x, m.num)
		}
		var err error
		format := s.fieldString("format")
		if s.field("minLength") != nil || s.field("maxLength") != nil {
			format = "" // the lengths win over the format
		}
		switch format {
		case "date":
			_, err = time.Parse(time.DateOnly, x)
		case "date-time":
			_, err = time.Parse(time.RFC3339, x)
		case "email":
			if at := strings.IndexByte(x, '@'); at <= 0 || !strings.Contains(x[at:], ".") {
				err = fmt.Errorf("no address")
			}
		case "uri":
			var u *url.URL
			if u, err = url.Parse(x); err == nil && u.Scheme == "" {
				err = fmt.Errorf("no scheme")
			}
		}
		if err != nil {
			return fmt.Sprintf("%s: %q is not a %s: %v", path, x, s.fieldString("format"), err)
		}
	case json.Number:
		f, _ := x.Float64()
		if !rangeOf(s).holds(f, slicesContainsFunc(types, func(t string) bool { return t == "integer" }) && !slicesContainsFunc(types, func(t string) bool { return t == "number" })) {
			return fmt.Sprintf("%s: %v out of range", path, x)
		}
	}
	return ""
}

func slicesContainsFunc(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}

func instanceHasType(v any, t string) bool {
	switch x := v.(type) {
	case nil:
		return t == "null"
	case bool:
		return t == "boolean"
	case string:
		return t == "string"
	case []any:
		return t == "array"
	case map[string]any:
		return t == "object"
	case json.Number:
		if t == "number" {
			return true
		}
		f, err := x.Float64()
		return t == "integer" && err == nil && f == math.Trunc(f)
	}
	return false
}

// sameJSON compares a schema value with a decoded instance value.
func sameJSON(a *jsonValue, b any) bool {
	var av any
	dec := json.NewDecoder(bytes.NewReader(a.appendJSON(nil)))
	dec.UseNumber()
	if dec.Decode(&av) != nil {
		return false
	}
	if an, ok := av.(json.Number); ok {
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, _ := an.Float64()
		y, _ := bn.Float64()
		return x == y
	}
	return reflect.DeepEqual(av, b)
}

// decodeInstance decodes generated JSON, numbers kept exact.
func decodeInstance(t testing.TB, text string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		t.Fatalf("not one JSON value (%v): %s", err, text)
	}
	return v
}

// schemaChat asks model for an answer in the schema's shape.
func schemaChat(model, question string, schema any) map[string]any {
	return map[string]any{"model": model, "messages": msgs(user(question)),
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "answer", "schema": schema, "strict": true}}}
}

// Refused schemas get the platform's 400, with the path of the fault.
func TestSchemaRefusals(t *testing.T) {
	srv := setup(t)
	obj := func(props string, extra ...string) string {
		return `{"type":"object","properties":{` + props + `}` + strings.Join(extra, "") + `}`
	}
	nested := `{"type":"string"}`
	for range 11 {
		nested = obj(`"x":` + nested)
	}
	cases := []struct {
		name, schema, details string
	}{
		{"tuple items", obj(`"pair":{"type":"array","items":[{"type":"string"},{"type":"integer"}]}`),
			"At path 'properties.pair.items': items must be an object"},
		{"items false", obj(`"list":{"type":"array","items":false}`), "At path 'properties.list.items': items must be an object"},
		{"root array", `{"type":"array","items":{"type":"string"}}`, "At path 'root': root schema type must be object"},
		{"root without type", `{"properties":{"a":{"type":"string"}}}`, "At path 'root': root schema type must be object"},
		{"root anyOf", `{"type":"object","anyOf":[{"type":"object","properties":{}}]}`,
			"At path 'root': when using anyOf, type should be defined in anyOf items instead of the parent schema"},
		{"nested type and anyOf", obj(`"skill":{"type":"string","anyOf":[{"type":"string"},{"type":"null"}]}`),
			"At path 'properties.skill': when using anyOf, type should be defined in anyOf items instead of the parent schema"},
		{"type and oneOf", obj(`"v":{"type":"string","oneOf":[{"type":"string"}]}`),
			"At path 'properties.v': when using oneOf, type should be defined in oneOf items instead of the parent schema"},
		{"type and $ref", obj(`"v":{"type":"string","$ref":"#/$defs/s"}`, `,"$defs":{"s":{"type":"string"}}`),
			"At path 'properties.v': when using $ref, type should be defined in the referenced schema instead of the parent schema"},
		{"property without type", obj(`"note":{"description":"free text"}`), "At path 'properties.note': type need to be defined explicitly"},
		{"deep property without type", obj(`"a":` + obj(`"b":{"type":"array","items":{"minLength":1}}`)),
			"At path 'properties.a.properties.b.items': type need to be defined explicitly"},
		{"anyOf branch without type", obj(`"v":{"anyOf":[{"type":"string"},{"description":"x"}]}`),
			"At path 'properties.v.anyOf': type need to be defined explicitly"},
		{"enum without type", obj(`"lang":{"enum":["en","zh"]}`), "At path 'properties.lang': type is not defined"},
		{"property schema not an object", obj(`"content":"string"`), "At path 'properties': property schema for 'content' must be an object"},
		{"boolean property schema", obj(`"tasks":{"type":"array","items":` + obj(`"outputSchema":true`) + `}`),
			"At path 'properties.tasks.items.properties': property schema for 'outputSchema' must be an object"},
		{"invalid type", obj(`"a":{"type":"str"}`), "At path 'properties.a': invalid type"},
		{"enum of another type", obj(`"k":{"type":"string","enum":["a",1]}`), "At path 'properties.k.enum': enum value (1) does not match any type in [string]"},
		{"empty enum", obj(`"k":{"type":"string","enum":[]}`), "At path 'properties.k.enum': enum array cannot be empty"},
		{"required undefined", obj(`"a":{"type":"string"}`, `,"required":["a","b"]`), "At path 'required': required property 'b' is not defined in properties"},
		{"minLength over maxLength", obj(`"code":{"type":"string","minLength":5,"maxLength":3}`),
			"At path 'properties.code.minLength': minLength (5) cannot be greater than maxLength (3)"},
		{"minimum over maximum", obj(`"n":{"type":"integer","minimum":5,"maximum":3}`), "At path 'properties.n': minimum (5) cannot be greater than maximum (3)"},
		{"negative minItems", obj(`"l":{"type":"array","items":{"type":"string"},"minItems":-1}`), "At path 'properties.l': minItems must be non-negative"},
		{"keyword of another type", obj(`"s":{"type":"string","minItems":1}`), "At path 'properties.s': invalid keywords: minItems"},
		{"$defs below the root", obj(`"a":{"type":"object","$defs":{"x":{"type":"string"}}}`), "At path 'properties.a': keyword $defs must be at root level"},
		{"missing definition", obj(`"a":{"$ref":"#/$defs/Missing"}`, `,"$defs":{"x":{"type":"string"}}`),
			"At path 'properties.a.$ref': invalid $ref path: #/$defs/Missing"},
		{"no definitions", obj(`"a":{"$ref":"#/$defs/Missing"}`), "At path 'properties.a.$ref': $defs not found for reference: #/$defs/Missing"},
		{"external reference", obj(`"a":{"$ref":"https://example.com/s.json"}`), "At path 'properties.a.$ref': references must start with #/$defs/"},
		{"endless recursion", obj(`"node":{"$ref":"#"}`, `,"required":["node"]`),
			"At path 'properties.node': detected infinite recursion without termination condition"},
		{"endless mutual recursion", obj(`"x":{"$ref":"#/$defs/a"}`, `,"required":["x"],"$defs":{"a":`+obj(`"y":{"$ref":"#/$defs/b"}`, `,"required":["y"]`)+`,"b":`+obj(`"z":{"$ref":"#/$defs/a"}`, `,"required":["z"]`)+`}`),
			"At path 'properties.x': detected infinite recursion without termination condition"},
		{"too deep", nested, "At path 'root': schema depth exceeds maximum limit of 10"},
		{"too large", obj(`"a":{"type":"string","description":"` + strings.Repeat("x", schemaMaxBytes) + `"}`), "At path 'root': schema exceeds maximum allowed size"},
		{"too many anyOf branches", obj(`"v":{"anyOf":[` + strings.TrimSuffix(strings.Repeat(`{"type":"null"},`, 101), ",") + `]}`),
			"At path 'properties.v.anyOf': anyOf must have 1-100 items"},
		{"reserved property name", obj(`"$ref":{"type":"string"}`), "At path 'properties': property name '$ref' is reserved for JSON Schema keywords"},
		{"not an object", `"string"`, "At path 'root': schema must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"model":"kimi-k2.6","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":%s}}}`, c.schema)
			wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error",
				"Invalid request: response_format.json_schema is not a valid moonshot flavored json schema, details: <"+c.details+">")
		})
	}
	// A json_schema without a schema.
	wantAPIError(t, postChat(t, srv, `{"model":"kimi-k2.6","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}`),
		400, "invalid_request_error",
		"Invalid request: response_format.json_schema is not a valid moonshot flavored json schema, details: <At path 'root': schema must be a JSON object>")
}

// Hostile schemas are refused in bounded time: deep JSON nesting, many
// definitions referring to each other, a schema at the size bound.
func TestSchemaHostile(t *testing.T) {
	srv := setup(t)
	var defs []string
	for i := range 120 {
		// Each definition refers to the next one twice: a naive walk
		// would take 2^120 steps.
		defs = append(defs, fmt.Sprintf(`"d%d":{"type":"object","properties":{"a":{"$ref":"#/$defs/d%d"},"b":{"$ref":"#/$defs/d%d"}}}`, i, i+1, i+1))
	}
	defs = append(defs, `"d120":{"type":"string"}`)
	cases := map[string]string{
		"deep nesting":  `{"type":"object","x":` + strings.Repeat("[", 6000) + strings.Repeat("]", 6000) + `}`,
		"shared refs":   `{"type":"object","properties":{"root":{"$ref":"#/$defs/d0"}},"$defs":{` + strings.Join(defs, ",") + `}}`,
		"wide enum":     `{"type":"object","properties":{"e":{"type":"integer","enum":[` + strings.TrimSuffix(strings.Repeat("1,", 501), ",") + `]}}}`,
		"many anyOf":    `{"type":"object","properties":{"v":{"anyOf":[` + strings.TrimSuffix(strings.Repeat(`{"anyOf":[{"type":"null"},{"type":"string"}]},`, 100), ",") + `]}}}`,
		"long strings":  `{"type":"object","properties":{"s":{"type":"string","minLength":1000000}},"required":["s"]}`,
		"huge minItems": `{"type":"object","properties":{"l":{"type":"array","items":{"type":"integer"},"minItems":1000000000}},"required":["l"]}`,
	}
	for name, schema := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			body := fmt.Sprintf(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}],"max_tokens":8000,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":%s}}}`, schema)
			r := postChat(t, srv, body)
			if r.Status != 200 && r.Status != 400 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	// The two that are accepted but cannot fit: the answer is cut, as a
	// model would run out of tokens.
	for _, schema := range []string{cases["long strings"], cases["huge minItems"]} {
		r := decodeChat(t, postChat(t, srv, fmt.Sprintf(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}],"max_tokens":8000,"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":%s}}}`, schema)))
		if r.Choices[0].FinishReason != "length" || json.Valid([]byte(content(t, r, 0))) {
			t.Fatalf("finish %s, content %.80q", r.Choices[0].FinishReason, content(t, r, 0))
		}
	}
}

// tripSchema exercises every feature the generator supports.
const tripSchema = `{
  "type": "object",
  "properties": {
    "traveller": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "website": {"type": "string", "format": "uri"},
    "city": {"type": "string"},
    "country": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "departure": {"type": "string", "format": "date-time"},
    "nights": {"type": "integer", "minimum": 1, "maximum": 30},
    "guests": {"type": "integer", "exclusiveMinimum": 0},
    "budget": {"type": "number", "minimum": 100, "maximum": 100000},
    "class": {"type": "string", "enum": ["economy", "premium", "business"]},
    "currency": {"const": "EUR"},
    "refundable": {"type": "boolean"},
    "code": {"type": "string", "minLength": 3, "maxLength": 3},
    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
    "note": {"type": ["string", "null"]},
    "seat": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]},
    "meal": {"oneOf": [{"type": "null"}, {"type": "string", "enum": ["vegan", "standard"]}]},
    "legs": {"type": "array", "items": {"$ref": "#/$defs/leg"}, "minItems": 1},
    "extras": {"type": "object", "additionalProperties": {"type": "integer"}},
    "route": {"$ref": "#/definitions/stop"},
    "summary": {"type": "string", "description": "one sentence"}
  },
  "required": ["traveller", "email", "website", "city", "country", "date", "departure", "nights", "guests", "budget",
    "class", "currency", "refundable", "code", "tags", "note", "seat", "meal", "legs", "extras", "route", "summary"],
  "additionalProperties": false,
  "$defs": {
    "leg": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "hours": {"type": "number"}},
      "required": ["from", "to", "hours"], "additionalProperties": false}
  },
  "definitions": {
    "stop": {"type": "object", "properties": {"name": {"type": "string"}, "next": {"anyOf": [{"$ref": "#/definitions/stop"}, {"type": "null"}]}},
      "required": ["name", "next"], "additionalProperties": false}
  }
}`

func TestJSONSchemaInstance(t *testing.T) {
	srv := setup(t)
	// Sent as written, so that its properties keep their order.
	schema := json.RawMessage(tripSchema)
	root, _ := parseOrdered(schema)
	question := "I'm Marie Curie (marie@example.org). Book a business trip to Paris for 2 guests and 4 nights on 2026-03-14, budget 2500."
	for _, model := range []string{"moonshot-v1-8k", "kimi-k2.6", "kimi-k3"} {
		r := chat(t, srv, schemaChat(model, question, schema))
		text := content(t, r, 0)
		v := decodeInstance(t, text)
		if f := instanceFault(root, root, v, "$", 0); f != "" {
			t.Fatalf("%s: %s in %s", model, f, text)
		}
		got := v.(map[string]any)
		want := map[string]any{"traveller": "Marie Curie", "email": "marie@example.org", "city": "Paris", "country": "France",
			"date": "2026-03-14", "nights": json.Number("4"), "guests": json.Number("2"), "budget": json.Number("2500"), "class": "business", "currency": "EUR"}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s = %v, want %v (%s)", model, k, got[k], w, text)
			}
		}
		// Properties come in the schema's order, as a model writes them.
		if !strings.HasPrefix(text, `{"traveller":`) || strings.Index(text, `"summary"`) < strings.Index(text, `"route"`) {
			t.Errorf("%s: property order: %s", model, text)
		}
		// The same request, the same answer; the stream says the same.
		if again := chat(t, srv, schemaChat(model, question, schema)); content(t, again, 0) != text {
			t.Fatalf("%s: not deterministic", model)
		}
		chunks, _ := streamChat(t, srv, schemaChat(model, question, schema))
		if a := assemble(t, chunks)[0]; a.content != text || a.finish != "stop" {
			t.Fatalf("%s: stream %q, finish %s", model, a.content, a.finish)
		}
	}
	// Without strict and with a required list, optional properties are
	// left out unless the question speaks of them.
	optional := map[string]any{"type": "object", "properties": map[string]any{
		"city": map[string]any{"type": "string"}, "unit": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
		"wind": map[string]any{"type": "boolean"}}, "required": []string{"city"}}
	body := schemaChat("moonshot-v1-8k", "Weather in Rome, in fahrenheit please", optional)
	body["response_format"].(map[string]any)["json_schema"].(map[string]any)["strict"] = false
	if got := content(t, chat(t, srv, body), 0); got != `{"city":"Rome","unit":"fahrenheit"}` {
		t.Fatalf("optional properties: %s", got)
	}
	// Chinese questions get Chinese values.
	zh := json.RawMessage(`{"type":"object","properties":{"城市":{"type":"string"},"name":{"type":"string"},"age":{"type":"integer"}},"required":["城市","name","age"]}`)
	if got := content(t, chat(t, srv, schemaChat("kimi-k2.6", "我叫王芳，今年25岁，住在上海。", zh)), 0); got != `{"城市":"上海","name":"王芳","age":25}` {
		t.Fatalf("Chinese: %s", got)
	}
	// n choices all follow the schema.
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "n": 3, "temperature": 0.9, "messages": msgs(user(question)),
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "t", "schema": schema}}})
	for i := range r.Choices {
		if f := instanceFault(root, root, decodeInstance(t, content(t, r, i)), "$", 0); f != "" {
			t.Fatalf("choice %d: %s", i, f)
		}
	}
}

// FuzzJSONSchema feeds any schema and question to the validator, the
// generator (as a response schema and as tool parameters) and the chat
// endpoint: no panic, no hang, a 400 in the platform's words or an answer
// that is an instance of the schema. Its corpus is under
// testdata/fuzz/FuzzJSONSchema.
func FuzzJSONSchema(f *testing.F) {
	f.Add([]byte(tripSchema), "Book a trip to Paris for 2 guests on 2026-03-14.")
	f.Add([]byte(`{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1}},"required":["city","days"]}`), "What's the weather in Paris for 3 days? Use get_weather.")
	f.Add([]byte(`{"type":"object","properties":{"pair":{"type":"array","items":[{"type":"string"}]}}}`), "x")
	f.Add([]byte(`{"type":"object","properties":{"n":{"$ref":"#"}},"required":["n"]}`), "")
	f.Add([]byte(`{"type":"object","properties":{"l":{"type":"array","items":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]},"minItems":3}},"$defs":{"a":{"type":"object","properties":{"x":{"$ref":"#/$defs/a"}}}}}`), "三个城市")
	f.Add([]byte(`{"type":"object","properties":{"s":{"type":"string","minLength":2,"maxLength":2,"format":"date"}},"required":["s"]}`), "on 2026-01-01")
	e := New()
	f.Cleanup(func() { e.Close() })
	f.Fuzz(func(t *testing.T, schema []byte, question string) {
		start := time.Now()
		facts := newQuestionFacts(question, isChinese(question), "An answer.", nil)
		rng := rand.New(rand.NewPCG(1, 2))
		d := checkResponseSchema(schema)
		if d != "" && !strings.HasPrefix(d, "At path '") {
			t.Fatalf("details %q", d)
		}
		if d == "" {
			text, whole := schemaInstance(schema, facts, rng, false)
			if len(text) > genMaxBytes+64<<10 {
				t.Fatalf("instance of %d bytes", len(text))
			}
			if whole {
				root, _ := parseOrdered(schema)
				if f := instanceFault(root, root, decodeInstance(t, text), "$", 0); f != "" {
					t.Fatalf("%s: %s", f, text)
				}
			}
		}
		// Any schema as a function's parameters: an object, or its prefix.
		if args, whole := toolArguments(schema, facts, rng); whole {
			var v map[string]any
			if err := json.Unmarshal([]byte(args), &v); err != nil {
				t.Fatalf("arguments %q: %v", args, err)
			}
		}
		// The whole request, through the emulator.
		if json.Valid(schema) {
			q, _ := json.Marshal(question)
			body := fmt.Sprintf(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":%s}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":%s}}}`, q, schema)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+DefaultKey)
			e.ServeHTTP(rec, req)
			checkFuzzAnswer(t, rec, []byte(body))
			// An empty question is refused for itself.
			if question != "" && (rec.Code == 200) != (d == "") {
				t.Fatalf("status %d, validator %q: %s", rec.Code, d, rec.Body.Bytes())
			}
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v", el)
		}
	})
}
