package kimi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestModelFamily(t *testing.T) {
	for model, want := range map[string]Family{
		"moonshot-v1-8k":           FamilyMoonshotV1,
		"moonshot-v1-auto":         FamilyMoonshotV1,
		"kimi-latest":              FamilyKimiLatest,
		"kimi-thinking-preview":    FamilyThinkingPreview,
		"kimi-k2-0711-preview":     FamilyK2,
		"kimi-k2-turbo-preview":    FamilyK2,
		"kimi-k2-instruct-0905":    FamilyK2,
		"kimi-k2-thinking":         FamilyK2Thinking,
		"kimi-k2-thinking-turbo":   FamilyK2Thinking,
		"kimi-k2.5":                FamilyK25,
		"moonshotai/kimi-k2.5":     FamilyK25,
		"kimi-k2.6":                FamilyK26,
		"kimi-k2.7-code":           FamilyK27,
		"kimi-k2.7-code-highspeed": FamilyK27,
		"kimi-k3":                  FamilyK3,
		"KIMI-K2.5":                FamilyK25,
		"moonshot-v1-256k":         FamilyUnknown, // not in the catalogue: no prefix guessing
		"kimi-k2.5-2026":           FamilyUnknown,
		"kimi-k4":                  FamilyUnknown,
		"gpt-4o":                   FamilyUnknown,
		"":                         FamilyUnknown,
	} {
		if got := ModelFamily(model); got != want {
			t.Errorf("ModelFamily(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	user := []Message{UserMessage("hi")}
	base := func(model string) *ChatRequest { return &ChatRequest{Model: model, Messages: user} }
	with := func(model string, f func(r *ChatRequest)) *ChatRequest { r := base(model); f(r); return r }
	call := func(id, name string) ToolCall {
		return ToolCall{ID: id, Type: "function", Function: ToolCallFunction{Name: name, Arguments: "{}"}}
	}
	toolTurn := []Message{UserMessage("weather?"), {Role: RoleAssistant, ToolCalls: []ToolCall{call("get_weather:0", "get_weather")}}, ToolMessage("get_weather:0", "get_weather", "sunny")}
	fn := func(name string) Tool { return Tool{Type: ToolTypeFunction, Function: ToolFunction{Name: name}} }
	tools := func(n int) []Tool {
		out := make([]Tool, n)
		for i := range out {
			out[i] = fn("tool_" + strings.Repeat("x", 3) + string(rune('a'+i%26)) + strings.Repeat("y", i/26))
		}
		return out
	}

	valid := map[string]*ChatRequest{
		"minimal":       base("moonshot-v1-8k"),
		"unknown model": with("some-new-model", func(r *ChatRequest) { r.Temperature = Ptr(0.9) }),
		"bounds": with("moonshot-v1-8k", func(r *ChatRequest) {
			r.Temperature, r.TopP, r.PresencePenalty, r.FrequencyPenalty = Ptr(1.0), Ptr(0.0), Ptr(-2.0), Ptr(2.0)
		}),
		"n>1 warm":       with("moonshot-v1-8k", func(r *ChatRequest) { r.N, r.Temperature = Ptr(5), Ptr(0.3) }),
		"n>1 k2 default": with("kimi-k2-turbo-preview", func(r *ChatRequest) { r.N = Ptr(2) }),
		"stop":           with("moonshot-v1-8k", func(r *ChatRequest) { r.Stop = []string{"a", "b", "c", "d", strings.Repeat("x", 32)} }),
		"128 tools":      with("moonshot-v1-8k", func(r *ChatRequest) { r.Tools = tools(128) }),
		"web search":     with("moonshot-v1-auto", func(r *ChatRequest) { r.Tools = []Tool{WebSearchTool(), fn("CodeRunner")} }),
		"tool turn":      with("kimi-k2-turbo-preview", func(r *ChatRequest) { r.Messages = toolTurn }),
		"partial last":   with("moonshot-v1-8k", func(r *ChatRequest) { r.Messages = append(user, PartialMessage("Once")) }),
		"parts": with("kimi-k2.5", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart("ms://f1")}}}
		}),
		"cache role": with("moonshot-v1-8k", func(r *ChatRequest) { r.Messages = append([]Message{{Role: RoleCache, Content: "tag=x"}}, user...) }),
		"json schema": with("kimi-k2.5", func(r *ChatRequest) {
			r.ResponseFormat = &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Name: "s", Schema: json.RawMessage(`{"type":"object"}`)}}
		}),
		"k2.5 fixed values": with("kimi-k2.5", func(r *ChatRequest) { r.Temperature, r.TopP, r.N = Ptr(1.0), Ptr(0.95), Ptr(1) }),
		"k2.5 off 0.6":      with("kimi-k2.5", func(r *ChatRequest) { r.Thinking, r.Temperature = &Thinking{Type: "disabled"}, Ptr(0.6) }),
		"k2.5 no thinking tool turn": with("kimi-k2.5", func(r *ChatRequest) {
			r.Thinking, r.Messages = &Thinking{Type: "disabled"}, toolTurn
		}),
		"thinking tool turn with reasoning": with("kimi-k2-thinking", func(r *ChatRequest) {
			r.Messages = []Message{UserMessage("q"), {Role: RoleAssistant, ReasoningContent: "think", ToolCalls: []ToolCall{call("functions.f:0", "fff")}}, ToolMessage("functions.f:0", "fff", "r")}
		}),
		"tool choice": with("kimi-k2-turbo-preview", func(r *ChatRequest) {
			r.Tools, r.ToolChoice = []Tool{fn("get_weather")}, &ToolChoice{Function: "get_weather"}
		}),
		"extra": with("moonshot-v1-8k", func(r *ChatRequest) { r.Extra = map[string]any{"vendor_flag": true} }),
		// An empty reasoning_content is sent as "" on the turns that need
		// it (Chat.Create does it), so it is not refused.
		"reasoning empty k2.5":    with("kimi-k2.5", func(r *ChatRequest) { r.Messages = toolTurn }),
		"reasoning empty k2.7":    with("kimi-k2.7-code", func(r *ChatRequest) { r.Messages = toolTurn }),
		"k3 effort":               with("kimi-k3", func(r *ChatRequest) { r.ReasoningEffort = "max" }),
		"k3 temperature 1":        with("kimi-k3", func(r *ChatRequest) { r.Temperature, r.TopP = Ptr(1.0), Ptr(0.9) }),
		"k3 required":             with("kimi-k3", func(r *ChatRequest) { r.Tools, r.ToolChoice = []Tool{fn("abc")}, &ToolChoice{Mode: "required"} }),
		"k2.6 keep all":           with("kimi-k2.6", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "enabled", Keep: "all"} }),
		"k2.7 keep all":           with("kimi-k2.7-code", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "enabled", Keep: "all"} }),
		"effort on k2.6 ignored":  with("kimi-k2.6", func(r *ChatRequest) { r.ReasoningEffort = "high" }),
		"effort on unknown model": with("kimi-k9", func(r *ChatRequest) { r.ReasoningEffort = "ultra" }),
		"video k2.6": with("kimi-k2.6", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), VideoPart("ms://f1")}}}
		}),
		"data image": with("kimi-k3", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart(DataURL("image/webp", []byte("x")))}}}
		}),
		"http image, unknown model": with("kimi-k9", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart("https://example.com/a.png")}}}
		}),
		"partial empty prefix": with("moonshot-v1-8k", func(r *ChatRequest) { r.Messages = append(user, PartialMessage("")) }),
		"assistant parts": with("moonshot-v1-8k", func(r *ChatRequest) {
			r.Messages = append(user, Message{Role: RoleAssistant, Parts: []ContentPart{TextPart("a")}}, UserMessage("b"))
		}),
	}
	// Families without reasoning ignore thinking: "enabled" must not turn
	// on the thinking-only rules there.
	for _, model := range []string{"kimi-k2-turbo-preview", "kimi-k2-0905-preview", "moonshot-v1-8k", "kimi-latest"} {
		valid[model+" thinking ignored: required"] = with(model, func(r *ChatRequest) {
			r.Thinking, r.Tools, r.ToolChoice = &Thinking{Type: "enabled"}, []Tool{fn("abc")}, &ToolChoice{Mode: "required"}
		})
		valid[model+" thinking ignored: tool turn"] = with(model, func(r *ChatRequest) {
			r.Thinking, r.Messages = &Thinking{Type: "enabled"}, toolTurn
		})
	}
	for name, r := range valid {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
		}
	}

	invalid := []struct {
		name, field string
		r           *ChatRequest
	}{
		{"nil", "request", nil},
		{"no model", "model", &ChatRequest{Messages: user}},
		{"no messages", "messages", base("moonshot-v1-8k").withMessages(nil)},
		{"bad role", "messages[0].role", base("m").withMessages([]Message{{Role: "bot", Content: "x"}})},
		{"empty user", "messages[1].content", base("m").withMessages([]Message{SystemMessage("s"), UserMessage("")})},
		{"empty system", "messages[0].content", base("m").withMessages([]Message{SystemMessage("")})},
		{"empty parts", "messages[0].content", base("m").withMessages([]Message{{Role: RoleUser, Parts: []ContentPart{}}})},
		{"empty text part", "messages[0].content[1].text", base("m").withMessages([]Message{{Role: RoleUser, Parts: []ContentPart{TextPart("a"), TextPart("")}}})},
		{"empty image", "messages[0].content[0].image_url.url", base("m").withMessages([]Message{{Role: RoleUser, Parts: []ContentPart{{Type: "image_url"}}}})},
		{"bad part", "messages[0].content[0].type", base("m").withMessages([]Message{{Role: RoleUser, Parts: []ContentPart{{Type: "audio"}}}})},
		{"temperature", "temperature", with("moonshot-v1-8k", func(r *ChatRequest) { r.Temperature = Ptr(1.5) })},
		{"negative temperature", "temperature", with("m", func(r *ChatRequest) { r.Temperature = Ptr(-0.1) })},
		{"top_p", "top_p", with("m", func(r *ChatRequest) { r.TopP = Ptr(1.01) })},
		{"n zero", "n", with("m", func(r *ChatRequest) { r.N = Ptr(0) })},
		{"n six", "n", with("m", func(r *ChatRequest) { r.N = Ptr(6) })},
		{"n cold", "n", with("m", func(r *ChatRequest) { r.N, r.Temperature = Ptr(2), Ptr(0.0005) })},
		{"n v1 default temp 0", "n", with("moonshot-v1-8k", func(r *ChatRequest) { r.N = Ptr(2) })},
		{"presence", "presence_penalty", with("m", func(r *ChatRequest) { r.PresencePenalty = Ptr(2.5) })},
		{"frequency", "frequency_penalty", with("m", func(r *ChatRequest) { r.FrequencyPenalty = Ptr(-3.0) })},
		{"max_tokens", "max_tokens", with("m", func(r *ChatRequest) { r.MaxTokens = Ptr(0) })},
		{"six stops", "stop", with("m", func(r *ChatRequest) { r.Stop = []string{"a", "b", "c", "d", "e", "f"} })},
		{"long stop", "stop[1]", with("m", func(r *ChatRequest) { r.Stop = []string{"a", strings.Repeat("é", 17)} })},
		{"empty stop", "stop[0]", with("m", func(r *ChatRequest) { r.Stop = []string{""} })},
		{"129 tools", "tools", with("m", func(r *ChatRequest) { r.Tools = tools(129) })},
		{"bad tool name", "tools[0].function.name", with("m", func(r *ChatRequest) { r.Tools = []Tool{fn("ab")} })},
		{"dollar function", "tools[0].function.name", with("m", func(r *ChatRequest) { r.Tools = []Tool{fn("$web_search")} })},
		{"duplicate tool", "tools[1].function.name", with("m", func(r *ChatRequest) { r.Tools = []Tool{fn("get_weather"), fn("get_weather")} })},
		{"tool type", "tools[0].type", with("m", func(r *ChatRequest) { r.Tools = []Tool{{Type: "retrieval", Function: ToolFunction{Name: "abc"}}} })},
		{"tool params", "tools[0].function.parameters", with("m", func(r *ChatRequest) {
			r.Tools = []Tool{{Type: ToolTypeFunction, Function: ToolFunction{Name: "abc", Parameters: json.RawMessage(`[1]`)}}}
		})},
		{"tool choice unknown fn", "tool_choice.function.name", with("m", func(r *ChatRequest) { r.ToolChoice = &ToolChoice{Function: "nope"} })},
		{"tool choice empty", "tool_choice", with("m", func(r *ChatRequest) { r.ToolChoice = &ToolChoice{} })},
		{"required with thinking", "tool_choice", with("kimi-k2-thinking", func(r *ChatRequest) { r.Tools, r.ToolChoice = []Tool{fn("abc")}, &ToolChoice{Mode: "required"} })},
		{"tool without id", "messages[2].tool_call_id", base("m").withMessages([]Message{toolTurn[0], toolTurn[1], ToolMessage("", "get_weather", "x")})},
		{"tool id mismatch", "messages[2].tool_call_id", base("m").withMessages([]Message{toolTurn[0], toolTurn[1], ToolMessage("other:0", "get_weather", "x")})},
		{"tool call without id", "messages[1].tool_calls[0].id", base("m").withMessages([]Message{toolTurn[0], {Role: RoleAssistant, ToolCalls: []ToolCall{call("", "f")}}})},
		{"unanswered call", "messages[1].tool_calls", base("m").withMessages([]Message{toolTurn[0], toolTurn[1], UserMessage("and?")})},
		{"unanswered at end", "messages[1].tool_calls", base("m").withMessages(toolTurn[:2])},
		{"answered twice", "messages[3].tool_call_id", base("m").withMessages(append(append([]Message{}, toolTurn...), toolTurn[2]))},
		{"tool after user", "messages[4].tool_call_id", base("m").withMessages(append(append([]Message{}, toolTurn...), UserMessage("x"), toolTurn[2]))},
		{"duplicate call id", "messages[1].tool_calls[1].id", base("m").withMessages([]Message{toolTurn[0], {Role: RoleAssistant, ToolCalls: []ToolCall{call("a:0", "f"), call("a:0", "f")}}})},
		{"partial not last", "messages[0].partial", base("m").withMessages([]Message{PartialMessage("x"), UserMessage("y")})},
		{"partial user", "messages[0].partial", base("m").withMessages([]Message{{Role: RoleUser, Content: "x", Partial: true}})},
		{"response format", "response_format.type", with("m", func(r *ChatRequest) { r.ResponseFormat = &ResponseFormat{Type: "xml"} })},
		{"schema missing", "response_format.json_schema", with("m", func(r *ChatRequest) { r.ResponseFormat = &ResponseFormat{Type: "json_schema"} })},
		{"schema name", "response_format.json_schema.name", with("m", func(r *ChatRequest) {
			r.ResponseFormat = &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Schema: json.RawMessage(`{}`)}}
		})},
		{"schema body", "response_format.json_schema.schema", with("m", func(r *ChatRequest) {
			r.ResponseFormat = &ResponseFormat{Type: "json_schema", JSONSchema: &JSONSchema{Name: "n"}}
		})},
		{"thinking type", "thinking.type", with("kimi-k2.5", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "on"} })},
		{"thinking keep", "thinking.keep", with("kimi-k2.5", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "enabled", Keep: "some"} })},
		{"k2-thinking disabled", "thinking.type", with("kimi-k2-thinking-turbo", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "disabled"} })},
		{"k2.5 temperature", "temperature", with("kimi-k2.5", func(r *ChatRequest) { r.Temperature = Ptr(0.6) })},
		{"k2.5 off temperature", "temperature", with("kimi-k2.5", func(r *ChatRequest) { r.Thinking, r.Temperature = &Thinking{Type: "disabled"}, Ptr(1.0) })},
		{"k2.5 top_p", "top_p", with("kimi-k2.5", func(r *ChatRequest) { r.TopP = Ptr(0.9) })},
		{"k2.5 n", "n", with("kimi-k2.5", func(r *ChatRequest) { r.N = Ptr(2) })},
		{"k2.5 presence", "presence_penalty", with("kimi-k2.5", func(r *ChatRequest) { r.PresencePenalty = Ptr(0.5) })},
		{"k2.5 frequency", "frequency_penalty", with("kimi-k2.5", func(r *ChatRequest) { r.FrequencyPenalty = Ptr(0.5) })},
		{"k3 temperature", "temperature", with("kimi-k3", func(r *ChatRequest) { r.Temperature = Ptr(0.7) })},
		{"k3 effort", "reasoning_effort", with("kimi-k3", func(r *ChatRequest) { r.ReasoningEffort = "medium" })},
		{"k3 disabled", "thinking.type", with("kimi-k3", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "disabled"} })},
		{"k2.7 disabled", "thinking.type", with("kimi-k2.7-code-highspeed", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "disabled"} })},
		{"k2.7 required", "tool_choice", with("kimi-k2.7-code", func(r *ChatRequest) { r.Tools, r.ToolChoice = []Tool{fn("abc")}, &ToolChoice{Mode: "required"} })},
		{"k2.5 keep", "thinking.keep", with("kimi-k2.5", func(r *ChatRequest) { r.Thinking = &Thinking{Type: "enabled", Keep: "all"} })},
		{"k2.6 temperature", "temperature", with("kimi-k2.6", func(r *ChatRequest) { r.Temperature = Ptr(0.7) })},
		{"image to text model", "messages[0].content[1].image_url", with("moonshot-v1-8k", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart("ms://f1")}}}
		})},
		{"video to image model", "messages[0].content[1].video_url", with("moonshot-v1-8k-vision-preview", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), VideoPart("ms://f1")}}}
		})},
		{"http image", "messages[0].content[1].image_url.url", with("kimi-k2.6", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart("https://example.com/a.png")}}}
		})},
		{"image type", "messages[0].content[1].image_url.url", with("kimi-k2.6", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart(DataURL("image/tiff", []byte("x")))}}}
		})},
		{"bare ms", "messages[0].content[1].image_url.url", with("kimi-k2.6", func(r *ChatRequest) {
			r.Messages = []Message{{Role: RoleUser, Parts: []ContentPart{TextPart("what?"), ImagePart("ms://")}}}
		})},
		{"extra repeats field", "extra.temperature", with("m", func(r *ChatRequest) { r.Extra = map[string]any{"temperature": 2} })},
		{"extra stop", "extra.stop", with("m", func(r *ChatRequest) { r.Extra = map[string]any{"stop": "x"} })},
		{"empty assistant", "messages[1].content", base("m").withMessages([]Message{UserMessage("a"), AssistantMessage(""), UserMessage("b")})},
		{"empty assistant parts", "messages[1].content", base("m").withMessages([]Message{UserMessage("a"), {Role: RoleAssistant, Parts: []ContentPart{}}, UserMessage("b")})},
		{"empty assistant last", "messages[1].content", base("m").withMessages([]Message{UserMessage("a"), AssistantMessage("")})},
		{"empty tool", "messages[2].content", base("m").withMessages([]Message{toolTurn[0], toolTurn[1], ToolMessage("get_weather:0", "get_weather", "")})},
		{"empty tool parts", "messages[2].content", base("m").withMessages([]Message{toolTurn[0], toolTurn[1], {Role: RoleTool, ToolCallID: "get_weather:0", Parts: []ContentPart{}}})},
		{"required with k2.5 thinking", "tool_choice", with("kimi-k2.5", func(r *ChatRequest) { r.Tools, r.ToolChoice = []Tool{fn("abc")}, &ToolChoice{Mode: "required"} })},
		{"required with thinking on unknown model", "tool_choice", with("some-new-model", func(r *ChatRequest) {
			r.Thinking, r.Tools, r.ToolChoice = &Thinking{Type: "enabled"}, []Tool{fn("abc")}, &ToolChoice{Mode: "required"}
		})},
		{"message extra", "messages[0].extra.content", base("m").withMessages([]Message{{Role: RoleUser, Content: "x", Extra: map[string]any{"content": "y"}}})},
	}
	for _, tc := range invalid {
		err := tc.r.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want *ValidationError", tc.name, err)
			continue
		}
		if ve.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%v)", tc.name, ve.Field, tc.field, err)
		}
		if !strings.HasPrefix(err.Error(), "kimi: invalid "+tc.field) || ve.Limit == "" {
			t.Errorf("%s: message %q", tc.name, err)
		}
	}
}

