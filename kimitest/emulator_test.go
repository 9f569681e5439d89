package kimitest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
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
	chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))})
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
	orgRE    = regexp.MustCompile(`^org-[0-9a-f]{32}$`)
	projRE   = regexp.MustCompile(`^proj-[0-9a-f]{32}$`)
	traceRE  = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

func TestCommonHeaders(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-a", UserID: "cn0psmmcp7fclnphkcpg", Tier: "enterprise-tier-5"}), WithKey("sk-b"))
	seen := map[string]bool{}
	orgs := map[string]string{}
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
		// The 2026 headers: the organization and project, stable per
		// account, and a fresh trace id.
		org, proj, trace := r.Header.Get("Msh-Org-Id"), r.Header.Get("Msh-Project-Id"), r.Header.Get("X-Msh-Trace-Id")
		if !orgRE.MatchString(org) || !projRE.MatchString(proj) || !traceRE.MatchString(trace) || seen[trace] {
			t.Fatalf("%s: Msh-Org-Id %q Msh-Project-Id %q X-Msh-Trace-Id %q", c.path, org, proj, trace)
		}
		seen[trace] = true
		if prev, ok := orgs[c.key]; ok && prev != org+" "+proj {
			t.Fatalf("%s: org and project %s, earlier %s", c.key, org+" "+proj, prev)
		}
		orgs[c.key] = org + " " + proj
	}
	if orgs["sk-a"] == orgs["sk-b"] {
		t.Fatalf("two accounts share %s", orgs["sk-a"])
	}
	if a := srv.Emulator.accounts["sk-a"]; orgs["sk-a"] != a.OrgID+" "+a.ProjectID {
		t.Fatalf("headers %s, account %s %s", orgs["sk-a"], a.OrgID, a.ProjectID)
	}
	// Without a known key there is no organization to name.
	r := ktDo(t, srv.withKey("sk-nope"), "GET", "/v1/models", nil)
	if r.Header.Get("Msh-Org-Id") != "" || r.Header.Get("Msh-Project-Id") != "" || !traceRE.MatchString(r.Header.Get("X-Msh-Trace-Id")) {
		t.Fatalf("unknown key: %v", r.Header)
	}
}

// A client that accepts gzip gets JSON bodies compressed; event streams
// are not, so that each chunk arrives when it is flushed.
func TestGzipResponses(t *testing.T) {
	srv := setup(t)
	get := func(t *testing.T, method, path string, body any, enc string) ktResp {
		r := ktDo(t, srv, method, path, body, "Accept-Encoding", enc)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			if r.Body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	hi := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}
	for _, c := range []struct {
		name, method, path string
		body               any
		enc                string
		gzipped            bool
	}{
		{"chat", "POST", "/v1/chat/completions", hi, "gzip", true},
		{"list", "GET", "/v1/models", nil, "br, gzip;q=0.5", true},
		{"error", "POST", "/v1/chat/completions", `{bad`, "*", true},
		{"gateway 404", "GET", "/v1/nothing", nil, "gzip", true},
		{"refused gzip", "GET", "/v1/models", nil, "gzip;q=0, identity", false},
		{"identity", "GET", "/v1/models", nil, "identity", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := get(t, c.method, c.path, c.body, c.enc)
			if gz := r.Header.Get("Content-Encoding") == "gzip"; gz != c.gzipped || !json.Valid(r.Body) {
				t.Fatalf("Content-Encoding %q (want gzip: %v), body %q", r.Header.Get("Content-Encoding"), c.gzipped, r.Body)
			}
			if c.gzipped && r.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("Vary %q", r.Header.Get("Vary"))
			}
		})
	}
	// A fault's malformed body is still valid gzip: compression is the
	// gateway's, in front of the faulty server.
	r := ktDo(t, srv, "GET", "/v1/models", nil, "Accept-Encoding", "gzip", FaultHeader, "malformed")
	zr, err := gzip.NewReader(bytes.NewReader(r.Body))
	if err != nil || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("malformed fault: %v, Content-Encoding %q", err, r.Header.Get("Content-Encoding"))
	}
	if b, err := io.ReadAll(zr); err != nil || json.Valid(b) || len(b) == 0 {
		t.Fatalf("malformed fault: %v, body %q", err, b)
	}
	stream := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi")), "stream": true}
	r = get(t, "POST", "/v1/chat/completions", stream, "gzip")
	if r.Header.Get("Content-Encoding") != "" || !strings.HasSuffix(string(r.Body), "data: [DONE]\n\n") {
		t.Fatalf("stream: Content-Encoding %q, %q", r.Header.Get("Content-Encoding"), r.Body)
	}
}

