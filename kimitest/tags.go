package kimitest

import (
	"net/http"
	"time"
)

// Cache tags (https://platform.moonshot.ai/docs/api/caching): per-account
// names pointing to a cache id.
//
// Choices where the docs are silent:
//   - names are 1–128 characters, an ASCII letter first, then ASCII
//     letters, digits, '_', '-' and '.' (digits are not in the doc text but
//     are in the official examples);
//   - creating an existing tag re-points it (upsert): the tag is replaced,
//     with the new cache id and a new created_at, as the cookbook's
//     "delete old cache, create new one with tags:[name]" flow needs;
//   - a missing tag is 404 resource_not_found_error; a tag whose cache was
//     deleted still exists (GET works) but its content is 404;
//   - DELETE always succeeds, even for a missing tag.

type cacheTag struct {
	tag     string
	cacheID string
	created time.Time
	seq     uint64
}

type tagObjectJSON struct {
	Tag       string `json:"tag"`
	CacheID   string `json:"cache_id"`
	Object    string `json:"object"`
	OwnedBy   string `json:"owned_by"`
	CreatedAt int64  `json:"created_at"`
}

func (t *cacheTag) creation() uint64 { return t.seq }

func (t *cacheTag) object(owner string) tagObjectJSON {
	return tagObjectJSON{Tag: t.tag, CacheID: t.cacheID, Object: "cache_object.tag", OwnedBy: owner, CreatedAt: t.created.Unix()}
}

func validTagName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func errBadTagName(tag string) *apiError {
	return errInvalid("tag %q is invalid: it must be 1 to 128 characters, start with an ASCII letter and contain only letters, digits, '_', '-' and '.'", tag)
}

// putTag creates or re-points a tag. The caller holds the lock.
func (s *cacheStore) putTag(tag, cacheID string, now time.Time) *cacheTag {
	s.seq++
	t := &cacheTag{tag: tag, cacheID: cacheID, created: now, seq: s.seq}
	s.tags[tag] = t
	return t
}

func (e *Emulator) handleCreateTag(w http.ResponseWriter, r *http.Request, a *account) {
	var req struct {
		Tag     string `json:"tag"`
		CacheID string `json:"cache_id"`
	}
	if aerr := readJSONBody(w, r, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if !validTagName(req.Tag) {
		writeError(w, errBadTagName(req.Tag))
		return
	}
	if req.CacheID == "" {
		writeError(w, errInvalid("cache_id is required"))
		return
	}
	s := a.caches
	s.mu.Lock()
	if s.caches[req.CacheID] == nil {
		s.mu.Unlock()
		writeError(w, errCacheNotFound(req.CacheID))
		return
	}
	obj := s.putTag(req.Tag, req.CacheID, e.clock.Now()).object(a.UserID)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

// handleListTags serves GET /v1/caching/refs/tags: after and before are
// tag names; order is by created_at (desc by default).
func (e *Emulator) handleListTags(w http.ResponseWriter, r *http.Request, a *account) {
	lq, aerr := parseListQuery(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s := a.caches
	s.mu.Lock()
	data, aerr := page(bySeq(s.tags), s.tags, lq, "tag", func(t *cacheTag) tagObjectJSON { return t.object(a.UserID) })
	s.mu.Unlock()
	writeResult(w, listBody(data), aerr)
}

func (e *Emulator) handleGetTag(w http.ResponseWriter, r *http.Request, a *account) {
	s := a.caches
	obj, aerr := lookup(&s.mu, s.tags, r.PathValue("tag"), errTagNotFound, func(t *cacheTag) tagObjectJSON { return t.object(a.UserID) })
	writeResult(w, obj, aerr)
}

// handleGetTagContent returns the cache a tag points to, as GET
// /v1/caching/{id} would.
func (e *Emulator) handleGetTagContent(w http.ResponseWriter, r *http.Request, a *account) {
	name := r.PathValue("tag")
	s := a.caches
	s.mu.Lock()
	t := s.tags[name]
	var c *ctxCache
	var obj cacheObjectJSON
	if t != nil {
		if c = s.caches[t.cacheID]; c != nil {
			obj = c.object(e.clock.Now())
		}
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		writeError(w, errTagNotFound(name))
	case c == nil:
		writeError(w, errCacheNotFound(t.cacheID))
	default:
		writeJSON(w, http.StatusOK, obj)
	}
}

func (e *Emulator) handleDeleteTag(w http.ResponseWriter, r *http.Request, a *account) {
	name := r.PathValue("tag")
	s := a.caches
	s.mu.Lock()
	delete(s.tags, name)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "object": "cache_object.tag.deleted", "tag": name})
}
