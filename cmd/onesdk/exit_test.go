package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestExitCodeWrongKey(t *testing.T) {
	const key = "sk-this-key-is-wrong-0123456789"
	r := setup(t).withKey(key).run(t, "chat", "hi")
	r.wantError(t, exitAuth, "onesdk: authentication failed (401 ", "check --api-key")
	if strings.Contains(r.stderr+r.stdout, key) {
		t.Errorf("the key was printed: %q", r.stderr)
	}
}

func TestExitCodeNoKey(t *testing.T) {
	cli(t, "", "--base-url", setup(t).rec.URL, "models").wantError(t, exitAuth, "onesdk: no API key: set MOONSHOT_API_KEY")
}

func TestExitCodeKeyFromEnvironment(t *testing.T) {
	e := setup(t)
	t.Setenv("MOONSHOT_API_KEY", e.key)
	t.Setenv("MOONSHOT_BASE_URL", e.rec.URL)
	cli(t, "", "models").mustOK(t)

	t.Setenv("MOONSHOT_API_KEY", "sk-env-key-that-is-wrong")
	r := cli(t, "", "models").mustExit(t, exitAuth)
	if !strings.Contains(r.stderr, "check MOONSHOT_API_KEY") || strings.Contains(r.stderr, "sk-env-key-that-is-wrong") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestExitCodeUnknownModel(t *testing.T) {
	e := setup(t)
	for _, args := range [][]string{
		{"chat", "--model", "no-such-model", "hi"},
		{"chat", "--no-stream", "--model", "no-such-model", "hi"},
		{"models", "get", "no-such-model"},
	} {
		e.run(t, args...).wantError(t, exitBadRequest, "onesdk: not found (404 resource_not_found_error)")
	}
}

func TestExitCodeRateLimit(t *testing.T) {
	e := setup(t, kimitest.WithAccount(kimitest.Account{Key: "sk-slow", Limits: kimitest.Limits{RPM: 1}}))
	e.run(t, "--retries", "0", "chat", "hi").mustOK(t)
	e.run(t, "--retries", "0", "chat", "hi").wantError(t, exitRateLimit, "onesdk: rate limited (429 rate_limit_reached_error)")
}

func TestExitCodeServerUnavailable(t *testing.T) {
	r := setup(t, kimitest.WithFaults(kimitest.Fault{Status: 503})).run(t, "--retries", "0", "chat", "hi")
	r.wantError(t, exitUnavailable, "onesdk: server unavailable (503")
}

func TestExitCodeConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	r := cli(t, "", "--base-url", "http://"+addr+"/v1", "--api-key", "sk-x", "--retries", "0", "models")
	r.wantError(t, exitUnavailable, "onesdk: connection failed")
}

func TestExitCodeTimeout(t *testing.T) {
	// A deadline that has passed before the request starts: no race.
	setup(t).run(t, "--retries", "0", "--timeout", "1ns", "chat", "hi").wantError(t, exitUnavailable, "onesdk: timed out", "raise --timeout")
}

func TestExitCodeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // as if SIGINT arrived before the answer
	cliContext(t, ctx, "", "--offline", "chat", "hi").mustExit(t, exitInterrupted)
}

func TestExitCodeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"chat", "--no-such-flag", "hi"},
		{"--retries", "many", "models"},
		{"no-such-command"},
		{"models", "extra-arg"},
		{"models", "get"},
		{"--region", "eu", "models"},
		{"--provider", "nope", "models"},
		{"--offline", "--base-url", "http://127.0.0.1:1/v1", "models"},
		{"--offline", "chat", "--thinking", "maybe", "hi"},
		{"--offline", "chat", "--max-tokens", "0", "hi"},
		{"--offline", "--proxy", "ftp://proxy.example:21", "models"},
		{"--offline", "--proxy", "http://u:p@127.0.0.1:1", "models"}, // no proxy for an in-process emulator
		{"serve", "--tier", "platinum"},
	} {
		cli(t, "", args...).wantUsage(t)
	}
}

