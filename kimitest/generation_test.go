package kimitest

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func TestCountTokens(t *testing.T) {
	cases := []struct {
		text string
		want int
	}{
		{"", 0},
		{"   \n", 0},
		{"word", 1},
		{"words", 2},         // 5 letters: ceil(5/4)
		{"Hello, world!", 6}, // Hel lo , wor ld !
		{"1234567", 3},       // 123 456 7
		{"你好", 1},            // 2 CJK chars: one piece
		{"你好世界", 3},          // pieces of 2,1,1
		{"你好，世界。", 4},        // 你好 ， 世界 。
		{"abc def", 2},
	}
	for _, c := range cases {
		if got := CountTokens(c.text); got != c.want {
			t.Errorf("CountTokens(%q) = %d, want %d", c.text, got, c.want)
		}
		// White space alone has no pieces (it is free).
		if got := strings.Join(tokenize(c.text), ""); got != c.text && strings.TrimSpace(c.text) != "" {
			t.Errorf("tokenize(%q) does not round-trip: %q", c.text, got)
		}
	}
	// The ratios the doc promises: ~4 ASCII chars and ~1.5 CJK chars a token.
	en := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 50)
	if r := float64(len(en)) / float64(CountTokens(en)); r < 3 || r > 5 {
		t.Errorf("English: %.2f chars per token", r)
	}
	zh := strings.Repeat("今天天气很好我们去公园散步吧", 50)
	if r := float64(len([]rune(zh))) / float64(CountTokens(zh)); r < 1.3 || r > 2 {
		t.Errorf("Chinese: %.2f chars per token", r)
	}
}

// prompt_tokens comes from the documented counter.
func TestPromptTokensMatchCounter(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(
		map[string]any{"role": "system", "content": "你是 Kimi。"}, user("Explain the CAP theorem in two sentences.")),
		"tools": tools("get_weather")}
	raw, _ := json.Marshal(body)
	want, err := CountRequestTokens(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := chat(t, srv, body)
	if r.Usage.PromptTokens != want || want < 20 {
		t.Fatalf("prompt_tokens %d, counter %d", r.Usage.PromptTokens, want)
	}
	if r.Usage.TotalTokens != r.Usage.PromptTokens+r.Usage.CompletionTokens {
		t.Fatalf("usage %+v", r.Usage)
	}
	if got := CountTokens(content(t, r, 0)); got != r.Usage.CompletionTokens {
		t.Fatalf("completion_tokens %d, content counts %d", r.Usage.CompletionTokens, got)
	}
	// v1 has no automatic caching: no cached_tokens, no details.
	if r.Usage.CachedTokens != nil || r.Usage.PromptTokensDetails != nil || r.Usage.CompletionTokensDetails != nil {
		t.Fatalf("v1 usage has 2026 fields: %+v", r.Usage)
	}
}

var chatcmplRE = regexp.MustCompile(`^chatcmpl-[0-9a-f]{24}$`)

func TestReplyShapeAndLanguage(t *testing.T) {
	srv := setup(t)
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("你好，我叫李雷，1+1等于多少？"))})
	if !chatcmplRE.MatchString(r.ID) || r.Object != "chat.completion" || r.Model != "moonshot-v1-8k" || r.Created < 1.7e9 {
		t.Fatalf("envelope: %+v", r)
	}
	c := r.Choices[0]
	if c.Index != 0 || c.Message.Role != "assistant" || c.FinishReason != "stop" || c.Message.ReasoningContent != nil {
		t.Fatalf("choice: %+v", c)
	}
	zh := content(t, r, 0)
	if han, latin := countScripts(zh); han < 20 || latin > han/4 {
		t.Fatalf("Chinese prompt got %q", zh)
	}
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("What is the rotation period of the Earth?"))})
	en := content(t, r, 0)
	if han, latin := countScripts(en); han != 0 || latin < 50 || !strings.Contains(en, "rotation period") {
		t.Fatalf("English prompt got %q", en)
	}
}

func countScripts(s string) (han, latin int) {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			han++
		case r < 128 && unicode.IsLetter(r):
			latin++
		}
	}
	return
}

