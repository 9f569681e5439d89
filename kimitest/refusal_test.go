package kimitest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawExchange sends raw on a new connection to addr (host:port), half-
// closes it so that an incomplete request ends, and returns the first
// response with its body.
func rawExchange(t *testing.T, addr, raw string) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) // a bound, not an assertion
	// Written aside: the server may answer (and stop reading) before a
	// long request is all sent.
	go func() {
		io.WriteString(conn, raw)
		conn.(*net.TCPConn).CloseWrite()
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%.60q: no response: %v", raw, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("%.60q: body: %v", raw, err)
	}
	return res, b
}

// wantRefusal requires Kimi's envelope with status and msg, a JSON
// content type, an exact Content-Length and Connection: close.
func wantRefusal(t *testing.T, what string, res *http.Response, body []byte, status int, msg string) {
	t.Helper()
	typ, got := errEnvelope(t, body)
	if res.StatusCode != status || typ != "invalid_request_error" || got != msg {
		t.Errorf("%s: %d %s %q, want %d invalid_request_error %q", what, res.StatusCode, typ, got, status, msg)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if res.ContentLength != int64(len(body)) || !res.Close {
		t.Errorf("%s: Content-Length %d for %d bytes, close %v", what, res.ContentLength, len(body), res.Close)
	}
}

// refusalCases are requests net/http refuses before any handler runs.
var refusalCases = []struct {
	name, raw string
	status    int
	msg       string
}{
	{"garbage request line", "garbage\r\n\r\n", 400, "Invalid request: malformed HTTP request"},
	{"header without colon", "GET /v1/models HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400, "Invalid request: malformed HTTP request"},
	{"invalid header name", "GET /v1/models HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400, "Invalid request: invalid header name"},
	{"no Host", "GET /v1/models HTTP/1.1\r\n\r\n", 400, "Invalid request: missing required Host header"},
	{"malformed Host", "GET /v1/models HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "Invalid request: malformed Host header"},
	{"huge headers", "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", maxHeaderBytes+8<<10) + "\r\n\r\n", 431, "Invalid request: request headers exceed 64 KiB"},
	{"unknown Transfer-Encoding", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Invalid request: unsupported transfer encoding"},
	{"HTTP/2.0 request line", "GET /v1/models HTTP/2.0\r\nHost: x\r\n\r\n", 505, "Invalid request: unsupported protocol version"},
}

func checkRefusals(t *testing.T, addr string) {
	t.Helper()
	for _, c := range refusalCases {
		res, body := rawExchange(t, addr, c.raw)
		wantRefusal(t, c.name, res, body, c.status, c.msg)
	}
}

func TestRefusalsInEnvelope(t *testing.T) {
	t.Run("NewServer", func(t *testing.T) {
		checkRefusals(t, serverAddr(setup(t)))
	})
	t.Run("Start", func(t *testing.T) {
		s, err := Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		checkRefusals(t, serverAddr(s))
	})
}

func serverAddr(s *Server) string {
	return strings.TrimPrefix(strings.TrimSuffix(s.URL, "/v1"), "http://")
}

// A refusal of a later request on a kept-alive connection is reworded
// too: the connection's idle state marks the end of the previous response.
func TestRefusalAfterKeptAliveResponse(t *testing.T) {
	srv := setup(t)
	conn, err := net.Dial("tcp", serverAddr(srv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(conn)
	for range 2 {
		io.WriteString(conn, "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+srv.Key+"\r\n\r\n")
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Close {
			t.Fatalf("models: %d, close %v", res.StatusCode, res.Close)
		}
	}
	io.WriteString(conn, "GET /v1/models HTTP/1.1\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	wantRefusal(t, "no Host after two responses", res, body, 400, "Invalid request: missing required Host header")
}

// recConn records what is written to the connection under it.
type recConn struct {
	net.Conn
	mu    sync.Mutex
	wrote bytes.Buffer
}

func (c *recConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.wrote.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recConn) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.wrote.Bytes())
}

// tapListener records, for each connection, what net/http writes (above
// the envelopeConn) and what reaches the socket (below it).
type tapListener struct {
	net.Listener
	mu    sync.Mutex
	pairs [][2]*recConn // {above, below}
}

func (l *tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	below := &recConn{Conn: c}
	ec, err := envelopeListener{oneConnListener{below}}.Accept()
	if err != nil {
		return nil, err
	}
	above := &recConn{Conn: ec}
	l.mu.Lock()
	l.pairs = append(l.pairs, [2]*recConn{above, below})
	l.mu.Unlock()
	return above, nil
}

// oneConnListener hands out its connection once.
type oneConnListener struct{ c net.Conn }

func (l oneConnListener) Accept() (net.Conn, error) { return l.c, nil }
func (l oneConnListener) Close() error              { return nil }
func (l oneConnListener) Addr() net.Addr            { return l.c.LocalAddr() }

// The wrapper never alters a handler's response: over kept-alive
// connections, plain and streamed chat completions, a listing and a
// handler's own error reach the socket byte for byte as net/http wrote
// them; only the refusal at the end differs.
func TestRefusalConnPassesHandlerResponses(t *testing.T) {
	e := New(WithRule(Rule{Match: "page", Reply: "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"}))
	defer e.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &tapListener{Listener: ln}
	hs := &http.Server{Handler: e}
	configureServer(hs)
	hs.ConnState = func(c net.Conn, s http.ConnState) { armOnIdle(c.(*recConn).Conn, s) }
	done := make(chan error, 1)
	go func() { done <- hs.Serve(tap) }()
	defer func() {
		hs.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	base := "http://" + ln.Addr().String()
	do := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DefaultKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 {
		for _, c := range []struct {
			method, path, body string
			status             int
		}{
			{"POST", "/v1/chat/completions", `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"a page please"}]}`, 200},
			{"POST", "/v1/chat/completions", `{"model":"moonshot-v1-8k","stream":true,"messages":[{"role":"user","content":"a page please"}]}`, 200},
			{"POST", "/v1/chat/completions", `{"model":"moonshot-v1-8k","stream":true,"max_tokens":300,"messages":[{"role":"user","content":"Tell me a long story"}]}`, 200},
			{"GET", "/v1/models", "", 200},
			{"POST", "/v1/chat/completions", `{"model":`, 400},
		} {
			if got := do(c.method, c.path, c.body); got != c.status {
				t.Fatalf("%s %s: status %d, want %d", c.method, c.path, got, c.status)
			}
		}
	}
	res, body := rawExchange(t, ln.Addr().String(), "GET /v1/models HTTP/1.1\r\n\r\n")
	wantRefusal(t, "no Host", res, body, 400, "Invalid request: missing required Host header")

	tap.mu.Lock()
	pairs := tap.pairs
	tap.mu.Unlock()
	if len(pairs) < 2 {
		t.Fatalf("%d connections, want the client's and the refused one", len(pairs))
	}
	for i, p := range pairs {
		above, below := p[0].bytes(), p[1].bytes()
		refused := i == len(pairs)-1
		if refused == bytes.Equal(above, below) {
			t.Errorf("connection %d (refused %v): net/http wrote %d bytes, the socket got %d:\n%.300q\n%.300q", i, refused, len(above), len(below), above, below)
		}
	}
}

// TestRefusalConnBoundaries drives an envelopeConn directly: only a write
// at a response boundary that is exactly a refusal page is reworded.
func TestRefusalConnBoundaries(t *testing.T) {
	page := "HTTP/1.1 400 Bad Request" + refusalHeaders + "400 Bad Request"
	below := &recConn{Conn: discardConn{}}
	ec, _ := envelopeListener{oneConnListener{below}}.Accept()
	c := ec.(*envelopeConn)
	write := func(s string) string {
		t.Helper()
		before := len(below.bytes())
		if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		return string(below.bytes()[before:])
	}
	if got := write(page); !strings.HasPrefix(got, "HTTP/1.1 400 Bad Request\r\n") || !strings.Contains(got, `"invalid_request_error"`) {
		t.Fatalf("first write not reworded: %q", got)
	}
	armOnIdle(c, http.StateIdle)
	header := "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\n\r\n"
	for _, s := range []string{header, page, page} {
		if got := write(s); got != s {
			t.Fatalf("write inside a response altered: %q -> %q", s, got)
		}
	}
	armOnIdle(c, http.StateActive)
	if got := write(page); got != page {
		t.Fatalf("active state armed the check: %q", got)
	}
	armOnIdle(c, http.StateIdle)
	if got := write(page); got == page {
		t.Fatal("refusal after idle not reworded")
	}
}

type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// Near misses of the refusal page are not refusals.
func TestRewordRefusalNearMisses(t *testing.T) {
	for _, s := range []string{
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nDate: x\r\n\r\n400 Bad Request",
		"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n400 Bad Request",
		"HTTP/1.1 200 OK" + refusalHeaders + "200 OK",
		"HTTP/1.1 302 Found" + refusalHeaders + "302 Found",
		"HTTP/1.1 400 Bad Thing" + refusalHeaders + "400 Bad Thing",
		"HTTP/1.0 400 Bad Request" + refusalHeaders + "400 Bad Request",
		"HTTP/1.1 4000 Bad Request" + refusalHeaders,
		"HTTP/1.1 400 Bad Request\r\nX: y" + refusalHeaders + "400 Bad Request",
		"HTTP/1.1 400 Bad Request" + refusalHeaders + strings.Repeat("x", maxRefusalBytes),
	} {
		if out, ok := rewordRefusal([]byte(s)); ok {
			t.Errorf("%.80q reworded to %q", s, out)
		}
	}
}

// FuzzRewordRefusal: whatever rewordRefusal accepts is a net/http refusal
// page, and what it makes of it is a well-formed envelope response with
// the same status.
func FuzzRewordRefusal(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 400 Bad Request" + refusalHeaders + "400 Bad Request",
		"HTTP/1.1 400 Bad Request: missing required Host header" + refusalHeaders + "400 Bad Request: missing required Host header",
		"HTTP/1.1 431 Request Header Fields Too Large" + refusalHeaders + "431 Request Header Fields Too Large",
		"HTTP/1.1 501 Not Implemented" + refusalHeaders + "Unsupported transfer encoding",
		"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + refusalHeaders + "505 HTTP Version Not Supported: unsupported protocol version",
		"HTTP/1.1 200 OK\r\nDate: x\r\nContent-Length: 2\r\n\r\nok",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		out, ok := rewordRefusal(p)
		if !ok {
			return
		}
		if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) || !bytes.Contains(p, []byte(refusalHeaders)) {
			t.Fatalf("reworded a non-page %q", p)
		}
		res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if err != nil {
			t.Fatalf("%q -> unreadable %q: %v", p, out, err)
		}
		body, err := io.ReadAll(res.Body)
		if err != nil || strconv.Itoa(res.StatusCode) != string(p[9:12]) || res.ContentLength != int64(len(body)) || !res.Close {
			t.Fatalf("%q -> %q (%v)", p, out, err)
		}
		var env struct {
			Error struct{ Type, Message string }
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Error.Type != "invalid_request_error" || !strings.HasPrefix(env.Error.Message, "Invalid request: ") {
			t.Fatalf("%q -> body %q (%v)", p, body, err)
		}
	})
}

// A handler that hijacks the connection (a fault's reset) still reaches
// the TCP socket through the envelopeConn.
func TestRefusalConnUnwrapsToTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	c, err := envelopeListener{ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tcpConn(c) == nil {
		t.Fatalf("%T does not unwrap to a *net.TCPConn", c)
	}
}

// Requests that ServeMux would answer itself in plain text (a CONNECT,
// HTTP/2's "PRI *") get the gateway's JSON 404 like any other path the
// API lacks.
func TestMuxRefusalsAsGateway404(t *testing.T) {
	addr := serverAddr(setup(t))
	for _, raw := range []string{
		"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", // HTTP/2's preface, spoken to an HTTP/1 server
	} {
		res, body := rawExchange(t, addr, raw)
		var g gatewayError
		if res.StatusCode != http.StatusNotFound || json.Unmarshal(body, &g) != nil || g.Error != "url.not_found" {
			t.Errorf("%q: %d %s", raw, res.StatusCode, body)
		}
	}
}
