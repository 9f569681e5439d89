package kimi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// These tests run the client against the kimitest emulator over loopback
// HTTP.

func TestEmulatorChatCreate(t *testing.T) {
	for _, model := range []string{"moonshot-v1-8k", "moonshot-v1-128k"} {
		t.Run(model, func(t *testing.T) {
			c, _, rec := setup(t)
			resp, err := c.Chat.Create(context.Background(), userRequest(model, "Hello, what is 1+1?"))
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != 1 || resp.Text() == "" || resp.Choices[0].FinishReason != kimi.FinishStop {
				t.Errorf("completion = %+v", resp)
			}
			if resp.Usage == nil || resp.Usage.PromptTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
				t.Errorf("usage = %+v", resp.Usage)
			}
			if resp.RequestID() == "" || !strings.HasPrefix(resp.ID, "c") {
				t.Errorf("id %q, request id %q", resp.ID, resp.RequestID())
			}
			if resp.Header.Get("Msh-Uid") == "" || resp.Header.Get("Server-Timing") == "" {
				t.Errorf("headers = %v", resp.Header)
			}
			if rec.n() != 1 {
				t.Errorf("requests = %d", rec.n())
			}
		})
	}
}

func TestEmulatorModels(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	list, err := c.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) == 0 {
		t.Fatal("empty model list")
	}
	var found bool
	for _, m := range list.Data {
		found = found || m.ID == "kimi-k2.5"
	}
	if !found {
		t.Errorf("kimi-k2.5 not listed")
	}
	m, err := c.Models.Get(ctx, "kimi-k2.5")
	if err != nil || m.ID != "kimi-k2.5" {
		t.Fatalf("Get = %+v, %v", m, err)
	}
	_, err = c.Models.Get(ctx, "no-such-model")
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != 404 || e.Attempts != 1 {
		t.Errorf("unknown model: %v", err)
	}
}

func TestEmulatorValidationNeverReachesServer(t *testing.T) {
	c, _, rec := setup(t)
	for _, req := range []*kimi.ChatRequest{
		{Model: "moonshot-v1-8k"},
		{Model: "moonshot-v1-8k", Messages: []kimi.Message{kimi.UserMessage("x")}, Temperature: kimi.Ptr(1.5)},
		{Model: "kimi-k2.5", Messages: []kimi.Message{kimi.UserMessage("x")}, TopP: kimi.Ptr(0.5)},
		{Model: "kimi-k2.7-code", Messages: []kimi.Message{kimi.UserMessage("x")}, Thinking: &kimi.Thinking{Type: "disabled"}},
	} {
		_, err := c.Chat.Create(context.Background(), req)
		wantInvalid(t, req.Model, err, "")
	}
	wantNoRequests(t, rec)
}

// patient is a newClient mod whose MaxDelay (a minute) lets any
// emulated hint be waited; pair it with kimi.RecordWaits.
func patient(cfg *kimi.Config) {
	cfg.Retry = &kimi.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: time.Minute, RateLimitDelay: time.Millisecond}
}

