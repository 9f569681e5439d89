package kimi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CacheRef names a context cache to use in a chat request.
type CacheRef struct {
	// CacheID or Tag (exactly one) names the cache. Tags work only with
	// CacheMessage, not with CacheHeaders.
	CacheID string
	Tag     string
	// ResetTTL, when positive, sets the cache's expiry to now+ResetTTL
	// on every successful call (and revives an expired cache). 0 leaves
	// the expiry alone. It is sent as whole seconds, at most MaxCacheTTL;
	// a fraction of a second is refused (by ChatRequest.Validate for a
	// CacheMessage, by Chat.Create for CacheHeaders), not rounded.
	ResetTTL time.Duration
	// DryRun only checks the cache: no inference, no token cost.
	DryRun bool
}

// Request headers of the header form of cache use.
const (
	HeaderContextCache         = "X-Msh-Context-Cache"
	HeaderContextCacheResetTTL = "X-Msh-Context-Cache-Reset-TTL"
	HeaderContextCacheDryRun   = "X-Msh-Context-Cache-DryRun"
)

// String renders the reference in the cache message grammar:
// "cache_id=<id>" or "tag=<tag>", then ";reset_ttl=<seconds>" when
// ResetTTL is not 0, then ";dry_run=1" when DryRun is set.
func (r CacheRef) String() string {
	var parts []string
	if r.CacheID != "" {
		parts = append(parts, "cache_id="+r.CacheID)
	}
	if r.Tag != "" {
		parts = append(parts, "tag="+r.Tag)
	}
	if r.ResetTTL != 0 {
		parts = append(parts, "reset_ttl="+seconds(r.ResetTTL))
	}
	if r.DryRun {
		parts = append(parts, "dry_run=1")
	}
	return strings.Join(parts, ";")
}

// CacheMessage returns the {"role":"cache"} message that makes Kimi
// replace it with the cached messages and tools. It must be the first
// message of the request, and the request must not carry Tools (the
// server takes them from the cache). ChatRequest.Validate checks the
// reference: exactly one of CacheID and Tag, a valid tag name, ResetTTL
// whole seconds within [0, MaxCacheTTL]; a bad ref therefore fails there,
// before sending.
func CacheMessage(ref CacheRef) Message {
	return Message{Role: RoleCache, Content: ref.String()}
}

// CacheHeaders returns the X-Msh-Context-Cache headers for ref, to pass
// to a call as an option:
//
//	resp, err := c.Chat.Create(ctx, req, kimi.WithHeaders(kimi.CacheHeaders(ref)))
//
// In header mode the request must still carry the full cached prefix
// (messages and tools identical to the cache); the cache is then hit by
// hash. Header mode takes only a cache id: for a ref with a Tag and no
// CacheID the header holds "tag=<tag>", which Chat.Create and Chat.Stream
// reject with an explanation rather than silently sending an uncached
// request.
func CacheHeaders(ref CacheRef) http.Header {
	h := http.Header{}
	id := ref.CacheID
	if id == "" && ref.Tag != "" {
		id = "tag=" + ref.Tag
	}
	h.Set(HeaderContextCache, id)
	if ref.ResetTTL != 0 {
		h.Set(HeaderContextCacheResetTTL, seconds(ref.ResetTTL))
	}
	if ref.DryRun {
		h.Set(HeaderContextCacheDryRun, "1")
	}
	return h
}

// ParseCacheRef parses the content of a cache message: ';'-separated
// key=value pairs, cache_id or tag (exactly one), optional reset_ttl
// (0..3600) and dry_run=1, no empty pair (so no trailing ';'), no key
// twice. Errors are *ValidationError values naming field.
func ParseCacheRef(content string) (CacheRef, error) {
	return parseCacheRef("content", content)
}

func parseCacheRef(field, content string) (CacheRef, error) {
	var ref CacheRef
	const grammar = "must be \"cache_id=<id>\" or \"tag=<tag>\", optionally followed by \";reset_ttl=<seconds>\" and \";dry_run=1\""
	if content == "" {
		return ref, invalid(field, content, grammar)
	}
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(content, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return ref, invalid(field, content, "%s; %q is not a key=value pair", grammar, pair)
		}
		if seen[k] {
			return ref, invalid(field, content, "repeats key %q", k)
		}
		seen[k] = true
		switch k {
		case "cache_id":
			if v == "" || strings.ContainsAny(v, " \t\r\n=;") {
				return ref, invalid(field, content, "cache_id %q must be a non-empty id without spaces, '=' or ';'", v)
			}
			ref.CacheID = v
		case "tag":
			if err := validateTagName(field+" tag", v); err != nil {
				return ref, err
			}
			ref.Tag = v
		case "reset_ttl":
			n, ok := ttlSeconds(v)
			if !ok {
				return ref, invalid(field, content, "reset_ttl %q must be an integer number of seconds within [0, %d]", v, maxTTLSeconds)
			}
			ref.ResetTTL = time.Duration(n) * time.Second
		case "dry_run":
			if v != "1" {
				return ref, invalid(field, content, "dry_run %q must be 1 (leave it out for a normal call)", v)
			}
			ref.DryRun = true
		default:
			return ref, invalid(field, content, "unknown key %q; %s", k, grammar)
		}
	}
	switch {
	case ref.CacheID != "" && ref.Tag != "":
		return ref, invalid(field, content, "names both a cache_id and a tag; use exactly one")
	case ref.CacheID == "" && ref.Tag == "":
		return ref, invalid(field, content, "names neither a cache_id nor a tag; use exactly one")
	}
	return ref, nil
}

