package kimi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

var allKinds = []error{kimi.ErrConnection, kimi.ErrServerUnavailable, kimi.ErrRateLimit, kimi.ErrAuthorization,
	kimi.ErrBadRequest, kimi.ErrTimeout, kimi.ErrNotFound, kimi.ErrQuota, kimi.ErrConfig, kimi.ErrUnsupported}

// checkKinds asserts that err matches ErrInvoke and exactly the kinds
// want (in Kinds' order), with errors.Is and with Kinds.
func checkKinds(t *testing.T, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want kinds %v", want)
	}
	if !errors.Is(err, kimi.ErrInvoke) {
		t.Errorf("errors.Is(%v, ErrInvoke) = false", err)
	}
	if got := kimi.Kinds(err); !slices.Equal(got, want) {
		t.Errorf("Kinds(%v) = %v, want %v", err, got, want)
	}
	for _, k := range allKinds {
		if got, w := errors.Is(err, k), slices.Contains(want, k); got != w {
			t.Errorf("errors.Is(%v, %v) = %t, want %t", err, k, got, w)
		}
	}
	// Wrapping keeps the kinds.
	if w := fmt.Errorf("context: %w", err); !errors.Is(w, want[0]) || kimi.Kind(w) != want[0] {
		t.Errorf("wrapped error lost kind %v", want[0])
	}
}

// faultRequest is a request and the option that makes the emulator
// inject fault into it.
func faultRequest(fault string) (*kimi.ChatRequest, kimi.RequestOption) {
	return userRequest("moonshot-v1-8k", "hi"), kimi.WithHeader(kimitest.FaultHeader, fault)
}

func TestErrorKindsOverHTTP(t *testing.T) {
	c, _ := newClient(kimitest.NewServer(t), noRetry)
	ctx := context.Background()
	create := func(req *kimi.ChatRequest, opts ...kimi.RequestOption) error {
		_, err := c.Chat.Create(ctx, req, opts...)
		return err
	}
	stream := func(req *kimi.ChatRequest, opts ...kimi.RequestOption) error {
		st, err := c.Chat.Stream(ctx, req, opts...)
		if err != nil {
			return err
		}
		defer st.Close()
		for st.Next() {
		}
		return st.Err()
	}
	tests := []struct {
		name string
		err  func() error
		want []error
	}{
		{"validation", func() error {
			req := userRequest("moonshot-v1-8k", "hi")
			req.Temperature = kimi.Ptr(5.0)
			return create(req)
		}, []error{kimi.ErrBadRequest}},
		{"400 from the server", func() error {
			req := userRequest("moonshot-v1-8k", "hi")
			req.MaxTokens = kimi.Ptr(100000)
			return create(req)
		}, []error{kimi.ErrBadRequest}},
		{"404 model", func() error { return create(userRequest("no-such-model", "hi")) },
			[]error{kimi.ErrNotFound, kimi.ErrBadRequest}},
		{"401", func() error { return create(faultRequest("status=401")) }, []error{kimi.ErrAuthorization}},
		{"429", func() error { return create(faultRequest("status=429")) }, []error{kimi.ErrRateLimit}},
		{"503", func() error { return create(faultRequest("status=503")) }, []error{kimi.ErrServerUnavailable}},
		{"504 gateway page", func() error { return create(faultRequest("status=504")) },
			[]error{kimi.ErrTimeout, kimi.ErrServerUnavailable}},
		{"malformed body", func() error { return create(faultRequest("malformed")) }, []error{kimi.ErrServerUnavailable}},
		{"stream cut", func() error { return stream(faultRequest("cut=1")) }, []error{kimi.ErrConnection}},
		{"stream without [DONE]", func() error { return stream(faultRequest("omit-done")) }, []error{kimi.ErrConnection}},
		{"deadline", func() error {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			req, fault := faultRequest("delay=2s")
			_, err := c.Chat.Create(ctx, req, fault)
			return err
		}, []error{kimi.ErrTimeout, kimi.ErrConnection}},
		{"cancelled", func() error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := c.Models.List(ctx)
			return err
		}, []error{kimi.ErrConnection}},
		{"cache not found", func() error {
			_, err := c.Caches.Get(ctx, "cache-nope")
			return err
		}, []error{kimi.ErrNotFound, kimi.ErrBadRequest}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkKinds(t, tc.err(), tc.want...) })
	}
}