// A bad proxy or base URL is a configuration error that names the flag
// to check, once, without stacked prefixes.
func TestConfigErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--api-key", "sk-x", "--proxy", "ftp://proxy.example:21", "models"},
			`onesdk: configuration error: --proxy "ftp://proxy.example:21": scheme must be http, https, socks5 or socks5h`},
		{[]string{"--api-key", "sk-x", "--proxy", "http://[bad", "models"},
			`onesdk: configuration error: --proxy: malformed URL`},
		{[]string{"--api-key", "sk-x", "--base-url", "ftp://h/v1", "models"},
			`onesdk: configuration error: base URL "ftp://h/v1": scheme must be http or https — check --base-url and MOONSHOT_BASE_URL`},
	} {
		r := cli(t, "", tc.args...)
		r.wantUsage(t)
		if first, _, _ := strings.Cut(r.stderr, "\n"); first != tc.want {
			t.Errorf("onesdk %v:\n got %s\nwant %s", tc.args, first, tc.want)
		}
	}
}

// A blank key is no key: exit 3 and the CLI's own message, as with none.
// With MOONSHOT_BASE_URL set, a 401 does not point to --region; a
// missing batch points to the batch list.
func TestBlankKeyAndHints(t *testing.T) {
	t.Setenv("MOONSHOT_API_KEY", " ")
	r := cli(t, "", "models")
	r.wantExit(t, exitAuth)
	if !strings.Contains(r.stderr, "MOONSHOT_API_KEY") || strings.Contains(r.stderr, "Config.APIKey") {
		t.Errorf("blank key: %q", r.stderr)
	}
	e := setup(t)
	t.Setenv("MOONSHOT_BASE_URL", e.rec.URL)
	t.Setenv("MOONSHOT_API_KEY", "sk-wrong")
	if r := cli(t, "", "--retries", "0", "models"); r.code != exitAuth || strings.Contains(r.stderr, "--region") {
		t.Errorf("401 through MOONSHOT_BASE_URL: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("MOONSHOT_API_KEY", e.key)
	if r := cli(t, "", "batch", "status", "batch_nope"); !strings.Contains(r.stderr, "onesdk batch list") {
		t.Errorf("unknown batch: %q", r.stderr)
	}
}

func TestDebugLogHasNoKey(t *testing.T) {
	r := setup(t, kimitest.WithKey("sk-debug-secret-key-42")).run(t, "--debug", "chat", "hi").mustOK(t)
	if strings.Contains(r.stderr+r.stdout, "sk-debug-secret-key-42") {
		t.Errorf("key printed with --debug:\n%s", r.stderr)
	}
}

// The line printed for an API error, from a hand-made one, and the
// redaction of a key that a server would echo.
func TestDescribe(t *testing.T) {
	kimiInfo, _ := onesdk.LookupProvider("kimi")
	a := &app{providerInfo: kimiInfo, baseURL: "http://127.0.0.1/v1"}
	err := &onesdk.APIError{StatusCode: 401, Type: "invalid_authentication_error", Message: "Invalid Authentication"}
	want := "onesdk: authentication failed (401 invalid_authentication_error): Invalid Authentication — check MOONSHOT_API_KEY"
	if got := a.describe(err); got != want {
		t.Errorf("describe =\n%s\nwant\n%s", got, want)
	}

	a.apiKey = "sk-echoed-by-server"
	err.Message = "Incorrect API key provided: sk-echoed-by-server\n<html>"
	got := a.redact(a.describe(err))
	if strings.Contains(got, "sk-echoed-by-server") || strings.Contains(got, "\n") {
		t.Errorf("describe+redact = %q", got)
	}
	if code := exitCode(errors.Join(errors.New("context"), err)); code != exitAuth {
		t.Errorf("wrapped auth error: exit %d", code)
	}
}

func TestExitCodeStreamCut(t *testing.T) {
	e := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "/v1/chat/completions", CutAfterChunks: 3}))
	r := e.run(t, "--retries", "0", "chat", "--model", "moonshot-v1-8k", "Tell me a long story")
	r.wantError(t, exitUnavailable, "onesdk: connection failed")
	// What arrived is shown and closed by a newline; the error follows.
	if r.stdout == "" || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("partial answer = %q", r.stdout)
	}
}

