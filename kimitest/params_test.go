package kimitest

import (
	"regexp"
	"strings"
	"testing"
)

var (
	uuidCompletionRE = regexp.MustCompile(`^chatcmpl-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	hexCompletionRE  = regexp.MustCompile(`^chatcmpl-[0-9a-f]{24}$`)
)

// The 2026 parameter rules, model by model: fixed sampling per parameter,
// reasoning_effort, the thinking object and its keep, tool_choice while
// thinking.
func TestModelParameterRules(t *testing.T) {
	srv := setup(t)
	hi := msgs(user("hi"))
	named := map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}
	think := func(fields ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(fields); i += 2 {
			m[fields[i].(string)] = fields[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name string
		body map[string]any
		msg  string // "" when accepted
	}{
		// kimi-k3 fixes only temperature, at 1.
		{"k3 temperature", map[string]any{"model": "kimi-k3", "messages": hi, "temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"},
		{"k3 temperature 1", map[string]any{"model": "kimi-k3", "messages": hi, "temperature": 1}, ""},
		{"k3 top_p free", map[string]any{"model": "kimi-k3", "messages": hi, "top_p": 0.5, "presence_penalty": 1, "frequency_penalty": -1}, ""},
		{"k3 top_p range", map[string]any{"model": "kimi-k3", "messages": hi, "top_p": 1.5}, "Invalid request: top_p must be in [0, 1], got 1.5"},
		{"k3 penalty range", map[string]any{"model": "kimi-k3", "messages": hi, "presence_penalty": 3}, "Invalid request: presence_penalty must be in [-2, 2], got 3"},
		{"k3 n", map[string]any{"model": "kimi-k3", "messages": hi, "n": 2}, ""},
		{"k3 n range", map[string]any{"model": "kimi-k3", "messages": hi, "n": 6}, "Invalid request: n must be in [1, 5], got 6"},
		// The K2.x models fix everything.
		{"k2.6 temperature", map[string]any{"model": "kimi-k2.6", "messages": hi, "temperature": 0.7}, "invalid temperature: only 1 is allowed for this model"},
		{"k2.6 top_p", map[string]any{"model": "kimi-k2.6", "messages": hi, "top_p": 0.5}, "invalid top_p: only 0.95 is allowed for this model"},
		{"k2.6 no thinking", map[string]any{"model": "kimi-k2.6", "messages": hi, "temperature": 1, "thinking": think("type", "disabled")}, "invalid temperature: only 0.6 is allowed for this model"},
		{"k2.7 temperature", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "temperature": 0.2}, "invalid temperature: only 1 is allowed for this model"},
		{"k2.7 n", map[string]any{"model": "kimi-k2.7-code-highspeed", "messages": hi, "n": 2}, "invalid n: only 1 is allowed for this model"},
		{"moonshot-v1 free", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "temperature": 0.7, "top_p": 0.5, "n": 2}, ""},

		// reasoning_effort: K3's values; accepted and ignored elsewhere.
		{"k3 effort", map[string]any{"model": "kimi-k3", "messages": hi, "reasoning_effort": "max"}, ""},
		{"k3 effort low", map[string]any{"model": "kimi-k3", "messages": hi, "reasoning_effort": "low"}, ""},
		{"k3 bad effort", map[string]any{"model": "kimi-k3", "messages": hi, "reasoning_effort": "medium"}, "invalid reasoning_effort: only low, high or max is allowed for this model"},
		{"k3 effort type", map[string]any{"model": "kimi-k3", "messages": hi, "reasoning_effort": 3}, "Invalid request: reasoning_effort: expected a string, got number"},
		{"k2.6 effort ignored", map[string]any{"model": "kimi-k2.6", "messages": hi, "reasoning_effort": "whatever"}, ""},
		{"v1 effort ignored", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "reasoning_effort": "high"}, ""},

		// thinking.keep, by family.
		{"k2.5 keep", map[string]any{"model": "kimi-k2.5", "messages": hi, "thinking": think("type", "enabled", "keep", "all")}, "invalid thinking: keep is not supported for this model"},
		{"k2.5 keep null", map[string]any{"model": "kimi-k2.5", "messages": hi, "thinking": think("type", "enabled", "keep", nil)}, "invalid thinking: keep is not supported for this model"},
		{"k2.6 keep all", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("type", "enabled", "keep", "all")}, ""},
		{"k2.6 keep null", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("type", "enabled", "keep", nil)}, ""},
		{"k2.6 keep other", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("type", "enabled", "keep", "last")}, "invalid thinking: only keep=all or keep=null is allowed for this model"},
		{"k2.6 keep type", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("type", "enabled", "keep", true)}, "Invalid request: thinking.keep: expected a string, got bool"},
		{"k2.7 keep all", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "thinking": think("type", "enabled", "keep", "all")}, ""},
		{"k2.7 keep absent", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "thinking": think("type", "enabled")}, ""},
		{"k2.7 keep other", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "thinking": think("type", "enabled", "keep", "none")}, "invalid thinking: only keep=all is allowed for this model"},
		{"k2.7 disabled", map[string]any{"model": "kimi-k2.7-code-highspeed", "messages": hi, "thinking": think("type", "disabled")}, "invalid thinking: only type=enabled is allowed for this model"},
		{"k3 disabled", map[string]any{"model": "kimi-k3", "messages": hi, "thinking": think("type", "disabled")}, "invalid thinking: only type=enabled is allowed for this model"},
		// The object takes type and keep only; type is required.
		{"unknown field", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("type", "enabled", "effort", "high")}, `Invalid request: thinking: unknown field "effort", only type and keep are allowed`},
		{"budget field", map[string]any{"model": "kimi-k2.5", "messages": hi, "thinking": think("type", "enabled", "budget_tokens", 100)}, `Invalid request: thinking: unknown field "budget_tokens", only type and keep are allowed`},
		{"no type", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": think("keep", "all")}, "Invalid request: thinking.type is required"},
		{"not an object", map[string]any{"model": "kimi-k2.6", "messages": hi, "thinking": "enabled"}, "Invalid request: thinking: expected an object, got string"},
		{"v1 ignores thinking", map[string]any{"model": "moonshot-v1-8k", "messages": hi, "thinking": think("type", "maybe", "x", 1)}, ""},

		// tool_choice while thinking.
		{"k2.6 required", map[string]any{"model": "kimi-k2.6", "messages": hi, "tools": tools("get_weather"), "tool_choice": "required"}, "tool_choice 'required' is incompatible with thinking enabled"},
		{"k2.7 required", map[string]any{"model": "kimi-k2.7-code", "messages": hi, "tools": tools("get_weather"), "tool_choice": "required"}, "tool_choice 'required' is incompatible with thinking enabled"},
		{"k3 required", map[string]any{"model": "kimi-k3", "messages": hi, "tools": tools("get_weather"), "tool_choice": "required"}, ""},
		{"k3 named", map[string]any{"model": "kimi-k3", "messages": hi, "tools": tools("get_weather"), "tool_choice": named}, "tool_choice 'specified' is incompatible with thinking enabled"},
		{"k2.6 named", map[string]any{"model": "kimi-k2.6", "messages": hi, "tools": tools("get_weather"), "tool_choice": named}, "tool_choice 'specified' is incompatible with thinking enabled"},
		{"k2.6 named, no thinking", map[string]any{"model": "kimi-k2.6", "messages": hi, "tools": tools("get_weather"), "tool_choice": named, "thinking": think("type", "disabled")}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := postChat(t, srv, c.body)
			if c.msg == "" {
				decodeChat(t, r)
				return
			}
			wantAPIError(t, r, 400, "invalid_request_error", c.msg)
		})
	}
}

// K3 with tool_choice "required" calls a tool while it reasons.
func TestK3RequiredToolChoice(t *testing.T) {
	srv := setup(t)
	c := chat(t, srv, map[string]any{"model": "kimi-k3", "messages": msgs(user("hi")), "tools": tools("get_weather"), "tool_choice": "required"})
	m := c.Choices[0].Message
	if c.Choices[0].FinishReason != "tool_calls" || len(m.ToolCalls) != 1 || m.ReasoningContent == nil {
		t.Fatalf("%+v", c.Choices[0])
	}
	if !uuidCompletionRE.MatchString(c.ID) {
		t.Fatalf("K3 completion id %q", c.ID)
	}
	if c := chat(t, srv, map[string]any{"model": "kimi-k2.6", "messages": msgs(user("hi"))}); !hexCompletionRE.MatchString(c.ID) {
		t.Fatalf("K2.6 completion id %q", c.ID)
	}
}

// Tool-call ids follow the family's style; the newer families number
// non-stream tool calls too.
func TestToolCallIDStyles(t *testing.T) {
	srv := setup(t)
	for model, want := range map[string]string{
		"moonshot-v1-8k": "get_weather:0",
		"kimi-k2.5":      "functions.get_weather:0",
		"kimi-k2.7-code": "get_weather_0",
		"kimi-k3":        "get_weather_0",
	} {
		c := chat(t, srv, map[string]any{"model": model, "messages": msgs(user("What is the weather?")), "tools": tools("get_weather")})
		calls := c.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].ID != want {
			t.Errorf("%s: tool calls %+v, want id %s", model, calls, want)
			continue
		}
		if indexed := calls[0].Index != nil; indexed != (model != "moonshot-v1-8k") {
			t.Errorf("%s: index %v", model, calls[0].Index)
		}
	}
}

// reasoning_content must come back on assistant tool-call turns while
// thinking: "" counts, null or absent does not; with thinking off it is
// not needed.
func TestReasoningContentOnToolCallTurns(t *testing.T) {
	srv := setup(t)
	empty := ""
	conv := func(model string, reasoning *string, extra ...map[string]any) map[string]any {
		m := msgs(map[string]any{"role": "system", "content": "s"}, user("weather?"), callMsg(reasoning, "get_weather_0"), toolMsg("get_weather_0", "sunny"))
		body := map[string]any{"model": model, "messages": m}
		for _, e := range extra {
			for k, v := range e {
				body[k] = v
			}
		}
		return body
	}
	const missing = "thinking is enabled but reasoning_content is missing in assistant tool call message at index 2"
	for _, model := range []string{"kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code", "kimi-k3"} {
		wantAPIError(t, postChat(t, srv, conv(model, nil)), 400, "invalid_request_error", missing)
		chat(t, srv, conv(model, &empty))
	}
	null := conv("kimi-k2.6", nil)
	null["messages"].([]map[string]any)[2]["reasoning_content"] = nil
	wantAPIError(t, postChat(t, srv, null), 400, "invalid_request_error", missing)
	chat(t, srv, conv("kimi-k2.6", nil, map[string]any{"thinking": map[string]any{"type": "disabled"}}))
	chat(t, srv, conv("moonshot-v1-8k", nil))
}

// max_completion_tokens wins over max_tokens: it shapes the reply and is
// what the rate limits charge.
func TestMaxCompletionTokens(t *testing.T) {
	srv := setup(t, WithLimits(Limits{TPM: 100000}))
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me a long story about the sea.")), "max_tokens": 500, "max_completion_tokens": 5}
	c := chat(t, srv, body)
	if c.Usage.CompletionTokens != 5 || c.Choices[0].FinishReason != "length" {
		t.Fatalf("usage %+v, finish %s", c.Usage, c.Choices[0].FinishReason)
	}
	_, _, tpm, _ := srv.Emulator.limiter.usage(srv.Key)
	if tpm != c.Usage.PromptTokens+5 {
		t.Fatalf("TPM charge %d, want prompt %d + 5", tpm, c.Usage.PromptTokens)
	}
	delete(body, "max_tokens")
	if c := chat(t, srv, body); c.Usage.CompletionTokens != 5 {
		t.Fatalf("max_completion_tokens alone: %+v", c.Usage)
	}
	body["max_completion_tokens"] = 8190
	body["max_tokens"] = 10
	wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error", "Your request exceeded model token limit : 8192")
	body["max_completion_tokens"] = 0
	wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error", "Invalid request: max_completion_tokens must be at least 1, got 0")
}

// The 429 of a rate limit carries no Retry-After unless asked for; the
// wait is in the message either way.
func TestRetryAfterHeaderOption(t *testing.T) {
	for _, opt := range []bool{false, true} {
		opts := []Option{WithLimits(Limits{RPM: 1})}
		if opt {
			opts = append(opts, WithRetryAfterHeader())
		}
		srv := setup(t, opts...)
		body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}
		chat(t, srv, body)
		r := postChat(t, srv, body)
		if _, msg := apiErr(t, r); r.Status != 429 || !strings.Contains(msg, "please try again after ") {
			t.Fatalf("%d %q", r.Status, msg)
		}
		if got := r.Header.Get("Retry-After"); (got != "") != opt {
			t.Fatalf("WithRetryAfterHeader %v: Retry-After %q", opt, got)
		}
	}
}
