package kimitest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// Account is one emulated organization. As on Kimi, rate limits, balance
// and resources belong to the organization, not the key: every key of an
// Account (Key and Keys) counts against the same limits, draws on the same
// balance and sees the same files, caches and tags. Accounts are isolated
// from one another.
type Account struct {
	Key string // API key, "sk-…"; the Emulator methods that take a key accept any of the Account's keys
	// Keys are further API keys of the same organization. Each is quoted
	// in error messages by its own access-key id.
	Keys []string
	// OrgID is the organization id quoted in 429 messages and sent as
	// Msh-Org-Id; default derived from Key, "org-" and 32 hex digits.
	OrgID string
	// ProjectID is the Msh-Project-Id header: default derived from Key,
	// "proj-" and 32 hex digits (the organization's default project).
	ProjectID string
	UserID    string // Msh-Uid header: 20 lowercase alphanumerics; default derived from Key
	Tier      string // Msh-Gid header; default "enterprise-tier-5"
	Limits    Limits // zero value: the WithLimits default (itself unlimited by default)
	// Balance is the starting cash balance in Currency. Charges (chat
	// tokens, $web_search calls, context-cache fees; see Emulator.Ledger)
	// are taken from Voucher first, then from Balance, which may go
	// negative (arrears). While the available balance (Voucher left plus
	// Balance when positive) is ≤ 0, inference is refused with 429
	// exceeded_current_quota_error. A negative Balance with no Voucher
	// therefore simulates a suspended account from the start. An account
	// that sets neither Balance nor Voucher starts with DefaultBalance.
	Balance float64
	// Voucher is the starting voucher balance (the balance endpoint's
	// voucher_balance);
	// negative values count as 0.
	Voucher float64
	// Currency of the balance and of every charge: "USD" (the default, the
	// .ai platform) or "CNY" (the .cn platform;
	// USD prices × CNYPerUSD, an approximation: the emulator does not model
	// the CNY list prices, which differ model by model). Other values make
	// New panic.
	Currency string
}

// DefaultBalance is the starting cash balance of an account that sets
// neither Balance nor Voucher: large enough never to run out in tests.
const DefaultBalance = 1000.0

// DefaultKey is the key of the account used when no account is configured.
const DefaultKey = "sk-kimitest"

// Option configures an Emulator.
type Option func(*config)

type config struct {
	accounts    []Account
	limits      Limits
	timeScale   float64
	rules       []Rule
	faults      []Fault
	models      []ModelSpec
	logger      *slog.Logger
	streamDelay time.Duration
	cacheReady  time.Duration // WithCacheReadyDelay
	fileLimits  FileLimits    // WithFileLimits
	cacheStrict bool          // WithStrictCacheRevival (caching.go)
	bodyTimeout time.Duration // body read deadline; bodyReadTimeout except in tests
	retired     bool          // WithRetiredModels
	retryAfter  bool          // WithRetryAfterHeader

	fetchPages map[string]fetchPage // WithFetchPage (formula_tools.go)
	fileIDs    string               // WithFileIDPrefix
}

// WithAccount adds an account (an organization with one or more keys);
// repeatable, each call is its own organization.
func WithAccount(a Account) Option { return func(c *config) { c.accounts = append(c.accounts, a) } }

// WithKey adds an account with key and default settings for the rest.
func WithKey(key string) Option { return WithAccount(Account{Key: key}) }

// WithTimeScale makes emulated time run scale times faster than real time
// (60: a minute passes in one real second). It drives rate-limit windows,
// cache TTLs and "created".
func WithTimeScale(scale float64) Option { return func(c *config) { c.timeScale = scale } }

// WithRule adds a scripted reply; rules are tried in the order added.
func WithRule(r Rule) Option { return func(c *config) { c.rules = append(c.rules, r) } }

// WithFaults injects faults (see Fault).
func WithFaults(f ...Fault) Option { return func(c *config) { c.faults = append(c.faults, f...) } }

