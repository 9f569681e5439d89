package kimitest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me about Go channels."))}
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
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Explain recursion"))}
	full := content(t, chat(t, srv, body), 0)
	for _, key := range []string{"max_tokens", "max_completion_tokens"} {
		body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Explain recursion")), key: 5}
		r := chat(t, srv, body)
		got := content(t, r, 0)
		if r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 5 || CountTokens(got) != 5 || !strings.HasPrefix(full, got) {
			t.Fatalf("%s=5: finish %s, usage %+v, %q (full %q)", key, r.Choices[0].FinishReason, r.Usage, got, full)
		}
	}
	// max_completion_tokens wins over max_tokens.
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Explain recursion")), "max_tokens": 3, "max_completion_tokens": 7})
	if r.Usage.CompletionTokens != 7 {
		t.Fatalf("completion_tokens %d, want 7", r.Usage.CompletionTokens)
	}
}

func TestStop(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Explain recursion"))}
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
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Name a color")), "n": 3, "temperature": 0.7}
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
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Give me a JSON summary of Go")),
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

// JSON mode answers with the fields the question asks for, in its order,
// filled from the question.
func TestJSONObjectFields(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct{ question, want string }{
		{"Return name and age as JSON", `{"name":"Alex Chen","age":30}`},
		{"My name is Li Lei and I am 30. Return name and age as JSON.", `{"name":"Li Lei","age":30}`},
		{"Give me a JSON object with the fields title, year and rating for the movie Inception.", `{"title":"Inception","year":2026,"rating":4.5}`},
		{"Extract the name, email and phone number from this text as JSON: Contact Jane Doe at jane@corp.io.",
			`{"name":"Jane Doe","email":"jane@corp.io","phone_number":"+1-202-555-0143"}`},
		{"List three colors as JSON", `{"colors":["blue","green","red"]}`},
		{"Return the city and country as JSON: I live in Tokyo.", `{"city":"Tokyo","country":"Japan"}`},
		{"以JSON格式返回姓名和年龄。我叫张伟，今年28岁。", `{"姓名":"张伟","年龄":28}`},
	} {
		for _, model := range []string{"moonshot-v1-8k", "kimi-k2.6"} {
			r := chat(t, srv, map[string]any{"model": model, "messages": msgs(user(c.question)), "response_format": map[string]any{"type": "json_object"}})
			if got := content(t, r, 0); got != c.want {
				t.Errorf("%s %q: %s, want %s", model, c.question, got, c.want)
			}
		}
	}
	// A question that names no fields gets its topic and an answer.
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me about Go channels.")), "response_format": map[string]any{"type": "json_object"}})
	var obj struct{ Topic, Answer string }
	if err := json.Unmarshal([]byte(content(t, r, 0)), &obj); err != nil || obj.Topic != "Tell me about Go channels" || obj.Answer == "" {
		t.Fatalf("no fields: %s", content(t, r, 0))
	}
}

// Tool arguments are instances of the function's parameters, with values
// from the question.
func TestToolArgumentsFollowSchema(t *testing.T) {
	srv := setup(t)
	flight := map[string]any{"type": "function", "function": map[string]any{"name": "book_flight", "description": "Book a flight",
		"parameters": json.RawMessage(`{"type":"object","properties":{
			"origin":{"type":"string"},"destination":{"type":"string"},"date":{"type":"string","format":"date"},
			"passengers":{"type":"integer","minimum":1,"maximum":9},"cabin":{"type":"string","enum":["economy","business","first"]},
			"flexible":{"type":"boolean"},"max_price":{"type":"number","minimum":0},
			"contact":{"type":"object","properties":{"email":{"type":"string","format":"email"}},"required":["email"]}},
			"required":["origin","destination","date","passengers","cabin","contact"]}`)}}
	for _, c := range []struct{ model, question, want string }{
		{"moonshot-v1-8k", "What's the weather in Paris? Use get_weather.", `{"city":"Paris","days":1}`},
		{"moonshot-v1-8k", "What's the weather in Tokyo for 5 days? Use get_weather.", `{"city":"Tokyo","days":5}`},
		{"kimi-k3", "Weather in Berlin in the next 3 days, in f please, use get_weather", `{"city":"Berlin","days":3}`},
		{"moonshot-v1-8k", "Book a flight from London to New York on 2026-05-01 for 2 passengers in business class, contact me at bo@example.com.",
			`{"origin":"London","destination":"New York","date":"2026-05-01","passengers":2,"cabin":"business","contact":{"email":"bo@example.com"}}`},
		{"kimi-k2.7-code", "Book a flight from Shanghai to Tokyo on 2026-07-09 for 3 passengers, max price 900.",
			`{"origin":"Shanghai","destination":"Tokyo","date":"2026-07-09","passengers":3,"cabin":"economy","max_price":900,"contact":{"email":"alex.chen@example.com"}}`},
	} {
		r := chat(t, srv, map[string]any{"model": c.model, "messages": msgs(user(c.question)), "tools": []any{weatherTool(), flight}})
		calls := r.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].Function.Arguments != c.want {
			t.Errorf("%s %q: %+v, want %s", c.model, c.question, calls, c.want)
		}
	}
	// The arguments validate against the parameters.
	root, _ := parseOrdered(flight["function"].(map[string]any)["parameters"].(json.RawMessage))
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("flight please")), "tools": []any{flight}, "tool_choice": "required"})
	args := r.Choices[0].Message.ToolCalls[0].Function.Arguments
	if f := instanceFault(root, root, decodeInstance(t, args), "$", 0); f != "" {
		t.Fatalf("%s: %s", f, args)
	}
	// Parameters that do not describe an object still give an object.
	odd := map[string]any{"type": "function", "function": map[string]any{"name": "odd_one", "parameters": map[string]any{"type": "object",
		"properties": map[string]any{"items": map[string]any{"type": "array", "items": []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}}},
		"required":   []string{"items"}}}}
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("odd one")), "tools": []any{odd}})
	if got := r.Choices[0].Message.ToolCalls[0].Function.Arguments; !strings.HasPrefix(got, `{"items":[`) || !json.Valid([]byte(got)) {
		t.Fatalf("tuple parameters: %s", got)
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
		model, ids string // ids: the id of the first call, %d for its number
		indexed    bool
		thinking   bool // the model always thinks: the reasoning goes back with the call
	}{
		{"moonshot-v1-8k", "get_weather:%d", false, false},
		{"kimi-k2.6", "functions.get_weather:%d", true, false},
		{"kimi-k2.7-code", "get_weather_%d", true, true},
		{"kimi-k3", "get_weather_%d", true, true},
	} {
		history := msgs(user("What's the weather in Paris?"))
		body := map[string]any{"model": c.model, "messages": history, "tools": []any{weatherTool()}}
		if !c.thinking && c.model != "moonshot-v1-8k" {
			body["thinking"] = map[string]any{"type": "disabled"}
		}
		r := chat(t, srv, body)
		ch := r.Choices[0]
		if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
			t.Fatalf("%s: %+v", c.model, ch)
		}
		tc := ch.Message.ToolCalls[0]
		if tc.ID != fmt.Sprintf(c.ids, 0) || tc.Type != "function" || tc.Function.Name != "get_weather" || (tc.Index != nil) != c.indexed {
			t.Fatalf("%s: tool call %+v", c.model, tc)
		}
		var args map[string]any
		if err := json.Unmarshal([]byte(tc.Function.Arguments), &args); err != nil {
			t.Fatalf("arguments %q: %v", tc.Function.Arguments, err)
		}
		if args["city"] != "Paris" || args["days"] != 1.0 || args["unit"] != nil {
			t.Fatalf("%s: arguments %v", c.model, args)
		}
		// Send the result back: the answer uses it.
		call := map[string]any{"role": "assistant", "content": "", "tool_calls": []any{
			map[string]any{"id": tc.ID, "type": "function", "function": map[string]any{"name": tc.Function.Name, "arguments": tc.Function.Arguments}}}}
		if c.thinking {
			call["reasoning_content"] = *ch.Message.ReasoningContent
		}
		history = append(history, call,
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
		if got := r.Choices[0].Message.ToolCalls; len(got) != 1 || got[0].ID != fmt.Sprintf(c.ids, 1) || !strings.Contains(got[0].Function.Arguments, `"city":"Rome"`) {
			t.Fatalf("%s: second call %+v", c.model, got)
		}
	}
}

