package kimitest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var cacheIDRE = regexp.MustCompile(`^cache-[0-9a-z]{20}$`)

// cacheSystem is long enough to make caching worthwhile.
var cacheSystem = map[string]any{"role": "system", "content": strings.Repeat("You are Kimi, a careful assistant for the ACME handbook. ", 20)}

var cacheTool = map[string]any{"type": "function", "function": map[string]any{
	"name": "CodeRunner", "description": "Runs code",
	"parameters": map[string]any{"type": "object", "properties": map[string]any{"code": map[string]any{"type": "string"}}},
}}

func cacheBody(extra map[string]any) map[string]any {
	b := map[string]any{"model": "moonshot-v1", "messages": msgs(cacheSystem), "tools": []any{cacheTool}, "ttl": 3600}
	for k, v := range extra {
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
	}
	return b
}

func createCache(t *testing.T, srv *Server, body map[string]any, headers ...string) cacheObjectJSON {
	t.Helper()
	return decodeOK[cacheObjectJSON](t, ktDo(t, srv, "POST", "/v1/caching", body, headers...))
}

func getCache(t *testing.T, srv *Server, id string) cacheObjectJSON {
	t.Helper()
	return decodeOK[cacheObjectJSON](t, ktDo(t, srv, "GET", "/v1/caching/"+id, nil))
}

// waitStatus polls until the cache has the status; the deadline only
// guards against a hang (emulated time runs fast in these tests).
func waitStatus(t *testing.T, srv *Server, id, status string) cacheObjectJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := getCache(t, srv, id)
		if c.Status == status {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("cache %s still %s, want %s", id, c.Status, status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectedCacheTokens is the chat counter over the cache's messages and
// tools, without the 3 tokens of reply priming.
func expectedCacheTokens(t *testing.T, messages, tools any) int {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"model": "moonshot-v1-8k", "messages": messages, "tools": tools})
	n, err := CountRequestTokens(b)
	if err != nil {
		t.Fatal(err)
	}
	return n - 3
}

// create → pending → ready → inactive → PUT → pending → ready → DELETE.
func TestCacheLifecycle(t *testing.T) {
	srv := setup(t, WithTimeScale(60)) // ready after 2 s = 33 ms; ttl 60 s = 1 s
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 60, "name": "CodeRunner", "description": "demo",
		"metadata": map[string]string{"biz_id": "110998541001"}}))
	if !cacheIDRE.MatchString(c.ID) || c.Object != "context_cache_object" || c.Status != "pending" || c.Model != "moonshot-v1" ||
		c.Name != "CodeRunner" || c.Description != "demo" || c.Metadata["biz_id"] != "110998541001" || c.Error != nil {
		t.Fatalf("created: %+v", c)
	}
	if d := c.ExpiredAt - c.CreatedAt; d < 59 || d > 61 {
		t.Fatalf("expired_at - created_at = %d, want 60", d)
	}
	if want := expectedCacheTokens(t, msgs(cacheSystem), []any{cacheTool}); c.Tokens != want || want < 200 {
		t.Fatalf("tokens %d, want %d", c.Tokens, want)
	}
	var echo []map[string]any
	if json.Unmarshal(c.Messages, &echo) != nil || len(echo) != 1 || echo[0]["content"] != cacheSystem["content"] {
		t.Fatalf("messages echo: %s", c.Messages)
	}
	if !strings.Contains(string(c.Tools), `"CodeRunner"`) {
		t.Fatalf("tools echo: %s", c.Tools)
	}
	waitStatus(t, srv, c.ID, "ready")
	old := waitStatus(t, srv, c.ID, "inactive")

	r := ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"ttl": 120})
	u := decodeOK[cacheObjectJSON](t, r)
	if u.Status != "pending" || u.ExpiredAt <= old.ExpiredAt || u.Metadata["biz_id"] != "110998541001" {
		t.Fatalf("after PUT: %+v (old expired_at %d)", u, old.ExpiredAt)
	}
	waitStatus(t, srv, c.ID, "ready")

	r = ktDo(t, srv, "DELETE", "/v1/caching/"+c.ID, nil)
	if r.Status != 200 || string(r.Body) != `{"deleted":true,"id":"`+c.ID+`","object":"context_cache_object.deleted"}`+"\n" {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching/"+c.ID, nil), 404, "resource_not_found_error",
		"Not found the context cache "+c.ID+" or Permission denied")
	wantAPIError(t, ktDo(t, srv, "DELETE", "/v1/caching/"+c.ID, nil), 404, "resource_not_found_error",
		"Not found the context cache "+c.ID+" or Permission denied")
}

