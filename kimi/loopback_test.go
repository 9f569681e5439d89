package kimi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// This file holds the loopback helper: a hand-written test server for the
// wire details the emulator cannot produce (exact bytes, odd shapes, broken
// connections), and the client the tests point at it. Tests of the
// external package reach it through export_test.go.

const testKey = "sk-test-0123456789abcdefSECRET"

// fastRetry is the retry policy of the test clients: tests assert
// attempts (and, here, the waits asked for), never durations.
var fastRetry = RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, RateLimitDelay: time.Millisecond}

// waits records the waits a client asked for instead of sleeping them.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// testClient returns a client for baseURL with testKey and fastRetry,
// changed by mods. Its HTTP client is the one NewClient builds unless a
// mod sets one, so that the default transport and its proxy handling are
// what is tested.
func testClient(t testing.TB, baseURL string, mods ...func(*Config)) *Client {
	t.Helper()
	p := fastRetry
	// A hand-written server plays one script; the client must not ask it
	// for the model list first (TestModelDiscovery covers that).
	cfg := Config{APIKey: testKey, BaseURL: baseURL, Retry: &p, NoModelDiscovery: true}
	for _, f := range mods {
		f(&cfg)
	}
	c := NewClient(cfg)
	t.Cleanup(func() { c.hc.Load().CloseIdleConnections() })
	return c
}

// newTestClient is testClient whose waits (between attempts, between
// polls) are recorded, not slept.
func newTestClient(t testing.TB, baseURL string, mods ...func(*Config)) (*Client, *waits) {
	t.Helper()
	c := testClient(t, baseURL, mods...)
	w := &waits{}
	c.sleep = w.sleep
	return c, w
}

// Loopback is the hand-written test server. Its handler is a list of
// steps, one per request (the last one repeats); it counts requests and
// connections and keeps every request with its body.
type Loopback struct {
	*httptest.Server
	Hits  atomic.Int32 // requests served
	Conns atomic.Int32 // connections opened

	mu     sync.Mutex
	reqs   []*http.Request
	bodies [][]byte
}

// NewLoopback starts a Loopback running steps for the duration of the
// test. A step sees the request with its body already read (and recorded)
// and readable again; a read error is handed on after the bytes that came.
func NewLoopback(t testing.TB, steps ...http.HandlerFunc) *Loopback {
	t.Helper()
	s := &Loopback{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.Hits.Add(1))
		b, err := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
		var rest io.Reader = bytes.NewReader(b)
		if err != nil {
			rest = io.MultiReader(rest, iotest.ErrReader(err))
		}
		r.Body = io.NopCloser(rest)
		steps[min(n, len(steps))-1](w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.Conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Request returns the i-th request served (from 0) and its body.
func (s *Loopback) Request(i int) (*http.Request, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[i], s.bodies[i]
}

// Requests returns the requests served so far.
func (s *Loopback) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Last returns the latest request served and its body; nil before any.
func (s *Loopback) Last() (*http.Request, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return nil, nil
	}
	return s.reqs[len(s.reqs)-1], s.bodies[len(s.bodies)-1]
}

// reply is a step answering status and body, with the header pairs kv
// (JSON unless kv sets a Content-Type).
func reply(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const modelsBody = `{"object":"list","data":[{"id":"moonshot-v1-8k","object":"model","created":1709149158,"owned_by":"moonshot","root":"","parent":"","permission":[{"organization":"public","allow_sampling":false}]},{"id":"kimi-k2.5","object":"model","context_length":262144,"supports_image_in":true,"supports_video_in":true,"supports_reasoning":true,"future_flag":7}]}`

var ok200 = reply(200, modelsBody, "Msh-Request-Id", "req-ok")

// kimiErr is Kimi's error envelope.
func kimiErr(typ, msg string) string {
	return fmt.Sprintf(`{"error":{"type":%q,"message":%q}}`, typ, msg)
}

// closeConn drops the connection without answering; reset sends a TCP RST.
func closeConn(reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// roundTripFunc makes a function an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