func TestModelsList(t *testing.T) {
	srv := setup(t)
	data := listOf[map[string]any](t, srv, "/v1/models")
	want := []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto",
		"moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview",
		"kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"}
	if len(data) != len(want) {
		t.Fatalf("%d models: %v", len(data), data)
	}
	byID := map[string]map[string]any{}
	for i, m := range data {
		if m["id"] != want[i] {
			t.Fatalf("model %d = %v, want %s", i, m["id"], want[i])
		}
		for _, k := range []string{"object", "created", "owned_by", "root", "parent", "permission",
			"context_length", "supports_image_in", "supports_video_in", "supports_reasoning",
			"supports_tool_use", "supports_thinking_type", "display_name"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("%s lacks %s", want[i], k)
			}
		}
		if m["owned_by"] != "moonshot" || m["object"] != "model" || m["display_name"] != want[i] {
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
		thinking  string
		efforts   string // think_efforts, "" when absent
	}{
		{"moonshot-v1-8k", 8192, false, false, false, "no", ""},
		{"moonshot-v1-32k-vision-preview", 32768, true, false, false, "no", ""},
		{"kimi-k2.5", 262144, true, true, true, "both", ""},
		{"kimi-k2.6", 262144, true, true, true, "both", ""},
		{"kimi-k2.7-code", 262144, true, true, true, "only", ""},
		{"kimi-k2.7-code-highspeed", 262144, true, true, true, "only", ""},
		{"kimi-k3", 1048576, true, true, true, "only", `{"default_effort":"high","support":true,"valid_efforts":["low","high","max"]}`},
	}
	for _, c := range checks {
		m := byID[c.id]
		if m["context_length"] != c.ctx || m["supports_image_in"] != c.img || m["supports_video_in"] != c.vid ||
			m["supports_reasoning"] != c.reasoning || m["supports_thinking_type"] != c.thinking || m["supports_tool_use"] != true {
			t.Fatalf("%s: %v", c.id, m)
		}
		got := ""
		if e, ok := m["think_efforts"]; ok {
			b, _ := json.Marshal(e)
			got = string(b)
		}
		if got != c.efforts {
			t.Fatalf("%s: think_efforts %s, want %s", c.id, got, c.efforts)
		}
	}
}

// Retired models are unknown unless WithRetiredModels serves them again,
// after the catalogue.
func TestRetiredModels(t *testing.T) {
	srv := setup(t)
	for _, id := range []string{"kimi-k2-turbo-preview", "kimi-k2-0905-preview", "kimi-k2-0711-preview",
		"kimi-k2-thinking", "kimi-k2-thinking-turbo", "kimi-latest", "kimi-thinking-preview"} {
		want := "Not found the model " + id + " or Permission denied"
		wantAPIError(t, postChat(t, srv, map[string]any{"model": id, "messages": msgs(user("hi"))}), 404, "resource_not_found_error", want)
		wantAPIError(t, ktDo(t, srv, "GET", "/v1/models/"+id, nil), 404, "resource_not_found_error", want)
		wantAPIError(t, ktDo(t, srv, "POST", "/v1/tokenizers/estimate-token-count", map[string]any{"model": id, "messages": msgs(user("hi"))}),
			404, "resource_not_found_error", want)
	}

	old := setup(t, WithRetiredModels())
	ids := listKeys(t, old, "/v1/models", func(m modelObject) string { return m.ID })
	var retired []string
	for _, m := range RetiredModels() {
		retired = append(retired, m.ID)
	}
	if len(retired) != 7 || !slices.Equal(ids[len(ids)-len(retired):], retired) || len(ids) != 12+len(retired) {
		t.Fatalf("models with WithRetiredModels: %v", ids)
	}
	c := chat(t, old, map[string]any{"model": "kimi-k2-thinking", "messages": msgs(user("hi"))})
	if c.Choices[0].Message.ReasoningContent == nil || *c.Choices[0].Message.ReasoningContent == "" {
		t.Fatalf("kimi-k2-thinking does not think: %+v", c.Choices[0].Message)
	}
	chat(t, old, map[string]any{"model": "kimi-latest", "messages": msgs(user("hi")), "temperature": 0.3})
	m := decodeOK[map[string]any](t, ktDo(t, old, "GET", "/v1/models/kimi-k2-thinking", nil))
	if m["context_length"] != 262144.0 || m["supports_thinking_type"] != "only" {
		t.Fatalf("%v", m)
	}
}

func TestModelGet(t *testing.T) {
	srv := setup(t)
	m := decodeOK[map[string]any](t, ktDo(t, srv, "GET", "/v1/models/kimi-k2.6", nil))
	if m["id"] != "kimi-k2.6" || m["context_length"] != 262144.0 || m["supports_reasoning"] != true || m["supports_thinking_type"] != "both" {
		t.Fatalf("%v", m)
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/models/gpt-4o", nil), 404, "resource_not_found_error", "Not found the model gpt-4o or Permission denied")
}

// A model's default effort and display name can be set; a default effort
// its family does not take is a configuration mistake.
func TestModelSpecEffortAndDisplayName(t *testing.T) {
	var models []ModelSpec
	for _, m := range DefaultModels() {
		if m.ID == "kimi-k3" {
			m.DefaultEffort, m.DisplayName = "max", "Kimi K3"
		}
		models = append(models, m)
	}
	srv := setup(t, WithModels(models...))
	m := decodeOK[modelObject](t, ktDo(t, srv, "GET", "/v1/models/kimi-k3", nil))
	if m.ThinkEfforts == nil || m.ThinkEfforts.DefaultEffort != "max" || m.DisplayName != "Kimi K3" {
		t.Fatalf("%+v", m)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a default effort kimi-k2.6 does not take")
		}
	}()
	New(WithModels(ModelSpec{ID: "x", Family: FamilyK26, ContextLength: 100, DefaultEffort: "high"}))
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
	wantStatus(t, ktDo(t, s, "GET", "/v1/models/kimi-k2.6", nil), 200)
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
