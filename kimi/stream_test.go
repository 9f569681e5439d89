package kimi_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// These tests serve exactly crafted SSE bytes over loopback HTTP, so they
// exercise the decoder against wire bytes rather than a friendly emulator.

const head = `"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1787771120,"model":"moonshot-v1-128k"`

// ck builds a chunk JSON with the given choices JSON (without brackets) and
// optional extra top-level members.
func ck(choices string, extra ...string) string {
	s := `{` + head + `,"choices":[` + choices + `]`
	for _, e := range extra {
		s += "," + e
	}
	return s + `}`
}

func delta(i int, d string) string {
	return fmt.Sprintf(`{"index":%d,"delta":%s,"finish_reason":null}`, i, d)
}

const usageJSON = `{"prompt_tokens":19,"completion_tokens":21,"total_tokens":40,"cached_tokens":10}`

func final(i int, reason, usage string) string {
	return fmt.Sprintf(`{"index":%d,"delta":{},"finish_reason":%q,"usage":%s}`, i, reason, usage)
}

// events frames payloads as "data: p\n\n".
func events(payloads ...string) string {
	var b strings.Builder
	for _, p := range payloads {
		b.WriteString("data: " + p + "\n\n")
	}
	return b.String()
}

// standard is a complete stream: role, reasoning, content, final chunk with
// per-choice usage, include_usage trailer, [DONE].
var standard = []string{
	ck(delta(0, `{"role":"assistant","content":""}`)),
	ck(delta(0, `{"reasoning_content":"The user "}`)),
	ck(delta(0, `{"reasoning_content":"greets."}`)),
	ck(delta(0, `{"reasoning_content":""}`)),
	ck(delta(0, `{"content":"你好"}`)),
	ck(delta(0, `{"content":", world"}`), `"usage":null`),
	ck(final(0, "stop", usageJSON)),
	ck(``, `"usage":`+usageJSON),
	"[DONE]",
}

// rawSSE returns a handler writing body as one text/event-stream response.
func rawSSE(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Msh-Request-Id", "req-123")
		io.WriteString(w, body)
	}
}

func newReq() *kimi.ChatRequest { return userRequest("moonshot-v1-128k", "hi") }

// openStream serves h on a loopback server and opens a stream of newReq
// on it, closed with the test.
func openStream(t *testing.T, h http.HandlerFunc) (*kimi.Stream, *kimi.Loopback) {
	t.Helper()
	c, srv := loopback(t, h)
	s, err := c.Chat.Stream(context.Background(), newReq())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, srv
}

