package kimi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// A model the catalogue lacks is checked against what GET /models says
// of it, asked once per client; a model neither knows is sent as is.
func TestModelDiscovery(t *testing.T) {
	const models = `{"object":"list","data":[
		{"id":"kimi-k9-preview","object":"model","context_length":2097152,"supports_image_in":true,
		 "supports_video_in":false,"supports_reasoning":true,"supports_thinking_type":"only","supports_tool_use":true,
		 "think_efforts":{"support":true,"valid_efforts":["low","max"],"default_effort":"low"},"display_name":"Kimi K9"},
		{"id":"kimi-mini","object":"model","supports_thinking_type":"no","supports_tool_use":false}]}`
	const answer = `{"id":"c","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}`
	var modelCalls, chatCalls int
	s := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			modelCalls++
			reply(200, models)(w, r)
			return
		}
		chatCalls++
		reply(200, answer)(w, r)
	})
	c, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) { cfg.NoModelDiscovery = false })
	ctx := context.Background()
	user := []Message{UserMessage("hi")}
	refused := func(name, field string, req *ChatRequest) {
		t.Helper()
		_, err := c.Chat.Create(ctx, req)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field || !strings.Contains(err.Error(), "GET /models") && field != "thinking.type" && field != "reasoning_effort" {
			t.Errorf("%s: err = %v, want a *ValidationError for %s", name, err, field)
		}
	}
	refused("forced thinking", "thinking.type", &ChatRequest{Model: "kimi-k9-preview", Messages: user, Thinking: &Thinking{Type: "disabled"}})
	refused("effort", "reasoning_effort", &ChatRequest{Model: "kimi-k9-preview", Messages: user, ReasoningEffort: "high"})
	refused("video", "messages[0].content[1].video_url", &ChatRequest{Model: "kimi-k9-preview",
		Messages: []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("?"), VideoPart("ms://f")}}}})
	refused("tools", "tools", &ChatRequest{Model: "kimi-mini", Messages: user, Tools: []Tool{{Type: ToolTypeFunction, Function: ToolFunction{Name: "f"}}}})
	for _, req := range []*ChatRequest{
		{Model: "kimi-k9-preview", Messages: user, ReasoningEffort: "max", Temperature: Ptr(0.2)}, // no sampling rules learned
		{Model: "kimi-mini", Messages: user, Thinking: &Thinking{Type: "enabled"}},                // "no": thinking ignored
		{Model: "unknown-to-both", Messages: user, ReasoningEffort: "ultra", Thinking: &Thinking{Type: "disabled"}},
	} {
		if _, err := c.Chat.Create(ctx, req); err != nil {
			t.Errorf("%s: %v", req.Model, err)
		}
	}
	if modelCalls != 1 || chatCalls != 3 {
		t.Errorf("GET /models asked %d times, chat %d; want 1 and 3", modelCalls, chatCalls)
	}
	// A catalogue model never needs the list.
	c2, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) { cfg.NoModelDiscovery = false })
	if _, err := c2.Chat.Create(ctx, &ChatRequest{Model: "kimi-k2.6", Messages: user}); err != nil || modelCalls != 1 {
		t.Errorf("catalogue model: %v, GET /models asked %d times", err, modelCalls)
	}
	// With discovery off, an unknown model gets the generic checks only.
	c3, _ := newTestClient(t, s.URL+"/v1")
	if _, err := c3.Chat.Create(ctx, &ChatRequest{Model: "kimi-k9-preview", Messages: user, Thinking: &Thinking{Type: "disabled"}}); err != nil || modelCalls != 1 {
		t.Errorf("NoModelDiscovery: %v, GET /models asked %d times", err, modelCalls)
	}
}

