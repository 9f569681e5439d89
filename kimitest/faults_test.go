package kimitest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testJSONBody = `{"id":"chatcmpl-1","object":"chat.completion","choices":[]}`

// testEvents is what the SSE test handler sends, in order.
var testEvents = []string{
	`data: {"id":"chatcmpl-1","n":1}` + "\n\n",
	`data: {"id":"chatcmpl-1","n":2}` + "\n\n",
	`data: {"id":"chatcmpl-1","n":3}` + "\n\n",
	"data: [DONE]\n\n",
}

// faultBackend stands in for the emulator core: ?stream gives SSE (each
// event flushed; ?gate waits for the test after the first event), anything
// else a small JSON body.
type faultBackend struct {
	calls atomic.Int32
	gate  chan struct{}
	errs  chan error // write/flush errors the handler saw
}

func (b *faultBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.calls.Add(1)
	if !r.URL.Query().Has("stream") {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(testJSONBody)))
		io.WriteString(w, testJSONBody)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	rc := http.NewResponseController(w)
	// Reaching the connection's deadlines needs Unwrap on any wrapper.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil {
		b.errs <- fmt.Errorf("SetWriteDeadline: %w", err)
	}
	for i, ev := range testEvents {
		if _, err := io.WriteString(w, ev); err != nil {
			b.errs <- err
			return
		}
		if err := rc.Flush(); err != nil {
			b.errs <- err
			return
		}
		if i == 0 && r.URL.Query().Has("gate") {
			<-b.gate
		}
	}
}

func newFaultBackend() *faultBackend {
	return &faultBackend{gate: make(chan struct{}), errs: make(chan error, 16)}
}

func newFaultServer(t *testing.T, list ...Fault) (*httptest.Server, *faults, *faultBackend) {
	t.Helper()
	b := newFaultBackend()
	f := newFaults(list)
	srv := httptest.NewServer(f.wrap(b))
	t.Cleanup(srv.Close)
	return srv, f, b
}

type faultResult struct {
	status int
	header http.Header
	body   string
	err    error // transport or body read error
}

// fetch makes one request; it is safe to use from any goroutine.
func fetch(ctx context.Context, c *http.Client, method, url, faultHeader string) faultResult {
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader(`{"model":"kimi-k2.5","messages":[]}`)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return faultResult{err: err}
	}
	if faultHeader != "" {
		req.Header.Set(FaultHeader, faultHeader)
	}
	resp, err := c.Do(req)
	if err != nil {
		return faultResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return faultResult{resp.StatusCode, resp.Header, string(b), err}
}

func get(t *testing.T, srv *httptest.Server, path, faultHeader string) faultResult {
	t.Helper()
	return fetch(context.Background(), srv.Client(), "GET", srv.URL+path, faultHeader)
}

func TestFaultStatusDefaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		typ, msg string
	}{
		{429, "rate_limit_reached_error", "please try again after 1 seconds"},
		{503, "server_unavailable", "The service is temporarily unavailable, please try again later"},
		{500, "server_error", ""},
		{401, "invalid_authentication_error", "Invalid Authentication"},
	}
	for _, c := range cases {
		srv, _, b := newFaultServer(t, Fault{Status: c.status})
		r := get(t, srv, "/v1/chat/completions", "")
		if r.err != nil || r.status != c.status {
			t.Fatalf("%d: got %d, %v", c.status, r.status, r.err)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%d: Content-Type %q", c.status, ct)
		}
		if typ, msg := errEnvelope(t, []byte(r.body)); typ != c.typ || !strings.Contains(msg, c.msg) {
			t.Errorf("%d: got %s %q, want %s containing %q", c.status, typ, msg, c.typ, c.msg)
		}
		if n := b.calls.Load(); n != 0 {
			t.Errorf("%d: core called %d times; a status fault answers by itself", c.status, n)
		}
	}

	srv, _, _ := newFaultServer(t, Fault{Status: 504})
	r := get(t, srv, "/", "")
	if r.status != 504 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.body, "<h1>504 Gateway Time-out</h1>") {
		t.Errorf("504: got %d %q %q, want nginx HTML page", r.status, r.header.Get("Content-Type"), r.body)
	}

	srv, _, _ = newFaultServer(t, Fault{Status: 429, Body: `{"error":{"type":"x","message":"y"}}`,
		Header: http.Header{"Retry-After": {"7"}}})
	r = get(t, srv, "/", "")
	if r.status != 429 || r.body != `{"error":{"type":"x","message":"y"}}` || r.header.Get("Retry-After") != "7" {
		t.Errorf("custom: got %d %q Retry-After=%q", r.status, r.body, r.header.Get("Retry-After"))
	}
}

