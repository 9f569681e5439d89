package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/onesdk-go/onesdk/catalog"
)

// Version is the SDK version sent in the User-Agent header.
const Version = "0.1.0"

// Base URLs of the Moonshot open platform.
const (
	BaseURLCN = "https://api.moonshot.cn/v1"
	BaseURLAI = "https://api.moonshot.ai/v1"
)

// Environment variables read by NewClient when the Config leaves the
// corresponding field empty.
const (
	EnvAPIKey  = "MOONSHOT_API_KEY"
	EnvBaseURL = "MOONSHOT_BASE_URL"
)

// ErrNoAPIKey is returned by every call of a client that has no API key
// (neither Config.APIKey nor MOONSHOT_API_KEY was set).
var ErrNoAPIKey = sentinel("kimi: no API key: set Config.APIKey or "+EnvAPIKey, ErrConfig)

// Config configures a Client. The zero value works: the key and base URL are
// read from MOONSHOT_API_KEY and MOONSHOT_BASE_URL, else BaseURLCN is used.
//
// Printing a Config (any fmt verb, slog) redacts the API key and any proxy
// password.
type Config struct {
	APIKey string
	// BaseURL is the API root, with or without a trailing slash. A URL with
	// no path at all ("https://api.moonshot.cn") gets "/v1" appended, since
	// every Moonshot route lives there; a URL with a path (for example Ace
	// Data Cloud's "https://api.acedata.cloud/kimi") is used as given.
	// User info, queries and fragments are rejected.
	BaseURL string
	// HTTPClient is used as given (its Transport, Timeout and Jar), except
	// that the client wraps its CheckRedirect so that the Authorization
	// header never follows a redirect to another origin (scheme, host and
	// port), and a request body (a prompt, a file) is never resent there:
	// a 307 or 308 to another origin of a request with a body fails with
	// an ErrBadRequest error naming the target (without its query). Nil means a client
	// with dial, TLS and response-header timeouts but no overall Timeout:
	// deadlines come from the context, so long streams are not cut.
	HTTPClient *http.Client
	// Retry is the retry policy; nil means DefaultRetryPolicy. A policy with
	// MaxRetries 0 disables retries.
	Retry  *RetryPolicy
	Logger *slog.Logger // nil: no logging
	// Proxy is an http, https, socks5 or socks5h proxy URL. Empty uses the
	// environment as it is when NewClient runs (http.ProxyFromEnvironment
	// reads it once per process), by the rules of
	// golang.org/x/net/http/httpproxy: HTTPS_PROXY for https URLs and
	// HTTP_PROXY for http ones (lower-case names first; HTTP_PROXY is
	// refused with an error in a CGI process). NO_PROXY lists hosts,
	// domains (with their subdomains), IP addresses and CIDR ranges that
	// are reached directly, "*" meaning all; names are compared in IDNA
	// (punycode) form. localhost and loopback addresses are never proxied.
	// In addition, when HTTPS_PROXY and HTTP_PROXY are both unset,
	// ALL_PROXY or all_proxy (typically a socks5:// URL) serves both. The
	// environment is read only for the client's own HTTP client: a custom
	// HTTPClient keeps its transport's Proxy unless SetProxy is called.
	Proxy string
	// UserAgent is prepended to "onesdk-go/<Version>" in the User-Agent
	// header.
	UserAgent string
	// Currency is the ISO code reported in Balance.Currency. Empty infers
	// it from the base URL's host: "CNY" for moonshot.cn, "USD" for
	// moonshot.ai (its api-sg host included), "" (unknown) for any other
	// host such as a gateway. Set it when a proxy or gateway fronts one of
	// the platforms.
	Currency string
	// SkipModelChecks turns off the client-side rules that depend on the
	// model (from package catalog: kimi-k2.5's fixed sampling, thinking
	// that cannot be turned off, n > 1 with a default temperature of 0,
	// explicit caches only on moonshot-v1 models) in Chat.Create and
	// Chat.Stream, so that a request is judged as for a model the
	// catalogue does not know. The wire-level checks (ranges, counts,
	// sizes, message structure) stay. Use it when the server's rules have
	// changed before this module's catalogue did; ChatRequest.Validate
	// always checks everything.
	SkipModelChecks bool
	// Provider is the platform behind BaseURL, by package catalog's name:
	// "" or catalog.ProviderMoonshot for Moonshot's, or
	// catalog.ProviderAceData. It decides the per-provider rules
	// (catalog.RulesFor): the field the answer budget is sent in
	// (max_completion_tokens on Moonshot, max_tokens on Ace Data Cloud)
	// and whether fixed sampling parameters are refused here.
	Provider string
	// NoModelDiscovery keeps Chat.Create and Chat.Stream from asking
	// GET /models, once per client, for the rules of a model the
	// catalogue does not know (its thinking type, reasoning efforts,
	// tools and media). Without them such a model gets only the generic
	// checks. Set it for a platform without a models endpoint.
	NoModelDiscovery bool
	// Admitter, if set, holds every chat request (each attempt of it) to
	// the account's rate limits before it is sent: package quota's
	// Limiter, through quota.Admitter, shared by every client, process
	// and machine that uses the same store.
	Admitter Admitter
}

