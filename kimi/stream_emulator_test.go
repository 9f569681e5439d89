package kimi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// These tests run the stream against the emulator, whose faults are chosen
// per request with the X-Kimitest-Fault header.

// streamEmu streams a few sentences, with the emulator fault given ("":
// none).
func streamEmu(c *kimi.Client, fault string) (*kimi.Stream, error) {
	r := &kimi.ChatRequest{
		Model:         "kimi-k2-turbo-preview",
		Messages:      []kimi.Message{kimi.UserMessage("Write a few sentences about the sea.")},
		StreamOptions: &kimi.StreamOptions{IncludeUsage: true},
	}
	var opts []kimi.RequestOption
	if fault != "" {
		opts = append(opts, kimi.WithHeader(kimitest.FaultHeader, fault))
	}
	return c.Chat.Stream(context.Background(), r, opts...)
}

// drainEmu streams with fault, reads the stream to its end and returns it
// (closed with the test) with the number of chunks it delivered.
func drainEmu(t *testing.T, fault string) (*kimi.Stream, int) {
	t.Helper()
	c, _, _ := setup(t)
	s, err := streamEmu(c, fault)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, chunks := drain(t, s)
	return s, chunks
}

func TestEmulatorStreamComplete(t *testing.T) {
	c, _, _ := setup(t)
	s, err := streamEmu(c, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	content, chunks := drain(t, s)
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if chunks < 3 || content == "" {
		t.Fatalf("%d chunks, content %q", chunks, content)
	}
	comp := s.Completion()
	if comp.Text() != content || s.Message().Content != content || s.Message().Role != kimi.RoleAssistant {
		t.Errorf("assembled text differs from the deltas")
	}
	if len(comp.Choices) != 1 || comp.Choices[0].FinishReason == "" {
		t.Errorf("choices %+v", comp.Choices)
	}
	if u := comp.Usage; u == nil || u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %+v", comp.Usage)
	}
	if s.RequestID() == "" {
		t.Error("no request id")
	}
}

func TestEmulatorStreamFaults(t *testing.T) {
	for _, tc := range []struct {
		fault  string
		chunks int // chunks before the failure; -1: at least one
		usage  bool
	}{
		{"cut=3", 3, false},
		// Everything but [DONE] arrived, usage included.
		{"omit-done", -1, true},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			s, n := drainEmu(t, tc.fault)
			if !errors.Is(s.Err(), kimi.ErrStreamIncomplete) {
				t.Fatalf("Err = %v, want ErrStreamIncomplete", s.Err())
			}
			if (tc.chunks >= 0 && n != tc.chunks) || (tc.chunks < 0 && n == 0) {
				t.Errorf("%d chunks before the failure, want %d", n, tc.chunks)
			}
			if tc.usage && s.Completion().Usage == nil {
				t.Errorf("usage %+v", s.Completion().Usage)
			}
		})
	}
	t.Run("error-event", func(t *testing.T) {
		s, n := drainEmu(t, "cut=2;error-event")
		var apiErr *kimi.Error
		if !errors.As(s.Err(), &apiErr) {
			t.Fatalf("Err = %v, want *kimi.Error", s.Err())
		}
		if apiErr.StatusCode != http.StatusOK || apiErr.Type == "" || apiErr.Message == "" {
			t.Errorf("error %+v", apiErr)
		}
		if n != 2 {
			t.Errorf("%d chunks before the error, want 2", n)
		}
	})
	t.Run("status before stream", func(t *testing.T) {
		c, _, _ := setup(t)
		_, err := streamEmu(c, "status=429")
		mustStatus(t, err, http.StatusTooManyRequests)
	})
}

func TestEmulatorStreamEarlyClose(t *testing.T) {
	c, srv, _ := setup(t)
	// The snapshot is taken after the server started: its accept loop is
	// not ours. Connections and generation must be gone by the end.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	defer srv.Client().CloseIdleConnections()
	for range 3 {
		s, err := streamEmu(c, "")
		if err != nil {
			t.Fatal(err)
		}
		if !s.Next() {
			t.Fatal(s.Err())
		}
		s.Close()
		if s.Next() || s.Err() != nil {
			t.Fatalf("after Close: Err %v", s.Err())
		}
	}
}