func TestFaultRoutesAndTimes(t *testing.T) {
	t.Parallel()
	srv, f, b := newFaultServer(t,
		Fault{Route: "POST /v1/chat/completions", Times: 2, Status: 503},
		Fault{Route: "/v1/models", Status: 404},
	)
	c := srv.Client()
	post := func() int { return fetch(context.Background(), c, "POST", srv.URL+"/v1/chat/completions", "").status }
	if s := get(t, srv, "/v1/chat/completions", "").status; s != 200 {
		t.Errorf("GET on a POST route fault: %d, want 200", s)
	}
	if got := []int{post(), post(), post()}; !reflect.DeepEqual(got, []int{503, 503, 200}) {
		t.Errorf("Times=2: statuses %v, want [503 503 200]", got)
	}
	for path, want := range map[string]int{"/v1/models": 404, "/v1/models/kimi-k2.5": 404, "/v1/modelsx": 200, "/v1/files": 200} {
		if s := get(t, srv, path, "").status; s != want {
			t.Errorf("GET %s: %d, want %d", path, s, want)
		}
	}
	if got := f.remaining(); !reflect.DeepEqual(got, []int{0, -1}) {
		t.Errorf("remaining = %v, want [0 -1]", got)
	}
	if n := b.calls.Load(); n != 4 {
		t.Errorf("core called %d times, want 4", n)
	}
}

func TestFaultTimesConcurrent(t *testing.T) {
	t.Parallel()
	srv, f, _ := newFaultServer(t, Fault{Times: 5, Status: 500}, Fault{Times: 3, Status: 502})
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := fetch(context.Background(), srv.Client(), "GET", srv.URL+"/", "")
			if r.err != nil {
				t.Error(r.err)
			}
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if want := map[int]int{500: 5, 502: 3, 200: 32}; !reflect.DeepEqual(counts, want) {
		t.Errorf("statuses %v, want %v", counts, want)
	}
	if got := f.remaining(); !reflect.DeepEqual(got, []int{0, 0}) {
		t.Errorf("remaining = %v", got)
	}
}

func TestFaultResetBeforeHeaders(t *testing.T) {
	t.Parallel()
	srv, _, b := newFaultServer(t, Fault{Route: "/v1/chat/completions", Times: 1, ResetBeforeHeaders: true})
	r := fetch(context.Background(), srv.Client(), "POST", srv.URL+"/v1/chat/completions", "")
	if r.err == nil {
		t.Fatalf("got %d %q, want a connection error", r.status, r.body)
	}
	if n := b.calls.Load(); n != 0 {
		t.Errorf("core called %d times", n)
	}
	if r := fetch(context.Background(), srv.Client(), "POST", srv.URL+"/v1/chat/completions", ""); r.err != nil || r.status != 200 {
		t.Errorf("after Times ran out: %d %v", r.status, r.err)
	}
}

