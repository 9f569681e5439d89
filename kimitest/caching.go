package kimitest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// Explicit context caching for the moonshot-v1 family
// (https://platform.moonshot.ai/docs/api/caching). cache.go is the
// unrelated automatic prefix cache of kimi-latest and the K2 families.
//
// Caches and tags are per account: another account's cache id or tag is
// answered exactly like an unknown one (404).
//
// State machine, computed lazily from the emulated clock:
//
//	create / PUT      → pending, ready after WithCacheReadyDelay (default 2 s)
//	                    (error instead for a cache over 128k tokens, below)
//	ready             → inactive once now ≥ expired_at
//	PUT (any state)   → pending again, with a new expiry
//	reset_ttl on use  → expired_at = now + N; on an inactive cache the
//	                    cache is re-enabled as ready at once and the call
//	                    served, or, with WithStrictCacheRevival, set back
//	                    to pending and the call refused as not ready
//	                    (caching_chat.go)
//	DELETE            → gone (404); tags pointing to it dangle
//	SetCacheError     → error (simulates an asynchronous creation failure)
//
// Which create inputs fail how (the docs only say that creation fails):
// malformed JSON, a missing or wrong model, invalid messages or tools,
// over-long name or description, metadata over its limits, a bad expiry,
// a bad tag name and the per-account storage limit are refused at once
// with a 400 invalid_request_error. A cache whose messages+tools exceed
// the 128k-token limit is accepted (200, pending, no creation fee) and
// moves to status error, {"type":"invalid_request_error","message":
// "… exceeds the max cache size 131072 tokens …"}, when the ready delay
// passes; a PUT runs it through the same cycle to the same error. Such a
// cache never stores anything: it does not count toward the storage
// limit and accrues no storage fee.

const (
	defaultCacheReadyDelay = 2 * time.Second
	defaultCacheTTL        = time.Hour
	maxCacheTTL            = 3600 // seconds
	maxCacheTokens         = 131072
	maxCacheStorage        = 1000000 // tokens per account, over all existing caches
	cacheFamilyModel       = string(catalog.FamilyMoonshotV1)
	// cacheObjectType is "context_cache_object" (launch blog, 2026
	// captures); the 2025 English docs say "context-cache".
	cacheObjectType = "context_cache_object"
)

type cacheStore struct {
	mu     sync.Mutex
	seq    uint64
	caches map[string]*ctxCache
	tags   map[string]*cacheTag
}

func newCacheStore() *cacheStore {
	return &cacheStore{caches: map[string]*ctxCache{}, tags: map[string]*cacheTag{}}
}

// ctxCache is one explicit context cache. All fields are guarded by the
// store's mutex.
type ctxCache struct {
	id        string
	seq       uint64 // creation order, breaks created_at ties
	created   time.Time
	readyAt   time.Time // end of the current pending phase
	expiredAt time.Time
	tokens    int

	rawMessages json.RawMessage // compact echo
	rawTools    json.RawMessage // compact echo; "[]" when none
	msgs        []message
	tools       []tool
	canonMsgs   []string // canonical JSON per message, for header mode
	canonTools  string   // canonical JSON of the tools, "" when none

	name, description string
	metadata          map[string]string

	errType, errMsg string // status "error" (SetCacheError), cleared by a PUT

	// failType and failMsg are an intrinsic failure found at creation (the
	// cache is too large): the cache turns to status error at the end of
	// every pending phase.
	failType, failMsg string
}

// errorInfo returns the error of a cache in status error at now.
func (c *ctxCache) errorInfo(now time.Time) (typ, msg string, ok bool) {
	switch {
	case c.errMsg != "":
		return c.errType, c.errMsg, true
	case c.failMsg != "" && !now.Before(c.readyAt):
		return c.failType, c.failMsg, true
	}
	return "", "", false
}

func (c *ctxCache) status(now time.Time) string {
	switch {
	case c.errMsg != "":
		return "error"
	case now.Before(c.readyAt):
		return "pending"
	case c.failMsg != "":
		return "error"
	case !now.Before(c.expiredAt):
		return "inactive"
	}
	return "ready"
}