func TestToolChoice(t *testing.T) {
	srv := setup(t)
	other := map[string]any{"type": "function", "function": map[string]any{"name": "send_mail", "description": "Send an email",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"to": map[string]any{"type": "string"}}}}}
	base := func() map[string]any {
		return map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Hello there")), "tools": []any{weatherTool(), other}}
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
	// The recipient comes from the question.
	if r := chat(t, srv, b); len(r.Choices[0].Message.ToolCalls) != 1 || r.Choices[0].Message.ToolCalls[0].Function.Name != "send_mail" ||
		r.Choices[0].Message.ToolCalls[0].Function.Arguments != `{"to":"Bob"}` {
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
	if args := r.Choices[0].Message.ToolCalls[0].Function.Arguments; !strings.HasPrefix(args, `{"to":"`) {
		t.Fatalf("arguments %s", args)
	}
	// Chinese description words match Chinese questions.
	zhTool := map[string]any{"type": "function", "function": map[string]any{"name": "query_weather", "description": "查询城市天气",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}}}}
	r = chat(t, srv, map[string]any{"model": "kimi-k2.6", "messages": msgs(user("北京今天天气怎么样？")), "tools": []any{zhTool}})
	if calls := r.Choices[0].Message.ToolCalls; len(calls) != 1 || calls[0].Function.Arguments != `{"city":"北京"}` {
		t.Fatalf("Chinese mention: %+v", r.Choices[0])
	}
}

