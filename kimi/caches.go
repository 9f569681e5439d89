package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// CacheService is Kimi's explicit context caching (/caching): a long
// prefix of messages and tools is stored once and referenced from chat
// requests by id or tag (see CacheMessage, CacheHeaders and
// CachedContext). Only the moonshot-v1 family caches.
type CacheService struct{ c *Client }

// Cache states. A new or updated cache is pending until the server has
// processed it (40–60 s on Kimi), then ready or error; an expired cache is
// inactive until a PUT or a reset_ttl use sends it back to pending.
const (
	CacheStatusPending  = "pending"
	CacheStatusReady    = "ready"
	CacheStatusError    = "error"
	CacheStatusInactive = "inactive"
)

// CacheModelFamily is the only model value /caching accepts. A cache
// created for it serves every moonshot-v1-* chat model.
const CacheModelFamily = string(catalog.FamilyMoonshotV1)

// Limits of the caching API.
const (
	// MaxCacheTTL is the longest cache lifetime, and the server's
	// default. TTLs are whole seconds on the wire.
	MaxCacheTTL              = time.Hour
	MaxCacheNameChars        = 256
	MaxCacheDescriptionChars = 512
	MaxCacheMetadataPairs    = 16
	MaxCacheMetadataKeyChars = 64
	MaxCacheMetadataValChars = 512
	MaxTagChars              = 128
	// DefaultCacheListLimit is the page size of CacheService.All and
	// TagService.All when the options leave Limit at 0 (the server's
	// default page is the same).
	DefaultCacheListLimit = 20
)

// CacheClockSkew is the tolerance of the client-side check of an absolute
// ExpiresAt: the client's clock may differ from Kimi's, so the value is
// accepted when it is after now−CacheClockSkew and at most
// now+MaxCacheTTL+CacheClockSkew. The server applies the exact bound with
// its own clock.
const CacheClockSkew = time.Minute

// ErrCacheInactive is wrapped by WaitReady's error when the cache expired
// (status inactive): it will not become ready unless it is refreshed with
// Update or a chat call with a reset_ttl.
var ErrCacheInactive = sentinel("kimi: cache is inactive (expired)", ErrBadRequest)