func TestCacheUpdate(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"metadata": map[string]string{"a": "1", "b": "2"}}))
	// Metadata replaces; absent expiry means the default hour from now.
	u := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"metadata": map[string]string{"c": "3"}}))
	if len(u.Metadata) != 1 || u.Metadata["c"] != "3" || u.Status != "ready" {
		t.Fatalf("after PUT: %+v", u)
	}
	// No metadata keeps the old one.
	u = decodeOK[cacheObjectJSON](t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"metadata": nil, "ttl": 10}))
	if len(u.Metadata) != 1 || u.ExpiredAt-u.CreatedAt > 11 {
		t.Fatalf("after second PUT: %+v", u)
	}
	wantAPIError(t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"ttl": 10, "expired_at": time.Now().Unix() + 100}),
		400, "invalid_request_error", "Invalid request: only one of expired_at and ttl may be set")
	wantAPIError(t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"ttl": 3601}),
		400, "invalid_request_error", "Invalid request: ttl must be in [1, 3600] seconds, got 3601")
	wantAPIError(t, ktDo(t, srv, "PUT", "/v1/caching/cache-unknown", map[string]any{"ttl": 1}),
		404, "resource_not_found_error", "Not found the context cache cache-unknown or Permission denied")
}

// An update puts an "error" cache back through the cycle.
func TestCacheErrorStatus(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(nil))
	if srv.Emulator.SetCacheError(srv.Key, "cache-unknown", "", "") {
		t.Fatal("SetCacheError on an unknown cache succeeded")
	}
	if !srv.Emulator.SetCacheError(srv.Key, c.ID, "server_error", "tokenizer failed") {
		t.Fatal("SetCacheError failed")
	}
	g := getCache(t, srv, c.ID)
	if g.Status != "error" || g.Error == nil || g.Error.Type != "server_error" || g.Error.Message != "tokenizer failed" {
		t.Fatalf("error cache: %+v", g)
	}
	r := postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", ""))
	wantAPIError(t, r, 400, "invalid_request_error", "Invalid request: context cache "+c.ID+" is not usable (status: error): tokenizer failed")
	u := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{}))
	if u.Status != "ready" || u.Error != nil || strings.Contains(string(ktDo(t, srv, "GET", "/v1/caching/"+c.ID, nil).Body), `"error"`) {
		t.Fatalf("after PUT: %+v", u)
	}
}

// listCaches lists the ids that GET /v1/caching?query answers.
func listCaches(t *testing.T, srv *Server, query string) []string {
	t.Helper()
	return listKeys(t, srv, "/v1/caching?"+query, func(c cacheObjectJSON) string { return c.ID })
}

// checkListPaging checks a list endpoint over items created in the order
// of ids, list(query) giving the ids a page holds: newest first by
// default, and paged with after = the last id in both orders. It returns
// ids newest first.
func checkListPaging(t *testing.T, list func(query string) []string, ids []string) (desc []string) {
	t.Helper()
	desc = slices.Clone(ids)
	slices.Reverse(desc)
	if got := list(""); !slices.Equal(got, desc) {
		t.Fatalf("default list %v, want %v (desc)", got, desc)
	}
	const limit = 2
	for _, order := range []string{"desc", "asc"} {
		want := ids
		if order == "desc" {
			want = desc
		}
		var got []string
		pages := 0
		for after := ""; ; {
			q := url.Values{"limit": {strconv.Itoa(limit)}, "order": {order}}
			if after != "" {
				q.Set("after", after)
			}
			p := list(q.Encode())
			pages++
			got = append(got, p...)
			if len(p) < limit {
				break
			}
			after = p[len(p)-1]
		}
		if wantPages := len(ids)/limit + 1; !slices.Equal(got, want) || pages != wantPages {
			t.Fatalf("%s paging: %v in %d pages, want %v in %d", order, got, pages, want, wantPages)
		}
	}
	return desc
}

