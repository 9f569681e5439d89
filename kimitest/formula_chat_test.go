package kimitest

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// formulaTools declares functions of the catalogue as a chat would.
func formulaTools(t *testing.T, names ...string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, entries := range formulaCatalog {
		for _, entry := range entries {
			var e struct {
				Type     string          `json:"type"`
				Function json.RawMessage `json:"function"`
			}
			if json.Unmarshal([]byte(entry), &e) != nil || e.Type != "function" {
				continue
			}
			var fn struct {
				Name string `json:"name"`
			}
			json.Unmarshal(e.Function, &fn)
			if slices.Contains(names, fn.Name) {
				out = append(out, map[string]any{"type": "function", "function": e.Function})
			}
		}
	}
	if len(out) != len(names) {
		t.Fatalf("declared %d of %v", len(out), names)
	}
	return out
}

// The model calls the formula the question asks for, with arguments read
// from it, and leaves the tools alone otherwise.
func TestFormulaChatCalls(t *testing.T) {
	srv := setup(t)
	all := []string{"web_search", "convert", "date", "base64_encode", "base64_decode", "fetch", "random_choice", "mew_generator", "memory"}
	for q, want := range map[string]string{
		"Please convert 72 °F to °C":                       `convert {"from_unit":"°F","to_unit":"°C","value":72}`,
		"How many days between 2026-01-01 and 2026-03-01?": `date {"date1":"2026-01-01","date2":"2026-03-01","operation":"between"}`,
		"What date is 30 days after 2026-12-01?":           `date {"date":"2026-12-01 00:00:00","days":30,"operation":"add"}`,
		"base64 encode 'hello'":                            `base64_encode {"data":"hello"}`,
		"Please base64 decode aGVsbG8=":                    `base64_decode {"data":"aGVsbG8="}`,
		"fetch https://example.com/page and summarise it":  `fetch {"url":"https://example.com/page"}`,
		"Pick one of tea, coffee or juice":                 `random_choice {"candidates":["tea","coffee","juice"]}`,
		"Search the web for Go 1.26 release notes":         `web_search {"query":"Go 1.26 release notes"}`,
		"Give me a cat blessing":                           `mew_generator {}`,
		"Remember that my favourite colour is blue":        `memory {"action":"store","data":{"value":"blue"},"key":"favourite_colour"}`,
		"What is my favourite colour?":                     `memory {"action":"retrieve","key":"favourite_colour"}`,
		"搜索一下 Kimi K3 的最新消息":                               `web_search {"query":"Kimi K3 的最新消息"}`,
		"2026-01-01 到 2026-08-13 有多少天？":                    `date {"date1":"2026-01-01","date2":"2026-08-13","operation":"between"}`,
		"用 base64 编码 “你好”":                                 `base64_encode {"data":"你好"}`,
		"帮我随机选一个：火锅、烧烤、寿司":                                 `random_choice {"candidates":["火锅","烧烤","寿司"]}`,
		"记住我的生日是5月1日":                                      `memory {"action":"store","data":{"value":"5月1日"},"key":"生日"}`,
		"我的生日是什么？":                                         `memory {"action":"retrieve","key":"生日"}`,
		"给我来一声猫叫":                                          `mew_generator {}`,
	} {
		for _, model := range []string{"moonshot-v1-8k", "kimi-k3"} {
			r := chat(t, srv, map[string]any{"model": model, "messages": msgs(user(q)), "tools": formulaTools(t, all...)})
			calls := r.Choices[0].Message.ToolCalls
			var got []string
			for _, c := range calls {
				got = append(got, c.Function.Name+" "+c.Function.Arguments)
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("%s, %q: calls %q, want %q", model, q, got, want)
			}
		}
	}
	r := chat(t, srv, map[string]any{"model": "kimi-k2.6", "messages": msgs(user("Write a haiku about autumn")), "tools": formulaTools(t, "convert", "base64_encode")})
	if n := len(r.Choices[0].Message.ToolCalls); n != 0 {
		t.Errorf("unrelated question: %d calls", n)
	}
}