// streamed is the stream of body, read to its end without an error.
func streamed(t *testing.T, body string) *kimi.Stream {
	t.Helper()
	s, _ := openStream(t, rawSSE(body))
	drain(t, s)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// drain reads the whole stream and returns the concatenated content.
func drain(t *testing.T, s *kimi.Stream) (content string, chunks int) {
	t.Helper()
	for s.Next() {
		chunks++
		for _, c := range s.Current().Choices {
			content += c.Delta.Content
		}
	}
	return content, chunks
}

func TestStreamWireVariants(t *testing.T) {
	lf := events(standard...)
	tests := []struct {
		name, body string
	}{
		{"lf", lf},
		{"crlf", strings.ReplaceAll(lf, "\n", "\r\n")},
		{"cr", strings.ReplaceAll(lf, "\n", "\r")},
		{"data without space", strings.ReplaceAll(lf, "data: ", "data:")},
		{"500 keep-alive comments", strings.Repeat(": keep-alive\n\n", 250) + strings.Replace(lf, "\n\n", "\n"+strings.Repeat(":\n", 250)+"\n", 3)},
		{"done without trailing blank line", strings.TrimSuffix(lf, "\n\n")},
		{"data after done ignored", lf + events(ck(delta(0, `{"content":"IGNORED"}`))) + "event: error\ndata: {\"error\":{\"message\":\"late\"}}\n\n"},
		{"payload split over data lines", strings.Replace(lf, `"content":"你好"}`, "\"content\":\"你好\"}\ndata: ", 1)},
		{"blank data event skipped", "data:\n\n" + lf},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, srv := loopback(t, rawSSE(tt.body))
			req := newReq()
			s, err := client.Chat.Stream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			content, chunks := drain(t, s)
			if err := s.Err(); err != nil {
				t.Fatalf("Err = %v", err)
			}
			if content != "你好, world" || chunks != 8 {
				t.Fatalf("content %q in %d chunks", content, chunks)
			}
			if s.Next() {
				t.Fatal("Next after [DONE] returned true")
			}
			if req.Stream {
				t.Error("caller's request was mutated")
			}
			r, body := srv.Last()
			var sent map[string]any
			json.Unmarshal(body, &sent)
			if sent["stream"] != true {
				t.Errorf("request body stream = %v", sent["stream"])
			}
			if got := r.Header.Get("Accept"); got != "text/event-stream" {
				t.Errorf("Accept = %q", got)
			}
			if s.RequestID() != "req-123" || s.Header().Get("Content-Type") != "text/event-stream" {
				t.Errorf("RequestID %q, header %v", s.RequestID(), s.Header())
			}

			c := s.Completion()
			if c.ID != "chatcmpl-abc" || c.Object != "chat.completion" || c.Model != "moonshot-v1-128k" || c.Created != 1787771120 {
				t.Errorf("completion head %+v", c)
			}
			if len(c.Choices) != 1 || c.Choices[0].FinishReason != "stop" || c.Choices[0].Usage == nil {
				t.Fatalf("choices %+v", c.Choices)
			}
			if c.Usage == nil || c.Usage.TotalTokens != 40 || c.Usage.CachedTokens != 10 {
				t.Errorf("usage %+v", c.Usage)
			}
			m := s.Message()
			if m.Role != kimi.RoleAssistant || m.Content != "你好, world" || m.ReasoningContent != "The user greets." {
				t.Errorf("message %+v", m)
			}
		})
	}
}

func TestStreamIncomplete(t *testing.T) {
	// Everything but [DONE], then a clean end of the response.
	s, _ := openStream(t, rawSSE(events(standard[:len(standard)-1]...)))
	content, _ := drain(t, s)
	if content != "你好, world" {
		t.Errorf("content before the error: %q", content)
	}
	if !errors.Is(s.Err(), kimi.ErrStreamIncomplete) {
		t.Fatalf("Err = %v, want ErrStreamIncomplete", s.Err())
	}
	// What arrived is still available, marked by the missing [DONE] only.
	if s.Message().Content != "你好, world" {
		t.Errorf("partial message %+v", s.Message())
	}
}

func TestStreamCutConnection(t *testing.T) {
	s, _ := openStream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, events(standard[:3]...))
		io.WriteString(w, `data: {"id":"chatcmpl-abc","choi`) // cut mid-event
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection without a chunked terminator
	})
	_, chunks := drain(t, s)
	if chunks != 3 {
		t.Errorf("%d chunks before the cut, want 3", chunks)
	}
	if !errors.Is(s.Err(), kimi.ErrStreamIncomplete) {
		t.Fatalf("Err = %v, want ErrStreamIncomplete", s.Err())
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name, body      string
		typ, message    string
		chunksBeforeErr int
	}{
		{"event error envelope", events(standard[:2]...) + "event: error\ndata: {\"error\":{\"type\":\"server_error\",\"message\":\"engine crashed\"}}\n\n",
			"server_error", "engine crashed", 2},
		{"event error flat", events(standard[:1]...) + "event: error\ndata: {\"type\":\"engine_overloaded_error\",\"message\":\"busy\"}\n\n",
			"engine_overloaded_error", "busy", 1},
		{"event error text", "event: error\ndata: something broke\n\n", "", "something broke", 0},
		{"in-stream error object", events(standard[0], `{"error":{"message":"The request was rejected because it was considered high risk","type":"content_filter"}}`, "[DONE]"),
			"content_filter", "The request was rejected because it was considered high risk", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openStream(t, rawSSE(tt.body))
			_, chunks := drain(t, s)
			var apiErr *kimi.Error
			if !errors.As(s.Err(), &apiErr) {
				t.Fatalf("Err = %v, want *kimi.Error", s.Err())
			}
			if apiErr.StatusCode != 200 || apiErr.Type != tt.typ || apiErr.Message != tt.message || apiErr.RequestID != "req-123" {
				t.Errorf("error %+v", apiErr)
			}
			if chunks != tt.chunksBeforeErr {
				t.Errorf("%d chunks before the error, want %d", chunks, tt.chunksBeforeErr)
			}
			if s.Next() {
				t.Error("Next after an error returned true")
			}
		})
	}
}

