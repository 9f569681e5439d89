package kimi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// TestBadResponse: a 2xx body that cannot be decoded, from Create and in a
// stream, wraps ErrBadResponse and says where it came from.
func TestBadResponse(t *testing.T) {
	t.Run("Create", func(t *testing.T) {
		c, srv, rec := setup(t)
		req := userRequest("moonshot-v1-8k", "hi")
		_, err := c.Chat.Create(context.Background(), req, kimi.WithHeader(kimitest.FaultHeader, "malformed"))
		if !errors.Is(err, kimi.ErrBadResponse) {
			t.Fatalf("err = %v, want ErrBadResponse", err)
		}
		var apiErr *kimi.Error
		if errors.As(err, &apiErr) {
			t.Errorf("a malformed 2xx body became an *Error: %v", err)
		}
		msg := err.Error()
		t.Log(msg)
		for _, want := range []string{"malformed response", "/v1/chat/completions", "status 200", "request "} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		if strings.Contains(msg, srv.Key) {
			t.Errorf("message %q holds the key", msg)
		}
		if rec.n() != 1 {
			t.Errorf("requests = %d: a malformed 2xx body was retried", rec.n())
		}
	})
	t.Run("Stream", func(t *testing.T) {
		s, _ := drainEmu(t, "malformed")
		err := s.Err()
		if !errors.Is(err, kimi.ErrBadResponse) {
			t.Fatalf("Err = %v, want ErrBadResponse", err)
		}
		msg := err.Error()
		t.Log(msg)
		for _, want := range []string{"malformed response", "stream chunk", "event 1", "status 200", "request " + s.RequestID()} {
			if !strings.Contains(msg, want) {
				t.Errorf("message %q lacks %q", msg, want)
			}
		}
		if strings.Count(msg, "kimi:") != 1 {
			t.Errorf("message %q repeats the package prefix", msg)
		}
	})
}

// TestStreamRetriesBeforeFirstByte: Chat.Stream retries a 503 that comes
// before the stream starts, and gives up after MaxRetries.
func TestStreamRetriesBeforeFirstByte(t *testing.T) {
	fault := func(times int) kimitest.Option {
		return kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Times: times, Status: http.StatusServiceUnavailable})
	}
	t.Run("recovers", func(t *testing.T) {
		c, _, rec := setup(t, fault(1))
		s, err := c.Chat.Stream(context.Background(), userRequest("moonshot-v1-128k", "Tell me about the sea."))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if content, _ := drain(t, s); s.Err() != nil || content == "" {
			t.Fatalf("content %q, err %v", content, s.Err())
		}
		if rec.n() != 2 {
			t.Errorf("requests = %d, want 2", rec.n())
		}
	})
	t.Run("gives up", func(t *testing.T) {
		c, _, rec := setup(t, fault(5))
		s, err := c.Chat.Stream(context.Background(), userRequest("moonshot-v1-128k", "Tell me about the sea."))
		if s != nil {
			s.Close()
			t.Fatal("Stream returned a stream")
		}
		if e := mustStatus(t, err, http.StatusServiceUnavailable); e.Attempts != 3 {
			t.Fatalf("err = %v, want a 503 *Error after 3 attempts", err)
		}
		if rec.n() != 3 {
			t.Errorf("requests = %d, want 3", rec.n())
		}
	})
}

// TestStreamErrorRedactsKey: a server that echoes the Authorization header
// in an in-stream error must not put the key into the *Error.
func TestStreamErrorRedactsKey(t *testing.T) {
	tests := []struct{ name, event string }{
		{"error object", `data: {"error":{"type":"server_error","message":"bad header: AUTH"}}`},
		{"error event envelope", "event: error\ndata: {\"error\":{\"type\":\"server_error\",\"message\":\"bad header: AUTH\"}}"},
		{"error event flat", "event: error\ndata: {\"type\":\"server_error\",\"message\":\"bad header: AUTH\"}"},
		{"error event text", "event: error\ndata: bad header: AUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, srv := openStream(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, events(standard[0]))
				io.WriteString(w, strings.ReplaceAll(tt.event, "AUTH", r.Header.Get("Authorization"))+"\n\n")
			})
			drain(t, s)
			r, _ := srv.Last()
			key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || key == "" {
				t.Fatalf("Authorization %q", r.Header.Get("Authorization"))
			}
			var apiErr *kimi.Error
			if !errors.As(s.Err(), &apiErr) {
				t.Fatalf("Err = %v, want *kimi.Error", s.Err())
			}
			for what, text := range map[string]string{"Error()": apiErr.Error(), "Message": apiErr.Message, "Body": string(apiErr.Body)} {
				if strings.Contains(text, key) {
					t.Errorf("%s holds the key: %q", what, text)
				}
				if !strings.Contains(text, "Bearer [REDACTED]") {
					t.Errorf("%s = %q, want the echoed header redacted", what, text)
				}
			}
		})
	}
}
