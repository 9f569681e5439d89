package kimitest

import (
	"fmt"
	"strings"
	"testing"
)

func tools(names ...string) []map[string]any {
	var out []map[string]any
	for _, n := range names {
		out = append(out, map[string]any{"type": "function", "function": map[string]any{
			"name": n, "description": "tool " + n,
			"parameters": map[string]any{"type": "object", "properties": map[string]any{}},
		}})
	}
	return out
}

func callMsg(reasoning *string, ids ...string) map[string]any {
	var calls []map[string]any
	for _, id := range ids {
		calls = append(calls, map[string]any{"id": id, "type": "function", "function": map[string]any{"name": "get_weather", "arguments": "{}"}})
	}
	m := map[string]any{"role": "assistant", "content": "", "tool_calls": calls}
	if reasoning != nil {
		m["reasoning_content"] = *reasoning
	}
	return m
}

func toolMsg(id, content string) map[string]any {
	return map[string]any{"role": "tool", "tool_call_id": id, "content": content}
}

func TestChatValidation(t *testing.T) {
	srv := setup(t)
	hi := msgs(user("hi"))
	long := strings.Repeat("words ", 8000) // 16000 tokens by the emulator's rule
	cases := []struct {
		name   string
		body   any
		status int
		typ    string
		msg    string // exact, or prefix when ending in "…"
	}{
		{"not json", `{"model":`, 400, "invalid_request_error", "Invalid request: …"},
		{"wrong type", `{"model":"kimi-k2.5","messages":"hi"}`, 400, "invalid_request_error", "Invalid request: …"},
		{"missing model", map[string]any{"messages": hi}, 400, "invalid_request_error", "Invalid request: model is required"},
		{"unknown model", map[string]any{"model": "gpt-4", "messages": hi}, 404, "resource_not_found_error", "Not found the model gpt-4 or Permission denied"},
		{"temperature range", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "temperature": 1.5}, 400, "invalid_request_error", "Invalid request: temperature must be in [0, 1], got 1.5"},
		{"top_p range", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "top_p": -0.1}, 400, "invalid_request_error", "Invalid request: top_p must be in [0, 1], got -0.1"},
		{"n range", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "n": 6}, 400, "invalid_request_error", "Invalid request: n must be in [1, 5], got 6"},
		{"n with zero temperature", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "n": 2, "temperature": 0.001}, 400, "invalid_request_error", "Invalid request: n must be 1 when temperature is 0 or close to 0…"},
		{"n with v1 default temperature", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "n": 2}, 400, "invalid_request_error", "Invalid request: n must be 1 when temperature is 0 or close to 0…"},
		{"presence_penalty range", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "presence_penalty": 2.5}, 400, "invalid_request_error", "Invalid request: presence_penalty must be in [-2, 2], got 2.5"},
		{"frequency_penalty range", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "frequency_penalty": -3}, 400, "invalid_request_error", "Invalid request: frequency_penalty must be in [-2, 2], got -3"},
		{"too many stops", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "stop": []string{"a", "b", "c", "d", "e", "f"}}, 400, "invalid_request_error", "Invalid request: stop must have at most 5 items, got 6"},
		{"long stop", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "stop": strings.Repeat("x", 33)}, 400, "invalid_request_error", "Invalid request: stop item…"},
		{"bad stop type", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "stop": 3}, 400, "invalid_request_error", "Invalid request: stop must be a string or an array of strings"},
		{"k2.5 temperature thinking", map[string]any{"model": "kimi-k2.5", "messages": hi, "temperature": 0.6}, 400, "invalid_request_error", "invalid temperature: only 1 is allowed for this model"},
		{"k2.5 temperature non-thinking", map[string]any{"model": "kimi-k2.5", "messages": hi, "temperature": 1, "thinking": map[string]any{"type": "disabled"}}, 400, "invalid_request_error", "invalid temperature: only 0.6 is allowed for this model"},
		{"k2.5 top_p", map[string]any{"model": "kimi-k2.5", "messages": hi, "top_p": 0.9}, 400, "invalid_request_error", "invalid top_p: only 0.95 is allowed for this model"},
		{"k2.5 n", map[string]any{"model": "kimi-k2.5", "messages": hi, "n": 2}, 400, "invalid_request_error", "invalid n: only 1 is allowed for this model"},
		{"k2.5 presence_penalty", map[string]any{"model": "kimi-k2.5", "messages": hi, "presence_penalty": 0.5}, 400, "invalid_request_error", "invalid presence_penalty: only 0 is allowed for this model"},
		{"k2.5 frequency_penalty", map[string]any{"model": "kimi-k2.5", "messages": hi, "frequency_penalty": 1}, 400, "invalid_request_error", "invalid frequency_penalty: only 0 is allowed for this model"},
		{"thinking disabled on forced model", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "thinking": map[string]any{"type": "disabled"}}, 400, "invalid_request_error", "invalid thinking: only type=enabled is allowed for this model"},
		{"thinking bad type", map[string]any{"model": "kimi-k2.5", "messages": hi, "thinking": map[string]any{"type": "maybe"}}, 400, "invalid_request_error", "Invalid request: thinking.type must be enabled or disabled, got \"maybe\""},
		{"tool_choice required with thinking", map[string]any{"model": "kimi-k2.6", "messages": hi, "tools": tools("get_weather"), "tool_choice": "required"}, 400, "invalid_request_error", "tool_choice 'required' is incompatible with thinking enabled"},
		{"tool_choice specified with thinking", map[string]any{"model": "kimi-k2.5", "messages": hi, "tools": tools("get_weather"),
			"tool_choice": map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}}, 400, "invalid_request_error", "tool_choice 'specified' is incompatible with thinking enabled"},
		{"bad tool_choice", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": tools("get_weather"), "tool_choice": "always"}, 400, "invalid_request_error", "Invalid request: tool_choice must be…"},
		{"bad response_format", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "response_format": map[string]any{"type": "xml"}}, 400, "invalid_request_error", "Invalid request: response_format.type must be…"},
		{"bad json_schema", map[string]any{"model": "kimi-k2.5", "messages": hi, "response_format": map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": "x", "schema": map[string]any{"type": "array"}}}}, 400, "invalid_request_error",
			"Invalid request: response_format.json_schema is not a valid moonshot flavored json schema, details: <At path 'root': root schema type must be object>"},
		{"max_tokens zero", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "max_tokens": 0}, 400, "invalid_request_error", "Invalid request: max_tokens must be at least 1, got 0"},
		{"empty messages", map[string]any{"model": "moonshot-v1-8k", "messages": []any{}}, 400, "invalid_request_error", "Invalid request: messages must not be empty"},
		{"missing messages", map[string]any{"model": "moonshot-v1-8k"}, 400, "invalid_request_error", "Invalid request: messages is required"},
		{"unknown role", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "robot", "content": "x"})}, 400, "invalid_request_error", "Invalid request: messages[0]: unknown role \"robot\""},
		{"empty user content", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user(""))}, 400, "invalid_request_error", "Invalid request: messages[0]: content of a user message must not be empty"},
		{"null system content", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "system", "content": nil}, user("x"))}, 400, "invalid_request_error", "Invalid request: messages[0]: content of a system message must not be empty"},
		{"bad part type", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "user", "content": []any{map[string]any{"type": "audio"}}})}, 400, "invalid_request_error", "Invalid request: messages[0].content: part 0: unknown content type \"audio\""},
		{"tool without call", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"), toolMsg("a:0", "r"))}, 400, "invalid_request_error", "Invalid request: tool_call_id not found…"},
		{"tool result id mismatch", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"), callMsg(nil, "get_weather:0"), toolMsg("get_weather:9", "r"))}, 400, "invalid_request_error", "Invalid request: tool_call_id not found…"},
		{"tool result missing", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"), callMsg(nil, "a:0", "a:1"), toolMsg("a:0", "r"))}, 400, "invalid_request_error", "Invalid request: tool_call_id not found…"},
		{"partial not last", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"), map[string]any{"role": "assistant", "content": "p", "partial": true}, user("y"))}, 400, "invalid_request_error", "Invalid request: messages[1]: partial is only allowed on the last message"},
		{"partial on user", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "user", "content": "p", "partial": true})}, 400, "invalid_request_error", "Invalid request: messages[0]: partial is only allowed on an assistant message"},
		{"too many tools", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": manyTools(129)}, 400, "invalid_request_error", "Invalid request: too many tools: at most 128 are allowed, got 129"},
		{"bad tool name", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": tools("9lives")}, 400, "invalid_request_error", "Invalid request: tools[0]: function name \"9lives\" is invalid…"},
		{"short tool name", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": tools("ab")}, 400, "invalid_request_error", "Invalid request: tools[0]: function name \"ab\" is invalid…"},
		{"duplicate tool", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": tools("get_weather", "get_weather")}, 400, "invalid_request_error", "Invalid request: function name get_weather is duplicated"},
		{"unknown builtin", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "tools": []any{map[string]any{"type": "builtin_function", "function": map[string]any{"name": "$python"}}}}, 400, "invalid_request_error", "Invalid request: tools[0]: unknown builtin function \"$python\""},
		// The one family without tools is retired (WithRetiredModels below).
		{"tools on thinking-preview", map[string]any{"model": "kimi-thinking-preview", "messages": hi, "tools": tools("get_weather")}, 400, "invalid_request_error", "Invalid request: model kimi-thinking-preview does not support tools"},
		{"missing reasoning_content k2.7", map[string]any{"model": "kimi-k2.7-code", "messages": msgs(user("x"), callMsg(nil, "get_weather_0"), toolMsg("get_weather_0", "sunny"))}, 400, "invalid_request_error",
			"thinking is enabled but reasoning_content is missing in assistant tool call message at index 1"},
		{"missing reasoning_content k2.5", map[string]any{"model": "kimi-k2.5", "messages": msgs(map[string]any{"role": "system", "content": "s"}, user("x"), callMsg(nil, "functions.get_weather:0"), toolMsg("functions.get_weather:0", "sunny"))}, 400, "invalid_request_error",
			"thinking is enabled but reasoning_content is missing in assistant tool call message at index 2"},
		{"input too long", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user(long))}, 400, "invalid_request_error", "Input token length too long"},
		{"prompt plus max_tokens", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "max_tokens": 8190}, 400, "invalid_request_error", "Your request exceeded model token limit : 8192"},
		{"prompt plus max_completion_tokens", map[string]any{"model": "moonshot-v1-32k", "messages": hi, "max_tokens": 10, "max_completion_tokens": 32760}, 400, "invalid_request_error", "Your request exceeded model token limit : 32768"},
		{"rule error", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("please fail now"))}, 503, "engine_overloaded_error", "scripted"},
	}
	srv = setup(t, WithRetiredModels(), WithRule(Rule{Match: "fail now", Error: &RuleError{Status: 503, Type: "engine_overloaded_error", Message: "scripted"}}))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := postChat(t, srv, c.body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			typ, msg := apiErr(t, r)
			if typ != c.typ {
				t.Fatalf("type %s, want %s (%q)", typ, c.typ, msg)
			}
			if p, ok := strings.CutSuffix(c.msg, "…"); ok {
				if !strings.HasPrefix(msg, p) {
					t.Fatalf("message %q, want prefix %q", msg, p)
				}
			} else if msg != c.msg {
				t.Fatalf("message %q, want %q", msg, c.msg)
			}
		})
	}
}

