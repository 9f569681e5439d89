package kimi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"
)

// RetryPolicy says how failed calls are retried. The client retries a 429
// (unless the account is out of quota), a 500, 502, 503 or 504, and a
// connection that failed before any response byte arrived (refused, reset,
// closed). It never retries other 4xx statuses, errors after the context is
// done, or a response that has started: a stream is retried only before its
// first byte.
//
// The wait before a retry is the server's hint (Retry-After or "try again
// after N seconds") when there is one, capped at MaxDelay. Otherwise it is
// exponential backoff with "equal jitter": d = BaseDelay·2^(retry−1), capped
// at MaxDelay, and the wait is uniformly drawn from [d/2, d], so waits keep
// a floor while concurrent clients spread out. After a 429 without a hint
// d starts at RateLimitDelay instead and the wait is drawn from
// [d, 1.5·d] (capped at MaxDelay): Moonshot asks clients to sleep about
// 3 s after a 429 and may penalise an earlier retry. If a wait would pass
// the context's deadline the error is returned at once.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt; 0
	// disables retries.
	MaxRetries int
	// BaseDelay is the first backoff step; 0 means 1 s.
	BaseDelay time.Duration
	// MaxDelay caps every wait, hints included; 0 means 30 s.
	MaxDelay time.Duration
	// RateLimitDelay is the first backoff step after a 429 that carries no
	// hint; 0 means 3 s.
	RateLimitDelay time.Duration
}

// DefaultRetryPolicy returns the policy used when Config.Retry is nil: two
// retries (three attempts, as the OpenAI SDKs do), backoff from 1 s, hints
// capped at 30 s, 3 s after a bare 429. Note that retries count against
// RPM limits. It is a function so that no caller can change the default
// of every other client.
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
// caller (streams) to read and close. A non-2xx status becomes an *Error
// and is returned together with the (closed) response. A transport
// failure is returned wrapped, with its *url.Error chain intact, and no
// response.
//
// A retried request gets its body from req.GetBody, which newRequest
// sets for JSON bodies; a streamed body without GetBody (an upload from a
// reader that cannot seek) is never retried: the first error is returned.
func (c *Client) do(req *http.Request, v any) (*http.Response, error) {
	ctx := req.Context()
	p := c.retry.withDefaults()
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			var err error
			if r, err = rewind(req); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		resp, err := c.hc.Load().Do(r)
		dur := time.Since(start)

		if err != nil {
			c.log.LogAttrs(ctx, slog.LevelDebug, "kimi request failed",
				slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
				slog.Duration("duration", dur), slog.Int("attempt", attempt), slog.String("error", err.Error()))
			if attempt <= p.MaxRetries && ctx.Err() == nil && retryableTransport(err) {
				if werr := c.wait(ctx, req, attempt, p.backoff(attempt, false), "connection failed: "+err.Error()); werr == nil {
					continue
				}
			}
			return nil, &transportError{attempts: attempt, err: err}
		}

		reqID := resp.Header.Get("Msh-Request-Id")
		c.log.LogAttrs(ctx, slog.LevelDebug, "kimi request",
			slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
			slog.Int("status", resp.StatusCode), slog.Duration("duration", dur),
			slog.String("request_id", reqID), slog.Int("attempt", attempt), slog.Int("max_retries", p.MaxRetries))

		if resp.StatusCode/100 == 2 {
			if v == nil {
				return resp, nil
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return resp, fmt.Errorf("kimi: read %s response (status %d, request %s): %w",
					req.URL.Path, resp.StatusCode, reqID, err)
			}
			if err := decodeJSON(body, v); err != nil {
				return resp, fmt.Errorf("%w: decode %s response (status %d, request %s, %d bytes): %w",
					ErrBadResponse, req.URL.Path, resp.StatusCode, reqID, len(body), err)
			}
			return resp, nil
		}

		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		apiErr := parseError(resp, body, c.key.v)
		apiErr.Attempts = attempt
		if attempt <= p.MaxRetries && ctx.Err() == nil && apiErr.Temporary() {
			d := apiErr.RetryAfter
			if d > 0 {
				d = min(d, p.MaxDelay)
			} else {
				d = p.backoff(attempt, resp.StatusCode == http.StatusTooManyRequests)
			}
			reason := fmt.Sprintf("status %d %s", resp.StatusCode, apiErr.Type)
			if c.wait(ctx, req, attempt, d, reason) == nil {
				continue
			}
		}
		return resp, apiErr
	}
}

// wait sleeps d before retry number attempt, unless the context ends first
// or would end before the wait is over (then the caller returns the error
// it has: waiting would be pointless).
func (c *Client) wait(ctx context.Context, req *http.Request, attempt int, d time.Duration, reason string) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.DeadlineExceeded
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return WithKind(errors.New("kimi: request body cannot be replayed"), ErrBadRequest)
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "kimi retrying",
		slog.String("method", req.Method), slog.String("url", logURL(req.URL)),
		slog.Int("attempt", attempt), slog.Int("next_attempt", attempt+1),
		slog.Duration("wait", d), slog.String("reason", reason))
	return c.sleep(ctx, d)
}

// rewind returns a copy of req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("kimi: replay request body: %w", err)
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
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// transportError is a request that got no response. It unwraps to the
// *url.Error from net/http, so errors.As(err, &netErr) and
// errors.Is(err, context.DeadlineExceeded) work. The URL in it never holds
// the key (the key travels only in a header).
type transportError struct {
	attempts int
	err      error
}

func (e *transportError) Error() string {
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
