package kimi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBaseURLNormalization(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", BaseURLCN},
		{"https://api.moonshot.cn/v1/", "https://api.moonshot.cn/v1"},
		{"https://api.moonshot.cn/v1", "https://api.moonshot.cn/v1"},
		{"https://api.moonshot.cn", "https://api.moonshot.cn/v1"},
		{"https://api.moonshot.cn/", "https://api.moonshot.cn/v1"},
		{"https://api.acedata.cloud/kimi", "https://api.acedata.cloud/kimi"},
		{BaseURLAI, BaseURLAI},
	} {
		got, err := normalizeBaseURL(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("normalizeBaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"ftp://x/v1", "api.moonshot.cn/v1", "https://u:hunter2@host/v1", "https://host/v1?x=1", "http://[::1"} {
		c := NewClient(Config{APIKey: testKey, BaseURL: bad})
		_, err := c.Models.List(context.Background())
		if err == nil {
			t.Errorf("base URL %q: no error", bad)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error leaks password: %v", err)
		}
	}
}

func TestEnvironmentAndPaths(t *testing.T) {
	s := NewLoopback(t, ok200)
	t.Setenv(EnvAPIKey, testKey)
	t.Setenv(EnvBaseURL, s.URL+"/") // no path: /v1 is added
	c := NewClient(Config{})
	if _, err := c.Models.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Request(0)
	if r.URL.Path != "/v1/models" || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("got %s with auth %q", r.URL.Path, r.Header.Get("Authorization"))
	}

	t.Setenv(EnvAPIKey, "")
	_, err := NewClient(Config{BaseURL: s.URL}).Models.List(context.Background())
	if !errors.Is(err, ErrNoAPIKey) {
		t.Errorf("no key: err = %v, want ErrNoAPIKey", err)
	}
	if s.Hits.Load() != 1 {
		t.Errorf("request without key reached the server")
	}
}