func TestStreamJSONResponse(t *testing.T) {
	jsonBody := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			io.WriteString(w, body)
		}
	}
	const rateLimited = `{"error":{"type":"rate_limit_reached_error","message":"Your account org-1 request reached max concurrency: 1"}}`
	const completion = `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	for _, tc := range []struct {
		name       string
		status     int
		body       string
		wantStatus int // 0: want ErrNotEventStream
		wantType   string
	}{
		{"error envelope with 200", 200, rateLimited, 200, "rate_limit_reached_error"},
		{"completion instead of a stream", 200, completion, 0, ""},
		{"error status", 400, `{"error":{"type":"invalid_request_error","message":"Invalid request: bad"}}`, 400, "invalid_request_error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := loopback(t, jsonBody(tc.status, tc.body))
			_, err := c.Chat.Stream(context.Background(), newReq())
			if tc.wantStatus == 0 {
				if !errors.Is(err, kimi.ErrNotEventStream) {
					t.Fatalf("err = %v, want ErrNotEventStream", err)
				}
				return
			}
			if e := mustStatus(t, err, tc.wantStatus); e.Type != tc.wantType {
				t.Fatalf("err = %v, want type %s", err, tc.wantType)
			}
		})
	}

	// A JSON body is recognised by its first non-space byte whatever the
	// Content-Type says (gateways send JSON errors as text/event-stream).
	// typed serves body with status 200 and Content-Type ct ("" sends none:
	// net/http would otherwise sniff one).
	typed := func(ct, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if ct == "" {
				w.Header()["Content-Type"] = nil
			} else {
				w.Header().Set("Content-Type", ct)
			}
			w.Header().Set("Msh-Request-Id", "req-json")
			io.WriteString(w, body)
		}
	}
	for _, ct := range []string{"text/event-stream", "text/event-stream; charset=utf-8", "text/plain; charset=utf-8", ""} {
		t.Run("error envelope with 200 as "+cmp.Or(ct, "no Content-Type"), func(t *testing.T) {
			c, _ := loopback(t, typed(ct, "\r\n  "+rateLimited+"\n"))
			s, err := c.Chat.Stream(context.Background(), newReq())
			if s != nil {
				s.Close()
			}
			var apiErr *kimi.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want *kimi.Error", err)
			}
			if apiErr.StatusCode != 200 || apiErr.Type != "rate_limit_reached_error" || apiErr.RequestID != "req-json" ||
				!strings.Contains(apiErr.Message, "max concurrency") || !strings.Contains(string(apiErr.Body), rateLimited) {
				t.Errorf("error %+v", apiErr)
			}
			if errors.Is(err, kimi.ErrStreamIncomplete) || errors.Is(err, kimi.ErrNotEventStream) {
				t.Errorf("err = %v", err)
			}
		})
		t.Run("completion as "+cmp.Or(ct, "no Content-Type"), func(t *testing.T) {
			c, _ := loopback(t, typed(ct, completion))
			s, err := c.Chat.Stream(context.Background(), newReq())
			if s != nil {
				s.Close()
			}
			if !errors.Is(err, kimi.ErrNotEventStream) {
				t.Fatalf("err = %v, want ErrNotEventStream", err)
			}
		})
	}
	t.Run("large error envelope split across writes", func(t *testing.T) {
		big := `{"error":{"type":"server_error","message":"` + strings.Repeat("x", 70<<10) + `"}}`
		c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "\n")
			w.(http.Flusher).Flush()
			io.WriteString(w, big[:10])
			w.(http.Flusher).Flush()
			io.WriteString(w, big[10:])
		})
		_, err := c.Chat.Stream(context.Background(), newReq())
		var apiErr *kimi.Error
		if !errors.As(err, &apiErr) || apiErr.Type != "server_error" || len(apiErr.Message) != 70<<10 {
			t.Fatalf("err = %.200v", err)
		}
	})
	t.Run("event stream starting with blank lines still streams", func(t *testing.T) {
		s, _ := openStream(t, rawSSE("\n\n: keep-alive\n\n"+events(standard...)))
		content, _ := drain(t, s)
		if content != "你好, world" || s.Err() != nil {
			t.Fatalf("content %q, err %v", content, s.Err())
		}
	})
}

func TestStreamLongLine(t *testing.T) {
	const n = 40 << 20
	big := strings.Repeat("ab", n/2)
	s, _ := openStream(t, rawSSE(events(standard[0], ck(delta(0, `{"content":"`+big+`"}`)), ck(delta(0, `{"content":"!"}`)), "[DONE]")))
	var sizes []int
	for s.Next() {
		for _, c := range s.Current().Choices {
			sizes = append(sizes, len(c.Delta.Content))
		}
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{0, n, 1}) || len(s.Message().Content) != n+1 {
		t.Fatalf("delta sizes %v", sizes)
	}
}

func TestStreamToolCalls(t *testing.T) {
	tc := func(frag string) string { return ck(delta(0, `{"tool_calls":[`+frag+`]}`)) }
	tests := []struct {
		name   string
		chunks []string
	}{
		{"by index, interleaved", []string{
			ck(delta(0, `{"role":"assistant","content":"Let me check."}`)),
			tc(`{"index":0,"id":"get_weather:0","type":"function","function":{"name":"get_weather","arguments":""}}`),
			tc(`{"index":1,"id":"get_time:1","type":"function","function":{"name":"get_time","arguments":""}}`),
			tc(`{"index":0,"function":{"arguments":"{\"city\":"}}`),
			tc(`{"index":1,"function":{"arguments":"{\"tz\":\"Asia/Shanghai\"}"}}`),
			tc(`{"index":0,"function":{"arguments":"\"北京\"}"}}`),
			ck(final(0, "tool_calls", usageJSON)),
			"[DONE]",
		}},
		{"without index", []string{
			ck(delta(0, `{"role":"assistant","content":"Let me check."}`)),
			tc(`{"id":"get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}}`),
			tc(`{"function":{"arguments":"\"北京\"}"}}`),
			tc(`{"id":"get_time:1","type":"function","function":{"name":"get_time","arguments":""}}`),
			tc(`{"function":{"arguments":"{\"tz\":\"Asia/Shanghai\"}"}}`),
			ck(final(0, "tool_calls", usageJSON)),
			"[DONE]",
		}},
		{"several in one delta without index", []string{
			ck(delta(0, `{"role":"assistant","content":"Let me check."}`)),
			tc(`{"id":"get_weather:0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":"}},{"id":"get_time:1","type":"function","function":{"name":"get_time","arguments":""}}`),
			tc(`{"function":{"arguments":"\"北京\"}"}},{"function":{"arguments":"{\"tz\":\"Asia/Shanghai\"}"}}`),
			ck(final(0, "tool_calls", usageJSON)),
			"[DONE]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := streamed(t, events(tt.chunks...))
			m := s.Message()
			want := []kimi.ToolCall{
				{ID: "get_weather:0", Type: "function", Function: kimi.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"北京"}`}},
				{ID: "get_time:1", Type: "function", Function: kimi.ToolCallFunction{Name: "get_time", Arguments: `{"tz":"Asia/Shanghai"}`}},
			}
			got, _ := json.Marshal(m.ToolCalls)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) || m.Content != "Let me check." {
				t.Fatalf("tool calls\n got %s\nwant %s", got, wantJSON)
			}
			if fr := s.Completion().Choices[0].FinishReason; fr != kimi.FinishToolCalls {
				t.Errorf("finish reason %q", fr)
			}
			// The message goes back into the history as is.
			if _, err := json.Marshal(m); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStreamTwoChoices(t *testing.T) {
	u0 := `{"prompt_tokens":10,"completion_tokens":3,"total_tokens":13,"cached_tokens":4}`
	u1 := `{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cached_tokens":4}`
	body := events(
		ck(delta(0, `{"role":"assistant","content":""}`)+","+delta(1, `{"role":"assistant","content":""}`)),
		ck(delta(1, `{"content":"B1"}`)),
		ck(delta(0, `{"content":"A1"}`)),
		ck(delta(1, `{"content":"B2"}`)),
		ck(final(1, "length", u1)),
		ck(delta(0, `{"content":"A2"}`)),
		ck(final(0, "stop", u0)),
		"[DONE]",
	)
	for _, trailer := range []bool{false, true} {
		t.Run(fmt.Sprint("trailer=", trailer), func(t *testing.T) {
			b := body
			if trailer {
				b = strings.Replace(b, "data: [DONE]", "data: "+ck(``, `"usage":{"prompt_tokens":10,"completion_tokens":8,"total_tokens":18,"cached_tokens":4}`)+"\n\ndata: [DONE]", 1)
			}
			s := streamed(t, b)
			c := s.Completion()
			if len(c.Choices) != 2 || c.Choices[0].Index != 0 || c.Choices[1].Index != 1 {
				t.Fatalf("choices %+v", c.Choices)
			}
			if c.Choices[0].Message.Content != "A1A2" || c.Choices[1].Message.Content != "B1B2" {
				t.Errorf("contents %q %q", c.Choices[0].Message.Content, c.Choices[1].Message.Content)
			}
			if c.Choices[0].FinishReason != "stop" || c.Choices[1].FinishReason != "length" {
				t.Errorf("finish reasons %q %q", c.Choices[0].FinishReason, c.Choices[1].FinishReason)
			}
			if c.Choices[0].Usage.CompletionTokens != 3 || c.Choices[1].Usage.CompletionTokens != 5 {
				t.Errorf("per-choice usage %+v %+v", c.Choices[0].Usage, c.Choices[1].Usage)
			}
			// Without a trailer the prompt is counted once and completions summed.
			if u := c.Usage; u == nil || u.PromptTokens != 10 || u.CompletionTokens != 8 || u.TotalTokens != 18 || u.CachedTokens != 4 {
				t.Errorf("usage %+v", c.Usage)
			}
			if s.Message().Content != "A1A2" {
				t.Errorf("Message() is not choice 0: %+v", s.Message())
			}
		})
	}
}

func TestStreamUsageSources(t *testing.T) {
	trailerUsage := `{"prompt_tokens":19,"completion_tokens":21,"total_tokens":40,"prompt_tokens_details":{"cached_tokens":10}}`
	tests := []struct {
		name   string
		chunks []string
		want   int // cached tokens; 0 means no usage
	}{
		{"choice only", []string{ck(delta(0, `{"content":"x"}`)), ck(final(0, "stop", usageJSON)), "[DONE]"}, 10},
		{"trailer only, cached in details", []string{ck(delta(0, `{"content":"x"}`)), ck(`{"index":0,"delta":{},"finish_reason":"stop"}`), ck(``, `"usage":`+trailerUsage), "[DONE]"}, 10},
		{"trailer wins", []string{ck(final(0, "stop", `{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}`)), ck(``, `"usage":`+trailerUsage), "[DONE]"}, 10},
		{"none", []string{ck(delta(0, `{"content":"x"}`), `"usage":null`), "[DONE]"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := streamed(t, events(tt.chunks...)).Completion().Usage
			switch {
			case tt.want == 0 && u != nil:
				t.Errorf("usage %+v, want none", u)
			case tt.want != 0 && (u == nil || u.CachedTokens != tt.want || u.TotalTokens != 40):
				t.Errorf("usage %+v", u)
			}
		})
	}
}

// TestStreamIncremental proves the first delta reaches the caller while the
// server is still holding the response open.
func TestStreamIncremental(t *testing.T) {
	release := make(chan struct{})
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, events(standard[0], standard[4]))
		w.(http.Flusher).Flush()
		<-release // the test must see the first delta before we go on
		io.WriteString(w, events(standard[5:]...))
	})
	s, err := c.Chat.Stream(context.Background(), newReq())
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer s.Close()
	ok1, ok2 := s.Next(), s.Next()
	second := ""
	if ok2 {
		second = s.Current().Choices[0].Delta.Content
	}
	close(release)
	if !ok1 || !ok2 || second != "你好" {
		t.Fatalf("first deltas not delivered before the response ended: %v %v %q, err %v", ok1, ok2, second, s.Err())
	}
	content, _ := drain(t, s)
	if content != ", world" || s.Err() != nil {
		t.Fatalf("rest %q, err %v", content, s.Err())
	}
}

