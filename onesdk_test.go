package onesdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestNewUnknownProviderListsKnown(t *testing.T) {
	_, err := onesdk.New("openai", onesdk.Config{APIKey: "sk-x"})
	wantKinds(t, "unknown provider", err, []error{onesdk.ErrConfig, onesdk.ErrInvoke})
	for _, name := range onesdk.Providers() {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not list provider %q", err, name)
		}
	}
	if got := strings.Join(onesdk.Providers(), ","); got != "acedata,kimi" {
		t.Errorf("Providers() = %s, want acedata,kimi", got)
	}
}

// LookupProvider resolves names and aliases the way New does, and each
// provider's catalogue name is one package catalog knows.
func TestLookupProvider(t *testing.T) {
	for _, tc := range []struct{ name, want, key, cat string }{
		{"kimi", "kimi", "MOONSHOT_API_KEY", catalog.ProviderMoonshot},
		{" Moonshot ", "kimi", "MOONSHOT_API_KEY", catalog.ProviderMoonshot},
		{"ACE", "acedata", "ACEDATA_API_TOKEN", catalog.ProviderAceData},
		{"acedatacloud", "acedata", "ACEDATA_API_TOKEN", catalog.ProviderAceData},
	} {
		p, ok := onesdk.LookupProvider(tc.name)
		if !ok || p.Name != tc.want || p.KeyEnv != tc.key || p.Catalog != tc.cat {
			t.Errorf("LookupProvider(%q) = %+v, %v", tc.name, p, ok)
		}
		if len(catalog.ForProvider(p.Catalog)) == 0 {
			t.Errorf("provider %s: catalogue %q lists no model", p.Name, p.Catalog)
		}
	}
	if p, ok := onesdk.LookupProvider("openai"); ok {
		t.Errorf("LookupProvider(openai) = %+v, true", p)
	}
}

// Each provider reads its own key variable, and says which when it is
// missing.
func TestNewWithoutKeyIsConfigError(t *testing.T) {
	for provider, env := range map[string]string{"kimi": "MOONSHOT_API_KEY", "acedata": "ACEDATA_API_TOKEN"} {
		t.Setenv(env, "")
		_, err := onesdk.New(provider, onesdk.Config{})
		if !errors.Is(err, onesdk.ErrConfig) || !strings.Contains(err.Error(), env) {
			t.Errorf("%s: want ErrConfig naming %s, got %v", provider, env, err)
		}
	}
}

// A malformed base URL or proxy is refused by New, before any request.
func TestNewRejectsMalformedURLs(t *testing.T) {
	for name, cfg := range map[string]onesdk.Config{
		"ftp base URL":    {APIKey: "sk-x", APIURL: "ftp://host"},
		"ftp proxy":       {APIKey: "sk-x", Proxy: "ftp://127.0.0.1:21"},
		"garbage proxy":   {APIKey: "sk-x", Proxy: "::not a url"},
		"token proxy":     {APIKey: "sk-x", Proxy: "ftp://ghp_PROXYTOK@proxy:21"},
		"token base":      {APIKey: "sk-x", APIURL: "https://ghp_PROXYTOK@api.example.com/v1"},
		"mistyped region": {APIKey: "sk-x", Region: "global"}, // would send the key to the other platform
		"blank key":       {APIKey: "  "},
	} {
		t.Setenv("MOONSHOT_API_KEY", "")
		sdk, err := onesdk.New("kimi", cfg)
		if sdk != nil || onesdk.Kind(err) != onesdk.ErrConfig || strings.Contains(err.Error(), "ghp_PROXYTOK") {
			t.Errorf("%s: want an ErrConfig error (without the token) and no SDK, got %v, %v", name, sdk, err)
		}
	}
}

