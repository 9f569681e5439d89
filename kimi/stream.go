package kimi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/onesdk-go/onesdk/internal/sse"
)

// ErrStreamIncomplete is wrapped by the error of a stream that ended
// (connection closed, cut or failed) before Kimi's final "data: [DONE]".
// Only [DONE] marks a complete answer; finish_reason alone does not.
var ErrStreamIncomplete = sentinel("kimi: stream ended before [DONE]", ErrConnection)

// ErrNotEventStream is wrapped by the error Stream returns when the server
// answered 2xx with a JSON body that is not an error envelope (a proxy that
// ignored "stream": true, say) instead of an event stream. A body is taken
// as JSON when its Content-Type says so or, whatever the Content-Type, when
// its first non-space byte is '{'.
var ErrNotEventStream = sentinel("kimi: response is not an event stream", ErrServerUnavailable)

// Stream sends a streaming chat completion. The request is validated and
// not modified: Stream is set on a copy; opts are as for Create. Stream
// returns once the first byte of the body has arrived, so that a JSON
// error body (which some gateways send with status 200 and an
// event-stream Content-Type) is returned here as an *Error, retried as
// the same error with its own status would be. Errors before the first
// byte (validation, HTTP status, retries, such a JSON body) are returned
// here; errors after it come from Stream.Err. The caller must Close the
// stream (or range over All, which closes it).
func (s *ChatService) Stream(ctx context.Context, req *ChatRequest, opts ...RequestOption) (*Stream, error) {
	// The context is ours to cancel so that Close and the post-[DONE]
	// drain can always abort a blocked body read.
	ctx, cancel := context.WithCancel(ctx)
	hreq, err := s.request(ctx, req, true, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	hreq.Header.Set("Accept", "text/event-stream")
	st := &Stream{cancel: cancel, key: s.c.key}
	_, attempts, err := s.c.send(hreq, st)
	if err == nil && st.dec == nil {
		err = st.notEventStream()
	}
	if err != nil {
		cancel()
		return nil, err
	}
	st.attempts = attempts
	return st, nil
}

// Stream reads a chat completion stream chunk by chunk:
//
//	for stream.Next() {
//		chunk := stream.Current()
//		...
//	}
//	if err := stream.Err(); err != nil { ... }
//	history = append(history, stream.Message())
//
// Chunks reach the caller as soon as their event arrives. Every chunk is
// also fed to an Accumulator, so Completion and Message give the assembled
// answer at any point. A Stream is not safe for concurrent use.
type Stream struct {
	resp   *http.Response
	cancel context.CancelFunc
	key    secret // for redaction; a func (see secret), so printing a Stream never shows it
	// attempts is how many requests were sent for the stream, retries
	// included: the Attempts of an in-stream *Error.
	attempts int
	dec      *sse.Decoder // nil until open finds an event stream
	docLen   int          // the size of a JSON body open found instead
	cd       chunkDecoder
	acc      Accumulator

	// body is what the SSE decoder reads: the bytes open peeked at,
	// then the rest of resp.Body. The peek buffer lives in the Stream so
	// that it costs no allocation of its own.
	body    prefixReader
	peekBuf [peekSize]byte

	cur      *ChatCompletionChunk
	err      error
	events   int
	done     bool // saw [DONE]
	released bool // body closed, context cancelled
	// slot ends the stream's hold on the rate limits (Config.Admitter)
	// when the stream ends; nil without an admitter.
	slot func()
}

func (s *Stream) holdSlot(release func()) { s.slot = release }

// Limits on the body after [DONE]: it is read to its end so the
// connection can be reused, but never more than this.
const (
	maxDrain     = 64 << 10
	drainTimeout = 250 * time.Millisecond
)

// streamMaxSize caps one SSE line and one event's data; tests lower it.
var streamMaxSize = sse.DefaultMaxSize

// peekSize bounds how much of the body open reads while looking for
// its first non-space byte.
const peekSize = 512

// open is the Stream's part of send (see bodyOpener): it checks that the
// 2xx response resp is an event stream and keeps it. A body that is JSON
// (by Content-Type, or because its first non-space byte is '{', which no
// event stream starts with) is read whole, closed and returned for send
// to judge; if it is no error envelope, Stream reports it (see
// notEventStream). An HTML body (by Content-Type, or a first byte '<')
// and a body that does not decompress are the server's garbage: errors
// wrapping ErrBadResponse. open is called again for each attempt.
func (s *Stream) open(resp *http.Response) ([]byte, bool, error) {
	s.resp, s.body, s.dec, s.docLen = resp, prefixReader{}, nil, 0
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if err != nil {
			return nil, false, readError(fmt.Sprintf("read %d JSON response to a stream request", resp.StatusCode), err)
		}
		s.docLen = len(body)
		return body, true, nil
	}
	first := s.peek()
	if first == '{' || first == '<' || mt == "text/html" {
		defer resp.Body.Close()
		body := bytes.Clone(s.body.buf) // not s.peekBuf: the body outlives this attempt
		err := s.body.err
		if err == nil {
			var rest []byte
			rest, err = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody-int64(len(body))))
			body = append(body, rest...)
		}
		if err != nil && err != io.EOF {
			return nil, false, readError(fmt.Sprintf("read %d response to a stream request", resp.StatusCode), err)
		}
		if first == '{' {
			s.docLen = len(body)
			return body, true, nil
		}
		// A captive portal or a gateway's error page: no event stream.
		return nil, false, fmt.Errorf("%w: status %d with an HTML body (Content-Type %s, request %s) to a stream request: %s",
			ErrBadResponse, resp.StatusCode, ct, requestID(resp.Header), snippetMessage(resp.StatusCode, redactKey(body, s.key.value())))
	}
	if len(s.body.buf) == 0 && corruptEncoding(s.body.err) {
		resp.Body.Close()
		return nil, false, readError(fmt.Sprintf("read %d response to a stream request", resp.StatusCode), s.body.err)
	}
	s.dec = sse.NewDecoder(&s.body)
	s.dec.SetMaxSize(streamMaxSize)
	return nil, false, nil
}

