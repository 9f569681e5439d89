package main

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
)

var manual = strings.Repeat("To reset the device, hold the power button for ten seconds. The light blinks twice. ", 40)

// createManual creates the cache of the tests: a text file, tagged
// "manual", waited for.
func (e *testEnv) createManual(t *testing.T) string {
	t.Helper()
	doc := writeFile(t, "manual.txt", manual)
	r := e.run(t, "cache", "create", "--file", doc, "--name", "manual", "--description", "device manual",
		"--meta", "project=docs", "--meta", "owner=ana", "--ttl", "1800", "--tag", "manual", "--wait").mustOK(t)
	id := field(r.stdout, "id")
	if !strings.HasPrefix(id, "cache-") {
		t.Fatalf("cache create printed no id:\n%s", r.stdout)
	}
	if r.stderr != "waiting for "+id+" to be ready…\n" {
		t.Errorf("cache create --wait: stderr %q, want the wait announced", r.stderr)
	}
	return id
}

func TestCacheCreateListGetUpdateDelete(t *testing.T) {
	e := setup(t)
	id := e.createManual(t)

	// create --wait: the cache printed is ready; the wait was announced.
	got := e.run(t, "cache", "get", id).mustOK(t)
	for name, want := range map[string]string{"status": "ready", "model": "moonshot-v1", "name": "manual",
		"description": "device manual", "metadata": "owner=ana,project=docs", "messages": "1", "tools": "0"} {
		if v := field(got.stdout, name); v != want {
			t.Errorf("cache get: %s = %q, want %q\n%s", name, v, want, got.stdout)
		}
	}
	if n, _ := strconv.Atoi(field(got.stdout, "tokens")); n <= 0 {
		t.Errorf("cache get: tokens %q", field(got.stdout, "tokens"))
	}
	js := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "get", id).mustOK(t).stdout))
	if js.ID != id || js.Status != kimi.CacheStatusReady || len(js.Messages) != 1 || js.Messages[0].Role != kimi.RoleSystem ||
		js.Messages[0].Content != manual || js.ExpiredAt-js.CreatedAt != 1800 {
		t.Errorf("cache get --json = %+v", js)
	}

	// A .json file is a messages array; --json prints the new cache.
	msgs := writeFile(t, "history.json", `[{"role":"system","content":"You are a support agent."},{"role":"user","content":"My device is stuck."},{"role":"assistant","content":"Let us reset it."}]`)
	second := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "create", "--file", msgs, "--meta", "project=support").mustOK(t).stdout))
	if second.Status != kimi.CacheStatusPending || roles(second.Messages) != "system,user,assistant" {
		t.Errorf("cache create --file .json: status %q roles %s", second.Status, roles(second.Messages))
	}
	third := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "create", "--system", "Answer in French.").mustOK(t).stdout))
	if roles(third.Messages) != "system" || third.Messages[0].Content != "Answer in French." {
		t.Errorf("cache create --system: %+v", third.Messages)
	}

	table := e.run(t, "cache", "list").mustOK(t)
	header, rows, order := tableRows(t, table.stdout)
	if header != "ID STATUS TOKENS EXPIRES NAME METADATA" {
		t.Errorf("cache list header %q", header)
	}
	if !slices.Equal(order, []string{third.ID, second.ID, id}) {
		t.Errorf("cache list rows %v, want newest first %v", order, []string{third.ID, second.ID, id})
	}
	if r := rows[id]; len(r) != 5 || r[0] != "ready" || r[3] != "manual" || r[4] != "owner=ana,project=docs" {
		t.Errorf("row of %s = %v", id, r)
	} else if _, err := time.Parse(time.RFC3339, r[2]); err != nil {
		t.Errorf("expiry column %q: %v", r[2], err)
	}
	if r := rows[third.ID]; len(r) != 5 || r[3] != "-" || r[4] != "-" {
		t.Errorf("row of an unnamed cache without metadata = %v", r)
	}

	_, filtered, _ := tableRows(t, e.run(t, "cache", "list", "--meta", "project=docs").mustOK(t).stdout)
	if len(filtered) != 1 || filtered[id] == nil {
		t.Errorf("cache list --meta project=docs: %v", filtered)
	}
	page := decodeOne[kimi.CacheList](t, []byte(e.run(t, "--json", "cache", "list", "--limit", "1", "--order", "asc").mustOK(t).stdout))
	if page.Object != "list" || len(page.Data) != 1 || page.Data[0].ID != id {
		t.Errorf("cache list --limit 1 --order asc: %+v", page)
	}
	all := decodeOne[kimi.CacheList](t, []byte(e.run(t, "--json", "cache", "list", "--all", "--limit", "1").mustOK(t).stdout))
	if len(all.Data) != 3 {
		t.Errorf("cache list --all --limit 1: %d caches, want 3", len(all.Data))
	}
	none := e.run(t, "--json", "cache", "list", "--meta", "project=nothing").mustOK(t)
	if !strings.Contains(none.stdout, `"data": []`) {
		t.Errorf("empty list: %s", none.stdout)
	}

	up := e.run(t, "cache", "update", id, "--ttl", "600", "--meta", "project=new").mustOK(t)
	if field(up.stdout, "status") != "pending" || field(up.stdout, "metadata") != "project=new" {
		t.Errorf("cache update:\n%s", up.stdout)
	}
	upJS := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "update", id, "--meta", "project=json").mustOK(t).stdout))
	if upJS.ID != id || upJS.Metadata["project"] != "json" || len(upJS.Messages) != 1 {
		t.Errorf("cache update --json = %+v", upJS)
	}

	del := e.run(t, "cache", "delete", second.ID, third.ID).mustOK(t)
	if del.stdout != "deleted "+second.ID+"\ndeleted "+third.ID+"\n" {
		t.Errorf("cache delete printed %q", del.stdout)
	}
	e.run(t, "cache", "get", second.ID).wantError(t, exitBadRequest, "onesdk: not found (404", "'onesdk cache list' lists the caches")
	// Deleting stops at the first failure; what was deleted is listed.
	partial := e.run(t, "--json", "cache", "delete", id, second.ID)
	partial.wantExit(t, exitBadRequest)
	if d := decodeOne[[]map[string]any](t, []byte(partial.stdout)); len(d) != 1 || d[0]["id"] != id || d[0]["deleted"] != true {
		t.Errorf("cache delete --json = %v", d)
	}
	// The cache deleted before the failure is gone.
	e.run(t, "cache", "get", id).wantExit(t, exitBadRequest)
}