func TestNewReadsEnvironment(t *testing.T) {
	srv := kimitest.NewServer(t)
	t.Setenv("MOONSHOT_API_KEY", srv.Key)
	t.Setenv("MOONSHOT_BASE_URL", srv.URL+"/")
	sdk, err := onesdk.New("moonshot", onesdk.Config{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if sdk.Provider() != "kimi" {
		t.Errorf("alias moonshot resolved to %q", sdk.Provider())
	}
	if _, err := sdk.ListModels(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Region picks Moonshot's platform when no base URL is given; each
// provider has its own default.
func TestNewBaseURLByRegionAndProvider(t *testing.T) {
	t.Setenv("MOONSHOT_BASE_URL", "")
	t.Setenv("ACEDATA_BASE_URL", "")
	for _, tc := range []struct{ provider, region, want string }{
		{"kimi", "", kimi.BaseURLCN},
		{"kimi", "cn", kimi.BaseURLCN},
		{"kimi", "ai", kimi.BaseURLAI},
		{"Moonshot", "AI", kimi.BaseURLAI},
		{"acedata", "ai", "https://api.acedata.cloud/kimi"},
		{"ace", "", "https://api.acedata.cloud/kimi"},
	} {
		sdk := newSDK(t, tc.provider, onesdk.Config{APIKey: "sk-x", Region: tc.region})
		if got := sdk.Kimi().BaseURL(); got != tc.want {
			t.Errorf("%s region %q: base URL %s, want %s", tc.provider, tc.region, got, tc.want)
		}
	}
}

func TestConfigNeverPrintsKey(t *testing.T) {
	cfg := onesdk.Config{APIKey: "sk-secret-value-123", Proxy: "http://user:proxypass@127.0.0.1:3128"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg)
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{cfg.String(), cfg.GoString(), logs.String(), string(js)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg))
	}
	for _, s := range outs {
		if strings.Contains(s, "sk-secret") || strings.Contains(s, "proxypass") {
			t.Fatalf("secret printed: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "api_key_set") {
		t.Errorf("slog output lost the config: %s", logs.String())
	}
}

func TestModels(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	models, err := sdk.ListModels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range models {
		if m.ID == "kimi-k2.6" {
			found = m.ContextLength == 262144
		}
	}
	if !found {
		t.Fatalf("kimi-k2.6 with context 262144 not listed: %+v", models)
	}
	m, err := sdk.GetModel(ctx, "moonshot-v1-8k")
	if err != nil || m.ID != "moonshot-v1-8k" {
		t.Fatalf("GetModel: %v %+v", err, m)
	}
	_, err = sdk.GetModel(ctx, "no-such-model")
	wantKinds(t, "GetModel of an unknown id", err, []error{onesdk.ErrNotFound, onesdk.ErrBadRequest})
}

func TestGenerateAndStreamAgree(t *testing.T) {
	sdk, _ := setup(t)
	resp, st := generateAndStream(t, sdk, ask("kimi-k2.6", "Explain the concept of blockchain technology."))
	if resp.Text() == "" || resp.Usage == nil || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
		t.Fatalf("bad response: %+v", resp)
	}
	if u := st.Completion().Usage; u == nil || u.CompletionTokens != resp.Usage.CompletionTokens {
		t.Errorf("stream usage %+v, want completion tokens %d", u, resp.Usage.CompletionTokens)
	}
	if got := st.Message(); got.Role != kimi.RoleAssistant || got.Text() != resp.Text() {
		t.Errorf("assembled message %+v", got)
	}
}

func TestStreamReasoningChunks(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "think", Reasoning: "Let me consider.", Reply: "Done."}))
	st, err := sdk.StreamGenerate(t.Context(), ask("kimi-k2.7-code", "think about it"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var reasoning, text string
	for st.Next() {
		c := st.Current()
		if c.Reasoning() != "" && text != "" {
			t.Error("reasoning arrived after content")
		}
		reasoning += c.Reasoning()
		text += c.Text()
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	if reasoning != "Let me consider." || text != "Done." {
		t.Fatalf("reasoning %q text %q", reasoning, text)
	}
	if st.Message().ReasoningContent != reasoning {
		t.Errorf("assembled message lost reasoning: %+v", st.Message())
	}
}

// ruleError is an emulator whose every chat answers with Kimi's error
// envelope.
func ruleError(status int, typ, msg string) kimitest.Option {
	return kimitest.WithRule(kimitest.Rule{Error: &kimitest.RuleError{Status: status, Type: typ, Message: msg}})
}

func TestErrorKinds(t *testing.T) {
	cases := []struct {
		name   string
		opts   []kimitest.Option
		key    string
		model  string
		kinds  []error
		not    []error
		status int
		// fault: the answer is the emulator's fault injection, which
		// carries no request id.
		fault bool
	}{
		{name: "wrong key", key: "sk-wrong", kinds: []error{onesdk.ErrAuthorization}, status: 401},
		{name: "unknown model", model: "kimi-nope", kinds: []error{onesdk.ErrNotFound, onesdk.ErrBadRequest}, status: 404},
		{name: "server down", opts: []kimitest.Option{kimitest.WithFaults(kimitest.Fault{Status: 503})},
			kinds: []error{onesdk.ErrServerUnavailable}, not: []error{onesdk.ErrRateLimit}, status: 503, fault: true},
		{name: "gateway timeout", opts: []kimitest.Option{kimitest.WithFaults(kimitest.Fault{Status: 504})},
			kinds: []error{onesdk.ErrTimeout, onesdk.ErrServerUnavailable}, status: 504, fault: true},
		{name: "quota", opts: []kimitest.Option{ruleError(429, "exceeded_current_quota_error",
			"Your account is suspended due to insufficient balance")},
			kinds: []error{onesdk.ErrQuota}, not: []error{onesdk.ErrRateLimit}, status: 429},
		{name: "rate limit", opts: []kimitest.Option{ruleError(429, "rate_limit_reached_error",
			"request reached organization max RPM: 3, please try again after 7 seconds")},
			kinds: []error{onesdk.ErrRateLimit}, not: []error{onesdk.ErrQuota}, status: 429},
		{name: "forbidden", opts: []kimitest.Option{ruleError(403, "permission_denied_error", "The API you are accessing is not open")},
			kinds: []error{onesdk.ErrAuthorization}, not: []error{onesdk.ErrBadRequest}, status: 403},
		{name: "engine overloaded", opts: []kimitest.Option{ruleError(429, "engine_overloaded_error",
			"The engine is currently overloaded, please try again later")},
			kinds: []error{onesdk.ErrRateLimit, onesdk.ErrServerUnavailable}, not: []error{onesdk.ErrQuota}, status: 429},
		{name: "bad request", opts: []kimitest.Option{ruleError(400, "content_filter",
			"The request was rejected because it was considered high risk")},
			kinds: []error{onesdk.ErrBadRequest}, not: []error{onesdk.ErrNotFound}, status: 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sdk, srv := setup(t, tc.opts...)
			key, model := srv.Key, "moonshot-v1-8k"
			if tc.key != "" {
				cfg := loopback(srv)
				cfg.APIKey = tc.key
				key, sdk = tc.key, newSDK(t, "kimi", cfg)
			}
			if tc.model != "" {
				model = tc.model
			}
			_, err := sdk.Generate(t.Context(), ask(model, "hello"))
			wantKinds(t, tc.name, err, append(tc.kinds, onesdk.ErrInvoke), tc.not...)
			if got := onesdk.Kinds(err); len(got) == 0 || got[0] != tc.kinds[0] {
				t.Errorf("Kinds = %v, want %v first", got, tc.kinds[0])
			}
			var apiErr *onesdk.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.status || (apiErr.RequestID == "") != tc.fault {
				t.Fatalf("want an *APIError with status %d (and a request id unless a fault), got %#v", tc.status, err)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error leaks the key: %v", err)
			}
			if tc.name == "rate limit" && apiErr.RetryAfter != 7*time.Second {
				t.Errorf("retry hint %v, want 7s", apiErr.RetryAfter)
			}
		})
	}
}

func TestRetryableFaultRecovers(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Times: 2, Status: 503}))
	resp, err := sdk.Generate(t.Context(), ask("moonshot-v1-8k", "hi"))
	if err != nil || resp.Text() == "" {
		t.Fatalf("want recovery after two 503s, got %v", err)
	}
}