func TestDeterminism(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Tell me about Go channels."))}
	a, b := chat(t, srv, body), chat(t, srv, body)
	if content(t, a, 0) != content(t, b, 0) || a.ID == b.ID {
		t.Fatalf("not deterministic or same id: %q / %q", content(t, a, 0), content(t, b, 0))
	}
	// Another emulator instance agrees too.
	c := chat(t, setup(t), body)
	if content(t, a, 0) != content(t, c, 0) {
		t.Fatal("another emulator replied differently")
	}
	body["messages"] = msgs(user("Tell me about Go maps."))
	if d := chat(t, srv, body); content(t, d, 0) == content(t, a, 0) {
		t.Fatal("different questions got the same reply")
	}
}

func TestMaxTokensLength(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Explain recursion"))}
	full := content(t, chat(t, srv, body), 0)
	for _, key := range []string{"max_tokens", "max_completion_tokens"} {
		body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Explain recursion")), key: 5}
		r := chat(t, srv, body)
		got := content(t, r, 0)
		if r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 5 || CountTokens(got) != 5 || !strings.HasPrefix(full, got) {
			t.Fatalf("%s=5: finish %s, usage %+v, %q (full %q)", key, r.Choices[0].FinishReason, r.Usage, got, full)
		}
	}
	// max_completion_tokens wins over max_tokens.
	r := chat(t, srv, map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Explain recursion")), "max_tokens": 3, "max_completion_tokens": 7})
	if r.Usage.CompletionTokens != 7 {
		t.Fatalf("completion_tokens %d, want 7", r.Usage.CompletionTokens)
	}
}

func TestStop(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Explain recursion"))}
	full := content(t, chat(t, srv, body), 0)
	words := strings.Fields(full)
	stopWord := words[4]
	for _, stop := range []any{stopWord, []string{"zzz-not-there", stopWord}} {
		body["stop"] = stop
		r := chat(t, srv, body)
		got := content(t, r, 0)
		want := full[:strings.Index(full, stopWord)]
		if got != want || r.Choices[0].FinishReason != "stop" {
			t.Fatalf("stop %v: %q, want %q", stop, got, want)
		}
	}
}

func TestNChoices(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Name a color")), "n": 3}
	r := chat(t, srv, body)
	if len(r.Choices) != 3 {
		t.Fatalf("%d choices", len(r.Choices))
	}
	seen := map[string]bool{}
	sum := 0
	for i, c := range r.Choices {
		if c.Index != i {
			t.Fatalf("choice %d has index %d", i, c.Index)
		}
		txt := content(t, r, i)
		if seen[txt] {
			t.Fatalf("choices repeat: %q", txt)
		}
		seen[txt] = true
		sum += CountTokens(txt)
	}
	if r.Usage.CompletionTokens != sum {
		t.Fatalf("completion_tokens %d, sum of choices %d", r.Usage.CompletionTokens, sum)
	}
	r2 := chat(t, srv, body)
	for i := range 3 {
		if content(t, r, i) != content(t, r2, i) {
			t.Fatalf("choice %d not deterministic", i)
		}
	}
}

func TestJSONMode(t *testing.T) {
	srv := setup(t)
	r := chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("Give me a JSON summary of Go")),
		"response_format": map[string]any{"type": "json_object"}})
	var obj map[string]any
	if err := json.Unmarshal([]byte(content(t, r, 0)), &obj); err != nil || len(obj) == 0 {
		t.Fatalf("json_object content %q: %v", content(t, r, 0), err)
	}
	schema := map[string]any{"type": "object", "properties": map[string]any{
		"name":   map[string]any{"type": "string"},
		"age":    map[string]any{"type": "integer"},
		"score":  map[string]any{"type": "number"},
		"ok":     map[string]any{"type": "boolean"},
		"tags":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"kind":   map[string]any{"type": "string", "enum": []string{"cat", "dog"}},
		"nested": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "integer"}}, "required": []string{"x"}},
		"unused": map[string]any{"type": "string"},
	}, "required": []string{"name", "age", "score", "ok", "tags", "kind", "nested"}}
	r = chat(t, srv, map[string]any{"model": "kimi-k2.5", "messages": msgs(user("Describe a pet")),
		"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "pet", "schema": schema}}})
	var v struct {
		Name   *string           `json:"name"`
		Age    *int              `json:"age"`
		Score  *float64          `json:"score"`
		OK     *bool             `json:"ok"`
		Tags   []string          `json:"tags"`
		Kind   string            `json:"kind"`
		Nested *struct{ X *int } `json:"nested"`
		Unused *string           `json:"unused"`
	}
	dec := json.NewDecoder(strings.NewReader(content(t, r, 0)))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("json_schema content %q: %v", content(t, r, 0), err)
	}
	if v.Name == nil || v.Age == nil || v.Score == nil || v.OK == nil || len(v.Tags) == 0 || v.Kind != "cat" || v.Nested == nil || v.Nested.X == nil || v.Unused != nil {
		t.Fatalf("json_schema content %s", content(t, r, 0))
	}
}

