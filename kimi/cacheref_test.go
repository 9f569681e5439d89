package kimi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestCacheMessageGrammar(t *testing.T) {
	for _, tc := range []struct {
		ref  kimi.CacheRef
		want string
	}{
		{kimi.CacheRef{CacheID: "cache-essqmysd6h1111dauub1"}, "cache_id=cache-essqmysd6h1111dauub1"},
		{kimi.CacheRef{Tag: "moonshot_knowledge_0002", ResetTTL: time.Hour}, "tag=moonshot_knowledge_0002;reset_ttl=3600"},
		{kimi.CacheRef{CacheID: "cache-1", ResetTTL: 10 * time.Second, DryRun: true}, "cache_id=cache-1;reset_ttl=10;dry_run=1"},
		{kimi.CacheRef{Tag: "a", DryRun: true}, "tag=a;dry_run=1"},
	} {
		m := kimi.CacheMessage(tc.ref)
		if m.Role != kimi.RoleCache || m.Content != tc.want {
			t.Errorf("CacheMessage(%+v) = %+v, want content %q", tc.ref, m, tc.want)
		}
		back, err := kimi.ParseCacheRef(m.Content)
		if err != nil || back != tc.ref {
			t.Errorf("ParseCacheRef(%q) = %+v, %v", m.Content, back, err)
		}
	}
	for _, bad := range []string{"", "cache_id=", "tag=a;", ";tag=a", "tag=a;tag=b", "tag=a;cache_id=c",
		"reset_ttl=5", "tag=a;reset_ttl=x", "tag=a;reset_ttl=-1", "tag=a;dry_run=yes", "tag=a;color=red", "cache_id=a b", "tag"} {
		var ve *kimi.ValidationError
		if _, err := kimi.ParseCacheRef(bad); !errors.As(err, &ve) {
			t.Errorf("ParseCacheRef(%q) = %v, want a *ValidationError", bad, err)
		}
	}
}

func TestCacheHeaders(t *testing.T) {
	h := kimi.CacheHeaders(kimi.CacheRef{CacheID: "cache-1", ResetTTL: time.Minute, DryRun: true})
	if h.Get("X-Msh-Context-Cache") != "cache-1" || h.Get("X-Msh-Context-Cache-Reset-TTL") != "60" || h.Get("X-Msh-Context-Cache-DryRun") != "1" {
		t.Errorf("headers = %v", h)
	}
	h = kimi.CacheHeaders(kimi.CacheRef{CacheID: "cache-1"})
	if len(h) != 1 {
		t.Errorf("unset fields sent: %v", h)
	}
}

