package onesdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// cacheSetup is setup with caches that are ready after a short real wait,
// so that WaitCacheReady has to poll at least once.
func cacheSetup(t *testing.T) *onesdk.SDK {
	t.Helper()
	sdk, _ := setup(t, kimitest.WithCacheReadyDelay(300*time.Millisecond))
	return sdk
}

// weatherTools is a tools argument for a cache (with the parameters schema
// Kimi's tool validation asks for).
var weatherTools = []onesdk.Tool{{Type: "function", Function: onesdk.ToolFunction{
	Name: "get_weather", Description: "Get the weather for a location",
	Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`),
}}}

// document is a long system prompt, worth caching.
func document() []onesdk.Message {
	doc := strings.Repeat("Goroutines are functions that run concurrently with other functions. Channels connect them. ", 60)
	return []onesdk.Message{onesdk.SystemMessage("You answer questions about this text:\n" + doc)}
}

// createCache creates a cache of document() with the fields of req (nil:
// none) and fails the test on an error.
func createCache(t *testing.T, sdk *onesdk.SDK, req *onesdk.CacheCreateRequest) *onesdk.Cache {
	t.Helper()
	r := onesdk.CacheCreateRequest{}
	if req != nil {
		r = *req
	}
	if r.Messages == nil {
		r.Messages = document()
	}
	c, err := sdk.CreateCache(t.Context(), &r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func cacheIDs(cs []onesdk.Cache) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// create_cache, get_cache, update_cache and delete_cache, in that order.
func TestCacheRoundTrip(t *testing.T) {
	sdk := cacheSetup(t)
	ctx := t.Context()
	msgs := document()

	c := createCache(t, sdk, &onesdk.CacheCreateRequest{
		Model: "moonshot-v1", Messages: msgs, Tools: weatherTools, Name: "My Context", Description: "A sample context",
		Metadata: map[string]string{"key": "value"}, TTL: time.Hour,
	})
	if !strings.HasPrefix(c.ID, "cache-") || c.Model != "moonshot-v1" || c.Status != kimi.CacheStatusPending {
		t.Errorf("created cache: id %q model %q status %q, want cache-…, moonshot-v1, pending", c.ID, c.Model, c.Status)
	}
	if c.Name != "My Context" || c.Description != "A sample context" || !maps.Equal(c.Metadata, map[string]string{"key": "value"}) {
		t.Errorf("echo: name %q description %q metadata %v", c.Name, c.Description, c.Metadata)
	}
	if len(c.Tools) != 1 || c.Tools[0].Function.Name != "get_weather" || len(c.Messages) != 1 || c.Messages[0].Content != msgs[0].Content {
		t.Errorf("echo: %d tools, %d messages", len(c.Tools), len(c.Messages))
	}
	if got := c.ExpiredAt - c.CreatedAt; got != 3600 {
		t.Errorf("expired_at - created_at = %d, want the ttl 3600", got)
	}

	ready := waitReady(t, sdk, c.ID)
	if ready.Status != kimi.CacheStatusReady || ready.Tokens <= 0 {
		t.Errorf("after WaitCacheReady: status %q tokens %d", ready.Status, ready.Tokens)
	}

	got, err := sdk.GetCache(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != c.ID || got.Status != kimi.CacheStatusReady || got.Tokens != ready.Tokens || got.Name != "My Context" {
		t.Errorf("GetCache = %+v", got)
	}

	// Kimi caps the lifetime at an hour, so a ttl of 7200 is refused
	// before sending; 1800 is accepted.
	newMD := map[string]string{"new_key": "new_value"}
	_, err = sdk.UpdateCache(ctx, c.ID, &onesdk.CacheUpdateRequest{Metadata: newMD, TTL: 2 * time.Hour})
	var ve *onesdk.ValidationError
	if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &ve) || ve.Field != "ttl" {
		t.Errorf("UpdateCache ttl 7200: want ErrBadRequest on field ttl, got %v", err)
	}
	up, err := sdk.UpdateCache(ctx, c.ID, &onesdk.CacheUpdateRequest{Metadata: newMD, TTL: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(up.Metadata, newMD) || up.Status != kimi.CacheStatusPending {
		t.Errorf("UpdateCache: metadata %v (want replaced) status %q (want pending)", up.Metadata, up.Status)
	}
	if up.ExpiredAt >= ready.ExpiredAt {
		t.Errorf("UpdateCache ttl 1800: expired_at %d not before the old %d", up.ExpiredAt, ready.ExpiredAt)
	}

	if err := sdk.DeleteCache(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.GetCache(ctx, c.ID); !errors.Is(err, onesdk.ErrNotFound) {
		t.Errorf("GetCache after delete: want ErrNotFound, got %v", err)
	}
	if err := sdk.DeleteCache(ctx, c.ID); !errors.Is(err, onesdk.ErrNotFound) {
		t.Errorf("second DeleteCache: want ErrNotFound, got %v", err)
	}
}

// list_caches with limit, order and metadata filters, and paging through
// everything with AllCaches.
func TestListCaches(t *testing.T) {
	sdk := cacheSetup(t)
	ctx := t.Context()
	var ids []string // in creation order
	for i, md := range []map[string]string{{"key": "value"}, {"key": "other"}, {"key": "value", "team": "a"}, nil, {"key": "value"}} {
		// created_at has a one-second resolution; the order must still be
		// the creation order.
		c := createCache(t, sdk, &onesdk.CacheCreateRequest{Name: "c" + string(rune('0'+i)), Metadata: md})
		ids = append(ids, c.ID)
	}
	desc := slices.Clone(ids)
	slices.Reverse(desc)

	for _, tc := range []struct {
		name string
		opts *onesdk.CacheListOptions
		want []string
	}{
		{"nil options (newest first)", nil, desc},
		{"limit 10 desc", &onesdk.CacheListOptions{Limit: 10, Order: "desc"}, desc},
		{"asc", &onesdk.CacheListOptions{Order: "asc"}, ids},
		{"limit 2 desc", &onesdk.CacheListOptions{Limit: 2, Order: "desc"}, desc[:2]},
		{"after", &onesdk.CacheListOptions{Order: "asc", After: ids[2]}, ids[3:]},
		{"metadata key=value", &onesdk.CacheListOptions{Limit: 10, Order: "desc", Metadata: map[string]string{"key": "value"}},
			[]string{ids[4], ids[2], ids[0]}},
		{"metadata key=value,team=a", &onesdk.CacheListOptions{Metadata: map[string]string{"key": "value", "team": "a"}},
			[]string{ids[2]}},
	} {
		list, err := sdk.ListCaches(ctx, tc.opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := cacheIDs(list); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}

	var all []string
	for c, err := range sdk.AllCaches(ctx, &onesdk.CacheListOptions{Limit: 2, Order: "asc"}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, c.ID)
	}
	if !slices.Equal(all, ids) {
		t.Errorf("AllCaches in pages of 2 = %v, want %v", all, ids)
	}
	_, err := sdk.ListCaches(ctx, &onesdk.CacheListOptions{Order: "newest"})
	var ve *onesdk.ValidationError
	if !errors.As(err, &ve) || ve.Field != "order" {
		t.Errorf("order newest: want a ValidationError on order, got %v", err)
	}
}

// create_tag, list_tags, get_tag, get_tag_content and delete_tag.
func TestTagsRoundTrip(t *testing.T) {
	sdk := cacheSetup(t)
	ctx := t.Context()
	c1 := createCache(t, sdk, &onesdk.CacheCreateRequest{Name: "first"})
	c2 := createCache(t, sdk, &onesdk.CacheCreateRequest{Name: "second"})

	tag, err := sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: "my_tag", CacheID: c1.ID})
	if err != nil {
		t.Fatal(err)
	}
	if tag.Tag != "my_tag" || tag.CacheID != c1.ID || tag.CreatedAt == 0 {
		t.Errorf("CreateTag = %+v", tag)
	}
	if _, err := sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: "other.tag-2", CacheID: c2.ID}); err != nil {
		t.Fatal(err)
	}

	tags, err := sdk.ListTags(ctx, &onesdk.TagListOptions{Limit: 10, Order: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 2 || tags[0].Tag != "my_tag" || tags[1].Tag != "other.tag-2" {
		t.Errorf("ListTags asc = %+v", tags)
	}
	one, err := sdk.ListTags(ctx, &onesdk.TagListOptions{Limit: 1, Order: "desc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].Tag != "other.tag-2" {
		t.Errorf("ListTags limit 1 desc = %+v", one)
	}
	if dflt, err := sdk.ListTags(ctx, nil); err != nil || len(dflt) != 2 {
		t.Errorf("ListTags(nil) = %+v, %v", dflt, err)
	}
	var all []string
	for tg, err := range sdk.AllTags(ctx, &onesdk.TagListOptions{Limit: 1, Order: "asc"}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, tg.Tag)
	}
	if !slices.Equal(all, []string{"my_tag", "other.tag-2"}) {
		t.Errorf("AllTags = %v", all)
	}

	info, err := sdk.GetTag(ctx, "my_tag")
	if err != nil {
		t.Fatal(err)
	}
	if info.CacheID != c1.ID {
		t.Errorf("GetTag = %+v, want cache %s", info, c1.ID)
	}
	content, err := sdk.GetTagContent(ctx, "my_tag")
	if err != nil {
		t.Fatal(err)
	}
	if content.ID != c1.ID || content.Name != "first" || len(content.Messages) != 1 {
		t.Errorf("GetTagContent = %+v, want cache %s", content, c1.ID)
	}

	if err := sdk.DeleteTag(ctx, "my_tag"); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.GetTag(ctx, "my_tag"); !errors.Is(err, onesdk.ErrNotFound) {
		t.Errorf("GetTag after delete: want ErrNotFound, got %v", err)
	}
	if _, err := sdk.GetTagContent(ctx, "my_tag"); !errors.Is(err, onesdk.ErrNotFound) {
		t.Errorf("GetTagContent after delete: want ErrNotFound, got %v", err)
	}
	// Kimi answers success for a tag that does not exist.
	if err := sdk.DeleteTag(ctx, "my_tag"); err != nil {
		t.Errorf("deleting a missing tag: %v", err)
	}
	// The cache outlives its tag.
	if _, err := sdk.GetCache(ctx, c1.ID); err != nil {
		t.Errorf("cache gone with its tag: %v", err)
	}
	if _, err := sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: "9starts-with-digit", CacheID: c1.ID}); !errors.Is(err, onesdk.ErrBadRequest) {
		t.Errorf("bad tag name: want ErrBadRequest, got %v", err)
	}
}

// A chat request through a tag: the cached prompt shows as cached tokens,
// with and without streaming.
func TestGenerateWithCache(t *testing.T) {
	sdk := cacheSetup(t)
	ctx := t.Context()
	c := createCache(t, sdk, &onesdk.CacheCreateRequest{Tags: []string{"docs"}, TTL: 10 * time.Minute})
	c = waitReady(t, sdk, c.ID)

	const question = "What connects goroutines?"
	req := &onesdk.Request{Model: "moonshot-v1-32k", Messages: []onesdk.Message{
		onesdk.CacheMessage(onesdk.CacheRef{Tag: "docs", ResetTTL: time.Hour}),
		onesdk.UserMessage(question),
	}}
	resp, st := generateAndStream(t, sdk, req)
	if resp.Text() == "" || resp.Usage == nil || resp.Usage.CachedTokens <= 0 {
		t.Fatalf("Generate with a cache: text %q usage %+v, want cached tokens", resp.Text(), resp.Usage)
	}
	if resp.Usage.PromptTokens < resp.Usage.CachedTokens {
		t.Errorf("prompt tokens %d < cached tokens %d", resp.Usage.PromptTokens, resp.Usage.CachedTokens)
	}
	if ci := resp.CacheInfo(); !ci.Hit || ci.ID != c.ID || ci.TokensSaved <= 0 {
		t.Errorf("CacheInfo = %+v, want a hit on %s", ci, c.ID)
	}

	if u := st.Completion().Usage; u == nil || u.CachedTokens != resp.Usage.CachedTokens {
		t.Errorf("stream usage %+v, want the %d cached tokens of Generate", u, resp.Usage.CachedTokens)
	}
	if ci := st.CacheInfo(); !ci.Hit || ci.ID != c.ID {
		t.Errorf("Stream.CacheInfo = %+v", ci)
	}

	// The same question without the cache pays for the whole prompt.
	plain, err := sdk.Generate(ctx, &onesdk.Request{Model: "moonshot-v1-32k", Messages: append(document(), onesdk.UserMessage(question))})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Usage.CachedTokens != 0 {
		t.Errorf("no cache message, yet %d cached tokens", plain.Usage.CachedTokens)
	}

	// An unknown tag is an error the server gives, classified.
	req.Messages[0] = onesdk.CacheMessage(onesdk.CacheRef{Tag: "no_such_tag"})
	_, err = sdk.Generate(ctx, req)
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &apiErr) || apiErr.StatusCode == 0 {
		t.Errorf("unknown tag: want a server ErrBadRequest, got %v", err)
	}
}

// CreateCache takes the family or one of its text chat models, which
// stand for it; anything else is refused before sending, with an error
// naming the model and the family.
func TestCreateCacheModelArgument(t *testing.T) {
	sdk := cacheSetup(t)
	ctx := t.Context()
	accepted := []string{"moonshot-v1", "moonshot-v1-8k", "moonshot-v1-32k", "Moonshot-V1-128K", "moonshot-v1-auto", ""}
	for _, m := range accepted {
		if c := createCache(t, sdk, &onesdk.CacheCreateRequest{Model: m}); c.Model != "moonshot-v1" {
			t.Errorf("model %q: cache model %q, want the family", m, c.Model)
		}
	}
	for _, m := range []string{"kimi-k2.6", "moonshot-v1-8k-vision-preview", "gpt-4o", "moonshot-v2"} {
		_, err := sdk.CreateCache(ctx, &onesdk.CacheCreateRequest{Model: m, Messages: document()})
		var ve *onesdk.ValidationError
		if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &ve) || ve.Field != "model" ||
			!strings.Contains(err.Error(), m) || !strings.Contains(err.Error(), `"moonshot-v1"`) {
			t.Errorf("model %q: want a client-side ErrBadRequest naming it and the family, got %v", m, err)
		}
	}
	if _, err := sdk.CreateCache(ctx, nil); !errors.Is(err, onesdk.ErrBadRequest) {
		t.Errorf("CreateCache(nil): want ErrBadRequest, got %v", err)
	}
	list, err := sdk.ListCaches(ctx, &onesdk.CacheListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(accepted) {
		t.Errorf("%d caches on the server, want the %d accepted ones", len(list), len(accepted))
	}
}

func TestCacheErrorsAreClassified(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithCacheReadyDelay(time.Hour))
	ctx := t.Context()
	_, err := sdk.GetCache(ctx, "cache-does-not-exist")
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Errorf("GetCache of an unknown id: want a 404 ErrNotFound, got %v", err)
	}
	_, err = sdk.UpdateCache(ctx, "cache-does-not-exist", &onesdk.CacheUpdateRequest{TTL: time.Minute})
	wantKinds(t, "UpdateCache of an unknown id", err, []error{onesdk.ErrNotFound})
	wantKinds(t, "DeleteCache of an unknown id", sdk.DeleteCache(ctx, "cache-does-not-exist"), []error{onesdk.ErrNotFound})
	_, err = sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: "t", CacheID: "cache-does-not-exist"})
	wantKinds(t, "CreateTag on an unknown cache", err, []error{onesdk.ErrBadRequest})
	_, err = sdk.GetCache(ctx, "")
	wantKinds(t, `GetCache("")`, err, []error{onesdk.ErrBadRequest})

	// A cache that takes an hour to build: the wait ends with the
	// deadline, as a timeout, and the pending cache is returned.
	c := createCache(t, sdk, nil)
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	seen, err := sdk.WaitCacheReady(wctx, c.ID)
	wantKinds(t, "WaitCacheReady past the deadline", err, []error{onesdk.ErrTimeout, context.DeadlineExceeded})
	if seen == nil || seen.Status != kimi.CacheStatusPending {
		t.Errorf("WaitCacheReady past the deadline returned %+v, want the pending cache", seen)
	}
}

// Ace Data Cloud has no /v1/caching: every cache and tag method says so,
// naming the provider, without a request.
func TestCachingUnsupportedOnAceData(t *testing.T) {
	_, srv := setup(t, unreachable)
	sdk := aceData(t, srv)
	ctx := t.Context()
	errs := map[string]error{}
	_, errs["CreateCache"] = sdk.CreateCache(ctx, &onesdk.CacheCreateRequest{Messages: document()})
	_, errs["WaitCacheReady"] = sdk.WaitCacheReady(ctx, "cache-x")
	_, errs["ListCaches"] = sdk.ListCaches(ctx, nil)
	for _, err := range sdk.AllCaches(ctx, nil) {
		errs["AllCaches"] = err
	}
	_, errs["GetCache"] = sdk.GetCache(ctx, "cache-x")
	_, errs["UpdateCache"] = sdk.UpdateCache(ctx, "cache-x", &onesdk.CacheUpdateRequest{TTL: time.Minute})
	errs["DeleteCache"] = sdk.DeleteCache(ctx, "cache-x")
	_, errs["CreateTag"] = sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: "my_tag", CacheID: "cache-x"})
	_, errs["ListTags"] = sdk.ListTags(ctx, nil)
	for _, err := range sdk.AllTags(ctx, nil) {
		errs["AllTags"] = err
	}
	_, errs["GetTag"] = sdk.GetTag(ctx, "my_tag")
	_, errs["GetTagContent"] = sdk.GetTagContent(ctx, "my_tag")
	errs["DeleteTag"] = sdk.DeleteTag(ctx, "my_tag")
	if len(errs) != 13 {
		t.Fatalf("%d methods checked, want 13", len(errs))
	}
	wantUnsupported(t, "acedata", errs)
}

// A cache that fails or expires while waited for is a bad request that
// says why, with the cache as last seen.
func TestWaitCacheReadyFailures(t *testing.T) {
	sdk, srv := setup(t, kimitest.WithCacheReadyDelay(time.Hour))
	ctx := t.Context()
	c := createCache(t, sdk, nil)
	if !srv.Emulator.SetCacheError(srv.Key, c.ID, "invalid_request_error", "the context is too long") {
		t.Fatal("SetCacheError found no cache")
	}
	seen, err := sdk.WaitCacheReady(ctx, c.ID)
	var ce *kimi.CacheError
	if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "the context is too long") {
		t.Errorf("cache in status error: want ErrBadRequest wrapping *kimi.CacheError, got %v", err)
	}
	if seen == nil || seen.Status != kimi.CacheStatusError {
		t.Errorf("returned cache %+v, want status error", seen)
	}

	// Ready after 2 s of emulated time, expired after 1: inactive.
	sdk, _ = setup(t, kimitest.WithCacheReadyDelay(2*time.Second), kimitest.WithTimeScale(100))
	c = createCache(t, sdk, &onesdk.CacheCreateRequest{TTL: time.Second})
	seen, err = sdk.WaitCacheReady(ctx, c.ID)
	wantKinds(t, "expired cache", err, []error{onesdk.ErrBadRequest, kimi.ErrCacheInactive}, onesdk.ErrConnection)
	if seen == nil || seen.Status != kimi.CacheStatusInactive {
		t.Errorf("returned cache %+v, want status inactive", seen)
	}
}
