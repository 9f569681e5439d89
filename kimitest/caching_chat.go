package kimitest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Using an explicit context cache in POST /v1/chat/completions
// (https://platform.moonshot.ai/docs/api/caching).
//
// A. A first message {"role":"cache","content":"cache_id=…;reset_ttl=N;dry_run=1"}
// (or tag=… instead of cache_id=…) is replaced by the cached messages, and
// the cached tools become the request's tools; the request itself must not
// send tools (an empty array counts as sent).
//
// B. The X-Msh-Context-Cache header (with -Reset-TTL and -DryRun) names a
// cache; the request carries the full messages, and the cache is used only
// if its messages are exactly the request's first messages and its tools
// the request's tools (compared as canonical JSON). Otherwise the call is
// an ordinary uncached one.
//
// Choices where the docs are silent:
//   - unknown cache id or tag (also: another account's) → 404
//     resource_not_found_error; a tag whose cache was deleted → 404 for the
//     cache;
//   - a pending cache → 400 "… is not ready (status: pending)"; an inactive
//     one without reset_ttl → 400 "… has expired"; an error one → 400;
//     these apply in both modes, before header mode compares contents;
//   - a model outside the moonshot-v1 family (moonshot-v1-8k/32k/128k,
//     -auto and the vision previews are in it) → 400 "context cache is
//     only supported for moonshot-v1 models";
//   - reset_ttl=N (0..3600; 0 means no reset) sets expired_at = now + N on
//     each successful call. On an inactive cache whose content is intact it
//     re-enables the cache as ready at once and the call is served (the
//     docs say the cache "is re-enabled"). With WithStrictCacheRevival it
//     follows the documented status cycle instead: the cache goes back
//     to pending with expired_at = now + N and the call fails with the
//     pending 400, so a client must wait for ready and retry, as with the
//     real API;
//   - dry_run=1 (the body is the emulator's invention): no generation, no
//     token cost, no call fee, no reset, no revival (an inactive cache gets
//     the expired 400 even with reset_ttl): 200 with a completion whose
//     single choice has empty content and finish_reason "stop",
//     usage.prompt_tokens = the cached tokens (0 on a header-mode miss)
//     and completion_tokens 0, plus the cache headers on a hit. A stream
//     request gets it as SSE.
//
// Response headers on a hit: Msh-Context-Cache-Id, -Token-Saved (the
// cache's tokens), -Token-Exp (expired_at, unix seconds; the docs' name)
// and -Token-Ttl (seconds left; the official Go cookbook reads this
// name). Hits count the cache's tokens as usage.cached_tokens, inside
// prompt_tokens.

// cacheUse is a resolved cache reference of a chat request.
type cacheUse struct {
	id       string
	tokens   int
	resetTTL int
	dryRun   bool
	hit      bool // the cache's content is used (always in message mode)
}

// cacheMessageSpec is the parsed content of a role=cache message.
type cacheMessageSpec struct {
	cacheID, tag string
	resetTTL     int
	dryRun       bool
}

func parseResetTTL(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxCacheTTL || strings.TrimSpace(v) != v || strings.HasPrefix(v, "+") {
		return 0, false
	}
	return n, true
}

func parseDryRun(v string) (bool, bool) {
	switch v {
	case "0":
		return false, true
	case "1":
		return true, true
	}
	return false, false
}