// A value the kimi client refuses before sending is a usage error, told
// with field, value and limit; nothing reaches the server.
func TestExitCodeClientValidation(t *testing.T) {
	e := setup(t)
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"chat", "--temperature", "3", "hi"}, "onesdk: invalid temperature 3: must be within [0, 1] — check --temperature\n"},
		{"", []string{"chat", "--no-stream", "--temperature", "3", "hi"}, "onesdk: invalid temperature 3: must be within [0, 1]"},
		{"", []string{"chat", "--model", "kimi-k2.5", "--temperature", "0.3", "hi"}, "onesdk: invalid temperature 0.3: is fixed at"},
		{"", []string{"chat", "--model", "kimi-k2.7-code", "--thinking", "disabled", "hi"}, "onesdk: invalid thinking.type \"disabled\""},
		// In a session the next turn would fail the same way: it ends.
		{"hi\nagain\n", []string{"chat", "-i", "--temperature", "3"}, "onesdk: invalid temperature 3"},
		{"hi\n", []string{"--json", "chat", "-i", "--temperature", "3"}, "onesdk: invalid temperature 3"},
	} {
		r := e.input(t, tc.stdin, tc.args...)
		if !r.wantUsage(t) {
			continue
		}
		if !strings.HasPrefix(r.stderr, tc.want) || !strings.Contains(r.stderr, "Run 'onesdk chat --help' for usage.") {
			t.Errorf("%v: stderr = %q, want it to start with %q", tc.args, r.stderr, tc.want)
		}
	}
	if n := len(e.rec.requests()); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}

	// The same refusal on the in-process emulator.
	cli(t, "", "--offline", "chat", "--temperature", "3", "hi").wantUsage(t)
}

// The root command's help and the package documentation list every exit
// code, each with what leads to it.
func TestHelpListsExitCodes(t *testing.T) {
	_, help, _ := strings.Cut(cli(t, "", "--help").mustOK(t).stdout, "Exit codes:\n")
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	// Without its comment markers, the list of doc.go is laid out as the
	// help's.
	_, list, _ := strings.Cut(string(src), "// Exit codes:\n//\n")
	var doc strings.Builder
	for _, line := range strings.Split(list, "\n") {
		l, ok := strings.CutPrefix(line, "//\t")
		if !ok {
			break
		}
		doc.WriteString("  " + l + "\n")
	}

	for where, list := range map[string]string{"--help": help, "doc.go": doc.String()} {
		entries := exitCodeEntries(list)
		for _, tc := range []struct {
			code  int
			words []string
		}{
			{exitOK, []string{"success"}},
			{exitError, []string{"other error"}},
			{exitUsage, []string{"usage error", "unknown command or flag", "missing argument", "refuses before sending", "file", "provider lacks"}},
			{exitAuth, []string{"authentication", "no key"}},
			{exitRateLimit, []string{"rate limit", "quota"}},
			{exitUnavailable, []string{"server", "timeout", "connection", "cut stream"}},
			{exitBadRequest, []string{"bad request", "not found", "server answered", "too long"}},
			{exitInterrupted, []string{"interrupted", "serve", "exits 0"}},
		} {
			entry, ok := entries[tc.code]
			if !ok {
				t.Errorf("%s: exit code %d not listed:\n%s", where, tc.code, list)
				continue
			}
			for _, w := range tc.words {
				if !strings.Contains(entry, w) {
					t.Errorf("%s: exit code %d: %q does not say %q", where, tc.code, entry, w)
				}
			}
		}
		if len(entries) != 8 {
			t.Errorf("%s lists %d exit codes, want 8: %v", where, len(entries), entries)
		}
	}
}

// exitCodeEntries reads a list of exit codes: an entry is a line
// "  N    text" and the more indented lines that go on with it.
func exitCodeEntries(list string) map[int]string {
	entries := map[int]string{}
	last := -1
	for _, line := range strings.Split(list, "\n") {
		var code int
		if _, err := fmt.Sscanf(line, "  %d ", &code); err == nil {
			entries[code], last = strings.TrimSpace(line), code
		} else if last >= 0 && strings.HasPrefix(line, "       ") {
			entries[last] += " " + strings.TrimSpace(line)
		} else {
			last = -1
		}
	}
	return entries
}