func TestRequestHeaders(t *testing.T) {
	s := NewLoopback(t, reply(200, `{"id":"x","choices":[]}`))
	c, _ := newTestClient(t, s.URL+"/v1", func(c *Config) { c.UserAgent = "myapp/2" })
	ctx := context.Background()
	req := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("hi")}}
	h := WithHeaders(http.Header{"X-Msh-Context-Cache": {"cache-1"}, "Authorization": {"Bearer stolen"}})
	if _, err := c.Chat.Create(ctx, req, h); err != nil {
		t.Fatal(err)
	}
	r, _ := s.Request(0)
	for k, want := range map[string]string{
		"Authorization":       "Bearer " + testKey,
		"Content-Type":        "application/json",
		"Accept":              "application/json",
		"User-Agent":          "myapp/2 onesdk-go/" + Version,
		"X-Msh-Context-Cache": "cache-1",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	sreq, err := c.newRequest(ctx, "POST", "chat/completions", &ChatRequest{Stream: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sreq.Header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("stream Accept = %q", got)
	}
}

// TestRequestOptionsReachEveryCall: every method that sends a request
// takes options and sends their headers.
func TestRequestOptionsReachEveryCall(t *testing.T) {
	s := NewLoopback(t, reply(200, `{"status":"ready","deleted":true,"data":[]}`))
	c, _ := newTestClient(t, s.URL+"/v1")
	ctx := context.Background()
	o := WithHeader("X-Trace", "t1")
	chat := &ChatRequest{Model: "moonshot-v1-8k", Messages: []Message{UserMessage("hi")}}
	calls := map[string]func(){
		"Chat.Create":         func() { c.Chat.Create(ctx, chat, o) },
		"Chat.Stream":         func() { c.Chat.Stream(ctx, chat, o) },
		"Chat.RunTools":       func() { c.Chat.RunTools(ctx, chat, nil, o) },
		"Models.List":         func() { c.Models.List(ctx, o) },
		"Models.Get":          func() { c.Models.Get(ctx, "m", o) },
		"Caches.Create":       func() { c.Caches.Create(ctx, &CacheCreateRequest{Messages: []Message{SystemMessage("doc")}}, o) },
		"Caches.Update":       func() { c.Caches.Update(ctx, "cache-1", nil, o) },
		"Caches.Get":          func() { c.Caches.Get(ctx, "cache-1", o) },
		"Caches.Delete":       func() { c.Caches.Delete(ctx, "cache-1", o) },
		"Caches.List":         func() { c.Caches.List(ctx, nil, o) },
		"Caches.All":          func() { c.Caches.All(ctx, nil, o)(func(*Cache, error) bool { return true }) },
		"Caches.WaitReady":    func() { c.Caches.WaitReady(ctx, "cache-1", o) },
		"Tags.Create":         func() { c.Tags.Create(ctx, &TagCreateRequest{Tag: "a", CacheID: "cache-1"}, o) },
		"Tags.List":           func() { c.Tags.List(ctx, nil, o) },
		"Tags.All":            func() { c.Tags.All(ctx, nil, o)(func(*Tag, error) bool { return true }) },
		"Tags.Get":            func() { c.Tags.Get(ctx, "a", o) },
		"Tags.Content":        func() { c.Tags.Content(ctx, "a", o) },
		"Tags.Delete":         func() { c.Tags.Delete(ctx, "a", o) },
		"Files.Upload":        func() { c.Files.Upload(ctx, &FileUploadRequest{Filename: "a.txt", Reader: strings.NewReader("x")}, o) },
		"Files.List":          func() { c.Files.List(ctx, o) },
		"Files.Get":           func() { c.Files.Get(ctx, "f", o) },
		"Files.Delete":        func() { c.Files.Delete(ctx, "f", o) },
		"Files.Content":       func() { c.Files.Content(ctx, "f", o) },
		"Files.ExtractedText": func() { c.Files.ExtractedText(ctx, "f", o) },
		"Files.WaitProcessed": func() { c.Files.WaitProcessed(ctx, "f", o) },
		"Tokenizers.Estimate": func() { c.Tokenizers.Estimate(ctx, "m", chat.Messages, o) },
		"Users.Balance":       func() { c.Users.Balance(ctx, o) },
	}
	for name, call := range calls {
		before := int(s.Hits.Load())
		call()
		if int(s.Hits.Load()) != before+1 {
			t.Errorf("%s sent %d requests, want 1", name, int(s.Hits.Load())-before)
			continue
		}
		if r, _ := s.Request(before); r.Header.Get("X-Trace") != "t1" {
			t.Errorf("%s: X-Trace = %q", name, r.Header.Get("X-Trace"))
		}
	}

	// File content accepts any type unless the caller says otherwise.
	for _, tc := range []struct {
		opts []RequestOption
		want []string
	}{
		{nil, []string{"application/json, text/plain, */*"}},
		{[]RequestOption{WithHeader("Accept", "text/plain")}, []string{"text/plain"}},
	} {
		n := int(s.Hits.Load())
		c.Files.Content(ctx, "f", tc.opts...)
		if r, _ := s.Request(n); !slices.Equal(r.Header.Values("Accept"), tc.want) {
			t.Errorf("content Accept = %q, want %q", r.Header.Values("Accept"), tc.want)
		}
	}
}

// TestRedirectStripsAuthorization follows a redirect to another loopback
// port: net/http alone would keep the header (same host name).
func TestRedirectStripsAuthorization(t *testing.T) {
	other := NewLoopback(t, reply(200, modelsBody))
	origin := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/models":
			http.Redirect(w, r, other.URL+"/v1/models", http.StatusTemporaryRedirect)
		case "/v1/models/kimi-k2.5":
			http.Redirect(w, r, "/v1/models/moved", http.StatusFound)
		default:
			reply(200, `{"id":"kimi-k2.5","object":"model"}`)(w, r)
		}
	})

	for name, hc := range map[string]*http.Client{"default": nil, "custom": {}} {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestClient(t, origin.URL+"/v1", func(c *Config) { c.HTTPClient = hc })
			before := other.Hits.Load()
			list, err := c.Models.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Data) != 2 {
				t.Errorf("models = %d, want 2", len(list.Data))
			}
			if r, _ := other.Last(); other.Hits.Load() != before+1 || r.Header.Get("Authorization") != "" {
				t.Errorf("other host: %d requests, the last with Authorization %q", other.Hits.Load()-before, r.Header.Get("Authorization"))
			}
			if _, err := c.Models.Get(context.Background(), "kimi-k2.5"); err != nil {
				t.Fatal(err)
			}
			if r, _ := origin.Last(); r.URL.Path != "/v1/models/moved" || r.Header.Get("Authorization") != "Bearer "+testKey {
				t.Errorf("same host redirect to %s lost Authorization: %q", r.URL.Path, r.Header.Get("Authorization"))
			}
		})
	}
}