func manyTools(n int) []map[string]any {
	var names []string
	for i := range n {
		names = append(names, fmt.Sprintf("tool_%d", i))
	}
	return tools(names...)
}

// The accepted counterparts of the rejections above: exact fixed values on
// k2.5, unknown fields, every content form.
func TestChatAccepts(t *testing.T) {
	srv := setup(t)
	video := mustUpload(t, srv, "clip.mp4", "video", mp4Bytes).ID
	think, empty := "I need the weather.", ""
	ok := []map[string]any{
		{"model": "kimi-k2.5", "messages": msgs(user("hi")), "temperature": 1.0, "top_p": 0.95, "n": 1, "presence_penalty": 0, "frequency_penalty": 0},
		{"model": "kimi-k2.5", "messages": msgs(user("hi")), "temperature": 0.6, "thinking": map[string]any{"type": "disabled"}},
		{"model": "kimi-k2.5", "messages": msgs(user("hi")), "thinking": map[string]any{"type": "disabled"}, "tools": tools("get_weather"), "tool_choice": "required"},
		{"model": "kimi-k2.7-code", "messages": msgs(user("hi")), "thinking": map[string]any{"type": "enabled"}, "tool_choice": "auto", "tools": tools("get_weather")},
		{"model": "moonshot-v1-8k", "messages": msgs(user("hi")), "n": 3, "temperature": 0.3},
		{"model": "moonshot-v1-8k", "messages": msgs(user("hi")), "some_future_field": map[string]any{"x": 1}, "user": "u1", "seed": 4, "stop": "never"},
		{"model": "moonshot-v1-8k-vision-preview", "messages": msgs(map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "text", "text": "what is this?"},
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,iVBORw0KGgo="}},
			map[string]any{"type": "image_url", "image_url": "data:image/png;base64,iVBORw0KGgo="},
		}})},
		{"model": "kimi-k2.5", "messages": msgs(map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "video_url", "video_url": map[string]any{"url": "ms://" + video}}, map[string]any{"type": "text", "text": "describe"},
		}})},
		{"model": "kimi-k2.7-code", "messages": msgs(user("weather?"), callMsg(&think, "get_weather_0"), toolMsg("get_weather_0", "sunny"))},
		// An empty reasoning_content is one: the turn reasoned nothing.
		{"model": "kimi-k2.6", "messages": msgs(user("weather?"), callMsg(&empty, "functions.get_weather:0"), toolMsg("functions.get_weather:0", "sunny"))},
		{"model": "moonshot-v1-8k", "messages": msgs(user("weather?"), map[string]any{"role": "assistant", "tool_calls": []any{
			map[string]any{"id": "get_weather:0", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": "{}"}}}},
			toolMsg("get_weather:0", "sunny"), user("thanks"))},
	}
	for _, body := range ok {
		chat(t, srv, body)
	}
}

func TestSuspendedAccount(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-broke", OrgID: "org-broke", Balance: -1}))
	r := postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))})
	typ, msg := apiErr(t, r)
	if r.Status != 429 || typ != "exceeded_current_quota_error" || !strings.HasPrefix(msg, "Your account org-broke<ak-") ||
		!strings.HasSuffix(msg, "> is suspended, please check your plan and billing details") {
		t.Fatalf("%d %s %q", r.Status, typ, msg)
	}
}