// WithLimits sets the rate limits of accounts that do not set their own.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithModels replaces the model catalogue.
func WithModels(m ...ModelSpec) Option {
	return func(c *config) { c.models = append([]ModelSpec(nil), m...) }
}

// WithRetiredModels serves again the models Moonshot has retired
// (RetiredModels: the K2 line, kimi-latest, kimi-thinking-preview), after
// the catalogue, for test suites written against them. Without it they
// are unknown: 404 "Not found the model {id} or Permission denied", as on
// Kimi.
func WithRetiredModels() Option { return func(c *config) { c.retired = true } }

// WithRetryAfterHeader adds a Retry-After header (whole seconds) to the
// 429s of the rate limits. Kimi sends none (a 2026 capture has neither it
// nor X-RateLimit-*): the wait is only in the message, "please try again
// after N seconds", which is all a client should rely on.
func WithRetryAfterHeader() Option { return func(c *config) { c.retryAfter = true } }

// WithLogger logs one line per request; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithStreamDelay waits d (real time) before each SSE chunk after the
// first, so that clients can observe incremental delivery.
func WithStreamDelay(d time.Duration) Option { return func(c *config) { c.streamDelay = d } }

// WithCacheReadyDelay sets how long (emulated time) an explicit context
// cache stays pending after creation or update before it becomes ready.
// The default is 2 s; the real service takes 40–60 s. 0 makes caches
// ready at once.
func WithCacheReadyDelay(d time.Duration) Option {
	return func(c *config) { c.cacheReady = max(d, 0) }
}

// WithFileLimits sets the per-account file limits (by default the
// documented 1,000 files, 100 MB each, 10 GB in all); zero fields keep the
// default. Tests use it to exercise the limit errors without uploading
// 100 MB.
func WithFileLimits(l FileLimits) Option { return func(c *config) { c.fileLimits = l } }

// WithFileIDPrefix makes new file ids prefix plus 20 characters. By
// default they are the 20 lower-case letters and digits POST /v1/files has
// always answered; the platform announced file_-prefixed ids from
// 2026-08-31, so WithFileIDPrefix("file_") tests that code treats ids as
// opaque. Chat's ms:// references and the formulas accept either.
func WithFileIDPrefix(prefix string) Option { return func(c *config) { c.fileIDs = prefix } }

// WithFetchPage registers a page the fetch formula
// (moonshot/fetch:latest) can fetch: the emulator never goes to the
// network, so every other URL fails as if offline. contentType "" is
// taken as HTML, as the MCP fetch server the tool comes from does.
func WithFetchPage(url, contentType, body string) Option {
	return func(c *config) {
		if c.fetchPages == nil {
			c.fetchPages = make(map[string]fetchPage)
		}
		c.fetchPages[url] = fetchPage{contentType: contentType, body: body}
	}
}

// org is the runtime state of an Account, shared by all its keys.
type org struct {
	Account
	cache  *prefixCache
	caches *cacheStore // explicit context caches and tags (caching.go)
	ledger *ledger     // billing charges (ledger.go)
	files  *fileStore  // uploaded files (files.go)

	memory *memoryStore // the memory formula's key-value store (formula_tools.go)

	// The per-account response headers, each built once (net/http only
	// reads them).
	hdrUID, hdrGID, hdrOrg, hdrProject []string
}

// account is an org as reached through one of its keys: the state is the
// org's, only the access-key id quoted in errors is the key's own.
type account struct {
	*org
	akID string // access-key id quoted in error messages (never the secret)
}

// admit charges a request of tokens against the org's limits (one usage
// record per org, under its primary Key) and names the calling key in a
// refusal.
func (e *Emulator) admit(a *account, tokens int) (release func(), err *apiError) {
	return e.limiter.admitAs(a.Account.Key, a.OrgID, a.akID, a.Limits, tokens)
}

