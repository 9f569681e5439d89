package kimi

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"syscall"
	"time"
)

// RetryPolicy says how failed calls are retried. The client retries a 429
// (unless the account is out of quota), a 500, 502, 503 or 504, an error
// object in a 2xx body whose type is a rate limit, an overload or a
// server error, and a connection that failed before any response byte
// arrived (refused, reset, closed). It never retries other 4xx statuses,
// errors after the context is done, or a response that has started: a
// stream is retried only before its first event (a stream request
// answered with an error envelope instead of events is retried as that
// error would be).
//
// The wait before a retry is the server's hint (Retry-After or "try again
// after N seconds") when there is one, in full: Moonshot may penalise a
// retry that comes early, so a hint is never shortened. A hint longer
// than MaxDelay is not waited at all: the error is returned at once, its
// RetryAfter set, for the caller to decide. Without a hint the wait is
// exponential backoff with "equal jitter": d = BaseDelay·2^(retry−1),
// capped at MaxDelay, and the wait is uniformly drawn from [d/2, d], so
// waits keep a floor while concurrent clients spread out. After a 429
// without a hint d starts at RateLimitDelay instead and the wait is drawn
// from [d, 1.5·d] (capped at MaxDelay): Moonshot asks clients to sleep
// about 3 s after a 429. If a wait would pass the context's deadline the
// error is returned at once (the server's error, not a timeout: the
// deadline has not passed). If the context ends during a wait, the error
// matches the context's error (context.Canceled or
// context.DeadlineExceeded, kinds ErrConnection or ErrTimeout) and its
// text gives the failed attempt's error.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0
	// disables retries.
	MaxRetries int
	// BaseDelay is the first backoff step; 0 means 1 s.
	BaseDelay time.Duration
	// MaxDelay caps backoff waits; a server hint longer than it is not
	// waited (the error is returned at once). 0 means 30 s.
	MaxDelay time.Duration
	// RateLimitDelay is the first backoff step after a 429 that carries no
	// hint; 0 means 3 s.
	RateLimitDelay time.Duration
}

// DefaultRetryPolicy returns the policy used when Config.Retry is nil: two
// retries (three attempts, as the OpenAI SDKs do), backoff from 1 s, hints
// of up to 30 s waited (longer ones returned), 3 s after a bare 429. Note
// that retries count against RPM limits. It is a function so that no
// caller can change the default of every other client.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:     2,
		BaseDelay:      time.Second,
		MaxDelay:       30 * time.Second,
		RateLimitDelay: 3 * time.Second,
	}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.RateLimitDelay <= 0 {
		p.RateLimitDelay = 3 * time.Second
	}
	return p
}

// backoff is the wait before retry number n (1-based) when the server gave
// no hint.
func (p RetryPolicy) backoff(n int, rateLimited bool) time.Duration {
	d := p.BaseDelay
	if rateLimited {
		d = p.RateLimitDelay
	}
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	if d <= 1 {
		return d
	}
	if rateLimited {
		// Keep RateLimitDelay as a floor: Moonshot asks for it.
		return min(d+rand.N(d/2+1), p.MaxDelay)
	}
	return d/2 + rand.N(d/2+1)
}

// do sends req, retrying per the policy, and on a 2xx decodes the JSON
// body into v. With v == nil the open 2xx response is returned for the
// caller (a file's content) to read and close; a bodyOpener v (a stream)
// is handed the open 2xx response instead. A non-2xx status, or a 2xx
// whose body is an error envelope (see responseError), becomes an *Error
// and is returned together with the (closed) response. A transport
// failure is returned wrapped, with its *url.Error chain intact, and no
// response. Credentials are redacted from the response header before
// anything sees it (see redactHeader).
//
// A retried request gets its body from req.GetBody, which newRequest
// sets for JSON bodies; a streamed body without GetBody (an upload from a
// reader that cannot seek) is never retried: the first error is returned.
func (c *Client) do(req *http.Request, v any) (*http.Response, error) {
	resp, _, err := c.send(req, v)
	return resp, err
}