// parseCacheMessage parses "key=value;key=value" strictly.
func parseCacheMessage(s string) (cacheMessageSpec, *apiError) {
	var spec cacheMessageSpec
	if s == "" {
		return spec, errInvalid("cache message: content must not be empty; want cache_id=<id> or tag=<tag>")
	}
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" || v == "" {
			return spec, errInvalid("cache message: malformed pair %q, want key=value", pair)
		}
		if seen[k] {
			return spec, errInvalid("cache message: duplicated key %q", k)
		}
		seen[k] = true
		switch k {
		case "cache_id":
			spec.cacheID = v
		case "tag":
			spec.tag = v
		case "reset_ttl":
			n, ok := parseResetTTL(v)
			if !ok {
				return spec, errInvalid("cache message: reset_ttl must be an integer in [0, %d], got %q", maxCacheTTL, v)
			}
			spec.resetTTL = n
		case "dry_run":
			b, ok := parseDryRun(v)
			if !ok {
				return spec, errInvalid("cache message: dry_run must be 0 or 1, got %q", v)
			}
			spec.dryRun = b
		default:
			return spec, errInvalid("cache message: unknown key %q (allowed: cache_id, tag, reset_ttl, dry_run)", k)
		}
	}
	switch {
	case spec.cacheID != "" && spec.tag != "":
		return spec, errInvalid("cache message: only one of cache_id and tag may be set")
	case spec.cacheID == "" && spec.tag == "":
		return spec, errInvalid("cache message: one of cache_id or tag is required")
	}
	return spec, nil
}

// usable checks a cache's state for a call at now. The caller holds the
// lock.
func (c *ctxCache) usable(now time.Time, resetTTL int, dryRun bool) *apiError {
	switch st := c.status(now); st {
	case "pending":
		return errInvalid("context cache %s is not ready (status: pending)", c.id)
	case "error":
		_, msg, _ := c.errorInfo(now)
		return errInvalid("context cache %s is not usable (status: error): %s", c.id, msg)
	case "inactive":
		if dryRun {
			return errInvalid("context cache %s has expired (status: inactive); a dry run does not re-enable it", c.id)
		}
		if resetTTL == 0 {
			return errInvalid("context cache %s has expired (status: inactive); send reset_ttl to re-enable it", c.id)
		}
	}
	return nil
}

// checkUse checks c for the call use describes. Under
// WithStrictCacheRevival a reset_ttl (not a dry run) on an inactive cache
// sends it back to pending with expired_at = now + reset_ttl, and
// the call then fails as not ready. The caller holds the lock.
func (e *Emulator) checkUse(a *account, c *ctxCache, now time.Time, use *cacheUse) *apiError {
	if e.cfg.cacheStrict && !use.dryRun && use.resetTTL > 0 && c.status(now) == "inactive" {
		c.closeCycle(now, a.ledger)
		c.readyAt = now.Add(e.cfg.cacheReady)
		c.expiredAt = now.Add(time.Duration(use.resetTTL) * time.Second)
	}
	return c.usable(now, use.resetTTL, use.dryRun)
}

