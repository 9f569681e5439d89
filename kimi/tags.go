package kimi

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// TagService manages cache tags (/caching/refs/tags): stable,
// developer-chosen names that point to a replaceable cache, usable in
// chat through CacheMessage{Tag: ...}.
type TagService struct{ c *Client }

// Tag is a tag object.
type Tag struct {
	Tag       string `json:"tag"`
	CacheID   string `json:"cache_id"`
	Object    string `json:"object,omitempty"`
	OwnedBy   string `json:"owned_by,omitempty"`
	CreatedAt int64  `json:"created_at,omitempty"`
}

// TagListOptions are the query of GET /caching/refs/tags; After and
// Before are tag names. Zero fields are left out.
type TagListOptions struct {
	Limit  int
	Order  string // "asc" or "desc"
	After  string
	Before string
}

// TagList is a page of tags.
type TagList struct {
	Object string `json:"object"`
	Data   []Tag  `json:"data"`
}

func (l *TagList) items() []Tag { return l.Data }

func (o *TagListOptions) query() (url.Values, error) {
	if o == nil {
		return nil, nil
	}
	return listQuery(o.Limit, o.Order, o.After, o.Before, nil)
}

func (o *TagListOptions) cursor() (limit *int, after *string) { return &o.Limit, &o.After }

// ValidTagName reports whether name is a valid tag: 1–128 characters, an
// ASCII letter first, then ASCII letters, digits, '_', '-' and '.'.
// (Kimi's text does not list digits, but its own examples use them.)
func ValidTagName(name string) bool {
	return validateTagName("tag", name) == nil
}

func validateTagName(field, name string) error {
	if name == "" || len(name) > MaxTagChars {
		return invalid(field, name, "must be 1 to %d characters (is %d)", MaxTagChars, len(name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter {
			return invalid(field, name, "must start with an ASCII letter")
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '.' {
			return invalid(field, name, "may hold only ASCII letters, digits, '_', '-' and '.' (found %q at byte %d)", c, i)
		}
	}
	return nil
}

// TagCreateRequest is the body of POST /caching/refs/tags: the tag to
// create (or move) and the cache it points to.
type TagCreateRequest struct {
	Tag     string `json:"tag"`
	CacheID string `json:"cache_id"`
}

// Create points r.Tag at r.CacheID (POST /caching/refs/tags).
func (s *TagService) Create(ctx context.Context, r *TagCreateRequest, opts ...RequestOption) (*Tag, error) {
	if r == nil {
		return nil, invalid("request", nil, "must not be nil")
	}
	if err := validateTagName("tag", r.Tag); err != nil {
		return nil, err
	}
	if err := validateID("cache_id", r.CacheID); err != nil {
		return nil, err
	}
	return call[Tag](ctx, s.c, http.MethodPost, "caching/refs/tags", r, opts)
}

// List returns one page of tags. o may be nil.
func (s *TagService) List(ctx context.Context, o *TagListOptions, opts ...RequestOption) (*TagList, error) {
	return listPage[TagList](ctx, s.c, "caching/refs/tags", o, opts)
}

// All iterates over every tag, paging with After set to the last tag name
// until a page is shorter than the page size (o.Limit, default 20). An
// error is yielded last with a nil tag. o may be nil and is not modified.
func (s *TagService) All(ctx context.Context, o *TagListOptions, opts ...RequestOption) iter.Seq2[*Tag, error] {
	return listAll(o, func(p *TagListOptions) (*TagList, error) { return s.List(ctx, p, opts...) },
		func(t *Tag) string { return t.Tag })
}

// Get returns a tag; a missing tag is a 404 *Error.
func (s *TagService) Get(ctx context.Context, tag string, opts ...RequestOption) (*Tag, error) {
	return getID[Tag](ctx, s.c, "tag", tag, "caching/refs/tags/%s", opts)
}

// Content returns the cache the tag points to.
func (s *TagService) Content(ctx context.Context, tag string, opts ...RequestOption) (*Cache, error) {
	return getID[Cache](ctx, s.c, "tag", tag, "caching/refs/tags/%s/content", opts)
}

// Delete removes a tag (the cache stays). Kimi answers success even for a
// tag that does not exist.
func (s *TagService) Delete(ctx context.Context, tag string, opts ...RequestOption) error {
	return deleteID(ctx, s.c, "tag", tag, "caching/refs/tags/%s", opts)
}