// A bodyOpener is a decode target that reads its 2xx body as it arrives
// (a stream) instead of having send decode it whole. open takes the open
// response; when the body turns out to be a JSON document instead (a
// gateway's error envelope, or a proxy that ignored "stream": true) it
// reads and closes it and returns it with isDoc set, for send to judge
// like any other body: an error envelope is then retried as its status
// would be. An error from open (a body that is neither) is returned as
// it is, never retried.
type bodyOpener interface {
	open(resp *http.Response) (doc []byte, isDoc bool, err error)
}

// send is do, also returning how many requests were sent.
func (c *Client) send(req *http.Request, v any) (*http.Response, int, error) {
	ctx := req.Context()
	p := c.retry.withDefaults()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, attempt - 1, err
			}
		}
		release, err := admit(ctx)
		if err != nil {
			return nil, attempt - 1, err
		}
		start := time.Now()
		resp, err := c.hc.Load().Do(r)
		dur := time.Since(start)
		if _, stream := v.(slotHolder); err != nil || !stream || resp.StatusCode/100 != 2 {
			release() // only a stream holds its slot past the response
			release = func() {}
		}

		if err != nil {
			observe(ctx, nil, err)
			var re *redirectError
			if errors.As(err, &re) {
				// The *url.Error would name the target with its query.
				err = re
			}
			c.log.LogAttrs(ctx, slog.LevelDebug, "kimi request failed",
				slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
				slog.Duration("duration", dur), slog.Int("attempt", attempt), slog.String("error", err.Error()))
			terr := &transportError{attempts: attempt, err: err}
			if attempt <= p.MaxRetries && ctx.Err() == nil && retryableTransport(err) {
				switch werr := c.wait(ctx, req, attempt, p.backoff(attempt, false), terr, "connection failed: "+err.Error()); werr {
				case nil:
					continue
				case errNoRetry:
				default:
					return nil, attempt, werr
				}
			}
			return nil, attempt, terr
		}
		resp.Header = redactHeader(resp.Header, c.key.value())

		reqID := requestID(resp.Header)
		c.log.LogAttrs(ctx, slog.LevelDebug, "kimi request",
			slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
			slog.Int("status", resp.StatusCode), slog.Duration("duration", dur),
			slog.String("request_id", reqID), slog.Int("attempt", attempt), slog.Int("max_retries", p.MaxRetries))

		var body []byte
		opener, opens := v.(bodyOpener)
		switch {
		case resp.StatusCode/100 != 2:
			body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			resp.Body.Close()
		case v == nil:
			// A file's content: the body is the file's own bytes, which
			// may be any JSON, and is streamed to the caller unread.
			return resp, attempt, nil
		case opens:
			doc, isDoc, err := opener.open(resp)
			if err == nil && !isDoc {
				observe(ctx, resp.Header, nil)
				if h, ok := v.(slotHolder); ok {
					h.holdSlot(release)
				}
				return resp, attempt, nil
			}
			release()
			if err != nil {
				observe(ctx, resp.Header, err)
				return resp, attempt, err
			}
			body = doc
		default:
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return resp, attempt, readError(fmt.Sprintf("read %s response (status %d, request %s)",
					req.URL.Path, resp.StatusCode, reqID), err)
			}
		}
		apiErr := responseError(resp, body, c.key.value())
		if apiErr != nil {
			observe(ctx, resp.Header, apiErr)
		} else {
			observe(ctx, resp.Header, nil)
		}
		if apiErr == nil {
			if opens {
				// A JSON document that is not an error envelope: the
				// opener knows it met one and reports it.
				return resp, attempt, nil
			}
			if err := decodeJSON(body, v); err != nil {
				return resp, attempt, fmt.Errorf("%w: decode %s response (status %d, request %s, %d bytes): %w",
					ErrBadResponse, req.URL.Path, resp.StatusCode, reqID, len(body), err)
			}
			return resp, attempt, nil
		}
		apiErr.Attempts = attempt
		if attempt <= p.MaxRetries && ctx.Err() == nil && apiErr.Temporary() {
			// Only a server hint can exceed MaxDelay. Retrying before it
			// is over may be penalised, so such an error is returned at
			// once, RetryAfter set, for the caller to decide.
			d := apiErr.RetryAfter
			if d == 0 {
				d = p.backoff(attempt, slices.Contains(apiErr.Kinds(), ErrRateLimit))
			}
			if d <= p.MaxDelay {
				reason := fmt.Sprintf("status %d %s", resp.StatusCode, apiErr.Type)
				switch werr := c.wait(ctx, req, attempt, d, apiErr, reason); werr {
				case nil:
					continue
				case errNoRetry:
				default:
					return resp, attempt, werr
				}
			}
		}
		return resp, attempt, apiErr
	}
}