func weatherTool() map[string]any {
	return map[string]any{"type": "function", "function": map[string]any{
		"name": "get_weather", "description": "Get the current weather of a city",
		"parameters": map[string]any{"type": "object", "required": []string{"city", "days"}, "properties": map[string]any{
			"city": map[string]any{"type": "string"}, "days": map[string]any{"type": "integer"},
			"unit": map[string]any{"type": "string", "enum": []string{"c", "f"}}}},
	}}
}

func TestToolCallRoundTrip(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct {
		model, idPrefix string
		indexed         bool
	}{
		{"moonshot-v1-8k", "get_weather:", false},
		{"kimi-k2-turbo-preview", "functions.get_weather:", true},
	} {
		history := msgs(user("What's the weather in Paris?"))
		body := map[string]any{"model": c.model, "messages": history, "tools": []any{weatherTool()}}
		r := chat(t, srv, body)
		ch := r.Choices[0]
		if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
			t.Fatalf("%s: %+v", c.model, ch)
		}
		tc := ch.Message.ToolCalls[0]
		if tc.ID != c.idPrefix+"0" || tc.Type != "function" || tc.Function.Name != "get_weather" || (tc.Index != nil) != c.indexed {
			t.Fatalf("%s: tool call %+v", c.model, tc)
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(tc.Function.Arguments), &args); err != nil {
			t.Fatalf("arguments %q: %v", tc.Function.Arguments, err)
		}
		if args["city"] != "Paris" || args["days"] == nil || args["unit"] != nil {
			t.Fatalf("arguments %v", args)
		}
		// Send the result back: the answer uses it.
		history = append(history, map[string]any{"role": "assistant", "content": "", "tool_calls": []any{
			map[string]any{"id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Function.Name, "arguments": tc.Function.Arguments}}}},
			map[string]any{"role": "tool", "tool_call_id": tc.ID, "name": "get_weather", "content": `{"temp":"21C","sky":"sunny"}`})
		body["messages"] = history
		r = chat(t, srv, body)
		if r.Choices[0].FinishReason != "stop" || !strings.Contains(content(t, r, 0), "21C") {
			t.Fatalf("%s: answer after tool: %+v %q", c.model, r.Choices[0], content(t, r, 0))
		}
		// A follow-up call continues the id numbering.
		history = append(history, map[string]any{"role": "assistant", "content": content(t, r, 0)}, user("And the weather in Rome?"))
		body["messages"] = history
		r = chat(t, srv, body)
		if got := r.Choices[0].Message.ToolCalls; len(got) != 1 || got[0].ID != c.idPrefix+"1" {
			t.Fatalf("%s: second call %+v", c.model, got)
		}
	}
}

func TestToolChoice(t *testing.T) {
	srv := setup(t)
	other := map[string]any{"type": "function", "function": map[string]any{"name": "send_mail", "description": "Send an email",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"to": map[string]any{"type": "string"}}}}}
	base := func() map[string]any {
		return map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Hello there")), "tools": []any{weatherTool(), other}}
	}
	// No mention: plain text.
	if r := chat(t, srv, base()); r.Choices[0].FinishReason != "stop" || len(r.Choices[0].Message.ToolCalls) != 0 {
		t.Fatalf("auto without mention: %+v", r.Choices[0])
	}
	// Mention by description word, but tool_choice none.
	b := base()
	b["messages"] = msgs(user("Please send an email to Bob"))
	b["tool_choice"] = "none"
	if r := chat(t, srv, b); len(r.Choices[0].Message.ToolCalls) != 0 {
		t.Fatal("tool_choice none still called a tool")
	}
	delete(b, "tool_choice")
	if r := chat(t, srv, b); len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].Message.ToolCalls[0].Function.Name != "send_mail" {
		t.Fatalf("description match: %+v", r.Choices[0].Message.ToolCalls)
	}
	// Forced.
	b = base()
	b["tool_choice"] = "required"
	if r := chat(t, srv, b); len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("required: %+v", r.Choices[0])
	}
	b["tool_choice"] = map[string]any{"type": "function", "function": map[string]any{"name": "send_mail"}}
	r := chat(t, srv, b)
	if len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].Message.ToolCalls[0].Function.Name != "send_mail" {
		t.Fatalf("specified: %+v", r.Choices[0])
	}
	// No required list: every property is filled.
	if args := r.Choices[0].Message.ToolCalls[0].Function.Arguments; !strings.Contains(args, `"to"`) {
		t.Fatalf("arguments %s", args)
	}
	// Chinese description words match Chinese questions.
	zhTool := map[string]any{"type": "function", "function": map[string]any{"name": "query_weather", "description": "查询城市天气",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}}}
	r = chat(t, srv, map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("北京今天天气怎么样？")), "tools": []any{zhTool}})
	if len(r.Choices[0].Message.ToolCalls) != 1 {
		t.Fatalf("Chinese mention: %+v", r.Choices[0])
	}
}

