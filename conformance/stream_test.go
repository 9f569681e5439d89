package conformance

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimitest"
)

// The emulator is deterministic, so the concatenated deltas must equal the
// non-stream answer to the same request, and the usage must agree too.
func TestStreamMatchesNonStream(t *testing.T) {
	prompts := []struct{ name, prompt string }{
		{"plain", promptPlain},
		{"Chinese", promptChinese},
		{"scripted", "say " + scriptedMatch},
	}
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		for _, tc := range prompts {
			t.Run(tc.name, func(t *testing.T) {
				c, _ := e.connect(t, options{})
				req := chatRequest{model: modelChat, prompt: tc.prompt}
				full, err := c.Chat(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				req.includeUsage = true
				r := c.Stream(t.Context(), req)

				// [DONE] must end the stream without an error.
				if r.err != nil {
					t.Fatalf("stream ended with error: %v", r.err)
				}
				if r.chunks < 2 {
					t.Errorf("got %d chunks, want a real stream", r.chunks)
				}
				if r.text != full.content {
					t.Errorf("streamed text differs from non-stream answer\nstream: %q\nfull:   %q", r.text, full.content)
				}
				if r.finish != "stop" {
					t.Errorf("final finish_reason = %q, want stop", r.finish)
				}
				if r.accumulated != nil && *r.accumulated != r.text {
					t.Errorf("accumulator content %q != concatenated deltas %q", *r.accumulated, r.text)
				}
				// The include_usage trailer (choices: []) is surfaced as usage.
				if r.trailer == nil {
					t.Fatal("no usage surfaced from the include_usage trailer")
				}
				if u := *r.trailer; u.total == 0 || u.total != u.prompt+u.completion ||
					u.prompt != full.usage.prompt || u.completion != full.usage.completion {
					t.Errorf("trailer usage %+v, non-stream usage %+v", u, full.usage)
				}
				// Kimi also puts the usage inside the final choice, even
				// without include_usage; the OpenAI schema has no field for it.
				switch {
				case p.Expect().choiceUsage && r.choiceUsage == "":
					t.Error("final choice carries no usage (Kimi puts it there even without include_usage)")
				case p.Expect().choiceUsage && !sameJSON(t, r.choiceUsage, r.trailerRaw):
					t.Errorf("per-choice usage %s differs from trailer usage %s", r.choiceUsage, r.trailerRaw)
				case !p.Expect().choiceUsage && r.choiceUsage != "":
					t.Errorf("observed behaviour changed: per-choice usage %s now reaches the caller", r.choiceUsage)
				}
			})
		}
	})
}

// Streamed tool-call fragments, assembled the way the peer's documentation
// says, give the exact scripted arguments.
func TestStreamingToolCalls(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		c, _ := setup(t, p).connect(t, options{})
		r := c.Stream(t.Context(), chatRequest{model: modelChat, prompt: "Weather please. " + toolMatch, tools: true})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.finish != "tool_calls" {
			t.Errorf("finish_reason = %q, want tool_calls", r.finish)
		}
		if len(r.calls) != 1 || r.calls[0].index != 0 {
			t.Fatalf("accumulated tool calls %+v, want exactly index 0", r.calls)
		}
		call := r.calls[0]
		if call.id == "" || call.name != toolName {
			t.Errorf("accumulated tool call id=%q name=%q", call.id, call.name)
		}
		requireJSONObject(t, "accumulated arguments", call.arguments)
		if !sameJSON(t, call.arguments, toolArgs) {
			t.Errorf("accumulated arguments = %s, want %s", call.arguments, toolArgs)
		}
	})
}

// Truncated streams (X-Kimitest-Fault). Only `data: [DONE]` signals
// completion; these scenarios pin down what each peer actually does with
// a stream that lacks it, is cut, or carries an error event.
func TestTruncatedStream(t *testing.T) {
	req := chatRequest{model: modelChat, prompt: promptPlain}
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		plain, _ := e.connect(t, options{})
		full, err := plain.Chat(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		want := full.content
		stream := func(t *testing.T, fault string) streamResult {
			c, _ := e.connect(t, options{noRetries: true, header: http.Header{kimitest.FaultHeader: {fault}}})
			return c.Stream(t.Context(), req)
		}

		t.Run("omit-done", func(t *testing.T) {
			requireNoDone(t, e.srv, req)
			r := stream(t, "omit-done")
			// A body that ends cleanly without [DONE] looks like a normal
			// end, so a caller cannot tell.
			if p.Expect().acceptsMissingDone && r.err != nil {
				t.Errorf("observed behaviour changed: the peer now reports a missing [DONE]: %v", r.err)
			}
			if !p.Expect().acceptsMissingDone && r.err == nil {
				t.Error("a missing [DONE] went unreported")
			}
			if r.text != want || r.finish != "stop" {
				t.Errorf("text = %q finish=%q, want the full answer %q and stop (only [DONE] was omitted)", r.text, r.finish, want)
			}
		})

		t.Run("cut=3", func(t *testing.T) {
			r := stream(t, "cut=3")
			// The emulator aborts the chunked body, so net/http reports
			// io.ErrUnexpectedEOF and the peer passes it on: a
			// transport-level cut is NOT silent. Only omit-done is.
			if !errors.Is(r.err, io.ErrUnexpectedEOF) {
				t.Errorf("err = %v, want io.ErrUnexpectedEOF", r.err)
			}
			if r.chunks != 3 || r.finish != "" {
				t.Errorf("got %d chunks, finish_reason %q; want 3 chunks and no finish", r.chunks, r.finish)
			}
			if !strings.HasPrefix(want, r.text) || r.text == want {
				t.Errorf("cut text %q is not a strict prefix of the full answer %q", r.text, want)
			}
		})

		t.Run("error-event", func(t *testing.T) {
			r := stream(t, "error-event;cut=2")
			// No HTTP status: the stream itself was a 200.
			if got := p.Classify(r.err); got.kind != p.Expect().errorEvent || got.message == "" || got.status != 0 {
				t.Fatalf("err = %T %v (%s, status %d), want a %s with a message and no HTTP status",
					r.err, r.err, got.kind, got.status, p.Expect().errorEvent)
			}
			if r.chunks != 2 {
				t.Errorf("got %d chunks before the error event, want 2", r.chunks)
			}
		})
	})
}

// Errors before a stream starts are plain JSON responses, not SSE, and
// must surface as the peer's API error with the Kimi message.
func TestStreamErrorBeforeStart(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p)
		req := chatRequest{model: modelChat, prompt: "hi"}
		want := rawChatError(t, e.srv, "sk-wrong", req)
		c, _ := e.connect(t, options{key: "sk-wrong", noRetries: true})
		r := c.Stream(t.Context(), req)
		got := p.Classify(r.err)
		if got.kind != errAPI || got.status != http.StatusUnauthorized || got.message == "" || got.message != want.Message || r.chunks != 0 {
			t.Errorf("got %s %d %q after %d chunks, want API error 401 %q and no chunks", got.kind, got.status, got.message, r.chunks, want.Message)
		}
		if r.errAtOpen != p.Expect().streamErrAtOpen {
			t.Errorf("observed behaviour changed: error returned when opening the stream = %v, want %v", r.errAtOpen, p.Expect().streamErrAtOpen)
		}
	})
}
