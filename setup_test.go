package onesdk_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimitest"
)

// fastRetry keeps retry tests quick; attempts are asserted, not durations.
var fastRetry = &onesdk.RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	RateLimitDelay: time.Millisecond}

// setup starts an emulator configured by opts for the duration of the test
// and returns an SDK for the kimi provider talking to it over loopback
// HTTP, with the emulator's key and a fast retry policy.
func setup(t *testing.T, opts ...kimitest.Option) (*onesdk.SDK, *kimitest.Server) {
	t.Helper()
	srv := kimitest.NewServer(t, opts...)
	return newSDK(t, "kimi", loopback(srv)), srv
}

// loopback is the Config that reaches srv: its key, URL and HTTP client,
// and fastRetry. Tests about Config change a field and call newSDK.
func loopback(srv *kimitest.Server) onesdk.Config {
	return onesdk.Config{APIKey: srv.Key, APIURL: srv.URL, HTTPClient: srv.Client(), Retry: fastRetry}
}

// aceData returns an SDK for the acedata provider on srv's Ace Data Cloud
// route.
func aceData(t *testing.T, srv *kimitest.Server) *onesdk.SDK {
	t.Helper()
	cfg := loopback(srv)
	cfg.APIURL = srv.AceDataCloudURL()
	return newSDK(t, "acedata", cfg)
}

// newSDK is onesdk.New that fails the test on an error.
func newSDK(t *testing.T, provider string, cfg onesdk.Config) *onesdk.SDK {
	t.Helper()
	sdk, err := onesdk.New(provider, cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", provider, err)
	}
	return sdk
}

// ask is a one-message request.
func ask(model, question string) *onesdk.Request {
	return &onesdk.Request{Model: model, Messages: []onesdk.Message{onesdk.UserMessage(question)}}
}

// generateAndStream runs req with Generate and with StreamGenerate, checks
// that the stream carries the completion's text, and returns both (the
// stream read to its end).
func generateAndStream(t *testing.T, sdk *onesdk.SDK, req *onesdk.Request) (*onesdk.Response, *onesdk.Stream) {
	t.Helper()
	resp, err := sdk.Generate(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sdk.StreamGenerate(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if text := streamText(t, st); text != resp.Text() {
		t.Errorf("stream text %q != generate text %q", text, resp.Text())
	}
	return resp, st
}

// streamText reads st to its end and returns the text it carried.
func streamText(t *testing.T, st *onesdk.Stream) string {
	t.Helper()
	defer st.Close()
	var text strings.Builder
	for chunk, err := range st.All() {
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(chunk.Text())
	}
	return text.String()
}

// wantKinds fails the test unless err matches every kind of want and none
// of not.
func wantKinds(t *testing.T, what string, err error, want []error, not ...error) {
	t.Helper()
	for _, k := range want {
		if !errors.Is(err, k) {
			t.Errorf("%s: errors.Is(%v, %v) = false", what, err, k)
		}
	}
	for _, k := range not {
		if errors.Is(err, k) {
			t.Errorf("%s: errors.Is(%v, %v) = true", what, err, k)
		}
	}
}

// unreachable is an emulator option that answers every request with a
// 418: an error from a server of it that is not an *APIError was made
// without a request.
var unreachable = kimitest.WithFaults(kimitest.Fault{Status: 418})

// wantUnsupported checks that each error of a method the provider lacks
// is an ErrUnsupported error naming the provider and no API error (see
// unreachable).
func wantUnsupported(t *testing.T, provider string, errs map[string]error) {
	t.Helper()
	for op, err := range errs {
		if !errors.Is(err, onesdk.ErrUnsupported) || !errors.Is(err, onesdk.ErrInvoke) ||
			onesdk.Kind(err) != onesdk.ErrUnsupported {
			t.Errorf("%s: want an ErrUnsupported error, got %v", op, err)
			continue
		}
		var apiErr *onesdk.APIError
		if errors.As(err, &apiErr) {
			t.Errorf("%s: an API error %v; the request should not have been sent", op, err)
		}
		if !strings.Contains(err.Error(), provider) {
			t.Errorf("%s: error %q does not name the provider %s", op, err, provider)
		}
	}
}

// waitReady waits, at most 20 s, for the cache to be ready.
func waitReady(t *testing.T, sdk *onesdk.SDK, id string) *onesdk.Cache {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	c, err := sdk.WaitCacheReady(ctx, id)
	if err != nil {
		t.Fatalf("WaitCacheReady(%s): %v", id, err)
	}
	return c
}

// writeTemp writes content to a file named name in a temporary directory
// and returns its path.
func writeTemp(t *testing.T, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