func TestWebSearchTwoSteps(t *testing.T) {
	srv := setup(t)
	ws := map[string]any{"type": "builtin_function", "function": map[string]any{"name": "$web_search"}}
	history := msgs(user("What happened in the news today?"))
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": history, "tools": []any{ws}}
	r1 := chat(t, srv, body)
	ch := r1.Choices[0]
	if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 || ch.Message.ToolCalls[0].Function.Name != "$web_search" {
		t.Fatalf("first turn: %+v", ch)
	}
	tc := ch.Message.ToolCalls[0]
	var args struct {
		SearchResult struct {
			SearchID string `json:"search_id"`
		} `json:"search_result"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(tc.Function.Arguments), &args); err != nil || args.SearchResult.SearchID == "" || args.Usage.TotalTokens <= 0 {
		t.Fatalf("arguments %q: %v", tc.Function.Arguments, err)
	}
	history = append(history, map[string]any{"role": "assistant", "content": "", "tool_calls": []any{
		map[string]any{"id": tc.ID, "type": "builtin_function", "function": map[string]any{"name": "$web_search", "arguments": tc.Function.Arguments}}}},
		map[string]any{"role": "tool", "tool_call_id": tc.ID, "name": "$web_search", "content": tc.Function.Arguments})
	body["messages"] = history
	raw, _ := json.Marshal(body)
	counted, err := CountRequestTokens(raw)
	if err != nil {
		t.Fatal(err)
	}
	r2 := chat(t, srv, body)
	if r2.Choices[0].FinishReason != "stop" || !strings.Contains(content(t, r2, 0), "search") {
		t.Fatalf("second turn: %+v %q", r2.Choices[0], content(t, r2, 0))
	}
	if r2.Usage.PromptTokens != counted+args.Usage.TotalTokens {
		t.Fatalf("prompt_tokens %d, want %d + %d", r2.Usage.PromptTokens, counted, args.Usage.TotalTokens)
	}
}

func TestReasoning(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct {
		model    string
		thinking map[string]any
		want     bool
	}{
		{"kimi-k2-thinking", nil, true},
		{"kimi-thinking-preview", nil, true},
		{"kimi-k2.5", nil, true},
		{"kimi-k2.5", map[string]any{"type": "disabled"}, false},
		{"kimi-k2-turbo-preview", nil, false},
	} {
		body := map[string]any{"model": c.model, "messages": msgs(user("9.11 or 9.9: which is larger?"))}
		if c.thinking != nil {
			body["thinking"] = c.thinking
		}
		r := chat(t, srv, body)
		rc := r.Choices[0].Message.ReasoningContent
		if (rc != nil && *rc != "") != c.want {
			t.Fatalf("%s %v: reasoning %v", c.model, c.thinking, rc)
		}
		if !c.want {
			continue
		}
		d := r.Usage.CompletionTokensDetails
		if d == nil || d.ReasoningTokens != CountTokens(*rc) || r.Usage.CompletionTokens != d.ReasoningTokens+CountTokens(content(t, r, 0)) {
			t.Fatalf("%s usage %+v", c.model, r.Usage)
		}
	}
	// Reasoning counts against max_tokens and comes first.
	r := chat(t, srv, map[string]any{"model": "kimi-k2-thinking", "messages": msgs(user("hi")), "max_tokens": 4})
	if r.Choices[0].FinishReason != "length" || content(t, r, 0) != "" || CountTokens(*r.Choices[0].Message.ReasoningContent) != 4 {
		t.Fatalf("%+v", r.Choices[0])
	}
}

func TestPartialMode(t *testing.T) {
	srv := setup(t)
	prefix := "Once upon a time"
	r := chat(t, srv, map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("Tell me a story"),
		map[string]any{"role": "assistant", "content": prefix, "partial": true})})
	got := content(t, r, 0)
	if got == "" || strings.Contains(got, prefix) || !strings.HasPrefix(got, " ") {
		t.Fatalf("continuation %q", got)
	}
	// A "{" prefill is completed into a JSON object.
	r = chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("Answer in JSON"),
		map[string]any{"role": "assistant", "content": "{", "partial": true})})
	var obj map[string]any
	if err := json.Unmarshal([]byte("{"+content(t, r, 0)), &obj); err != nil {
		t.Fatalf("prefix + continuation not JSON: %q", content(t, r, 0))
	}
}

func TestRules(t *testing.T) {
	srv := setup(t,
		WithRule(Rule{Model: "kimi-k2.5", Match: "ping", Reply: "k2.5 pong"}),
		WithRule(Rule{Match: "ping", Reply: "pong", Reasoning: "scripted thought"}),
		WithRule(Rule{Regexp: regexp.MustCompile(`^call (\w+)$`), ToolCalls: []RuleToolCall{{Name: "lookup", Arguments: `{"q":"x"}`}, {Name: "other"}}}),
		WithRule(Rule{Match: "stopme", Reply: "one two three", FinishReason: "stop"}),
	)
	r := chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("say ping please"))})
	if content(t, r, 0) != "pong" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("%+v", r.Choices[0])
	}
	r = chat(t, srv, map[string]any{"model": "kimi-k2.5", "messages": msgs(user("ping"))})
	if content(t, r, 0) != "k2.5 pong" || r.Choices[0].Message.ReasoningContent == nil || *r.Choices[0].Message.ReasoningContent == "" {
		t.Fatalf("model rule: %+v", r.Choices[0])
	}
	r = chat(t, srv, map[string]any{"model": "kimi-k2-thinking", "messages": msgs(user("ping"))})
	if *r.Choices[0].Message.ReasoningContent != "scripted thought" {
		t.Fatalf("reasoning %q", *r.Choices[0].Message.ReasoningContent)
	}
	r = chat(t, srv, map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("call it"))})
	calls := r.Choices[0].Message.ToolCalls
	if r.Choices[0].FinishReason != "tool_calls" || len(calls) != 2 || calls[0].ID != "functions.lookup:0" || calls[0].Function.Arguments != `{"q":"x"}` ||
		calls[1].ID != "functions.other:1" || calls[1].Function.Arguments != "{}" {
		t.Fatalf("tool rule: %+v", r.Choices[0])
	}
	// Scripted replies still honour max_tokens and stop.
	r = chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("stopme")), "stop": " two"})
	if content(t, r, 0) != "one" {
		t.Fatalf("stop on rule: %q", content(t, r, 0))
	}
	r = chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("stopme")), "max_tokens": 2})
	if content(t, r, 0) != "one two" || r.Choices[0].FinishReason != "length" {
		t.Fatalf("max_tokens on rule: %q %s", content(t, r, 0), r.Choices[0].FinishReason)
	}
	// Unmatched requests are generated.
	r = chat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("hello"))})
	if c := content(t, r, 0); c == "pong" || c == "" {
		t.Fatalf("unmatched: %q", c)
	}
	// Default error type follows the status.
	srv = setup(t, WithRule(Rule{Error: &RuleError{Status: 429, Message: "slow down"}}))
	resp := postChat(t, srv, map[string]any{"model": "kimi-latest", "messages": msgs(user("x"))})
	if typ, msg := apiErr(t, resp); resp.Status != 429 || typ != "rate_limit_reached_error" || msg != "slow down" {
		t.Fatalf("%d %s %s", resp.Status, typ, msg)
	}
}

func TestAutomaticPrefixCache(t *testing.T) {
	srv := setup(t)
	system := map[string]any{"role": "system", "content": strings.Repeat("You are a careful assistant. ", 60)}
	first := msgs(system, user("What is Go?"))
	body := map[string]any{"model": "kimi-k2-turbo-preview", "messages": first}
	r := postChat(t, srv, body)
	a := decodeChat(t, r)
	if a.Usage.CachedTokens == nil || *a.Usage.CachedTokens != 0 || a.Usage.PromptTokensDetails == nil || r.Header.Get("Msh-Context-Cache-Token-Saved") != "" {
		t.Fatalf("first request: %+v", a.Usage)
	}
	// The same conversation, one turn later: the earlier prompt is cached.
	body["messages"] = append(first, map[string]any{"role": "assistant", "content": "A language."}, user("Who made it?"))
	r = postChat(t, srv, body)
	b := decodeChat(t, r)
	want := a.Usage.PromptTokens
	if b.Usage.CachedTokens == nil || *b.Usage.CachedTokens != want || b.Usage.PromptTokensDetails.CachedTokens != want ||
		r.Header.Get("Msh-Context-Cache-Token-Saved") != strconv.Itoa(want) || b.Usage.PromptTokens <= want {
		t.Fatalf("second request: %+v, header %q, want cached %d", b.Usage, r.Header.Get("Msh-Context-Cache-Token-Saved"), want)
	}
	// Caches are per account.
	srv2 := setup(t, WithKey("sk-a"), WithKey("sk-b"))
	body["messages"] = first
	chat(t, srv2.withKey("sk-a"), body)
	if c := chat(t, srv2.withKey("sk-b"), body); *c.Usage.CachedTokens != 0 {
		t.Fatalf("cache leaked across accounts: %+v", c.Usage)
	}
	// Short prompts are never cached.
	body["messages"] = msgs(user("hi"))
	chat(t, srv, body)
	if d := chat(t, srv, body); *d.Usage.CachedTokens != 0 {
		t.Fatalf("short prompt cached: %+v", d.Usage)
	}
}

// Emulated time drives the cache TTL: at 600x, 5 minutes pass in 0.5 s.
func TestPrefixCacheExpires(t *testing.T) {
	c := newClock(1)
	pc := newPrefixCache()
	p := []cachePrefix{{hash: 1, tokens: 300}}
	now := c.Now()
	if pc.lookupAndStore(now, p) != 0 {
		t.Fatal("hit on empty cache")
	}
	if pc.lookupAndStore(now.Add(4*60e9), p) != 300 {
		t.Fatal("miss within TTL")
	}
	// The hit refreshed the TTL: 4+4 minutes after the first store still hits.
	if pc.lookupAndStore(now.Add(8*60e9), p) != 300 {
		t.Fatal("hit did not refresh TTL")
	}
	if pc.lookupAndStore(now.Add(14*60e9), p) != 0 {
		t.Fatal("hit after TTL")
	}
}

func TestToolCallRuleEndsAfterToolResult(t *testing.T) {
	srv := setup(t, WithRule(Rule{Match: "weather", ToolCalls: []RuleToolCall{{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}))
	tools := []map[string]any{{"type": "function", "function": map[string]any{"name": "get_weather", "description": "Get the weather",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}}
	first := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "tools": tools, "messages": msgs(user("weather in Paris?"))})
	if first.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("first turn: finish %q, want tool_calls", first.Choices[0].FinishReason)
	}
	call := first.Choices[0].Message.ToolCalls[0]
	second := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "tools": tools, "messages": msgs(
		user("weather in Paris?"),
		map[string]any{"role": "assistant", "content": "", "tool_calls": []any{call}},
		map[string]any{"role": "tool", "tool_call_id": call.ID, "name": "get_weather", "content": `{"temp":"18C"}`},
	)})
	if second.Choices[0].FinishReason != "stop" || content(t, second, 0) == "" {
		t.Fatalf("second turn: finish %q, want a text answer", second.Choices[0].FinishReason)
	}
}
