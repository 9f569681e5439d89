package kimi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CachedContext asks many questions about one long context (a system
// prompt, a document, tool definitions) while paying for that context once,
// through a tagged context cache. The zero value plus Client, Tag, Model
// and Messages is ready to use; a CachedContext is safe for concurrent use,
// and must be neither copied nor have its fields changed after first use.
//
// On first use it looks the cache up by Tag (so that several processes
// share one cache) and uses it only if it holds exactly cc.Messages and
// cc.Tools: a cache this creates carries the SHA-256 of their canonical
// JSON in its metadata under ContextHashMetadataKey, and a cache without
// that key is compared by its echoed messages and tools. It creates a
// cache when the tag is unknown, dangles, or points to other content (a
// new version of the document: the tag is then re-pointed, and the old
// cache deleted if this package created it) or to a cache that failed;
// a matching cache that expired is revived with Update instead (no
// creation fee). It waits until the cache is ready (Kimi needs 40–60 s;
// ctx bounds the wait). Only one creation runs at a time. A created cache
// is tagged with an explicit TagService.Create, not only through the
// create request's undocumented tags field.
//
// Each call then sends CacheMessage{CacheID: <that cache>, ResetTTL: TTL}
// followed by the request's messages, which also keeps the cache alive
// for TTL after every use. (The reference is by id, not by tag,
// so that a helper never answers from content another process put behind
// the tag; give each distinct context its own Tag.) When a call fails
// because the cache is gone or unusable (expired, pending again after a
// revival, deleted, errored: a 404, or a 400 that names the cache or tag)
// the tag is looked up again, the cache revived, waited for or recreated
// once, and the call retried.
//
// When explicit caching is not available the full context is sent
// instead (cc.Messages then the request's messages, with cc.Tools), with
// a prompt_cache_key derived from the context (PromptCacheKey), so that
// the platform's automatic prefix caching serves the repeated context:
// for a call whose model is not a moonshot-v1-* model (K2.5 and later
// cache prefixes automatically), and for good once cache creation is
// refused (the /caching route is missing, as on platforms that follow
// the 2026 API, the account may not create caches, the context is too
// large, the cache ended in status error). Cached reports which path the
// last call took, CachedTokens what the platform reported as cached, and
// FallbackReason why caching was given up; Reset tries again.
type CachedContext struct {
	Client *Client
	// Tag names the cache; another process using the same Tag (with the
	// same key's account) shares it. Required; see ValidTagName.
	Tag string
	// Model is the chat model, e.g. "moonshot-v1-32k"; a request's Model
	// overrides it.
	Model string
	// Messages is the long context; Tools its tools. They are cached as
	// given, so a request must not carry tools of its own.
	Messages []Message
	Tools    []Tool
	// TTL is the cache lifetime after each use: whole seconds, at most and
	// by default MaxCacheTTL (an hour).
	TTL time.Duration
	// Name, Description and Metadata label a cache this creates. The
	// helper adds ContextHashMetadataKey to Metadata (overriding a value
	// set there) unless Metadata already holds MaxCacheMetadataPairs
	// other pairs; such caches are then matched by their echoed content.
	Name        string
	Description string
	Metadata    map[string]string

	initOnce sync.Once
	sem      chan struct{} // one creation or recovery at a time
	hash     string        // contextHash(Messages, Tools); "" if it cannot be computed

	mu       sync.Mutex
	state    ccState
	cacheID  string
	gen      uint64 // bumped whenever the cache in use changes
	fallback error

	lastCached atomic.Bool
	lastTokens atomic.Int64
}

type ccState int

const (
	ccUnknown ccState = iota
	ccReady
	ccFallback
)

// Ask sends a chat completion about the cached context. req.Messages are
// the new turns; req.Model defaults to cc.Model; req.Tools must be empty.
// req is not modified. opts apply to the chat calls, not to the requests
// that look up, create or revive the cache.
func (cc *CachedContext) Ask(ctx context.Context, req *ChatRequest, opts ...RequestOption) (*ChatCompletion, error) {
	return cachedCall(ctx, cc, req, opts, (*ChatService).Create)
}

// Stream is Ask, streamed. A cache failure is recovered from only before
// the stream starts (Kimi reports cache errors as the HTTP status).
func (cc *CachedContext) Stream(ctx context.Context, req *ChatRequest, opts ...RequestOption) (*Stream, error) {
	return cachedCall(ctx, cc, req, opts, (*ChatService).Stream)
}

// Cached reports whether the last completed call used the cache (false
// before any call and for full-context calls).
func (cc *CachedContext) Cached() bool { return cc.lastCached.Load() }

// CachedTokens returns the prompt tokens the platform reported as cached
// on the last completed Ask, from its usage (explicit cache or automatic
// prefix caching alike); 0 before any call. A Stream's usage comes at its
// end, so Stream leaves it unchanged.
func (cc *CachedContext) CachedTokens() int { return int(cc.lastTokens.Load()) }

// PromptCacheKey is the prompt_cache_key of the full-context calls: the
// request's own if it sets one, else "onesdk-ctx-" and the start of the
// context's SHA-256, the same in every process that asks about the same
// context, so that their calls share the platform's prefix cache.
func (cc *CachedContext) PromptCacheKey() string {
	cc.initOnce.Do(cc.init)
	if cc.hash == "" {
		return "onesdk-ctx-" + cc.Tag
	}
	return "onesdk-ctx-" + cc.hash[:16]
}

// CacheID returns the id of the cache in use, "" when none.
func (cc *CachedContext) CacheID() string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.cacheID
}

