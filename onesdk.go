// Package onesdk is one front door to Kimi (Moonshot AI) models, in the
// shape of the Python package llm_onesdk: New("kimi", Config{...}) gives
// ListModels, GetModel, Generate, StreamGenerate, CountTokens, SetProxy
// and Kimi's context caches and tags.
//
//	sdk, err := onesdk.New("kimi", onesdk.Config{APIKey: os.Getenv("MOONSHOT_API_KEY")})
//	resp, err := sdk.Generate(ctx, &onesdk.Request{
//		Model:    "kimi-k2.6",
//		Messages: []onesdk.Message{onesdk.UserMessage("Hello")},
//	})
//	fmt.Println(resp.Text())
//
// The facade is a thin layer over package kimi, the typed client: its
// types are kimi's (Request is kimi.ChatRequest, Stream is kimi.Stream,
// CacheCreateRequest is kimi.CacheCreateRequest, and so on), so the two
// mix freely and (*SDK).Kimi reaches the whole client. What the facade
// adds is the choice of provider: Moonshot's platforms (api.moonshot.cn,
// api.moonshot.ai) and Ace Data Cloud, which offers chat completions only.
//
// # Errors
//
// Every error matches ErrInvoke and one or more kinds with errors.Is:
// ErrConnection, ErrServerUnavailable, ErrRateLimit, ErrAuthorization,
// ErrBadRequest (the Python package's Invoke*Error classes), and
// ErrTimeout, ErrNotFound, ErrQuota, ErrConfig, ErrUnsupported. The kinds
// are kimi's: an error from package kimi answers them too. An API error is
// an *APIError (status, Kimi's error type, request id, retry hint); a
// request refused before sending is a *ValidationError naming the field,
// the value and the limit.
//
//	if errors.Is(err, onesdk.ErrRateLimit) { ... }
//	var apiErr *onesdk.APIError
//	if errors.As(err, &apiErr) { log.Print(apiErr.StatusCode, apiErr.Type, apiErr.RequestID) }
//
// # Context caching
//
// CreateCache, ListCaches, GetCache, UpdateCache, DeleteCache, CreateTag,
// ListTags, GetTag, GetTagContent and DeleteTag manage Kimi's explicit
// context caches (Go additions: WaitCacheReady, AllCaches, AllTags). A
// chat request uses a cache through a first CacheMessage, by id or by tag:
//
//	cache, err := sdk.CreateCache(ctx, &onesdk.CacheCreateRequest{Model: "moonshot-v1-128k",
//		Messages: docs, TTL: time.Hour, Tags: []string{"docs"}})
//	cache, err = sdk.WaitCacheReady(ctx, cache.ID)
//	resp, err := sdk.Generate(ctx, &onesdk.Request{
//		Model: "moonshot-v1-128k",
//		Messages: []onesdk.Message{
//			onesdk.CacheMessage(onesdk.CacheRef{Tag: "docs", ResetTTL: time.Hour}),
//			onesdk.UserMessage("What does chapter 2 say?"),
//		},
//	})
//	fmt.Println(resp.Usage.CachedTokens, resp.CacheInfo().TokensSaved)
//
// # Files, document Q&A, tokens, balance
//
// UploadFile, Upload, WaitFileProcessed, ListFiles, GetFile,
// GetFileContent (the decoded extraction), GetFileContentRaw,
// GetFileContentReader and DeleteFile manage Kimi's files; NewDocumentQA
// asks questions about documents. CountTokens is Kimi's free token
// estimation endpoint; package tokencount estimates offline (it is a
// separate package so that programs which do not need it do not link its
// vocabulary). GetBalance returns the account balance.
//
// A provider without an endpoint (Ace Data Cloud has only chat) returns an
// ErrUnsupported error from the methods that need it, without a request.
package onesdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
)

