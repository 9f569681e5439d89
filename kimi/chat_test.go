package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const completionBody = `{"id":"chatcmpl-6970b5d02fa474c1767e8767","object":"chat.completion","created":1698999496,"model":"moonshot-v1-128k",
"choices":[{"index":0,"message":{"role":"assistant","content":"Hello","reasoning_content":"hmm","refusal":null},"finish_reason":"stop"}],
"usage":{"prompt_tokens":19,"completion_tokens":21,"total_tokens":40,"prompt_tokens_details":{"cached_tokens":10}},
"system_fingerprint":"fpv0_10a6da87","brand_new":{"x":1}}`

func TestCreate(t *testing.T) {
	s := NewLoopback(t, reply(200, completionBody, "Msh-Request-Id", "rid-9", "Msh-Context-Cache-Token-Saved", "10"))
	c, _ := newTestClient(t, s.URL+"/v1")
	req := &ChatRequest{
		Model:         "moonshot-v1-128k",
		Messages:      []Message{SystemMessage("be brief"), UserMessage("hi")},
		Temperature:   Ptr(0.0),
		Stop:          []string{"END"},
		Stream:        true,
		StreamOptions: &StreamOptions{IncludeUsage: true},
		Extra:         map[string]any{"prompt_cache_options": map[string]any{"ttl": 60}},
	}
	cc, err := c.Chat.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Text() != "Hello" || cc.Choices[0].Message.ReasoningContent != "hmm" || cc.RequestID() != "rid-9" ||
		cc.Header.Get("Msh-Context-Cache-Token-Saved") != "10" || cc.Usage.CachedTokens != 10 {
		t.Errorf("completion = %+v", cc)
	}
	if string(cc.Extra["brand_new"]) != `{"x":1}` || cc.Choices[0].Message.Extra["refusal"] == nil {
		t.Errorf("unknown fields dropped: %v / %v", cc.Extra, cc.Choices[0].Message.Extra)
	}
	if !req.Stream || req.StreamOptions == nil {
		t.Errorf("Create modified the caller's request")
	}

	r, body := s.Request(0)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	var sent map[string]any
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	if _, ok := sent["stream"]; ok {
		t.Errorf("stream sent: %s", body)
	}
	if _, ok := sent["stream_options"]; ok {
		t.Errorf("stream_options sent: %s", body)
	}
	if sent["temperature"] != 0.0 || sent["stop"] != "END" || sent["prompt_cache_options"] == nil {
		t.Errorf("body = %s", body)
	}
}

func TestCreateDecodeError(t *testing.T) {
	s := NewLoopback(t, reply(200, `{"id": "x", "choices": [`))
	c, _ := newTestClient(t, s.URL+"/v1")
	_, err := c.Chat.Create(context.Background(), &ChatRequest{Model: "m", Messages: []Message{UserMessage("x")}})
	if err == nil || !strings.Contains(err.Error(), "decode") {
		t.Fatalf("err = %v", err)
	}
	if s.Hits.Load() != 1 {
		t.Errorf("a bad 200 body was retried")
	}
}

func TestModels(t *testing.T) {
	s := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.EscapedPath() {
		case "/v1/models":
			reply(200, modelsBody)(w, r)
		case "/v1/models/kimi-k2.5":
			reply(200, `{"id":"kimi-k2.5","object":"model","context_length":262144,"supports_reasoning":true}`)(w, r)
		case "/v1/models/vendor%2Fodd":
			reply(200, `{"id":"vendor/odd","object":"model"}`)(w, r)
		default:
			reply(404, kimiErr("resource_not_found_error", "Not found the model nope or Permission denied"))(w, r)
		}
	})
	c, _ := newTestClient(t, s.URL+"/v1")
	ctx := context.Background()
	list, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old, new := list.Data[0], list.Data[1]
	if old.ID != "moonshot-v1-8k" || old.OwnedBy != "moonshot" || old.Created != 1709149158 || len(old.Permission) != 1 {
		t.Errorf("2024 shape: %+v", old)
	}
	if new.ContextLength != 262144 || !new.SupportsImageIn || !new.SupportsReasoning || string(new.Extra["future_flag"]) != "7" {
		t.Errorf("2026 shape: %+v", new)
	}
	m, err := c.Models.Get(ctx, "kimi-k2.5")
	if err != nil || m.ID != "kimi-k2.5" || m.ContextLength != 262144 {
		t.Errorf("Get = %+v, %v", m, err)
	}
	if m, err := c.Models.Get(ctx, "vendor/odd"); err != nil || m.ID != "vendor/odd" {
		t.Errorf("Get escaped = %+v, %v", m, err)
	}
	_, err = c.Models.Get(ctx, "nope")
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 404 || e.Type != ErrTypeResourceNotFound {
		t.Errorf("Get unknown: %v", err)
	}
}