// forwardProxy is a plain-HTTP forward proxy; its Hits are the requests
// it relayed.
func forwardProxy(t *testing.T) *Loopback {
	return NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Connection")
		resp, err := (&http.Transport{}).RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	})
}

// socks5Proxy is a minimal no-auth SOCKS5 CONNECT server that connects to
// the target each request names, counting the connections it made.
func socks5Proxy(t *testing.T) (string, *atomic.Int32) {
	var n atomic.Int32
	addr, _ := socks5Server(t, func(target string) (net.Conn, error) {
		c, err := net.Dial("tcp", target)
		if err == nil {
			n.Add(1)
		}
		return c, err
	})
	return addr, &n
}

// socks5Server is a no-auth SOCKS5 CONNECT server: dial opens the
// connection for a request's "host:port", and targets lists the ones asked
// for.
func socks5Server(t *testing.T, dial func(target string) (net.Conn, error)) (addr string, targets func() []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var asked []string
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	handle := func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 262)
		if _, err := io.ReadFull(c, buf[:2]); err != nil || buf[0] != 5 {
			return
		}
		if _, err := io.ReadFull(c, buf[:buf[1]]); err != nil {
			return
		}
		c.Write([]byte{5, 0})
		if _, err := io.ReadFull(c, buf[:4]); err != nil || buf[1] != 1 {
			return
		}
		var host string
		switch buf[3] {
		case 1:
			io.ReadFull(c, buf[:4])
			host = net.IP(buf[:4]).String()
		case 3:
			io.ReadFull(c, buf[:1])
			l := int(buf[0])
			io.ReadFull(c, buf[:l])
			host = string(buf[:l])
		case 4:
			io.ReadFull(c, buf[:16])
			host = net.IP(buf[:16]).String()
		}
		io.ReadFull(c, buf[:2])
		target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(buf[:2]))))
		mu.Lock()
		asked = append(asked, target)
		mu.Unlock()
		up, err := dial(target)
		if err != nil {
			c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
			return
		}
		defer up.Close()
		c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
		done := make(chan struct{})
		go func() { io.Copy(up, c); up.Close(); close(done) }()
		io.Copy(c, up)
		c.Close()
		<-done
	}
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c) })
		}
	})
	return ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

func TestProxies(t *testing.T) {
	target := NewLoopback(t, ok200)
	hp := forwardProxy(t)
	hpHits := &hp.Hits
	sp, spHits := socks5Proxy(t)

	t.Run("http via Config", func(t *testing.T) {
		c, _ := newTestClient(t, target.URL+"/v1", func(c *Config) { c.Proxy = hp.URL })
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if hpHits.Load() != 1 {
			t.Errorf("proxy relayed %d requests, want 1", hpHits.Load())
		}
	})
	t.Run("socks5 via SetProxy", func(t *testing.T) {
		c, _ := newTestClient(t, target.URL+"/v1")
		if err := c.SetProxy("socks5://" + sp); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if spHits.Load() != 1 {
			t.Errorf("socks proxy relayed %d connections, want 1", spHits.Load())
		}
	})
	t.Run("custom transport is cloned", func(t *testing.T) {
		tr := &http.Transport{}
		hc := &http.Client{Transport: tr}
		c, _ := newTestClient(t, target.URL+"/v1", func(c *Config) { c.HTTPClient = hc })
		before := hpHits.Load()
		if err := c.SetProxy(hp.URL); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if hpHits.Load() != before+1 {
			t.Errorf("request did not go through the proxy")
		}
		if tr.Proxy != nil || hc.Transport != tr || hc.CheckRedirect != nil {
			t.Errorf("the caller's client or transport was modified")
		}
		if err := c.SetProxy(""); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if hpHits.Load() != before+1 {
			t.Errorf("SetProxy(\"\") kept the proxy")
		}
	})
	t.Run("errors", func(t *testing.T) {
		c, _ := newTestClient(t, target.URL+"/v1")
		for _, bad := range []string{"ftp://p:1", "socks4://p:1", "http://", "://x"} {
			if err := c.SetProxy(bad); err == nil {
				t.Errorf("SetProxy(%q) accepted", bad)
			}
		}
		err := c.SetProxy("gopher://user:hunter2@p:1")
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("SetProxy error %v: want an error without the password", err)
		}
		custom, _ := newTestClient(t, target.URL+"/v1", func(c *Config) {
			c.HTTPClient = &http.Client{Transport: roundTripFunc(http.DefaultTransport.RoundTrip)}
		})
		if err := custom.SetProxy(hp.URL); err == nil || !strings.Contains(err.Error(), "not an *http.Transport") {
			t.Errorf("custom RoundTripper: err = %v", err)
		}
		bad := NewClient(Config{APIKey: testKey, BaseURL: target.URL, Proxy: "ftp://x:1"})
		if _, err := bad.Models.List(context.Background()); err == nil || !strings.Contains(err.Error(), "Config.Proxy") {
			t.Errorf("bad Config.Proxy: err = %v", err)
		}
	})
}

