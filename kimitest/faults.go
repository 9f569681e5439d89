package kimitest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FaultHeader is the request header that injects a Fault into that one
// request; see Fault for its syntax.
const FaultHeader = "X-Kimitest-Fault"

// Fault describes a failure the emulator injects in front of its normal
// handling, to exercise a client's error, retry and stream-recovery paths.
// Faults act on the response bytes only, so they work on every route.
//
// A fault with Status set answers by itself (the request never reaches the
// emulator core); ResetBeforeHeaders drops the connection; the other knobs
// alter the core's real response. Knobs combine: e.g. Delay plus Status,
// or CutAfterChunks plus MalformedJSON. The SSE knobs (CutAfterChunks,
// OmitDone, ErrorEvent) only act on text/event-stream responses and leave
// other responses alone.
//
// Per-request faults: a request carrying the header
//
//	X-Kimitest-Fault: status=503;retry-after=2
//
// gets that fault, ahead of any configured one. The value is a list of
// ";"-separated items, each "key" or "key=value":
//
//	status=N       respond with status N and the default body for it
//	retry-after=N  add "Retry-After: N" to the response
//	delay=D        wait D first (Go duration: 200ms, 1.5s)
//	reset          drop the connection before any response byte
//	cut=N          SSE: drop the connection after N data events
//	omit-done      SSE: swallow "data: [DONE]", end cleanly
//	malformed      corrupt the JSON body / the first SSE event's JSON
//	error-event    SSE: send an error event after cut=N events (default 0) and end
//	times=N        accepted and ignored (a header fault affects its own request only)
//
// Boolean items also take a value (reset=false). An unknown item or bad
// value gets a 400 invalid_request_error naming it.
type Fault struct {
	// Route selects requests: "METHOD /path" or "/path". The path matches
	// itself and anything below it ("/v1/models" matches "/v1/models/x",
	// not "/v1/modelsx"). "" matches every request.
	Route string
	// Times is how many matching requests the fault applies to; 0 = all.
	// Every matching request counts, even one whose response the fault
	// cannot act on (an SSE knob meeting a JSON response).
	Times int
	// Status makes the fault answer with this status and Body instead of
	// passing the request on.
	Status int
	// Body is the response body for Status. Empty means a Kimi error
	// envelope fitting the status (for 502 and 504 an nginx HTML page, as
	// the real gateway sends).
	Body string
	// Header holds extra response headers (e.g. Retry-After). They are set
	// before the core runs, so the core may override them.
	Header http.Header
	// Delay waits this long (real time) before anything else; if the client
	// gives up meanwhile, nothing is sent.
	Delay time.Duration
	// ResetBeforeHeaders aborts the connection before any response byte,
	// with a TCP reset where possible. Note that Go's http.Transport
	// silently retries idempotent requests (e.g. GET) that fail this way on
	// a reused connection; each retry is a new matching request.
	ResetBeforeHeaders bool
	// CutAfterChunks aborts an SSE response after this many data events
	// ("data: ...\n\n") reached the client: the client sees an unexpected
	// EOF. With ErrorEvent it is instead the number of events before the
	// error event.
	CutAfterChunks int
	// OmitDone swallows the "data: [DONE]" event; the response then ends
	// normally, so the client sees a clean EOF without [DONE].
	OmitDone bool
	// MalformedJSON corrupts the body: a JSON (non-SSE) response is cut to
	// half its length; in an SSE response the first data event's JSON is.
	MalformedJSON bool
	// ErrorEvent writes an SSE error event after CutAfterChunks events and
	// then ends the response normally.
	ErrorEvent bool
}

// faults is the fault-injection middleware and its configured faults.
type faults struct {
	mu   sync.Mutex
	list []*faultState
}

type faultState struct {
	Fault
	method, path string
	left         atomic.Int64 // remaining applications when Times > 0
}

func newFaults(list []Fault) *faults {
	f := &faults{}
	f.add(list...)
	return f
}

// add configures more faults; they are tried after the existing ones.
func (f *faults) add(list ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ft := range list {
		s := &faultState{Fault: ft}
		s.method, s.path, _ = strings.Cut(strings.TrimSpace(ft.Route), " ")
		if s.path == "" { // no method given
			s.method, s.path = "", s.method
		}
		s.path = strings.TrimSpace(s.path)
		s.left.Store(int64(ft.Times))
		f.list = append(f.list, s)
	}
}