// admitPaid admits a paid request and then refuses it (releasing the
// slot) if the account's balance is spent: the limits are checked first,
// as on the platform, so a spent account still sees its 429 for a rate.
func (e *Emulator) admitPaid(a *account, tokens int) (release func(), err *apiError) {
	release, err = e.admit(a, tokens)
	if err != nil {
		return nil, err
	}
	if err := e.quotaError(a); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// Emulator is a local Kimi API. It is an http.Handler serving paths under
// /v1 and is safe for concurrent use.
type Emulator struct {
	cfg       config
	clock     *clock
	limiter   *limiter
	accounts  map[string]*account // by key
	firstKey  string
	models    map[string]ModelSpec
	modelList []ModelSpec
	mux       *http.ServeMux
	handler   http.Handler
	blobs     *blobDir // on-disk file storage (files.go)
	kimiChat  chatRoute
	aceChat   chatRoute

	reqSeq atomic.Uint64
	node   [6]byte // node part of request ids
}

// New returns an Emulator configured by opts.
func New(opts ...Option) *Emulator {
	cfg := config{timeScale: 1, cacheReady: defaultCacheReadyDelay, bodyTimeout: bodyReadTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.timeScale <= 0 {
		cfg.timeScale = 1
	}
	cfg.fileLimits = cfg.fileLimits.withDefaults()
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	if cfg.models == nil {
		cfg.models = DefaultModels()
	}
	if cfg.retired {
		for _, m := range RetiredModels() {
			if !slices.ContainsFunc(cfg.models, func(x ModelSpec) bool { return x.ID == m.ID }) {
				cfg.models = append(cfg.models, m)
			}
		}
	}
	for _, m := range cfg.models {
		m.checkDefaultEffort()
	}
	if len(cfg.accounts) == 0 {
		cfg.accounts = []Account{{Key: DefaultKey}}
	}
	e := &Emulator{
		cfg:       cfg,
		clock:     newClock(cfg.timeScale),
		accounts:  make(map[string]*account),
		models:    make(map[string]ModelSpec),
		modelList: cfg.models,
		blobs:     &blobDir{},
	}
	e.limiter = newLimiter(e.clock)
	e.limiter.retryAfterHeader = cfg.retryAfter
	rand.Read(e.node[:])
	e.node[0] |= 1 // multicast bit: marks a random node id, as RFC 4122 asks
	for _, m := range cfg.models {
		e.models[m.ID] = m
	}
	for i, a := range cfg.accounts {
		if i == 0 {
			e.firstKey = a.Key
		}
		o := e.newOrg(a)
		for _, k := range append([]string{a.Key}, a.Keys...) {
			e.accounts[k] = &account{org: o, akID: akID(k)}
		}
	}
	e.kimiChat = chatRoute{models: e.models, provider: catalog.RulesFor(catalog.ProviderMoonshot)}
	e.aceChat = chatRoute{models: aceSpecs(), provider: catalog.RulesFor(catalog.ProviderAceData)}
	e.mux = e.buildMux()
	// Compression sits outside the faults, as a gateway in front of a
	// faulty server would: a fault's malformed body still arrives as valid
	// gzip.
	e.handler = guard(cfg.logger, cfg.bodyTimeout, compress(newFaults(cfg.faults).wrap(http.HandlerFunc(e.serve))))
	return e
}

func (e *Emulator) newOrg(a Account) *org {
	sum := sha256.Sum256([]byte(a.Key))
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	id := make([]byte, 20)
	for i := range id {
		id[i] = alnum[int(sum[i])%len(alnum)]
	}
	if a.UserID == "" {
		a.UserID = string(id)
	}
	if a.OrgID == "" {
		a.OrgID = "org-" + derivedHex("org", a.Key)
	}
	if a.ProjectID == "" {
		a.ProjectID = "proj-" + derivedHex("proj", a.Key)
	}
	if a.Tier == "" {
		a.Tier = "enterprise-tier-5"
	}
	if a.Limits == (Limits{}) {
		a.Limits = e.cfg.limits
	}
	// akID (ratelimit.go) derives the id the limiter quotes, so both 429
	// texts name the same access key.
	switch a.Currency {
	case "":
		a.Currency = "USD"
	case "USD", "CNY":
	default:
		panic(fmt.Sprintf("kimitest: account %q: unsupported currency %q (want USD or CNY)", a.Key, a.Currency))
	}
	if a.Balance == 0 && a.Voucher == 0 {
		a.Balance = DefaultBalance
	}
	a.Voucher = max(a.Voucher, 0)
	a.Keys = slices.Clone(a.Keys) // the caller's slice stays the caller's
	return &org{Account: a, cache: newPrefixCache(), caches: newCacheStore(),
		hdrUID: []string{a.UserID}, hdrGID: []string{a.Tier}, hdrOrg: []string{a.OrgID}, hdrProject: []string{a.ProjectID},
		ledger: newLedger(a.Currency), files: newFileStore(), memory: &memoryStore{}}
}

// derivedHex is 32 hex digits derived from a key, for the ids an account
// leaves unset: stable across runs, and distinct per purpose.
func derivedHex(purpose, key string) string {
	sum := sha256.Sum256([]byte("kimitest-" + purpose + "\x00" + key))
	return hex.EncodeToString(sum[:16])
}

// Close releases what the emulator holds outside memory: the temporary
// directory of uploaded files (files.go). Server.Close calls it; users of
// New that upload files should call it too. Uploads after Close that need
// the disk fail with 500.
func (e *Emulator) Close() error { return e.blobs.close() }

// ServeHTTP implements http.Handler.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// authHandler is a route handler that runs for an authenticated account.
type authHandler func(w http.ResponseWriter, r *http.Request, a *account)

type route struct {
	pattern string // http.ServeMux pattern, "METHOD /v1/path"
	handler authHandler
}

// routes is the emulator's whole route table; everything not listed gets
// the gateway's non-OpenAI 404 body, as on Kimi.
func (e *Emulator) routes() []route {
	return []route{
		{"POST /v1/chat/completions", e.handleChat},
		{"GET /v1/models", e.handleListModels},
		{"GET /v1/models/{id}", e.handleGetModel},
		// Explicit context caching and tags (caching.go, tags.go).
		{"POST /v1/caching", e.handleCreateCache},
		{"GET /v1/caching", e.handleListCaches},
		{"GET /v1/caching/{id}", e.handleGetCache},
		{"PUT /v1/caching/{id}", e.handleUpdateCache},
		{"DELETE /v1/caching/{id}", e.handleDeleteCache},
		{"POST /v1/caching/refs/tags", e.handleCreateTag},
		{"GET /v1/caching/refs/tags", e.handleListTags},
		{"GET /v1/caching/refs/tags/{tag}", e.handleGetTag},
		{"GET /v1/caching/refs/tags/{tag}/content", e.handleGetTagContent},
		{"DELETE /v1/caching/refs/tags/{tag}", e.handleDeleteTag},
		// Files (files.go, extract.go).
		{"POST /v1/files", e.handleUploadFile},
		{"GET /v1/files", e.handleListFiles},
		{"GET /v1/files/{id}", e.handleGetFile},
		{"GET /v1/files/{id}/content", e.handleFileContent},
		{"DELETE /v1/files/{id}", e.handleDeleteFile},
		// Token estimation (estimate.go) and balance (balance.go).
		{"POST /v1/tokenizers/estimate-token-count", e.handleEstimateTokens},
		{"GET /v1/users/{user}/balance", e.handleBalance},
		// Batches (batches.go).
		{"POST /v1/batches", e.handleCreateBatch},
		{"GET /v1/batches", e.handleListBatches},
		{"GET /v1/batches/{id}", e.handleGetBatch},
		{"POST /v1/batches/{id}/cancel", e.handleCancelBatch},
		// Official tools (formulas.go); {ref} is "name:tag".
		{"GET /v1/formulas/{ns}/{ref}/tools", e.handleFormulaTools},
		{"POST /v1/formulas/{ns}/{ref}/fibers", e.handleFormulaFiber},
	}
}

// serve dispatches by route, then sets the common headers and checks auth.
func (e *Emulator) serve(w http.ResponseWriter, r *http.Request) {
	rw := &respWriter{ResponseWriter: w, start: time.Now()}
	h := rw.Header()
	h.Set("Msh-Request-Id", e.requestID())
	h.Set("X-Msh-Trace-Id", traceID())
	h.Set("Content-Type", "application/json; charset=utf-8")
	// The user headers go on every response of a known key, gateway 404s
	// included; without a valid key there is no user to name.
	if _, key, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok {
		if a := e.accounts[strings.TrimSpace(key)]; a != nil {
			h["Msh-Uid"] = a.hdrUID
			h["Msh-Gid"] = a.hdrGID
			h["Msh-Org-Id"] = a.hdrOrg
			h["Msh-Project-Id"] = a.hdrProject
		}
	}
	if r.RequestURI == "*" || r.Method == http.MethodConnect {
		// ServeMux answers these itself, in plain text (a bare 400, or
		// "404 page not found"); they name no route of the API.
		writeGatewayNotFound(rw, r)
	} else {
		e.mux.ServeHTTP(rw, r)
	}
	e.cfg.logger.LogAttrs(r.Context(), slog.LevelInfo, "kimitest",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", rw.status), slog.String("request_id", rw.Header().Get("Msh-Request-Id")))
}

// buildMux turns the route table into a ServeMux.
func (e *Emulator) buildMux() *http.ServeMux {
	m := http.NewServeMux()
	for _, rt := range e.routes() {
		m.Handle(rt.pattern, e.authed(rt.handler))
	}
	m.HandleFunc("POST "+aceChatPath, e.handleAceChat) // Ace Data Cloud (acedata.go)
	// "/" matches every method and path no route claims, including known
	// paths with the wrong method, which the gateway also answers with 404.
	m.HandleFunc("/", writeGatewayNotFound)
	return m
}

// authed resolves the Bearer key to its account.
func (e *Emulator) authed(h authHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, key, ok := strings.Cut(auth, " ")
		key = strings.TrimSpace(key)
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			writeError(w, errInvalidAuth)
			return
		}
		a, found := e.accounts[key]
		if !found {
			writeError(w, errIncorrectKey)
			return
		}
		h(w, r, a)
	})
}