func TestErrorDecoding(t *testing.T) {
	rateMsg := "Your account org-1<ak-2> request reached organization max RPM: 20, please try again after 7 seconds"
	for _, tc := range []struct {
		name      string
		h         http.HandlerFunc
		want      Error
		temporary bool
	}{
		{"kimi envelope", reply(400, `{"error":{"type":"invalid_request_error","message":"Invalid request: bad","param":"temperature","code":"x1"}}`, "Msh-Request-Id", "rid-1"),
			Error{StatusCode: 400, Type: "invalid_request_error", Message: "Invalid request: bad", Param: "temperature", Code: "x1", RequestID: "rid-1"}, false},
		{"numeric code", reply(401, `{"error":{"type":"incorrect_api_key_error","message":"Incorrect API key provided","code":401,"param":null}}`),
			Error{StatusCode: 401, Type: "incorrect_api_key_error", Message: "Incorrect API key provided", Code: "401"}, false},
		{"gateway 404", reply(404, `{"code":5,"error":"url.not_found","message":"没找到对象","method":"GET","scode":"0x5","status":false,"ua":"Go-http-client/2.0","url":"/v1/nope"}`),
			Error{StatusCode: 404, Code: "url.not_found", Message: "没找到对象"}, false},
		{"ace data cloud", reply(401, `{"error":{"code":"invalid_token","message":"The specified token is invalid or wrong."},"trace_id":"2efa9340"}`),
			Error{StatusCode: 401, Code: "invalid_token", Message: "The specified token is invalid or wrong.", RequestID: "2efa9340"}, false},
		{"html 504", reply(504, "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>", "Content-Type", "text/html"),
			Error{StatusCode: 504, Message: "Gateway Timeout: 504 Gateway Time-out"}, true},
		{"plain text 502", reply(502, "upstream   connect error\n or disconnect", "Content-Type", "text/plain"),
			Error{StatusCode: 502, Message: "Bad Gateway: upstream connect error or disconnect"}, true},
		{"empty 503", reply(503, ""), Error{StatusCode: 503, Message: "Service Unavailable"}, true},
		{"rate limit hint", reply(429, kimiErr("rate_limit_reached_error", rateMsg)),
			Error{StatusCode: 429, Type: "rate_limit_reached_error", Message: rateMsg, RetryAfter: 7 * time.Second}, true},
		{"hint zero", reply(429, kimiErr("rate_limit_reached_error", "request reached max organization concurrency: 1, please try again after 0 seconds")),
			Error{StatusCode: 429, Type: "rate_limit_reached_error", Message: "request reached max organization concurrency: 1, please try again after 0 seconds", RetryAfter: time.Second}, true},
		{"retry-after header", reply(429, kimiErr("engine_overloaded_error", "The engine is currently overloaded, please try again later"), "Retry-After", "12"),
			Error{StatusCode: 429, Type: "engine_overloaded_error", Message: "The engine is currently overloaded, please try again later", RetryAfter: 12 * time.Second}, true},
		{"quota", reply(429, kimiErr("exceeded_current_quota_error", "Your account org-1<ak-2> is suspended, please check your plan and billing details")),
			Error{StatusCode: 429, Type: "exceeded_current_quota_error", Message: "Your account org-1<ak-2> is suspended, please check your plan and billing details"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewLoopback(t, tc.h)
			c, _ := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{} })
			_, err := c.Models.List(context.Background())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			got := *e
			got.Header, got.Body = nil, nil
			want := tc.want
			want.Attempts = 1
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			if e.Temporary() != tc.temporary {
				t.Errorf("Temporary() = %v", e.Temporary())
			}
			if len(e.Body) == 0 && tc.name != "empty 503" {
				t.Errorf("Body not kept")
			}
			if !strings.HasPrefix(e.Error(), fmt.Sprintf("kimi: %d", want.StatusCode)) || !strings.Contains(e.Error(), want.Message) {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header, msg string
		want        time.Duration
	}{
		{"", "", 0},
		{"5", "", 5 * time.Second},
		{"0", "", time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), "", 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), "", time.Second},
		{"soon", "please try again after 3 seconds", 3 * time.Second},
		{"", "request reached organization max RPM: 20, please try again after 1 seconds", time.Second},
		{"", "Please wait a moment and try again.", 0},
		{"2", "please try again after 9 seconds", 2 * time.Second}, // the header wins
	} {
		if got := retryAfter(tc.header, tc.msg, now); got != tc.want {
			t.Errorf("retryAfter(%q, %q) = %v, want %v", tc.header, tc.msg, got, tc.want)
		}
	}
}