// Cache is a context cache object. Decoding is lenient: unknown fields are
// kept in Extra and Object is whatever the server says ("context_cache_object"
// or "context-cache" depending on the API version). Metadata is read from
// an object (non-string values as their JSON text), null (nil) or an array
// of objects (the doc table's List[Dict], merged in order); any other
// shape leaves Metadata nil and is kept as Extra["metadata"].
type Cache struct {
	ID          string            `json:"id"`
	Object      string            `json:"object,omitempty"`
	Status      string            `json:"status"`
	CreatedAt   int64             `json:"created_at,omitempty"`
	ExpiredAt   int64             `json:"expired_at,omitempty"`
	Tokens      int               `json:"tokens,omitempty"`
	Model       string            `json:"model,omitempty"`
	Messages    []Message         `json:"messages,omitempty"`
	Tools       []Tool            `json:"tools,omitempty"`
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// Error is set when Status is CacheStatusError.
	Error *CacheError `json:"error,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

var cacheFields = jsonFieldNames(Cache{})

// UnmarshalJSON keeps unknown fields in Extra and decodes Metadata
// leniently (see Cache).
func (c *Cache) UnmarshalJSON(data []byte) error {
	type plain Cache
	aux := struct {
		*plain
		Metadata json.RawMessage `json:"metadata"` // shadows plain's
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	extra, err := unknownFields(data, cacheFields)
	if err != nil {
		return err
	}
	md, ok := decodeMetadata(aux.Metadata)
	c.Metadata = md
	if !ok {
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra["metadata"] = aux.Metadata
	}
	c.Extra = extra
	return nil
}

// decodeMetadata reads a metadata value: null or absent → nil; an object
// → its pairs; an array of objects → their pairs merged (later wins). A
// value that is not a string is kept as its JSON text. ok is false for
// any other shape.
func decodeMetadata(raw json.RawMessage) (md map[string]string, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var objs []map[string]json.RawMessage
	switch raw[0] {
	case '{':
		var o map[string]json.RawMessage
		if json.Unmarshal(raw, &o) != nil {
			return nil, false
		}
		objs = append(objs, o)
	case '[':
		if json.Unmarshal(raw, &objs) != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	md = map[string]string{}
	for _, o := range objs {
		for k, v := range o {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(bytes.TrimSpace(v))
			}
			md[k] = s
		}
	}
	return md, true
}

// Expires returns ExpiredAt as a time (the zero time when it is unset).
func (c *Cache) Expires() time.Time { return unixTime(c.ExpiredAt) }

// CacheError is why a cache ended in status error. It is an error itself:
// WaitReady returns it wrapped.
type CacheError struct {
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
}

func (e *CacheError) Error() string {
	switch {
	case e.Type != "" && e.Message != "":
		return "kimi: cache failed: " + e.Type + ": " + e.Message
	case e.Message != "":
		return "kimi: cache failed: " + e.Message
	case e.Type != "":
		return "kimi: cache failed: " + e.Type
	}
	return "kimi: cache failed"
}

// UnmarshalJSON accepts the documented object and, leniently, a bare
// string message.
func (e *CacheError) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &e.Message)
	}
	type plain CacheError
	return json.Unmarshal(data, (*plain)(e))
}

// CacheCreateRequest is the body of POST /caching. Unset fields are left
// out of the body.
type CacheCreateRequest struct {
	// Model is the family, CacheModelFamily ("moonshot-v1"), the only
	// value Kimi accepts; "" means it too. One of the family's text chat
	// models (moonshot-v1-8k, -32k, -128k, -auto) stands for the family
	// and is sent as "moonshot-v1" (catalog.CacheFamily); any other model,
	// the vision previews included, is refused before sending.
	Model    string
	Messages []Message
	Tools    []Tool

	Name        string
	Description string
	Metadata    map[string]string

	// TTL is the lifetime, a whole number of seconds up to MaxCacheTTL (a
	// fraction of a second is refused, not rounded); 0 leaves it to the
	// server (one hour). Set TTL or ExpiresAt, not both.
	TTL time.Duration
	// ExpiresAt is an absolute expiry, at most an hour ahead (see
	// CacheClockSkew), sent as whole unix seconds (expired_at); the zero
	// time leaves it unset.
	ExpiresAt time.Time
	// Tags are attached to the new cache (moved from any cache holding
	// them), so that CacheMessage{Tag: ...} finds it. The field is in the
	// official examples but not in the parameter table; TagService.Create
	// is the documented way (CachedContext does both).
	Tags []string
}

// cacheBody is the JSON of POST /caching and PUT /caching/{id}. Unset
// fields are left out, except that a non-nil empty Metadata is sent as {}:
// on an update it clears the metadata.
type cacheBody struct {
	Model       string            `json:"model,omitempty"`
	Messages    []Message         `json:"messages,omitempty"`
	Tools       []Tool            `json:"tools,omitempty"`
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Metadata    map[string]string `json:"metadata,omitzero"`
	TTL         int64             `json:"ttl,omitempty"` // seconds
	ExpiredAt   int64             `json:"expired_at,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
}

// Validate checks r against the caching limits; the first problem is
// returned as a *ValidationError. Messages follow the chat rules (roles,
// non-empty content, tool-call pairing) without Partial Mode and without
// cache references; tools follow the chat rules.
func (r *CacheCreateRequest) Validate() error {
	return r.validate(time.Now())
}

func (r *CacheCreateRequest) validate(now time.Time) error {
	if r == nil {
		return invalid("request", nil, "must not be nil")
	}
	if _, err := cacheModel(r.Model); err != nil {
		return err
	}
	if len(r.Messages) == 0 {
		return invalid("messages", nil, "must hold at least one message to cache")
	}
	for i, m := range r.Messages {
		if m.Partial {
			return invalid(fmt.Sprintf("messages[%d].partial", i), true, "is not allowed in a cache")
		}
		if m.Role == RoleCache {
			return invalid(fmt.Sprintf("messages[%d].role", i), string(m.Role), "a cache cannot contain a cache reference")
		}
	}
	if err := validateMessages(r.Messages, modelRules{}); err != nil {
		return err
	}
	if err := (&ChatRequest{Tools: r.Tools}).validateTools(modelRules{}, false); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(r.Name); n > MaxCacheNameChars {
		return invalid("name", r.Name, "must be at most %d characters (is %d)", MaxCacheNameChars, n)
	}
	if n := utf8.RuneCountInString(r.Description); n > MaxCacheDescriptionChars {
		return invalid("description", r.Description, "must be at most %d characters (is %d)", MaxCacheDescriptionChars, n)
	}
	if err := validateMetadata(r.Metadata); err != nil {
		return err
	}
	if err := validateExpiry(r.TTL, r.ExpiresAt, now); err != nil {
		return err
	}
	seen := make(map[string]bool, len(r.Tags))
	for i, t := range r.Tags {
		field := fmt.Sprintf("tags[%d]", i)
		if err := validateTagName(field, t); err != nil {
			return err
		}
		if seen[t] {
			return invalid(field, t, "is duplicated")
		}
		seen[t] = true
	}
	return nil
}

