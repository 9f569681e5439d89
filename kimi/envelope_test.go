package kimi_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// envelopeCalls are the calls a 2xx error envelope is tried against: the
// decoded ones, the stream, and the two whose bodies carry the gateway's
// code/status siblings.
var envelopeCalls = []struct {
	name string
	run  func(ctx context.Context, c *kimi.Client) error
}{
	{"Chat.Create", func(ctx context.Context, c *kimi.Client) error {
		_, err := c.Chat.Create(ctx, newReq())
		return err
	}},
	{"Chat.Stream", func(ctx context.Context, c *kimi.Client) error {
		s, err := c.Chat.Stream(ctx, newReq())
		if s != nil {
			s.Close()
		}
		return err
	}},
	{"Models.List", func(ctx context.Context, c *kimi.Client) error {
		_, err := c.Models.List(ctx)
		return err
	}},
	{"Tokenizers.Estimate", func(ctx context.Context, c *kimi.Client) error {
		_, err := c.Tokenizers.Estimate(ctx, "moonshot-v1-8k", []kimi.Message{kimi.UserMessage("hi")})
		return err
	}},
	{"Users.Balance", func(ctx context.Context, c *kimi.Client) error {
		_, err := c.Users.Balance(ctx)
		return err
	}},
}

// TestEnvelopeIn2xxIsTheStatusError: a 2xx whose body is an error
// envelope is the same error as that body with the status it stands for,
// for every call, the stream included: the same type, code, message and
// kinds, and the same retries. Its StatusCode is the body's "status" if
// it has one, else the 2xx status.
func TestEnvelopeIn2xxIsTheStatusError(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int // the status the envelope stands for
		hits   int // requests sent under the fast retry policy (3 attempts)
		inBody bool
	}{
		{"rate limit", kimiErrBody("rate_limit_reached_error", "Your account reached max RPM: 3"), 429, 3, false},
		{"engine overloaded", kimiErrBody("engine_overloaded_error", "The engine is currently overloaded"), 429, 3, false},
		{"quota", kimiErrBody("exceeded_current_quota_error", "Your account is suspended"), 429, 1, false},
		{"authentication", kimiErrBody("invalid_authentication_error", "Invalid Authentication"), 401, 1, false},
		{"server error with a status", `{"error":{"type":"server_error","message":"upstream failed"},"status":503}`, 503, 3, true},
		// The gateway's string code is Kimi's type when it ends in _error.
		{"gateway code naming a type", `{"code":1,"error":"rate_limit_reached_error","message":"slow down"}`, 429, 3, false},
	}
	for _, tt := range tests {
		for _, call := range envelopeCalls {
			cts := []string{"application/json; charset=utf-8"}
			if call.name == "Chat.Stream" {
				// Gateways send the envelope as an event stream, too.
				cts = append(cts, "text/event-stream")
			}
			for _, ct := range cts {
				t.Run(tt.name+"/"+call.name+"/"+ct, func(t *testing.T) {
					ctx := testCtx(t)
					viaStatus, statusSrv := loopback(t, kimi.Reply(tt.status, tt.body))
					want := call.run(ctx, viaStatus)
					via2xx, okSrv := loopback(t, kimi.Reply(http.StatusOK, tt.body, "Content-Type", ct))
					got := call.run(ctx, via2xx)

					var g, w *kimi.Error
					if !errors.As(got, &g) || !errors.As(want, &w) {
						t.Fatalf("200: %v; %d: %v; want two *kimi.Error", got, tt.status, want)
					}
					wantStatus := http.StatusOK
					if tt.inBody {
						wantStatus = tt.status
					}
					if g.StatusCode != wantStatus {
						t.Errorf("StatusCode = %d, want %d", g.StatusCode, wantStatus)
					}
					if g.Type != w.Type || g.Code != w.Code || g.Message != w.Message || g.Temporary() != w.Temporary() {
						t.Errorf("200 reads as type %q code %q message %q temporary %t;\n%d reads as %q %q %q %t",
							g.Type, g.Code, g.Message, g.Temporary(), tt.status, w.Type, w.Code, w.Message, w.Temporary())
					}
					if !slices.Equal(kimi.Kinds(got), kimi.Kinds(want)) {
						t.Errorf("kinds %v, want those of the %d: %v", kimi.Kinds(got), tt.status, kimi.Kinds(want))
					}
					if n, m := okSrv.Hits.Load(), statusSrv.Hits.Load(); n != int32(tt.hits) || m != int32(tt.hits) || g.Attempts != tt.hits {
						t.Errorf("200: %d requests (Attempts %d), %d: %d; want %d each", n, g.Attempts, tt.status, m, tt.hits)
					}
				})
			}
		}
	}
}

func kimiErrBody(typ, msg string) string {
	return `{"error":{"type":"` + typ + `","message":"` + msg + `"}}`
}