// A failed list is not asked for again on every call; a cancelled one is.
func TestModelDiscoveryFailure(t *testing.T) {
	var modelCalls int
	s := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			modelCalls++
			reply(404, `{"code":5,"error":"url.not_found"}`)(w, r)
			return
		}
		reply(200, `{"id":"c","object":"chat.completion","choices":[]}`)(w, r)
	})
	c, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) { cfg.NoModelDiscovery = false })
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	req := &ChatRequest{Model: "x-model", Messages: []Message{UserMessage("hi")}}
	c.Chat.Create(cancelled, req)
	for range 3 {
		if _, err := c.Chat.Create(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if modelCalls != 1 {
		t.Errorf("GET /models asked %d times, want 1", modelCalls)
	}
}

// The answer budget goes in the field the provider takes, and the turns
// whose reasoning the server needs back carry it, "" when empty.
func TestWireForProvider(t *testing.T) {
	s := NewLoopback(t, reply(200, `{"id":"c","object":"chat.completion","choices":[]}`))
	sent := func(provider string, req *ChatRequest) map[string]any {
		t.Helper()
		c, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) { cfg.Provider = provider })
		if _, err := c.Chat.Create(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(last(s), &body); err != nil {
			t.Fatal(err)
		}
		return body
	}
	user := []Message{UserMessage("hi")}
	if b := sent("", &ChatRequest{Model: "kimi-k2.6", Messages: user, MaxTokens: Ptr(100)}); b["max_completion_tokens"] != 100.0 || b["max_tokens"] != nil {
		t.Errorf("Moonshot: %v", b)
	}
	if b := sent("acedata", &ChatRequest{Model: "kimi-k2.5", Messages: user, MaxCompletionTokens: Ptr(100), Temperature: Ptr(0.7)}); b["max_tokens"] != 100.0 || b["max_completion_tokens"] != nil || b["temperature"] != 0.7 {
		t.Errorf("Ace Data Cloud (its documented request, fixed sampling left to the gateway): %v", b)
	}
	if b := sent("", &ChatRequest{Model: "kimi-k2.6", Messages: user, MaxTokens: Ptr(1), MaxCompletionTokens: Ptr(2)}); b["max_tokens"] != 1.0 || b["max_completion_tokens"] != 2.0 {
		t.Errorf("both set: %v", b)
	}

	call := []ToolCall{{ID: "f_0", Type: "function", Function: ToolCallFunction{Name: "f", Arguments: "{}"}}}
	history := []Message{UserMessage("q"), {Role: RoleAssistant, ToolCalls: call}, ToolMessage("f_0", "f", "r"),
		AssistantMessage("a"), UserMessage("next")}
	reasoning := func(b map[string]any) []any {
		var out []any
		for _, m := range b["messages"].([]any) {
			if m := m.(map[string]any); m["role"] == "assistant" {
				out = append(out, m["reasoning_content"])
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  *ChatRequest
		want []any // reasoning_content of each assistant turn; nil: left out
	}{
		{"k2.6 thinking: tool turn", &ChatRequest{Model: "kimi-k2.6", Messages: history}, []any{"", nil}},
		{"k2.6 keep all", &ChatRequest{Model: "kimi-k2.6", Messages: history, Thinking: &Thinking{Type: "enabled", Keep: "all"}}, []any{"", ""}},
		{"k2.7 keeps all", &ChatRequest{Model: "kimi-k2.7-code", Messages: history}, []any{"", ""}},
		{"k2.6 thinking off", &ChatRequest{Model: "kimi-k2.6", Messages: history, Thinking: &Thinking{Type: "disabled"}}, []any{nil, nil}},
		{"moonshot-v1", &ChatRequest{Model: "moonshot-v1-8k", Messages: history}, []any{nil, nil}},
	} {
		got := reasoning(sent("", tc.req))
		if len(got) != len(tc.want) || got[0] != tc.want[0] || got[1] != tc.want[1] {
			t.Errorf("%s: reasoning_content %#v, want %#v", tc.name, got, tc.want)
		}
	}
	if history[1].Extra != nil {
		t.Error("the caller's messages were changed")
	}
}

func last(s *Loopback) []byte {
	_, b := s.Last()
	return b
}