// A fault that outlasts the retries: the error counts the attempts.
func TestRetriesExhausted(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithFaults(kimitest.Fault{Status: 503}))
	_, err := sdk.Generate(t.Context(), ask("moonshot-v1-8k", "hi"))
	var apiErr *onesdk.APIError
	if !errors.As(err, &apiErr) || apiErr.Attempts != fastRetry.MaxRetries+1 {
		t.Fatalf("want an *APIError after %d attempts, got %v (%+v)", fastRetry.MaxRetries+1, err, apiErr)
	}
}

// A request the client can tell is wrong is refused without sending it:
// the emulator would reset the connection.
func TestValidationIsBadRequestBeforeSending(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithFaults(kimitest.Fault{ResetBeforeHeaders: true}))
	req := ask("moonshot-v1-8k", "hi")
	req.Temperature = onesdk.Ptr(1.5)
	_, err := sdk.Generate(t.Context(), req)
	var ve *onesdk.ValidationError
	if !errors.Is(err, onesdk.ErrBadRequest) || errors.Is(err, onesdk.ErrConnection) || !errors.As(err, &ve) || ve.Field != "temperature" {
		t.Fatalf("want a client-side ValidationError on temperature, got %v", err)
	}
}

func TestConnectionErrors(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithFaults(kimitest.Fault{ResetBeforeHeaders: true}))
	_, err := sdk.Generate(t.Context(), ask("moonshot-v1-8k", "hi"))
	wantKinds(t, "connection reset", err, []error{onesdk.ErrConnection}, onesdk.ErrBadRequest)

	sdk, _ = setup(t, kimitest.WithFaults(kimitest.Fault{Delay: 2 * time.Second}))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = sdk.Generate(ctx, ask("moonshot-v1-8k", "hi"))
	wantKinds(t, "deadline", err, []error{onesdk.ErrTimeout, onesdk.ErrConnection, context.DeadlineExceeded})
}