// TestStreamRetriesEnvelopeIn200: a stream request answered once with a
// 200 rate-limit envelope (as a gateway does, under an event-stream
// Content-Type) is retried before the stream starts, and then streams.
func TestStreamRetriesEnvelopeIn200(t *testing.T) {
	for _, ct := range []string{"text/event-stream", "application/json; charset=utf-8"} {
		t.Run(ct, func(t *testing.T) {
			c, _, rec := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Times: 1, Status: http.StatusOK,
				Body:   kimiErrBody(kimi.ErrTypeRateLimitReached, "Your account reached max concurrency: 1"),
				Header: http.Header{"Content-Type": {ct}}}))
			s, err := c.Chat.Stream(testCtx(t), userRequest("moonshot-v1-128k", "Tell me about the sea."))
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			defer s.Close()
			if content, _ := drain(t, s); s.Err() != nil || content == "" {
				t.Fatalf("content %q, err %v", content, s.Err())
			}
			if n := rec.count(http.MethodPost, "/chat/completions"); n != 2 {
				t.Errorf("%d requests, want 2: the envelope was not retried", n)
			}
		})
	}
	t.Run("not retryable", func(t *testing.T) {
		c, _, rec := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Status: http.StatusOK,
			Body: kimiErrBody(kimi.ErrTypeInvalidAuthentication, "Invalid Authentication")}))
		_, err := c.Chat.Stream(testCtx(t), userRequest("moonshot-v1-128k", "hi"))
		if e := mustStatus(t, err, http.StatusOK); e.Attempts != 1 || !errors.Is(err, kimi.ErrAuthorization) || rec.n() != 1 {
			t.Errorf("err = %v after %d requests, want one ErrAuthorization attempt", err, rec.n())
		}
	})
}

// TestErrorBodiesReadAlike: an error body reads the same as a response's
// body and as an in-stream error event: one decoder serves both.
func TestErrorBodiesReadAlike(t *testing.T) {
	for _, body := range []string{
		kimiErrBody("content_filter", "The request was rejected because it was considered high risk"),
		`{"error":"invalid_authentication_error","message":"Invalid Authentication","code":401}`,
		`{"error":"url.not_found","message":"没找到对象","code":5}`,
		`{"type":"engine_overloaded_error","message":"busy"}`,
		`{"error":{"code":"used_up","message":"Your balance is used up"},"trace_id":"t-1"}`,
	} {
		t.Run(body, func(t *testing.T) {
			c, _ := loopback(t, kimi.Reply(http.StatusBadRequest, body))
			_, err := c.Chat.Create(testCtx(t), newReq())
			resp := mustStatus(t, err, http.StatusBadRequest)

			s, _ := openStream(t, rawSSE(events(standard[0])+"event: error\ndata: "+body+"\n\n"))
			drain(t, s)
			var ev *kimi.Error
			if !errors.As(s.Err(), &ev) {
				t.Fatalf("Err = %v, want *kimi.Error", s.Err())
			}
			if ev.Type != resp.Type || ev.Code != resp.Code || ev.Message != resp.Message || ev.Param != resp.Param {
				t.Errorf("in-stream: type %q code %q message %q param %q;\nresponse:  %q %q %q %q",
					ev.Type, ev.Code, ev.Message, ev.Param, resp.Type, resp.Code, resp.Message, resp.Param)
			}
			if strings.HasSuffix(resp.Code, "_error") && resp.Type != resp.Code {
				t.Errorf("code %q is a Kimi type, but Type = %q", resp.Code, resp.Type)
			}
		})
	}
}

// TestUploadErrorKinds: the errors UploadFile and Upload make about the
// caller's own file or Reader are ErrBadRequest, decided where they are
// made; nothing reaches the server for a missing file. A bare file
// system error from elsewhere has no kind of this package.
func TestUploadErrorKinds(t *testing.T) {
	c, _, rec := setup(t)
	ctx := testCtx(t)
	_, err := c.Files.UploadFile(ctx, filepath.Join(t.TempDir(), "missing.txt"), "")
	checkKinds(t, err, kimi.ErrBadRequest)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing file: %v, want os.ErrNotExist naming the file", err)
	}
	if n := rec.n(); n != 0 {
		t.Errorf("a missing file sent %d requests", n)
	}

	boom := errors.New("disk on fire")
	_, err = c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "a.txt", Reader: io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom))})
	checkKinds(t, err, kimi.ErrBadRequest)
	if !errors.Is(err, boom) {
		t.Errorf("failing reader: %v, want it to wrap the Reader's error", err)
	}

	if ks := kimi.Kinds(&fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}); ks != nil {
		t.Errorf("Kinds of a bare *fs.PathError = %v, want none", ks)
	}
}
