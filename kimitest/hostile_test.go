package kimitest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile input: each test sends what a buggy or malicious client could,
// and requires a 4xx in Kimi's envelope (or, for the emulator's own bugs,
// a logged 500 in the envelope), never a hang, a panic or a Go message.

// webSearchTurn is a conversation whose $web_search result claims
// totalTokens.
func webSearchTurn(totalTokens string) string {
	args := `{"search_result":{"search_id":"s1"},"usage":{"total_tokens":` + totalTokens + `}}`
	q := strconv.Quote(args)
	return `{"model":"moonshot-v1-128k","tools":[{"type":"builtin_function","function":{"name":"$web_search"}}],"messages":[` +
		`{"role":"user","content":"news?"},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"builtin_function","function":{"name":"$web_search","arguments":` + q + `}}]},` +
		`{"role":"tool","tool_call_id":"c1","name":"$web_search","content":` + q + `}]}`
}

func TestHostileWebSearchTotalTokens(t *testing.T) {
	srv := setup(t)
	for _, n := range []string{strconv.Itoa(math.MaxInt64), strconv.Itoa(math.MaxInt64 / 2), "4611686018427387904"} {
		r := postChat(t, srv, webSearchTurn(n))
		wantAPIError(t, r, 400, "invalid_request_error", "Input token length too long")
		r = ktDo(t, srv, "POST", "/v1/tokenizers/estimate-token-count", webSearchTurn(n))
		if r.Status >= 500 {
			t.Fatalf("estimate with total_tokens %s: %d %s", n, r.Status, r.Body)
		}
	}
	// Two results whose sum wraps around to a small number.
	body := strings.Replace(webSearchTurn(strconv.Itoa(math.MaxInt64)), `{"role":"tool"`, `{"role":"tool","tool_call_id":"c1","name":"$web_search","content":"{\"usage\":{\"total_tokens\":9223372036854775807}}"},{"role":"tool"`, 1)
	r := postChat(t, srv, body)
	if r.Status != 400 {
		t.Fatalf("two huge results: %d %s", r.Status, r.Body)
	}
}

func TestHostileMaxTokensOverflow(t *testing.T) {
	srv := setup(t, WithLimits(Limits{TPM: 100000, TPD: 1000000}))
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		for _, v := range []int64{math.MaxInt64, math.MaxInt64 - 2, 1 << 62, 1 << 40} {
			body := `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}],"` + name + `":` + strconv.FormatInt(v, 10) + `}`
			r := postChat(t, srv, body)
			typ, msg := apiErr(t, r)
			if r.Status != 400 || typ != "invalid_request_error" || !strings.Contains(msg, name) || !strings.Contains(msg, "8192") {
				t.Fatalf("%s=%d: %d %s %q, want a 400 naming %s and the limit 8192", name, v, r.Status, typ, msg, name)
			}
		}
	}
	// The largest budget that fits is admitted against TPM as it is.
	tight := setup(t, WithLimits(Limits{TPM: 5000}))
	r := postChat(t, tight, `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}],"max_tokens":8000}`)
	if typ, msg := apiErr(t, r); r.Status != 429 || !strings.Contains(msg, "TPM rate limit") {
		t.Fatalf("max_tokens 8000 under TPM 5000: %d %s %q", r.Status, typ, msg)
	}
	// A number past int64 is a type error naming the field, not Go's.
	r = postChat(t, srv, `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}],"max_tokens":99999999999999999999}`)
	typ, msg := apiErr(t, r)
	if r.Status != 400 || typ != "invalid_request_error" || !strings.Contains(msg, "max_tokens") || strings.Contains(msg, "Go ") || strings.Contains(msg, "int64") {
		t.Fatalf("max_tokens 1e20: %d %s %q", r.Status, typ, msg)
	}
}