// Config configures New. The zero value works when MOONSHOT_API_KEY is set.
type Config struct {
	// APIKey; empty reads the provider's environment variable
	// (MOONSHOT_API_KEY for kimi, ACEDATA_API_TOKEN for acedata).
	APIKey string
	// APIURL overrides the provider's base URL; empty reads the provider's
	// environment variable (MOONSHOT_BASE_URL, ACEDATA_BASE_URL).
	APIURL string
	// Region picks Moonshot's platform when APIURL is empty: "cn" (default,
	// api.moonshot.cn) or "ai" (api.moonshot.ai). Keys of one do not work
	// on the other.
	Region     string
	HTTPClient *http.Client
	// Retry is the retry policy; nil uses DefaultRetryPolicy().
	Retry *RetryPolicy
	// Proxy is an http, https or socks5 URL; see also SetProxy.
	Proxy string
	// Debug logs every request at debug level to standard error. Logger,
	// if set, is used instead.
	Debug  bool
	Logger *slog.Logger
	// Currency is the currency GetBalance reports ("USD", "CNY"). Empty
	// infers it from the base URL: CNY on api.moonshot.cn, USD on
	// api.moonshot.ai, unknown ("") on any other host, such as a proxy.
	Currency string
	// SkipModelChecks turns off the client's per-model request checks
	// (such as a model's fixed sampling), for when the platform has
	// changed a model's rules before this module knows of it. Wire-level
	// limits are still checked.
	SkipModelChecks bool
	// Admitter, if set, holds every chat request to the account's rate
	// limits before it is sent: a quota.Limiter's Admitter(), which can
	// share one budget across processes and machines (package quota).
	Admitter Admitter
}

// shown is what every printed form of a Config (fmt, slog, JSON) shows:
// whether a key is set, never the key, and URLs without passwords.
type shown struct {
	APIKeySet bool   `json:"api_key_set"`
	APIURL    string `json:"api_url"`
	Region    string `json:"region"`
	Proxy     string `json:"proxy"`
	Debug     bool   `json:"debug"`
}

func (c Config) shown() shown {
	return shown{APIKeySet: c.APIKey != "", APIURL: redactURL(c.APIURL), Region: c.Region,
		Proxy: redactURL(c.Proxy), Debug: c.Debug}
}

// Format makes every fmt verb (%v, %+v, %#v, %s ...) print the Config
// without its key, so that a Config in a log is safe.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprintf(f, "onesdk.Config%+v", c.shown()) }

// String and GoString are what Format prints.
func (c Config) String() string { return fmt.Sprint(c) }

// GoString is String, for callers that ask for it directly.
func (c Config) GoString() string { return c.String() }

// LogValue keeps the key out of slog output.
func (c Config) LogValue() slog.Value {
	v := c.shown()
	return slog.GroupValue(slog.Bool("api_key_set", v.APIKeySet), slog.String("api_url", v.APIURL),
		slog.String("region", v.Region), slog.String("proxy", v.Proxy), slog.Bool("debug", v.Debug))
}

// MarshalJSON writes the Config without its key. A struct that embeds
// Config gets this method too, and marshals as the Config alone: give the
// Config a field name to marshal it among other fields.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.shown()) }

func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := url.Parse(raw); err == nil {
		return kimi.RedactURL(u)
	}
	return "[unparsable URL]"
}

// SDK is the facade for one provider. It is safe for concurrent use.
type SDK struct {
	p      *provider
	client *kimi.Client
}

