package kimitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/internal/measure"
)

// smallChatBody is the small non-stream chat request of the per-request
// cost benchmark and the retained-memory test: one short user message.
const smallChatBody = `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"Say hello in one short sentence."}]}`

// benchEmulator is an emulator whose account can afford any number of
// small requests, so that none is refused for want of balance.
func benchEmulator(tb testing.TB, opts ...Option) *Emulator {
	tb.Helper()
	e := New(append([]Option{WithAccount(Account{Key: DefaultKey, Balance: 1e12})}, opts...)...)
	tb.Cleanup(func() { e.Close() })
	return e
}

// newChatHTTPRequest is a chat completion request of the default account with
// body, for calling the handler directly.
func newChatHTTPRequest(tb testing.TB, body io.Reader) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://kimitest/v1/chat/completions", body)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+DefaultKey)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// serveSmallChat sends one small chat request straight to the handler, no
// network, and fails unless it is answered with 200.
func serveSmallChat(tb testing.TB, e *Emulator) {
	// http.NewRequest, not httptest.NewRequest: the latter parses a
	// request line, which is not the emulator's cost.
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, newChatHTTPRequest(tb, strings.NewReader(smallChatBody)))
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkChatNonStream measures the emulator's own cost of one small
// non-stream chat completion, in-process over the handler, without rate
// limits (the default) and with limits that never refuse (so that the
// limiter's bookkeeping is measured). cpu-ns/op is the process's CPU time
// (all threads, garbage collection included) per request, the figure that
// bounds a load-test target's throughput.
func BenchmarkChatNonStream(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"limits=none", nil},
		{"limits=tpm+tpd", []Option{WithLimits(hugeLimits)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := benchEmulator(b, bc.opts...)
			b.ReportAllocs()
			cpu0, ok := measure.CPU()
			for b.Loop() {
				serveSmallChat(b, e)
			}
			if cpu1, ok1 := measure.CPU(); ok && ok1 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// hugeLimits sets token windows no test reaches, so that every request is
// tracked by the limiter and none is refused.
var hugeLimits = Limits{TPM: 1 << 50, TPD: 1 << 50}