func TestRecoverPanic(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := guard(logger, time.Second, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader("{}")))
	if rec.Code != 500 {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	typ, msg := errEnvelope(t, rec.Body.Bytes())
	if typ != "server_error" || msg == "" {
		t.Fatalf("envelope %s %q", typ, msg)
	}
	if l := logs.String(); !strings.Contains(l, "boom") || !strings.Contains(l, "handler panic") {
		t.Fatalf("panic not logged: %s", l)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestHostileTruncatedUpload(t *testing.T) {
	srv := setup(t)
	body, ct := multipartBody(t, "a.txt", formField{"purpose", "file-extract"}, formField{"file", strings.Repeat("x", 300<<10)})
	// Cut inside the file part (past the in-memory spool, so the rest is
	// written to disk), inside the purpose field and inside a boundary.
	for _, cut := range []int{len(body) - 50, len(body) / 2, 40, 120} {
		r := uploadRaw(t, srv, body[:cut], ct)
		typ, msg := apiErr(t, r)
		if r.Status != 400 || typ != "invalid_request_error" || strings.Contains(msg, "multipart:") || strings.Contains(msg, "EOF") {
			t.Fatalf("cut at %d: %d %s %q, want a 400 of the emulator's own", cut, r.Status, typ, msg)
		}
	}
	if n := len(listFiles(t, srv)); n != 0 {
		t.Fatalf("%d files stored from truncated uploads", n)
	}
}

func TestHostileLongFilename(t *testing.T) {
	srv := setup(t)
	r := upload(t, srv, strings.Repeat("a", 256)+".txt", "file-extract", []byte("hi"))
	wantAPIError(t, r, 400, "invalid_request_error", "Invalid request: filename is too long: at most 255 bytes are allowed, got 260")
	// 255 bytes is fine.
	mustUpload(t, srv, strings.Repeat("a", 251)+".txt", "file-extract", []byte("hi"))
}

func TestJSONErrorsNameFields(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct{ body, want string }{
		{`{"model":5,"messages":[]}`, "Invalid request: model: expected a string, got number"},
		{`{"model":"moonshot-v1-8k","messages":"hi"}`, "Invalid request: messages: expected an array, got string"},
		{`{"model":"moonshot-v1-8k","messages":[],"temperature":"hot"}`, "Invalid request: temperature: expected a number, got string"},
		{`{"model":"moonshot-v1-8k","messages":[],"n":1.5}`, "Invalid request: n: expected an integer, got number 1.5"},
		{`{"model":"moonshot-v1-8k","messages":[],"stream":1}`, "Invalid request: stream: expected a boolean, got number"},
		{`{"model":"moonshot-v1-8k","messages":[],"max_tokens":1e30}`, "Invalid request: max_tokens: expected an integer, got number 1e30"},
		{`{"model":"moonshot-v1-8k","messages":[],"max_tokens":99999999999999999999}`, "Invalid request: max_tokens: number 99999999999999999999 is out of range for an integer"},
		{`[1]`, "Invalid request: request body: expected an object, got array"},
		{`{"model":`, "Invalid request: malformed JSON at byte 9: unexpected end of JSON input"},
	} {
		r := postChat(t, srv, c.body)
		typ, msg := apiErr(t, r)
		if r.Status != 400 || typ != "invalid_request_error" || msg != c.want {
			t.Errorf("%s: %d %s %q, want 400 %q", c.body, r.Status, typ, msg, c.want)
		}
		if strings.Contains(msg, "Go ") || strings.Contains(msg, "kimitest.") || strings.Contains(msg, "int64") {
			t.Errorf("%s: Go-typed message %q", c.body, msg)
		}
	}
}

func TestHostileStalledBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	srv := setup(t, func(c *config) { c.bodyTimeout = timeout })
	host := strings.TrimPrefix(strings.TrimSuffix(srv.URL, "/v1"), "http://")
	for _, path := range []string{"/v1/chat/completions", "/v1/files", "/v1/caching"} {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ct := "application/json"
		if path == "/v1/files" {
			ct = "multipart/form-data; boundary=XX"
		}
		// Headers, a little of the body, then nothing.
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n--XX\r\n", path, srv.Key, ct)
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: no answer to a stalled body: %v", path, err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if took := time.Since(start); took > timeout+5*time.Second {
			t.Fatalf("%s: answered after %v", path, took)
		}
		typ, msg := errEnvelope(t, b)
		if res.StatusCode != 400 || typ != "invalid_request_error" || !strings.Contains(msg, "stalled") {
			t.Fatalf("%s: %d %s %q", path, res.StatusCode, typ, msg)
		}
	}
}

// A long stream outlives the body deadline: it is lifted once the body
// has been read.
func TestStreamOutlivesBodyDeadline(t *testing.T) {
	srv := setup(t, func(c *config) { c.bodyTimeout = 100 * time.Millisecond }, WithStreamDelay(20*time.Millisecond))
	chunks, _ := streamChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me a long story about the sea")), "stream": true, "max_tokens": 40})
	if len(chunks) < 10 {
		t.Fatalf("stream cut short: %d chunks", len(chunks))
	}
}

// Headers over maxHeaderBytes are refused by the http.Server itself
// instead of being read whole; the connection rewords its 431
// (refusal.go).
func TestHostileHugeHeaders(t *testing.T) {
	srv := setup(t)
	req := newRequest(t, srv, "GET", "/v1/models", nil)
	req.Header.Set("X-Big", strings.Repeat("a", maxHeaderBytes+8<<10)) // the server allows 4 KiB of slack
	r := readResp(t, req, send(t, srv, req))
	wantAPIError(t, r, http.StatusRequestHeaderFieldsTooLarge, "invalid_request_error", "Invalid request: request headers exceed 64 KiB")
	if c := srv.hts.Config; c.ReadHeaderTimeout != headerReadTimeout || c.IdleTimeout != idleTimeout {
		t.Fatalf("server timeouts %v %v", c.ReadHeaderTimeout, c.IdleTimeout)
	}
}

func TestFaultHeaderBadDelay(t *testing.T) {
	srv := setup(t)
	r := ktDo(t, srv, "GET", "/v1/models", nil, FaultHeader, "delay=soon")
	wantAPIError(t, r, 400, "invalid_request_error", `Invalid request: bad X-Kimitest-Fault header: delay wants a duration such as 200ms or 1.5s, got "soon"`)
}

func TestStartServerLimits(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.hs.ReadHeaderTimeout != headerReadTimeout || s.hs.IdleTimeout != idleTimeout || s.hs.MaxHeaderBytes != maxHeaderBytes {
		t.Fatalf("Start's server: %v %v %d", s.hs.ReadHeaderTimeout, s.hs.IdleTimeout, s.hs.MaxHeaderBytes)
	}
}