func TestTagCommands(t *testing.T) {
	e := setup(t)
	id := e.createManual(t) // also tagged "manual"
	other := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "create", "--system", "Another context.").mustOK(t).stdout))

	created := e.run(t, "tag", "create", "other.v2", other.ID).mustOK(t)
	if field(created.stdout, "tag") != "other.v2" || field(created.stdout, "cache") != other.ID {
		t.Errorf("tag create:\n%s", created.stdout)
	}
	if c := decodeOne[kimi.Tag](t, []byte(e.run(t, "--json", "tag", "create", "other.v3", other.ID).mustOK(t).stdout)); c.Tag != "other.v3" || c.CacheID != other.ID {
		t.Errorf("tag create --json = %+v", c)
	}
	e.run(t, "tag", "delete", "other.v3").mustOK(t)
	header, rows, order := tableRows(t, e.run(t, "tag", "list").mustOK(t).stdout)
	if header != "TAG CACHE CREATED" || !slices.Equal(order, []string{"other.v2", "manual"}) {
		t.Errorf("tag list: header %q rows %v", header, order)
	}
	if r := rows["manual"]; len(r) != 2 || r[0] != id {
		t.Errorf("tag list row manual = %v", r)
	}
	asc := decodeOne[kimi.TagList](t, []byte(e.run(t, "--json", "tag", "list", "--order", "asc", "--limit", "1").mustOK(t).stdout))
	if len(asc.Data) != 1 || asc.Data[0].Tag != "manual" || asc.Data[0].CacheID != id {
		t.Errorf("tag list --json --order asc --limit 1 = %+v", asc)
	}
	all := decodeOne[kimi.TagList](t, []byte(e.run(t, "--json", "tag", "list", "--all", "--limit", "1").mustOK(t).stdout))
	if len(all.Data) != 2 {
		t.Errorf("tag list --all: %+v", all)
	}

	if g := e.run(t, "tag", "get", "manual").mustOK(t); field(g.stdout, "cache") != id {
		t.Errorf("tag get:\n%s", g.stdout)
	}
	if g := decodeOne[kimi.Tag](t, []byte(e.run(t, "--json", "tag", "get", "other.v2").mustOK(t).stdout)); g.CacheID != other.ID {
		t.Errorf("tag get --json = %+v", g)
	}
	content := e.run(t, "tag", "content", "manual").mustOK(t)
	if field(content.stdout, "id") != id || field(content.stdout, "name") != "manual" {
		t.Errorf("tag content:\n%s", content.stdout)
	}
	if c := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "tag", "content", "manual").mustOK(t).stdout)); c.ID != id || len(c.Messages) != 1 {
		t.Errorf("tag content --json = %+v", c)
	}

	del := e.run(t, "tag", "delete", "manual", "other.v2").mustOK(t)
	if del.stdout != "deleted manual\ndeleted other.v2\n" {
		t.Errorf("tag delete printed %q", del.stdout)
	}
	// Kimi deletes a tag that does not exist without complaint.
	if d := decodeOne[[]map[string]any](t, []byte(e.run(t, "--json", "tag", "delete", "ghost").mustOK(t).stdout)); len(d) != 1 || d[0]["id"] != "ghost" || d[0]["deleted"] != true {
		t.Errorf("tag delete --json = %v", d)
	}
	for _, args := range [][]string{{"tag", "get", "manual"}, {"tag", "content", "other.v2"}} {
		e.run(t, args...).wantError(t, exitBadRequest, "onesdk: not found (404", "'onesdk tag list' lists the tags")
	}
	// The caches stay.
	e.run(t, "cache", "get", id).mustOK(t)
	// A bad tag name is refused before anything is sent.
	e.run(t, "tag", "create", "9lives", id).wantUsage(t)
}

