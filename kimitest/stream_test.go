package kimitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStreamMatchesNonStream(t *testing.T) {
	srv := setup(t)
	body := func() map[string]any {
		return map[string]any{"model": "kimi-k2.5", "messages": msgs(user("Why is the sky blue?"))}
	}
	ref := chat(t, srv, body())
	b := body()
	b["stream_options"] = map[string]any{"include_usage": true}
	chunks, resp := streamChat(t, srv, b)
	if !uuidV1RE.MatchString(resp.Header.Get("Msh-Request-Id")) || resp.Header.Get("Msh-Uid") == "" {
		t.Fatalf("headers %v", resp.Header)
	}
	first := chunks[0]
	for i, c := range chunks {
		if c.ID != first.ID || c.Created != first.Created || c.Model != "kimi-k2.5" || c.Object != "chat.completion.chunk" || !chatcmplRE.MatchString(c.ID) {
			t.Fatalf("chunk %d envelope %+v", i, c)
		}
	}
	// Trailer: choices [] and top-level usage, right before [DONE].
	trailer := chunks[len(chunks)-1]
	if len(trailer.Choices) != 0 || trailer.Usage == nil {
		t.Fatalf("trailer %+v", trailer)
	}
	for _, c := range chunks[:len(chunks)-1] {
		if c.Usage != nil {
			t.Fatal("top-level usage before the trailer")
		}
	}
	got := assemble(t, chunks[:len(chunks)-1])[0]
	if got.content != content(t, ref, 0) || got.reasoning != *ref.Choices[0].Message.ReasoningContent || got.finish != "stop" {
		t.Fatalf("stream %q/%q, non-stream %q", got.reasoning, got.content, content(t, ref, 0))
	}
	if got.sawReasoningAfter {
		t.Fatal("reasoning delta after content")
	}
	if !reflect.DeepEqual(*got.usage, ref.Usage) || !reflect.DeepEqual(*trailer.Usage, ref.Usage) {
		t.Fatalf("usage: choice %+v trailer %+v non-stream %+v", *got.usage, *trailer.Usage, ref.Usage)
	}
	// Content arrives in several small deltas.
	n := 0
	for _, c := range chunks {
		for _, ch := range c.Choices {
			if d := ch.Delta.Content; d != nil && *d != "" {
				n++
				if len([]rune(*d)) > 12 {
					t.Fatalf("delta too large: %q", *d)
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d content deltas", n)
	}
}

func TestStreamWithoutIncludeUsage(t *testing.T) {
	srv := setup(t)
	chunks, _ := streamChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi")), "max_tokens": 3})
	for _, c := range chunks {
		if c.Usage != nil || len(c.Choices) != 1 {
			t.Fatalf("unexpected chunk %+v", c)
		}
	}
	last := chunks[len(chunks)-1].Choices[0]
	if last.FinishReason == nil || *last.FinishReason != "length" || last.Usage == nil || last.Usage.CompletionTokens != 3 {
		t.Fatalf("final chunk %+v", last)
	}
	if last.Delta.Content != nil || last.Delta.Role != nil || last.Delta.ToolCalls != nil {
		t.Fatalf("final delta not empty: %+v", last.Delta)
	}
	// Raw check: the final delta is literally {}.
	r := postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi")), "stream": true})
	if !strings.Contains(string(r.Body), `"delta":{},"finish_reason":"stop","usage":{`) {
		t.Fatalf("final chunk shape: %s", r.Body)
	}
}

func TestStreamNChoicesInterleave(t *testing.T) {
	srv := setup(t)
	body := func() map[string]any {
		return map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Name a fruit")), "n": 2, "temperature": 0.7}
	}
	ref := chat(t, srv, body())
	b := body()
	b["stream_options"] = map[string]any{"include_usage": true}
	chunks, _ := streamChat(t, srv, b)
	// Interleaved: the first chunks alternate between choices.
	if chunks[0].Choices[0].Index != 0 || chunks[1].Choices[0].Index != 1 || chunks[2].Choices[0].Index != 0 {
		t.Fatal("choices do not interleave")
	}
	got := assemble(t, chunks[:len(chunks)-1])
	total := 0
	for i := range 2 {
		if got[i].content != content(t, ref, i) {
			t.Fatalf("choice %d: %q vs %q", i, got[i].content, content(t, ref, i))
		}
		if got[i].usage.PromptTokens != ref.Usage.PromptTokens || got[i].usage.CompletionTokens != CountTokens(got[i].content) {
			t.Fatalf("choice %d usage %+v", i, got[i].usage)
		}
		total += got[i].usage.CompletionTokens
	}
	if tr := chunks[len(chunks)-1].Usage; tr == nil || tr.CompletionTokens != total || tr.CompletionTokens != ref.Usage.CompletionTokens {
		t.Fatalf("trailer usage %+v, total %d", tr, total)
	}
}

func TestStreamToolCalls(t *testing.T) {
	srv := setup(t)
	body := func() map[string]any {
		return map[string]any{"model": "kimi-k2.7-code", "messages": msgs(user("What's the weather in Tokyo?")), "tools": []any{weatherTool()}}
	}
	ref := chat(t, srv, body())
	chunks, _ := streamChat(t, srv, body())
	got := assemble(t, chunks)[0]
	want := ref.Choices[0].Message.ToolCalls
	if got.finish != "tool_calls" || len(got.calls) != 1 || len(want) != 1 {
		t.Fatalf("finish %s, %d calls", got.finish, len(got.calls))
	}
	c := got.calls[0]
	if c.ID != want[0].ID || c.Function.Name != want[0].Function.Name || c.Function.Arguments != want[0].Function.Arguments {
		t.Fatalf("stream call %+v, non-stream %+v", c, want[0])
	}
	if got.reasoning == "" || got.reasoning != *ref.Choices[0].Message.ReasoningContent {
		t.Fatalf("reasoning %q", got.reasoning)
	}
	// Arguments came in more than one fragment.
	frags := 0
	for _, ch := range chunks {
		for _, x := range ch.Choices {
			if len(x.Delta.ToolCalls) > 0 && x.Delta.ToolCalls[0].ID == "" {
				frags++
			}
		}
	}
	if frags < 2 {
		t.Fatalf("%d argument fragments", frags)
	}
}

// Errors before the stream starts are plain JSON, not SSE.
func TestStreamValidationErrorIsJSON(t *testing.T) {
	srv := setup(t)
	r := postChat(t, srv, map[string]any{"model": "nope", "messages": msgs(user("x")), "stream": true})
	if typ, _ := apiErr(t, r); r.Status != 404 || typ != "resource_not_found_error" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// The first chunk is flushed on its own, and a client that goes away
// mid-stream stops the generation and frees its concurrency slot.
func TestStreamIncrementalAndDisconnect(t *testing.T) {
	// A delay no test would survive waiting for: reading the first event
	// only returns if it was flushed before the rest.
	srv := setup(t, WithStreamDelay(time.Hour), WithLimits(Limits{Concurrency: 1}))
	ctx, cancel := context.WithCancel(context.Background())
	raw, _ := json.Marshal(map[string]any{"model": "kimi-k2.5", "messages": msgs(user("hello")), "stream": true})
	res := send(t, srv, newRequest(t, srv, "POST", "/v1/chat/completions", bytes.NewReader(raw)).WithContext(ctx))
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `data: {"id":"chatcmpl-`) || !strings.Contains(line, `"delta":{"role":"assistant","content":""}`) {
		t.Fatalf("first line %q: %v", line, err)
	}
	// While the stream is open the only slot is taken.
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"))}
	if r := postChat(t, srv, body); r.Status != 429 {
		t.Fatalf("second request during stream: %d", r.Status)
	}
	cancel()
	res.Body.Close()
	// The handler notices the disconnect and releases the slot; poll until
	// it has (the test's own deadline bounds the wait).
	for {
		r := postChat(t, srv, body)
		if r.Status == 200 {
			break
		}
		if r.Status != 429 {
			t.Fatalf("status %d", r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
