package kimi

import (
	"context"
	"testing"
	"time"
)

// SetUploadLimit lowers the client's per-file upload limit (MaxFileBytes)
// so that tests can pass it without sending 100 MB.
func SetUploadLimit(c *Client, n int64) { c.maxUpload = n }

// SetContentLimit lowers the body limit of c's Files.Content and
// ExtractedText (MaxContentBytes) so that tests can pass it cheaply.
func SetContentLimit(c *Client, n int64) { contentLimits.Store(c, n) }

// FastRetry returns a copy of the test clients' retry policy
// (loopback_test.go), for the external tests' clients.
func FastRetry() *RetryPolicy {
	p := fastRetry
	return &p
}

// NewTestClient is testClient (loopback_test.go), for the external tests.
func NewTestClient(t testing.TB, baseURL string, mods ...func(*Config)) *Client {
	t.Helper()
	return testClient(t, baseURL, mods...)
}

// RoundTripFunc makes a function an http.RoundTripper.
type RoundTripFunc = roundTripFunc

// RecordWaits makes c record the waits it asks for (between attempts,
// between polls) instead of sleeping them, and returns the list so far.
func RecordWaits(c *Client) func() []time.Duration {
	w := &waits{}
	c.sleep = w.sleep
	return w.all
}

// RecordWaitsThen is RecordWaits that also calls f with each wait before
// it ends, so that a test can cancel the call's context during a wait.
func RecordWaitsThen(c *Client, f func(time.Duration)) func() []time.Duration {
	w := &waits{}
	c.sleep = func(ctx context.Context, d time.Duration) error {
		f(d)
		return w.sleep(ctx, d)
	}
	return w.all
}

// Reply is reply (loopback_test.go), for the external tests.
var Reply = reply
