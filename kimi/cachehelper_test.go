package kimi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func handbook(c *kimi.Client) *kimi.CachedContext {
	return &kimi.CachedContext{Client: c, Tag: "handbook", Model: "moonshot-v1-32k", Messages: docMessages()}
}

func question(s string) *kimi.ChatRequest {
	return &kimi.ChatRequest{Messages: []kimi.Message{kimi.UserMessage(s)}}
}

// askFirst asks cc a first question and returns the id of the cache it
// answered from.
func askFirst(t *testing.T, cc *kimi.CachedContext) string {
	t.Helper()
	if _, err := cc.Ask(testCtx(t), question("q1")); err != nil {
		t.Fatal(err)
	}
	return cc.CacheID()
}

// cacheCount lists the account's caches.
func cacheCount(t *testing.T, c *kimi.Client) int {
	t.Helper()
	return len(collect(t, c.Caches.All(testCtx(t), nil), cacheID))
}

// inFront is a newClient mod for a client reaching srv's emulator through
// a loopback server that runs step first: step answers a request itself,
// returning true, or may alter it and hand it on.
func inFront(t *testing.T, srv *kimitest.Server, step func(w http.ResponseWriter, r *http.Request) (answered bool)) func(*kimi.Config) {
	front := kimi.NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if !step(w, r) {
			srv.Emulator.ServeHTTP(w, r)
		}
	})
	return func(c *kimi.Config) { c.BaseURL = front.URL + "/v1" }
}