// resolveCacheUse finds a cache reference in req (message or headers),
// checks it and, in message mode or on a header-mode hit, rewrites req to
// the expanded messages and tools. It returns nil when the request uses no
// cache.
func (e *Emulator) resolveCacheUse(r *http.Request, req *chatRequest, model ModelSpec, a *account) (*cacheUse, *apiError) {
	msgMode := len(req.Messages) > 0 && req.Messages[0].Role == "cache"
	for i := 1; i < len(req.Messages); i++ {
		if req.Messages[i].Role == "cache" {
			return nil, errInvalid("messages[%d]: a cache message is only allowed as the first message", i)
		}
	}
	header := r.Header.Get("X-Msh-Context-Cache")
	if !msgMode && header == "" {
		return nil, nil
	}
	if msgMode && header != "" {
		return nil, errInvalid("use either a cache message or the X-Msh-Context-Cache header, not both")
	}
	if !rulesFor(model.Family).ExplicitCache {
		return nil, errInvalid("context cache is only supported for moonshot-v1 models, got %s", model.ID)
	}
	now := e.clock.Now()
	s := a.caches
	use := &cacheUse{}

	if msgMode {
		m := req.Messages[0]
		raw := strings.TrimSpace(string(m.Content))
		if !strings.HasPrefix(raw, `"`) {
			return nil, errInvalid("messages[0]: the content of a cache message must be a string")
		}
		spec, aerr := parseCacheMessage(m.text())
		if aerr != nil {
			return nil, aerr
		}
		if req.Tools != nil {
			return nil, errInvalid("tools must not be set when a cache message is used: the tools come from the context cache")
		}
		use.resetTTL, use.dryRun, use.hit = spec.resetTTL, spec.dryRun, true
		s.mu.Lock()
		defer s.mu.Unlock()
		id := spec.cacheID
		if spec.tag != "" {
			t := s.tags[spec.tag]
			if t == nil {
				return nil, errTagNotFound(spec.tag)
			}
			id = t.cacheID
		}
		c := s.caches[id]
		if c == nil {
			return nil, errCacheNotFound(id)
		}
		if aerr := e.checkUse(a, c, now, use); aerr != nil {
			return nil, aerr
		}
		use.id, use.tokens = c.id, c.tokens
		msgs := append(append([]message(nil), c.msgs...), req.Messages[1:]...)
		req.Messages = msgs
		req.Tools = append([]tool(nil), c.tools...)
		req.rawMessages = mustJSON(msgs)
		return use, nil
	}

	if v := r.Header.Get("X-Msh-Context-Cache-Reset-TTL"); v != "" {
		n, ok := parseResetTTL(v)
		if !ok {
			return nil, errInvalid("X-Msh-Context-Cache-Reset-TTL must be an integer in [0, %d], got %q", maxCacheTTL, v)
		}
		use.resetTTL = n
	}
	if v := r.Header.Get("X-Msh-Context-Cache-DryRun"); v != "" {
		b, ok := parseDryRun(v)
		if !ok {
			return nil, errInvalid("X-Msh-Context-Cache-DryRun must be 0 or 1, got %q", v)
		}
		use.dryRun = b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.caches[header]
	if c == nil {
		return nil, errCacheNotFound(header)
	}
	if aerr := e.checkUse(a, c, now, use); aerr != nil {
		return nil, aerr
	}
	use.id = c.id
	var elems []json.RawMessage
	_ = json.Unmarshal(req.rawMessages, &elems)
	if len(elems) < len(c.canonMsgs) || canonicalTools(req.rawTools) != c.canonTools {
		return use, nil
	}
	for i, cm := range c.canonMsgs {
		if canonicalJSON(elems[i]) != cm {
			return use, nil
		}
	}
	use.hit, use.tokens = true, c.tokens
	return use, nil
}

// commitCacheUse applies a successful call's effects: reset_ttl and the
// per-call fee. It returns the cache's expiry for the response headers.
func (e *Emulator) commitCacheUse(a *account, use *cacheUse) time.Time {
	now := e.clock.Now()
	s := a.caches
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.caches[use.id]
	if c == nil {
		return now // deleted meanwhile; the call was served from its content
	}
	if use.resetTTL > 0 {
		if c.status(now) == "inactive" {
			c.closeCycle(now, a.ledger)
			c.readyAt = now
		}
		c.expiredAt = now.Add(time.Duration(use.resetTTL) * time.Second)
	}
	a.ledger.add(callCharge(now, c.id))
	return c.expiredAt
}

// cacheExpiryNow reads a cache's expiry without changing it (dry run).
func (e *Emulator) cacheExpiryNow(a *account, id string) time.Time {
	s := a.caches
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.caches[id]; c != nil {
		return c.expiredAt
	}
	return e.clock.Now()
}

// setCacheHeaders writes the Msh-Context-Cache-* headers of a cache hit.
func (e *Emulator) setCacheHeaders(w http.ResponseWriter, use *cacheUse, exp time.Time) {
	h := w.Header()
	h.Set("Msh-Context-Cache-Id", use.id)
	h.Set("Msh-Context-Cache-Token-Saved", strconv.Itoa(use.tokens))
	h.Set("Msh-Context-Cache-Token-Exp", strconv.FormatInt(exp.Unix(), 10))
	ttl := int64(exp.Sub(e.clock.Now()) / time.Second)
	h.Set("Msh-Context-Cache-Token-Ttl", strconv.FormatInt(max(ttl, 0), 10))
}