func TestRateLimitPerAccount(t *testing.T) {
	srv := setup(t,
		WithAccount(Account{Key: "sk-limited", OrgID: "org-lim", Limits: Limits{RPM: 2}}),
		WithAccount(Account{Key: "sk-free"}),
	)
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}
	for range 2 {
		chat(t, srv, body)
	}
	r := postChat(t, srv, body)
	typ, msg := apiErr(t, r)
	if r.Status != 429 || typ != "rate_limit_reached_error" || !strings.Contains(msg, "org-lim") || !strings.Contains(msg, "max RPM: 2") {
		t.Fatalf("%d %s %q", r.Status, typ, msg)
	}
	// Another account is not affected.
	chat(t, srv.withKey("sk-free"), body)
	// Invalid requests are refused before they are charged.
	srv2 := setup(t, WithLimits(Limits{RPM: 1}))
	for range 3 {
		wantStatus(t, postChat(t, srv2, map[string]any{"model": "nope", "messages": msgs(user("hi"))}), 404)
	}
	chat(t, srv2, body)
	wantStatus(t, postChat(t, srv2, body), 429) // the WithLimits default applies
}

// The TPM charge is prompt + max_tokens (default 1024), not what is generated.
func TestRateLimitChargesMaxTokens(t *testing.T) {
	srv := setup(t, WithLimits(Limits{TPM: 2000}))
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}
	chat(t, srv, body)
	r := postChat(t, srv, body)
	if _, msg := apiErr(t, r); r.Status != 429 || !strings.Contains(msg, "TPM rate limit") {
		t.Fatalf("second default request should exceed 2000 TPM: %d %q", r.Status, msg)
	}
	body["max_tokens"] = 10
	chat(t, srv, body)
}
