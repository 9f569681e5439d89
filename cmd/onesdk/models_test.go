package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

func TestModels(t *testing.T) {
	e := setup(t)
	header, rows, order := tableRows(t, e.run(t, "models").mustOK(t).stdout)
	if header != "ID CONTEXT CAPABILITIES" {
		t.Errorf("header = %q", header)
	}
	if !slices.IsSorted(order) {
		t.Errorf("models not sorted by id: %v", order)
	}
	for id, r := range rows {
		if len(r) != 2 {
			t.Errorf("row of %s has %d columns, want 3", id, len(r)+1)
		}
	}
	if r := rows["kimi-k2.6"]; len(r) != 2 || r[0] != "262144" {
		t.Errorf("kimi-k2.6 row = %v", r)
	}
	if r := rows["kimi-k2.5"]; len(r) != 2 || !strings.Contains(r[1], "image") || !strings.Contains(r[1], "video") {
		t.Errorf("kimi-k2.5 row = %v, want image and video", r)
	}

	js := e.run(t, "--json", "models").mustOK(t)
	list := decodeOne[kimi.ModelList](t, []byte(js.stdout))
	if list.Object != "list" || len(list.Data) != len(rows) {
		t.Errorf("--json: object %q with %d models, table has %d", list.Object, len(list.Data), len(rows))
	}

	one := e.run(t, "models", "get", "kimi-k2.7-code").mustOK(t)
	if field(one.stdout, "id") != "kimi-k2.7-code" || field(one.stdout, "context length") != "262144" || !strings.Contains(field(one.stdout, "capabilities"), "reasoning") {
		t.Errorf("models get:\n%s", one.stdout)
	}
	oneJS := e.run(t, "--json", "models", "get", "kimi-k2.7-code").mustOK(t)
	if m := decodeOne[kimi.Model](t, []byte(oneJS.stdout)); m.ID != "kimi-k2.7-code" || m.ContextLength != 262144 {
		t.Errorf("models get --json = %+v", m)
	}
}

func TestVersionHelpCompletion(t *testing.T) {
	v := cli(t, "", "version").mustOK(t)
	if !strings.HasPrefix(v.stdout, "onesdk ") || !strings.Contains(v.stdout, "go1.") {
		t.Errorf("version = %q", v.stdout)
	}
	js := cli(t, "", "--json", "version").mustOK(t)
	if m := decodeOne[map[string]string](t, []byte(js.stdout)); m["version"] == "" || m["go"] == "" {
		t.Errorf("version --json = %v", m)
	}
	help := cli(t, "", "--help").mustOK(t)
	for _, want := range []string{"Exit codes:", "130", "MOONSHOT_API_KEY", "chat", "serve"} {
		if !strings.Contains(help.stdout, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	comp := cli(t, "", "completion", "bash").mustOK(t)
	if !strings.Contains(comp.stdout, "__start_onesdk") {
		t.Errorf("bash completion script not printed")
	}
}

// A group of commands run alone prints its help; an unknown subcommand is
// a usage error.
func TestGroupsPrintHelp(t *testing.T) {
	for _, group := range []string{"cache", "tag", "files"} {
		if r := cli(t, "", group).mustOK(t); !strings.Contains(r.stdout, "Available Commands") || r.stderr != "" {
			t.Errorf("%s: stdout %q, stderr %q; want the help", group, r.stdout, r.stderr)
		}
		cli(t, "", group, "nosuch").wantUsage(t)
	}
}

// The list commands that page say in their help what they list.
func TestPagingFlagsHelp(t *testing.T) {
	for noun, args := range map[string][]string{"cache": {"cache", "list", "--help"}, "tag": {"tag", "list", "--help"}} {
		help := cli(t, "", args...).mustOK(t).stdout
		for _, want := range []string{noun + "s per page (default: the server's, 20)", "list every " + noun + ", page after page", `"desc" (newest first, default) or "asc"`} {
			if !strings.Contains(help, want) {
				t.Errorf("%v lacks %q:\n%s", args, want, help)
			}
		}
	}
}