// notEventStream is the error for a 2xx JSON body, not an error envelope,
// received in answer to a stream request.
func (s *Stream) notEventStream() error {
	ct := s.resp.Header.Get("Content-Type")
	if ct == "" {
		ct = "none"
	}
	return fmt.Errorf("%w: status %d with a JSON body (Content-Type %s, %d bytes); the server ignored \"stream\": true",
		ErrNotEventStream, s.resp.StatusCode, ct, s.docLen)
}

// peek reads the start of the body into s.body, up to its first non-space
// byte (or peekSize bytes, the end of the body, or a read error, which is
// kept for the decoder to report), and returns that byte (0 if none came).
func (s *Stream) peek() byte {
	s.body.r = s.resp.Body
	n := 0
	for n < len(s.peekBuf) {
		m, err := s.resp.Body.Read(s.peekBuf[n:])
		s.body.err = err
		for _, c := range s.peekBuf[n : n+m] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				s.body.buf = s.peekBuf[:n+m]
				return c
			}
		}
		n += m
		if err != nil {
			break
		}
	}
	s.body.buf = s.peekBuf[:n]
	return 0
}

// prefixReader reads buf, then r. A read error met while filling buf is
// err; it is returned once buf is drained, without reading r again.
type prefixReader struct {
	buf []byte
	r   io.Reader
	err error
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return p.r.Read(b)
}

// Next advances to the next chunk. It returns false after [DONE], on error
// and after Close; Err tells which.
func (s *Stream) Next() bool {
	if s.err != nil || s.done || s.released {
		return false
	}
	for s.dec.Next() {
		s.events++
		ev := s.dec.Event()
		data := bytes.TrimSpace(ev.Data)
		if ev.Type == "error" {
			s.fail(s.eventError(data))
			return false
		}
		if string(data) == "[DONE]" {
			s.done = true
			s.release(true)
			return false
		}
		if len(data) == 0 {
			continue // an empty data event carries nothing
		}
		chunk, err := s.cd.decode(data)
		if err == errErrorObject {
			s.fail(s.eventError(data))
			return false
		}
		if err != nil {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner // drop the "kimi: decode stream chunk" prefix, said below
			}
			s.fail(fmt.Errorf("%w: decode stream chunk (event %d, status %d, request %s): %w",
				ErrBadResponse, s.events, s.resp.StatusCode, s.RequestID(), err))
			return false
		}
		s.acc.AddChunk(chunk)
		s.cur = chunk
		return true
	}
	err := s.dec.Err()
	switch {
	case errors.Is(err, sse.ErrTooLarge), corruptEncoding(err):
		s.fail(fmt.Errorf("%w: stream after %d events: %w", ErrBadResponse, s.events, err))
	case err != nil:
		s.fail(interrupted(fmt.Errorf("%w: after %d events: %w", ErrStreamIncomplete, s.events, err)))
	default:
		s.fail(fmt.Errorf("%w: connection closed after %d events", ErrStreamIncomplete, s.events))
	}
	return false
}

