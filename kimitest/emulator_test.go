package kimitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestAuth(t *testing.T) {
	srv := setup(t, WithKey("sk-one"), WithKey("sk-two"))
	if srv.Key != "sk-one" {
		t.Fatalf("Key = %q, want the first account's", srv.Key)
	}
	cases := []struct {
		name, auth string
		status     int
		typ, msg   string
	}{
		{"missing", "", 401, "invalid_authentication_error", "Invalid Authentication"},
		{"no scheme", "sk-one", 401, "invalid_authentication_error", "Invalid Authentication"},
		{"wrong scheme", "Basic sk-one", 401, "invalid_authentication_error", "Invalid Authentication"},
		{"empty bearer", "Bearer ", 401, "invalid_authentication_error", "Invalid Authentication"},
		{"unknown key", "Bearer sk-nope", 401, "incorrect_api_key_error", "Incorrect API key provided"},
		{"second account", "Bearer sk-two", 200, "", ""},
		{"lower-case scheme", "bearer sk-one", 200, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ktDo(t, srv, "GET", "/v1/models", nil, "Authorization", c.auth)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if c.status == 200 {
				return
			}
			typ, msg := apiErr(t, r)
			if typ != c.typ || msg != c.msg {
				t.Fatalf("got %s %q, want %s %q", typ, msg, c.typ, c.msg)
			}
		})
	}
}

func TestDefaultAccount(t *testing.T) {
	srv := setup(t)
	if srv.Key != DefaultKey || DefaultKey != "sk-kimitest" {
		t.Fatalf("Key = %q", srv.Key)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || !strings.HasSuffix(srv.URL, "/v1") {
		t.Fatalf("URL = %q", srv.URL)
	}
	chat(t, srv, map[string]any{"model": "kimi-k2-turbo-preview", "messages": msgs(user("hi"))})
}

func TestGatewayNotFound(t *testing.T) {
	srv := setup(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/chat/completions"},  // known path, wrong method
		{"DELETE", "/v1/models"},         // known path, wrong method
		{"POST", "/v1/nothing"},          // unknown path
		{"GET", "/"},                     // outside /v1
		{"GET", "/v1/models/x/extra"},    // too deep
		{"POST", "/v2/chat/completions"}, // other version
	} {
		r := ktDo(t, srv, c.method, c.path, nil, "User-Agent", "kt-agent/1.0")
		if r.Status != 404 {
			t.Fatalf("%s %s: status %d", c.method, c.path, r.Status)
		}
		if !uuidV1RE.MatchString(r.Header.Get("Msh-Request-Id")) || !uidRE.MatchString(r.Header.Get("Msh-Uid")) {
			t.Fatalf("%s %s: headers %v", c.method, c.path, r.Header)
		}
		var g map[string]any
		if err := json.Unmarshal(r.Body, &g); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"code": 5.0, "error": "url.not_found", "message": "没找到对象", "method": c.method,
			"scode": "0x5", "status": false, "ua": "kt-agent/1.0", "url": c.path}
		if len(g) != len(want) {
			t.Fatalf("%s %s: body %s", c.method, c.path, r.Body)
		}
		for k, v := range want {
			if g[k] != v {
				t.Fatalf("%s %s: %s = %v, want %v", c.method, c.path, k, g[k], v)
			}
		}
	}
}

var (
	uuidV1RE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uidRE    = regexp.MustCompile(`^[0-9a-z]{20}$`)
	timingRE = regexp.MustCompile(`^inner; dur=\d+$`)
)

func TestCommonHeaders(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-a", UserID: "cn0psmmcp7fclnphkcpg", Tier: "enterprise-tier-5"}), WithKey("sk-b"))
	seen := map[string]bool{}
	for _, c := range []struct {
		method, path string
		body         any
		key          string
	}{
		{"GET", "/v1/models", nil, "sk-a"},
		{"GET", "/v1/models/kimi-k2.5", nil, "sk-a"},
		{"GET", "/v1/models/nope", nil, "sk-a"},
		{"POST", "/v1/chat/completions", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}, "sk-a"},
		{"POST", "/v1/chat/completions", `{bad json`, "sk-a"},
		{"GET", "/v1/models", nil, "sk-b"},
	} {
		r := ktDo(t, srv.withKey(c.key), c.method, c.path, c.body)
		id := r.Header.Get("Msh-Request-Id")
		if !uuidV1RE.MatchString(id) || seen[id] {
			t.Fatalf("%s: Msh-Request-Id %q (duplicate: %v)", c.path, id, seen[id])
		}
		seen[id] = true
		if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Fatalf("%s: Content-Type %q", c.path, got)
		}
		if got := r.Header.Get("Server-Timing"); !timingRE.MatchString(got) {
			t.Fatalf("%s: Server-Timing %q", c.path, got)
		}
		uid, gid := r.Header.Get("Msh-Uid"), r.Header.Get("Msh-Gid")
		if c.key == "sk-a" && (uid != "cn0psmmcp7fclnphkcpg" || gid != "enterprise-tier-5") {
			t.Fatalf("%s: Msh-Uid %q Msh-Gid %q", c.path, uid, gid)
		}
		if c.key == "sk-b" && (!uidRE.MatchString(uid) || uid == "cn0psmmcp7fclnphkcpg" || gid == "") {
			t.Fatalf("derived Msh-Uid %q Msh-Gid %q", uid, gid)
		}
	}
}