// readySpan is how long the current cycle has been ready up to now.
func (c *ctxCache) readySpan(now time.Time) time.Duration {
	end := now
	if c.expiredAt.Before(end) {
		end = c.expiredAt
	}
	return end.Sub(c.readyAt)
}

// closeCycle ends the current pending/ready cycle at now and records its
// storage charge. The caller holds the store lock.
func (c *ctxCache) closeCycle(now time.Time, l *ledger) {
	if c.errMsg != "" || c.failMsg != "" {
		return // the ready span was billed when the error was set
	}
	if ch, ok := storageCharge(now, c.id, c.tokens, c.readySpan(now)); ok {
		l.add(ch)
	}
}

// openStorage lists the storage accrued by the current cycles. The caller
// holds the lock.
func (s *cacheStore) openStorage(now time.Time) []Charge {
	var out []Charge
	for _, c := range s.sorted() {
		if c.errMsg != "" || c.failMsg != "" {
			continue
		}
		at := now
		if c.expiredAt.Before(at) {
			at = c.expiredAt
		}
		if ch, ok := storageCharge(at, c.id, c.tokens, c.readySpan(now)); ok {
			out = append(out, ch)
		}
	}
	return out
}

// sorted returns the caches by creation, oldest first.
func (s *cacheStore) sorted() []*ctxCache { return bySeq(s.caches) }

func (c *ctxCache) creation() uint64 { return c.seq }

// seqItem is an item of a store that numbers its items in creation
// order, which is the order its list endpoint pages in.
type seqItem interface{ creation() uint64 }

// bySeq returns the values of m oldest first.
func bySeq[T seqItem](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.creation(), b.creation()) })
	return out
}

// lookup runs fn on m[key] with mu held and returns what fn returns, or
// notFound(key) when m has no such item.
func lookup[T, R any](mu *sync.Mutex, m map[string]*T, key string, notFound func(string) *apiError, fn func(*T) R) (R, *apiError) {
	mu.Lock()
	defer mu.Unlock()
	it := m[key]
	if it == nil {
		var zero R
		return zero, notFound(key)
	}
	return fn(it), nil
}

func (s *cacheStore) storedTokens() int {
	n := 0
	for _, c := range s.caches {
		if c.failMsg == "" { // a failing cache stores nothing
			n += c.tokens
		}
	}
	return n
}

// checkStorage applies the per-account storage limit, counting all
// existing caches whatever their status, except those too large to be
// stored (they end in error).
func (s *cacheStore) checkStorage(tokens int) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storageErr(tokens)
}

// storageErr is checkStorage with the lock held.
func (s *cacheStore) storageErr(tokens int) *apiError {
	if used := s.storedTokens(); used+tokens > maxCacheStorage {
		return errInvalid("context cache storage limit exceeded: the account stores %d tokens, this cache has %d, the limit is %d", used, tokens, maxCacheStorage)
	}
	return nil
}

func newCacheID() string {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alnum[rand.IntN(len(alnum))]
	}
	return "cache-" + string(b)
}

// cacheObjectJSON is the documented cache object.
type cacheObjectJSON struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	Status      string            `json:"status"`
	CreatedAt   int64             `json:"created_at"`
	ExpiredAt   int64             `json:"expired_at"`
	Tokens      int               `json:"tokens"`
	Model       string            `json:"model"`
	Messages    json.RawMessage   `json:"messages"`
	Tools       json.RawMessage   `json:"tools"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata"`
	Error       *cacheErrorJSON   `json:"error,omitempty"`
}

type cacheErrorJSON struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// object renders c; tools is [] and metadata {} when none were given. The
// caller holds the lock.
func (c *ctxCache) object(now time.Time) cacheObjectJSON {
	md := make(map[string]string, len(c.metadata))
	for k, v := range c.metadata {
		md[k] = v
	}
	o := cacheObjectJSON{
		ID: c.id, Object: cacheObjectType, Status: c.status(now),
		CreatedAt: c.created.Unix(), ExpiredAt: c.expiredAt.Unix(), Tokens: c.tokens,
		Model: cacheFamilyModel, Messages: c.rawMessages, Tools: c.rawTools,
		Name: c.name, Description: c.description, Metadata: md,
	}
	if typ, msg, ok := c.errorInfo(now); ok {
		o.Error = &cacheErrorJSON{Type: typ, Message: msg}
	}
	return o
}

