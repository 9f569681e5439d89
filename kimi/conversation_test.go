package kimi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/tokencount"
)

func roles(ms []kimi.Message) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(string(m.Role)[:1])
	}
	return b.String()
}

func TestConversationKeepsHistory(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "Moon", Reply: "About 27 days."}))
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "You are Kimi.")
	ctx := context.Background()
	r1, err := conv.Send(ctx, "What is the rotation period of the Earth?")
	if err != nil {
		t.Fatal(err)
	}
	r, err := conv.Send(ctx, "And the Moon?")
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != "About 27 days." {
		t.Errorf("second reply %q", r.Text())
	}
	if got := roles(conv.Messages()); got != "suaua" {
		t.Fatalf("history roles %q, want suaua", got)
	}
	// The emulator counted the whole history: the second prompt holds the
	// first one and its reply.
	if r.Usage.PromptTokens <= r1.Usage.PromptTokens+r1.Usage.CompletionTokens {
		t.Errorf("second prompt %d tokens, first %d + reply %d: history was not sent",
			r.Usage.PromptTokens, r1.Usage.PromptTokens, r1.Usage.CompletionTokens)
	}
}

func TestConversationTrimsTurnsKeepsSystem(t *testing.T) {
	c, _, _ := setup(t)
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "sys")
	conv.MaxTurns = 2
	ctx := context.Background()
	for _, q := range []string{"one", "two", "three", "four"} {
		if _, err := conv.Send(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ms := conv.Messages()
	if got := roles(ms); got != "suaua" {
		t.Fatalf("roles %q, want suaua (system + 2 turns)", got)
	}
	if ms[0].Content != "sys" || ms[1].Content != "three" || ms[3].Content != "four" {
		t.Fatalf("kept the wrong turns: %+v", ms)
	}
}

func TestConversationTokenBudget(t *testing.T) {
	c, _, _ := setup(t)
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "sys")
	long := strings.Repeat("word ", 30)
	// Room for the system prompt and one question, not for two.
	budget := tokencount.ChatMessages([]kimi.Message{kimi.SystemMessage("sys"), kimi.UserMessage(long)}) + 5
	conv.MaxTokens = budget
	conv.CountTokens = tokencount.ChatMessages
	ctx := context.Background()
	for range 4 {
		if _, err := conv.Send(ctx, long); err != nil {
			t.Fatal(err)
		}
	}
	ms := conv.Messages()
	if ms[0].Role != kimi.RoleSystem {
		t.Fatal("system prompt dropped")
	}
	// The last request was within budget: system + last user message.
	if n := tokencount.ChatMessages(ms[:len(ms)-1]); n > budget {
		t.Errorf("last prompt had %d estimated tokens, budget %d", n, budget)
	}
	if roles(ms) != "sua" {
		t.Errorf("roles %q, want sua", roles(ms))
	}
}

// goSnippet is code for a code-heavy history: code is where a bytes-based
// estimate undercounts a BPE tokenizer most (short identifiers, operators
// and indentation each cost a token).
const goSnippet = "func (c *Client) Chat(ctx context.Context, req *Request) (*Response, error) {\n" +
	"\tbody, err := json.Marshal(req)\n\tif err != nil {\n\t\treturn nil, fmt.Errorf(\"marshal: %w\", err)\n\t}\n" +
	"\treturn c.do(ctx, http.MethodPost, \"/chat/completions\", body)\n}\n"

