package kimi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// Caching tests run against the emulator with emulated time sped up
// (fastTime), so that waits are short.

// longDoc is a context long enough to be worth caching.
var longDoc = "You answer questions about the following handbook.\n" +
	strings.Repeat("Section: the onboarding process has four steps, each documented with examples and caveats. ", 60)

func docMessages() []kimi.Message {
	return []kimi.Message{kimi.SystemMessage(longDoc)}
}

var weatherTool = kimi.Tool{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{
	Name: "get_weather", Description: "Weather for a city",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`),
}}

func TestCacheCRUD(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)

	created, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{
		Messages: docMessages(), Tools: []kimi.Tool{weatherTool},
		Name: "handbook", Description: "the onboarding handbook",
		Metadata: map[string]string{"biz_id": "110998541001"}, TTL: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.ID, "cache-") || created.Status != kimi.CacheStatusPending ||
		created.Model != "moonshot-v1" || created.Name != "handbook" || created.Description != "the onboarding handbook" ||
		created.Metadata["biz_id"] != "110998541001" || len(created.Messages) != 1 || created.Messages[0].Content != longDoc ||
		len(created.Tools) != 1 || created.Tools[0].Function.Name != "get_weather" || created.CreatedAt == 0 ||
		created.ExpiredAt != created.CreatedAt+600 {
		t.Errorf("created = %+v", created)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.last().Body, &body); err != nil {
		t.Fatal(err)
	}
	if string(body["model"]) != `"moonshot-v1"` || string(body["ttl"]) != "600" {
		t.Errorf("create body = %s", rec.last().Body)
	}
	if _, ok := body["expired_at"]; ok {
		t.Errorf("create body sends expired_at: %s", rec.last().Body)
	}

	ready, err := c.Caches.WaitReady(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ready.Status != kimi.CacheStatusReady || ready.Tokens <= 0 || ready.ID != created.ID {
		t.Errorf("ready = %+v", ready)
	}
	got, err := c.Caches.Get(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != created.ID || got.Tokens != ready.Tokens || got.Object == "" {
		t.Errorf("get = %+v", got)
	}

	upd, err := c.Caches.Update(ctx, created.ID, &kimi.CacheUpdateRequest{Metadata: map[string]string{"v": "2"}, TTL: 20 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rec.last().Method != http.MethodPut || upd.Status != kimi.CacheStatusPending || upd.Metadata["v"] != "2" || upd.Metadata["biz_id"] != "" {
		t.Errorf("update: %s %+v", rec.last().Method, upd)
	}
	if ready, err = c.Caches.WaitReady(ctx, created.ID); err != nil || ready.Status != kimi.CacheStatusReady {
		t.Fatalf("after update: %+v, %v", ready, err)
	}

	if err := c.Caches.Delete(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Caches.Get(ctx, created.ID)
	if e := mustStatus(t, err, 404); e.Type != kimi.ErrTypeResourceNotFound {
		t.Errorf("get after delete: %v", e)
	}
	mustStatus(t, c.Caches.Delete(ctx, created.ID), 404)
}

func TestCacheCreateLeavesUnsetFieldsOut(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	if _, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages()}); err != nil {
		t.Fatal(err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.last().Body, &body); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range body {
		keys = append(keys, k)
		if string(v) == "null" {
			t.Errorf("%s sent as null", k)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"messages", "model"}) {
		t.Errorf("body keys = %v", keys)
	}
	// An empty metadata map in an update is a deliberate "clear"; nil is
	// "keep".
	list, _ := c.Caches.List(ctx, nil)
	id := list.Data[0].ID
	if _, err := c.Caches.Update(ctx, id, &kimi.CacheUpdateRequest{Metadata: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if b := string(rec.last().Body); b != `{"metadata":{}}` {
		t.Errorf("update body = %s", b)
	}
	if _, err := c.Caches.Update(ctx, id, &kimi.CacheUpdateRequest{TTL: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if b := string(rec.last().Body); b != `{"ttl":60}` {
		t.Errorf("update body = %s", b)
	}
}

func TestCacheWaitReadyFailures(t *testing.T) {
	t.Run("error status", func(t *testing.T) {
		c, srv, _ := setup(t, fastTime, kimitest.WithCacheReadyDelay(time.Hour))
		ctx := testCtx(t)
		cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages()})
		if err != nil {
			t.Fatal(err)
		}
		if !srv.Emulator.SetCacheError(srv.Key, cache.ID, "invalid_request_error", "tool message without tool call") {
			t.Fatal("SetCacheError: no such cache")
		}
		got, err := c.Caches.WaitReady(ctx, cache.ID)
		var ce *kimi.CacheError
		if !errors.As(err, &ce) || ce.Type != "invalid_request_error" || ce.Message != "tool message without tool call" {
			t.Fatalf("err = %v, want a *CacheError", err)
		}
		if got == nil || got.Status != kimi.CacheStatusError || got.Error == nil {
			t.Errorf("cache = %+v", got)
		}
	})
	t.Run("inactive", func(t *testing.T) {
		c, _, _ := setup(t, fastTime, kimitest.WithCacheReadyDelay(0))
		ctx := testCtx(t)
		cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// Poll until the 1 emulated second has passed (10 ms real).
		for got, err := c.Caches.Get(ctx, cache.ID); got.Status != kimi.CacheStatusInactive; got, err = c.Caches.Get(ctx, cache.ID) {
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := c.Caches.WaitReady(ctx, cache.ID); !errors.Is(err, kimi.ErrCacheInactive) {
			t.Fatalf("err = %v, want ErrCacheInactive", err)
		}
	})
	t.Run("context bounds the wait", func(t *testing.T) {
		c, _, _ := setup(t, fastTime, kimitest.WithCacheReadyDelay(24*time.Hour))
		cache, err := c.Caches.Create(testCtx(t), &kimi.CacheCreateRequest{Messages: docMessages()})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := c.Caches.WaitReady(ctx, cache.ID); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		c, _, _ := setup(t, fastTime)
		ctx := testCtx(t)
		cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Caches.Delete(ctx, cache.ID); err != nil {
			t.Fatal(err)
		}
		_, err = c.Caches.WaitReady(ctx, cache.ID)
		mustStatus(t, err, 404)
	})
}

// createCaches makes n caches named c0..c(n-1), with metadata group=a on
// the even ones, and returns their ids in creation order.
func createCaches(t *testing.T, c *kimi.Client, n int) []string {
	t.Helper()
	ctx := testCtx(t)
	var ids []string
	for i := range n {
		md := map[string]string{"group": "b"}
		if i%2 == 0 {
			md["group"] = "a"
		}
		cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{
			Messages: []kimi.Message{kimi.SystemMessage("document number " + string(rune('A'+i)))},
			Name:     "c" + string(rune('0'+i)), Metadata: md,
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cache.ID)
	}
	return ids
}

// collect reads seq to its end, stopping the test at an error, and returns
// the key of each item.
func collect[T any](t *testing.T, seq iter.Seq2[T, error], key func(T) string) []string {
	t.Helper()
	var keys []string
	for item, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key(item))
	}
	return keys
}

func cacheID(c *kimi.Cache) string { return c.ID }

func TestCacheListAndAll(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	ids := createCaches(t, c, 5)

	page, err := c.Caches.List(ctx, &kimi.CacheListOptions{Limit: 2, Order: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Object != "list" || len(page.Data) != 2 || page.Data[0].ID != ids[0] || page.Data[1].ID != ids[1] {
		t.Errorf("page = %+v", page)
	}
	if q := rec.last().Query; q != "limit=2&order=asc" {
		t.Errorf("query = %q", q)
	}

	before := rec.n()
	got := collect(t, c.Caches.All(ctx, &kimi.CacheListOptions{Limit: 2, Order: "asc"}), cacheID)
	if !slices.Equal(got, ids) {
		t.Errorf("All asc = %v, want %v", got, ids)
	}
	if pages := rec.n() - before; pages != 3 {
		t.Errorf("All made %d requests, want 3 (2+2+1)", pages)
	}
	if q := rec.last().Query; q != "after="+ids[3]+"&limit=2&order=asc" {
		t.Errorf("last page query = %q", q)
	}

	// Default order is newest first, default page 20.
	got = collect(t, c.Caches.All(ctx, nil), cacheID)
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("All default = %v, want %v", got, want)
	}

	// Stopping early sends no further page.
	before = rec.n()
	for range c.Caches.All(ctx, &kimi.CacheListOptions{Limit: 2}) {
		break
	}
	if n := rec.n() - before; n != 1 {
		t.Errorf("early break made %d requests", n)
	}

	// Metadata filter.
	filtered, err := c.Caches.List(ctx, &kimi.CacheListOptions{Order: "asc", Metadata: map[string]string{"group": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cache := range filtered.Data {
		names = append(names, cache.Name)
	}
	if !slices.Equal(names, []string{"c0", "c2", "c4"}) {
		t.Errorf("filtered = %v", names)
	}
	if q := rec.last().Query; q != "metadata%5Bgroup%5D=a&order=asc" {
		t.Errorf("query = %q", q)
	}
}

func TestCacheValidation(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	msgs := docMessages()
	long := func(n int) string { return strings.Repeat("é", n) }
	manyMD := map[string]string{}
	for i := range 17 {
		manyMD["k"+string(rune('a'+i))] = "v"
	}
	cases := []struct {
		name, field string
		r           *kimi.CacheCreateRequest
	}{
		{"nil", "request", nil},
		{"vision model", "model", &kimi.CacheCreateRequest{Model: "moonshot-v1-8k-vision-preview", Messages: msgs}},
		{"k2.6 model", "model", &kimi.CacheCreateRequest{Model: "kimi-k2.6", Messages: msgs}},
		{"no messages", "messages", &kimi.CacheCreateRequest{}},
		{"empty content", "messages[0].content", &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.UserMessage("")}}},
		{"partial", "messages[1].partial", &kimi.CacheCreateRequest{Messages: append(docMessages(), kimi.PartialMessage("x"))}},
		{"cache in cache", "messages[0].role", &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.CacheMessage(kimi.CacheRef{Tag: "a"})}}},
		{"orphan tool message", "messages[1].tool_call_id", &kimi.CacheCreateRequest{Messages: append(docMessages(), kimi.ToolMessage("x:0", "x", "r"))}},
		{"bad tool", "tools[0].function.name", &kimi.CacheCreateRequest{Messages: msgs, Tools: []kimi.Tool{{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{Name: "a"}}}}},
		{"name", "name", &kimi.CacheCreateRequest{Messages: msgs, Name: long(257)}},
		{"description", "description", &kimi.CacheCreateRequest{Messages: msgs, Description: long(513)}},
		{"17 pairs", "metadata", &kimi.CacheCreateRequest{Messages: msgs, Metadata: manyMD}},
		{"long key", "metadata key", &kimi.CacheCreateRequest{Messages: msgs, Metadata: map[string]string{long(65): "v"}}},
		{"empty key", "metadata key", &kimi.CacheCreateRequest{Messages: msgs, Metadata: map[string]string{"": "v"}}},
		{"long value", "metadata[k]", &kimi.CacheCreateRequest{Messages: msgs, Metadata: map[string]string{"k": long(513)}}},
		{"ttl and expired_at", "ttl", &kimi.CacheCreateRequest{Messages: msgs, TTL: time.Minute, ExpiresAt: time.Now().Add(time.Minute)}},
		{"ttl too long", "ttl", &kimi.CacheCreateRequest{Messages: msgs, TTL: time.Hour + time.Second}},
		{"negative ttl", "ttl", &kimi.CacheCreateRequest{Messages: msgs, TTL: -time.Second}},
		{"fractional ttl", "ttl", &kimi.CacheCreateRequest{Messages: msgs, TTL: 1500 * time.Millisecond}},
		{"expired_at past", "expired_at", &kimi.CacheCreateRequest{Messages: msgs, ExpiresAt: time.Now().Add(-time.Hour)}},
		{"expired_at too far", "expired_at", &kimi.CacheCreateRequest{Messages: msgs, ExpiresAt: time.Now().Add(2 * time.Hour)}},
		{"bad tag", "tags[0]", &kimi.CacheCreateRequest{Messages: msgs, Tags: []string{"1abc"}}},
		{"duplicate tag", "tags[1]", &kimi.CacheCreateRequest{Messages: msgs, Tags: []string{"abc", "abc"}}},
	}
	for _, tc := range cases {
		_, err := c.Caches.Create(ctx, tc.r)
		if ve := wantInvalid(t, tc.name, err, tc.field); ve != nil && ve.Limit == "" {
			t.Errorf("%s: %v names no limit", tc.name, err)
		}
	}
	// A TTL is reported as a duration, with the limit.
	tooLong := &kimi.CacheCreateRequest{Messages: msgs, TTL: 150 * time.Minute}
	if err := tooLong.Validate(); err == nil || !strings.HasSuffix(err.Error(), "ttl 2h30m0s: must be at most 1h0m0s") {
		t.Errorf("long ttl: %v", err)
	}
	// The limits themselves are accepted.
	edge := map[string]string{}
	for i := range 16 {
		edge[long(63)+string(rune('a'+i))] = long(512)
	}
	ok := &kimi.CacheCreateRequest{Model: "moonshot-v1", Messages: msgs, Name: long(256), Description: long(512),
		Metadata: edge, Tags: []string{"moonshot_knowledge_0002", "a.b-c"}, ExpiresAt: time.Now().Add(30 * time.Minute)}
	if err := ok.Validate(); err != nil {
		t.Errorf("limits: %v", err)
	}
	if !strings.Contains(func() string {
		_, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Model: "moonshot-v1-32k-vision-preview", Messages: msgs})
		return err.Error()
	}(), `create the cache for the family "moonshot-v1"`) {
		t.Error("the vision-model error does not say what to do")
	}

	updates := []struct {
		field string
		r     *kimi.CacheUpdateRequest
	}{
		{"ttl", &kimi.CacheUpdateRequest{TTL: 4000 * time.Second}},
		{"ttl", &kimi.CacheUpdateRequest{TTL: 10 * time.Second, ExpiresAt: time.Now().Add(10 * time.Second)}},
		{"metadata", &kimi.CacheUpdateRequest{Metadata: manyMD}},
	}
	for _, tc := range updates {
		_, err := c.Caches.Update(ctx, "cache-x", tc.r)
		wantInvalid(t, fmt.Sprintf("update %+v", tc.r), err, tc.field)
	}
	for name, err := range map[string]error{
		"get":    func() error { _, err := c.Caches.Get(ctx, ""); return err }(),
		"delete": c.Caches.Delete(ctx, ""),
		"update": func() error { _, err := c.Caches.Update(ctx, "", nil); return err }(),
		"wait":   func() error { _, err := c.Caches.WaitReady(ctx, ""); return err }(),
		"limit":  func() error { _, err := c.Caches.List(ctx, &kimi.CacheListOptions{Limit: -1}); return err }(),
		"order":  func() error { _, err := c.Caches.List(ctx, &kimi.CacheListOptions{Order: "newest"}); return err }(),
	} {
		wantInvalid(t, name, err, "")
	}
	wantNoRequests(t, rec)
}

// TestCacheCreateChatModel checks that a moonshot-v1 text chat model
// stands for its family, as it does in the facade: it is sent as
// "moonshot-v1", which Kimi accepts.
func TestCacheCreateChatModel(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	for _, model := range []string{"moonshot-v1-128k", "Moonshot-V1-8k", "moonshot-v1-auto", "moonshot-v1", ""} {
		created, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Model: model, Messages: docMessages()})
		if err != nil || created.ID == "" {
			t.Fatalf("create for %q: %v", model, err)
		}
		var body struct{ Model string }
		if err := json.Unmarshal(rec.last().Body, &body); err != nil || body.Model != "moonshot-v1" {
			t.Errorf("create for %q sent model %q (%v), want moonshot-v1", model, body.Model, err)
		}
	}
}

func TestCachePathEscaping(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	_, err := c.Caches.Get(ctx, "../models/x?y")
	mustStatus(t, err, 404)
	if r := rec.last(); r.Path != "/v1/caching/..%2Fmodels%2Fx%3Fy" || r.Query != "" {
		t.Errorf("request = %s %q ? %q", r.Method, r.Path, r.Query)
	}
}

func TestCachesAreScopedToTheAccount(t *testing.T) {
	a, srv, _ := setup(t, fastTime, kimitest.WithKey("sk-a"), kimitest.WithKey("sk-b"))
	b, _ := newClient(srv, func(c *kimi.Config) { c.APIKey = "sk-b" })
	ctx := testCtx(t)
	cache, err := a.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), Tags: []string{"shared-name"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Caches.WaitReady(ctx, cache.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.Caches.Get(ctx, cache.ID)
	mustStatus(t, err, 404)
	_, err = b.Tags.Content(ctx, "shared-name")
	mustStatus(t, err, 404)
	list, err := b.Caches.List(ctx, nil)
	if err != nil || len(list.Data) != 0 {
		t.Errorf("b's list = %+v, %v", list, err)
	}
	_, err = b.Chat.Create(ctx, &kimi.ChatRequest{Model: "moonshot-v1-8k",
		Messages: []kimi.Message{kimi.CacheMessage(kimi.CacheRef{CacheID: cache.ID}), kimi.UserMessage("hi")}})
	mustStatus(t, err, 404)
	mustStatus(t, b.Caches.Delete(ctx, cache.ID), 404)
	// a still sees its own.
	if _, err := a.Caches.Get(ctx, cache.ID); err != nil {
		t.Errorf("a lost its cache: %v", err)
	}
}

// An odd metadata shape does not fail a Get or a List: an object is read
// as is, null as nil, an array of objects (the doc table's List[Dict]) is
// merged, anything else is kept in Extra.
func TestCacheMetadataShapes(t *testing.T) {
	shapes := map[string]string{
		"cache-object": `{"biz_id":"110998541001","n":7}`,
		"cache-null":   `null`,
		"cache-list":   `[{"a":"1"},{"b":"2","a":"3"}]`,
		"cache-string": `"biz=1"`,
		"cache-mixed":  `[{"a":"1"},"b"]`,
	}
	obj := func(id string) string {
		return `{"id":"` + id + `","object":"context_cache_object","status":"ready","model":"moonshot-v1","metadata":` + shapes[id] + `}`
	}
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/caching" {
			var data []string
			for _, id := range []string{"cache-object", "cache-null", "cache-list", "cache-string", "cache-mixed"} {
				data = append(data, obj(id))
			}
			io.WriteString(w, `{"object":"list","data":[`+strings.Join(data, ",")+`]}`)
			return
		}
		io.WriteString(w, obj(strings.TrimPrefix(r.URL.Path, "/v1/caching/")))
	})
	ctx := testCtx(t)
	want := map[string]map[string]string{
		"cache-object": {"biz_id": "110998541001", "n": "7"},
		"cache-null":   nil,
		"cache-list":   {"a": "3", "b": "2"},
		"cache-string": nil,
		"cache-mixed":  nil,
	}
	check := func(what string, got *kimi.Cache) {
		t.Helper()
		id := got.ID
		if !maps.Equal(got.Metadata, want[id]) || (want[id] == nil) != (got.Metadata == nil) {
			t.Errorf("%s %s: metadata %#v, want %#v", what, id, got.Metadata, want[id])
		}
		odd := id == "cache-string" || id == "cache-mixed"
		if raw, ok := got.Extra["metadata"]; ok != odd || odd && string(raw) != shapes[id] {
			t.Errorf("%s %s: Extra %v", what, id, got.Extra)
		}
	}
	for id := range shapes {
		got, err := c.Caches.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		check("Get", got)
	}
	list, err := c.Caches.List(ctx, nil)
	if err != nil || len(list.Data) != len(shapes) {
		t.Fatalf("List: %+v, %v", list, err)
	}
	for i := range list.Data {
		check("List", &list.Data[i])
	}
}

// When the deadline fires during a status read, WaitReady returns the
// cache as last seen along with the timeout, not nil.
func TestWaitReadyDeadlineDuringRead(t *testing.T) {
	// The cache stays pending for a long (emulated) while, so WaitReady
	// polls until the deadline.
	c, _, rec := setup(t, kimitest.WithCacheReadyDelay(time.Hour))
	ctx := context.Background()
	cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.SystemMessage("a manual")}})
	if err != nil {
		t.Fatal(err)
	}
	// The second and later status reads hang until their request ends, so
	// that the deadline fires during one.
	path := "/v1/caching/" + cache.ID
	rec.through(func(next http.RoundTripper) http.RoundTripper {
		return kimi.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && rec.count(http.MethodGet, path) > 1 {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return next.RoundTrip(r)
		})
	})
	// The first poll waits at most 200 ms before the second read; the
	// deadline falls inside that read.
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	got, err := c.Caches.WaitReady(wctx, cache.ID)
	if !errors.Is(err, kimi.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if got == nil || got.ID != cache.ID || got.Status != kimi.CacheStatusPending {
		t.Fatalf("cache = %+v, want the pending cache as last seen", got)
	}
	if n := rec.count(http.MethodGet, path); n < 2 {
		t.Fatalf("%d status reads, want the deadline to fire during the second", n)
	}
}

// An unknown cache is not found; it does not make caching unsupported.
func TestCacheNotFoundIsNotUnsupported(t *testing.T) {
	c, _, _ := setup(t)
	_, err := c.Caches.Get(context.Background(), "cache-nope")
	var e *kimi.Error
	if !errors.Is(err, kimi.ErrNotFound) || errors.Is(err, kimi.ErrUnsupported) || !errors.As(err, &e) || e.Unsupported != "" {
		t.Errorf("err = %v", err)
	}
}

// An absolute expiry is a time.Time, sent as whole unix seconds.
func TestCacheExpiresAtIsSentAsUnixSeconds(t *testing.T) {
	c, srv := loopback(t, kimi.Reply(200, `{"id":"cache-1","status":"pending"}`), kimi.Reply(200, `{"id":"cache-1","status":"pending"}`))
	at := time.Now().Add(30*time.Minute + 500*time.Millisecond)
	if _, err := c.Caches.Create(testCtx(t), &kimi.CacheCreateRequest{Messages: docMessages(), ExpiresAt: at}); err != nil {
		t.Fatal(err)
	}
	_, body := srv.Last()
	var sent struct {
		ExpiredAt json.RawMessage `json:"expired_at"`
		TTL       json.RawMessage `json:"ttl"`
	}
	if err := json.Unmarshal(body, &sent); err != nil || string(sent.ExpiredAt) != fmt.Sprint(at.Unix()) || sent.TTL != nil {
		t.Errorf("create body %s, want expired_at %d and no ttl", body, at.Unix())
	}
	if _, err := c.Caches.Update(testCtx(t), "cache-1", &kimi.CacheUpdateRequest{ExpiresAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, body = srv.Last(); !strings.Contains(string(body), fmt.Sprintf(`"expired_at":%d`, at.Unix())) {
		t.Errorf("update body %s", body)
	}
	// Out of range, the message names the times, not unix numbers.
	err := (&kimi.CacheUpdateRequest{ExpiresAt: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}).Validate()
	if err == nil || !strings.Contains(err.Error(), `"2020-01-02T03:04:05Z"`) {
		t.Errorf("past expiry: %v", err)
	}
	err = (&kimi.CacheUpdateRequest{TTL: time.Hour, ExpiresAt: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}).Validate()
	if err == nil || !strings.Contains(err.Error(), "set either ttl or expired_at (2020-01-02T03:04:05Z), not both") {
		t.Errorf("ttl and expiry: %v", err)
	}
}