// FallbackReason returns why caching was given up for good (the refused
// creation's error), nil while caching is used or not yet tried.
func (cc *CachedContext) FallbackReason() error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.fallback
}

// Reset forgets the cache and any fallback decision: the next call looks
// the tag up again. The cache itself is left alone.
func (cc *CachedContext) Reset() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.state, cc.cacheID, cc.fallback = ccUnknown, "", nil
	cc.gen++
}

func cachedCall[T any](ctx context.Context, cc *CachedContext, r *ChatRequest, opts []RequestOption,
	method func(*ChatService, context.Context, *ChatRequest, ...RequestOption) (T, error)) (T, error) {
	var zero T
	if r == nil {
		return zero, invalid("request", nil, "must not be nil")
	}
	req := *r
	if err := cc.check(&req); err != nil {
		return zero, err
	}
	send := func(ctx context.Context, r *ChatRequest) (T, error) {
		out, err := method(cc.Client.Chat, ctx, r, opts...)
		if c, ok := any(out).(*ChatCompletion); ok && err == nil && c.Usage != nil {
			cc.lastTokens.Store(int64(c.Usage.CachedTokens))
		}
		return out, err
	}
	if req.Model == "" {
		req.Model = cc.Model
	}
	if ModelFamily(req.Model) != FamilyMoonshotV1 {
		return sendFullT(ctx, cc, req, send)
	}
	use, err := cc.ensure(ctx)
	if err != nil {
		return zero, err
	}
	if !use.ok {
		return sendFullT(ctx, cc, req, send)
	}
	out, err := send(ctx, cc.withCache(req, use.id))
	if err == nil || !cacheGone(err) {
		cc.lastCached.Store(err == nil)
		return out, err
	}
	use, rerr := cc.recover(ctx, use.gen)
	if rerr != nil {
		return zero, fmt.Errorf("kimi: cache tag %q failed (%w) and could not be recreated: %w", cc.Tag, err, rerr)
	}
	if !use.ok {
		return sendFullT(ctx, cc, req, send)
	}
	out, err = send(ctx, cc.withCache(req, use.id))
	cc.lastCached.Store(err == nil)
	return out, err
}

// ccUse is the cache in use: its id and generation, ok false when the
// full context is sent instead.
type ccUse struct {
	id  string
	gen uint64
	ok  bool
}

// current returns the state and the cache in use.
func (cc *CachedContext) current() (ccState, ccUse) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.state, ccUse{cc.cacheID, cc.gen, cc.state == ccReady}
}

func (cc *CachedContext) check(req *ChatRequest) error {
	if cc.Client == nil {
		return invalid("CachedContext.Client", nil, "must not be nil")
	}
	if err := validateTagName("CachedContext.Tag", cc.Tag); err != nil {
		return err
	}
	if len(cc.Messages) == 0 {
		return invalid("CachedContext.Messages", nil, "must hold the context to cache")
	}
	if err := validateTTL("CachedContext.TTL", cc.TTL, "MaxCacheTTL"); err != nil {
		return err
	}
	if len(req.Tools) > 0 {
		return invalid("tools", len(req.Tools), "must be empty: the tools belong to the cached context (CachedContext.Tools)")
	}
	for i, m := range req.Messages {
		if m.Role == RoleCache {
			return invalid(fmt.Sprintf("messages[%d].role", i), string(m.Role), "CachedContext adds the cache reference itself")
		}
	}
	return nil
}

func (cc *CachedContext) ttl() time.Duration {
	if cc.TTL == 0 {
		return MaxCacheTTL
	}
	return cc.TTL
}

func (cc *CachedContext) withCache(req ChatRequest, id string) *ChatRequest {
	req.Messages = append([]Message{CacheMessage(CacheRef{CacheID: id, ResetTTL: cc.ttl()})}, req.Messages...)
	return &req
}