// TestConversationTokenBudgetCodeHistory: with tokencount's estimator the
// prompt of every request stays within MaxTokens as that estimator counts
// it, on a history of code questions and code answers of varying length.
func TestConversationTokenBudgetCodeHistory(t *testing.T) {
	var mu sync.Mutex
	var prompts [][]kimi.Message
	turn := 0
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []kimi.Message `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		prompts = append(prompts, req.Messages)
		turn++
		reply := strings.Repeat(goSnippet, 1+turn%3)
		mu.Unlock()
		b, _ := json.Marshal(reply)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"moonshot-v1-8k","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`, b)
	})
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "You are a Go reviewer.")
	conv.MaxTokens = 1000
	conv.CountTokens = tokencount.ChatMessages
	ctx := context.Background()
	for i := range 12 {
		q := "Review this:\n" + strings.Repeat(goSnippet, 1+i%2)
		if _, err := conv.Send(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	trimmed := false
	for i, p := range prompts {
		if n := tokencount.ChatMessages(p); n > conv.MaxTokens {
			t.Errorf("request %d: prompt of %d messages estimated at %d tokens, over MaxTokens %d", i, len(p), n, conv.MaxTokens)
		}
		if p[0].Role != kimi.RoleSystem {
			t.Errorf("request %d: system prompt dropped", i)
		}
		trimmed = trimmed || len(p) < 2*i+2
	}
	if !trimmed {
		t.Error("no request was trimmed; raise the history's size")
	}
}

// A token budget without a counter fails before sending, so a history is
// never sent untrimmed by mistake.
func TestConversationTokenBudgetNeedsCounter(t *testing.T) {
	c, srv := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unexpected request", http.StatusInternalServerError)
	})
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "sys")
	conv.MaxTokens = 1000
	ctx := context.Background()
	const want = "kimi: Conversation.MaxTokens needs CountTokens"
	if _, err := conv.Send(ctx, "hi"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Send: err = %v, want %q", err, want)
	}
	if _, err := conv.SendMessage(ctx, kimi.UserMessage("hi")); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("SendMessage: err = %v, want %q", err, want)
	}
	if st, err := conv.Stream(ctx, "hi"); err == nil || !strings.Contains(err.Error(), want) {
		if st != nil {
			st.Close()
		}
		t.Errorf("Stream: err = %v, want %q", err, want)
	}
	if n := srv.Hits.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if got := roles(conv.Messages()); got != "s" {
		t.Errorf("history %q after refused sends, want s", got)
	}
}

func TestConversationKeepsReasoningAndToolCalls(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "weather", Reasoning: "I should call the tool.",
		ToolCalls: []kimitest.RuleToolCall{{Name: "get_weather", Arguments: `{"city":"Beijing"}`}}}))
	conv := kimi.NewConversation(c.Chat, "kimi-k2.7-code")
	conv.Request.Tools = []kimi.Tool{{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{Name: "get_weather",
		Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}}
	ctx := context.Background()
	r, err := conv.Send(ctx, "What's the weather in Beijing?")
	if err != nil {
		t.Fatal(err)
	}
	m := r.Choices[0].Message
	if len(m.ToolCalls) != 1 || m.ReasoningContent == "" {
		t.Fatalf("want a tool call with reasoning, got %+v", m)
	}
	last := conv.Messages()[len(conv.Messages())-1]
	if last.ReasoningContent != m.ReasoningContent || len(last.ToolCalls) != 1 {
		t.Fatalf("history lost reasoning or tool calls: %+v", last)
	}
	// Thinking models reject a tool-call turn without its reasoning; the
	// follow-up succeeds only because the history kept it.
	if _, err := conv.SendMessage(ctx, kimi.ToolMessage(m.ToolCalls[0].ID, "get_weather", `{"temp":"25C"}`)); err != nil {
		t.Fatalf("follow-up with tool result: %v", err)
	}
}

func TestConversationStreamCommit(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "hi", Reply: "Hello there."}))
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k")
	ctx := context.Background()
	st, err := conv.Stream(ctx, "hi")
	if err != nil {
		t.Fatal(err)
	}
	for st.Next() {
	}
	if err := conv.Commit(st); err != nil {
		t.Fatal(err)
	}
	ms := conv.Messages()
	if roles(ms) != "ua" || ms[1].Content != "Hello there." {
		t.Fatalf("history %+v", ms)
	}
}