func (r *ChatRequest) withMessages(m []Message) *ChatRequest { r.Messages = m; return r }

// TestSkipModelChecks checks that Config.SkipModelChecks lets requests
// that only the catalogue's model rules refuse reach the server, while the
// wire-level checks stay and Validate still applies everything.
func TestSkipModelChecks(t *testing.T) {
	s := NewLoopback(t, ok200)
	lenient, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) { cfg.SkipModelChecks = true })
	strict, _ := newTestClient(t, s.URL+"/v1")
	ctx := context.Background()
	user := []Message{UserMessage("x")}
	var ve *ValidationError
	for name, r := range map[string]*ChatRequest{
		"k2.5 temperature":     {Model: "kimi-k2.5", Messages: user, Temperature: Ptr(0.3)},
		"k2-thinking disabled": {Model: "kimi-k2-thinking", Messages: user, Thinking: &Thinking{Type: "disabled"}},
		"v1 n>1 default temp":  {Model: "moonshot-v1-8k", Messages: user, N: Ptr(2)},
		"cache on k2":          {Model: "kimi-k2-turbo-preview", Messages: append([]Message{CacheMessage(CacheRef{Tag: "docs"})}, user...)},
	} {
		if err := r.Validate(); !errors.As(err, &ve) {
			t.Errorf("%s: Validate = %v, want a *ValidationError", name, err)
		}
		before := s.Hits.Load()
		if _, err := strict.Chat.Create(ctx, r); !errors.As(err, &ve) || s.Hits.Load() != before {
			t.Errorf("%s: strict Create = %v, want a *ValidationError before sending", name, err)
		}
		if _, err := lenient.Chat.Create(ctx, r); errors.As(err, &ve) || s.Hits.Load() != before+1 {
			t.Errorf("%s: Create with SkipModelChecks = %v, want it sent", name, err)
		}
		st, err := lenient.Chat.Stream(ctx, r)
		if errors.As(err, &ve) || s.Hits.Load() != before+2 {
			t.Errorf("%s: Stream with SkipModelChecks = %v, want it sent", name, err)
		}
		if st != nil {
			st.Close()
		}
	}
	before := s.Hits.Load()
	wire := &ChatRequest{Model: "kimi-k2.5", Messages: user, Temperature: Ptr(1.5)}
	if _, err := lenient.Chat.Create(ctx, wire); !errors.As(err, &ve) || ve.Field != "temperature" || s.Hits.Load() != before {
		t.Errorf("wire-level check with SkipModelChecks: %v", err)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := (&ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("x")}, Temperature: Ptr(1.5)}).Validate()
	if got, want := err.Error(), "kimi: invalid temperature 1.5: must be within [0, 1]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	err = (&ChatRequest{Model: "m", Messages: []Message{{Role: "bot", Content: "x"}}}).Validate()
	if got, want := err.Error(), `kimi: invalid messages[0].role "bot": must be one of system, user, assistant, tool, cache`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	err = (&ChatRequest{Model: "m", Messages: []Message{UserMessage("x"), AssistantMessage("")}}).Validate()
	if got, want := err.Error(), `kimi: invalid messages[1].content "": must not be empty for an assistant message without tool_calls`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	long := &ValidationError{Field: "stop[0]", Value: strings.Repeat("a", 500), Limit: "x"}
	if len(long.Error()) > 120 {
		t.Errorf("long values are not shortened: %d bytes", len(long.Error()))
	}
}