func TestErrorKindsOfConfig(t *testing.T) {
	ctx := context.Background()
	t.Run("base URL", func(t *testing.T) {
		c := kimi.NewClient(kimi.Config{APIKey: "sk-test", BaseURL: "ftp://example.com"})
		checkKinds(t, c.ConfigErr(), kimi.ErrConfig)
		_, err := c.Models.List(ctx)
		checkKinds(t, err, kimi.ErrConfig)
	})
	t.Run("proxy", func(t *testing.T) {
		c := kimi.NewClient(kimi.Config{APIKey: "sk-test", Proxy: "gopher://proxy:70"})
		checkKinds(t, c.ConfigErr(), kimi.ErrConfig)
		checkKinds(t, c.SetProxy("gopher://proxy:70"), kimi.ErrConfig)
	})
	t.Run("no key", func(t *testing.T) {
		t.Setenv(kimi.EnvAPIKey, "")
		c := kimi.NewClient(kimi.Config{BaseURL: "http://127.0.0.1:1"})
		_, err := c.Models.List(ctx)
		checkKinds(t, err, kimi.ErrConfig)
		if !errors.Is(err, kimi.ErrNoAPIKey) {
			t.Errorf("err = %v, want ErrNoAPIKey", err)
		}
	})
	if err := kimi.NewClient(kimi.Config{APIKey: "sk-test"}).ConfigErr(); err != nil {
		t.Errorf("ConfigErr of a good config = %v", err)
	}
}

// A hand-built API error is classified by its fields, as a parsed one.
func TestErrorKindsOfAPIErrorFields(t *testing.T) {
	tests := []struct {
		e    kimi.Error
		want []error
	}{
		{kimi.Error{StatusCode: 429, Type: kimi.ErrTypeExceededCurrentQuota}, []error{kimi.ErrQuota}},
		{kimi.Error{StatusCode: 429, Type: kimi.ErrTypeEngineOverloaded}, []error{kimi.ErrRateLimit, kimi.ErrServerUnavailable}},
		{kimi.Error{StatusCode: 503, Type: kimi.ErrTypeEngineOverloaded}, []error{kimi.ErrServerUnavailable}},
		{kimi.Error{StatusCode: 403, Code: "used_up"}, []error{kimi.ErrQuota}},
		{kimi.Error{StatusCode: 400, Code: "token_expired"}, []error{kimi.ErrAuthorization}},
		{kimi.Error{StatusCode: 408}, []error{kimi.ErrTimeout, kimi.ErrServerUnavailable}},
		{kimi.Error{StatusCode: 200, Type: kimi.ErrTypeServerError}, []error{kimi.ErrServerUnavailable}},
	}
	for _, tc := range tests {
		checkKinds(t, &tc.e, tc.want...)
	}
	if kimi.Kinds(errors.New("not ours")) != nil || kimi.Kind(nil) != nil {
		t.Error("an unknown error has kinds")
	}
}