func TestConversationFailedTurnRollsBack(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "boom", Error: &kimitest.RuleError{Status: 400,
		Type: "invalid_request_error", Message: "Invalid request: boom"}}))
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "sys")
	ctx := context.Background()
	if _, err := conv.Send(ctx, "boom"); err == nil {
		t.Fatal("want an error")
	}
	if roles(conv.Messages()) != "s" {
		t.Fatalf("failed turn left in history: %+v", conv.Messages())
	}
	// A cut stream and an early close are not committed either.
	conv.Options = []kimi.RequestOption{kimi.WithHeader(kimitest.FaultHeader, "cut=2")}
	st, err := conv.Stream(ctx, "tell me a story")
	if err != nil {
		t.Fatal(err)
	}
	for st.Next() {
	}
	if err := conv.Commit(st); err == nil {
		t.Fatal("cut stream committed")
	}
	conv.Options = nil
	st, err = conv.Stream(ctx, "tell me a story")
	if err != nil {
		t.Fatal(err)
	}
	st.Next()
	st.Close()
	if err := conv.Commit(st); err == nil {
		t.Fatal("early-closed stream committed")
	}
	if roles(conv.Messages()) != "s" {
		t.Fatalf("history after failures: %+v", conv.Messages())
	}
}

// A provider that adds response-only fields to the message (Ace Data
// Cloud's K2.5 sends "refusal" and a duplicate "reasoning") must not get
// them back in the next request's history.
func TestConversationDropsResponseOnlyFields(t *testing.T) {
	c, srv := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"kimi-k2.5","choices":[{"index":0,`+
			`"message":{"role":"assistant","content":"hi","reasoning_content":"r","reasoning":"r","refusal":null},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	})
	conv := kimi.NewConversation(c.Chat, "kimi-k2.5")
	ctx := context.Background()
	r, err := conv.Send(ctx, "one")
	if err != nil {
		t.Fatal(err)
	}
	if r.Choices[0].Message.Extra["refusal"] == nil {
		t.Fatal("the response itself should keep unknown fields")
	}
	if _, err := conv.Send(ctx, "two"); err != nil {
		t.Fatal(err)
	}
	_, body := srv.Request(1)
	second := string(body)
	if strings.Contains(second, "refusal") || strings.Contains(second, `"reasoning":`) {
		t.Fatalf("response-only fields sent back: %s", second)
	}
	if !strings.Contains(second, `"reasoning_content":"r"`) {
		t.Fatalf("reasoning_content dropped from history: %s", second)
	}
}

func TestConversationSendsDoNotInterleave(t *testing.T) {
	c, _, _ := setup(t)
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-8k", "sys")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := conv.Send(context.Background(), fmt.Sprintf("question %d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := roles(conv.Messages()); got != "s"+strings.Repeat("ua", 8) {
		t.Fatalf("interleaved history: %s", got)
	}
}

func TestConversationKeepsCacheReference(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithCacheReadyDelay(0))
	ctx := context.Background()
	cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.SystemMessage(strings.Repeat("A long manual. ", 200))}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Caches.WaitReady(ctx, cache.ID); err != nil {
		t.Fatal(err)
	}
	conv := kimi.NewConversation(c.Chat, "moonshot-v1-32k")
	conv.Append(kimi.CacheMessage(kimi.CacheRef{CacheID: cache.ID}))
	conv.MaxTurns = 1
	for _, q := range []string{"first question", "second question", "third question"} {
		r, err := conv.Send(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if r.Usage.CachedTokens != cache.Tokens {
			t.Fatalf("%s: cached tokens %d, want %d", q, r.Usage.CachedTokens, cache.Tokens)
		}
	}
	if got := roles(conv.Messages()); got != "cua" {
		t.Fatalf("history %q, want the cache reference kept: cua", got)
	}
	conv.Reset()
	if got := roles(conv.Messages()); got != "c" {
		t.Fatalf("after Reset %q, want c", got)
	}
}