func TestCachedContextCreatesOnceThenReuses(t *testing.T) {
	c, srv, rec := setup(t, fastTime)
	ctx := testCtx(t)
	cc := handbook(c)
	if cc.Cached() {
		t.Error("Cached before any call")
	}

	resp, err := cc.Ask(ctx, question("How many steps?"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() == "" || resp.Usage.CachedTokens == 0 || !resp.CacheInfo().Hit || !cc.Cached() || cc.FallbackReason() != nil {
		t.Errorf("first ask: usage %+v, info %+v, cached %t, reason %v", resp.Usage, resp.CacheInfo(), cc.Cached(), cc.FallbackReason())
	}
	if m := rec.last(); m.Path != "/v1/chat/completions" || !strings.Contains(string(m.Body), `"model":"moonshot-v1-32k"`) {
		t.Errorf("model not defaulted: %s %s", m.Path, m.Body)
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d", n)
	}
	content, err := c.Tags.Content(ctx, "handbook")
	if err != nil || content.ID != cc.CacheID() || content.ID != resp.CacheInfo().ID || content.Name != "" {
		t.Errorf("tag content = %+v, %v; helper uses %s", content, err, cc.CacheID())
	}
	sent := rec.lastChat(t)
	msgs, tools := sent.Messages, sent.Tools
	if len(msgs) != 2 || msgs[0].Role != kimi.RoleCache || msgs[0].Content != "cache_id="+cc.CacheID()+";reset_ttl=3600" || msgs[1].Content != "How many steps?" || tools != nil {
		t.Errorf("sent %+v, tools %+v", msgs, tools)
	}

	// Second question, and a stream: no new cache.
	if _, err := cc.Ask(ctx, question("And step two?")); err != nil {
		t.Fatal(err)
	}
	st, err := cc.Stream(ctx, question("Summarise."))
	if err != nil {
		t.Fatal(err)
	}
	for st.Next() {
	}
	if st.Err() != nil || st.Completion().Usage.CachedTokens == 0 || st.CacheInfo().ID != cc.CacheID() {
		t.Errorf("stream: %v, usage %+v", st.Err(), st.Completion().Usage)
	}
	st.Close()

	// Another process (its own client and helper) finds the cache by tag.
	other, otherRec := newClient(srv)
	if _, err := handbook(other).Ask(ctx, question("Who wrote it?")); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(http.MethodPost, "/v1/caching") + otherRec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want 1", n)
	}
	if n := cacheCount(t, c); n != 1 {
		t.Errorf("caches = %d, want 1", n)
	}
}

func TestCachedContextConcurrentFirstUse(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	cc := handbook(c)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			resp, err := cc.Ask(ctx, question("Concurrent question"))
			if err == nil && resp.Usage.CachedTokens == 0 {
				err = errors.New("answer not served from the cache")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want 1", n)
	}
}

func TestCachedContextRecreates(t *testing.T) {
	t.Run("deleted", func(t *testing.T) {
		c, _, rec := setup(t, fastTime)
		ctx := testCtx(t)
		cc := handbook(c)
		old := askFirst(t, cc)
		if err := c.Caches.Delete(ctx, old); err != nil {
			t.Fatal(err)
		}
		resp, err := cc.Ask(ctx, question("q2"))
		if err != nil {
			t.Fatal(err)
		}
		if cc.CacheID() == old || resp.CacheInfo().ID != cc.CacheID() || resp.Usage.CachedTokens == 0 || !cc.Cached() {
			t.Errorf("after delete: id %s (old %s), info %+v", cc.CacheID(), old, resp.CacheInfo())
		}
		if n := rec.count(http.MethodPost, "/v1/caching"); n != 2 {
			t.Errorf("caches created = %d, want 2", n)
		}
		if content, err := c.Tags.Content(ctx, "handbook"); err != nil || content.ID != cc.CacheID() {
			t.Errorf("tag not re-pointed: %+v, %v", content, err)
		}
	})
	t.Run("errored", func(t *testing.T) {
		c, srv, _ := setup(t, fastTime)
		ctx := testCtx(t)
		cc := handbook(c)
		old := askFirst(t, cc)
		srv.Emulator.SetCacheError(srv.Key, old, "", "")
		resp, err := cc.Ask(ctx, question("q2"))
		if err != nil {
			t.Fatal(err)
		}
		if cc.CacheID() == old || resp.Usage.CachedTokens == 0 {
			t.Errorf("after error: id %s (old %s)", cc.CacheID(), old)
		}
		// The errored cache was deleted: one cache is left.
		if n := cacheCount(t, c); n != 1 {
			t.Errorf("caches = %d, want 1", n)
		}
	})
	t.Run("expired", func(t *testing.T) {
		c, _, rec := setup(t, fastTime)
		ctx := testCtx(t)
		cc := handbook(c)
		first := askFirst(t, cc)
		expireCache(t, c, first)

		// The helper in use re-enables the cache by its reset_ttl.
		resp, err := cc.Ask(ctx, question("q2"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Usage.CachedTokens == 0 || cc.CacheID() != first {
			t.Errorf("re-enabled: usage %+v, id %s (first %s)", resp.Usage, cc.CacheID(), first)
		}
		if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
			t.Errorf("caches created = %d, want 1", n)
		}
	})
}

// expireCache makes a cache inactive: a 1 s TTL ends before its 2 s of
// processing do, whatever the speed of the machine.
func expireCache(t *testing.T, c *kimi.Client, id string) {
	t.Helper()
	if _, err := c.Caches.Update(testCtx(t), id, &kimi.CacheUpdateRequest{TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, id, kimi.CacheStatusInactive)
}

// A fresh helper whose tag leads to its own content, expired, revives
// that cache (PUT with the TTL) instead of paying for a new one.
func TestCachedContextRevivesInactiveTaggedCache(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	askFirst(t, handbook(c))
	first, err := c.Tags.Content(ctx, "handbook")
	if err != nil {
		t.Fatal(err)
	}
	expireCache(t, c, first.ID)

	fresh := handbook(c)
	resp, err := fresh.Ask(ctx, question("q2"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.CacheID() != first.ID || resp.CacheInfo().ID != first.ID || resp.Usage.CachedTokens == 0 {
		t.Errorf("fresh helper: id %s (first %s), info %+v", fresh.CacheID(), first.ID, resp.CacheInfo())
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want 1", n)
	}
	if n := rec.count(http.MethodPut, "/v1/caching/"+first.ID); n != 2 { // expireCache's and the revival
		t.Errorf("PUTs = %d, want 2", n)
	}
	if got, err := c.Caches.Get(ctx, first.ID); err != nil || got.Status != kimi.CacheStatusReady || got.ExpiredAt <= first.ExpiredAt {
		t.Errorf("revived cache: %+v, %v", got, err)
	}
}

// waitStatus polls until the cache reaches status (emulated time runs
// fast; the test's context bounds the wait).
func waitStatus(t *testing.T, c *kimi.Client, id, status string) {
	t.Helper()
	ctx := testCtx(t)
	for {
		got, err := c.Caches.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == status {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("cache %s stayed %s", id, got.Status)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestCachedContextFallback(t *testing.T) {
	t.Run("k2.6 model", func(t *testing.T) {
		c, _, rec := setup(t, fastTime)
		cc := handbook(c)
		cc.Model = "kimi-k2.6"
		cc.Tools = []kimi.Tool{weatherTool}
		resp, err := cc.Ask(testCtx(t), question("How many steps?"))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Text() == "" && len(resp.Choices) == 0 || cc.Cached() {
			t.Errorf("answer %+v, cached %t", resp, cc.Cached())
		}
		if n := rec.count(http.MethodPost, "/v1/caching") + rec.count(http.MethodGet, "/content"); n != 0 {
			t.Errorf("%d caching requests for a k2.6 model", n)
		}
		sent := rec.lastChat(t)
		msgs, tools := sent.Messages, sent.Tools
		if len(msgs) != 2 || msgs[0].Content != longDoc || msgs[1].Content != "How many steps?" || len(tools) != 1 || tools[0].Function.Name != "get_weather" {
			t.Errorf("sent %d messages, tools %+v", len(msgs), tools)
		}
		// A stable prompt_cache_key, the same for another helper of the
		// same context: the platform's prefix cache serves the repeat.
		other := handbook(c)
		other.Tools = cc.Tools
		if key := sent.CacheKey; !strings.HasPrefix(key, "onesdk-ctx-") || key != other.PromptCacheKey() {
			t.Errorf("prompt_cache_key %q, another helper's %q", key, other.PromptCacheKey())
		}
		if _, err := cc.Ask(testCtx(t), question("And how long?")); err != nil {
			t.Fatal(err)
		}
		if cc.CachedTokens() <= 0 {
			t.Errorf("repeated context: %d cached tokens reported", cc.CachedTokens())
		}
	})
	t.Run("caching route missing", func(t *testing.T) {
		// A deployment without /caching (2026: dropped from the docs)
		// answers with the gateway's 404.
		srv := kimitest.NewServer(t, fastTime)
		c, rec := newClient(srv, inFront(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.HasPrefix(r.URL.Path, "/v1/caching") {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"code":5,"error":"url.not_found","message":"没找到对象","method":"` + r.Method + `","scode":"0x5","status":false,"url":"` + r.URL.Path + `"}`))
			return true
		}))
		cc := handbook(c)
		ctx := testCtx(t)
		for range 2 {
			resp, err := cc.Ask(ctx, question("How many steps?"))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text() == "" || cc.Cached() {
				t.Errorf("answer %q, cached %t", resp.Text(), cc.Cached())
			}
		}
		var apiErr *kimi.Error
		if !errors.As(cc.FallbackReason(), &apiErr) || apiErr.StatusCode != 404 || !errors.Is(cc.FallbackReason(), kimi.ErrUnsupported) ||
			!strings.Contains(apiErr.Error(), "serves no explicit context caching") {
			t.Errorf("fallback reason = %v", cc.FallbackReason())
		}
		// The cache methods say so too.
		_, err := c.Caches.List(ctx, nil)
		if !errors.Is(err, kimi.ErrUnsupported) || !errors.Is(err, kimi.ErrNotFound) {
			t.Errorf("Caches.List without /caching: %v", err)
		}
		if _, err := c.Tags.Get(ctx, "manual"); !errors.Is(err, kimi.ErrUnsupported) {
			t.Errorf("Tags.Get without /caching: %v", err)
		}
		// Creation was tried once; both questions carried the context.
		if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
			t.Errorf("creation attempts = %d", n)
		}
		if msgs := rec.lastChat(t).Messages; len(msgs) != 2 || msgs[0].Content != longDoc {
			t.Errorf("sent %+v", msgs)
		}
	})
}

func TestCachedContextValidation(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	cases := map[string]struct {
		field string
		cc    *kimi.CachedContext
		req   *kimi.ChatRequest
	}{
		"no client":  {"CachedContext.Client", &kimi.CachedContext{Tag: "a", Messages: docMessages()}, question("q")},
		"no tag":     {"CachedContext.Tag", &kimi.CachedContext{Client: c, Messages: docMessages()}, question("q")},
		"bad tag":    {"CachedContext.Tag", &kimi.CachedContext{Client: c, Tag: "-a", Messages: docMessages()}, question("q")},
		"no context": {"CachedContext.Messages", &kimi.CachedContext{Client: c, Tag: "a"}, question("q")},
		"ttl":        {"CachedContext.TTL", &kimi.CachedContext{Client: c, Tag: "a", Messages: docMessages(), TTL: 2 * time.Hour}, question("q")},
		"req tools": {"tools", handbook(c), &kimi.ChatRequest{Messages: []kimi.Message{kimi.UserMessage("q")},
			Tools: []kimi.Tool{weatherTool}}},
		"req cache": {"messages[0].role", handbook(c), &kimi.ChatRequest{Messages: []kimi.Message{kimi.CacheMessage(kimi.CacheRef{Tag: "x"})}}},
	}
	for name, tc := range cases {
		_, err := tc.cc.Ask(ctx, tc.req)
		wantInvalid(t, name, err, tc.field)
	}
	wantNoRequests(t, rec)
}

func TestCachedContextWaitsForPendingTaggedCache(t *testing.T) {
	// 60 emulated seconds of processing: 0.6 s real.
	c, _, rec := setup(t, fastTime, kimitest.WithCacheReadyDelay(time.Minute))
	ctx := testCtx(t)
	pending, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), Tags: []string{"handbook"}})
	if err != nil {
		t.Fatal(err)
	}
	cc := handbook(c)
	resp, err := cc.Ask(ctx, question("q"))
	if err != nil {
		t.Fatal(err)
	}
	if cc.CacheID() != pending.ID || resp.CacheInfo().ID != pending.ID {
		t.Errorf("helper uses %s, want the tagged %s", cc.CacheID(), pending.ID)
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want only the first", n)
	}
}

func TestCachedContextFallsBackWhenCreationFails(t *testing.T) {
	c, srv, rec := setup(t, fastTime, kimitest.WithCacheReadyDelay(time.Hour))
	ctx := testCtx(t)
	cc := handbook(c)
	type result struct {
		resp *kimi.ChatCompletion
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := cc.Ask(ctx, question("q"))
		done <- result{resp, err}
	}()
	// Fail the cache asynchronously once the helper has created it.
	for failed := false; !failed; {
		list, err := c.Caches.List(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Data) == 1 {
			failed = srv.Emulator.SetCacheError(srv.Key, list.Data[0].ID, "invalid_request_error", "too many tokens")
			continue
		}
		select {
		case r := <-done:
			t.Fatalf("Ask returned before the cache existed: %v", r.err)
		case <-time.After(5 * time.Millisecond):
		}
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	var ce *kimi.CacheError
	if cc.Cached() || !errors.As(cc.FallbackReason(), &ce) || ce.Message != "too many tokens" {
		t.Errorf("cached %t, reason %v", cc.Cached(), cc.FallbackReason())
	}
	if msgs := rec.lastChat(t).Messages; len(msgs) != 2 || msgs[0].Content != longDoc || r.resp.Text() == "" {
		t.Errorf("fallback sent %+v", msgs)
	}
	// Reset tries caching again.
	cc.Reset()
	if cc.FallbackReason() != nil || cc.CacheID() != "" {
		t.Error("Reset kept state")
	}
}

// versioned is a helper for one version of a document under tag "doc".
func versioned(c *kimi.Client, doc string) *kimi.CachedContext {
	return &kimi.CachedContext{Client: c, Tag: "doc", Model: "moonshot-v1-32k",
		Messages: []kimi.Message{kimi.SystemMessage(doc + "\n" + longDoc)}}
}

// cachedDoc returns the system message a cache holds.
func cachedDoc(t *testing.T, c *kimi.Cache) string {
	t.Helper()
	if len(c.Messages) == 0 {
		t.Fatalf("cache %s echoes no messages", c.ID)
	}
	return c.Messages[0].Content
}

// A helper never uses a tagged cache holding other content: a new version
// of the document under the same tag gets a new cache and the tag.
func TestCachedContextNewContentReplacesTaggedCache(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	ccA := versioned(c, "version ONE: the fruit is apple")
	if _, err := ccA.Ask(ctx, question("Which fruit?")); err != nil {
		t.Fatal(err)
	}
	idA := ccA.CacheID()
	a, err := c.Caches.Get(ctx, idA)
	if err != nil || len(a.Metadata[kimi.ContextHashMetadataKey]) != 64 {
		t.Fatalf("cache A: metadata %v, %v", a.Metadata, err)
	}

	ccB := versioned(c, "version TWO: the fruit is banana")
	resp, err := ccB.Ask(ctx, question("Which fruit?"))
	if err != nil {
		t.Fatal(err)
	}
	if ccB.CacheID() == idA || resp.CacheInfo().ID != ccB.CacheID() || resp.Usage.CachedTokens == 0 {
		t.Fatalf("ccB uses %s (A's is %s), info %+v", ccB.CacheID(), idA, resp.CacheInfo())
	}
	content, err := c.Tags.Content(ctx, "doc")
	if err != nil || content.ID != ccB.CacheID() || !strings.HasPrefix(cachedDoc(t, content), "version TWO") {
		t.Fatalf("tag content = %s, %v", content.ID, err)
	}
	// A's cache carried the hash key (the helper made it): deleted.
	_, err = c.Caches.Get(ctx, idA)
	mustStatus(t, err, 404)

	// ccA, still in use, keeps answering from version ONE: it references
	// its cache by id, so it notices the deletion and makes a new one.
	resp, err = ccA.Ask(ctx, question("Which fruit, again?"))
	if err != nil {
		t.Fatal(err)
	}
	mine, err := c.Caches.Get(ctx, ccA.CacheID())
	if err != nil || resp.CacheInfo().ID != mine.ID || !strings.HasPrefix(cachedDoc(t, mine), "version ONE") {
		t.Fatalf("ccA answered from %s (%v)", resp.CacheInfo().ID, err)
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 3 {
		t.Errorf("caches created = %d, want 3", n)
	}
}

// A cache without the hash key (made by hand, or when Metadata is full)
// is matched by its echoed messages and tools; another's cache with other
// content is replaced but not deleted.
func TestCachedContextMatchesUnhashedCacheByEcho(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	// Same content, tools spelt with another key order and spacing.
	tool := weatherTool
	tool.Function.Parameters = json.RawMessage(`{ "properties": {"city": {"type": "string"}}, "type": "object" }`)
	same, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), Tools: []kimi.Tool{tool}, Tags: []string{"handbook"}})
	if err != nil {
		t.Fatal(err)
	}
	cc := handbook(c)
	cc.Tools = []kimi.Tool{weatherTool}
	if _, err := cc.Ask(ctx, question("q")); err != nil {
		t.Fatal(err)
	}
	if cc.CacheID() != same.ID || rec.count(http.MethodPost, "/v1/caching") != 1 {
		t.Errorf("helper uses %s, want the hand-made %s", cc.CacheID(), same.ID)
	}

	// Other content, no key: replaced, left alone.
	other, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.SystemMessage("Another document.")}, Tags: []string{"manual"}})
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]string{}
	for i := range kimi.MaxCacheMetadataPairs {
		full[fmt.Sprint("k", i)] = "v"
	}
	cc = &kimi.CachedContext{Client: c, Tag: "manual", Model: "moonshot-v1-32k", Messages: docMessages(), Metadata: full}
	if _, err := cc.Ask(ctx, question("q")); err != nil {
		t.Fatal(err)
	}
	if cc.CacheID() == other.ID {
		t.Fatal("helper used a cache with other content")
	}
	if _, err := c.Caches.Get(ctx, other.ID); err != nil {
		t.Errorf("someone else's cache was deleted: %v", err)
	}
	// Metadata was full: no hash key, yet a second helper matches by echo.
	made, err := c.Caches.Get(ctx, cc.CacheID())
	if err != nil || len(made.Metadata) != kimi.MaxCacheMetadataPairs {
		t.Fatalf("metadata %v, %v", made.Metadata, err)
	}
	again := &kimi.CachedContext{Client: c, Tag: "manual", Model: "moonshot-v1-32k", Messages: docMessages(), Metadata: full}
	if _, err := again.Ask(ctx, question("q")); err != nil || again.CacheID() != made.ID {
		t.Errorf("second helper uses %s, want %s (%v)", again.CacheID(), made.ID, err)
	}
}

// The tags field of POST /caching is not in Kimi's parameter table: the
// helper tags its cache explicitly, so a server that ignores the field
// still lets a second helper find the cache.
func TestCachedContextTagsExplicitly(t *testing.T) {
	srv := kimitest.NewServer(t, fastTime)
	var stripped atomic.Int32
	front := inFront(t, srv, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/caching" {
			var body map[string]json.RawMessage
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &body); err == nil {
				if _, ok := body["tags"]; ok {
					delete(body, "tags")
					stripped.Add(1)
				}
				b, _ = json.Marshal(body)
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		return false
	})
	ctx := testCtx(t)

	c1, rec1 := newClient(srv, front)
	cc := handbook(c1)
	askFirst(t, cc)
	c2, rec2 := newClient(srv, front)
	second := handbook(c2)
	resp, err := second.Ask(ctx, question("q2"))
	if err != nil {
		t.Fatal(err)
	}
	if stripped.Load() != 1 {
		t.Fatalf("proxy stripped tags from %d creations", stripped.Load())
	}
	if n := rec1.count(http.MethodPost, "/v1/caching") + rec2.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want 1", n)
	}
	if second.CacheID() != cc.CacheID() || resp.Usage.CachedTokens == 0 {
		t.Errorf("second helper uses %s, first %s", second.CacheID(), cc.CacheID())
	}
}

// With strict revival a reset_ttl on an expired cache sends it
// back to pending and fails the call, as the real API does: the helper
// waits for the cache and retries.
func TestCachedContextRecoversFromStrictRevival(t *testing.T) {
	c, _, rec := setup(t, fastTime, kimitest.WithStrictCacheRevival())
	ctx := testCtx(t)
	cc := handbook(c)
	first := askFirst(t, cc)
	expireCache(t, c, first)
	before := rec.count(http.MethodPost, "/v1/chat/completions")
	resp, err := cc.Ask(ctx, question("q2"))
	if err != nil {
		t.Fatal(err)
	}
	if cc.CacheID() != first || resp.CacheInfo().ID != first || resp.Usage.CachedTokens == 0 || !cc.Cached() {
		t.Errorf("after revival: id %s (first %s), usage %+v", cc.CacheID(), first, resp.Usage)
	}
	// The revival call failed (pending), the retry succeeded.
	if n := rec.count(http.MethodPost, "/v1/chat/completions") - before; n != 2 {
		t.Errorf("chat calls = %d, want 2", n)
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("caches created = %d, want 1", n)
	}
}

// A cache over the 128k-token limit is accepted and fails asynchronously:
// WaitReady reports its *CacheError and CachedContext falls back to the
// full context.
func TestCachedContextOversizedCacheFallsBack(t *testing.T) {
	// A moonshot-v1 model whose window holds more than a cache may.
	models := kimitest.DefaultModels()
	for i := range models {
		if models[i].ID == "moonshot-v1-128k" {
			models[i].ContextLength = 262144
		}
	}
	c, _, rec := setup(t, fastTime, kimitest.WithModels(models...))
	ctx := testCtx(t)
	huge := []kimi.Message{kimi.SystemMessage(strings.Repeat("word ", 140000))}

	created, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: huge})
	if err != nil || created.Status != kimi.CacheStatusPending {
		t.Fatalf("create: %+v, %v", created, err)
	}
	_, err = c.Caches.WaitReady(ctx, created.ID)
	var ce *kimi.CacheError
	if !errors.As(err, &ce) || ce.Type != kimi.ErrTypeInvalidRequest || !strings.Contains(ce.Message, "exceeds the max cache size 131072 tokens") {
		t.Fatalf("WaitReady: %v", err)
	}

	cc := &kimi.CachedContext{Client: c, Tag: "huge", Model: "moonshot-v1-128k", Messages: huge}
	resp, err := cc.Ask(ctx, question("How many words?"))
	if err != nil {
		t.Fatal(err)
	}
	ce = nil
	if cc.Cached() || !errors.As(cc.FallbackReason(), &ce) || !strings.Contains(ce.Message, "exceeds the max cache size") {
		t.Errorf("cached %t, reason %v", cc.Cached(), cc.FallbackReason())
	}
	if msgs := rec.lastChat(t).Messages; len(msgs) != 2 || msgs[0].Content != huge[0].Content || resp.Text() == "" {
		t.Errorf("fallback sent %d messages", len(msgs))
	}
}