// A search envelope sent back is read: the answer cites its results, and
// its tokens count as prompt tokens.
func TestFormulaChatEnvelope(t *testing.T) {
	srv := setup(t)
	env := webSearchEnvelope("boiling point of water", nil)
	p, ok := openWebSearchEnvelope(env)
	if !ok || len(p.Results) != 3 || p.Query != "boiling point of water" {
		t.Fatalf("envelope %v %+v", ok, p)
	}
	if _, ok := openWebSearchEnvelope(strings.Replace(env, "A", "B", 1)); ok {
		t.Error("a tampered envelope opened")
	}
	conv := func(result string) chatResponse {
		return chat(t, srv, map[string]any{"model": "kimi-k3", "tools": formulaTools(t, "web_search"), "messages": []map[string]any{
			user("Search the boiling point of water"),
			{"role": "assistant", "content": "", "reasoning_content": "search", "tool_calls": []map[string]any{{"id": "web_search_0", "type": "function",
				"function": map[string]any{"name": "web_search", "arguments": `{"query":"boiling point of water"}`}}}},
			{"role": "tool", "tool_call_id": "web_search_0", "content": result},
		}})
	}
	withEnv, plain := conv(env), conv(strings.Repeat("x", len(env)))
	if !strings.Contains(content(t, withEnv, 0), p.Results[0].URL) {
		t.Errorf("answer does not cite the results: %q", content(t, withEnv, 0))
	}
	if extra := withEnv.Usage.PromptTokens - plain.Usage.PromptTokens; extra < CountTokens(p.text())-CountTokens(strings.Repeat("x", len(env))) || extra <= 0 {
		t.Errorf("prompt tokens %d with the envelope, %d without: the results are not counted", withEnv.Usage.PromptTokens, plain.Usage.PromptTokens)
	}
}

// Declared as a client expands the excel _plugin (excel_<function>), the
// model calls the one function the question asks for, on the file it
// names, with the live schema's arguments, and the fiber runs it.
func TestFormulaChatExcel(t *testing.T) {
	srv := setup(t)
	f := mustUpload(t, srv, "sales.csv", "file-extract", []byte(salesCSV))
	var ent struct {
		Plugin struct {
			Functions []struct {
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
			} `json:"functions"`
		} `json:"_plugin"`
	}
	if err := json.Unmarshal([]byte(formulaCatalog["excel"][0]), &ent); err != nil {
		t.Fatal(err)
	}
	var tools []map[string]any
	for _, fn := range ent.Plugin.Functions {
		tools = append(tools, map[string]any{"type": "function", "function": map[string]any{
			"name": "excel_" + fn.Name, "description": fn.Description, "parameters": fn.Parameters}})
	}
	for q, want := range map[string][2]string{
		"What is the total of \"qty\" in " + f.ID + "?": {`excel_sum {"column":"qty","file_id":"` + f.ID + `"}`, "13"},
		"How many rows does " + f.ID + " have?":         {`excel_count {"file_id":"` + f.ID + `"}`, "4"},
		"统计一下文件 " + f.ID + " 各“city”的分布":                {`excel_value_counts {"column":"city","file_id":"` + f.ID + `"}`, "city   count\nParis  2\nLyon   1\nNice   1\n[3 rows × 2 columns]"},
		"What is in " + f.ID + "?":                      {`excel_read_file {"file_id":"` + f.ID + `"}`, "File: sales.csv"},
	} {
		r := chat(t, srv, map[string]any{"model": "kimi-k3", "messages": msgs(user(q)), "tools": tools})
		calls := r.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].Function.Name+" "+calls[0].Function.Arguments != want[0] {
			t.Errorf("%q: calls %+v, want %s", q, calls, want[0])
			continue
		}
		var args map[string]any
		json.Unmarshal([]byte(calls[0].Function.Arguments), &args)
		if out := output(t, srv, "moonshot/excel:latest", "excel."+strings.TrimPrefix(calls[0].Function.Name, "excel_"), args); !strings.HasPrefix(out, want[1]) {
			t.Errorf("%q: output %q, want %q", q, out, want[1])
		}
	}
}

// With the platform's file_ ids, files upload and read back, chat reads
// them through ms:// references, and the model finds them for excel.
func TestFilePrefixedIDs(t *testing.T) {
	srv := setup(t, WithFileIDPrefix("file_"))
	f := mustUpload(t, srv, "sales.csv", "file-extract", []byte(salesCSV))
	if !regexp.MustCompile(`^file_[0-9a-z]{20}$`).MatchString(f.ID) {
		t.Fatalf("id %q", f.ID)
	}
	wantStatus(t, ktDo(t, srv, "GET", "/v1/files/"+f.ID+"/content", nil), 200)
	if out := output(t, srv, "moonshot/excel:latest", "excel.count", map[string]any{"file_id": f.ID}); out != "4" {
		t.Errorf("excel on %s: %q", f.ID, out)
	}
	img := mustUpload(t, srv, "cat.png", "image", pngBytes).ID
	chat(t, srv, map[string]any{"model": "kimi-k2.6", "messages": mediaMsg(imagePart("ms://" + img))})
	if name, _ := excelChoice("How many rows does " + f.ID + " have?"); name != "count" || excelFileRE.FindString("rows of "+f.ID+"?") != f.ID {
		t.Errorf("the model does not find %s", f.ID)
	}
}