func TestEmulatorRetryableFaultsRecover(t *testing.T) {
	const route = "POST /v1/chat/completions"
	for _, tc := range []struct {
		name  string
		fault kimitest.Fault
	}{
		{"503", kimitest.Fault{Route: route, Times: 1, Status: 503}},
		{"500", kimitest.Fault{Route: route, Times: 1, Status: 500}},
		{"502", kimitest.Fault{Route: route, Times: 1, Status: 502}},
		{"504 html", kimitest.Fault{Route: route, Times: 2, Status: 504}},
		{"429 overloaded", kimitest.Fault{Route: route, Times: 1, Status: 429,
			Body: `{"error":{"type":"engine_overloaded_error","message":"The engine is currently overloaded, please try again later"}}`}},
		{"429 rate limit with hint", kimitest.Fault{Route: route, Times: 1, Status: 429,
			Body: `{"error":{"type":"rate_limit_reached_error","message":"Your account o<a> request reached organization max RPM: 3, please try again after 1 seconds"}}`}},
		{"reset before headers", kimitest.Fault{Route: route, Times: 1, ResetBeforeHeaders: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv, _ := setup(t, kimitest.WithFaults(tc.fault))
			// The 1 s hint is over the fast policy's MaxDelay, which would
			// return it at once: take a patient policy and record the
			// wait instead of sleeping it.
			c, rec := newClient(srv, patient)
			kimi.RecordWaits(c)
			resp, err := c.Chat.Create(context.Background(), userRequest("moonshot-v1-8k", "hi"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text() == "" {
				t.Errorf("empty reply")
			}
			if want := tc.fault.Times + 1; rec.n() != want {
				t.Errorf("requests = %d, want %d", rec.n(), want)
			}
		})
	}
}

// TestEmulatorRetryAfterHint: the server's Retry-After is waited out in
// full, never cut to MaxDelay; a hint over MaxDelay, or past the
// context's deadline, returns the error at once.
func TestEmulatorRetryAfterHint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    string
		deadline time.Duration // 0: none
		attempts int
		waits    []time.Duration
	}{
		{"waited in full", "status=503;retry-after=20", 0, 3, []time.Duration{20 * time.Second, 20 * time.Second}},
		{"429 waited in full", "status=429;retry-after=2", 0, 3, []time.Duration{2 * time.Second, 2 * time.Second}},
		{"over MaxDelay", "status=429;retry-after=100", 0, 1, nil},
		{"past the deadline", "status=429;retry-after=20", 10 * time.Second, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := kimitest.NewServer(t)
			c, rec := newClient(srv, patient)
			waits := kimi.RecordWaits(c)
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			_, err := c.Chat.Create(ctx, userRequest("moonshot-v1-8k", "hi"), kimi.WithHeader(kimitest.FaultHeader, tc.fault))
			var e *kimi.Error
			if !errors.As(err, &e) || e.Attempts != tc.attempts || e.RetryAfter == 0 {
				t.Fatalf("err = %v, want an *Error with RetryAfter after %d attempts", err, tc.attempts)
			}
			if rec.n() != tc.attempts {
				t.Errorf("requests = %d, want %d", rec.n(), tc.attempts)
			}
			if got := waits(); !slices.Equal(got, tc.waits) {
				t.Errorf("waits = %v, want %v", got, tc.waits)
			}
		})
	}
}

func TestEmulatorHeaderFault(t *testing.T) {
	srv := kimitest.NewServer(t)
	c, rec := newClient(srv, noRetry)
	req := userRequest("moonshot-v1-8k", "hi")
	_, err := c.Chat.Create(context.Background(), req, kimi.WithHeader(kimitest.FaultHeader, "status=503;retry-after=2"))
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.RetryAfter != 2*time.Second || e.Attempts != 1 {
		t.Fatalf("err = %v", err)
	}
	if rec.n() != 1 {
		t.Errorf("requests = %d, want 1 (retries disabled)", rec.n())
	}
}