// endlessStream opens a stream with ctx on a server that sends one chunk,
// then holds the response open until the client goes away, which gone then
// reports. When the test ends, with the stream and the server closed, no
// goroutine started since may be left: the stream must let go of its
// connection.
func endlessStream(t *testing.T, ctx context.Context) (s *kimi.Stream, gone <-chan struct{}) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	done := make(chan struct{})
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, events(standard[0], standard[4]))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(done)
	})
	s, err := c.Chat.Stream(ctx, newReq())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, done
}

func TestStreamEarlyClose(t *testing.T) {
	s, gone := endlessStream(t, context.Background())
	if !s.Next() {
		t.Fatal(s.Err())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	<-gone // the server saw the connection go: it was dropped, not leaked
	if s.Next() || s.Err() != nil {
		t.Fatalf("after Close: Next true or Err %v", s.Err())
	}
}

func TestStreamAllEarlyBreak(t *testing.T) {
	s, gone := endlessStream(t, context.Background())
	n := 0
	for chunk, err := range s.All() {
		if err != nil {
			t.Fatal(err)
		}
		if chunk.ID != "chatcmpl-abc" {
			t.Fatalf("chunk %+v", chunk)
		}
		n++
		break
	}
	<-gone // breaking out of the loop closed the stream
	if n != 1 || s.Next() {
		t.Fatalf("n = %d", n)
	}
}

func TestStreamAllYieldsError(t *testing.T) {
	s, _ := openStream(t, rawSSE(events(standard[:3]...)))
	var chunks int
	var last error
	for c, err := range s.All() {
		if err != nil {
			last = err
			if c != nil {
				t.Error("chunk with an error")
			}
			continue
		}
		chunks++
	}
	if chunks != 3 || !errors.Is(last, kimi.ErrStreamIncomplete) {
		t.Fatalf("chunks %d, err %v", chunks, last)
	}
}

func TestStreamReusesConnection(t *testing.T) {
	// Flushing every event forces a chunked response whose terminator comes
	// after [DONE], so reuse depends on the stream reading to the end.
	c, srv := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, p := range standard {
			io.WriteString(w, events(p))
			w.(http.Flusher).Flush()
		}
	})
	for range 3 {
		s, err := c.Chat.Stream(context.Background(), newReq())
		if err != nil {
			t.Fatal(err)
		}
		drain(t, s)
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		s.Close()
	}
	if n := srv.Conns.Load(); n != 1 {
		t.Errorf("%d connections for 3 complete streams, want 1", n)
	}
}

func TestStreamContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, gone := endlessStream(t, ctx)
	s.Next()
	s.Next()
	cancel()
	if s.Next() {
		t.Fatal("Next after cancel returned true")
	}
	if !errors.Is(s.Err(), kimi.ErrStreamIncomplete) || !errors.Is(s.Err(), context.Canceled) {
		t.Fatalf("Err = %v", s.Err())
	}
	<-gone
}

func TestStreamValidates(t *testing.T) {
	c, srv := loopback(t, rawSSE(events(standard...)))
	_, err := c.Chat.Stream(context.Background(), &kimi.ChatRequest{Messages: []kimi.Message{kimi.UserMessage("hi")}})
	if err == nil {
		t.Fatal("a request without a model was sent")
	}
	if srv.Hits.Load() != 0 {
		t.Fatal("an invalid request reached the server")
	}
}

// These tests run the stream against the emulator, whose faults are chosen
// per request with the X-Kimitest-Fault header.

// streamEmu streams a few sentences, with the emulator fault given ("":
// none).
func streamEmu(c *kimi.Client, fault string) (*kimi.Stream, error) {
	r := &kimi.ChatRequest{
		Model:         "moonshot-v1-128k",
		Messages:      []kimi.Message{kimi.UserMessage("Write a few sentences about the sea.")},
		StreamOptions: &kimi.StreamOptions{IncludeUsage: true},
	}
	var opts []kimi.RequestOption
	if fault != "" {
		opts = append(opts, kimi.WithHeader(kimitest.FaultHeader, fault))
	}
	return c.Chat.Stream(context.Background(), r, opts...)
}

