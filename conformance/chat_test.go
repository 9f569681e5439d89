package conformance

import (
	"strings"
	"testing"
)

// A non-streaming completion carries Kimi's envelope and the content the
// prompt calls for.
func TestChat(t *testing.T) {
	cases := []struct {
		name  string
		req   chatRequest
		check func(t *testing.T, content string)
	}{
		{"plain", chatRequest{model: modelChat, prompt: promptPlain}, func(t *testing.T, content string) {
			if strings.TrimSpace(content) == "" {
				t.Error("content is empty")
			}
		}},
		{"scripted reply verbatim", chatRequest{model: modelChat, prompt: "please answer " + scriptedMatch}, func(t *testing.T, content string) {
			if content != scriptedReply {
				t.Errorf("content = %q, want scripted %q", content, scriptedReply)
			}
		}},
		{"Chinese prompt", chatRequest{model: modelChat, prompt: promptChinese}, func(t *testing.T, content string) {
			if !hasHan(content) {
				t.Errorf("Chinese prompt got a non-Chinese answer: %q", content)
			}
		}},
		{"JSON mode", chatRequest{model: modelChat, prompt: jsonPrompt, jsonMode: true}, func(t *testing.T, content string) {
			requireJSONObject(t, "json_object content", content)
		}},
	}
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c, _ := e.connect(t, options{})
				got, err := c.Chat(t.Context(), tc.req)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(got.id, "chatcmpl-") {
					t.Errorf("id = %q, want chatcmpl- prefix", got.id)
				}
				if got.model != tc.req.model {
					t.Errorf("model = %q, want %q echoed", got.model, tc.req.model)
				}
				if got.choices != 1 {
					t.Fatalf("got %d choices, want 1", got.choices)
				}
				if got.finish != "stop" {
					t.Errorf("finish_reason = %q, want stop", got.finish)
				}
				if u := got.usage; u.prompt <= 0 || u.completion <= 0 || u.total != u.prompt+u.completion {
					t.Errorf("usage %+v: want positive parts and total = prompt + completion", u)
				}
				tc.check(t, got.content)
			})
		}
	})
}

// Kimi's thinking output (reasoning_content, not in the OpenAI schema)
// must reach the caller on the message and the stream deltas, or callers
// lose the model's reasoning.
func TestReasoningContent(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		c, _ := setup(t, p).connect(t, options{})
		req := chatRequest{model: modelThinking, prompt: "please " + thinkingMatch}

		got, err := c.Chat(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got.reasoning != thinkingReasoning || got.content != thinkingReply {
			t.Errorf("reasoning=%q content=%q, want %q / %q; raw: %s", got.reasoning, got.content, thinkingReasoning, thinkingReply, got.raw)
		}
		if want := p.Expect().reasoningTyped; got.reasoningTyped != want {
			t.Errorf("observed behaviour changed: reasoning_content typed = %v, want %v", got.reasoningTyped, want)
		}

		r := c.Stream(t.Context(), req)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.reasoning != thinkingReasoning || r.text != thinkingReply {
			t.Errorf("streamed reasoning=%q content=%q, want %q / %q", r.reasoning, r.text, thinkingReasoning, thinkingReply)
		}
		if r.trailer != nil {
			t.Errorf("usage trailer %s sent without stream_options.include_usage", r.trailerRaw)
		}
	})
}

// A tool call is parsed, and the conversation continues when its result
// is sent back after the assistant message exactly as the peer decoded it.
// Thinking models require reasoning_content on that echoed tool-call turn
// (https://platform.moonshot.ai/docs/api/chat), which some peers drop.
func TestToolRoundTrip(t *testing.T) {
	cases := []struct {
		name, model, prompt string
		args                string // the exact arguments expected; "" when generated
	}{
		{"generated", modelChat, promptTool, ""},
		{"scripted", modelChat, "Weather please. " + toolMatch, toolArgs},
		{"thinking model", modelThinking, promptTool, ""},
	}
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// Retries off, so the expected 400 comes from the first attempt.
				c, _ := e.connect(t, options{noRetries: true})
				req := chatRequest{model: tc.model, prompt: tc.prompt, tools: true}
				first, err := c.Chat(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				if first.finish != "tool_calls" || len(first.calls) != 1 {
					t.Fatalf("finish=%q with %d tool calls, want one get_weather call; raw: %s", first.finish, len(first.calls), first.raw)
				}
				call := first.calls[0]
				if call.id == "" || call.typ != "function" || call.name != toolName {
					t.Errorf("tool call id=%q type=%q name=%q", call.id, call.typ, call.name)
				}
				requireJSONObject(t, "arguments", call.arguments)
				if tc.args != "" && !sameJSON(t, call.arguments, tc.args) {
					t.Errorf("arguments = %s, want %s", call.arguments, tc.args)
				}
				thinking := tc.model == modelThinking
				if thinking && first.reasoning == "" {
					t.Fatalf("thinking tool-call turn has no reasoning_content: %s", first.raw)
				}

				req.followUp = &followUp{after: first}
				second, err := c.Chat(t.Context(), req)
				if thinking && !p.Expect().echoKeepsReasoning {
					const want = "thinking is enabled but reasoning_content is missing in assistant tool call message at index 1"
					if got := p.Classify(err); got.kind != errAPI || got.status != 400 || got.message != want {
						t.Errorf("echo as decoded: got %s %d %q, want API error 400 %q", got.kind, got.status, got.message, want)
					}
				} else {
					requireFinalAnswer(t, "echo as decoded", second, err)
				}
				if thinking {
					req.followUp.reattachReasoning = true
					third, err := c.Chat(t.Context(), req)
					requireFinalAnswer(t, "echo with reasoning_content reattached", third, err)
				}
			})
		}
	})
}

// requireFinalAnswer fails unless got is a text answer with no tool call.
func requireFinalAnswer(t *testing.T, what string, got reply, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got.finish != "stop" || strings.TrimSpace(got.content) == "" || len(got.calls) != 0 {
		t.Errorf("%s: finish=%q content=%q tool_calls=%d; want a final text answer", what, got.finish, got.content, len(got.calls))
	}
}

func TestModels(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		c, _ := setup(t, p).connect(t, options{})
		ctx := t.Context()

		list, err := c.ListModels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, id := range list {
			ids[id] = true
		}
		for _, want := range []string{modelChat, "moonshot-v1-8k", modelThinking, "kimi-k2.5"} {
			if !ids[want] {
				t.Errorf("models list lacks %q (got %v)", want, ids)
			}
		}

		id, err := c.GetModel(ctx, modelChat)
		if err != nil {
			t.Fatal(err)
		}
		if id != modelChat {
			t.Errorf("get model id = %q, want %q", id, modelChat)
		}
		_, err = c.GetModel(ctx, "no-such-model")
		if got := p.Classify(err); got.kind != errAPI || got.status != 404 {
			t.Errorf("get unknown model: %s %d (%v), want API error 404", got.kind, got.status, err)
		}
	})
}