func sendFullT[T any](ctx context.Context, cc *CachedContext, req ChatRequest, send func(context.Context, *ChatRequest) (T, error)) (T, error) {
	req.Messages = append(slices.Clip(cc.Messages), req.Messages...)
	req.Tools = cc.Tools
	if req.PromptCacheKey == "" {
		req.PromptCacheKey = cc.PromptCacheKey()
	}
	out, err := send(ctx, &req)
	if err == nil {
		cc.lastCached.Store(false)
	}
	return out, err
}

// ensure makes sure the cache state is known, setting it up on first use.
// It returns the cache in use.
func (cc *CachedContext) ensure(ctx context.Context) (ccUse, error) {
	if st, use := cc.current(); st != ccUnknown {
		return use, nil
	}
	if err := cc.lock(ctx); err != nil {
		return ccUse{}, err
	}
	defer cc.unlock()
	if st, use := cc.current(); st != ccUnknown {
		return use, nil
	}
	return cc.setup(ctx)
}

// recover runs after a call failed because the cache at generation gen
// is gone. Unless another call already replaced it, the tag is looked up
// again (another process may have recreated the cache) and, if it does
// not lead to a live cache, a new one is created.
func (cc *CachedContext) recover(ctx context.Context, gen uint64) (ccUse, error) {
	if err := cc.lock(ctx); err != nil {
		return ccUse{}, err
	}
	defer cc.unlock()
	if st, use := cc.current(); use.gen != gen && st != ccUnknown {
		return use, nil
	}
	return cc.setup(ctx)
}

func (cc *CachedContext) lock(ctx context.Context) error {
	cc.initOnce.Do(cc.init)
	select {
	case cc.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return interrupted(ctx.Err())
	}
}

func (cc *CachedContext) unlock() { <-cc.sem }

func (cc *CachedContext) init() {
	cc.sem = make(chan struct{}, 1)
	cc.hash, _ = contextHash(cc.Messages, cc.Tools)
}

// setup finds the tagged cache, revives it, waits for it or creates one,
// with cc.sem held.
func (cc *CachedContext) setup(ctx context.Context) (ccUse, error) {
	c, err := cc.Client.Tags.Content(ctx, cc.Tag)
	switch {
	case isStatus(err, http.StatusNotFound):
		return cc.create(ctx, "") // no such tag, or it dangles
	case err != nil:
		return ccUse{}, err
	case !cc.holds(c):
		// Another context (an older version of the document, say) is
		// behind the tag: replace it, deleting the old cache only if this
		// package made it (someone else's may still be in use by id).
		old := ""
		if _, ours := c.Metadata[ContextHashMetadataKey]; ours {
			old = c.ID
		}
		return cc.create(ctx, old)
	}
	switch c.Status {
	case CacheStatusReady:
		return cc.use(c.ID), nil
	case CacheStatusError:
		return cc.create(ctx, c.ID)
	case CacheStatusInactive, "expired":
		// Our content, expired: revive it rather than pay for a new one.
		if _, err := cc.Client.Caches.Update(ctx, c.ID, &CacheUpdateRequest{TTL: cc.ttl()}); err != nil {
			switch {
			case ctx.Err() != nil:
				return ccUse{}, err
			case isStatus(err, http.StatusNotFound):
				return cc.create(ctx, "")
			case refusedRequest(err):
				return cc.create(ctx, c.ID)
			}
			return ccUse{}, err
		}
	}
	// pending (possibly after the revival), or a status this release does
	// not know: wait for it.
	ready, err := cc.Client.Caches.WaitReady(ctx, c.ID)
	var ce *CacheError
	switch {
	case err == nil:
		return cc.use(ready.ID), nil
	case ctx.Err() != nil:
		return ccUse{}, err
	case errors.As(err, &ce) || errors.Is(err, ErrCacheInactive):
		return cc.create(ctx, c.ID) // failed or expired while we waited: replace it
	case isStatus(err, http.StatusNotFound):
		return cc.create(ctx, "") // deleted while we waited
	}
	return ccUse{}, err
}

// holds reports whether c caches exactly cc.Messages and cc.Tools: by the
// hash in its metadata when it has one, else by its echoed content.
func (cc *CachedContext) holds(c *Cache) bool {
	if cc.hash == "" {
		return false
	}
	if h, ok := c.Metadata[ContextHashMetadataKey]; ok {
		return h == cc.hash
	}
	if len(c.Messages) == 0 {
		return false // no echo: cannot tell
	}
	h, err := contextHash(c.Messages, c.Tools)
	return err == nil && h == cc.hash
}