func TestRetries(t *testing.T) {
	overloaded := reply(429, kimiErr("engine_overloaded_error", "The engine is currently overloaded, please try again later"))
	for _, tc := range []struct {
		name  string
		steps []http.HandlerFunc
		hits  int32
		fail  bool
	}{
		{"503 then ok", []http.HandlerFunc{reply(503, kimiErr("server_unavailable", "")), ok200}, 2, false},
		{"500 500 ok", []http.HandlerFunc{reply(500, "oops"), reply(500, "oops"), ok200}, 3, false},
		{"502 then ok", []http.HandlerFunc{reply(502, "<html>bad gateway</html>"), ok200}, 2, false},
		{"504 html then ok", []http.HandlerFunc{reply(504, "<html><title>504 Gateway Time-out</title></html>", "Content-Type", "text/html"), ok200}, 2, false},
		{"429 overloaded then ok", []http.HandlerFunc{overloaded, ok200}, 2, false},
		{"reset before headers", []http.HandlerFunc{closeConn(true), ok200}, 2, false},
		{"eof before headers", []http.HandlerFunc{closeConn(false), ok200}, 2, false},
		{"gives up after MaxRetries", []http.HandlerFunc{reply(503, "")}, 3, true},
		{"400 not retried", []http.HandlerFunc{reply(400, kimiErr("invalid_request_error", "Invalid request")), ok200}, 1, true},
		{"401 not retried", []http.HandlerFunc{reply(401, kimiErr("incorrect_api_key_error", "Incorrect API key provided")), ok200}, 1, true},
		{"403 not retried", []http.HandlerFunc{reply(403, kimiErr("permission_denied_error", "The API you are accessing is not open")), ok200}, 1, true},
		{"404 not retried", []http.HandlerFunc{reply(404, kimiErr("resource_not_found_error", "Not found the model x or Permission denied")), ok200}, 1, true},
		{"quota 429 not retried", []http.HandlerFunc{reply(429, kimiErr("exceeded_current_quota_error", "suspended")), ok200}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewLoopback(t, tc.steps...)
			c, w := newTestClient(t, s.URL+"/v1")
			list, err := c.Models.List(context.Background())
			if got := s.Hits.Load(); got != tc.hits {
				t.Errorf("server saw %d requests, want %d", got, tc.hits)
			}
			if tc.fail != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if err == nil && len(list.Data) != 2 {
				t.Errorf("list = %+v", list)
			}
			var e *Error
			if errors.As(err, &e) && e.Attempts != int(tc.hits) {
				t.Errorf("Attempts = %d, want %d", e.Attempts, tc.hits)
			}
			if len(w.all()) != int(tc.hits)-1 {
				t.Errorf("waited %d times, want %d", len(w.all()), tc.hits-1)
			}
		})
	}
}

func TestRetryDisabled(t *testing.T) {
	s := NewLoopback(t, reply(503, ""), ok200)
	c, _ := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{MaxRetries: 0} })
	_, err := c.Models.List(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Attempts != 1 || s.Hits.Load() != 1 {
		t.Fatalf("err = %v, hits = %d", err, s.Hits.Load())
	}
}