func TestWebSearchTwoSteps(t *testing.T) {
	srv := setup(t)
	ws := map[string]any{"type": "builtin_function", "function": map[string]any{"name": "$web_search"}}
	history := msgs(user("What happened in the news today?"))
	body := map[string]any{"model": "moonshot-v1-8k", "messages": history, "tools": []any{ws}}
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
		{"kimi-k2.7-code", nil, true},
		{"kimi-k3", nil, true},
		{"kimi-k2.6", nil, true},
		{"kimi-k2.5", nil, true},
		{"kimi-k2.5", map[string]any{"type": "disabled"}, false},
		{"moonshot-v1-8k", nil, false},
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
	r := chat(t, srv, map[string]any{"model": "kimi-k2.7-code", "messages": msgs(user("hi")), "max_tokens": 4})
	if r.Choices[0].FinishReason != "length" || content(t, r, 0) != "" || CountTokens(*r.Choices[0].Message.ReasoningContent) != 4 {
		t.Fatalf("%+v", r.Choices[0])
	}
}

func TestPartialMode(t *testing.T) {
	srv := setup(t)
	prefix := "Once upon a time"
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me a story"),
		map[string]any{"role": "assistant", "content": prefix, "partial": true})})
	got := content(t, r, 0)
	if got == "" || strings.Contains(got, prefix) || !strings.HasPrefix(got, " ") {
		t.Fatalf("continuation %q", got)
	}
	// A "{" prefill is completed into a JSON object.
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Answer in JSON"),
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
	r := chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("say ping please"))})
	if content(t, r, 0) != "pong" || r.Choices[0].FinishReason != "stop" {
		t.Fatalf("%+v", r.Choices[0])
	}
	r = chat(t, srv, map[string]any{"model": "kimi-k2.5", "messages": msgs(user("ping"))})
	if content(t, r, 0) != "k2.5 pong" || r.Choices[0].Message.ReasoningContent == nil || *r.Choices[0].Message.ReasoningContent == "" {
		t.Fatalf("model rule: %+v", r.Choices[0])
	}
	r = chat(t, srv, map[string]any{"model": "kimi-k2.7-code", "messages": msgs(user("ping"))})
	if *r.Choices[0].Message.ReasoningContent != "scripted thought" {
		t.Fatalf("reasoning %q", *r.Choices[0].Message.ReasoningContent)
	}
	for model, ids := range map[string][2]string{
		"kimi-k2.6": {"functions.lookup:0", "functions.other:1"},
		"kimi-k3":   {"lookup_0", "other_1"},
	} {
		r = chat(t, srv, map[string]any{"model": model, "messages": msgs(user("call it"))})
		calls := r.Choices[0].Message.ToolCalls
		if r.Choices[0].FinishReason != "tool_calls" || len(calls) != 2 || calls[0].ID != ids[0] || calls[0].Function.Arguments != `{"q":"x"}` ||
			calls[1].ID != ids[1] || calls[1].Function.Arguments != "{}" {
			t.Fatalf("%s tool rule: %+v", model, r.Choices[0])
		}
	}
	// Scripted replies still honour max_tokens and stop.
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("stopme")), "stop": " two"})
	if content(t, r, 0) != "one" {
		t.Fatalf("stop on rule: %q", content(t, r, 0))
	}
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("stopme")), "max_tokens": 2})
	if content(t, r, 0) != "one two" || r.Choices[0].FinishReason != "length" {
		t.Fatalf("max_tokens on rule: %q %s", content(t, r, 0), r.Choices[0].FinishReason)
	}
	// Unmatched requests are generated.
	r = chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hello"))})
	if c := content(t, r, 0); c == "pong" || c == "" {
		t.Fatalf("unmatched: %q", c)
	}
	// Default error type follows the status.
	srv = setup(t, WithRule(Rule{Error: &RuleError{Status: 429, Message: "slow down"}}))
	resp := postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"))})
	if typ, msg := apiErr(t, resp); resp.Status != 429 || typ != "rate_limit_reached_error" || msg != "slow down" {
		t.Fatalf("%d %s %s", resp.Status, typ, msg)
	}
}