// TestValidationBeforeSending checks that invalid requests never reach the
// server, from Create, RunTools and Models.Get.
func TestValidationBeforeSending(t *testing.T) {
	s := NewLoopback(t, ok200)
	c, _ := newTestClient(t, s.URL+"/v1")
	ctx := context.Background()
	bad := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("x")}, TopP: Ptr(2.0)}
	var ve *ValidationError
	if _, err := c.Chat.Create(ctx, bad); !errors.As(err, &ve) {
		t.Errorf("Create: %v", err)
	}
	if _, _, err := c.Chat.RunTools(ctx, bad, nil); !errors.As(err, &ve) {
		t.Errorf("RunTools: %v", err)
	}
	if _, err := c.Models.Get(ctx, ""); !errors.As(err, &ve) {
		t.Errorf("Get: %v", err)
	}
	if n := s.Hits.Load(); n != 0 {
		t.Errorf("server saw %d requests", n)
	}
}

// The models a refusal points to come from the catalogue.
func TestKeepRefusalNamesTheModelsThatKeep(t *testing.T) {
	r := &ChatRequest{Model: "kimi-k2.5", Messages: []Message{UserMessage("hi")}, Thinking: &Thinking{Type: "enabled", Keep: "all"}}
	err := r.Validate()
	if err == nil || !strings.Contains(err.Error(), "(Preserved Thinking is for kimi-k2.6, kimi-k2.7-code, kimi-k2.7-code-highspeed)") {
		t.Errorf("err = %v", err)
	}
}