// New returns the facade for the named provider ("kimi" or its alias
// "moonshot", "acedata"). An unknown name, a missing key, a Region other
// than "cn" or "ai", a malformed APIURL or Proxy is an ErrConfig error
// that says what is expected.
func New(providerName string, cfg Config) (*SDK, error) {
	p := findProvider(providerName)
	if p == nil {
		return nil, kimi.WithKind(fmt.Errorf("onesdk: unknown provider %q; known providers: %s",
			providerName, strings.Join(Providers(), ", ")), ErrConfig)
	}
	key := cfg.APIKey
	if strings.TrimSpace(key) == "" {
		key = os.Getenv(p.keyEnv)
	}
	if strings.TrimSpace(key) == "" {
		return nil, kimi.WithKind(errors.New("onesdk: no API key: set Config.APIKey or the "+p.keyEnv+
			" environment variable"), ErrConfig)
	}
	if r := strings.ToLower(strings.TrimSpace(cfg.Region)); r != "" && !slices.Contains(Regions(), r) {
		// A mistyped region would send the key to the other platform.
		return nil, kimi.WithKind(fmt.Errorf("onesdk: Config.Region %q: want one of %q or empty", cfg.Region, Regions()), ErrConfig)
	}
	base := cfg.APIURL
	if base == "" {
		base = os.Getenv(p.urlEnv)
	}
	if base == "" {
		base = p.baseURL(cfg.Region)
	}
	logger := cfg.Logger
	if logger == nil && cfg.Debug {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c := kimi.NewClient(kimi.Config{APIKey: key, BaseURL: base, HTTPClient: cfg.HTTPClient, Retry: cfg.Retry,
		Logger: logger, Proxy: cfg.Proxy, Currency: cfg.Currency, SkipModelChecks: cfg.SkipModelChecks,
		Provider: p.catalog, NoModelDiscovery: !p.has(featModels), Admitter: cfg.Admitter})
	if err := c.ConfigErr(); err != nil {
		return nil, err
	}
	return &SDK{p: p, client: c}, nil
}

// Provider returns the provider's canonical name.
func (s *SDK) Provider() string { return s.p.name }

// Kimi returns the typed client underneath, for the full Kimi API.
func (s *SDK) Kimi() *kimi.Client { return s.client }

// SetProxy routes later calls through an http, https or socks5 proxy; ""
// returns to the environment's proxy settings. A malformed URL is an
// ErrConfig error.
func (s *SDK) SetProxy(proxyURL string) error { return s.client.SetProxy(proxyURL) }

// ListModels lists the models the account can use. A provider without a
// models endpoint lists the catalogue's models it offers.
func (s *SDK) ListModels(ctx context.Context, opts ...RequestOption) ([]Model, error) {
	if !s.p.has(featModels) {
		return s.p.catalogue(), nil
	}
	l, err := s.client.Models.List(ctx, opts...)
	if err != nil {
		return nil, err
	}
	return l.Data, nil
}

// GetModel returns one model; an unknown id is an ErrNotFound error.
// Moonshot does not document GET /models/{id}; it is served by the API
// and by kimitest.
func (s *SDK) GetModel(ctx context.Context, id string, opts ...RequestOption) (*Model, error) {
	if !s.p.has(featModels) {
		// The catalogue's lookup: any case, a "vendor/" prefix ignored.
		if m, ok := catalog.Lookup(id); ok && m.OfferedBy(s.p.catalog) {
			model := s.p.model(m)
			return &model, nil
		}
		var ids []string
		for _, m := range s.p.catalogue() {
			ids = append(ids, m.ID)
		}
		return nil, kimi.WithKind(fmt.Errorf("onesdk: model %q is not offered by %s; known: %s",
			id, s.p.name, strings.Join(ids, ", ")), ErrNotFound, ErrBadRequest)
	}
	return s.client.Models.Get(ctx, id, opts...)
}

// Generate runs a chat completion (non-streaming). opts add per-call
// settings such as headers (WithHeader).
func (s *SDK) Generate(ctx context.Context, req *Request, opts ...RequestOption) (*Response, error) {
	return s.client.Chat.Create(ctx, req, opts...)
}

// StreamGenerate runs a streamed chat completion. Read it with
// Next/Current (chunk.Text() is the new text) or range over All; Close it
// when done. A stream cut before Kimi's final [DONE] ends with an
// ErrConnection error, never silently.
func (s *SDK) StreamGenerate(ctx context.Context, req *Request, opts ...RequestOption) (*Stream, error) {
	return s.client.Chat.Stream(ctx, req, opts...)
}

// NewConversation starts a multi-turn conversation on model with optional
// system prompts: Send appends each question and answer to the history.
// To trim by tokens, set MaxTokens and CountTokens (package tokencount
// has a counter, tokencount.ChatMessages).
func (s *SDK) NewConversation(model string, system ...string) *Conversation {
	return kimi.NewConversation(s.client.Chat, model, system...)
}

// CountTokens returns the number of prompt tokens messages make for model,
// as Kimi counts them. It calls Kimi's token estimation endpoint, which is
// free: unlike the Python package, which runs a chat completion to read
// its usage, it bills nothing and generates nothing. For an offline
// estimate, see package tokencount.
func (s *SDK) CountTokens(ctx context.Context, model string, messages []Message, opts ...RequestOption) (int, error) {
	return gated(s, featPlatform, func() (int, error) { return s.client.Tokenizers.Estimate(ctx, model, messages, opts...) })
}

// GetBalance returns the account balance. Kimi refuses inference once
// Available is at or below 0 (ErrQuota).
func (s *SDK) GetBalance(ctx context.Context, opts ...RequestOption) (*Balance, error) {
	return gated(s, featPlatform, func() (*Balance, error) { return s.client.Users.Balance(ctx, opts...) })
}