// A stream cut before [DONE] ends with an error, never silently.
func TestStreamCutIsConnectionError(t *testing.T) {
	for _, fault := range []string{"cut=3", "omit-done"} {
		t.Run(fault, func(t *testing.T) {
			sdk, _ := setup(t)
			st, err := sdk.StreamGenerate(t.Context(), ask("moonshot-v1-8k", "tell me a long story"),
				onesdk.WithHeader("X-Kimitest-Fault", fault))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			n := 0
			for _, err := range st.All() {
				if err != nil {
					wantKinds(t, fault, err, []error{onesdk.ErrConnection, kimi.ErrStreamIncomplete})
					return
				}
				n++
			}
			t.Fatalf("stream with fault %s ended after %d chunks without an error", fault, n)
		})
	}
}

func TestSetProxy(t *testing.T) {
	sdk, _ := setup(t)
	if err := sdk.SetProxy("ftp://127.0.0.1:21"); onesdk.Kind(err) != onesdk.ErrConfig {
		t.Fatalf("want an ErrConfig error for an ftp proxy, got %v", err)
	}
	for _, proxy := range []string{"socks5://127.0.0.1:1080", "http://user:pass@127.0.0.1:3128", ""} {
		if err := sdk.SetProxy(proxy); err != nil {
			t.Errorf("proxy %q refused: %v", proxy, err)
		}
	}
	// After "", the client is back on the environment's settings, which
	// leave loopback alone.
	if _, err := sdk.ListModels(t.Context()); err != nil {
		t.Fatalf("ListModels after SetProxy(\"\"): %v", err)
	}
}