// cacheModel maps the request's model to the name /caching accepts
// (catalog.CacheFamily): "" and "moonshot-v1" stand for the family, and so
// do its text chat models moonshot-v1-8k, -32k, -128k and -auto, which
// Kimi itself refuses with "model family is invalid".
func cacheModel(model string) (string, error) {
	if fam, ok := catalog.CacheFamily(model); ok {
		return fam, nil
	}
	return "", invalid("model", model, catalog.CacheRefusal(model))
}

func validateMetadata(md map[string]string) error {
	if len(md) > MaxCacheMetadataPairs {
		return invalid("metadata", len(md), "must hold at most %d pairs", MaxCacheMetadataPairs)
	}
	for k, v := range md {
		switch n := utf8.RuneCountInString(k); {
		case n == 0:
			return invalid("metadata key", k, "must not be empty")
		case n > MaxCacheMetadataKeyChars:
			return invalid("metadata key", k, "must be at most %d UTF-8 characters (is %d)", MaxCacheMetadataKeyChars, n)
		case !utf8.ValidString(k):
			return invalid("metadata key", k, "must be valid UTF-8")
		}
		field := "metadata[" + k + "]"
		if n := utf8.RuneCountInString(v); n > MaxCacheMetadataValChars {
			return invalid(field, v, "must be at most %d UTF-8 characters (is %d)", MaxCacheMetadataValChars, n)
		}
		if !utf8.ValidString(v) {
			return invalid(field, v, "must be valid UTF-8")
		}
	}
	return nil
}

func validateExpiry(ttl time.Duration, expiresAt, now time.Time) error {
	if expiresAt.IsZero() {
		return validateTTL("ttl", ttl, "the server default of one hour")
	}
	at, shown := expiresAt.Unix(), expiresAt.UTC().Format(time.RFC3339)
	if ttl != 0 {
		return invalid("ttl", ttl, "set either ttl or expired_at (%s), not both", shown)
	}
	lo, hi := now.Add(-CacheClockSkew).Unix(), now.Add(MaxCacheTTL+CacheClockSkew).Unix()
	if at <= lo || at > hi {
		return invalid("expired_at", shown,
			"must be within the next %v (now is %s by the client clock, %v skew allowed)",
			MaxCacheTTL, now.UTC().Format(time.RFC3339), CacheClockSkew)
	}
	return nil
}

// unixSeconds is t as the wire's unix seconds, 0 for the zero time.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// validateTTL checks a cache lifetime: whole seconds (the API's unit; a
// fraction is refused rather than rounded, so that what is sent is what
// was asked for) within [0, MaxCacheTTL]. zero says what 0 means.
func validateTTL(field string, d time.Duration, zero string) error {
	switch {
	case d < 0:
		return invalid(field, d, "must not be negative (0: %s)", zero)
	case d > MaxCacheTTL:
		return invalid(field, d, "must be at most %v", MaxCacheTTL)
	case d%time.Second != 0:
		return invalid(field, d, "must be a whole number of seconds")
	}
	return nil
}

// seconds renders a TTL as the API's integer seconds. A TTL that is not
// whole keeps its fraction ("1.5"), so that the check of the rendered
// cache reference or header refuses it instead of a rounded value going
// out.
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// Create creates a cache (POST /caching). The cache starts pending; use
// WaitReady before relying on it.
func (s *CacheService) Create(ctx context.Context, r *CacheCreateRequest, opts ...RequestOption) (*Cache, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	family, _ := cacheModel(r.Model) // checked by Validate
	body := &cacheBody{
		Model: family, Messages: r.Messages, Tools: r.Tools,
		Name: r.Name, Description: r.Description,
		TTL: int64(r.TTL / time.Second), ExpiredAt: unixSeconds(r.ExpiresAt), Tags: r.Tags,
	}
	if len(r.Metadata) > 0 {
		body.Metadata = r.Metadata // an empty map means none here, not "clear"
	}
	return call[Cache](ctx, s.c, http.MethodPost, "caching", body, opts)
}

// CacheUpdateRequest is the body of PUT /caching/{id}. Nil Metadata is
// left out (kept by the server); a non-nil empty map is sent as {} and
// replaces the metadata. TTL and ExpiresAt follow CacheCreateRequest.
type CacheUpdateRequest struct {
	Metadata  map[string]string
	TTL       time.Duration
	ExpiresAt time.Time
}

