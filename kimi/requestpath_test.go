package kimi

import (
	"context"
	"net/http"
	"reflect"
	"testing"
)

// TestChatOptionsRunOnce: a chat call runs each of its options once,
// though it both checks the cache headers and builds the request from
// them, and however many attempts it takes; the headers still arrive.
func TestChatOptionsRunOnce(t *testing.T) {
	completion := `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	s := NewLoopback(t, reply(503, ""), reply(200, completion), reply(503, ""),
		reply(200, "data: [DONE]\n\n", "Content-Type", "text/event-stream"))
	c, _ := newTestClient(t, s.URL+"/v1")
	runs := 0
	counted := RequestOption(func(o *callOptions) {
		runs++
		WithHeader(HeaderContextCache, "cache-1")(o)
	})
	req := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("hi")}}

	if _, err := c.Chat.Create(context.Background(), req, counted); err != nil {
		t.Fatal(err)
	}
	if runs != 1 {
		t.Errorf("Create ran its option %d times over 2 attempts, want 1", runs)
	}
	runs = 0
	st, err := c.Chat.Stream(context.Background(), req, counted)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if runs != 1 {
		t.Errorf("Stream ran its option %d times over 2 attempts, want 1", runs)
	}
	for i, r := range s.Requests() {
		if got := r.Header.Get(HeaderContextCache); got != "cache-1" {
			t.Errorf("request %d: %s = %q, want cache-1", i, HeaderContextCache, got)
		}
	}
	// The check still sees the headers.
	req.Messages = append([]Message{CacheMessage(CacheRef{CacheID: "cache-2"})}, req.Messages...)
	if _, err := c.Chat.Create(context.Background(), req, counted); err == nil {
		t.Error("a cache message with cache headers was sent")
	}
}

// TestRedactHeaderCopiesOnlyWhatChanges: a response header with a
// Set-Cookie and an echoed key reaches the caller redacted, while the
// transport's header is left alone and shares every value slice that
// needed no change; a header with nothing to redact is not copied.
func TestRedactHeaderCopiesOnlyWhatChanges(t *testing.T) {
	completion := `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	s := NewLoopback(t, reply(200, completion, "Set-Cookie", "session=abc123", "X-Plain", "kept", "X-Trace", "t-1"),
		echoAuth(200, completion, "X-Plain", "kept"),
		reply(200, completion, "X-Plain", "kept"))
	var orig http.Header // the transport's header of the latest response
	c, _ := newTestClient(t, s.URL+"/v1", func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := s.Client().Transport.RoundTrip(r)
			if err == nil {
				orig = resp.Header
			}
			return resp, err
		})}
	})
	req := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("hi")}}
	create := func() http.Header {
		t.Helper()
		cc, err := c.Chat.Create(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return cc.Header
	}
	sameSlice := func(a, b http.Header, name string) bool { return &a[name][0] == &b[name][0] }
	sameMap := func(a, b http.Header) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}

	h := create()
	if got := h.Get("Set-Cookie"); got != "[REDACTED]" {
		t.Errorf("Set-Cookie = %q, want [REDACTED]", got)
	}
	if got := orig.Get("Set-Cookie"); got != "session=abc123" {
		t.Errorf("the transport's Set-Cookie became %q", got)
	}
	if sameMap(h, orig) || !sameSlice(h, orig, "X-Plain") || !sameSlice(h, orig, "X-Trace") {
		t.Error("want a new map sharing the unchanged values")
	}

	h = create()
	if got := h.Get("X-Echo"); got != "you sent Bearer [REDACTED]" {
		t.Errorf("X-Echo = %q", got)
	}
	if got := orig.Get("X-Echo"); got != "you sent Bearer "+testKey {
		t.Errorf("the transport's X-Echo became %q", got)
	}
	if !sameSlice(h, orig, "X-Plain") {
		t.Error("an unchanged value was copied")
	}

	if h = create(); !sameMap(h, orig) {
		t.Error("a header with nothing to redact was copied")
	}
}