func TestCacheListPaging(t *testing.T) {
	srv := setup(t)
	var ids []string // creation order
	for i := range 5 {
		ids = append(ids, createCache(t, srv, cacheBody(map[string]any{"name": fmt.Sprint(i)})).ID)
	}
	desc := checkListPaging(t, func(q string) []string { return listCaches(t, srv, q) }, ids)
	// before: the items right before the cursor, in list order.
	if got := listCaches(t, srv, "limit=2&before="+desc[3]); !slices.Equal(got, desc[1:3]) {
		t.Fatalf("before: %v, want %v", got, desc[1:3])
	}
	if got := listCaches(t, srv, "order=asc&after="+ids[0]+"&before="+ids[3]); !slices.Equal(got, ids[1:3]) {
		t.Fatalf("after+before: %v, want %v", got, ids[1:3])
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching?limit=0", nil), 400, "invalid_request_error", `Invalid request: limit must be a positive integer, got "0"`)
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching?order=up", nil), 400, "invalid_request_error", `Invalid request: order must be asc or desc, got "up"`)
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/caching?after=cache-x", nil), 400, "invalid_request_error", `Invalid request: after: unknown cache id cache-x`)
}

func TestCacheListMetadataFilter(t *testing.T) {
	srv := setup(t)
	a := createCache(t, srv, cacheBody(map[string]any{"metadata": map[string]string{"env": "prod", "team": "a"}})).ID
	createCache(t, srv, cacheBody(map[string]any{"metadata": map[string]string{"env": "dev"}}))
	c := createCache(t, srv, cacheBody(map[string]any{"metadata": map[string]string{"env": "prod", "team": "b"}})).ID
	createCache(t, srv, cacheBody(nil))
	for q, want := range map[string][]string{
		"metadata[env]=prod":                    {c, a},
		"metadata[env]=prod&metadata[team]=b":   {c},
		"metadata[team]=a&order=asc":            {a},
		"metadata[nope]=x":                      nil,
		"metadata[env]=prod&limit=1&after=" + c: {a},
	} {
		if got := listCaches(t, srv, q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
}

func TestCacheCreateValidation(t *testing.T) {
	srv := setup(t)
	now := time.Now().Unix()                                     // emulated time runs at scale 1 from the start
	long := func(n int) string { return strings.Repeat("é", n) } // UTF-8 characters, not bytes
	many := map[string]string{}
	for i := range 17 {
		many[fmt.Sprint("k", i)] = "v"
	}
	toolMsgs := msgs(user("hi"), map[string]any{"role": "tool", "tool_call_id": "x:0", "content": "r"})
	callMsgs := msgs(user("hi"), map[string]any{"role": "assistant", "content": "", "tool_calls": []any{
		map[string]any{"id": "Other:0", "type": "function", "function": map[string]any{"name": "Other", "arguments": "{}"}}}},
		map[string]any{"role": "tool", "tool_call_id": "Other:0", "content": "r"})
	for _, tc := range []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"no model", cacheBody(map[string]any{"model": nil}), "model is required"},
		{"sized model", cacheBody(map[string]any{"model": "moonshot-v1-8k"}), "model family is invalid"},
		{"k2.6 model", cacheBody(map[string]any{"model": "kimi-k2.6"}), "model family is invalid"},
		{"no messages", cacheBody(map[string]any{"messages": nil}), "messages is required"},
		{"empty messages", cacheBody(map[string]any{"messages": []any{}}), "messages must not be empty"},
		{"partial", cacheBody(map[string]any{"messages": msgs(user("a"), map[string]any{"role": "assistant", "content": "b", "partial": true})}),
			"messages[1]: partial is not allowed in a context cache"},
		{"cache role", cacheBody(map[string]any{"messages": msgs(map[string]any{"role": "cache", "content": "tag=x"})}),
			"messages[0]: role cache is not allowed in a context cache"},
		{"orphan tool message", cacheBody(map[string]any{"messages": toolMsgs}),
			`tool_call_id not found: messages[1] refers to "x:0", which no assistant tool call made`},
		{"called tool missing", cacheBody(map[string]any{"messages": callMsgs}),
			"messages[1].tool_calls[0]: function Other is not in tools"},
		{"bad tool", cacheBody(map[string]any{"tools": []any{map[string]any{"type": "function", "function": map[string]any{"name": "x"}}}}),
			`tools[0]: function name "x" is invalid, it must match ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`},
		{"name", cacheBody(map[string]any{"name": long(257)}), "name must be at most 256 characters, got 257"},
		{"description", cacheBody(map[string]any{"description": long(513)}), "description must be at most 512 characters, got 513"},
		{"metadata pairs", cacheBody(map[string]any{"metadata": many}), "metadata must have at most 16 pairs, got 17"},
		{"metadata key", cacheBody(map[string]any{"metadata": map[string]string{long(65): "v"}}),
			fmt.Sprintf("metadata key %q is longer than 64 characters (65)", long(65))},
		{"metadata value", cacheBody(map[string]any{"metadata": map[string]string{"k": long(513)}}),
			`metadata value of key "k" is longer than 512 characters (513)`},
		{"both expiries", cacheBody(map[string]any{"expired_at": now + 100}), "only one of expired_at and ttl may be set"},
		{"ttl too long", cacheBody(map[string]any{"ttl": 3601}), "ttl must be in [1, 3600] seconds, got 3601"},
		{"ttl negative", cacheBody(map[string]any{"ttl": -5}), "ttl must be in [1, 3600] seconds, got -5"},
		{"bad tag", cacheBody(map[string]any{"tags": []string{"9lives"}}),
			`tag "9lives" is invalid: it must be 1 to 128 characters, start with an ASCII letter and contain only letters, digits, '_', '-' and '.'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := "Invalid request: " + tc.msg
			if tc.msg == "model family is invalid" {
				want = tc.msg // Kimi's own text, unprefixed
			}
			wantAPIError(t, ktDo(t, srv, "POST", "/v1/caching", tc.body), 400, "invalid_request_error", want)
		})
	}
	// expired_at in the past or too far ahead (the emulated second may
	// have ticked since now was read, so the current time is matched).
	for expiredAt, re := range map[int64]string{
		1000:       `^Invalid request: expired_at must be later than the current time (\d+), got 1000$`,
		now + 4000: `^Invalid request: expired_at must be at most 3600 seconds after the current time (\d+), got ` + strconv.FormatInt(now+4000, 10) + `$`,
	} {
		r := ktDo(t, srv, "POST", "/v1/caching", cacheBody(map[string]any{"ttl": nil, "expired_at": expiredAt}))
		_, m := apiErr(t, r)
		sub := regexp.MustCompile(re).FindStringSubmatch(m)
		if r.Status != 400 || sub == nil || (sub[1] != strconv.FormatInt(now, 10) && sub[1] != strconv.FormatInt(now+1, 10)) {
			t.Fatalf("expired_at %d: %d %s", expiredAt, r.Status, m)
		}
	}
	if ids := listCaches(t, srv, ""); len(ids) != 0 {
		t.Fatalf("failed creations left caches: %v", ids)
	}
	// A valid expired_at is used as is.
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": nil, "expired_at": now + 600}))
	if c.ExpiredAt != now+600 {
		t.Fatalf("expired_at %d, want %d", c.ExpiredAt, now+600)
	}
}

// The per-account storage limit counts all existing caches.
func TestCacheStorageLimit(t *testing.T) {
	srv := setup(t)
	big := map[string]any{"role": "user", "content": strings.Repeat("word ", 120000)}
	var total int
	for {
		r := ktDo(t, srv, "POST", "/v1/caching", cacheBody(map[string]any{"messages": msgs(big), "tools": nil}))
		if r.Status != 200 {
			_, m := apiErr(t, r)
			want := fmt.Sprintf("Invalid request: context cache storage limit exceeded: the account stores %d tokens, this cache has %d, the limit is 1000000", total, expectedCacheTokens(t, msgs(big), nil))
			if r.Status != 400 || m != want || total+expectedCacheTokens(t, msgs(big), nil) <= 1000000 {
				t.Fatalf("%d %s, want %s", r.Status, m, want)
			}
			return
		}
		total += decodeOK[cacheObjectJSON](t, r).Tokens
		if total > 1000000 {
			t.Fatalf("stored %d tokens", total)
		}
	}
}

// llm_onesdk sends null for unset optional fields.
func TestCacheCreateNulls(t *testing.T) {
	srv := setup(t)
	body := `{"model":"moonshot-v1","messages":[{"role":"system","content":"hi there"}],"tools":null,"name":null,` +
		`"description":null,"metadata":null,"expired_at":null,"ttl":null,"tags":null}`
	c := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "POST", "/v1/caching", body))
	if c.ExpiredAt-c.CreatedAt < 3599 || c.ExpiredAt-c.CreatedAt > 3601 || string(c.Tools) != "[]" || c.Metadata == nil || c.Name != "" {
		t.Fatalf("null fields: %+v", c)
	}
	// expired_at 0 with ttl (go-moonshot) is ttl alone.
	c = createCache(t, srv, cacheBody(map[string]any{"expired_at": 0, "ttl": 60}))
	if d := c.ExpiredAt - c.CreatedAt; d < 59 || d > 61 {
		t.Fatalf("expired_at 0 + ttl 60: %d", d)
	}
}

// cacheChat builds a chat body whose first message refers to a cache.
func cacheChat(ref, model, extra string) map[string]any {
	content := ref
	if !strings.Contains(ref, "=") {
		content = "cache_id=" + ref
	}
	if extra != "" {
		content += ";" + extra
	}
	return map[string]any{"model": model, "messages": msgs(map[string]any{"role": "cache", "content": content}, user("How do I run code?"))}
}

// headerModeChat is a chat body that starts with a cache's messages and
// tools, for the X-Msh-Context-Cache header.
func headerModeChat() map[string]any {
	return map[string]any{"model": "moonshot-v1-8k", "messages": msgs(cacheSystem, user("x")), "tools": []any{cacheTool}}
}

func checkHit(t *testing.T, srv *Server, r ktResp, u wireUsage, c cacheObjectJSON) {
	t.Helper()
	want := expectedCacheTokens(t, msgs(cacheSystem, user("How do I run code?")), []any{cacheTool}) + 3
	if u.CachedTokens == nil || *u.CachedTokens != c.Tokens || u.PromptTokensDetails == nil || u.PromptTokensDetails.CachedTokens != c.Tokens || u.PromptTokens != want {
		t.Fatalf("usage %+v, want prompt %d cached %d", u, want, c.Tokens)
	}
	h := r.Header
	exp, _ := strconv.ParseInt(h.Get("Msh-Context-Cache-Token-Exp"), 10, 64)
	ttl, err := strconv.Atoi(h.Get("Msh-Context-Cache-Token-Ttl"))
	if h.Get("Msh-Context-Cache-Id") != c.ID || h.Get("Msh-Context-Cache-Token-Saved") != strconv.Itoa(c.Tokens) ||
		exp != getCache(t, srv, c.ID).ExpiredAt || err != nil || ttl <= 0 || ttl > 3600 {
		t.Fatalf("cache headers: %v", h)
	}
}

func TestChatWithCacheMessage(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"tags": []string{"handbook"}}))
	for _, ref := range []string{c.ID, "tag=handbook"} {
		for _, model := range []string{"moonshot-v1-8k", "moonshot-v1-auto", "moonshot-v1-8k-vision-preview"} {
			r := postChat(t, srv, cacheChat(ref, model, ""))
			checkHit(t, srv, r, decodeChat(t, r).Usage, c)
		}
		// Streams: headers and the final chunk's per-choice usage.
		body := cacheChat(ref, "moonshot-v1-32k", "")
		body["stream_options"] = map[string]any{"include_usage": true}
		chunks, r := streamChat(t, srv, body)
		ch := assemble(t, chunks)[0]
		checkHit(t, srv, r, *ch.usage, c)
		if last := chunks[len(chunks)-1]; last.Usage == nil || last.Usage.CachedTokens == nil || *last.Usage.CachedTokens != c.Tokens {
			t.Fatalf("include_usage chunk: %+v", last.Usage)
		}
	}
	// tools are absent or null with a cache message; [] counts as sent.
	body := cacheChat(c.ID, "moonshot-v1-8k", "")
	body["tools"] = nil
	chat(t, srv, body)
	for _, tools := range []any{[]any{}, []any{cacheTool}} {
		body["tools"] = tools
		wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error",
			"Invalid request: tools must not be set when a cache message is used: the tools come from the context cache")
	}
}

func TestChatCacheMessageGrammar(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(nil))
	for content, msg := range map[string]string{
		"":                                       "cache message: content must not be empty; want cache_id=<id> or tag=<tag>",
		"cache_id=" + c.ID + ";":                 `cache message: malformed pair "", want key=value`,
		"cache_id":                               `cache message: malformed pair "cache_id", want key=value`,
		"cache_id=" + c.ID + ";ttl=5":            `cache message: unknown key "ttl" (allowed: cache_id, tag, reset_ttl, dry_run)`,
		"cache_id=" + c.ID + ";tag=x":            "cache message: only one of cache_id and tag may be set",
		"reset_ttl=5":                            "cache message: one of cache_id or tag is required",
		"cache_id=" + c.ID + ";reset_ttl=x":      `cache message: reset_ttl must be an integer in [0, 3600], got "x"`,
		"cache_id=" + c.ID + ";reset_ttl=-1":     `cache message: reset_ttl must be an integer in [0, 3600], got "-1"`,
		"cache_id=" + c.ID + ";reset_ttl=3601":   `cache message: reset_ttl must be an integer in [0, 3600], got "3601"`,
		"cache_id=" + c.ID + ";dry_run=2":        `cache message: dry_run must be 0 or 1, got "2"`,
		"cache_id=" + c.ID + ";cache_id=" + c.ID: `cache message: duplicated key "cache_id"`,
	} {
		body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "cache", "content": content}, user("hi"))}
		wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error", "Invalid request: "+msg)
	}
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"), map[string]any{"role": "cache", "content": "cache_id=" + c.ID})}
	wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error",
		"Invalid request: messages[1]: a cache message is only allowed as the first message")
	body = map[string]any{"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "cache", "content": []any{map[string]any{"type": "text", "text": "cache_id=" + c.ID}}}, user("hi"))}
	wantAPIError(t, postChat(t, srv, body), 400, "invalid_request_error",
		"Invalid request: messages[0]: the content of a cache message must be a string")
	wantAPIError(t, postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", ""), "X-Msh-Context-Cache", c.ID),
		400, "invalid_request_error", "Invalid request: use either a cache message or the X-Msh-Context-Cache header, not both")
}

func TestChatCacheErrors(t *testing.T) {
	slow := setup(t, WithCacheReadyDelay(time.Hour))
	p := createCache(t, slow, cacheBody(nil))
	wantAPIError(t, postChat(t, slow, cacheChat(p.ID, "moonshot-v1-8k", "")), 400, "invalid_request_error",
		"Invalid request: context cache "+p.ID+" is not ready (status: pending)")
	wantAPIError(t, postChat(t, slow, cacheChat("cache-aaaaaaaaaaaaaaaaaaaa", "moonshot-v1-8k", "")), 404, "resource_not_found_error",
		"Not found the context cache cache-aaaaaaaaaaaaaaaaaaaa or Permission denied")
	wantAPIError(t, postChat(t, slow, cacheChat("tag=nope", "moonshot-v1-8k", "")), 404, "resource_not_found_error",
		"Not found the context cache tag nope or Permission denied")
	for _, model := range []string{"kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code", "kimi-k3"} {
		wantAPIError(t, postChat(t, slow, cacheChat(p.ID, model, "")), 400, "invalid_request_error",
			"Invalid request: context cache is only supported for moonshot-v1 models, got "+model)
	}

	fast := setup(t, WithTimeScale(60), WithCacheReadyDelay(0))
	c := createCache(t, fast, cacheBody(map[string]any{"ttl": 30}))
	waitStatus(t, fast, c.ID, "inactive")
	wantAPIError(t, postChat(t, fast, cacheChat(c.ID, "moonshot-v1-8k", "")), 400, "invalid_request_error",
		"Invalid request: context cache "+c.ID+" has expired (status: inactive); send reset_ttl to re-enable it")
	wantAPIError(t, postChat(t, fast, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=0")), 400, "invalid_request_error",
		"Invalid request: context cache "+c.ID+" has expired (status: inactive); send reset_ttl to re-enable it")
	// reset_ttl re-enables an inactive cache as ready and serves the call.
	r := postChat(t, fast, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=3600"))
	if r.Status != 200 || r.Header.Get("Msh-Context-Cache-Id") != c.ID {
		t.Fatalf("re-enable: %d %s", r.Status, r.Body)
	}
	if g := getCache(t, fast, c.ID); g.Status != "ready" || g.ExpiredAt < c.ExpiredAt+3000 {
		t.Fatalf("after re-enable: %+v", g)
	}
}

func TestChatCacheResetTTL(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 600}))
	r := postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=3000"))
	g := getCache(t, srv, c.ID)
	if r.Status != 200 || g.ExpiredAt < c.CreatedAt+2999 || r.Header.Get("Msh-Context-Cache-Token-Exp") != strconv.FormatInt(g.ExpiredAt, 10) {
		t.Fatalf("reset_ttl: %d, expired_at %d (created %d), header %q", r.Status, g.ExpiredAt, c.CreatedAt, r.Header.Get("Msh-Context-Cache-Token-Exp"))
	}
	// Header mode too.
	body := headerModeChat()
	r = postChat(t, srv, body, "X-Msh-Context-Cache", c.ID, "X-Msh-Context-Cache-Reset-TTL", "100")
	if g = getCache(t, srv, c.ID); r.Status != 200 || g.ExpiredAt > c.CreatedAt+200 {
		t.Fatalf("header reset_ttl: %d, expired_at %d (created %d)", r.Status, g.ExpiredAt, c.CreatedAt)
	}
	wantAPIError(t, postChat(t, srv, body, "X-Msh-Context-Cache", c.ID, "X-Msh-Context-Cache-Reset-TTL", "soon"),
		400, "invalid_request_error", `Invalid request: X-Msh-Context-Cache-Reset-TTL must be an integer in [0, 3600], got "soon"`)
	wantAPIError(t, postChat(t, srv, body, "X-Msh-Context-Cache", c.ID, "X-Msh-Context-Cache-DryRun", "yes"),
		400, "invalid_request_error", `Invalid request: X-Msh-Context-Cache-DryRun must be 0 or 1, got "yes"`)
}

func TestChatCacheDryRun(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0), WithLimits(Limits{TPM: 1000000}))
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 600}))
	_, _, tpmBefore, _ := srv.Emulator.limiter.usage(srv.Key)
	chargesBefore := len(srv.Emulator.Ledger(srv.Key))
	r := postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=3600;dry_run=1"))
	out := decodeChat(t, r)
	if len(out.Choices) != 1 || content(t, out, 0) != "" || out.Choices[0].FinishReason != "stop" || out.Usage.PromptTokens != c.Tokens ||
		out.Usage.CompletionTokens != 0 || *out.Usage.CachedTokens != c.Tokens || r.Header.Get("Msh-Context-Cache-Id") != c.ID {
		t.Fatalf("dry run body: %s headers %v", r.Body, r.Header)
	}
	_, _, tpmAfter, _ := srv.Emulator.limiter.usage(srv.Key)
	if tpmAfter != tpmBefore || len(srv.Emulator.Ledger(srv.Key)) != chargesBefore {
		t.Fatalf("dry run cost: tpm %d -> %d, charges %v", tpmBefore, tpmAfter, srv.Emulator.Ledger(srv.Key))
	}
	if g := getCache(t, srv, c.ID); g.ExpiredAt != c.ExpiredAt {
		t.Fatalf("dry run changed expired_at: %d -> %d", c.ExpiredAt, g.ExpiredAt)
	}
	// A real call does cost tokens and a call fee.
	chat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", ""))
	if _, _, tpm, _ := srv.Emulator.limiter.usage(srv.Key); tpm <= tpmAfter {
		t.Fatalf("call not charged: tpm %d", tpm)
	}
}

func TestChatCacheHeaderMode(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(nil))
	// Same messages and tools, written with another key order and spacing.
	sys, _ := json.Marshal(cacheSystem["content"])
	hit := `{"model":"moonshot-v1-8k","tools":[{"function":{"parameters":{"properties":{"code":{"type":"string"}},"type":"object"},` +
		`"description":"Runs code","name":"CodeRunner"},"type":"function"}],"messages":[{"content": ` + string(sys) + `, "role":"system"},` +
		`{"role":"user","content":"How do I run code?"}]}`
	r := postChat(t, srv, hit, "X-Msh-Context-Cache", c.ID)
	checkHit(t, srv, r, decodeChat(t, r).Usage, c)
	// Dry run in header mode.
	r = postChat(t, srv, hit, "X-Msh-Context-Cache", c.ID, "X-Msh-Context-Cache-DryRun", "1")
	if u := decodeChat(t, r).Usage; u.PromptTokens != c.Tokens || u.CompletionTokens != 0 {
		t.Fatalf("header dry run: %s", r.Body)
	}

	for name, body := range map[string]map[string]any{
		"other system": {"model": "moonshot-v1-8k", "messages": msgs(map[string]any{"role": "system", "content": "Other."}, user("How do I run code?")), "tools": []any{cacheTool}},
		"no tools":     {"model": "moonshot-v1-8k", "messages": msgs(cacheSystem, user("How do I run code?"))},
		"too short":    {"model": "moonshot-v1-8k", "messages": msgs(user("How do I run code?")), "tools": []any{cacheTool}},
	} {
		r := postChat(t, srv, body, "X-Msh-Context-Cache", c.ID)
		if out := decodeChat(t, r); out.Usage.CachedTokens != nil || r.Header.Get("Msh-Context-Cache-Id") != "" || r.Header.Get("Msh-Context-Cache-Token-Saved") != "" {
			t.Fatalf("%s: miss reported as hit: %+v %v", name, out.Usage, r.Header)
		}
	}
	wantAPIError(t, postChat(t, srv, hit, "X-Msh-Context-Cache", "cache-zzzzzzzzzzzzzzzzzzzz"),
		404, "resource_not_found_error", "Not found the context cache cache-zzzzzzzzzzzzzzzzzzzz or Permission denied")
	r = postChat(t, srv, strings.Replace(hit, "moonshot-v1-8k", "kimi-k2.6", 1), "X-Msh-Context-Cache", c.ID)
	wantAPIError(t, r, 400, "invalid_request_error", "Invalid request: context cache is only supported for moonshot-v1 models, got kimi-k2.6")
}

// Caches and tags belong to one account; others see a 404.
func TestCacheAccountsIsolated(t *testing.T) {
	srv := setup(t, WithKey("sk-a"), WithKey("sk-b"), WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"tags": []string{"shared"}}))
	b := srv.withKey("sk-b")
	notFound := "Not found the context cache " + c.ID + " or Permission denied"
	wantAPIError(t, ktDo(t, b, "GET", "/v1/caching/"+c.ID, nil), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, b, "PUT", "/v1/caching/"+c.ID, map[string]any{"ttl": 5}), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, b, "DELETE", "/v1/caching/"+c.ID, nil), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, b, "POST", "/v1/caching/refs/tags", map[string]any{"tag": "mine", "cache_id": c.ID}), 404, "resource_not_found_error", notFound)
	wantAPIError(t, ktDo(t, b, "GET", "/v1/caching/refs/tags/shared", nil), 404, "resource_not_found_error",
		"Not found the context cache tag shared or Permission denied")
	wantAPIError(t, postChat(t, b, cacheChat(c.ID, "moonshot-v1-8k", "")), 404, "resource_not_found_error", notFound)
	wantAPIError(t, postChat(t, b, cacheChat("tag=shared", "moonshot-v1-8k", "")), 404, "resource_not_found_error",
		"Not found the context cache tag shared or Permission denied")
	wantAPIError(t, postChat(t, b, headerModeChat(), "X-Msh-Context-Cache", c.ID), 404, "resource_not_found_error", notFound)
	for _, path := range []string{"/v1/caching", "/v1/caching/refs/tags"} {
		if l := listOf[json.RawMessage](t, b, path); len(l) != 0 {
			t.Fatalf("B lists %s: %s", path, l)
		}
	}
	// B's delete of A's tag name deletes nothing of A's.
	ktDo(t, b, "DELETE", "/v1/caching/refs/tags/shared", nil)
	if getTag(t, srv, "shared").CacheID != c.ID {
		t.Fatal("B deleted A's tag")
	}
	// A still has everything.
	chat(t, srv, cacheChat("tag=shared", "moonshot-v1-8k", ""))
}

// A cache over 128k tokens is accepted as pending and fails
// asynchronously with status error, costing nothing; a PUT runs it
// through the same cycle to the same error.
func TestCacheTooLargeBecomesError(t *testing.T) {
	srv := setup(t, WithTimeScale(60)) // ready delay 2 s: 33 ms
	huge := map[string]any{"role": "user", "content": strings.Repeat("word ", 140000)}
	tokens := expectedCacheTokens(t, msgs(huge), nil)
	c := createCache(t, srv, cacheBody(map[string]any{"messages": msgs(huge), "tools": nil}))
	if c.Status != "pending" || c.Error != nil || c.Tokens != tokens {
		t.Fatalf("created: status %s, error %+v, tokens %d (want pending, none, %d)", c.Status, c.Error, c.Tokens, tokens)
	}
	wantMsg := fmt.Sprintf("context cache of %d tokens exceeds the max cache size 131072 tokens, please reduce the messages and tools", tokens)
	g := waitStatus(t, srv, c.ID, "error")
	if g.Error == nil || g.Error.Type != "invalid_request_error" || g.Error.Message != wantMsg {
		t.Fatalf("error: %+v", g.Error)
	}
	wantAPIError(t, postChat(t, srv, cacheChat(c.ID, "moonshot-v1-128k", "")), 400, "invalid_request_error",
		"Invalid request: context cache "+c.ID+" is not usable (status: error): "+wantMsg)
	if l := srv.Emulator.Ledger(srv.Key); len(l) != 0 {
		t.Fatalf("a failed cache was charged: %+v", l)
	}
	u := decodeOK[cacheObjectJSON](t, ktDo(t, srv, "PUT", "/v1/caching/"+c.ID, map[string]any{"ttl": 600}))
	if u.Status != "pending" || u.Error != nil {
		t.Fatalf("after PUT: %+v", u)
	}
	if g := waitStatus(t, srv, c.ID, "error"); g.Error == nil || g.Error.Message != wantMsg {
		t.Fatalf("after PUT, error: %+v", g.Error)
	}
	// It stores nothing: the 1M-token account still takes 8 × 120k tokens.
	big := map[string]any{"role": "user", "content": strings.Repeat("word ", 120000)}
	for range 8 {
		createCache(t, srv, cacheBody(map[string]any{"messages": msgs(big), "tools": nil}))
	}
}

// A dry run reports the cache's real state: reset_ttl does not revive an
// inactive cache in a dry run, in either mode.
func TestChatCacheDryRunInactive(t *testing.T) {
	srv := setup(t, WithTimeScale(60), WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 30}))
	waitStatus(t, srv, c.ID, "inactive")
	want := "Invalid request: context cache " + c.ID + " has expired (status: inactive); a dry run does not re-enable it"
	wantAPIError(t, postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=3600;dry_run=1")),
		400, "invalid_request_error", want)
	body := headerModeChat()
	wantAPIError(t, postChat(t, srv, body,
		"X-Msh-Context-Cache", c.ID, "X-Msh-Context-Cache-Reset-TTL", "3600", "X-Msh-Context-Cache-DryRun", "1"),
		400, "invalid_request_error", want)
	if g := getCache(t, srv, c.ID); g.Status != "inactive" || g.ExpiredAt != c.ExpiredAt {
		t.Fatalf("dry run changed the cache: %+v", g)
	}
}

// WithStrictCacheRevival: reset_ttl on an inactive cache sends it back to
// pending with the new expiry and the call fails as not ready.
func TestChatCacheStrictRevival(t *testing.T) {
	srv := setup(t, WithTimeScale(60), WithStrictCacheRevival()) // ready delay 2 s: 33 ms
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 30}))
	old := waitStatus(t, srv, c.ID, "inactive")
	r := postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=600"))
	wantAPIError(t, r, 400, "invalid_request_error", "Invalid request: context cache "+c.ID+" is not ready (status: pending)")
	g := getCache(t, srv, c.ID)
	if (g.Status != "pending" && g.Status != "ready") || g.ExpiredAt < old.ExpiredAt+500 {
		t.Fatalf("after revival: status %s, expired_at %d (was %d)", g.Status, g.ExpiredAt, old.ExpiredAt)
	}
	waitStatus(t, srv, c.ID, "ready")
	chat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=600"))
	// Header mode revives the same way.
	c2 := createCache(t, srv, cacheBody(map[string]any{"ttl": 30}))
	waitStatus(t, srv, c2.ID, "inactive")
	body := headerModeChat()
	wantAPIError(t, postChat(t, srv, body, "X-Msh-Context-Cache", c2.ID, "X-Msh-Context-Cache-Reset-TTL", "600"),
		400, "invalid_request_error", "Invalid request: context cache "+c2.ID+" is not ready (status: pending)")
	waitStatus(t, srv, c2.ID, "ready")
}