var savedNote = regexp.MustCompile(`^\[cache manual: (\d+) prompt tokens saved\]\n$`)

func TestChatWithCache(t *testing.T) {
	e := setup(t)
	id := e.createManual(t)

	streamed := e.run(t, "chat", "--cache", "manual", "How do I reset the device?").mustOK(t)
	if strings.TrimSpace(streamed.stdout) == "" {
		t.Errorf("no answer")
	}
	m := savedNote.FindStringSubmatch(streamed.stderr)
	if m == nil {
		t.Fatalf("stderr = %q, want the tokens saved", streamed.stderr)
	}
	saved, _ := strconv.Atoi(m[1])
	cache := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "get", id).mustOK(t).stdout))
	if saved <= 0 || saved > cache.Tokens+16 {
		t.Errorf("%d tokens saved for a cache of %d tokens", saved, cache.Tokens)
	}

	plain := e.run(t, "chat", "--no-stream", "--cache", "manual", "--model", "moonshot-v1-32k", "How do I reset the device?").mustOK(t)
	if m := savedNote.FindStringSubmatch(plain.stderr); m == nil || m[1] != strconv.Itoa(saved) {
		t.Errorf("--no-stream: stderr = %q, want %d tokens saved", plain.stderr, saved)
	}
	js := e.run(t, "--json", "chat", "--no-stream", "--cache", "manual", "How do I reset the device?").mustOK(t)
	if js.stderr != "" {
		t.Errorf("--json: stderr = %q, want nothing", js.stderr)
	}
	if c := decodeOne[kimi.ChatCompletion](t, []byte(js.stdout)); c.Usage == nil || c.Usage.CachedTokens != saved {
		t.Errorf("--json usage = %+v, want cached_tokens %d", c.Usage, saved)
	}

	reqs := e.rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d chat requests, want 3", len(reqs))
	}
	for i, want := range []string{"moonshot-v1-128k", "moonshot-v1-32k", "moonshot-v1-128k"} {
		r := reqs[i]
		if r.Model != want || roles(r.Messages) != "cache,user" || r.Messages[0].Content != "tag=manual;reset_ttl=3600" || r.Tools != nil {
			t.Errorf("request %d: model %s roles %s first %q tools %v", i, r.Model, roles(r.Messages), r.Messages[0].Content, r.Tools)
		}
	}

	// A session keeps the cache message at the head of every turn.
	session := e.input(t, "How do I reset it?\nHow long do I hold the button?\n",
		"chat", "-i", "--cache", "manual", "--system", "Be brief.", "--max-turns", "1").mustOK(t)
	if n := strings.Count(session.stderr, "prompt tokens saved]"); n != 2 {
		t.Errorf("session: %d notes, want one per turn; stderr %q", n, session.stderr)
	}
	reqs = e.rec.requests()[3:]
	if len(reqs) != 2 || roles(reqs[0].Messages) != "cache,system,user" || roles(reqs[1].Messages) != "cache,system,user" {
		t.Errorf("session requests: %d, roles %v", len(reqs), pluck(reqs, func(r kimi.ChatRequest) string { return roles(r.Messages) }))
	}
}