// Validate checks r against the caching limits.
func (r *CacheUpdateRequest) Validate() error {
	if r == nil {
		return invalid("request", nil, "must not be nil")
	}
	if err := validateMetadata(r.Metadata); err != nil {
		return err
	}
	return validateExpiry(r.TTL, r.ExpiresAt, time.Now())
}

// Update changes a cache's metadata or expiry (PUT /caching/{id}). The
// cache goes back to pending and through processing again. A nil r sends
// an empty body, which refreshes the cache with the default expiry.
func (s *CacheService) Update(ctx context.Context, id string, r *CacheUpdateRequest, opts ...RequestOption) (*Cache, error) {
	if err := validateID("cache id", id); err != nil {
		return nil, err
	}
	body := &cacheBody{}
	if r != nil {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		body.Metadata, body.TTL, body.ExpiredAt = r.Metadata, int64(r.TTL/time.Second), unixSeconds(r.ExpiresAt)
	}
	return call[Cache](ctx, s.c, http.MethodPut, "caching/"+url.PathEscape(id), body, opts)
}

// Get returns a cache (GET /caching/{id}); an unknown id is a 404 *Error.
func (s *CacheService) Get(ctx context.Context, id string, opts ...RequestOption) (*Cache, error) {
	return getID[Cache](ctx, s.c, "cache id", id, "caching/%s", opts)
}

// Delete deletes a cache (DELETE /caching/{id}); an unknown id is a 404
// *Error. Tags that point to it are left dangling.
func (s *CacheService) Delete(ctx context.Context, id string, opts ...RequestOption) error {
	return deleteID(ctx, s.c, "cache id", id, "caching/%s", opts)
}

// idPath puts an object's id, escaped, into pathFmt's %s; an id that
// cannot be one (empty, blank) is refused before anything is sent, with
// field naming it.
func idPath(field, id, pathFmt string) (string, error) {
	if err := validateID(field, id); err != nil {
		return "", err
	}
	return fmt.Sprintf(pathFmt, url.PathEscape(id)), nil
}

// getID is get for the object at idPath(field, id, pathFmt).
func getID[T any](ctx context.Context, c *Client, field, id, pathFmt string, opts []RequestOption) (*T, error) {
	path, err := idPath(field, id, pathFmt)
	if err != nil {
		return nil, err
	}
	return get[T](ctx, c, path, opts)
}

// deleteID is deleteObject for the object at idPath(field, id, pathFmt).
func deleteID(ctx context.Context, c *Client, field, id, pathFmt string, opts []RequestOption) error {
	path, err := idPath(field, id, pathFmt)
	if err != nil {
		return err
	}
	return deleteObject(ctx, c, path, opts)
}

// deleteObject sends a DELETE and checks the {"deleted": true} answer.
func deleteObject(ctx context.Context, c *Client, path string, opts []RequestOption) error {
	out, err := call[struct {
		Deleted *bool `json:"deleted"`
	}](ctx, c, http.MethodDelete, path, nil, opts)
	if err != nil {
		return err
	}
	if out.Deleted != nil && !*out.Deleted {
		return fmt.Errorf("%w: DELETE %s: the server answered deleted: false", ErrBadResponse, path)
	}
	return nil
}

func validateID(field, id string) error {
	if id == "" {
		return invalid(field, id, "must not be empty")
	}
	return nil
}

// CacheListOptions are the query of GET /caching. Zero fields are left
// out: the server then returns 20 caches, newest first.
type CacheListOptions struct {
	Limit  int    // page size; 0: server default (20)
	Order  string // "asc" or "desc" by created_at; "": "desc"
	After  string // cache id; exclusive
	Before string // cache id; exclusive
	// Metadata keeps caches whose metadata holds every pair
	// (metadata[key]=value).
	Metadata map[string]string
}

func (o *CacheListOptions) query() (url.Values, error) {
	if o == nil {
		return nil, nil
	}
	return listQuery(o.Limit, o.Order, o.After, o.Before, o.Metadata)
}

func (o *CacheListOptions) cursor() (limit *int, after *string) { return &o.Limit, &o.After }

// CacheList is a page of caches.
type CacheList struct {
	Object string  `json:"object"`
	Data   []Cache `json:"data"`
}

func (l *CacheList) items() []Cache { return l.Data }