func TestFaultCutAfterChunks(t *testing.T) {
	t.Parallel()
	srv, _, b := newFaultServer(t, Fault{CutAfterChunks: 2})
	r := get(t, srv, "/v1/chat/completions?stream", "")
	if r.status != 200 || r.err == nil {
		t.Fatalf("got %d, err %v; want 200 then a broken body", r.status, r.err)
	}
	if want := testEvents[0] + testEvents[1]; r.body != want {
		t.Errorf("body %q, want exactly the first two events %q", r.body, want)
	}
	select {
	case err := <-b.errs:
		if err == nil {
			t.Error("nil error")
		}
	case <-time.After(10 * time.Second):
		t.Error("core never saw a write error after the cut")
	}
	// JSON responses are left alone by SSE knobs.
	if r := get(t, srv, "/v1/models", ""); r.err != nil || r.body != testJSONBody {
		t.Errorf("JSON under cut fault: %q %v", r.body, r.err)
	}
}

func TestFaultOmitDone(t *testing.T) {
	t.Parallel()
	srv, _, _ := newFaultServer(t, Fault{OmitDone: true})
	r := get(t, srv, "/v1/chat/completions?stream", "")
	if r.err != nil {
		t.Fatalf("want a clean EOF, got %v", r.err)
	}
	if want := strings.Join(testEvents[:3], ""); r.body != want {
		t.Errorf("body %q, want %q", r.body, want)
	}
}

func TestFaultMalformedJSON(t *testing.T) {
	t.Parallel()
	srv, _, _ := newFaultServer(t, Fault{MalformedJSON: true})
	r := get(t, srv, "/v1/chat/completions", "")
	if r.err != nil || r.status != 200 {
		t.Fatalf("got %d %v", r.status, r.err)
	}
	if json.Valid([]byte(r.body)) || !strings.HasPrefix(testJSONBody, r.body) || r.body == "" {
		t.Errorf("body %q: want a non-empty, invalid prefix of the JSON", r.body)
	}

	r = get(t, srv, "/v1/chat/completions?stream", "")
	if r.err != nil {
		t.Fatal(r.err)
	}
	events := strings.Split(strings.TrimSuffix(r.body, "\n\n"), "\n\n")
	if len(events) != 4 || events[3] != "data: [DONE]" {
		t.Fatalf("events %q", events)
	}
	for i, ev := range events[:3] {
		payload := strings.TrimPrefix(ev, "data: ")
		if valid := json.Valid([]byte(payload)); valid != (i > 0) {
			t.Errorf("event %d %q: valid JSON = %v", i, payload, valid)
		}
	}

	// With Status, the fault's own envelope is garbled.
	srv, _, _ = newFaultServer(t, Fault{Status: 500, MalformedJSON: true})
	if r := get(t, srv, "/", ""); r.status != 500 || json.Valid([]byte(r.body)) || !strings.HasPrefix(r.body, `{"error"`) {
		t.Errorf("garbled 500: %d %q", r.status, r.body)
	}
}

func TestFaultErrorEvent(t *testing.T) {
	t.Parallel()
	const errEvent = `data: {"error":{"type":"server_error",`
	srv, _, _ := newFaultServer(t, Fault{ErrorEvent: true, CutAfterChunks: 1, Times: 1}, Fault{ErrorEvent: true})
	for i, wantBefore := range []int{1, 0} {
		r := get(t, srv, "/v1/chat/completions?stream", "")
		if r.err != nil {
			t.Fatalf("#%d: want a normal end, got %v", i, r.err)
		}
		events := strings.SplitAfter(r.body, "\n\n")
		events = events[:len(events)-1] // the empty tail after the last "\n\n"
		if len(events) != wantBefore+1 || strings.Join(events[:wantBefore], "") != strings.Join(testEvents[:wantBefore], "") ||
			!strings.HasPrefix(events[wantBefore], errEvent) {
			t.Fatalf("#%d: events %q, want %d normal then the error event", i, events, wantBefore)
		}
		var env struct {
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(events[wantBefore], "data: ")), &env); err != nil || env.Error.Message == "" {
			t.Errorf("#%d: error event %q: %v", i, events[wantBefore], err)
		}
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	srv, f, b := newFaultServer(t, Fault{Delay: time.Hour, Times: 1}, Fault{Delay: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan faultResult, 1)
	go func() { done <- fetch(ctx, srv.Client(), "GET", srv.URL+"/", "") }()
	// Cancel only once the request is inside the delay, i.e. took the fault.
	for deadline := time.Now().Add(10 * time.Second); f.remaining()[0] != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the fault")
		}
	}
	cancel()
	if r := <-done; r.err == nil {
		t.Fatalf("cancelled request got %d", r.status)
	}
	if r := get(t, srv, "/", ""); r.err != nil || r.body != testJSONBody {
		t.Errorf("short delay: %q %v", r.body, r.err)
	}
	srv.Close() // waits for the hour-delayed handler, which must see the cancellation
	if n := b.calls.Load(); n != 1 {
		t.Errorf("core called %d times, want 1 (not for the abandoned request)", n)
	}
}