func TestChatWithCacheErrors(t *testing.T) {
	e := setup(t)
	e.createManual(t)
	e.run(t, "chat", "--cache", "no_such_tag", "hi").wantError(t, exitBadRequest, "onesdk: not found (404", "no_such_tag", "'onesdk tag list'")
	// The models that can use a cache are named from the catalogue.
	e.run(t, "chat", "--cache", "manual", "--model", "kimi-k2.6", "hi").wantUsage(t,
		`not "kimi-k2.6"`, "moonshot-v1-8k, moonshot-v1-32k, moonshot-v1-128k, moonshot-v1-auto, moonshot-v1-8k-vision-preview")
	e.run(t, "chat", "--cache", " ", "hi").wantUsage(t)
	if n := len(e.rec.requests()); n != 0 {
		t.Errorf("%d chat requests sent, want none", n)
	}
	// A model the catalogue does not know is the platform's to judge.
	e.run(t, "chat", "--cache", "manual", "--model", "moonshot-v2-preview", "hi").wantError(t, exitBadRequest, "onesdk: not found (404")
	if n := len(e.rec.requests()); n != 1 {
		t.Errorf("%d chat requests sent for an unknown model, want 1", n)
	}
}

func TestCacheUsageErrors(t *testing.T) {
	bad := writeFile(t, "bad.json", `{"role":"system"}`)
	empty := writeFile(t, "empty.txt", " \n")
	for _, args := range [][]string{
		{"cache", "nosuch"},
		{"cache", "create"},
		{"cache", "create", "--file", empty, "--system", "x"},
		{"cache", "create", "--system", ""},
		{"cache", "create", "--system", "x", "--ttl", "0"},
		{"cache", "create", "--system", "x", "--meta", "novalue"},
		{"cache", "create", "--system", "x", "--meta", "=v"},
		{"cache", "create", "--file", filepath.Join(t.TempDir(), "missing.txt")},
		{"cache", "create", "--file", bad},
		{"cache", "create", "--file", empty},
		{"cache", "create", "--system", "x", "--ttl", "7200"}, // refused by the client: at most 3600
		{"cache", "list", "--order", "newest"},
		{"cache", "list", "--limit", "0"},
		{"cache", "get"},
		{"cache", "get", "a", "b"},
		{"cache", "update", "cache-x"},
		{"cache", "update", "cache-x", "--ttl", "-5"},
		{"cache", "delete"},
		{"tag", "nosuch"},
		{"tag", "create", "only-a-tag"},
		{"tag", "get"},
		{"tag", "content", "a", "b"},
		{"tag", "list", "--order", "up"},
		{"tag", "list", "--limit", "0"},
		{"tag", "delete"},
	} {
		cli(t, "", append([]string{"--offline"}, args...)...).wantUsage(t)
	}
}

// Ace Data Cloud has no caches: exit code 2 with a message that says so
// and what to do, and nothing sent.
func TestCacheUnsupportedProvider(t *testing.T) {
	e := setup(t)
	for _, args := range [][]string{
		{"cache", "list"},
		{"cache", "create", "--system", "x"},
		{"tag", "get", "manual"},
		{"chat", "--cache", "manual", "hi"},
	} {
		e.acedata(t, args...).wantError(t, exitUsage, "onesdk: not supported: provider acedata has no context caching", "use --provider kimi")
	}
}

// --offline works, with a cache that lives as long as the command.
func TestCacheOffline(t *testing.T) {
	c := decodeOne[kimi.Cache](t, []byte(cli(t, "", "--offline", "--json", "cache", "create", "--system", "Remember this.").mustOK(t).stdout))
	if !strings.HasPrefix(c.ID, "cache-") || c.Status != kimi.CacheStatusPending {
		t.Errorf("offline cache create = %+v", c)
	}
	list := decodeOne[kimi.CacheList](t, []byte(cli(t, "", "--offline", "--json", "cache", "list").mustOK(t).stdout))
	if len(list.Data) != 0 {
		t.Errorf("a fresh offline emulator lists %d caches", len(list.Data))
	}
	r := cli(t, "", "--offline", "chat", "--cache", "manual", "How do I reset it?")
	if r.code != 2 || !strings.Contains(r.stderr, "onesdk serve") || !strings.Contains(r.stderr, "--tag manual") {
		t.Errorf("offline chat --cache: exit %d, stderr %q; want a usage error explaining onesdk serve", r.code, r.stderr)
	}
	help := cli(t, "", "cache", "--help").mustOK(t)
	if !strings.Contains(help.stdout, "onesdk serve") || !strings.Contains(help.stdout, "MOONSHOT_BASE_URL") {
		t.Errorf("cache --help does not say how to keep caches offline:\n%s", help.stdout)
	}
}
