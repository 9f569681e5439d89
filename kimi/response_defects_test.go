package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestErrorObjectIn200 answers every non-streaming call with a 200 whose
// body is an error envelope, as a gateway sometimes does: each call must
// fail with the *Error a non-2xx answer would give, not succeed empty.
func TestErrorObjectIn200(t *testing.T) {
	const msg = "Your account request reached organization max RPM: 3"
	rateLimited := reply(200, kimiErr(ErrTypeRateLimitReached, msg), "Msh-Request-Id", "rid-200")
	calls := map[string]func(ctx context.Context, c *Client) error{
		"chat": func(ctx context.Context, c *Client) error {
			_, err := c.Chat.Create(ctx, &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("hi")}})
			return err
		},
		"cache create": func(ctx context.Context, c *Client) error {
			_, err := c.Caches.Create(ctx, &CacheCreateRequest{Model: "moonshot-v1", Messages: []Message{SystemMessage("doc")}})
			return err
		},
		"upload": func(ctx context.Context, c *Client) error {
			_, err := c.Files.Upload(ctx, &FileUploadRequest{Filename: "a.txt", Reader: strings.NewReader("hello")})
			return err
		},
		"model list": func(ctx context.Context, c *Client) error {
			_, err := c.Models.List(ctx)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			s := NewLoopback(t, rateLimited)
			c, w := newTestClient(t, s.URL+"/v1")
			err := call(context.Background(), c)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.StatusCode != 200 || e.Type != ErrTypeRateLimitReached || e.Message != msg || e.RequestID != "rid-200" {
				t.Errorf("error = %+v", e)
			}
			if !errors.Is(err, ErrRateLimit) || Kind(err) != ErrRateLimit {
				t.Errorf("kinds = %v, want ErrRateLimit", Kinds(err))
			}
			// A rate-limit type is retryable whatever the status.
			if s.Hits.Load() != 3 || e.Attempts != 3 || len(w.all()) != 2 {
				t.Errorf("hits %d, attempts %d, waits %v; want 3 attempts", s.Hits.Load(), e.Attempts, w.all())
			}
		})
	}

	t.Run("auth type not retried", func(t *testing.T) {
		s := NewLoopback(t, reply(200, kimiErr(ErrTypeInvalidAuthentication, "Invalid Authentication")), ok200)
		c, _ := newTestClient(t, s.URL+"/v1")
		_, err := c.Models.List(context.Background())
		if !errors.Is(err, ErrAuthorization) || s.Hits.Load() != 1 {
			t.Fatalf("err = %v (kinds %v) after %d hits", err, Kinds(err), s.Hits.Load())
		}
	})
	t.Run("gateway shape with status", func(t *testing.T) {
		s := NewLoopback(t, reply(200, `{"code":5,"error":"url.not_found","message":"没找到对象","status":404}`))
		c, _ := newTestClient(t, s.URL+"/v1")
		_, err := c.Models.List(context.Background())
		if e := (*Error)(nil); !errors.As(err, &e) || e.StatusCode != 404 || e.Code != "url.not_found" || !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("failed cache object is a cache", func(t *testing.T) {
		s := NewLoopback(t, reply(200, `{"id":"cache-1","object":"context_cache","status":"error","error":{"type":"x","message":"too long"}}`))
		c, _ := newTestClient(t, s.URL+"/v1")
		cache, err := c.Caches.Get(context.Background(), "cache-1")
		if err != nil || cache.ID != "cache-1" || cache.Error == nil {
			t.Fatalf("cache %+v, err %v", cache, err)
		}
	})
}

// TestCancelDuringRetryWait cancels the context while the client waits
// before a retry: the caller must get the cancellation, not the 429.
func TestCancelDuringRetryWait(t *testing.T) {
	for name, end := range map[string]struct {
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		"cancel": {func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, context.Canceled},
		// The deadline is further than the backoff, so the client waits,
		// and ends during the (hour-long) wait.
		"deadline": {func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
	} {
		t.Run(name, func(t *testing.T) {
			s := NewLoopback(t, reply(429, kimiErr(ErrTypeRateLimitReached, "slow down")), ok200)
			c, _ := newTestClient(t, s.URL+"/v1")
			ctx, cancel := end.ctx()
			defer cancel()
			c.sleep = func(ctx context.Context, d time.Duration) error {
				if end.want == context.Canceled {
					cancel()
				}
				return sleepCtx(ctx, time.Hour)
			}
			_, err := c.Models.List(ctx)
			if !errors.Is(err, end.want) {
				t.Fatalf("err = %v, want %v", err, end.want)
			}
			if errors.Is(err, ErrRateLimit) || !errors.Is(err, ErrConnection) || !errors.Is(err, ErrInvoke) {
				t.Errorf("kinds = %v, want the connection kinds only", Kinds(err))
			}
			if !strings.Contains(err.Error(), "slow down") {
				t.Errorf("err = %q, want the previous attempt's error in it", err)
			}
			if s.Hits.Load() != 1 {
				t.Errorf("hits = %d", s.Hits.Load())
			}
		})
	}
}

// TestHintBeyondMaxDelay: a server hint longer than MaxDelay is never
// cut short; the error comes back at once for the caller to decide.
func TestHintBeyondMaxDelay(t *testing.T) {
	for name, step := range map[string]http.HandlerFunc{
		"header":  reply(429, kimiErr(ErrTypeRateLimitReached, "slow down"), "Retry-After", "100"),
		"message": reply(429, kimiErr(ErrTypeRateLimitReached, "please try again after 100 seconds")),
	} {
		t.Run(name, func(t *testing.T) {
			s := NewLoopback(t, step, ok200)
			c, w := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{MaxRetries: 2, MaxDelay: 30 * time.Second} })
			_, err := c.Models.List(context.Background())
			if e := (*Error)(nil); !errors.As(err, &e) || e.RetryAfter != 100*time.Second || e.Attempts != 1 {
				t.Fatalf("err = %v", err)
			}
			if s.Hits.Load() != 1 || len(w.all()) != 0 {
				t.Errorf("hits %d, waits %v: retried before the hint", s.Hits.Load(), w.all())
			}
		})
	}
}