func TestCacheInfo(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hdr := func(kv ...string) http.Header {
		h := http.Header{"Date": {date.Format(http.TimeFormat)}}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for name, tc := range map[string]struct {
		h      http.Header
		cached int
		want   kimi.CacheInfo
	}{
		"exp (docs)": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Saved", "4700", "Msh-Context-Cache-Token-Exp", "1772370000"), 0,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 4700, ExpiresAt: time.Unix(1772370000, 0), Hit: true}},
		"ttl (cookbook), seconds left": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Saved", "10", "Msh-Context-Cache-Token-Ttl", "3600"), 0,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 10, ExpiresAt: date.Add(time.Hour), Hit: true}},
		"ttl holding a unix time": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Ttl", "1772370000"), 7,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 7, ExpiresAt: time.Unix(1772370000, 0), Hit: true}},
		"automatic caching": {hdr("Msh-Context-Cache-Token-Saved", "512"), 512, kimi.CacheInfo{TokensSaved: 512, Hit: true}},
		"usage only":        {hdr(), 300, kimi.CacheInfo{TokensSaved: 300, Hit: true}},
		"none":              {hdr("Msh-Context-Cache-Token-Saved", "0"), 0, kimi.CacheInfo{}},
		"garbage":           {hdr("Msh-Context-Cache-Token-Saved", "x", "Msh-Context-Cache-Token-Exp", "soon"), 0, kimi.CacheInfo{}},
	} {
		cc := &kimi.ChatCompletion{Header: tc.h, Usage: &kimi.Usage{CachedTokens: tc.cached}}
		got := cc.CacheInfo()
		if got.ID != tc.want.ID || got.TokensSaved != tc.want.TokensSaved || !got.ExpiresAt.Equal(tc.want.ExpiresAt) || got.Hit != tc.want.Hit {
			t.Errorf("%s: CacheInfo = %+v, want %+v", name, got, tc.want)
		}
	}
	if info := (&kimi.ChatCompletion{}).CacheInfo(); info != (kimi.CacheInfo{}) {
		t.Errorf("empty completion: %+v", info)
	}
}

// readyCache creates a cache of docMessages (tagged with tags) and waits
// for it.
func readyCache(t *testing.T, c *kimi.Client, tags ...string) *kimi.Cache {
	t.Helper()
	ctx := testCtx(t)
	cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages(), Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	if cache, err = c.Caches.WaitReady(ctx, cache.ID); err != nil {
		t.Fatal(err)
	}
	return cache
}

func checkHit(t *testing.T, what string, usage *kimi.Usage, info kimi.CacheInfo, cache *kimi.Cache) {
	t.Helper()
	if usage == nil || usage.CachedTokens != cache.Tokens || usage.PromptTokens <= cache.Tokens {
		t.Errorf("%s: usage = %+v, want %d cached tokens within the prompt", what, usage, cache.Tokens)
	}
	if !info.Hit || info.ID != cache.ID || info.TokensSaved != cache.Tokens || info.ExpiresAt.IsZero() {
		t.Errorf("%s: cache info = %+v", what, info)
	}
}

func TestChatWithCacheMessage(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	cache := readyCache(t, c, "handbook")

	for _, ref := range []kimi.CacheRef{{CacheID: cache.ID, ResetTTL: 10 * time.Minute}, {Tag: "handbook", ResetTTL: 10 * time.Minute}} {
		resp, err := c.Chat.Create(ctx, &kimi.ChatRequest{Model: "moonshot-v1-32k",
			Messages: []kimi.Message{kimi.CacheMessage(ref), kimi.UserMessage("How many steps does onboarding have?")}})
		if err != nil {
			t.Fatalf("%+v: %v", ref, err)
		}
		checkHit(t, ref.String(), resp.Usage, resp.CacheInfo(), cache)
		if resp.Text() == "" {
			t.Errorf("%+v: empty answer", ref)
		}
		// reset_ttl moved the expiry to the one the response reports.
		got, err := c.Caches.Get(ctx, cache.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ExpiredAt != resp.CacheInfo().ExpiresAt.Unix() || got.ExpiredAt <= cache.CreatedAt {
			t.Errorf("%+v: cache expires at %d, response says %v", ref, got.ExpiredAt, resp.CacheInfo().ExpiresAt)
		}
	}
	// The wire form of the reference.
	var sent struct{ Messages []kimi.Message }
	for _, r := range rec.all() {
		if r.Method == http.MethodPost && r.Path == "/v1/chat/completions" {
			if err := json.Unmarshal(r.Body, &sent); err != nil {
				t.Fatal(err)
			}
		}
	}
	if m := sent.Messages[0]; m.Role != kimi.RoleCache || m.Content != "tag=handbook;reset_ttl=600" {
		t.Errorf("cache message sent = %+v", m)
	}

	// Streaming.
	st, err := c.Chat.Stream(ctx, &kimi.ChatRequest{Model: "moonshot-v1-8k",
		Messages: []kimi.Message{kimi.CacheMessage(kimi.CacheRef{Tag: "handbook"}), kimi.UserMessage("Summarise it.")}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for st.Next() {
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	checkHit(t, "stream", st.Completion().Usage, st.CacheInfo(), cache)
}

func TestChatWithCacheHeaders(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	cache := readyCache(t, c)

	req := &kimi.ChatRequest{Model: "moonshot-v1-32k",
		Messages: append(docMessages(), kimi.UserMessage("What is step one?"))}
	headers := kimi.WithHeaders(kimi.CacheHeaders(kimi.CacheRef{CacheID: cache.ID, ResetTTL: 300 * time.Second}))
	resp, err := c.Chat.Create(ctx, req, headers)
	if err != nil {
		t.Fatal(err)
	}
	checkHit(t, "header mode", resp.Usage, resp.CacheInfo(), cache)
	h := rec.last().Header
	if h.Get("X-Msh-Context-Cache") != cache.ID || h.Get("X-Msh-Context-Cache-Reset-TTL") != "300" || h.Get("X-Msh-Context-Cache-DryRun") != "" {
		t.Errorf("request headers = %v", h)
	}

	// A prefix that differs from the cache is an ordinary call.
	miss := *req
	miss.Messages = []kimi.Message{kimi.SystemMessage("Another prompt."), kimi.UserMessage("What is step one?")}
	resp, err = c.Chat.Create(ctx, &miss, headers)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.CachedTokens != 0 || resp.CacheInfo().Hit {
		t.Errorf("miss: usage %+v, info %+v", resp.Usage, resp.CacheInfo())
	}
}

func TestChatCacheDryRun(t *testing.T) {
	c, _, _ := setup(t, fastTime)
	ctx := testCtx(t)
	cache := readyCache(t, c, "handbook")
	for name, req := range map[string]*kimi.ChatRequest{
		"message": {Model: "moonshot-v1-8k", Messages: []kimi.Message{
			kimi.CacheMessage(kimi.CacheRef{Tag: "handbook", DryRun: true}), kimi.UserMessage("q")}},
		"header": {Model: "moonshot-v1-8k", Messages: append(docMessages(), kimi.UserMessage("q"))},
	} {
		opts := map[string][]kimi.RequestOption{
			"header": {kimi.WithHeaders(kimi.CacheHeaders(kimi.CacheRef{CacheID: cache.ID, DryRun: true}))},
		}[name]
		resp, err := c.Chat.Create(ctx, req, opts...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.Text() != "" || resp.Usage == nil || resp.Usage.CompletionTokens != 0 || resp.CacheInfo().ID != cache.ID {
			t.Errorf("%s: dry run = %+v, info %+v", name, resp, resp.CacheInfo())
		}
	}
	// A dry run checks the cache: an unknown one fails.
	_, err := c.Chat.Create(ctx, &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{
		kimi.CacheMessage(kimi.CacheRef{CacheID: "cache-unknown", DryRun: true}), kimi.UserMessage("q")}})
	mustStatus(t, err, 404)
}

func TestChatCacheValidation(t *testing.T) {
	c, _, rec := setup(t, fastTime)
	ctx := testCtx(t)
	user := kimi.UserMessage("q")
	cm := func(ref kimi.CacheRef) kimi.Message { return kimi.CacheMessage(ref) }
	cases := []struct {
		name, field string
		r           *kimi.ChatRequest
	}{
		{"not first", "messages[1].role", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{user, cm(kimi.CacheRef{Tag: "a"})}}},
		{"two", "messages[1].role", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), cm(kimi.CacheRef{Tag: "b"})}}},
		{"both", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a", CacheID: "cache-1"}), user}}},
		{"neither", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{ResetTTL: 5 * time.Second}), user}}},
		{"negative reset", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a", ResetTTL: -time.Second}), user}}},
		{"long reset", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a", ResetTTL: 3601 * time.Second}), user}}},
		{"fractional reset", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a", ResetTTL: 1500 * time.Millisecond}), user}}},
		{"bad tag", "messages[0].content tag", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "9a"}), user}}},
		{"pasted", "messages[0].content", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{{Role: kimi.RoleCache, Content: "cache_id=cache-1;"}, user}}},
		{"tools", "tools", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user}, Tools: []kimi.Tool{weatherTool}}},
		{"k2.6", "model", &kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user}}},
	}
	// The header form is checked where the headers are given: in the
	// call's options.
	headerCases := []struct {
		name, field string
		r           *kimi.ChatRequest
		ref         kimi.CacheRef
	}{
		{"header tag", "header X-Msh-Context-Cache", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{user}}, kimi.CacheRef{Tag: "a"}},
		{"header and message", "header X-Msh-Context-Cache", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user}}, kimi.CacheRef{CacheID: "cache-1"}},
		{"header ttl", "header X-Msh-Context-Cache-Reset-TTL", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{user}}, kimi.CacheRef{CacheID: "cache-1", ResetTTL: -3 * time.Second}},
		{"header fractional ttl", "header X-Msh-Context-Cache-Reset-TTL", &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{user}}, kimi.CacheRef{CacheID: "cache-1", ResetTTL: 2500 * time.Millisecond}},
	}
	for _, tc := range cases {
		_, err := c.Chat.Create(ctx, tc.r)
		wantInvalid(t, tc.name, err, tc.field)
		_, err = c.Chat.Stream(ctx, tc.r)
		wantInvalid(t, tc.name+" (stream)", err, tc.field)
	}
	for _, tc := range headerCases {
		h := kimi.WithHeaders(kimi.CacheHeaders(tc.ref))
		_, err := c.Chat.Create(ctx, tc.r, h)
		wantInvalid(t, tc.name, err, tc.field)
		_, err = c.Chat.Stream(ctx, tc.r, h)
		wantInvalid(t, tc.name+" (stream)", err, tc.field)
	}
	wantNoRequests(t, rec)

	// Valid uses: the cache brings tools, so tool_choice may name one,
	// and its messages may end with calls answered right after it.
	for name, r := range map[string]*kimi.ChatRequest{
		"tool choice": {Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user},
			ToolChoice: &kimi.ToolChoice{Function: "get_weather"}},
		"answers cached calls": {Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{CacheID: "cache-1"}),
			kimi.ToolMessage("get_weather:0", "get_weather", "sunny"), user}},
		"unknown model":  {Model: "some-gateway-model", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user}},
		"vision preview": {Model: "moonshot-v1-8k-vision-preview", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user}},
	} {
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Header options pass the check: the call gets as far as the
	// (cancelled) context.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var ve *kimi.ValidationError
	if _, err := c.Chat.Create(cancelled, &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{user}},
		kimi.WithHeaders(http.Header{"X-Msh-Context-Cache": {"cache-1"}, "X-Msh-Context-Cache-DryRun": {"0"}})); errors.As(err, &ve) {
		t.Errorf("header dry run 0: %v", err)
	}
	// Tool messages right after the assistant's calls are still checked.
	bad := &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{cm(kimi.CacheRef{Tag: "a"}), user,
		kimi.ToolMessage("x:0", "x", "r")}}
	if err := bad.Validate(); !errors.As(err, &ve) || ve.Field != "messages[2].tool_call_id" {
		t.Errorf("orphan tool message after a cache: %v", err)
	}
}

func TestChatCacheErrors(t *testing.T) {
	c, _, _ := setup(t, fastTime, kimitest.WithCacheReadyDelay(24*time.Hour))
	ctx := testCtx(t)
	ask := func(ref kimi.CacheRef) error {
		_, err := c.Chat.Create(ctx, &kimi.ChatRequest{Model: "moonshot-v1-8k",
			Messages: []kimi.Message{kimi.CacheMessage(ref), kimi.UserMessage("q")}})
		return err
	}
	mustStatus(t, ask(kimi.CacheRef{Tag: "missing"}), 404)
	mustStatus(t, ask(kimi.CacheRef{CacheID: "cache-missing"}), 404)
	pending, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: docMessages()})
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, ask(kimi.CacheRef{CacheID: pending.ID}), 400)
}
