package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

// completions runs cobra's hidden __complete command and returns the
// offered ids (descriptions cut off) and the directive line.
func completions(t *testing.T, args ...string) (ids []string, directive string) {
	t.Helper()
	r := cli(t, "", append([]string{"__complete"}, args...)...).mustOK(t)
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(l, ":") {
			directive = l
			continue
		}
		id, _, _ := strings.Cut(l, "\t")
		ids = append(ids, id)
	}
	return ids, directive
}

func TestModelCompletion(t *testing.T) {
	ids, dir := completions(t, "chat", "--model", "")
	for _, want := range []string{"moonshot-v1-8k", "kimi-k2.5", "kimi-k2.6", "kimi-k3"} {
		if !slices.Contains(ids, want) {
			t.Errorf("chat --model completions %v lack %s", ids, want)
		}
	}
	if slices.Contains(ids, "kimi-k2-instruct-0905") {
		t.Error("an Ace-only model is offered for provider kimi")
	}
	if dir != ":4" { // ShellCompDirectiveNoFileComp
		t.Errorf("directive %q, want :4 (no file completion)", dir)
	}

	ids, _ = completions(t, "--provider", "acedata", "tokens", "--model", "kimi-k2-t")
	if !slices.Equal(ids, []string{"kimi-k2-thinking", "kimi-k2-thinking-turbo"}) {
		t.Errorf("acedata kimi-k2-t completions = %v", ids)
	}
	if ids, _ = completions(t, "--provider", "ace", "chat", "--model", "moonshot"); len(ids) != 0 {
		t.Errorf("acedata offers moonshot models: %v", ids)
	}

	r := cli(t, "", "__complete", "chat", "--model", "kimi-k2.5").mustOK(t)
	if !strings.Contains(r.stdout, "kimi-k2.5\t256k context, image, video, thinking default-on") {
		t.Errorf("kimi-k2.5 completion lacks its description:\n%s", r.stdout)
	}
}

// TestModelsContextFromCatalogue: acedata has no models endpoint, so the
// facade lists ids only; the context column comes from the catalogue.
func TestModelsContextFromCatalogue(t *testing.T) {
	r := setup(t).acedata(t, "models").mustOK(t)
	_, rows, _ := tableRows(t, r.stdout)
	window := func(id string) string {
		if len(rows[id]) == 0 {
			return ""
		}
		return rows[id][0]
	}
	if window("kimi-k2.5") != "262144" || window("kimi-k2-thinking") != "262144" {
		t.Errorf("context column from the catalogue:\n%s", r.stdout)
	}
	if w := window("kimi-k2-instruct-0905"); w != "" && w != "-" {
		t.Errorf("kimi-k2-instruct-0905 has no known window, shown as %q", w)
	}
}

// With a key, the arguments that name an account's objects complete from
// the server: cache ids, tags, file ids. Without one, nothing is asked.
func TestObjectCompletion(t *testing.T) {
	e := setup(t)
	cache := decodeOne[kimi.Cache](t, []byte(e.run(t, "--json", "cache", "create", "--system", "Answer in French.", "--tag", "french").mustOK(t).stdout))
	file := decodeOne[[]kimi.File](t, []byte(e.run(t, "--json", "files", "upload", writeFile(t, "notes.txt", "some notes")).mustOK(t).stdout))[0]
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"cache", "get", ""}, []string{cache.ID}},
		{[]string{"cache", "update", "cache-"}, []string{cache.ID}},
		{[]string{"cache", "get", "nomatch"}, nil},
		{[]string{"cache", "get", cache.ID, ""}, nil}, // one argument only
		{[]string{"cache", "delete", cache.ID, ""}, nil},
		{[]string{"tag", "create", "new", ""}, []string{cache.ID}},
		{[]string{"tag", "create", ""}, nil}, // a new name
		{[]string{"tag", "get", "fr"}, []string{"french"}},
		{[]string{"tag", "delete", ""}, []string{"french"}},
		{[]string{"chat", "--cache", ""}, []string{"french"}},
		{[]string{"files", "get", ""}, []string{file.ID}},
		{[]string{"files", "content", ""}, []string{file.ID}},
		{[]string{"files", "delete", ""}, []string{file.ID}},
	} {
		ids, dir := completions(t, e.args(tc.args...)...)
		if !slices.Equal(ids, tc.want) || dir != ":4" {
			t.Errorf("complete %q = %v %s, want %v :4", tc.args, ids, dir, tc.want)
		}
	}
	// No key (TestMain clears the variables), or offline: nothing.
	if ids, _ := completions(t, "--base-url", e.rec.URL, "cache", "get", ""); len(ids) != 0 {
		t.Errorf("completed without a key: %v", ids)
	}
	if ids, _ := completions(t, "--offline", "cache", "get", ""); len(ids) != 0 {
		t.Errorf("completed offline: %v", ids)
	}
}
