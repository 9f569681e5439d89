package kimi_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

func TestTagsCRUD(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	ids := createCaches(t, c, 2)

	tag, err := c.Tags.Create(ctx, &kimi.TagCreateRequest{Tag: "moonshot_knowledge_0002", CacheID: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if tag.Tag != "moonshot_knowledge_0002" || tag.CacheID != ids[0] || tag.Object == "" || tag.OwnedBy == "" || tag.CreatedAt == 0 {
		t.Errorf("tag = %+v", tag)
	}
	if b := string(rec.last().Body); b != `{"tag":"moonshot_knowledge_0002","cache_id":"`+ids[0]+`"}` {
		t.Errorf("create body = %s", b)
	}
	got, err := c.Tags.Get(ctx, tag.Tag)
	if err != nil || *got != *tag {
		t.Errorf("get = %+v, %v; want %+v", got, err, tag)
	}
	content, err := c.Tags.Content(ctx, tag.Tag)
	if err != nil || content.ID != ids[0] || content.Name != "c0" {
		t.Errorf("content = %+v, %v", content, err)
	}
	if p := rec.last().Path; p != "/v1/caching/refs/tags/moonshot_knowledge_0002/content" {
		t.Errorf("content path = %s", p)
	}

	// Re-pointing: the tag follows the newest cache that claims it.
	if _, err := c.Tags.Create(ctx, &kimi.TagCreateRequest{Tag: tag.Tag, CacheID: ids[1]}); err != nil {
		t.Fatal(err)
	}
	if content, err = c.Tags.Content(ctx, tag.Tag); err != nil || content.ID != ids[1] {
		t.Errorf("content after re-point = %+v, %v", content, err)
	}

	if err := c.Tags.Delete(ctx, tag.Tag); err != nil {
		t.Fatal(err)
	}
	_, err = c.Tags.Get(ctx, tag.Tag)
	mustStatus(t, err, 404)
	_, err = c.Tags.Content(ctx, tag.Tag)
	mustStatus(t, err, 404)
	// Deleting a missing tag succeeds, as on Kimi.
	if err := c.Tags.Delete(ctx, "never-created"); err != nil {
		t.Errorf("delete missing tag: %v", err)
	}
	// The caches stay.
	if _, err := c.Caches.Get(ctx, ids[1]); err != nil {
		t.Errorf("cache gone with its tag: %v", err)
	}

	// A tag at creation time.
	cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), Tags: []string{"handbook"}})
	if err != nil {
		t.Fatal(err)
	}
	if content, err = c.Tags.Content(ctx, "handbook"); err != nil || content.ID != cache.ID {
		t.Errorf("content of creation tag = %+v, %v", content, err)
	}
	// A tag whose cache was deleted dangles.
	if err := c.Caches.Delete(ctx, cache.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Tags.Content(ctx, "handbook")
	mustStatus(t, err, 404)
}

func TestTagsListAndAll(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	ids := createCaches(t, c, 1)
	names := []string{"alpha", "bravo", "charlie", "delta", "echo"}
	for _, n := range names {
		if _, err := c.Tags.Create(ctx, &kimi.TagCreateRequest{Tag: n, CacheID: ids[0]}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.Tags.List(ctx, &kimi.TagListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Object != "list" || len(page.Data) != 2 || page.Data[0].Tag != "echo" || page.Data[1].Tag != "delta" {
		t.Errorf("newest-first page = %+v", page)
	}
	before := rec.n()
	got := collect(t, c.Tags.All(ctx, &kimi.TagListOptions{Limit: 2, Order: "asc"}), func(tag *kimi.Tag) string { return tag.Tag })
	if !slices.Equal(got, names) {
		t.Errorf("All = %v", got)
	}
	if n := rec.n() - before; n != 3 {
		t.Errorf("All made %d requests, want 3", n)
	}
	if q := rec.last().Query; q != "after=delta&limit=2&order=asc" {
		t.Errorf("last page query = %q", q)
	}
	// An error ends the iteration, yielded last.
	var errs int
	for tag, err := range c.Tags.All(ctx, &kimi.TagListOptions{After: "no-such-tag"}) {
		if err == nil || tag != nil {
			t.Fatalf("got %v, %v", tag, err)
		}
		errs++
	}
	if errs != 1 {
		t.Errorf("errors yielded = %d", errs)
	}
}

func TestTagValidation(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	for _, tag := range []string{"", "1abc", "_abc", "a b", "a/b", "ab;c", "ä", strings.Repeat("a", 129)} {
		_, err := c.Tags.Create(ctx, &kimi.TagCreateRequest{Tag: tag, CacheID: "cache-x"})
		wantInvalid(t, fmt.Sprintf("tag %q", tag), err, "tag")
		if kimi.ValidTagName(tag) {
			t.Errorf("ValidTagName(%q) = true", tag)
		}
	}
	for _, tag := range []string{"a", "A.b-c_d9", strings.Repeat("a", 128)} {
		if !kimi.ValidTagName(tag) {
			t.Errorf("ValidTagName(%q) = false", tag)
		}
	}
	_, err := c.Tags.Create(ctx, &kimi.TagCreateRequest{Tag: "abc", CacheID: ""})
	wantInvalid(t, "empty cache id", err, "cache_id")
	wantNoRequests(t, rec)
}