func TestRetryWaits(t *testing.T) {
	t.Run("hint honoured in full", func(t *testing.T) {
		s := NewLoopback(t,
			reply(429, kimiErr("rate_limit_reached_error", "max RPM: 3, please try again after 2 seconds")),
			reply(503, "", "Retry-After", "1"),
			ok200)
		c, w := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{MaxRetries: 5, MaxDelay: 2 * time.Second} })
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := w.all()
		if len(got) != 2 || got[0] != 2*time.Second || got[1] != time.Second {
			t.Errorf("waits = %v, want [2s 1s]", got)
		}
	})
	t.Run("429 without hint waits at least RateLimitDelay", func(t *testing.T) {
		s := NewLoopback(t, reply(429, kimiErr("rate_limit_reached_error", "Your account request reached organization TPM rate limit, current:10, limit:5")), ok200)
		c, w := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{MaxRetries: 1} })
		if _, err := c.Models.List(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := w.all(); len(got) != 1 || got[0] < 3*time.Second || got[0] > 4500*time.Millisecond {
			t.Errorf("waits = %v, want one in [3s, 4.5s]", got)
		}
	})
	t.Run("backoff grows", func(t *testing.T) {
		p := RetryPolicy{MaxRetries: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond}.withDefaults()
		for n, want := range map[int]time.Duration{1: 100, 2: 200, 3: 300, 4: 300} {
			want *= time.Millisecond
			for range 20 {
				if d := p.backoff(n, false); d < want/2 || d > want {
					t.Errorf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
				}
			}
		}
	})
	t.Run("hint beyond deadline returns at once", func(t *testing.T) {
		s := NewLoopback(t, reply(429, kimiErr("rate_limit_reached_error", "please try again after 60 seconds")), ok200)
		c, w := newTestClient(t, s.URL+"/v1", func(c *Config) { c.Retry = &RetryPolicy{MaxRetries: 2, MaxDelay: time.Hour} })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := c.Models.List(ctx)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 429 || e.RetryAfter != time.Minute {
			t.Fatalf("err = %v", err)
		}
		if len(w.all()) != 0 || s.Hits.Load() != 1 {
			t.Errorf("waited %v, hits %d", w.all(), s.Hits.Load())
		}
	})
	t.Run("cancel while waiting", func(t *testing.T) {
		s := NewLoopback(t, reply(503, ""), ok200)
		c, _ := newTestClient(t, s.URL+"/v1")
		ctx, cancel := context.WithCancel(context.Background())
		c.sleep = func(ctx context.Context, d time.Duration) error { cancel(); return sleepCtx(ctx, time.Hour) }
		_, err := c.Models.List(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrServerUnavailable) || s.Hits.Load() != 1 {
			t.Fatalf("err = %v, hits = %d", err, s.Hits.Load())
		}
	})
}

func TestRetryReplaysBody(t *testing.T) {
	s := NewLoopback(t, reply(502, ""), closeConn(true), reply(200, `{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`))
	c, _ := newTestClient(t, s.URL+"/v1")
	cc, err := c.Chat.Create(context.Background(), &ChatRequest{Model: "moonshot-v1-128k", Messages: []Message{UserMessage("héllo")}})
	if err != nil {
		t.Fatal(err)
	}
	if cc.Text() != "hi" || s.Hits.Load() != 3 {
		t.Fatalf("text %q after %d hits", cc.Text(), s.Hits.Load())
	}
	_, first := s.Request(0)
	_, last := s.Request(2)
	if !bytes.Equal(first, last) || !bytes.Contains(first, []byte("héllo")) {
		t.Errorf("bodies differ:\n%s\n%s", first, last)
	}
}

func TestTransportErrors(t *testing.T) {
	t.Run("connection refused is retried then wrapped", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		c, w := newTestClient(t, "http://"+addr+"/v1")
		_, err = c.Models.List(context.Background())
		var ue *url.Error
		var ne net.Error
		if !errors.As(err, &ue) || !errors.As(err, &ne) {
			t.Fatalf("err = %v (%T): want a *url.Error chain", err, err)
		}
		if len(w.all()) != 2 || !strings.Contains(err.Error(), "after 3 attempts") {
			t.Errorf("err = %v after %d waits", err, len(w.all()))
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("error leaks the key")
		}
	})
	t.Run("deadline is not retried", func(t *testing.T) {
		release := make(chan struct{})
		s := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		c, w := newTestClient(t, s.URL+"/v1")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Models.List(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
		if len(w.all()) != 0 || s.Hits.Load() != 1 {
			t.Errorf("retried after the deadline")
		}
	})
}

func TestDoReturnsOpenResponseForStreams(t *testing.T) {
	s := NewLoopback(t, reply(503, ""), reply(200, "data: [DONE]\n\n", "Content-Type", "text/event-stream"))
	c, _ := newTestClient(t, s.URL+"/v1")
	req, err := c.newRequest(context.Background(), "POST", "chat/completions", &ChatRequest{Model: "m", Stream: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.do(req, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != "data: [DONE]\n\n" || s.Hits.Load() != 2 {
		t.Errorf("body %q after %d hits", b, s.Hits.Load())
	}
}
