package kimitest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Requests the http.Server refuses before any handler runs (a malformed
// request line or header, headers over maxHeaderBytes, a missing Host, an
// unknown Transfer-Encoding or HTTP version) are answered by net/http
// itself, written straight to the connection as a plain-text page:
//
//	HTTP/1.1 <code> <text>[: detail]\r\n
//	Content-Type: text/plain; charset=utf-8\r\n
//	Connection: close\r\n
//	\r\n
//	<body>
//
// A client mistake must still get Kimi's error envelope, so every
// connection the emulator accepts recognises that page as it is written
// and rewords it, keeping the status.

// refusalHeaders are the only headers net/http's refusal page has (it has
// no Date, which every handler response carries).
const refusalHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// maxRefusalBytes bounds the writes inspected: net/http's pages are a
// few dozen bytes, so a longer write is passed on without a look.
const maxRefusalBytes = 512

// envelopeListener wraps each accepted connection in an envelopeConn.
type envelopeListener struct{ net.Listener }

func (l envelopeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ec := &envelopeConn{Conn: c}
	ec.atBoundary.Store(true)
	return ec, nil
}

// envelopeConn rewrites net/http's refusal page into the envelope. Only a
// write made at a response boundary is looked at: before the first
// response on the connection, or once the previous response has been
// flushed and the connection went idle (armOnIdle). That is where the
// refusal is written; the first write of any other response disarms the
// check until the next boundary, so handler output (whatever its bytes)
// passes through untouched.
type envelopeConn struct {
	net.Conn
	atBoundary atomic.Bool
}

func (c *envelopeConn) Write(p []byte) (int, error) {
	if !c.atBoundary.Swap(false) {
		return c.Conn.Write(p)
	}
	out, ok := rewordRefusal(p)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// CloseWrite forwards the half-close net/http makes after a 431 (so that
// the client reads the answer before a reset); wrapping the TCP
// connection would otherwise hide it.
func (c *envelopeConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn returns the wrapped connection, so that a handler which hijacks
// the connection (a fault's TCP reset, faults.go) reaches the socket.
func (c *envelopeConn) NetConn() net.Conn { return c.Conn }

// armOnIdle is the http.Server's ConnState hook. A connection goes idle
// only after its response has been flushed, so its next write starts a
// new response (or is a refusal of the next request).
func armOnIdle(c net.Conn, s http.ConnState) {
	if ec, ok := c.(*envelopeConn); ok && s == http.StateIdle {
		ec.atBoundary.Store(true)
	}
}

// rewordRefusal returns the envelope form of p when p is exactly a
// net/http refusal page, with the same status, a Content-Length and
// Connection: close.
func rewordRefusal(p []byte) ([]byte, bool) {
	const proto = "HTTP/1.1 "
	if len(p) > maxRefusalBytes || !bytes.HasPrefix(p, []byte(proto)) {
		return nil, false
	}
	status, body, ok := strings.Cut(string(p[len(proto):]), refusalHeaders)
	if !ok || strings.Contains(status, "\r\n") || len(status) < 4 || status[3] != ' ' {
		return nil, false
	}
	code, err := strconv.Atoi(status[:3])
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	reason, detail, _ := strings.Cut(status[4:], ": ")
	if reason != http.StatusText(code) {
		return nil, false
	}
	if detail == "" && body != status {
		detail = body // e.g. the 501's "Unsupported transfer encoding"
	}
	if detail == "" {
		detail = refusalDetail(code)
	}
	aerr := errInvalid("%s", lowerFirst(detail))
	aerr.Status = code

	rec := httptest.NewRecorder()
	writeError(rec, aerr)
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(rec.Body.Len()))
	h.Set("Connection", "close")
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(rec.Body.Bytes())
	return b.Bytes(), true
}

// refusalDetail words a refusal whose page gives no detail.
func refusalDetail(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "malformed HTTP request"
	case http.StatusRequestHeaderFieldsTooLarge:
		return fmt.Sprintf("request headers exceed %d KiB", maxHeaderBytes>>10)
	}
	return http.StatusText(code)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