// Current returns the chunk read by the last successful Next. Each chunk
// is a fresh value that stays valid (and unchanged) after later calls.
func (s *Stream) Current() *ChatCompletionChunk { return s.cur }

// Err returns the error that ended the stream: nil after [DONE] or an
// early Close, an *Error for an in-stream error event, an error wrapping
// ErrStreamIncomplete when the stream ended without [DONE].
func (s *Stream) Err() error { return s.err }

// Close releases the connection. It is idempotent and does not read the
// rest of an unfinished stream: the connection is dropped instead, which
// is cheaper than draining a long answer nobody wants.
func (s *Stream) Close() error {
	s.release(false)
	return nil
}

// All adapts the stream to range-over-func. The stream is closed when the
// loop ends, early or not; a stream error is yielded last with a nil chunk.
func (s *Stream) All() iter.Seq2[*ChatCompletionChunk, error] {
	return func(yield func(*ChatCompletionChunk, error) bool) {
		defer s.Close()
		for s.Next() {
			if !yield(s.cur, nil) {
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
		}
	}
}

// Header returns the HTTP response header.
func (s *Stream) Header() http.Header { return s.resp.Header }

// RequestID returns the Msh-Request-Id response header (else
// X-Request-Id).
func (s *Stream) RequestID() string { return requestID(s.resp.Header) }

// CacheInfo reports context cache use from the response headers (see
// ChatCompletion.CacheInfo); the usage fallback counts the chunks read so
// far, so call it after the stream has ended for the final figure.
func (s *Stream) CacheInfo() CacheInfo {
	cached := 0
	if u := s.acc.totalUsage(); u != nil {
		cached = u.CachedTokens
	}
	return cacheInfo(s.resp.Header, cached)
}

// Completion returns the completion assembled from the chunks read so far
// (see Accumulator.Completion), with the response header.
func (s *Stream) Completion() *ChatCompletion {
	c := s.acc.Completion()
	c.Header = s.resp.Header
	return c
}

// Message returns choice 0's assistant message assembled so far, ready to
// append to the conversation history.
func (s *Stream) Message() Message { return s.acc.Message() }

func (s *Stream) fail(err error) {
	s.err = err
	s.release(false)
}

// release closes the body once. With drain set (after [DONE]) it first
// reads what is left so that the connection goes back to the pool, within
// a byte and a time budget; cancelling the context is what unblocks a
// server that keeps the connection open after [DONE].
func (s *Stream) release(drain bool) {
	if s.released {
		return
	}
	s.released = true
	if drain {
		t := time.AfterFunc(drainTimeout, s.cancel)
		io.CopyN(io.Discard, s.resp.Body, maxDrain)
		t.Stop()
	}
	s.resp.Body.Close()
	s.cancel()
	if s.slot != nil {
		s.slot()
	}
}

// eventError turns an in-stream error (an "error" event or a data object
// with an "error" member) into an *Error carrying the response status. The
// API key is redacted from it, as parseError does, in case the server
// echoes the Authorization header.
func (s *Stream) eventError(data []byte) error {
	data = redactKey(bytes.Clone(data), s.key.value())
	e := &Error{
		StatusCode: s.resp.StatusCode,
		Header:     s.resp.Header,
		RequestID:  s.RequestID(),
		Body:       data,
		Attempts:   s.attempts,
	}
	if decodeErrorBody(e, data) {
		return e
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > maxSnippet {
		msg = strings.ToValidUTF8(msg[:maxSnippet], "") + "…"
	}
	if msg == "" {
		msg = "error event in stream"
	}
	e.Message = msg
	return e
}
