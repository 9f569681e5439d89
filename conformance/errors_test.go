package conformance

import (
	"cmp"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimitest"
)

// Each error is first fetched raw (no peer) to check the status and a
// documented Kimi error type; the peer must then surface the same status,
// type and message, in one HTTP attempt.
func TestErrors(t *testing.T) {
	cases := []struct {
		name    string
		key     string // "" means the server's own
		req     chatRequest
		status  int
		mention string // a word the message must contain
	}{
		{"wrong key", "sk-wrong", chatRequest{model: modelChat, prompt: "hi"}, 401, ""},
		{"unknown model", "", chatRequest{model: "no-such-model", prompt: "hi"}, 404, ""},
		{"temperature out of range", "", chatRequest{model: modelChat, prompt: "hi", temperature: 1.5}, 400, "temperature"},
	}
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				want := rawChatError(t, e.srv, cmp.Or(tc.key, e.srv.Key), tc.req)
				if want.Status != tc.status {
					t.Fatalf("emulator itself answered %d, want %d", want.Status, tc.status)
				}
				checkDocumentedType(t, tc.status, want.Type)

				// Retries off so a mis-classified status would not hide behind a retry.
				c, ct := e.connect(t, options{key: tc.key, noRetries: true})
				_, err := c.Chat(t.Context(), tc.req)
				got := p.Classify(err)
				if got.kind != errAPI {
					t.Fatalf("the peer did not parse the Kimi envelope: %s: %v", got.kind, err)
				}
				if got.status != tc.status || got.typ != want.Type || got.message != want.Message {
					t.Errorf("peer surfaced %d %q %q, emulator sent %d %q %q",
						got.status, got.typ, got.message, want.Status, want.Type, want.Message)
				}
				if !strings.Contains(got.message, tc.mention) {
					t.Errorf("message %q does not mention %q", got.message, tc.mention)
				}
				if n := ct.attempts(); n != 1 {
					t.Errorf("%d HTTP attempts, want 1", n)
				}
			})
		}
	})
}

func TestRateLimit(t *testing.T) {
	const key = "sk-conformance-rpm1"
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p, kimitest.WithAccount(kimitest.Account{
			Key: key, OrgID: "org-conformance", Limits: kimitest.Limits{RPM: 1},
		}))
		c, ct := e.connect(t, options{key: key, noRetries: true})
		if _, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: "first"}); err != nil {
			t.Fatalf("first request within RPM 1 failed: %v", err)
		}
		_, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: "second"})
		got := p.Classify(err)
		if got.kind != errAPI || got.status != http.StatusTooManyRequests || got.typ != "rate_limit_reached_error" {
			t.Fatalf("got %s %d %q %q, want API error 429 rate_limit_reached_error", got.kind, got.status, got.typ, got.message)
		}
		if !strings.Contains(got.message, "RPM") {
			t.Errorf("429 message %q does not say which limit (RPM) was hit", got.message)
		}
		if n := ct.attempts(); n != 2 {
			t.Errorf("%d HTTP attempts, want 2 (the 429 must not be retried)", n)
		}
	})
}

// A 503 injected by the per-request header, with the peer's retries off.
func TestInjected503(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		c, ct := setup(t, p).connect(t, options{noRetries: true, header: http.Header{kimitest.FaultHeader: {"status=503;times=1"}}})
		_, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: "hi"})
		if got := p.Classify(err); got.kind != errAPI || got.status != http.StatusServiceUnavailable {
			t.Errorf("got %s %d (%v), want API error 503", got.kind, got.status, err)
		}
		if n := ct.attempts(); n != 1 {
			t.Errorf("%d HTTP attempts, want 1", n)
		}
	})
}

// One transient failure with the peer's default options: a peer that
// retries hides it, one that does not hands it to the caller. The header
// fault ignores times=, so "fail once" is a configured kimitest.Fault.
func TestDefaultRetries(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		retries := p.Expect().retriesByDefault

		t.Run("503 once", func(t *testing.T) {
			e := setup(t, p, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Times: 1, Status: 503}))
			c, ct := e.connect(t, options{})
			got, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: promptPlain})
			switch n := ct.attempts(); {
			case retries && err != nil:
				t.Fatalf("the peer did not recover from a single 503: %v", err)
			case retries && (got.content == "" || n != 2):
				t.Errorf("content %q after %d HTTP attempts, want an answer after 2 (one 503, one retry)", got.content, n)
			case !retries && (p.Classify(err).status != http.StatusServiceUnavailable || n != 1):
				t.Errorf("got %v after %d HTTP attempts, want the 503 after 1 (no retry)", err, n)
			}
			if _, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: promptPlain}); err != nil {
				t.Errorf("next call after the Times:1 fault: %v", err)
			}
		})

		// A reset before any response byte is a transport error. Each
		// scenario has its own server, so the reset hits a new connection
		// and net/http's own reused-connection retry cannot mask it.
		t.Run("connection reset", func(t *testing.T) {
			e := setup(t, p, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Times: 1, ResetBeforeHeaders: true}))
			c, ct := e.connect(t, options{})
			_, err := c.Chat(t.Context(), chatRequest{model: modelChat, prompt: "hi"})
			switch n := ct.attempts(); {
			case retries && (err != nil || n != 2):
				t.Errorf("got %v after %d HTTP attempts, want recovery after 2", err, n)
			case !retries && (p.Classify(err).kind != errTransport || n != 1):
				t.Errorf("got %T %v after %d HTTP attempts, want a transport error after 1", err, err, n)
			}
		})
	})
}

// Kimi has no embeddings endpoint, so this reaches the gateway's non-OpenAI
// 404 envelope {"code":5,"error":"url.not_found",...}; what each peer
// makes of it is recorded in behaviour.gateway404.
func TestUnknownRoute(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		status, body := rawPost(t, e.srv, e.srv.Key, "/embeddings", map[string]any{"model": "moonshot-v1-8k", "input": "hi"}, nil)
		if status != http.StatusNotFound || !isGatewayNotFound(body) {
			t.Fatalf("emulator answered %d %s, want 404 with the gateway url.not_found envelope", status, body)
		}

		c, ct := e.connect(t, options{noRetries: true})
		err := c.Embed(t.Context())
		want := p.Expect()
		got := p.Classify(err)
		if got.kind != want.gateway404 || got.status != want.gatewayStatus {
			t.Errorf("observed behaviour changed: the gateway 404 now surfaces as %s with status %d (%T %v), want %s with status %d",
				got.kind, got.status, err, err, want.gateway404, want.gatewayStatus)
		}
		if got.status != 0 && !isGatewayNotFound(got.body) {
			t.Errorf("the peer kept the status but not the gateway body: %q", got.body)
		}
		if n := ct.attempts(); n != 1 {
			t.Errorf("%d HTTP attempts, want 1", n)
		}
	})
}

// isGatewayNotFound reports whether body is the gateway's url.not_found
// envelope, whose "error" is a string rather than an object.
func isGatewayNotFound(body []byte) bool {
	var gw struct {
		Code  int    `json:"code"`
		Error string `json:"error"`
	}
	return json.Unmarshal(body, &gw) == nil && gw.Code == 5 && gw.Error == "url.not_found"
}