// String describes the config without the API key.
func (c Config) String() string {
	key := "unset"
	if c.APIKey != "" {
		key = "[REDACTED]"
	}
	retry := "default"
	if c.Retry != nil {
		retry = fmt.Sprintf("%+v", *c.Retry)
	}
	return fmt.Sprintf("kimi.Config{APIKey: %s, BaseURL: %q, Proxy: %q, UserAgent: %q, Retry: %s, HTTPClient: %t, Logger: %t}",
		key, redactURL(c.BaseURL), redactURL(c.Proxy), c.UserAgent, retry, c.HTTPClient != nil, c.Logger != nil)
}

// GoString is String, so that %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %d, ...) print String: the
// default struct formatting would print the key.
func (c Config) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// shownConfig is what the logged and marshalled forms of a Config show:
// whether a key is set, never the key, and URLs without passwords.
type shownConfig struct {
	APIKeySet bool   `json:"api_key_set"`
	BaseURL   string `json:"base_url,omitempty"`
	Proxy     string `json:"proxy,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Provider  string `json:"provider,omitempty"`
}

func (c Config) shown() shownConfig {
	return shownConfig{c.APIKey != "", redactURL(c.BaseURL), redactURL(c.Proxy), c.UserAgent, c.Provider}
}

// LogValue keeps the key out of slog output.
func (c Config) LogValue() slog.Value {
	v := c.shown()
	return slog.GroupValue(
		slog.Bool("api_key_set", v.APIKeySet),
		slog.String("base_url", v.BaseURL),
		slog.String("proxy", v.Proxy),
		slog.String("user_agent", v.UserAgent),
		slog.String("provider", v.Provider),
	)
}

// MarshalJSON writes what LogValue shows. A Config is not meant to be
// read back from JSON (it holds a client, a logger and an admitter). A
// struct that embeds Config gets this method too, and marshals as the
// Config alone: give the Config a field name to marshal it among other
// fields.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.shown()) }

// Client talks to the Kimi API. Each resource has its own service. A Client
// is safe for concurrent use.
type Client struct {
	Chat   *ChatService
	Models *ModelService
	Caches *CacheService // context caching (/caching)
	Tags   *TagService   // cache tags (/caching/refs/tags)
	Files  *FileService  // file upload and extraction (/files)
	// Tokenizers estimates prompt sizes (/tokenizers/estimate-token-count).
	Tokenizers *TokenizerService
	Users      *UserService // account balance (/users/me/balance)
	// Batches runs files of chat requests server-side (/batches).
	Batches *BatchService
	// Formulas lists and runs Kimi's official tools (/formulas).
	Formulas *FormulaService

	// key is a func (see secret), never a string: fmt cannot call
	// methods on unexported fields, so only the field's type keeps the
	// key out of a printed Client value.
	key       secret
	baseURL   string
	userAgent string
	retry     RetryPolicy
	log       *slog.Logger
	currency  string // Config.Currency, else inferred from the base URL
	// skipModelChecks is Config.SkipModelChecks.
	skipModelChecks bool
	// provider is catalog.RulesFor(Config.Provider).
	provider catalog.ProviderRules
	// learnModels is !Config.NoModelDiscovery; learned holds what was
	// learned.
	learnModels bool
	learned     learnedModels
	admitter    Admitter
	// maxUpload is the per-file upload limit, MaxFileBytes; tests lower it.
	maxUpload int64
	// cfgErr is a Config problem (bad base URL or proxy) reported by every
	// call, since NewClient cannot return an error.
	cfgErr error

	hc    atomic.Pointer[http.Client]
	proxy atomic.Pointer[url.URL] // set by SetProxy; nil: fallbackProxy

	mu            sync.Mutex // serialises SetProxy
	ownClient     bool       // hc was built here and its transport reads proxy
	hooked        bool       // a custom client's transport was cloned to read proxy
	fallbackProxy func(*http.Request) (*url.URL, error)

	// sleep waits between attempts; tests replace it to observe waits.
	sleep func(ctx context.Context, d time.Duration) error
}

// secret holds the API key as a function: fmt prints a func as an
// address whatever the verb, and reflection cannot read what it closes
// over, so no printed form of a Client or Stream (%v, %s, %x, even a bad
// verb, which makes fmt dereference pointers) carries the key.
type secret func() string

func newSecret(key string) secret { return func() string { return key } }

// value is the key; "" for none.
func (s secret) value() string {
	if s == nil {
		return ""
	}
	return s()
}

// ChatService is POST /chat/completions.
type ChatService struct{ c *Client }

// ModelService is GET /models and GET /models/{id}.
type ModelService struct{ c *Client }

// NewClient returns a client for cfg. Configuration errors (a malformed
// base URL or proxy) are returned by the first call, not here.
func NewClient(cfg Config) *Client {
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv(EnvAPIKey)
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = os.Getenv(EnvBaseURL)
	}
	c := &Client{
		key:       newSecret(strings.TrimSpace(cfg.APIKey)),
		userAgent: "onesdk-go/" + Version,
		retry:     DefaultRetryPolicy(),
		log:       cfg.Logger,
		sleep:     sleepCtx,

		fallbackProxy: envProxy(),
	}
	if cfg.UserAgent != "" {
		c.userAgent = cfg.UserAgent + " " + c.userAgent
	}
	if cfg.Retry != nil {
		c.retry = *cfg.Retry
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if c.baseURL, err = normalizeBaseURL(cfg.BaseURL); err != nil {
		c.cfgErr = configError(err)
	}
	c.currency = cfg.Currency
	c.skipModelChecks = cfg.SkipModelChecks
	c.provider = catalog.RulesFor(cfg.Provider)
	c.learnModels = !cfg.NoModelDiscovery
	c.admitter = cfg.Admitter
	if c.currency == "" {
		c.currency = currencyOf(c.baseURL)
	}
	c.maxUpload = MaxFileBytes

	if cfg.HTTPClient == nil {
		c.ownClient = true
		c.hc.Store(c.defaultHTTPClient())
	} else {
		hc := *cfg.HTTPClient // shallow copy: the caller's client is not modified
		hc.CheckRedirect = stripAuthOnRedirect(cfg.HTTPClient.CheckRedirect)
		c.hc.Store(&hc)
	}
	if cfg.Proxy != "" {
		if err := c.setProxy(cfg.Proxy, "Config.Proxy"); err != nil && c.cfgErr == nil {
			c.cfgErr = configError(err)
		}
	}
	c.Chat = &ChatService{c}
	c.Models = &ModelService{c}
	c.Caches = &CacheService{c}
	c.Tags = &TagService{c}
	c.Files = &FileService{c}
	c.Batches = &BatchService{c}
	c.Formulas = &FormulaService{c}
	c.Tokenizers = &TokenizerService{c}
	c.Users = &UserService{c}
	return c
}

// ConfigErr returns the Config's problem (a malformed base URL or proxy),
// an ErrConfig error that every call also returns, or nil. NewClient
// cannot return an error; a caller that wants to fail early checks this.
func (c *Client) ConfigErr() error { return c.cfgErr }

// BaseURL returns the normalized API root the client sends requests to.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("kimi.Client{BaseURL: %q, APIKeySet: %t}", c.baseURL, c.key.value() != "")
}

// GoString is String, so that %#v does not print the key either.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb print String.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// LogValue keeps the key out of slog output.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.baseURL), slog.Bool("api_key_set", c.key.value() != ""))
}

func normalizeBaseURL(raw string) (string, error) {
	if raw == "" {
		return BaseURLCN, nil
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Parse echoes the input; it may hold user info, so don't wrap it.
		return "", errors.New("kimi: base URL is malformed")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("kimi: base URL %q: scheme must be http or https", RedactURL(u))
	case u.Host == "":
		return "", fmt.Errorf("kimi: base URL %q: missing host", RedactURL(u))
	case u.User != nil:
		return "", fmt.Errorf("kimi: base URL %q: must not contain user info; use Config.APIKey", RedactURL(u))
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("kimi: base URL %q: must not contain a query or fragment", RedactURL(u))
	}
	s := strings.TrimRight(u.String(), "/")
	if strings.Trim(u.EscapedPath(), "/") == "" {
		s += "/v1"
	}
	return s, nil
}

// Timeouts of the default transport. There is deliberately no overall
// timeout: a long generation is bounded by the caller's context.
const (
	dialTimeout     = 30 * time.Second
	tlsTimeout      = 15 * time.Second
	idleConnTimeout = 90 * time.Second
	// A non-streaming completion sends no header until generation ends and
	// the gateway gives up after 900 s with a 504, so anything shorter would
	// cut legitimate calls. This only catches a server that went silent.
	responseHeaderTimeout = 16 * time.Minute
)

func (c *Client) defaultHTTPClient() *http.Client {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 c.proxyFunc,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: stripAuthOnRedirect(nil)}
}

// envProxy reads the proxy environment now and returns the proxy function
// for it: httpproxy's rules (those of http.ProxyFromEnvironment) plus
// ALL_PROXY. http.ProxyFromEnvironment reads the environment once per
// process, so a later change, or a second client built after it, would
// not be seen; and it ignores ALL_PROXY, which curl honours and which
// commonly names a SOCKS proxy.
func envProxy() func(*http.Request) (*url.URL, error) {
	cfg := httpproxy.Config{
		HTTPProxy:  envAny("http_proxy", "HTTP_PROXY"),
		HTTPSProxy: envAny("https_proxy", "HTTPS_PROXY"),
		NoProxy:    envAny("no_proxy", "NO_PROXY"),
		CGI:        os.Getenv("REQUEST_METHOD") != "",
	}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		all := envAny("all_proxy", "ALL_PROXY")
		if all == "" {
			return func(*http.Request) (*url.URL, error) { return nil, nil }
		}
		// httpproxy refuses HTTP_PROXY in a CGI process because a
		// request's "Proxy:" header arrives as HTTP_PROXY; no header can
		// set ALL_PROXY, so it is safe there.
		cfg.HTTPProxy, cfg.HTTPSProxy, cfg.CGI = all, all, false
	}
	proxyForURL := cfg.ProxyFunc()
	return func(req *http.Request) (*url.URL, error) {
		u, err := proxyForURL(req.URL)
		if err != nil {
			return nil, fmt.Errorf("kimi: %w", err)
		}
		return u, nil
	}
}

// envAny returns the first of the variables that is set to something other
// than blanks, trimmed: httpproxy would take " http://p:3128" as malformed
// and silently go direct.
func envAny(names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return ""
}

// proxyFunc is the Proxy of transports the client controls: the URL set by
// SetProxy, else the environment (or, for a cloned custom transport, its
// original Proxy).
func (c *Client) proxyFunc(req *http.Request) (*url.URL, error) {
	if u := c.proxy.Load(); u != nil {
		return u, nil
	}
	if c.fallbackProxy == nil {
		return nil, nil
	}
	return c.fallbackProxy(req)
}

// SetProxy routes requests through an http, https, socks5 or socks5h proxy
// (user info in the URL is used for proxy authentication); "" returns to
// the environment's proxy settings as read by NewClient (see Config.Proxy;
// for a custom HTTPClient: to its transport's own Proxy). It is safe to call while requests are
// in flight; they keep the proxy they started with.
//
// With a custom Config.HTTPClient, its *http.Transport is cloned (never
// modified) and the clone is used from then on; any other RoundTripper
// makes SetProxy fail, because the client cannot know how it dials.
func (c *Client) SetProxy(rawURL string) error {
	if err := c.setProxy(rawURL, "proxy"); err != nil {
		return configError(err)
	}
	return nil
}

// setProxy sets the proxy; an error names the URL as field.
func (c *Client) setProxy(rawURL, field string) error {
	var pu *url.URL
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("kimi: %s: malformed URL", field) // the input may hold a password
		}
		switch u.Scheme {
		case "http", "https", "socks5", "socks5h":
		default:
			return fmt.Errorf("kimi: %s %q: scheme must be http, https, socks5 or socks5h", field, RedactURL(u))
		}
		if u.Host == "" {
			return fmt.Errorf("kimi: %s %q: missing host", field, RedactURL(u))
		}
		pu = u
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ownClient && !c.hooked {
		hc := c.hc.Load()
		rt := hc.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		t, ok := rt.(*http.Transport)
		if !ok {
			return fmt.Errorf("kimi: SetProxy: the custom HTTPClient's transport is a %T, not an *http.Transport; configure its proxy directly", rt)
		}
		t = t.Clone()
		c.fallbackProxy = t.Proxy
		t.Proxy = c.proxyFunc
		nc := *hc
		nc.Transport = t
		c.hc.Store(&nc)
		c.hooked = true
	}
	c.proxy.Store(pu)
	return nil
}

// stripAuthOnRedirect returns a CheckRedirect that drops the Authorization
// header when a redirect leaves the original origin (scheme, host and
// port), then applies next (or net/http's default limit of 10 redirects).
// net/http itself keeps the header for the same host name on another port
// and for subdomains, which is not enough for an API key. A 307 or 308
// would also resend the body (a prompt, a file) to the other origin, so
// such a redirect of a request with a body is refused with a
// *redirectError.
func stripAuthOnRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if origin(req.URL) != origin(via[0].URL) {
			if req.Body != nil && req.Body != http.NoBody {
				re := &redirectError{target: logURL(req.URL)}
				if req.Response != nil {
					re.status = req.Response.StatusCode
				}
				return re
			}
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// origin is u's scheme, lower-case host and port (the scheme's default
// when u has none).
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// redirectError is a redirect to another origin that would have resent
// the request's body there; it is refused. Its kind is ErrBadRequest:
// repeating the call cannot help, the base URL must name the origin that
// serves the API.
type redirectError struct {
	status int
	target string // without query: it may carry a token
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("refused a %d redirect to another origin, which would resend the request body: %s", e.status, e.target)
}

func (e *redirectError) errorKinds() []error { return []error{ErrBadRequest} }

// Is reports whether target is ErrBadRequest or ErrInvoke.
func (e *redirectError) Is(target error) bool { return hasKind(e.errorKinds(), target) }

// streamBody is a request body that newRequest sends as it is rather than
// encoding it as JSON (file uploads).
type streamBody struct {
	body        io.ReadCloser
	getBody     func() (io.ReadCloser, error) // nil: the body cannot be replayed, so it is not retried
	contentType string
	length      int64 // -1: unknown (chunked)
}

// newRequest builds a request for path (relative to the base URL) with body
// encoded as JSON when it is not nil, or sent as is when it is a
// *streamBody. Every call goes through it, with the caller's options. The
// options' headers are copied first, then the client's own headers are
// set, so a caller cannot override Authorization. Accept defaults to the
// options' acceptByDefault, else application/json, or text/event-stream
// when body is a ChatRequest with Stream set; an Accept header wins.
func (c *Client) newRequest(ctx context.Context, method, path string, body any, opts []RequestOption) (*http.Request, error) {
	return c.requestWith(ctx, method, path, body, applyOptions(opts))
}

// requestWith is newRequest with the options already applied, for a
// caller that has looked at them first (Chat checks the cache headers):
// an option is then run once per call.
func (c *Client) requestWith(ctx context.Context, method, path string, body any, o callOptions) (*http.Request, error) {
	if c.cfgErr != nil {
		return nil, c.cfgErr
	}
	if c.key.value() == "" {
		return nil, ErrNoAPIKey
	}
	if !validHeaderValue(c.key.value()) {
		// Never echo the key: say only what is wrong with it.
		return nil, configError(errors.New("kimi: API key contains characters not allowed in an HTTP header"))
	}
	var r io.Reader
	sb, _ := body.(*streamBody)
	if sb != nil {
		r = sb.body
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, WithKind(fmt.Errorf("kimi: encode request: %w", err), ErrBadRequest)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+"/"+strings.TrimLeft(path, "/"), r)
	if err != nil {
		return nil, configError(fmt.Errorf("kimi: build request: %w", err))
	}
	for k, v := range o.header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	switch {
	case sb != nil:
		req.GetBody, req.ContentLength = sb.getBody, sb.length
		req.Header.Set("Content-Type", sb.contentType)
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		accept := o.accept
		switch {
		case accept != "":
		case wantsStream(body):
			accept = "text/event-stream"
		default:
			accept = "application/json"
		}
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Authorization", "Bearer "+c.key.value())
	return req, nil
}

// call sends one request and decodes its JSON answer into a new T: the
// shape of every method that returns one object.
func call[T any](ctx context.Context, c *Client, method, path string, body any, opts []RequestOption) (*T, error) {
	req, err := c.newRequest(ctx, method, path, body, opts)
	if err != nil {
		return nil, err
	}
	v := new(T)
	if _, err := c.do(req, v); err != nil {
		return nil, err
	}
	return v, nil
}

// get is call for a GET.
func get[T any](ctx context.Context, c *Client, path string, opts []RequestOption) (*T, error) {
	return call[T](ctx, c, http.MethodGet, path, nil, opts)
}

func wantsStream(body any) bool {
	switch b := body.(type) {
	case *ChatRequest:
		return b != nil && b.Stream
	case ChatRequest:
		return b.Stream
	}
	return false
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f {
			return false
		}
	}
	return true
}

// redactURL returns raw with any password replaced, for printing.
func redactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	return RedactURL(u)
}

// RedactURL is u with all of its user info masked: the user name too,
// which url.URL.Redacted keeps and which may be a token
// (https://ghp_…@host).
func RedactURL(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	c := *u
	c.User = url.User("xxxxx")
	return c.String()
}

// logURL is the request URL for logs: no user info, no query.
func logURL(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// A schedule spaces poll's calls: the first is immediate, then the waits
// grow from first by half each time up to limit, each drawn from
// [w/2, w] so that many pollers spread out.
type schedule struct{ first, limit time.Duration }

// poll waits for the object kind id (a cache, a file): it calls get (with
// opts) on the schedule until settled says the object has settled, and
// returns it with settled's error. An empty id is refused before any
// call. A failed get (a deadline during the read, a 404 after a delete)
// ends the poll with its error, a wait cut by ctx with an error naming
// what is awaited and its status; either way the object as last seen
// (nil if none) comes with the error.
func poll[T any](ctx context.Context, c *Client, kind, id string, opts []RequestOption, sched schedule,
	get func(context.Context, string, ...RequestOption) (*T, error),
	settled func(*T) (status string, done bool, err error)) (*T, error) {
	if err := validateID(kind+" id", id); err != nil {
		return nil, err
	}
	var last *T
	wait := sched.first
	for {
		v, err := get(ctx, id, opts...)
		if err != nil {
			return last, err
		}
		last = v
		status, done, err := settled(v)
		if done {
			return v, err
		}
		if err := c.sleep(ctx, wait/2+rand.N(wait/2+1)); err != nil {
			return v, fmt.Errorf("kimi: waiting for %s %s (status %s): %w", kind, id, status, err)
		}
		wait = min(wait*3/2, sched.limit)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return interrupted(ctx.Err())
	}
}