// cacheCreateRequest is the body of POST /v1/caching. Optional fields
// tolerate JSON null (llm_onesdk sends null for unset ones).
type cacheCreateRequest struct {
	Model       string            `json:"model"`
	Messages    json.RawMessage   `json:"messages"`
	Tools       json.RawMessage   `json:"tools"`
	Name        *string           `json:"name"`
	Description *string           `json:"description"`
	Metadata    map[string]string `json:"metadata"`
	ExpiredAt   *int64            `json:"expired_at"`
	TTL         *int64            `json:"ttl"`
	Tags        []string          `json:"tags"`
}

// readJSONBody decodes the request body into v.
func readJSONBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return aerr
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errInvalid("%s", jsonErrDetail(err))
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// canonicalJSON re-encodes raw with sorted object keys and exact numbers,
// so that two encodings of the same value compare equal (header mode
// needs contents "exactly identical" to the cache's).
func canonicalJSON(raw json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return string(mustJSON(v))
}

// canonicalTools is "" for absent, null or empty tools.
func canonicalTools(raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	c := canonicalJSON(raw)
	if c == "[]" {
		return ""
	}
	return c
}

// checkMetadata applies the documented metadata limits.
func checkMetadata(md map[string]string) *apiError {
	if len(md) > 16 {
		return errInvalid("metadata must have at most 16 pairs, got %d", len(md))
	}
	for k, v := range md {
		if k == "" {
			return errInvalid("metadata keys must not be empty")
		}
		if n := utf8.RuneCountInString(k); n > 64 {
			return errInvalid("metadata key %q is longer than 64 characters (%d)", k, n)
		}
		if n := utf8.RuneCountInString(v); n > 512 {
			return errInvalid("metadata value of key %q is longer than 512 characters (%d)", k, n)
		}
	}
	return nil
}

// cacheExpiry applies the documented expiry rules. 0 counts as absent
// (clients such as go-moonshot send expired_at 0 alongside ttl).
func cacheExpiry(now time.Time, expiredAt, ttl *int64) (time.Time, *apiError) {
	eSet := expiredAt != nil && *expiredAt != 0
	tSet := ttl != nil && *ttl != 0
	switch {
	case eSet && tSet:
		return time.Time{}, errInvalid("only one of expired_at and ttl may be set")
	case tSet:
		if *ttl < 1 || *ttl > maxCacheTTL {
			return time.Time{}, errInvalid("ttl must be in [1, %d] seconds, got %d", maxCacheTTL, *ttl)
		}
		return now.Add(time.Duration(*ttl) * time.Second), nil
	case eSet:
		if *expiredAt <= now.Unix() {
			return time.Time{}, errInvalid("expired_at must be later than the current time %d, got %d", now.Unix(), *expiredAt)
		}
		if *expiredAt > now.Unix()+maxCacheTTL {
			return time.Time{}, errInvalid("expired_at must be at most %d seconds after the current time %d, got %d", maxCacheTTL, now.Unix(), *expiredAt)
		}
		return time.Unix(*expiredAt, 0), nil
	}
	return now.Add(defaultCacheTTL), nil
}