// remaining reports, per configured fault in order, how many applications
// are left (-1 for faults with Times 0, which never run out).
func (f *faults) remaining() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]int, len(f.list))
	for i, s := range f.list {
		out[i] = -1
		if s.Times > 0 {
			out[i] = int(s.left.Load())
		}
	}
	return out
}

// pick returns the first configured fault that matches r and still has
// applications left, consuming one of them.
func (f *faults) pick(r *http.Request) (Fault, bool) {
	if f == nil {
		return Fault{}, false
	}
	f.mu.Lock()
	list := f.list
	f.mu.Unlock()
	for _, s := range list {
		if !s.matches(r) {
			continue
		}
		if s.Times <= 0 {
			return s.Fault, true
		}
		for {
			n := s.left.Load()
			if n <= 0 {
				break
			}
			if s.left.CompareAndSwap(n, n-1) {
				return s.Fault, true
			}
		}
	}
	return Fault{}, false
}

func (s *faultState) matches(r *http.Request) bool {
	if s.method != "" && !strings.EqualFold(s.method, r.Method) {
		return false
	}
	p := strings.TrimSuffix(s.path, "/")
	return p == "" || r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/")
}

// wrap returns the middleware; it must be the outermost one so that it sees
// the connection's own ResponseWriter (for hijacking) and every byte.
func (f *faults) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(FaultHeader); v != "" {
			r.Header.Del(FaultHeader)
			ft, err := parseFault(v)
			if err != nil {
				writeError(w, &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error",
					Message: "Invalid request: bad " + FaultHeader + " header: " + err.Error()})
				return
			}
			ft.serve(w, r, next)
			return
		}
		if ft, ok := f.pick(r); ok {
			ft.serve(w, r, next)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// parseFault parses the FaultHeader syntax documented on Fault.
func parseFault(v string) (Fault, error) {
	var ft Fault
	for item := range strings.SplitSeq(v, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, val, hasVal := strings.Cut(item, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		var err error
		num := func(min int) int {
			n, e := strconv.Atoi(val)
			if e != nil || n < min {
				err = fmt.Errorf("%s wants an integer >= %d, got %q", key, min, val)
			}
			return n
		}
		flag := func() bool {
			if !hasVal {
				return true
			}
			b, e := strconv.ParseBool(val)
			if e != nil {
				err = fmt.Errorf("%s wants a boolean, got %q", key, val)
			}
			return b
		}
		switch key {
		case "status":
			ft.Status = num(100)
			if err == nil && ft.Status > 599 {
				err = fmt.Errorf("status %d out of range", ft.Status)
			}
		case "retry-after":
			if n := num(0); err == nil {
				if ft.Header == nil {
					ft.Header = http.Header{}
				}
				ft.Header.Set("Retry-After", strconv.Itoa(n))
			}
		case "delay":
			var e error
			ft.Delay, e = time.ParseDuration(val)
			switch {
			case e != nil:
				// time's own message names the Go package.
				err = fmt.Errorf("delay wants a duration such as 200ms or 1.5s, got %q", val)
			case ft.Delay < 0:
				err = fmt.Errorf("negative delay %q", val)
			}
		case "reset":
			ft.ResetBeforeHeaders = flag()
		case "cut":
			ft.CutAfterChunks = num(0)
		case "omit-done":
			ft.OmitDone = flag()
		case "malformed":
			ft.MalformedJSON = flag()
		case "error-event":
			ft.ErrorEvent = flag()
		case "times":
			num(0)
		default:
			err = fmt.Errorf("unknown item %q", item)
		}
		if err != nil {
			return Fault{}, err
		}
	}
	return ft, nil
}

// serve handles one request under fault ft.
func (ft Fault) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if ft.Delay > 0 {
		t := time.NewTimer(ft.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if ft.ResetBeforeHeaders {
		abortConn(w, true)
		return
	}
	h := next
	if ft.Status != 0 {
		h = http.HandlerFunc(ft.respond)
	} else {
		for k, v := range ft.Header {
			w.Header()[k] = append([]string(nil), v...)
		}
	}
	if !ft.MalformedJSON && !ft.OmitDone && !ft.ErrorEvent && ft.CutAfterChunks <= 0 {
		h.ServeHTTP(w, r)
		return
	}
	fw := &faultWriter{w: w, ft: ft}
	h.ServeHTTP(fw, r)
	// Not deferred: after a panic (e.g. http.ErrAbortHandler) nothing more
	// may be written.
	fw.finish()
}

// respond writes the fault's own response.
func (ft Fault) respond(w http.ResponseWriter, _ *http.Request) {
	body, ctype := ft.Body, "application/json; charset=utf-8"
	if body == "" {
		body, ctype = defaultFaultBody(ft.Status)
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	for k, v := range ft.Header {
		h[k] = append([]string(nil), v...)
	}
	w.WriteHeader(ft.Status)
	io.WriteString(w, body)
}

// defaultFaultBody is what Kimi would plausibly send with status: its JSON
// error envelope, or for gateway failures nginx's HTML page.
func defaultFaultBody(status int) (body, contentType string) {
	typ, msg := "invalid_request_error", "Invalid request: injected by kimitest"
	switch {
	case status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		text := fmt.Sprintf("%d %s", status, http.StatusText(status))
		if status == http.StatusGatewayTimeout {
			text = "504 Gateway Time-out" // nginx's spelling
		}
		return "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", "text/html"
	case status == http.StatusTooManyRequests:
		typ = "rate_limit_reached_error"
		msg = "Your account org-kimitest<ak-kimitest> request reached organization max RPM: 3, please try again after 1 seconds"
	case status == http.StatusServiceUnavailable:
		// 2026 docs: maintenance and scaling events. Overload is
		// engine_overloaded_error with a 429, which a Fault can set in Body.
		typ, msg = "server_unavailable", "The service is temporarily unavailable, please try again later"
	case status == http.StatusUnauthorized:
		typ, msg = "invalid_authentication_error", "Invalid Authentication"
	case status == http.StatusForbidden:
		typ, msg = "permission_denied_error", "The API you are accessing is not open"
	case status == http.StatusNotFound:
		typ, msg = "resource_not_found_error", "Not found the model or Permission denied"
	case status == 499:
		typ, msg = "client_closed_request", "client closed request"
	case status >= 500:
		typ, msg = "server_error", "Internal server error (injected by kimitest)"
	}
	var b strings.Builder
	writeError(&bodyOnly{&b}, &apiError{Status: status, Type: typ, Message: msg})
	return strings.TrimSuffix(b.String(), "\n"), "application/json; charset=utf-8"
}

// bodyOnly captures what writeError writes, so the envelope is built in
// exactly one place.
type bodyOnly struct{ io.Writer }

func (bodyOnly) Header() http.Header { return http.Header{} }
func (bodyOnly) WriteHeader(int)     {}

var (
	errFaultAborted = errors.New("kimitest: connection aborted by injected fault")
	errFaultEnded   = errors.New("kimitest: response ended by injected fault")
)

// faultWriter rewrites a response on its way to the client. Like any
// ResponseWriter it is not safe for concurrent use.
type faultWriter struct {
	w  http.ResponseWriter
	ft Fault

	wroteHeader bool
	mode        int    // what the fault does to this response, set at WriteHeader
	pending     []byte // SSE: start of an event not yet terminated by a blank line
	buf         bytes.Buffer
	events      int  // SSE data events sent
	garbled     bool // SSE: the first data event was corrupted
	stopped     error
}

const (
	modePass   = iota // forward unchanged
	modeSSE           // rewrite event by event
	modeBuffer        // hold the body, corrupt it at the end
)

func (fw *faultWriter) Header() http.Header { return fw.w.Header() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (fw *faultWriter) Unwrap() http.ResponseWriter { return fw.w }

func (fw *faultWriter) WriteHeader(code int) {
	if fw.wroteHeader {
		return
	}
	if code >= 200 {
		fw.wroteHeader = true
		ct := strings.ToLower(fw.w.Header().Get("Content-Type"))
		sse := strings.HasPrefix(ct, "text/event-stream")
		switch {
		case sse && (fw.ft.MalformedJSON || fw.ft.OmitDone || fw.ft.ErrorEvent || fw.ft.CutAfterChunks > 0):
			fw.mode = modeSSE
		case !sse && fw.ft.MalformedJSON:
			fw.mode = modeBuffer
			// The body will be shorter than any length the core announced.
			fw.w.Header().Del("Content-Length")
		}
	}
	fw.w.WriteHeader(code)
}

func (fw *faultWriter) Write(p []byte) (int, error) {
	if !fw.wroteHeader {
		fw.WriteHeader(http.StatusOK)
	}
	if fw.stopped != nil {
		return 0, fw.stopped
	}
	switch fw.mode {
	case modeBuffer:
		return fw.buf.Write(p)
	case modeSSE:
		fw.pending = append(fw.pending, p...)
		for {
			i := bytes.Index(fw.pending, []byte("\n\n"))
			if i < 0 {
				return len(p), nil
			}
			ev := fw.pending[:i+2]
			fw.pending = fw.pending[i+2:]
			if err := fw.event(ev); err != nil {
				fw.stopped = err
				return 0, err
			}
		}
	}
	return fw.w.Write(p)
}

// event sends (or alters, swallows, replaces) one complete SSE event.
func (fw *faultWriter) event(ev []byte) error {
	data, ok := sseData(ev)
	if !ok { // comments and the like pass untouched and uncounted
		_, err := fw.w.Write(ev)
		return err
	}
	ft := fw.ft
	if ft.OmitDone && data == "[DONE]" {
		return nil
	}
	if ft.ErrorEvent && fw.events >= ft.CutAfterChunks {
		_, err := io.WriteString(fw.w, `data: {"error":{"type":"server_error","message":"kimitest: injected stream error"}}`+"\n\n")
		if err == nil {
			err = http.NewResponseController(fw.w).Flush()
		}
		if err != nil {
			return err
		}
		return errFaultEnded
	}
	if ft.MalformedJSON && !fw.garbled && data != "[DONE]" {
		fw.garbled = true
		ev = []byte("data: " + data[:len(data)/2] + "\n\n")
	}
	if _, err := fw.w.Write(ev); err != nil {
		return err
	}
	fw.events++
	if !ft.ErrorEvent && ft.CutAfterChunks > 0 && fw.events >= ft.CutAfterChunks {
		abortConn(fw.w, false)
		return errFaultAborted
	}
	return nil
}

// sseData returns the joined data lines of an event and whether it had any.
func sseData(ev []byte) (string, bool) {
	var parts []string
	found := false
	for line := range strings.SplitSeq(string(ev), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if v, ok := strings.CutPrefix(line, "data:"); ok {
			found = true
			parts = append(parts, strings.TrimPrefix(v, " "))
		}
	}
	return strings.Join(parts, "\n"), found
}

// Flush implements http.Flusher so streaming stays incremental.
func (fw *faultWriter) Flush() { _ = fw.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (fw *faultWriter) FlushError() error {
	if fw.stopped == errFaultAborted {
		return fw.stopped
	}
	if fw.mode == modeBuffer {
		return nil // the whole body goes out, corrupted, at the end
	}
	return http.NewResponseController(fw.w).Flush()
}

// finish writes whatever the fault held back once the core is done.
func (fw *faultWriter) finish() {
	if fw.stopped != nil {
		return
	}
	switch fw.mode {
	case modeBuffer:
		b := fw.buf.Bytes()
		fw.w.Write(b[:len(b)/2])
	case modeSSE:
		if len(fw.pending) > 0 {
			fw.w.Write(fw.pending)
		}
	}
}

// abortConn drops the client connection. On HTTP/1 it hijacks the
// connection: before any byte it closes with a TCP reset; mid-response it
// first flushes what was written, half-closes and waits for the client to
// hang up, because a reset could make the client's kernel discard data it
// has not read yet. Where hijacking is impossible (HTTP/2) it panics with
// http.ErrAbortHandler, which net/http turns into a stream reset.
func abortConn(w http.ResponseWriter, beforeHeaders bool) {
	rc := http.NewResponseController(w)
	if !beforeHeaders {
		_ = rc.Flush()
	}
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	tcp := tcpConn(conn)
	if beforeHeaders {
		if tcp != nil {
			_ = tcp.SetLinger(0)
		}
		conn.Close()
		return
	}
	if tcp != nil && tcp.CloseWrite() == nil {
		_ = tcp.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.Copy(io.Discard, tcp)
	}
	conn.Close()
}

func tcpConn(c net.Conn) *net.TCPConn {
	for {
		switch t := c.(type) {
		case *net.TCPConn:
			return t
		case interface{ NetConn() net.Conn }: // *tls.Conn
			c = t.NetConn()
		default:
			return nil
		}
	}
}