func (cc *CachedContext) create(ctx context.Context, old string) (ccUse, error) {
	caches := cc.Client.Caches
	if old != "" {
		caches.Delete(ctx, old) // best effort: a failed, expired or outdated cache is useless
	}
	req := &CacheCreateRequest{
		Messages: cc.Messages, Tools: cc.Tools, TTL: cc.ttl(), Tags: []string{cc.Tag},
		Name: cc.Name, Description: cc.Description, Metadata: cc.metadata(),
	}
	c, err := caches.Create(ctx, req)
	if err != nil && tagConflict(err) {
		// The server would not move the tag: free it and try once more.
		if derr := cc.Client.Tags.Delete(ctx, cc.Tag); derr == nil {
			c, err = caches.Create(ctx, req)
		}
	}
	if err != nil {
		if creationRefused(err) {
			return cc.giveUp(err), nil
		}
		return ccUse{}, err
	}
	// The tags field of the create request is not in Kimi's parameter
	// table: point the tag explicitly (an upsert; the calls of this helper
	// reference the cache by id, so a failure here only costs other
	// processes a cache of their own).
	cc.Client.Tags.Create(ctx, &TagCreateRequest{Tag: cc.Tag, CacheID: c.ID})
	ready, err := caches.WaitReady(ctx, c.ID)
	if err != nil {
		var ce *CacheError
		if ctx.Err() == nil && errors.As(err, &ce) {
			return cc.giveUp(err), nil
		}
		return ccUse{}, err
	}
	return cc.use(ready.ID), nil
}

// metadata is cc.Metadata plus the content hash, when it fits.
func (cc *CachedContext) metadata() map[string]string {
	_, has := cc.Metadata[ContextHashMetadataKey]
	if cc.hash == "" || !has && len(cc.Metadata) >= MaxCacheMetadataPairs {
		return cc.Metadata
	}
	md := make(map[string]string, len(cc.Metadata)+1)
	maps.Copy(md, cc.Metadata)
	md[ContextHashMetadataKey] = cc.hash
	return md
}

// ContextHashMetadataKey is the metadata key under which CachedContext
// stores the hex SHA-256 of the canonical JSON of a cache's messages and
// tools (see contextHash), to recognise a tagged cache holding its
// context.
const ContextHashMetadataKey = "onesdk_context_sha256"

// contextHash is the hex SHA-256 of {"messages":…,"tools":…} (tools left
// out when empty) re-encoded with sorted keys, so that the same content
// hashes the same however its JSON was spelt (tool parameters are raw
// JSON).
func contextHash(msgs []Message, tools []Tool) (string, error) {
	v := map[string]any{"messages": msgs}
	if len(tools) > 0 {
		v["tools"] = tools
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var canon any
	if err := dec.Decode(&canon); err != nil {
		return "", err
	}
	if b, err = json.Marshal(canon); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

func (cc *CachedContext) use(id string) ccUse {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.state, cc.cacheID, cc.fallback = ccReady, id, nil
	cc.gen++
	return ccUse{id, cc.gen, true}
}

func (cc *CachedContext) giveUp(reason error) ccUse {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.state, cc.cacheID, cc.fallback = ccFallback, "", reason
	cc.gen++
	return ccUse{gen: cc.gen}
}

func isStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == status
}

// creationRefused reports whether a cache creation error means caching
// is unavailable here (rather than a passing failure): the route is
// missing (404, 405, 501), the account may not cache (401 is not one:
// the key is wrong for every call), or the request was refused (400,
// 403, 413, 422: model family invalid, too many tokens, storage full).
func creationRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity, http.StatusNotImplemented:
		return true
	}
	return false
}

// refusedRequest reports whether err is a client error other than
// authentication and rate limiting: the server will not do it.
func refusedRequest(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode >= 400 && e.StatusCode < 500 &&
		e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusTooManyRequests
}

func tagConflict(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.StatusCode == http.StatusConflict || e.StatusCode == http.StatusBadRequest) &&
		strings.Contains(strings.ToLower(e.Message), "tag")
}

// cacheGone reports whether a chat call failed because its cache (or tag)
// is unusable: a 404, or a 400, 409, 410 or 422 whose message names the
// cache or tag. The texts are undocumented, so the match is loose.
func cacheGone(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	msg := strings.ToLower(e.Message)
	names := strings.Contains(msg, "cache") || strings.Contains(msg, "tag")
	switch e.StatusCode {
	case http.StatusNotFound:
		return names || e.Type == ErrTypeResourceNotFound
	case http.StatusBadRequest, http.StatusConflict, http.StatusGone, http.StatusUnprocessableEntity:
		return names
	}
	return false
}