// parseCacheContent validates the messages and tools of a cache:
// chat validation, no partial, no cache messages, tool messages preceded
// by their calls, called tools present.
func parseCacheContent(rawMsgs, rawTools json.RawMessage) ([]message, []tool, *apiError) {
	if isNull(rawMsgs) {
		return nil, nil, errInvalid("messages is required")
	}
	var msgs []message
	if err := json.Unmarshal(rawMsgs, &msgs); err != nil {
		return nil, nil, errInvalid("messages: %s", jsonErrDetail(err))
	}
	var tools []tool
	if !isNull(rawTools) {
		if err := json.Unmarshal(rawTools, &tools); err != nil {
			return nil, nil, errInvalid("tools: %s", jsonErrDetail(err))
		}
	}
	for i := range msgs {
		if err := msgs[i].decodeContent(); err != nil {
			return nil, nil, errInvalid("messages[%d].content: %v", i, err)
		}
		if msgs[i].Partial {
			return nil, nil, errInvalid("messages[%d]: partial is not allowed in a context cache", i)
		}
		if msgs[i].Role == "cache" {
			return nil, nil, errInvalid("messages[%d]: role cache is not allowed in a context cache", i)
		}
	}
	creq := &chatRequest{Tools: tools, choice: toolChoice{mode: "auto"}}
	if aerr := checkTools(creq, ModelSpec{ID: cacheFamilyModel, Family: FamilyMoonshotV1}); aerr != nil {
		return nil, nil, aerr
	}
	if aerr := checkMessages(msgs, false); aerr != nil {
		return nil, nil, aerr
	}
	names := map[string]bool{}
	for _, t := range tools {
		names[t.Function.Name] = true
	}
	for i, m := range msgs {
		for j, tc := range m.ToolCalls {
			if !names[tc.Function.Name] {
				return nil, nil, errInvalid("messages[%d].tool_calls[%d]: function %s is not in tools", i, j, tc.Function.Name)
			}
		}
	}
	return msgs, tools, nil
}

// cacheTokens counts messages and tools with the chat counter, without
// the reply priming (which a chat using the cache adds itself).
func cacheTokens(msgs []message, tools []tool) int {
	return countPrompt(msgs, tools) - tokensPerReply
}

