package onesdk

import (
	"context"
	"iter"

	"github.com/onesdk-go/onesdk/kimi"
)

// Context caching (Kimi's explicit caches) and tags. Only the kimi
// provider offers them: on another provider every method returns an
// ErrUnsupported error.

// CacheMessage returns the special first message of a chat request that
// uses a cache:
//
//	onesdk.CacheMessage(onesdk.CacheRef{Tag: "my_tag", ResetTTL: time.Hour})
//
// The server puts the cached messages and tools in its place, so the
// request's Tools must stay nil.
func CacheMessage(ref CacheRef) Message { return kimi.CacheMessage(ref) }

// CreateCache creates a context cache. The cache starts "pending";
// WaitCacheReady waits until it can be used.
func (s *SDK) CreateCache(ctx context.Context, req *CacheCreateRequest, opts ...RequestOption) (*Cache, error) {
	return gated(s, featCaching, func() (*Cache, error) { return s.client.Caches.Create(ctx, req, opts...) })
}

// WaitCacheReady polls the cache until it is "ready" and returns it. A
// cache that ends in "error" or expires ("inactive") is an ErrBadRequest
// error; a wait cut by ctx returns the cache as last seen with the error.
// Bound the wait with ctx: Kimi takes 40–60 s to build a cache.
func (s *SDK) WaitCacheReady(ctx context.Context, id string, opts ...RequestOption) (*Cache, error) {
	return gated(s, featCaching, func() (*Cache, error) { return s.client.Caches.WaitReady(ctx, id, opts...) })
}

// ListCaches lists one page of caches; nil opts are the server's
// defaults (20, newest first).
func (s *SDK) ListCaches(ctx context.Context, o *CacheListOptions, opts ...RequestOption) ([]Cache, error) {
	return page(s, featCaching, func() (*kimi.CacheList, error) { return s.client.Caches.List(ctx, o, opts...) },
		func(l *kimi.CacheList) []Cache { return l.Data })
}

// AllCaches ranges over every cache, page after page (opts.Limit is the
// page size). A failure is yielded as the last pair.
func (s *SDK) AllCaches(ctx context.Context, o *CacheListOptions, opts ...RequestOption) iter.Seq2[*Cache, error] {
	return every(s, featCaching, func() iter.Seq2[*Cache, error] { return s.client.Caches.All(ctx, o, opts...) })
}

// GetCache returns one cache; an unknown id is an ErrNotFound error.
func (s *SDK) GetCache(ctx context.Context, id string, opts ...RequestOption) (*Cache, error) {
	return gated(s, featCaching, func() (*Cache, error) { return s.client.Caches.Get(ctx, id, opts...) })
}

// UpdateCache changes a cache's metadata or expiry and returns it.
func (s *SDK) UpdateCache(ctx context.Context, id string, req *CacheUpdateRequest, opts ...RequestOption) (*Cache, error) {
	return gated(s, featCaching, func() (*Cache, error) { return s.client.Caches.Update(ctx, id, req, opts...) })
}

// DeleteCache deletes a cache; an unknown id is an ErrNotFound error.
// Tags that point to it are left dangling.
func (s *SDK) DeleteCache(ctx context.Context, id string, opts ...RequestOption) error {
	_, err := gated(s, featCaching, func() (struct{}, error) { return struct{}{}, s.client.Caches.Delete(ctx, id, opts...) })
	return err
}

// CreateTag points req.Tag at the cache req.CacheID (moving a tag that
// exists). Tag names start with a letter and go on with letters, digits,
// "_", "-" and ".", 128 characters at most.
func (s *SDK) CreateTag(ctx context.Context, req *TagCreateRequest, opts ...RequestOption) (*Tag, error) {
	return gated(s, featCaching, func() (*Tag, error) { return s.client.Tags.Create(ctx, req, opts...) })
}

// ListTags lists one page of tags.
func (s *SDK) ListTags(ctx context.Context, o *TagListOptions, opts ...RequestOption) ([]Tag, error) {
	return page(s, featCaching, func() (*kimi.TagList, error) { return s.client.Tags.List(ctx, o, opts...) },
		func(l *kimi.TagList) []Tag { return l.Data })
}

// AllTags ranges over every tag, page after page. A failure is yielded as
// the last pair.
func (s *SDK) AllTags(ctx context.Context, o *TagListOptions, opts ...RequestOption) iter.Seq2[*Tag, error] {
	return every(s, featCaching, func() iter.Seq2[*Tag, error] { return s.client.Tags.All(ctx, o, opts...) })
}

// GetTag returns one tag; an unknown tag is an ErrNotFound error.
func (s *SDK) GetTag(ctx context.Context, tag string, opts ...RequestOption) (*Tag, error) {
	return gated(s, featCaching, func() (*Tag, error) { return s.client.Tags.Get(ctx, tag, opts...) })
}

// GetTagContent returns the cache the tag points to.
func (s *SDK) GetTagContent(ctx context.Context, tag string, opts ...RequestOption) (*Cache, error) {
	return gated(s, featCaching, func() (*Cache, error) { return s.client.Tags.Content(ctx, tag, opts...) })
}

// DeleteTag deletes a tag (not its cache). Kimi reports success even for a
// tag that does not exist.
func (s *SDK) DeleteTag(ctx context.Context, tag string, opts ...RequestOption) error {
	_, err := gated(s, featCaching, func() (struct{}, error) { return struct{}{}, s.client.Tags.Delete(ctx, tag, opts...) })
	return err
}