// drainEmu streams with fault, reads the stream to its end and returns it
// (closed with the test) with the number of chunks it delivered.
func drainEmu(t *testing.T, fault string) (*kimi.Stream, int) {
	t.Helper()
	c, _, _ := setup(t)
	s, err := streamEmu(c, fault)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, chunks := drain(t, s)
	return s, chunks
}

func TestEmulatorStreamComplete(t *testing.T) {
	c, _, _ := setup(t)
	s, err := streamEmu(c, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	content, chunks := drain(t, s)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if chunks < 3 || content == "" {
		t.Fatalf("%d chunks, content %q", chunks, content)
	}
	comp := s.Completion()
	if comp.Text() != content || s.Message().Content != content || s.Message().Role != kimi.RoleAssistant {
		t.Errorf("assembled text differs from the deltas")
	}
	if len(comp.Choices) != 1 || comp.Choices[0].FinishReason == "" {
		t.Errorf("choices %+v", comp.Choices)
	}
	if u := comp.Usage; u == nil || u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v", comp.Usage)
	}
	if s.RequestID() == "" {
		t.Error("no request id")
	}
}

func TestEmulatorStreamFaults(t *testing.T) {
	for _, tc := range []struct {
		fault  string
		chunks int // chunks before the failure; -1: at least one
		usage  bool
	}{
		{"cut=3", 3, false},
		// Everything but [DONE] arrived, usage included.
		{"omit-done", -1, true},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			s, n := drainEmu(t, tc.fault)
			if !errors.Is(s.Err(), kimi.ErrStreamIncomplete) {
				t.Fatalf("Err = %v, want ErrStreamIncomplete", s.Err())
			}
			if (tc.chunks >= 0 && n != tc.chunks) || (tc.chunks < 0 && n == 0) {
				t.Errorf("%d chunks before the failure, want %d", n, tc.chunks)
			}
			if tc.usage && s.Completion().Usage == nil {
				t.Errorf("usage %+v", s.Completion().Usage)
			}
		})
	}
	t.Run("error-event", func(t *testing.T) {
		s, n := drainEmu(t, "cut=2;error-event")
		var apiErr *kimi.Error
		if !errors.As(s.Err(), &apiErr) {
			t.Fatalf("Err = %v, want *kimi.Error", s.Err())
		}
		if apiErr.StatusCode != http.StatusOK || apiErr.Type == "" || apiErr.Message == "" {
			t.Errorf("error %+v", apiErr)
		}
		if n != 2 {
			t.Errorf("%d chunks before the error, want 2", n)
		}
	})
	t.Run("status before stream", func(t *testing.T) {
		c, _, _ := setup(t)
		_, err := streamEmu(c, "status=429")
		mustStatus(t, err, http.StatusTooManyRequests)
	})
}

func TestEmulatorStreamEarlyClose(t *testing.T) {
	c, srv, _ := setup(t)
	// The snapshot is taken after the server started: its accept loop is
	// not ours. Connections and generation must be gone by the end.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer srv.Client().CloseIdleConnections()
	for range 3 {
		s, err := streamEmu(c, "")
		if err != nil {
			t.Fatal(err)
		}
		if !s.Next() {
			t.Fatal(s.Err())
		}
		s.Close()
		if s.Next() || s.Err() != nil {
			t.Fatalf("after Close: Err %v", s.Err())
		}
	}
}