func (e *Emulator) handleCreateCache(w http.ResponseWriter, r *http.Request, a *account) {
	var req cacheCreateRequest
	if aerr := readJSONBody(w, r, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	now := e.clock.Now()
	c, aerr := newCtxCache(now, &req)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	for _, tag := range req.Tags {
		if !validTagName(tag) {
			writeError(w, errBadTagName(tag))
			return
		}
	}
	s := a.caches
	stored := c.tokens // what the cache will store: nothing if it fails
	if c.failMsg != "" {
		stored = 0
	}
	if aerr := s.checkStorage(stored); aerr != nil {
		writeError(w, aerr) // refused before admission: consumes no TPM
		return
	}
	// Cache creation tokens count toward TPM/TPD.
	release, aerr := e.admitPaid(a, c.tokens)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	defer release()

	s.mu.Lock()
	// Checked again: a concurrent create may have taken the room.
	if aerr := s.storageErr(stored); aerr != nil {
		s.mu.Unlock()
		writeError(w, aerr)
		return
	}
	c.id = newCacheID()
	s.seq++
	c.seq = s.seq
	c.readyAt = now.Add(e.cfg.cacheReady)
	s.caches[c.id] = c
	for _, tag := range req.Tags {
		s.putTag(tag, c.id, now)
	}
	if c.failMsg == "" { // the fee is for a successful creation
		a.ledger.add(creationCharge(now, c.id, c.tokens))
	}
	obj := c.object(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

// newCtxCache validates a create request into a cache without id.
func newCtxCache(now time.Time, req *cacheCreateRequest) (*ctxCache, *apiError) {
	if req.Model == "" {
		return nil, errInvalid("model is required")
	}
	if req.Model != cacheFamilyModel {
		// Kimi's own text, without the "Invalid request:" prefix.
		return nil, errBadRequest("model family is invalid")
	}
	msgs, tools, aerr := parseCacheContent(req.Messages, req.Tools)
	if aerr != nil {
		return nil, aerr
	}
	c := &ctxCache{created: now, msgs: msgs, tools: tools, rawMessages: compactJSON(req.Messages), rawTools: json.RawMessage("[]")}
	if len(tools) > 0 {
		c.rawTools = compactJSON(req.Tools)
	}
	if req.Name != nil {
		if n := utf8.RuneCountInString(*req.Name); n > 256 {
			return nil, errInvalid("name must be at most 256 characters, got %d", n)
		}
		c.name = *req.Name
	}
	if req.Description != nil {
		if n := utf8.RuneCountInString(*req.Description); n > 512 {
			return nil, errInvalid("description must be at most 512 characters, got %d", n)
		}
		c.description = *req.Description
	}
	if aerr := checkMetadata(req.Metadata); aerr != nil {
		return nil, aerr
	}
	c.metadata = req.Metadata
	exp, aerr := cacheExpiry(now, req.ExpiredAt, req.TTL)
	if aerr != nil {
		return nil, aerr
	}
	c.expiredAt = exp
	c.tokens = cacheTokens(msgs, tools)
	if c.tokens > maxCacheTokens {
		// Accepted; fails asynchronously (see the top of the file).
		c.failType = "invalid_request_error"
		c.failMsg = fmt.Sprintf("context cache of %d tokens exceeds the max cache size %d tokens, please reduce the messages and tools", c.tokens, maxCacheTokens)
	}
	var elems []json.RawMessage
	_ = json.Unmarshal(req.Messages, &elems)
	for _, el := range elems {
		c.canonMsgs = append(c.canonMsgs, canonicalJSON(el))
	}
	c.canonTools = canonicalTools(req.Tools)
	return c, nil
}

// listQuery is the parsed limit/order/after/before of a list request.
type listQuery struct {
	limit         int
	desc          bool
	after, before string
}

func parseListQuery(r *http.Request) (listQuery, *apiError) {
	q := r.URL.Query()
	lq := listQuery{limit: 20, desc: true, after: q.Get("after"), before: q.Get("before")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return lq, errInvalid("limit must be a positive integer, got %q", v)
		}
		lq.limit = n
	}
	switch o := q.Get("order"); o {
	case "", "desc":
	case "asc":
		lq.desc = false
	default:
		return lq, errInvalid("order must be asc or desc, got %q", o)
	}
	return lq, nil
}

// page applies a listQuery to items, which are in ascending creation
// order, and renders the page. An after or before value is a key of byKey,
// which may hold items that items does not (a filter left them out).
// after and before are exclusive cursors in the listing order; with only
// before, the page is the limit items right before it. A cursor naming
// nothing is an error.
func page[T seqItem, J any](items []T, byKey map[string]T, lq listQuery, what string, render func(T) J) ([]J, *apiError) {
	cursor := func(key string) (uint64, bool) {
		it, ok := byKey[key]
		if !ok {
			return 0, false
		}
		return it.creation(), true
	}
	var after, before uint64
	if lq.after != "" {
		p, ok := cursor(lq.after)
		if !ok {
			return nil, errInvalid("after: unknown %s %s", what, lq.after)
		}
		after = p
	}
	if lq.before != "" {
		p, ok := cursor(lq.before)
		if !ok {
			return nil, errInvalid("before: unknown %s %s", what, lq.before)
		}
		before = p
	}
	// comes reports whether a comes before b in the listing order.
	comes := func(a, b uint64) bool {
		if lq.desc {
			return a > b
		}
		return a < b
	}
	var win []T
	for _, it := range items {
		p := it.creation()
		if (lq.after == "" || comes(after, p)) && (lq.before == "" || comes(p, before)) {
			win = append(win, it)
		}
	}
	if lq.desc {
		slices.Reverse(win)
	}
	if lq.before != "" && lq.after == "" {
		win = win[max(0, len(win)-lq.limit):]
	} else {
		win = win[:min(len(win), lq.limit)]
	}
	out := make([]J, 0, len(win))
	for _, it := range win {
		out = append(out, render(it))
	}
	return out, nil
}

// handleListCaches serves GET /v1/caching, filtered by every
// metadata[key]=value pair. There is no has_more: the real API documents
// none, so a client pages with after = the last id until a page is shorter
// than limit.
func (e *Emulator) handleListCaches(w http.ResponseWriter, r *http.Request, a *account) {
	lq, aerr := parseListQuery(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	filter := map[string][]string{}
	for k, v := range r.URL.Query() {
		if name, ok := strings.CutPrefix(k, "metadata["); ok && strings.HasSuffix(name, "]") {
			filter[strings.TrimSuffix(name, "]")] = v
		}
	}
	now := e.clock.Now()
	s := a.caches
	s.mu.Lock()
	var matching []*ctxCache
	for _, c := range s.sorted() {
		match := true
		for k, vals := range filter {
			got, ok := c.metadata[k]
			for _, v := range vals {
				match = match && ok && got == v
			}
		}
		if match {
			matching = append(matching, c)
		}
	}
	// A cursor may name any cache of the account, matching or not.
	data, aerr := page(matching, s.caches, lq, "cache id", func(c *ctxCache) cacheObjectJSON { return c.object(now) })
	s.mu.Unlock()
	writeResult(w, listBody(data), aerr)
}

func (e *Emulator) handleGetCache(w http.ResponseWriter, r *http.Request, a *account) {
	s := a.caches
	obj, aerr := lookup(&s.mu, s.caches, r.PathValue("id"), errCacheNotFound, func(c *ctxCache) cacheObjectJSON {
		return c.object(e.clock.Now())
	})
	writeResult(w, obj, aerr)
}

// cacheUpdateRequest is the body of PUT /v1/caching/{id}.
type cacheUpdateRequest struct {
	Metadata  map[string]string `json:"metadata"`
	ExpiredAt *int64            `json:"expired_at"`
	TTL       *int64            `json:"ttl"`
}

// handleUpdateCache serves PUT /v1/caching/{id}. metadata, when present
// and not null, replaces the old metadata (merge or replace is
// undocumented); the expiry follows the create rules, so an update without
// expired_at or ttl sets the default one hour from now. Any update sends
// the cache back to pending, also from error.
func (e *Emulator) handleUpdateCache(w http.ResponseWriter, r *http.Request, a *account) {
	id := r.PathValue("id")
	var req cacheUpdateRequest
	if aerr := readJSONBody(w, r, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	now := e.clock.Now()
	s := a.caches
	s.mu.Lock()
	c := s.caches[id]
	if c == nil {
		s.mu.Unlock()
		writeError(w, errCacheNotFound(id))
		return
	}
	aerr := checkMetadata(req.Metadata)
	var exp time.Time
	if aerr == nil {
		exp, aerr = cacheExpiry(now, req.ExpiredAt, req.TTL)
	}
	if aerr != nil {
		s.mu.Unlock()
		writeError(w, aerr)
		return
	}
	c.closeCycle(now, a.ledger)
	c.errType, c.errMsg = "", ""
	c.readyAt, c.expiredAt = now.Add(e.cfg.cacheReady), exp
	if req.Metadata != nil {
		c.metadata = req.Metadata
	}
	obj := c.object(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

func (e *Emulator) handleDeleteCache(w http.ResponseWriter, r *http.Request, a *account) {
	id := r.PathValue("id")
	s := a.caches
	_, aerr := lookup(&s.mu, s.caches, id, errCacheNotFound, func(c *ctxCache) struct{} {
		c.closeCycle(e.clock.Now(), a.ledger)
		delete(s.caches, id)
		a.ledger.forget(id)
		return struct{}{}
	})
	writeResult(w, map[string]any{"deleted": true, "id": id, "object": cacheObjectType + ".deleted"}, aerr)
}

// WithStrictCacheRevival makes a reset_ttl on an inactive cache follow
// the documented status cycle to the letter: the cache goes back to
// pending with the new expiry (now + reset_ttl) and the call that revived
// it fails with the 400 "not ready (status: pending)", as a client of
// the real API must expect. By default the cache is re-enabled as ready
// at once and the call served. A dry run never revives.
func WithStrictCacheRevival() Option { return func(c *config) { c.cacheStrict = true } }

// SetCacheError puts a cache of the account with the given key into status
// "error" with the given error, simulating an asynchronous creation
// failure. A later PUT sends it back to pending. It reports whether the
// cache exists.
func (e *Emulator) SetCacheError(key, cacheID, errType, message string) bool {
	a := e.accounts[key]
	if a == nil {
		return false
	}
	now := e.clock.Now()
	s := a.caches
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.caches[cacheID]
	if c == nil {
		return false
	}
	c.closeCycle(now, a.ledger)
	if errType == "" {
		errType = "server_error"
	}
	if message == "" {
		message = "context cache creation failed"
	}
	c.errType, c.errMsg = errType, message
	return true
}