// echoAuth answers status and body with the request's Authorization
// header echoed into response headers, as a misconfigured proxy might.
func echoAuth(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		w.Header().Set("Msh-Request-Id", a)
		w.Header().Set("X-Echo", "you sent "+a)
		w.Header().Set("Authorization", a)
		w.Header().Set("Set-Cookie", "session=abc123; HttpOnly")
		reply(status, body, kv...)(w, r)
	}
}

func TestEchoedKeyRedacted(t *testing.T) {
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	completion := `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	sse := "data: " + `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}` + "\n\ndata: " +
		kimiErr(ErrTypeServerError, "boom") + "\n\n"
	s := NewLoopback(t, echoAuth(401, kimiErr(ErrTypeInvalidAuthentication, "Invalid Authentication")), echoAuth(200, completion),
		echoAuth(200, sse, "Content-Type", "text/event-stream"))
	c, _ := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Logger = logger })
	req := &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("hi")}}

	check := func(what string, v any) {
		t.Helper()
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		for verb, out := range map[string]string{
			"%#v": fmt.Sprintf("%#v", v), "%+v": fmt.Sprintf("%+v", v), "%v": fmt.Sprintf("%v", v), "json": string(j),
		} {
			if strings.Contains(out, testKey) {
				t.Errorf("%s printed with %s shows the key: %s", what, verb, out)
			}
			if strings.Contains(out, "abc123") {
				t.Errorf("%s printed with %s shows the cookie: %s", what, verb, out)
			}
		}
	}

	_, err := c.Chat.Create(context.Background(), req)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 401 {
		t.Fatalf("err = %v, want a 401 *Error", err)
	}
	check("error", e)
	check("error value", *e)
	if strings.Contains(e.RequestID, testKey) || strings.Contains(err.Error(), testKey) {
		t.Errorf("request id %q / error %q holds the key", e.RequestID, err)
	}

	cc, err := c.Chat.Create(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	check("completion", cc)
	check("completion header", cc.Header)
	if got := cc.Header.Get("X-Echo"); got != "you sent Bearer [REDACTED]" {
		t.Errorf("X-Echo = %q", got)
	}

	st, err := c.Chat.Stream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for st.Next() {
	}
	check("stream header", st.Header())
	check("stream completion", st.Completion())
	check("stream error", st.Err())
	if strings.Contains(st.RequestID(), testKey) {
		t.Errorf("stream request id %q holds the key", st.RequestID())
	}
	st.Close()

	if strings.Contains(logBuf.String(), testKey) {
		t.Errorf("debug log shows the key:\n%s", logBuf.String())
	}
	if r, _ := s.Request(1); r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("the key itself was not sent")
	}
}

// TestCrossOriginRedirectWithBody: a 307 or 308 to another origin would
// resend the prompt (without the key); it is refused. Same-origin ones
// are followed.
func TestCrossOriginRedirectWithBody(t *testing.T) {
	completion := `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`
	other := NewLoopback(t, reply(200, completion))
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			origin := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1/chat/completions":
					http.Redirect(w, r, other.URL+"/v1/chat/completions?token=q1", code)
				case "/v1/files":
					http.Redirect(w, r, other.URL+"/v1/files", code)
				case "/v2/chat/completions":
					reply(200, completion)(w, r)
				}
			})
			before := other.Hits.Load()
			c, w := newTestClient(t, origin.URL+"/v1")
			_, err := c.Chat.Create(context.Background(), &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("secret prompt")}})
			if err == nil || !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), other.URL+"/v1/chat/completions") || strings.Contains(err.Error(), "q1") {
				t.Errorf("chat: err = %v (kinds %v)", err, Kinds(err))
			}
			_, err = c.Files.Upload(context.Background(), &FileUploadRequest{Filename: "a.txt", Reader: strings.NewReader("secret file")})
			if err == nil || !errors.Is(err, ErrBadRequest) {
				t.Errorf("upload: err = %v (kinds %v)", err, Kinds(err))
			}
			if n := other.Hits.Load() - before; n != 0 {
				t.Errorf("the other origin got %d requests", n)
			}
			if len(w.all()) != 0 || origin.Hits.Load() != 2 {
				t.Errorf("retried: %d hits, waits %v", origin.Hits.Load(), w.all())
			}
		})
	}
	t.Run("same origin followed", func(t *testing.T) {
		origin := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/chat/completions" {
				http.Redirect(w, r, "/v2/chat/completions", http.StatusPermanentRedirect)
				return
			}
			reply(200, completion)(w, r)
		})
		c, _ := newTestClient(t, origin.URL+"/v1")
		cc, err := c.Chat.Create(context.Background(), &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("prompt")}})
		if err != nil || cc.Text() != "hi" {
			t.Fatalf("cc %v, err %v", cc, err)
		}
		r, body := origin.Last()
		if r.URL.Path != "/v2/chat/completions" || !bytes.Contains(body, []byte("prompt")) || r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("redirected request %s, body %q, auth %q", r.URL.Path, body, r.Header.Get("Authorization"))
		}
	})
}

// TestServerGarbageIsBadResponse: bytes the server sent that cannot be
// what was asked for are the server's fault, not the network's.
func TestServerGarbageIsBadResponse(t *testing.T) {
	wantBad := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, ErrBadResponse) || Kind(err) != ErrServerUnavailable || errors.Is(err, ErrConnection) {
			t.Errorf("err = %v, kinds %v; want ErrBadResponse", err, Kinds(err))
		}
	}
	corruptGzip := func(ct string) http.HandlerFunc {
		return reply(200, "this is not gzip at all", "Content-Encoding", "gzip", "Content-Type", ct)
	}
	t.Run("corrupt gzip", func(t *testing.T) {
		s := NewLoopback(t, corruptGzip("application/json"))
		c, _ := newTestClient(t, s.URL+"/v1")
		_, err := c.Models.List(context.Background())
		wantBad(t, err)
	})
	t.Run("corrupt gzip stream", func(t *testing.T) {
		s := NewLoopback(t, corruptGzip("text/event-stream"))
		c, _ := newTestClient(t, s.URL+"/v1")
		st, err := c.Chat.Stream(context.Background(), streamReq())
		if err == nil {
			for st.Next() {
			}
			err = st.Err()
			st.Close()
		}
		wantBad(t, err)
	})
	t.Run("html answer to a stream", func(t *testing.T) {
		s := NewLoopback(t, reply(200, "<html><head><title>Portal</title></head><body>log in</body></html>", "Content-Type", "text/html"))
		c, _ := newTestClient(t, s.URL+"/v1")
		_, err := c.Chat.Stream(context.Background(), streamReq())
		wantBad(t, err)
		if err != nil && !strings.Contains(err.Error(), "text/html") {
			t.Errorf("err = %v, want the content type named", err)
		}
	})
	t.Run("line over the cap", func(t *testing.T) {
		defer func(n int) { streamMaxSize = n }(streamMaxSize)
		streamMaxSize = 1 << 10
		s := NewLoopback(t, reply(200, "data: "+strings.Repeat("x", 4<<10)+"\n\n", "Content-Type", "text/event-stream"))
		c, _ := newTestClient(t, s.URL+"/v1")
		wantBad(t, drainStream(t, c))
	})
	t.Run("in-stream auth error", func(t *testing.T) {
		chunk := `{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}]}`
		for name, body := range map[string]string{
			"data":                    "data: " + chunk + "\n\ndata: " + kimiErr(ErrTypeInvalidAuthentication, "Invalid Authentication") + "\n\n",
			"event":                   "data: " + chunk + "\n\nevent: error\ndata: {\"type\":\"invalid_authentication_error\",\"message\":\"Invalid Authentication\"}\n\n",
			"event with string error": "data: " + chunk + "\n\nevent: error\ndata: {\"error\":\"invalid_authentication_error\",\"message\":\"Invalid Authentication\"}\n\n",
		} {
			t.Run(name, func(t *testing.T) {
				s := NewLoopback(t, reply(503, ""), reply(200, body, "Content-Type", "text/event-stream"))
				c, _ := newTestClient(t, s.URL+"/v1")
				err := drainStream(t, c)
				var e *Error
				if !errors.As(err, &e) || Kind(err) != ErrAuthorization || errors.Is(err, ErrServerUnavailable) {
					t.Fatalf("err = %v, kinds %v; want ErrAuthorization", err, Kinds(err))
				}
				if e.Attempts != 2 {
					t.Errorf("Attempts = %d, want 2", e.Attempts)
				}
			})
		}
	})
}

func streamReq() *ChatRequest {
	return &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("hi")}}
}

// drainStream opens a stream of streamReq, reads it to its end and
// returns what ended it.
func drainStream(t *testing.T, c *Client) error {
	t.Helper()
	st, err := c.Chat.Stream(context.Background(), streamReq())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for st.Next() {
	}
	return st.Err()
}

// A token in a URL's user name (https://ghp_…@host), which
// url.URL.Redacted keeps, appears in no error and no printed Config.
func TestURLUserNameRedacted(t *testing.T) {
	const secret = "ghp_SECRETTOKEN"
	for _, cfg := range []Config{
		{APIKey: "sk-x", BaseURL: "https://" + secret + "@api.example.com/v1"},
		{APIKey: "sk-x", BaseURL: "ftp://" + secret + ":pw@api.example.com/v1"},
		{APIKey: "sk-x", Proxy: "ftp://" + secret + "@proxy:21"},
		{APIKey: "sk-x", Proxy: "http://" + secret + "@"},
	} {
		_, err := NewClient(cfg).Models.List(context.Background())
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("%v: error %v", cfg, err)
		}
	}
	cfg := Config{APIKey: "sk-x", BaseURL: "https://user:" + secret + "@gw.example.com/v1", Proxy: "http://" + secret + "@proxy:8080"}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg)
	for _, out := range []string{fmt.Sprint(cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("printed: %s", out)
		}
	}
}