// Ace Data Cloud serves chat only, at its own route and with its own
// error envelope; its models come from the catalogue.
func TestAceDataCloudProvider(t *testing.T) {
	_, srv := setup(t)
	sdk := aceData(t, srv)
	ctx := t.Context()
	if sdk.Provider() != "acedata" {
		t.Errorf("Provider() = %q", sdk.Provider())
	}
	// Ace's documented request, as its docs show it: kimi-k2.5 with
	// max_tokens 1024 and temperature 0.7 (a fixed parameter upstream,
	// which Ace's gateway drops).
	req := ask("kimi-k2.5", "你好,请介绍一下你自己")
	req.MaxTokens, req.Temperature = onesdk.Ptr(1024), onesdk.Ptr(0.7)
	if resp, _ := generateAndStream(t, sdk, req); resp.Text() == "" {
		t.Fatal("Generate via Ace: no text")
	}
	// Every model Ace's docs list answers.
	for _, model := range []string{"kimi-k2.5", "kimi-k2-thinking-turbo", "kimi-k2-thinking", "kimi-k2-instruct-0905"} {
		if resp, err := sdk.Generate(ctx, ask(model, "hi")); err != nil || resp.Text() == "" {
			t.Errorf("Ace %s: %v", model, err)
		}
	}
	models, err := sdk.ListModels(ctx)
	if err != nil || !slices.ContainsFunc(models, func(m onesdk.Model) bool { return m.ID == "kimi-k2.5" }) {
		t.Fatalf("ListModels: %v %+v", err, models)
	}
	if slices.ContainsFunc(models, func(m onesdk.Model) bool { return strings.HasPrefix(m.ID, "moonshot-v1") }) {
		t.Errorf("ListModels lists moonshot-v1 models, which Ace does not offer: %+v", models)
	}
	if m, err := sdk.GetModel(ctx, "kimi-k2.5"); err != nil || m.ID != "kimi-k2.5" || m.OwnedBy != "acedata" {
		t.Errorf("GetModel of an Ace model: %+v, %v", m, err)
	}
	_, err = sdk.GetModel(ctx, "moonshot-v1-8k")
	wantKinds(t, "GetModel of a non-Ace model", err, []error{onesdk.ErrNotFound, onesdk.ErrBadRequest})
	if err != nil && !strings.Contains(err.Error(), "kimi-k2.5") {
		t.Errorf("GetModel error %q does not list the models offered", err)
	}

	// Ace's envelope: {"error":{"code":"invalid_token",...},"trace_id":...}.
	cfg := loopback(srv)
	cfg.APIKey, cfg.APIURL = "wrong-token", srv.AceDataCloudURL()
	_, err = newSDK(t, "ace", cfg).Generate(ctx, req)
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrAuthorization) || !errors.As(err, &apiErr) || apiErr.Code != "invalid_token" || apiErr.RequestID == "" {
		t.Fatalf("want ErrAuthorization with code invalid_token and the trace id, got %v (%+v)", err, apiErr)
	}
	_, err = sdk.Generate(ctx, ask("moonshot-v1-8k", "hi"))
	wantKinds(t, "non-Ace model", err, []error{onesdk.ErrBadRequest})
}

// Debug logs each request to standard error, never the key.
func TestDebugLogsRequestsWithoutKey(t *testing.T) {
	_, srv := setup(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	cfg := loopback(srv)
	cfg.Debug = true
	sdk, err := onesdk.New("kimi", cfg)
	if err == nil {
		_, err = sdk.Generate(t.Context(), ask("moonshot-v1-8k", "hi"))
	}
	os.Stderr = stderr
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"level=DEBUG", "POST", "/v1/chat/completions", "status=200", "request_id=", "duration="} {
		if !strings.Contains(string(out), want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), srv.Key) {
		t.Fatalf("debug log contains the key:\n%s", out)
	}
}

func TestMalformedResponseIsServerError(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	bad := onesdk.WithHeader("X-Kimitest-Fault", "malformed")
	req := ask("moonshot-v1-8k", "hi")
	_, err := sdk.Generate(ctx, req, bad)
	wantKinds(t, "Generate", err, []error{onesdk.ErrServerUnavailable, kimi.ErrBadResponse}, onesdk.ErrConnection)
	st, err := sdk.StreamGenerate(ctx, req, bad)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for st.Next() {
	}
	wantKinds(t, "stream", st.Err(), []error{onesdk.ErrServerUnavailable, kimi.ErrBadResponse})
}