func listQuery(limit int, order, after, before string, md map[string]string) (url.Values, error) {
	if limit < 0 {
		return nil, invalid("limit", limit, "must not be negative (0: server default of %d)", DefaultCacheListLimit)
	}
	if order != "" && order != "asc" && order != "desc" {
		return nil, invalid("order", order, "must be \"asc\", \"desc\" or empty")
	}
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if order != "" {
		q.Set("order", order)
	}
	if after != "" {
		q.Set("after", after)
	}
	if before != "" {
		q.Set("before", before)
	}
	for k, v := range md {
		if k == "" {
			return nil, invalid("metadata key", k, "must not be empty")
		}
		q.Set("metadata["+k+"]", v)
	}
	return q, nil
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// List returns one page of caches (GET /caching). o may be nil.
func (s *CacheService) List(ctx context.Context, o *CacheListOptions, opts ...RequestOption) (*CacheList, error) {
	return listPage[CacheList](ctx, s.c, "caching", o, opts)
}

// All iterates over every cache matching o, page by page: each next page
// is requested with After set to the last id of the previous one, until a
// page is shorter than the page size (o.Limit, default 20). An error is
// yielded last with a nil cache. o may be nil and is not modified.
func (s *CacheService) All(ctx context.Context, o *CacheListOptions, opts ...RequestOption) iter.Seq2[*Cache, error] {
	return listAll(o, func(p *CacheListOptions) (*CacheList, error) { return s.List(ctx, p, opts...) },
		func(c *Cache) string { return c.ID })
}

// listPage gets one page of a listing at path, with o's query.
func listPage[L any, O interface{ query() (url.Values, error) }](ctx context.Context, c *Client, path string, o O, opts []RequestOption) (*L, error) {
	q, err := o.query()
	if err != nil {
		return nil, err
	}
	return get[L](ctx, c, withQuery(path, q), opts)
}

// pageOptions are list options with a page size and an After cursor.
type pageOptions[O any] interface {
	*O
	cursor() (limit *int, after *string)
}

// listAll drives an After-cursor listing: list is called with a copy of
// opts (nil: zero options) whose Limit defaults to DefaultCacheListLimit
// and whose After is the key of the previous page's last item, until a
// page is shorter than the limit. A server that ignores the cursor (the
// same last key twice) ends the iteration with an error instead of
// looping forever.
func listAll[O any, PO pageOptions[O], L interface{ items() []T }, T any](opts PO, list func(PO) (L, error), key func(*T) string) iter.Seq2[*T, error] {
	var o O
	if opts != nil {
		o = *opts
	}
	limitp, afterp := PO(&o).cursor()
	if *limitp == 0 {
		*limitp = DefaultCacheListLimit
	}
	limit, start := *limitp, *afterp
	return func(yield func(*T, error) bool) {
		after := start
		seen := map[string]bool{}
		for {
			p := o
			_, pafter := PO(&p).cursor()
			*pafter = after
			page, err := list(&p)
			if err != nil {
				yield(nil, err)
				return
			}
			items := page.items()
			for i := range items {
				if !yield(&items[i], nil) {
					return
				}
			}
			if len(items) < limit || len(items) == 0 {
				return
			}
			last := key(&items[len(items)-1])
			if last == "" || seen[last] {
				yield(nil, fmt.Errorf("%w: pagination stalled: the page after %q ended with %q again", ErrBadResponse, after, last))
				return
			}
			seen[last] = true
			after = last
		}
	}
}

// waitReadySchedule spaces WaitReady's Gets; Kimi takes 40–60 s to
// process a cache.
var waitReadySchedule = schedule{first: 200 * time.Millisecond, limit: 5 * time.Second}

// WaitReady polls Get until the cache is ready and returns it. A cache in
// status error yields an error wrapping its *CacheError; an inactive
// (expired) one an error wrapping ErrCacheInactive; a failed Get (a 404
// after a delete, say) its error. ctx bounds the wait: set a deadline, as
// real caches take about a minute. When ctx ends the wait, the cache as
// last seen is returned with the error. opts apply to every Get.
func (s *CacheService) WaitReady(ctx context.Context, id string, opts ...RequestOption) (*Cache, error) {
	return poll(ctx, s.c, "cache", id, opts, waitReadySchedule, s.Get, func(c *Cache) (string, bool, error) {
		switch c.Status {
		case CacheStatusReady:
			return c.Status, true, nil
		case CacheStatusError:
			ce := c.Error
			if ce == nil {
				ce = &CacheError{Message: "status error without details"}
			}
			return c.Status, true, fmt.Errorf("kimi: cache %s: %w", id, ce)
		case CacheStatusInactive, "expired":
			return c.Status, true, fmt.Errorf("%w: cache %s expired at %d", ErrCacheInactive, id, c.ExpiredAt)
		}
		// pending, or a status this release does not know: keep polling.
		return c.Status, false, nil
	})
}