// toolServer scripts a web-search conversation: the first reply calls
// $web_search and get_time, the second answers.
func toolServer(t *testing.T) *Loopback {
	first := `{"id":"c1","object":"chat.completion","model":"kimi-k2.7-code","choices":[{"index":0,"finish_reason":"tool_calls",
"message":{"role":"assistant","content":"","reasoning_content":"need search","tool_calls":[
{"index":0,"id":"$web_search:0","type":"builtin_function","function":{"name":"$web_search","arguments":"{\"search_result\":{\"search_id\":\"s-1\"},\"usage\":{\"total_tokens\":13046}}"}},
{"index":1,"id":"functions.get_time:1","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"UTC\"}"}}]}}]}`
	second := `{"id":"c2","object":"chat.completion","model":"kimi-k2.7-code","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"It is noon and sunny."}}]}`
	return NewLoopback(t, reply(200, first), reply(200, second))
}

func TestRunTools(t *testing.T) {
	s := toolServer(t)
	c, _ := newTestClient(t, s.URL+"/v1")
	req := &ChatRequest{Model: "kimi-k2.7-code", Messages: []Message{UserMessage("news and time?")},
		Tools: []Tool{{Type: ToolTypeFunction, Function: ToolFunction{Name: "get_time"}}}}
	var gotCall ToolCall
	handler := func(ctx context.Context, call ToolCall) (string, error) {
		gotCall = call
		return "12:00", nil
	}
	cc, history, err := c.Chat.RunTools(context.Background(), req, handler)
	if err != nil {
		t.Fatal(err)
	}
	if cc.Text() != "It is noon and sunny." || len(history) != 5 {
		t.Fatalf("text %q, history %d", cc.Text(), len(history))
	}
	if len(req.Messages) != 1 || len(req.Tools) != 1 {
		t.Errorf("RunTools modified the caller's request")
	}
	if gotCall.ID != "functions.get_time:1" || gotCall.Function.Arguments != `{"tz":"UTC"}` {
		t.Errorf("handler got %+v", gotCall)
	}

	// The second request carries the assistant turn as returned and the
	// tool answers; the search arguments are echoed byte for byte.
	_, body := s.Request(1)
	var sent struct {
		Messages []map[string]any `json:"messages"`
		Tools    []Tool           `json:"tools"`
	}
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	if len(sent.Messages) != 4 || len(sent.Tools) != 2 || sent.Tools[1].Function.Name != WebSearchToolName {
		t.Fatalf("second request: %s", body)
	}
	asst, search, timeMsg := sent.Messages[1], sent.Messages[2], sent.Messages[3]
	if asst["reasoning_content"] != "need search" || len(asst["tool_calls"].([]any)) != 2 {
		t.Errorf("assistant turn: %v", asst)
	}
	wantArgs := `{"search_result":{"search_id":"s-1"},"usage":{"total_tokens":13046}}`
	if search["role"] != "tool" || search["tool_call_id"] != "$web_search:0" || search["name"] != "$web_search" || search["content"] != wantArgs {
		t.Errorf("search answer: %v", search)
	}
	if timeMsg["tool_call_id"] != "functions.get_time:1" || timeMsg["content"] != "12:00" {
		t.Errorf("tool answer: %v", timeMsg)
	}
}

func TestRunToolsErrors(t *testing.T) {
	req := &ChatRequest{Model: "kimi-k2.7-code", Messages: []Message{UserMessage("q")}}
	t.Run("no handler", func(t *testing.T) {
		s := toolServer(t)
		c, _ := newTestClient(t, s.URL+"/v1")
		cc, history, err := c.Chat.RunTools(context.Background(), req, nil)
		if err == nil || !strings.Contains(err.Error(), `"get_time"`) || cc == nil || len(history) < 2 {
			t.Errorf("err = %v, history %d", err, len(history))
		}
		if s.Hits.Load() != 1 {
			t.Errorf("hits = %d", s.Hits.Load())
		}
	})
	t.Run("handler error", func(t *testing.T) {
		s := toolServer(t)
		c, _ := newTestClient(t, s.URL+"/v1")
		boom := errors.New("boom")
		_, _, err := c.Chat.RunTools(context.Background(), req, func(context.Context, ToolCall) (string, error) { return "", boom })
		if !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too many rounds", func(t *testing.T) {
		loop := `{"id":"c","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","reasoning_content":"r","tool_calls":[{"id":"$web_search:0","type":"builtin_function","function":{"name":"$web_search","arguments":"{}"}}]}}]}`
		s := NewLoopback(t, reply(200, loop))
		c, _ := newTestClient(t, s.URL+"/v1")
		_, _, err := c.Chat.RunTools(context.Background(), req, nil)
		// MaxToolRounds rounds run, then the next completion still asks.
		if !errors.Is(err, ErrTooManyToolRounds) || s.Hits.Load() != MaxToolRounds+1 {
			t.Errorf("err = %v after %d requests", err, s.Hits.Load())
		}
	})
}