// maxTTLSeconds is MaxCacheTTL as the API writes it.
const maxTTLSeconds = int(MaxCacheTTL / time.Second)

// ttlSeconds parses a reset_ttl as the API writes it: integer seconds
// within [0, maxTTLSeconds].
func ttlSeconds(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0 && n <= maxTTLSeconds
}

// validateCacheHeaders checks the header form of cache use, in the
// headers of a call's options.
func validateCacheHeaders(h http.Header, cacheMsg bool) error {
	id, set := headerValue(h, HeaderContextCache)
	_, ttlSet := headerValue(h, HeaderContextCacheResetTTL)
	_, drySet := headerValue(h, HeaderContextCacheDryRun)
	if !set {
		if ttlSet || drySet {
			return invalid("header "+HeaderContextCache, nil, "is required when %s or %s is set", HeaderContextCacheResetTTL, HeaderContextCacheDryRun)
		}
		return nil
	}
	field := "header " + HeaderContextCache
	switch {
	case cacheMsg:
		return invalid(field, id, "use either a cache message or the cache headers, not both")
	case strings.HasPrefix(id, "tag="):
		return invalid(field, id, "header mode takes a cache id; a tag works only through CacheMessage")
	case id == "" || strings.ContainsAny(id, " \t;="):
		return invalid(field, id, "must be a cache id")
	}
	if v, ok := headerValue(h, HeaderContextCacheResetTTL); ok {
		if _, ok := ttlSeconds(v); !ok {
			return invalid("header "+HeaderContextCacheResetTTL, v, "must be an integer number of seconds within [0, %d]", maxTTLSeconds)
		}
	}
	if v, ok := headerValue(h, HeaderContextCacheDryRun); ok && v != "0" && v != "1" {
		return invalid("header "+HeaderContextCacheDryRun, v, "must be 0 or 1")
	}
	return nil
}

// headerValue returns the first value of key and whether there is one.
// Options store headers under canonical keys (http.Header.Add).
func headerValue(h http.Header, key string) (string, bool) {
	if v := h.Values(key); len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// CacheInfo is what a chat response says about context cache use.
type CacheInfo struct {
	// ID is the cache used (Msh-Context-Cache-Id); empty for automatic
	// prefix caching.
	ID string
	// TokensSaved is Msh-Context-Cache-Token-Saved, else the usage's
	// cached_tokens.
	TokensSaved int
	// ExpiresAt is the cache's expiry, from Msh-Context-Cache-Token-Exp
	// or Msh-Context-Cache-Token-Ttl; zero when neither is present.
	ExpiresAt time.Time
	// Hit reports whether a cache served the request.
	Hit bool
}

// Response headers of cache use.
const (
	HeaderCacheID          = "Msh-Context-Cache-Id"
	HeaderCacheTokenSaved  = "Msh-Context-Cache-Token-Saved"
	HeaderCacheTokenExp    = "Msh-Context-Cache-Token-Exp"
	HeaderCacheTokenTTL    = "Msh-Context-Cache-Token-Ttl"
	unixSecondsPlausibleAt = 1_000_000_000 // 2001: smaller values are durations
)

// cacheInfo reads the cache headers. Kimi's docs name the expiry header
// -Token-Exp (unix seconds) while its Go cookbook reads -Token-Ttl
// (taken as remaining seconds); both are read, and a value is taken as
// unix seconds when it is large enough to be one (≥ 10^9), else as
// seconds from now (the response Date, or the local clock). cached is the
// usage's cached_tokens, the fallback for TokensSaved.
func cacheInfo(h http.Header, cached int) CacheInfo {
	info := CacheInfo{ID: strings.TrimSpace(h.Get(HeaderCacheID))}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get(HeaderCacheTokenSaved))); err == nil && n > 0 {
		info.TokensSaved = n
	} else {
		info.TokensSaved = cached
	}
	for _, name := range []string{HeaderCacheTokenExp, HeaderCacheTokenTTL} {
		n, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
		if err != nil || n <= 0 {
			continue
		}
		if n >= unixSecondsPlausibleAt {
			info.ExpiresAt = time.Unix(n, 0)
		} else {
			now := time.Now()
			if d, err := http.ParseTime(h.Get("Date")); err == nil {
				now = d
			}
			info.ExpiresAt = now.Add(time.Duration(n) * time.Second).Truncate(time.Second)
		}
		break
	}
	info.Hit = info.ID != "" || info.TokensSaved > 0
	return info
}
