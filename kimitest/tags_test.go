package kimitest

import (
	"slices"
	"strings"
	"testing"
)

func createTag(t *testing.T, srv *Server, tag, cacheID string) tagObjectJSON {
	t.Helper()
	return decodeOK[tagObjectJSON](t, ktDo(t, srv, "POST", "/v1/caching/refs/tags", map[string]any{"tag": tag, "cache_id": cacheID}))
}

func getTag(t *testing.T, srv *Server, tag string) tagObjectJSON {
	t.Helper()
	return decodeOK[tagObjectJSON](t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/"+tag, nil))
}

// listTags lists the names that GET /v1/caching/refs/tags?query answers.
func listTags(t *testing.T, srv *Server, query string) []string {
	t.Helper()
	return listKeys(t, srv, "/v1/caching/refs/tags?"+query, func(tag tagObjectJSON) string { return tag.Tag })
}

func TestTagsCRUD(t *testing.T) {
	srv := setup(t)
	c1 := createCache(t, srv, cacheBody(nil))
	c2 := createCache(t, srv, cacheBody(map[string]any{"name": "second"}))
	uid := srv.Emulator.accounts[srv.Key].UserID

	tag := createTag(t, srv, "moonshot_knowledge_0002", c1.ID)
	if tag.Tag != "moonshot_knowledge_0002" || tag.CacheID != c1.ID || tag.Object != "cache_object.tag" || tag.OwnedBy != uid || tag.CreatedAt == 0 {
		t.Fatalf("created: %+v", tag)
	}
	if g := getTag(t, srv, "moonshot_knowledge_0002"); g != tag {
		t.Fatalf("get: %+v, want %+v", g, tag)
	}
	content := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/moonshot_knowledge_0002/content", nil))
	if content.ID != c1.ID || content.Object != "context_cache_object" || content.Tokens != c1.Tokens {
		t.Fatalf("content: %+v", content)
	}
	// Re-creating a tag re-points it (upsert).
	if up := createTag(t, srv, "moonshot_knowledge_0002", c2.ID); up.CacheID != c2.ID {
		t.Fatalf("upsert: %+v", up)
	}
	if g := getTag(t, srv, "moonshot_knowledge_0002"); g.CacheID != c2.ID {
		t.Fatalf("after upsert: %+v", g)
	}
	if got := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/moonshot_knowledge_0002/content", nil)); got.Name != "second" {
		t.Fatalf("content after upsert: %+v", got)
	}

	// Delete always succeeds.
	for range 2 {
		r := ktDo(t, srv, "DELETE", "/v1/caching/refs/tags/moonshot_knowledge_0002", nil)
		if r.Status != 200 || string(r.Body) != `{"deleted":true,"object":"cache_object.tag.deleted","tag":"moonshot_knowledge_0002"}`+"\n" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
	}
	notFound := "Not found the context cache tag moonshot_knowledge_0002 or Permission denied"
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/moonshot_knowledge_0002", nil), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/moonshot_knowledge_0002/content", nil), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/caching/refs/tags", map[string]any{"tag": "x", "cache_id": "cache-none"}), 404,
		"resource_not_found_error", "Not found the context cache cache-none or Permission denied")
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/caching/refs/tags", map[string]any{"tag": "x"}), 400,
		"invalid_request_error", "Invalid request: cache_id is required")
}

func TestTagNames(t *testing.T) {
	srv := setup(t)
	c := createCache(t, srv, cacheBody(nil))
	for _, good := range []string{"a", "A.b-c_9", "tag2024", strings.Repeat("x", 128)} {
		if tag := createTag(t, srv, good, c.ID); tag.Tag != good || getTag(t, srv, good).CacheID != c.ID {
			t.Fatalf("tag %q: %+v", good, tag)
		}
	}
	for _, bad := range []string{"", "1abc", "_a", ".a", "a b", "a/b", "ä", "a+b", strings.Repeat("x", 129)} {
		wantAPIError(t, ktDo(t, srv, "POST", "/v1/caching/refs/tags", map[string]any{"tag": bad, "cache_id": c.ID}), 400, "invalid_request_error",
			`Invalid request: tag "`+bad+`" is invalid: it must be 1 to 128 characters, start with an ASCII letter and contain only letters, digits, '_', '-' and '.'`)
	}
}

// A tag outlives its cache: GET works, the content is 404.
func TestTagDangling(t *testing.T) {
	srv := setup(t)
	c := createCache(t, srv, cacheBody(map[string]any{"tags": []string{"kb", "kb.v2"}}))
	for _, name := range []string{"kb", "kb.v2"} {
		if g := getTag(t, srv, name); g.CacheID != c.ID {
			t.Fatalf("create-time tag %s: %+v", name, g)
		}
	}
	ktDo(t, srv, "DELETE", "/v1/caching/"+c.ID, nil)
	if g := getTag(t, srv, "kb"); g.CacheID != c.ID {
		t.Fatalf("dangling tag: %+v", g)
	}
	notFound := "Not found the context cache " + c.ID + " or Permission denied"
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/kb/content", nil), 404, "resource_not_found_error", notFound)
	wantAPIError(t, postChat(t, srv, cacheChat("tag=kb", "moonshot-v1-8k", "")), 404, "resource_not_found_error", notFound)
	// A failed create does not tag anything.
	ktDo(t, srv, "POST", "/v1/caching", cacheBody(map[string]any{"tags": []string{"fresh"}, "ttl": 99999}))
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/refs/tags/fresh", nil), 404, "resource_not_found_error",
		"Not found the context cache tag fresh or Permission denied")
}

func TestTagListPaging(t *testing.T) {
	srv := setup(t)
	c := createCache(t, srv, cacheBody(nil))
	names := []string{"t0", "t1", "t2", "t3", "t4"}
	for _, n := range names {
		createTag(t, srv, n, c.ID)
	}
	checkListPaging(t, func(q string) []string { return listTags(t, srv, q) }, names)
	if got := listTags(t, srv, "order=asc&limit=2&before=t4"); !slices.Equal(got, []string{"t2", "t3"}) {
		t.Fatalf("before: %v", got)
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/refs/tags?after=zz", nil), 400, "invalid_request_error", "Invalid request: after: unknown tag zz")
}