// TestKeyNeverLeaks drives requests, retries and errors with a Debug
// logger and checks the key appears in no log line, error or printed value.
func TestKeyNeverLeaks(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		reply(401, kimiErr("invalid_authentication_error", "bad header: "+r.Header.Get("Authorization")))(w, r)
	}
	s := NewLoopback(t, reply(503, ""), echo)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Logger = logger; c.Proxy = "" })
	_, err := c.Models.List(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 401 {
		t.Fatalf("err = %v", err)
	}

	cfg := Config{APIKey: testKey, BaseURL: s.URL, Proxy: "http://user:proxypass@127.0.0.1:1"}
	logger.Info("config", "cfg", cfg, "client", c)
	var printed []string
	clientValue := reflect.ValueOf(c).Elem().Interface() // a copy that vet's copylocks does not see
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		// clientValue is a Client value, which has no String of its own:
		// fmt walks its fields, and under a verb a field does not take
		// (%s, %q, %d) it dereferences pointers too.
		printed = append(printed, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, c), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, *c.Chat),
			fmt.Sprintf(verb, clientValue))
	}
	js, err2 := json.Marshal(cfg)
	if err2 != nil || !strings.Contains(string(js), `"api_key_set":true`) {
		t.Errorf("json.Marshal(Config) = %s, %v", js, err2)
	}
	printed = append(printed, string(js))
	panicked := func() (v any) {
		defer func() { v = recover() }()
		panic(cfg)
	}()
	printed = append(printed, fmt.Sprint(panicked), err.Error(), string(e.Body), e.Message)

	if !strings.Contains(logs.String(), `"msg":"kimi retrying"`) || !strings.Contains(logs.String(), `"status":401`) {
		t.Errorf("expected retry and request logs, got:\n%s", logs.String())
	}
	all := logs.String() + strings.Join(printed, "\n")
	for _, secret := range []string{testKey, "proxypass", fmt.Sprintf("%x", testKey)} {
		if strings.Contains(all, secret) {
			t.Errorf("%q leaked:\n%s", secret, all)
		}
	}
	if !strings.Contains(e.Message, "[REDACTED]") {
		t.Errorf("echoed key not redacted: %q", e.Message)
	}
}

// Logprobs come back as sent and decode into tokens with their
// alternatives, on Create and in a stream.
func TestLogprobs(t *testing.T) {
	const lp = `{"content":[{"token":"Hi","logprob":-0.01,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.01},{"token":"Hello","logprob":-4.6}]}]}`
	s := NewLoopback(t, reply(200, `{"id":"c","object":"chat.completion","model":"moonshot-v1-8k","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"logprobs":`+lp+`,"finish_reason":"stop"}]}`),
		reply(200, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"logprobs\":"+lp+"}]}\n\ndata: [DONE]\n\n", "Content-Type", "text/event-stream"))
	c, _ := newTestClient(t, s.URL+"/v1")
	req := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("hi")}, Logprobs: Ptr(true), TopLogprobs: Ptr(2)}
	resp, err := c.Chat.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, toks []TokenLogprob, err error) {
		t.Helper()
		if err != nil || len(toks) != 1 || toks[0].Token != "Hi" || toks[0].Logprob != -0.01 || len(toks[0].Bytes) != 2 ||
			len(toks[0].TopLogprobs) != 2 || toks[0].TopLogprobs[1].Token != "Hello" {
			t.Errorf("%s: %+v, %v", where, toks, err)
		}
	}
	toks, err := resp.Choices[0].Tokens()
	check("Create", toks, err)
	_, body := s.Last()
	if !strings.Contains(string(body), `"logprobs":true,"top_logprobs":2`) {
		t.Errorf("sent %s", body)
	}
	st, err := c.Chat.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.Next() {
		t.Fatal(st.Err())
	}
	toks, err = st.Current().Choices[0].Tokens()
	check("Stream", toks, err)
	if toks, err := (Choice{}).Tokens(); toks != nil || err != nil {
		t.Errorf("no logprobs: %v %v", toks, err)
	}
}