// requestID returns a UUIDv1-looking id, like real Msh-Request-Id values:
// a 60-bit timestamp in 100 ns units since 1582-10-15, a sequence and a
// random node.
func (e *Emulator) requestID() string {
	const gregorianOffset = 0x01B21DD213814000
	seq := e.reqSeq.Add(1)
	ts := uint64(e.clock.Now().UnixNano()/100) + gregorianOffset + seq%100
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(ts))
	binary.BigEndian.PutUint16(b[4:6], uint16(ts>>32))
	binary.BigEndian.PutUint16(b[6:8], uint16(ts>>48)&0x0fff|0x1000)
	binary.BigEndian.PutUint16(b[8:10], uint16(seq)&0x3fff|0x8000)
	copy(b[10:], e.node[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("%s-%s-%s-%s-%s", h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])
}

// traceID is a fresh X-Msh-Trace-Id: 32 hex digits. It needs to be
// unique, not unpredictable.
func traceID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], mrand.Uint64())
	binary.BigEndian.PutUint64(b[8:], mrand.Uint64())
	return hex.EncodeToString(b[:])
}

// respWriter stamps Server-Timing when the header is written and records
// the status for the log. It keeps Flush reachable for SSE.
type respWriter struct {
	http.ResponseWriter
	start       time.Time
	status      int
	wroteHeader bool
}

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.status = true, code
	ms := time.Since(w.start).Milliseconds()
	w.Header().Set("Server-Timing", "inner; dur="+strconv.FormatInt(ms, 10))
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *respWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