// wholeBlocks is the cached count of a common prefix of n tokens: its
// whole cache blocks.
func wholeBlocks(n int) int { return n / cacheBlockTokens * cacheBlockTokens }

func TestAutomaticPrefixCache(t *testing.T) {
	srv := setup(t)
	system := map[string]any{"role": "system", "content": strings.Repeat("You are a careful assistant. ", 60)}
	first := msgs(system, user("What is Go?"))
	body := map[string]any{"model": "kimi-k2.6", "messages": first}
	r := postChat(t, srv, body)
	a := decodeChat(t, r)
	if a.Usage.CachedTokens == nil || *a.Usage.CachedTokens != 0 || a.Usage.PromptTokensDetails == nil || r.Header.Get("Msh-Context-Cache-Token-Saved") != "" {
		t.Fatalf("first request: %+v", a.Usage)
	}
	// The same prompt again: served from the cache in whole blocks, never
	// all of it.
	r = postChat(t, srv, body)
	again := decodeChat(t, r)
	want := wholeBlocks(a.Usage.PromptTokens - tokensPerReply)
	if got := *again.Usage.CachedTokens; got != want || want == 0 || got >= again.Usage.PromptTokens || again.Usage.PromptTokensDetails.CachedTokens != want ||
		r.Header.Get("Msh-Context-Cache-Token-Saved") != strconv.Itoa(want) {
		t.Fatalf("repeat: %+v, header %q, want cached %d", again.Usage, r.Header.Get("Msh-Context-Cache-Token-Saved"), want)
	}
	// The same conversation, one turn later: the earlier prompt's blocks
	// are cached.
	body["messages"] = append(first, map[string]any{"role": "assistant", "content": "A language."}, user("Who made it?"))
	b := chat(t, srv, body)
	if got := *b.Usage.CachedTokens; got != want || b.Usage.PromptTokens <= a.Usage.PromptTokens {
		t.Fatalf("next turn: %+v, want cached %d", b.Usage, want)
	}
	// A prompt that differs from the cached ones inside its first message
	// is served for the blocks before the difference only.
	long := strings.Repeat("Every word here counts as one token or two. ", 80)
	edited := func(last string) []map[string]any {
		return msgs(map[string]any{"role": "system", "content": long + last}, user("Summarise."))
	}
	body["messages"] = edited("The end.")
	chat(t, srv, body)
	body["messages"] = edited("A different end.")
	c := chat(t, srv, body)
	// The common prefix: the message header and the shared text.
	common := tokensPerMessage + CountTokens("system") + CountTokens(long)
	if got := *c.Usage.CachedTokens; got != wholeBlocks(common) || got == 0 {
		t.Fatalf("edited prompt: cached %d, want %d (prompt %d)", got, wholeBlocks(common), c.Usage.PromptTokens)
	}
	// Caches are per account.
	srv2 := setup(t, WithKey("sk-a"), WithKey("sk-b"))
	body["messages"] = first
	chat(t, srv2.withKey("sk-a"), body)
	if c := chat(t, srv2.withKey("sk-b"), body); *c.Usage.CachedTokens != 0 {
		t.Fatalf("cache leaked across accounts: %+v", c.Usage)
	}
	// And per model.
	body["model"] = "kimi-k2.5"
	if c := chat(t, srv2.withKey("sk-a"), body); *c.Usage.CachedTokens != 0 {
		t.Fatalf("cache shared across models: %+v", c.Usage)
	}
	// Short prompts are never cached.
	body["messages"] = msgs(user("hi"))
	chat(t, srv, body)
	if d := chat(t, srv, body); *d.Usage.CachedTokens != 0 {
		t.Fatalf("short prompt cached: %+v", d.Usage)
	}
}

