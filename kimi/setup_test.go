package kimi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// setup starts an emulator configured by opts for the duration of the
// test and returns a client for it, the server, and the record of the
// client's requests. The client has the server's key, URL and HTTP client
// (through the recorder) and a fast retry policy: tests assert attempts,
// never durations.
func setup(t *testing.T, opts ...kimitest.Option) (*kimi.Client, *kimitest.Server, *recorder) {
	t.Helper()
	srv := kimitest.NewServer(t, opts...)
	c, rec := newClient(srv)
	return c, srv, rec
}

// newClient returns another client for srv, set up as setup's and then
// changed by mods (nil ones are skipped): a test of another key, retry
// policy or base URL (a server in front of the emulator) changes that
// field.
func newClient(srv *kimitest.Server, mods ...func(*kimi.Config)) (*kimi.Client, *recorder) {
	rec := &recorder{next: srv.Client().Transport}
	cfg := kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: &http.Client{Transport: rec}, Retry: kimi.FastRetry()}
	for _, mod := range mods {
		if mod != nil {
			mod(&cfg)
		}
	}
	return kimi.NewClient(cfg), rec
}

// noRetry is a newClient mod turning retries off.
func noRetry(cfg *kimi.Config) { cfg.Retry = &kimi.RetryPolicy{} }

// loopback starts a hand-written test server running steps (see
// kimi.Loopback) and returns a client for it, with a test key and the
// fast retry policy. It is for the wire details the emulator cannot
// produce: exact bytes, odd shapes, broken connections. The client's
// connections close with the server.
func loopback(t *testing.T, steps ...http.HandlerFunc) (*kimi.Client, *kimi.Loopback) {
	t.Helper()
	s := kimi.NewLoopback(t, steps...)
	return kimi.NewTestClient(t, s.URL+"/v1", func(c *kimi.Config) { c.HTTPClient = s.Client() }), s
}

// fastTime runs emulated time 100× faster: a cache is ready 2 emulated
// seconds (20 ms) after creation and short TTLs run out quickly. Nothing
// asserts on durations.
var fastTime = kimitest.WithTimeScale(100)

// testCtx bounds a test's calls and polls to 30 s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder is the RoundTripper of the test clients: it records every
// request that leaves the client (retries included), then hands it to
// next. JSON bodies are kept; other bodies (uploads) pass unread, so that
// they still stream.
type recorder struct {
	mu   sync.Mutex
	next http.RoundTripper
	reqs []recorded
}

type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/json") {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.Method, req.URL.EscapedPath(), req.URL.RawQuery, req.Header.Clone(), body})
	next := r.next
	r.mu.Unlock()
	return next.RoundTrip(req)
}

// through puts wrap(next) in the place of next: for a test that alters the
// requests after some have gone.
func (r *recorder) through(wrap func(next http.RoundTripper) http.RoundTripper) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = wrap(r.next)
}

func (r *recorder) all() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// n is the number of requests sent.
func (r *recorder) n() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// count returns how many requests matched method and a path suffix.
func (r *recorder) count(method, pathSuffix string) int {
	n := 0
	for _, q := range r.all() {
		if q.Method == method && strings.HasSuffix(q.Path, pathSuffix) {
			n++
		}
	}
	return n
}

// last is the latest request; the zero value before any.
func (r *recorder) last() recorded {
	all := r.all()
	if len(all) == 0 {
		return recorded{}
	}
	return all[len(all)-1]
}

// chatBody is the part of a chat request body the tests look at.
type chatBody struct {
	Model     string         `json:"model"`
	MaxTokens int            `json:"max_completion_tokens"` // the field the client sends
	Messages  []kimi.Message `json:"messages"`
	Tools     []kimi.Tool    `json:"tools"`
	CacheKey  string         `json:"prompt_cache_key"`
}

// lastChat decodes the latest chat request.
func (r *recorder) lastChat(t *testing.T) chatBody {
	t.Helper()
	all := r.all()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Method == http.MethodPost && all[i].Path == "/v1/chat/completions" {
			var body chatBody
			if err := json.Unmarshal(all[i].Body, &body); err != nil {
				t.Fatal(err)
			}
			return body
		}
	}
	t.Fatal("no chat request sent")
	return chatBody{}
}

// userRequest is a one-message chat request.
func userRequest(model, text string) *kimi.ChatRequest {
	return &kimi.ChatRequest{Model: model, Messages: []kimi.Message{kimi.UserMessage(text)}}
}

// mustStatus stops the test unless err is a *kimi.Error with status, and
// returns it.
func mustStatus(t *testing.T, err error, status int) *kimi.Error {
	t.Helper()
	var apiErr *kimi.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
		t.Fatalf("err = %v, want a %d *kimi.Error", err, status)
	}
	return apiErr
}

// wantInvalid reports an error unless err is a *kimi.ValidationError on
// field ("" for any field), and returns it (nil if it is not one).
func wantInvalid(t *testing.T, what string, err error, field string) *kimi.ValidationError {
	t.Helper()
	var ve *kimi.ValidationError
	if !errors.As(err, &ve) || (field != "" && ve.Field != field) {
		t.Errorf("%s: err = %v, want a *ValidationError for %q", what, err, field)
		return nil
	}
	return ve
}

// wantNoRequests reports an error if the client behind rec sent anything:
// what is invalid must be refused before sending.
func wantNoRequests(t *testing.T, rec *recorder) {
	t.Helper()
	if n := rec.n(); n != 0 {
		t.Errorf("%d invalid requests reached the server", n)
	}
}

// writeTemp writes content to a file named name in a temporary directory
// and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
