package kimitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
)

// Test helpers. Every test that talks to the emulator over HTTP starts it
// with setup and speaks raw JSON to it through ktDo and the decoders
// below, independent of the kimi package; streams are read by a strict SSE
// reader.

// setup starts an emulator for the test, closed by t.Cleanup. Requests go
// through srv.Client(), so that the test's connections close with it.
func setup(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return NewServer(tb, opts...)
}

// withKey returns a handle on the same server that sends key, on the same
// client.
func (s *Server) withKey(key string) *Server {
	h := &Server{URL: s.URL, Key: key, Emulator: s.Emulator}
	h.clientOnce.Do(func() { h.client = s.Client() })
	return h
}

type ktResp struct {
	Req    string // "METHOD /path", for failure messages
	Status int
	Header http.Header
	Body   []byte
}

// newRequest builds a request for path (which starts with /v1, or /kimi
// for the Ace route) authorised with the server key.
func newRequest(tb testing.TB, srv *Server, method, path string, body io.Reader) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(srv.URL, "/v1")+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Key)
	return req
}

// send makes the request on the server's client; the caller closes the
// body.
func send(tb testing.TB, srv *Server, req *http.Request) *http.Response {
	tb.Helper()
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// readResp reads and closes the response to req.
func readResp(tb testing.TB, req *http.Request, res *http.Response) ktResp {
	tb.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return ktResp{Req: req.Method + " " + req.URL.Path, Status: res.StatusCode, Header: res.Header, Body: b}
}

// ktDo sends a request with the server key and returns the whole
// response. body is sent as is when it is a string or []byte, as JSON
// otherwise. headers are name, value pairs set after the defaults; an
// empty value removes the header.
func ktDo(tb testing.TB, srv *Server, method, path string, body any, headers ...string) ktResp {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := newRequest(tb, srv, method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return readResp(tb, req, send(tb, srv, req))
}

// postChat posts body to the chat completions endpoint.
func postChat(tb testing.TB, srv *Server, body any, headers ...string) ktResp {
	tb.Helper()
	return ktDo(tb, srv, "POST", "/v1/chat/completions", body, headers...)
}

// wantStatus fails the test unless r has the status; it returns r.
func wantStatus(tb testing.TB, r ktResp, status int) ktResp {
	tb.Helper()
	if r.Status != status {
		tb.Fatalf("%s: status %d, want %d: %s", r.Req, r.Status, status, r.Body)
	}
	return r
}

// decodeOK requires a 200 answer and decodes its JSON body.
func decodeOK[T any](tb testing.TB, r ktResp) T {
	tb.Helper()
	wantStatus(tb, r, 200)
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("%s: decode: %v: %s", r.Req, err, r.Body)
	}
	return v
}

// listOf GETs a list endpoint and returns its data, requiring the list
// envelope, a data array even when empty, and no has_more (the API has
// none: a client pages until a short page).
func listOf[T any](tb testing.TB, srv *Server, path string) []T {
	tb.Helper()
	r := ktDo(tb, srv, "GET", path, nil)
	l := decodeOK[struct {
		Object string `json:"object"`
		Data   []T    `json:"data"`
	}](tb, r)
	if l.Object != "list" || l.Data == nil || strings.Contains(string(r.Body), "has_more") {
		tb.Fatalf("%s: not a list: %s", r.Req, r.Body)
	}
	return l.Data
}

// listKeys lists the key of every item that the list endpoint at path
// answers, in order.
func listKeys[T any](tb testing.TB, srv *Server, path string, key func(T) string) []string {
	tb.Helper()
	var keys []string
	for _, it := range listOf[T](tb, srv, path) {
		keys = append(keys, key(it))
	}
	return keys
}

// errEnvelope decodes Kimi's error envelope.
func errEnvelope(tb testing.TB, body []byte) (typ, msg string) {
	tb.Helper()
	var e struct {
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil {
		tb.Fatalf("not an error envelope (%v): %s", err, body)
	}
	return e.Error.Type, e.Error.Message
}

// apiErr decodes the error envelope of r.
func apiErr(tb testing.TB, r ktResp) (typ, msg string) {
	tb.Helper()
	return errEnvelope(tb, r.Body)
}

// wantAPIError requires exactly the status, error type and message.
func wantAPIError(tb testing.TB, r ktResp, status int, typ, msg string) {
	tb.Helper()
	gotT, gotM := apiErr(tb, r)
	if r.Status != status || gotT != typ || gotM != msg {
		tb.Fatalf("%s: got %d %s %q, want %d %s %q", r.Req, r.Status, gotT, gotM, status, typ, msg)
	}
}

// approx compares amounts of money, which are sums of float products.
func approx(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// chatResponse mirrors the non-stream response, decoded strictly enough to
// notice missing fields (pointers) without importing the client.
type chatResponse struct {
	envelopeJSON
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Role             string     `json:"role"`
			Content          *string    `json:"content"`
			ReasoningContent *string    `json:"reasoning_content"`
			ToolCalls        []toolCall `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage wireUsage `json:"usage"`
}

type wireUsage struct {
	PromptTokens        int  `json:"prompt_tokens"`
	CompletionTokens    int  `json:"completion_tokens"`
	TotalTokens         int  `json:"total_tokens"`
	CachedTokens        *int `json:"cached_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
}

// chat posts body and requires a 200 JSON completion.
func chat(t testing.TB, srv *Server, body map[string]any) chatResponse {
	t.Helper()
	return decodeChat(t, postChat(t, srv, body))
}

// decodeChat requires r to be a 200 JSON completion with choices.
func decodeChat(t testing.TB, r ktResp) chatResponse {
	t.Helper()
	out := decodeOK[chatResponse](t, r)
	if len(out.Choices) == 0 {
		t.Fatalf("no choices: %s", r.Body)
	}
	return out
}

func content(t *testing.T, r chatResponse, i int) string {
	t.Helper()
	c := r.Choices[i].Message.Content
	if c == nil {
		t.Fatalf("choice %d: content is null", i)
	}
	return *c
}

func user(text string) map[string]any { return map[string]any{"role": "user", "content": text} }

func msgs(m ...map[string]any) []map[string]any { return m }

// readSSE parses a whole event stream strictly: every event must be one
// "data: <payload>" line followed by a blank line. It returns the payloads.
func readSSE(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	expectBlank := false
	for sc.Scan() {
		line := sc.Text()
		if expectBlank {
			if line != "" {
				t.Fatalf("event not terminated by a blank line: %q", line)
			}
			expectBlank = false
			continue
		}
		payload, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected SSE line %q", line)
		}
		out = append(out, payload)
		expectBlank = true
	}
	if !bytes.HasSuffix(body, []byte("\n\n")) {
		t.Fatalf("stream does not end with a blank line: %q", body[max(0, len(body)-40):])
	}
	return out
}

type wireChunk struct {
	envelopeJSON
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Role             *string    `json:"role"`
			Content          *string    `json:"content"`
			ReasoningContent *string    `json:"reasoning_content"`
			ToolCalls        []toolCall `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string    `json:"finish_reason"`
		Usage        *wireUsage `json:"usage"`
	} `json:"choices"`
	Usage *wireUsage `json:"usage"`
}

// streamChat posts a stream request, checks the SSE framing and returns
// the decoded chunks (without the final [DONE], which it requires).
func streamChat(t *testing.T, srv *Server, body map[string]any) ([]wireChunk, ktResp) {
	t.Helper()
	body["stream"] = true
	r := wantStatus(t, postChat(t, srv, body), 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("Content-Type %q", ct)
	}
	events := readSSE(t, r.Body)
	if len(events) == 0 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %v", events)
	}
	var chunks []wireChunk
	for _, ev := range events[:len(events)-1] {
		if ev == "[DONE]" {
			t.Fatal("[DONE] before the end")
		}
		var c wireChunk
		if err := json.Unmarshal([]byte(ev), &c); err != nil {
			t.Fatalf("chunk %q: %v", ev, err)
		}
		chunks = append(chunks, c)
	}
	return chunks, r
}

// assembled is one choice rebuilt from stream deltas.
type assembled struct {
	content, reasoning string
	calls              map[int]*toolCall
	finish             string
	usage              *wireUsage
	sawReasoningAfter  bool // a reasoning delta after a content delta
}

func assemble(t *testing.T, chunks []wireChunk) map[int]*assembled {
	t.Helper()
	out := map[int]*assembled{}
	for _, c := range chunks {
		for _, ch := range c.Choices {
			a := out[ch.Index]
			if a == nil {
				// The first chunk of a choice is {role: assistant, content: ""}.
				if ch.Delta.Role == nil || *ch.Delta.Role != "assistant" || ch.Delta.Content == nil || *ch.Delta.Content != "" {
					t.Fatalf("first chunk of choice %d is not the role chunk: %+v", ch.Index, ch.Delta)
				}
				a = &assembled{calls: map[int]*toolCall{}}
				out[ch.Index] = a
				continue
			}
			if a.finish != "" {
				t.Fatalf("chunk for choice %d after its final chunk", ch.Index)
			}
			if d := ch.Delta.ReasoningContent; d != nil {
				if a.content != "" {
					a.sawReasoningAfter = true
				}
				a.reasoning += *d
			}
			if d := ch.Delta.Content; d != nil {
				a.content += *d
			}
			for _, tc := range ch.Delta.ToolCalls {
				if tc.Index == nil {
					t.Fatal("tool call delta without index")
				}
				cur := a.calls[*tc.Index]
				if cur == nil {
					if tc.ID == "" || tc.Type != "function" || tc.Function.Name == "" || tc.Function.Arguments != "" {
						t.Fatalf("first tool call delta incomplete: %+v", tc)
					}
					cp := tc
					a.calls[*tc.Index] = &cp
					continue
				}
				if tc.ID != "" || tc.Function.Name != "" {
					t.Fatalf("later tool call delta repeats id/name: %+v", tc)
				}
				cur.Function.Arguments += tc.Function.Arguments
			}
			if ch.FinishReason != nil {
				a.finish = *ch.FinishReason
				a.usage = ch.Usage
				if ch.Usage == nil {
					t.Fatalf("final chunk of choice %d has no usage", ch.Index)
				}
			} else if ch.Usage != nil {
				t.Fatalf("usage on a non-final chunk")
			}
		}
	}
	return out
}