// prompt_cache_key scopes the cache to a session: its prefixes are its
// own, and it still shares those of requests without a key.
func TestPromptCacheKey(t *testing.T) {
	srv := setup(t)
	system := map[string]any{"role": "system", "content": strings.Repeat("Shared instructions for every session. ", 50)}
	session := func(key, question string) map[string]any {
		b := map[string]any{"model": "kimi-k3", "messages": msgs(system, user(question))}
		if key != "" {
			b["prompt_cache_key"] = key
		}
		return b
	}
	cached := func(b map[string]any) int {
		t.Helper()
		r := chat(t, srv, b)
		return *r.Usage.CachedTokens
	}
	sys := wholeBlocks(tokensPerMessage + CountTokens("system") + CountTokens(system["content"].(string)))
	if sys == 0 {
		t.Fatal("system prompt shorter than a block")
	}
	// Session A caches its prompt; session B, with another key, does not
	// see it, nor does a request without a key.
	if n := cached(session("session-a", "First question?")); n != 0 {
		t.Fatalf("cold cache hit %d", n)
	}
	if n := cached(session("session-b", "First question?")); n != 0 {
		t.Fatalf("session b saw session a's prefix: %d", n)
	}
	if n := cached(session("", "First question?")); n != 0 {
		t.Fatalf("a request without a key saw a session's prefix: %d", n)
	}
	// Session A sees its own prefix again.
	if n := cached(session("session-a", "Second question?")); n != sys {
		t.Fatalf("session a: cached %d, want %d", n, sys)
	}
	// The keyless request above stored the shared prefix: a new session
	// starts from it.
	if n := cached(session("session-c", "Third question?")); n != sys {
		t.Fatalf("session c: cached %d, want the shared %d", n, sys)
	}
	// A key that is not a string is refused as the body's type error.
	b := session("", "x")
	b["prompt_cache_key"] = 7
	if r := postChat(t, srv, b); r.Status != 400 {
		t.Fatalf("prompt_cache_key 7: %d %s", r.Status, r.Body)
	}
}

// Emulated time drives the cache TTL: at 600x, 5 minutes pass in 0.5 s.
func TestPrefixCacheExpires(t *testing.T) {
	c := newClock(1)
	pc := newPrefixCache()
	p := []cachePrefix{{hash: 1, tokens: 256}, {hash: 2, tokens: 512}}
	now := c.Now()
	if pc.lookupAndStore(now, "", p) != 0 {
		t.Fatal("hit on empty cache")
	}
	if pc.lookupAndStore(now.Add(4*60e9), "", p) != 512 {
		t.Fatal("miss within TTL")
	}
	// The hit refreshed the TTL: 4+4 minutes after the first store still hits.
	if pc.lookupAndStore(now.Add(8*60e9), "", p[:1]) != 256 {
		t.Fatal("hit did not refresh TTL")
	}
	if pc.lookupAndStore(now.Add(14*60e9), "", p) != 0 {
		t.Fatal("hit after TTL")
	}
}

// The cache holds a bounded number of prefixes: the least recently used
// go first.
func TestPrefixCacheBounded(t *testing.T) {
	pc := newPrefixCache()
	now := newClock(1).Now()
	old := []cachePrefix{{hash: 1 << 62, tokens: 256}}
	pc.lookupAndStore(now, "s", old)
	var p []cachePrefix
	for i := range cacheMaxEntries {
		p = append(p, cachePrefix{hash: uint64(i + 1), tokens: 256 * (i + 1)})
	}
	pc.lookupAndStore(now.Add(time.Second), "", p)
	if pc.n > cacheMaxEntries {
		t.Fatalf("%d entries", pc.n)
	}
	if pc.lookupAndStore(now.Add(2*time.Second), "s", old) != 0 {
		t.Fatal("the least recently used prefix survived")
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