func TestFaultExtraHeaderPassThrough(t *testing.T) {
	t.Parallel()
	srv, _, _ := newFaultServer(t, Fault{Header: http.Header{"X-Injected": {"1"}}})
	r := get(t, srv, "/", "")
	if r.err != nil || r.status != 200 || r.body != testJSONBody || r.header.Get("X-Injected") != "1" {
		t.Errorf("got %d %q %v X-Injected=%q", r.status, r.body, r.err, r.header.Get("X-Injected"))
	}
}

func TestFaultStreamingStaysIncremental(t *testing.T) {
	t.Parallel()
	// OmitDone puts the rewriting writer in the path; the backend holds the
	// rest of the stream until the test has read the first event, so this
	// only finishes if that event was flushed through.
	srv, _, b := newFaultServer(t, Fault{OmitDone: true})
	type first struct {
		resp *http.Response
		ev   []byte
		err  error
	}
	read := make(chan first, 1)
	go func() {
		resp, err := srv.Client().Get(srv.URL + "/v1/chat/completions?stream&gate")
		if err != nil {
			read <- first{err: err}
			return
		}
		ev := make([]byte, len(testEvents[0]))
		_, err = io.ReadFull(resp.Body, ev)
		read <- first{resp, ev, err}
	}()
	var resp *http.Response
	select {
	case f := <-read:
		if f.resp != nil {
			defer f.resp.Body.Close()
		}
		if f.err != nil || string(f.ev) != testEvents[0] {
			t.Fatalf("first event %q, %v", f.ev, f.err)
		}
		resp = f.resp
	case <-time.After(10 * time.Second):
		close(b.gate)
		if f := <-read; f.resp != nil {
			f.resp.Body.Close()
		}
		t.Fatal("headers and first event were not flushed through the fault writer")
	}
	close(b.gate)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != testEvents[1]+testEvents[2] {
		t.Errorf("rest %q, %v", rest, err)
	}
	select {
	case err := <-b.errs:
		t.Errorf("backend saw %v", err)
	default:
	}
}