// Errors made outside a call (decoding a batch line, a fiber's result,
// logprobs) have kinds too, and their messages read without gaps.
func TestErrorKindsOfDecodedResults(t *testing.T) {
	completion := func(line string) error {
		var r kimi.BatchResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		_, err := r.Completion()
		return err
	}
	tests := []struct {
		name string
		err  error
		want []error
		text string
	}{
		{"batch line with a 429 envelope", completion(`{"custom_id":"a","response":{"status_code":429,"request_id":"q1",` +
			`"body":{"error":{"type":"rate_limit_reached_error","message":"slow down"}}}}`),
			[]error{kimi.ErrRateLimit}, "kimi: batch request a: 429 rate_limit_reached_error: slow down [request q1]"},
		{"batch line with a 400 and an error object", completion(`{"custom_id":"b","response":{"status_code":400,"body":"x"},` +
			`"error":{"code":"invalid_request","message":"bad body"}}`),
			[]error{kimi.ErrBadRequest}, "kimi: batch request b: 400 invalid_request: bad body"},
		{"batch line expired", completion(`{"custom_id":"c","response":null,"error":{"code":"batch_expired","message":"expired"}}`),
			[]error{kimi.ErrTimeout, kimi.ErrServerUnavailable}, "kimi: batch request c: batch_expired: expired"},
		{"batch line refused without a status", completion(`{"custom_id":"e","error":{"code":"invalid_request","message":"bad input"}}`),
			[]error{kimi.ErrBadRequest}, "kimi: batch request e: invalid_request: bad input"},
		{"batch line with neither", completion(`{"custom_id":"d"}`),
			[]error{kimi.ErrServerUnavailable}, "kimi: malformed response: batch request d has neither a response status nor an error"},
		{"batch line with status 0", completion(`{"custom_id":"f","response":{"status_code":0,"body":{}}}`),
			[]error{kimi.ErrServerUnavailable}, "kimi: malformed response: batch request f has neither a response status nor an error"},
		{"fiber succeeded with an error", func() error {
			_, err := (&kimi.Fiber{ID: "f2", Formula: "moonshot/web-search:latest", Status: kimi.FiberSucceeded, Error: json.RawMessage(`"quota used up"`)}).Result()
			return err
		}(), []error{kimi.ErrBadRequest}, "kimi: formula moonshot/web-search:latest: fiber f2 reported an error: quota used up"},
		{"empty fiber", func() error { _, err := (&kimi.Fiber{}).Result(); return err }(),
			[]error{kimi.ErrBadRequest}, "kimi: fiber did not succeed (no status)"},
		{"failed fiber", func() error {
			_, err := (&kimi.Fiber{ID: "f1", Formula: "moonshot/fetch:latest", Status: "failed", Error: json.RawMessage(`"no such host"`)}).Result()
			return err
		}(), []error{kimi.ErrBadRequest}, "kimi: formula moonshot/fetch:latest: fiber f1 failed: no such host"},
		{"logprobs", func() error { _, err := kimi.LogprobTokens(json.RawMessage(`{"content":3}`)); return err }(),
			[]error{kimi.ErrServerUnavailable}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkKinds(t, tc.err, tc.want...)
			if tc.text != "" && tc.err.Error() != tc.text {
				t.Errorf("message\n%s\nwant\n%s", tc.err, tc.text)
			}
		})
	}
	if _, err := kimi.LogprobTokens(json.RawMessage(`[1]`)); !errors.Is(err, kimi.ErrBadResponse) {
		t.Errorf("logprobs: %v, want ErrBadResponse", err)
	}
}

// A line of the caller's file that does not decode, or a reader of the
// caller's that fails, is the caller's problem, not a connection's.
func TestErrorKindsOfReadJSONL(t *testing.T) {
	in := io.MultiReader(strings.NewReader("{\"custom_id\":\"a\"}\nnot json\n{\"custom_id\":"), iotest.ErrReader(io.ErrUnexpectedEOF))
	var errs []error
	for _, err := range kimi.ReadJSONL[kimi.BatchLine](in) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 2 {
		t.Fatalf("errors %v, want a bad line and a failed read", errs)
	}
	checkKinds(t, errs[0], kimi.ErrBadRequest)
	var le *kimi.LineError
	if !errors.As(errs[0], &le) || le.Line != 2 || le.File != "" || errors.Is(errs[0], kimi.ErrBadResponse) {
		t.Errorf("bad line: %#v", le)
	}
	checkKinds(t, errs[1], kimi.ErrBadRequest)
	if !errors.Is(errs[1], io.ErrUnexpectedEOF) || !strings.HasPrefix(errs[1].Error(), "kimi: line 3: ") {
		t.Errorf("failed read: %v", errs[1])
	}
}