func TestEmulatorNonRetryable(t *testing.T) {
	chat := func(req *kimi.ChatRequest) func(*kimi.Client) error {
		return func(c *kimi.Client) error {
			_, err := c.Chat.Create(context.Background(), req)
			return err
		}
	}
	tooLong := userRequest("moonshot-v1-8k", "hi")
	tooLong.MaxTokens = kimi.Ptr(100000)
	for _, tc := range []struct {
		name   string
		opts   []kimitest.Option
		mod    func(*kimi.Config) // nil for none
		call   func(*kimi.Client) error
		status int
		typ    string // "" for any
		code   string // "" for any
	}{
		// max_tokens beyond the context window passes client validation
		// (the client does not know context sizes) and the server refuses.
		{name: "400 from the server", call: chat(tooLong), status: 400, typ: kimi.ErrTypeInvalidRequest},
		{name: "401 wrong key", mod: func(c *kimi.Config) { c.APIKey = "sk-wrong-key-000000" },
			call: chat(userRequest("moonshot-v1-8k", "hi")), status: 401},
		{name: "404 retired model", call: chat(userRequest("kimi-k2-turbo-preview", "hi")), status: 404, typ: kimi.ErrTypeResourceNotFound},
		{name: "429 exceeded quota", opts: []kimitest.Option{kimitest.WithRule(kimitest.Rule{Match: "hi", Error: &kimitest.RuleError{Status: 429,
			Type: "exceeded_current_quota_error", Message: "Your account o<a> is suspended, please check your plan and billing details"}})},
			call: chat(userRequest("moonshot-v1-8k", "hi")), status: 429, typ: kimi.ErrTypeExceededCurrentQuota},
		{name: "gateway 404 route", mod: func(c *kimi.Config) { c.BaseURL += "/nope" },
			call: func(c *kimi.Client) error { _, err := c.Models.List(context.Background()); return err }, status: 404, code: "url.not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, rec := newClient(kimitest.NewServer(t, tc.opts...), tc.mod)
			err := tc.call(c)
			var e *kimi.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *kimi.Error", err, err)
			}
			if e.StatusCode != tc.status || (tc.typ != "" && e.Type != tc.typ) || (tc.code != "" && e.Code != tc.code) || e.Attempts != 1 || e.Temporary() {
				t.Errorf("got %d %q %q attempts %d: %v", e.StatusCode, e.Type, e.Code, e.Attempts, err)
			}
			if rec.n() != 1 {
				t.Errorf("requests = %d, want 1", rec.n())
			}
			if strings.Contains(err.Error(), "sk-wrong-key-000000") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestEmulatorGivesUp(t *testing.T) {
	c, _, rec := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Status: 503}))
	_, err := c.Chat.Create(context.Background(), userRequest("moonshot-v1-8k", "hi"))
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != 3 || rec.n() != 3 {
		t.Fatalf("err = %v, requests %d", err, rec.n())
	}
}

func TestEmulatorWebSearch(t *testing.T) {
	c, _, rec := setup(t)
	resp, history, err := c.Chat.RunTools(context.Background(), userRequest("moonshot-v1-auto", "Search the web: what is the weather in Beijing today?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].FinishReason != kimi.FinishStop || resp.Text() == "" {
		t.Errorf("final = %+v", resp.Choices[0])
	}
	var searched bool
	for _, m := range history {
		searched = searched || (m.Role == kimi.RoleTool && m.Name == kimi.WebSearchToolName)
	}
	if !searched || rec.n() < 2 {
		t.Errorf("no $web_search round trip (requests %d, history %d)", rec.n(), len(history))
	}
}

func TestEmulatorThinkingToolLoop(t *testing.T) {
	// The emulator calls a function whose name the user mentions, then
	// answers once the last message is the tool result.
	c, _, rec := setup(t)
	req := userRequest("kimi-k2.5", "Please get weather for Beijing.")
	req.Tools = []kimi.Tool{{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{Name: "get_weather",
		Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}}
	var args string
	resp, history, err := c.Chat.RunTools(context.Background(), req, func(ctx context.Context, call kimi.ToolCall) (string, error) {
		args = call.Function.Arguments
		return "sunny, 25C", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() == "" || !strings.HasPrefix(args, "{") || rec.n() != 2 {
		t.Errorf("text %q, args %q, requests %d", resp.Text(), args, rec.n())
	}
	// The assistant tool-call turn went back with its reasoning_content,
	// which the emulator (like Kimi) requires for thinking models.
	if len(history) != 4 || history[1].ReasoningContent == "" || len(history[1].ToolCalls) != 1 {
		t.Errorf("history = %+v", history)
	}
}

// A retired model's 404 says since when, and what is current.
func TestRetiredModelHint(t *testing.T) {
	c, _, _ := setup(t)
	_, err := c.Chat.Create(context.Background(), userRequest("kimi-k2-thinking", "hi"))
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != 404 || !strings.Contains(err.Error(), "kimi-k2-thinking is retired since 2026-05-25; current models include kimi-k2.5, kimi-k2.6") ||
		!strings.Contains(e.RetiredHint(), "kimi-k3") {
		t.Errorf("err = %v", err)
	}
	_, err = c.Chat.Create(context.Background(), userRequest("no-such-model", "hi"))
	if !errors.As(err, &e) || e.StatusCode != 404 || e.RetiredHint() != "" {
		t.Errorf("unknown model: %v", err)
	}
}