// errNoRetry is wait's answer when it did not wait: the caller returns the
// error it has.
var errNoRetry = errors.New("kimi: not retried")

// wait sleeps d before retry number attempt. It returns errNoRetry at once
// when the context's deadline would end before the wait does (the retry
// could not happen, and the server's error says more than an early
// timeout) or when the body cannot be replayed. When the context ends
// during the wait it returns an error matching the context's error (the
// caller who cancelled must see the cancellation), whose text also gives
// last, the error of the attempt that was to be retried.
func (c *Client) wait(ctx context.Context, req *http.Request, attempt int, d time.Duration, last error, reason string) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return errNoRetry
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return errNoRetry
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "kimi retrying",
		slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
		slog.Int("attempt", attempt), slog.Int("next_attempt", attempt+1),
		slog.Duration("wait", d), slog.String("reason", reason))
	err := c.sleep(ctx, d)
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		err = cerr
	}
	return &transportError{attempts: attempt, err: err, last: last}
}

// readError classifies a failure to read a 2xx body: a body that does not
// decompress is the server's garbage (ErrBadResponse), anything else a
// cut connection.
func readError(what string, err error) error {
	if corruptEncoding(err) {
		return fmt.Errorf("%w: %s: %w", ErrBadResponse, what, err)
	}
	return interrupted(fmt.Errorf("kimi: %s: %w", what, err))
}

// corruptEncoding reports whether err comes from decompressing a body that
// is not valid gzip (the transport decodes Content-Encoding: gzip).
func corruptEncoding(err error) bool {
	var ce flate.CorruptInputError
	return errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &ce)
}

// rewind returns a copy of req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, WithKind(fmt.Errorf("kimi: replay request body: %w", err), ErrBadRequest)
		}
		r.Body = body
	}
	return r, nil
}

// retryableTransport reports whether err, returned by http.Client.Do,
// means the connection failed before a response arrived in a way worth
// repeating: refused or failed dials, resets, and the server closing the
// connection. Certificate errors, bad proxies' replies, cancellations and
// timeouts waiting for headers are not retried (the server may still be
// working on the request).
func retryableTransport(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	// net.ErrClosed: the server reset the connection while the body was
	// still being written (an upload), so the write found it closed.
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// transportError is a request that got no response. It unwraps to the
// *url.Error from net/http, so errors.As(err, &netErr) and
// errors.Is(err, context.DeadlineExceeded) work. The URL in it never holds
// the key (the key travels only in a header).
type transportError struct {
	attempts int
	err      error
	// last is the error of the attempt a cancelled retry wait was for; it
	// is told in the text but not unwrapped, so that the error matches
	// the context's end and not, say, a rate limit.
	last error
}

func (e *transportError) Error() string {
	if e.last != nil {
		return fmt.Sprintf("kimi: %v while waiting to retry (attempt %d failed: %v)", e.err, e.attempts, e.last)
	}
	if e.attempts == 0 {
		// interrupted: the wrapped error already says where it happened.
		return e.err.Error()
	}
	if e.attempts > 1 {
		return fmt.Sprintf("kimi: %v (after %d attempts)", e.err, e.attempts)
	}
	return "kimi: " + e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// Attempts is how many requests were sent, retries included.
func (e *transportError) Attempts() int { return e.attempts }