func TestModelsList(t *testing.T) {
	srv := setup(t)
	data := listOf[map[string]any](t, srv, "/v1/models")
	want := []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto",
		"moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview",
		"kimi-latest", "kimi-thinking-preview", "kimi-k2-0711-preview", "kimi-k2-0905-preview",
		"kimi-k2-turbo-preview", "kimi-k2-thinking", "kimi-k2-thinking-turbo", "kimi-k2.5"}
	if len(data) != len(want) {
		t.Fatalf("%d models", len(data))
	}
	byID := map[string]map[string]any{}
	for i, m := range data {
		if m["id"] != want[i] {
			t.Fatalf("model %d = %v, want %s", i, m["id"], want[i])
		}
		for _, k := range []string{"object", "created", "owned_by", "root", "parent", "permission",
			"context_length", "supports_image_in", "supports_video_in", "supports_reasoning"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s lacks %s", want[i], k)
			}
		}
		if m["owned_by"] != "moonshot" || m["object"] != "model" {
			t.Fatalf("%s: %v", want[i], m)
		}
		if p, _ := m["permission"].([]any); len(p) != 1 {
			t.Fatalf("%s permission %v", want[i], m["permission"])
		}
		byID[want[i]] = m
	}
	checks := []struct {
		id        string
		ctx       float64
		img, vid  bool
		reasoning bool
	}{
		{"moonshot-v1-8k", 8192, false, false, false},
		{"moonshot-v1-32k-vision-preview", 32768, true, false, false},
		{"kimi-k2-0711-preview", 131072, false, false, false},
		{"kimi-k2-turbo-preview", 262144, false, false, false},
		{"kimi-k2-thinking", 262144, false, false, true},
		{"kimi-thinking-preview", 131072, true, false, true},
		{"kimi-k2.5", 262144, true, true, true},
	}
	for _, c := range checks {
		m := byID[c.id]
		if m["context_length"] != c.ctx || m["supports_image_in"] != c.img || m["supports_video_in"] != c.vid || m["supports_reasoning"] != c.reasoning {
			t.Fatalf("%s: %v", c.id, m)
		}
	}
}

func TestModelGet(t *testing.T) {
	srv := setup(t)
	m := decodeOK[map[string]any](t, ktDo(t, srv, "GET", "/v1/models/kimi-k2-thinking", nil))
	if m["id"] != "kimi-k2-thinking" || m["context_length"] != 262144.0 || m["supports_reasoning"] != true {
		t.Fatalf("%v", m)
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/models/gpt-4o", nil), 404, "resource_not_found_error", "Not found the model gpt-4o or Permission denied")
}

func TestWithModelsReplacesCatalogue(t *testing.T) {
	srv := setup(t, WithModels(ModelSpec{ID: "tiny", Family: FamilyK2, ContextLength: 100}))
	r := ktDo(t, srv, "GET", "/v1/models", nil)
	if !strings.Contains(string(r.Body), `"id":"tiny"`) || strings.Contains(string(r.Body), "kimi-k2.5") {
		t.Fatalf("%s", r.Body)
	}
	r = postChat(t, srv, map[string]any{"model": "tiny", "messages": msgs(user("hello")), "max_tokens": 95})
	if _, msg := apiErr(t, r); msg != "Your request exceeded model token limit : 100" {
		t.Fatalf("%q", msg)
	}
}

func TestStartAndClose(t *testing.T) {
	s, err := Start("127.0.0.1:0", WithKey("sk-test"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != "sk-test" || !strings.HasSuffix(s.URL, "/v1") {
		t.Fatalf("%+v", s)
	}
	wantStatus(t, ktDo(t, s, "GET", "/v1/models/kimi-latest", nil), 200)
	s.Close()
	s.Close() // idempotent
	if _, err := http.Get(s.URL + "/models"); err == nil {
		t.Fatal("server still answers after Close")
	}
	if _, err := Start("256.0.0.1:1"); err == nil {
		t.Fatal("Start on a bad address succeeded")
	}
}

func TestWithFaultsIsWired(t *testing.T) {
	srv := setup(t, WithFaults(Fault{Route: "GET /v1/models", Status: 503, Times: 1}))
	wantStatus(t, ktDo(t, srv, "GET", "/v1/models", nil), 503)
	wantStatus(t, ktDo(t, srv, "GET", "/v1/models", nil), 200)
}

// Many clients at once, mixing routes, streams and accounts: run with -race.
func TestConcurrentUse(t *testing.T) {
	srv := setup(t, WithKey("sk-1"), WithKey("sk-2"))
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 16 {
		body := map[string]any{"model": "kimi-k2.5", "messages": msgs(user(strings.Repeat("shared prefix ", 100))), "stream": i%3 == 0}
		raw, _ := json.Marshal(body)
		// Built here: a helper that can fail the test must not run in the
		// goroutines below.
		req := newRequest(t, srv.withKey([]string{"sk-1", "sk-2"}[i%2]), "POST", "/v1/chat/completions", bytes.NewReader(raw))
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := srv.Client().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				errs <- string(b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