func TestFaultHeaderTriggered(t *testing.T) {
	t.Parallel()
	srv, f, b := newFaultServer(t, Fault{Route: "/v1/models", Times: 1, Status: 500})
	r := get(t, srv, "/v1/models", "status=503;times=1")
	if typ, _ := errEnvelope(t, []byte(r.body)); r.status != 503 || typ != "server_unavailable" {
		t.Errorf("header fault: %d %s", r.status, typ)
	}
	if got := f.remaining(); got[0] != 1 {
		t.Errorf("header fault consumed a configured one: remaining %v", got)
	}
	if r := get(t, srv, "/v1/models", ""); r.status != 500 {
		t.Errorf("configured fault: %d", r.status)
	}
	if r := get(t, srv, "/v1/models", ""); r.status != 200 {
		t.Errorf("no fault left: %d", r.status)
	}

	stream := "/v1/chat/completions?stream"
	if r := get(t, srv, "/", "status=429; retry-after=2"); r.status != 429 || r.header.Get("Retry-After") != "2" {
		t.Errorf("retry-after: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if r := get(t, srv, stream, "cut=3"); r.err == nil || r.body != strings.Join(testEvents[:3], "") {
		t.Errorf("cut=3: %q %v", r.body, r.err)
	}
	if r := get(t, srv, stream, "omit-done"); r.err != nil || strings.Contains(r.body, "[DONE]") {
		t.Errorf("omit-done: %q %v", r.body, r.err)
	}
	if r := get(t, srv, "/", "malformed"); r.err != nil || json.Valid([]byte(r.body)) {
		t.Errorf("malformed: %q %v", r.body, r.err)
	}
	if r := get(t, srv, stream, "error-event;cut=2"); r.err != nil || !strings.Contains(r.body, `"type":"server_error"`) ||
		!strings.HasPrefix(r.body, testEvents[0]+testEvents[1]) || strings.Contains(r.body, "[DONE]") {
		t.Errorf("error-event: %q %v", r.body, r.err)
	}
	if r := get(t, srv, "/", "delay=1ms"); r.err != nil || r.body != testJSONBody {
		t.Errorf("delay: %q %v", r.body, r.err)
	}
	if r := fetch(context.Background(), srv.Client(), "POST", srv.URL+"/v1/chat/completions", "reset"); r.err == nil {
		t.Errorf("reset: got %d", r.status)
	}
	calls := b.calls.Load()
	r = get(t, srv, "/", "bogus=1")
	if typ, msg := errEnvelope(t, []byte(r.body)); r.status != 400 || typ != "invalid_request_error" || !strings.Contains(msg, "bogus") {
		t.Errorf("bad header: %d %s %q", r.status, typ, msg)
	}
	if b.calls.Load() != calls {
		t.Error("request with a bad fault header reached the core")
	}
}

func TestFaultParse(t *testing.T) {
	ok := map[string]Fault{
		"status=503;times=1":       {Status: 503},
		" reset ":                  {ResetBeforeHeaders: true},
		"cut=3;malformed":          {CutAfterChunks: 3, MalformedJSON: true},
		"omit-done;delay=200ms":    {OmitDone: true, Delay: 200 * time.Millisecond},
		"error-event;reset=false":  {ErrorEvent: true},
		"Status=429;Retry-After=1": {Status: 429, Header: http.Header{"Retry-After": {"1"}}},
	}
	for in, want := range ok {
		got, err := parseFault(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("parseFault(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"status=abc", "status=700", "cut=-1", "delay=soon", "delay=-1s", "reset=maybe", "explode"} {
		if _, err := parseFault(in); err == nil {
			t.Errorf("parseFault(%q) accepted", in)
		}
	}
}

func TestFaultHTTP2(t *testing.T) {
	t.Parallel()
	// HTTP/2 cannot be hijacked; the fault falls back to aborting the stream.
	b := newFaultBackend()
	srv := httptest.NewUnstartedServer(newFaults([]Fault{{Route: "/v1/chat/completions", CutAfterChunks: 2}, {ResetBeforeHeaders: true}}).wrap(b))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	r := fetch(context.Background(), srv.Client(), "GET", srv.URL+"/v1/chat/completions?stream", "")
	if r.err == nil || r.body != testEvents[0]+testEvents[1] {
		t.Errorf("h2 cut: %q %v", r.body, r.err)
	}
	if r := fetch(context.Background(), srv.Client(), "POST", srv.URL+"/v1/files", ""); r.err == nil {
		t.Errorf("h2 reset: got %d", r.status)
	}
	resp, err := srv.Client().Get(srv.URL + "/v1/chat/completions?stream")
	if err == nil {
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("test server spoke %s, want HTTP/2", resp.Proto)
		}
	}
}
