package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startServe runs `onesdk serve args...` in a goroutine and returns its
// output up to the "Press Ctrl-C" line, and a stop function that cancels
// it (as SIGINT would) and returns its exit code and stderr.
func startServe(t *testing.T, args ...string) (out string, stop func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := execute(ctx, append([]string{"serve"}, args...), strings.NewReader(""), pw, &errb)
		pw.Close()
		done <- code
	}()
	var b strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") || strings.HasPrefix(sc.Text(), "}") {
			break
		}
	}
	go io.Copy(io.Discard, pr) // whatever comes later must not block serve
	stopped := false
	stop = func() (int, string) {
		if !stopped {
			stopped = true
			cancel()
		}
		code := <-done
		done <- code
		return code, errb.String()
	}
	t.Cleanup(func() { stop() })
	return b.String(), stop
}

var baseURLRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+/v1`)

func TestServe(t *testing.T) {
	out, stop := startServe(t, "--addr", "127.0.0.1:0", "--key", "sk-alpha", "--key", "sk-beta")
	url := baseURLRE.FindString(out)
	if url == "" {
		code, stderr := stop()
		t.Fatalf("no base URL printed (exit %d):\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"sk-alpha, sk-beta",
		"export MOONSHOT_BASE_URL=" + url + " MOONSHOT_API_KEY=sk-alpha",
		"curl " + url + "/chat/completions -H 'Authorization: Bearer sk-alpha'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serve output lacks %q:\n%s", want, out)
		}
	}

	r := cli(t, "", "--base-url", url, "--api-key", "sk-beta", "chat", "hello").mustOK(t)
	if strings.TrimSpace(r.stdout) == "" {
		t.Errorf("no answer from the served emulator")
	}
	// A key the server was not given.
	cli(t, "", "--base-url", url, "--api-key", "sk-gamma", "models").wantExit(t, exitAuth)

	code, stderr := stop()
	if code != 0 {
		t.Errorf("serve ended with exit %d: %s", code, stderr)
	}
	// Stopped, the server answers no more.
	cli(t, "", "--base-url", url, "--api-key", "sk-beta", "--retries", "0", "models").wantExit(t, exitUnavailable)
}

func TestServeJSONAndTier(t *testing.T) {
	out, _ := startServe(t, "--json", "--addr", "127.0.0.1:0", "--tier", "free")
	var info struct {
		BaseURL string   `json:"base_url"`
		Keys    []string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.BaseURL == "" || len(info.Keys) != 1 {
		t.Fatalf("serve --json printed %q (%v)", out, err)
	}
	// The free tier allows 3 requests a minute.
	args := []string{"--base-url", info.BaseURL, "--api-key", info.Keys[0], "--retries", "0", "chat", "hi"}
	for i := range 3 {
		if r := cli(t, "", args...); r.code != 0 {
			t.Fatalf("request %d: exit %d: %s", i+1, r.code, r.stderr)
		}
	}
	// The fourth request of the minute is refused.
	cli(t, "", args...).wantExit(t, exitRateLimit)
}

// Each --org is one organization: its keys share the tier's limits, while
// a --key account keeps its own.
func TestServeOrg(t *testing.T) {
	out, _ := startServe(t, "--addr", "127.0.0.1:0", "--tier", "free", "--key", "sk-solo", "--org", "sk-a1, sk-a2")
	url := baseURLRE.FindString(out)
	for _, want := range []string{
		"accepted keys (test keys, one account each): sk-solo\n",
		"organization (test keys sharing limits, balance and resources): sk-a1, sk-a2\n",
		"MOONSHOT_API_KEY=sk-solo",
	} {
		if url == "" || !strings.Contains(out, want) {
			t.Fatalf("serve output lacks %q:\n%s", want, out)
		}
	}
	chatAs := func(key string) result {
		return cli(t, "", "--base-url", url, "--api-key", key, "--retries", "0", "chat", "hi")
	}
	// The free tier allows 3 requests a minute, to the organization.
	for i, key := range []string{"sk-a1", "sk-a1", "sk-a2"} {
		if r := chatAs(key); r.code != 0 {
			t.Fatalf("request %d (%s): exit %d: %s", i+1, key, r.code, r.stderr)
		}
	}
	chatAs("sk-a1").wantExit(t, exitRateLimit)
	chatAs("sk-a2").wantExit(t, exitRateLimit)
	chatAs("sk-solo").mustOK(t)
}

func TestServeOrgFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"--org", "sk-a,"}, `--org "sk-a,": keys must not be empty`},
		{[]string{"--org", "sk-a,sk-b", "--key", "sk-b"}, `key "sk-b" given twice`},
		{[]string{"--org", "sk-a,sk-a"}, `key "sk-a" given twice`},
	} {
		cli(t, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...).wantUsage(t, c.says)
	}
}

func TestServeOrgJSON(t *testing.T) {
	out, _ := startServe(t, "--json", "--addr", "127.0.0.1:0", "--key", "sk-solo", "--org", "sk-a1,sk-a2")
	var info struct {
		Keys []string   `json:"keys"`
		Orgs [][]string `json:"organizations"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil ||
		strings.Join(info.Keys, " ") != "sk-solo sk-a1 sk-a2" || len(info.Orgs) != 2 || strings.Join(info.Orgs[1], " ") != "sk-a1 sk-a2" {
		t.Fatalf("serve --json printed %q (%v)", out, err)
	}
}

// Requests the served emulator's http.Server refuses before any handler
// runs are answered in Kimi's error envelope, not Go's plain-text pages.
func TestServeRefusalsInEnvelope(t *testing.T) {
	out, _ := startServe(t, "--addr", "127.0.0.1:0")
	url := baseURLRE.FindString(out)
	if url == "" {
		t.Fatalf("no base URL printed:\n%s", out)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/v1")
	for _, c := range []struct {
		raw    string
		status int
	}{
		{"garbage\r\n\r\n", 400},
		{"GET /v1/models HTTP/1.1\r\n\r\n", 400}, // no Host
		{"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 80<<10) + "\r\n\r\n", 431},
		{"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(20 * time.Second)) // a bound, not an assertion
		go io.WriteString(conn, c.raw)                     // the server may answer before reading it all
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%.40q: %v", c.raw, err)
		}
		var env struct {
			Error struct{ Type, Message string }
		}
		err = json.NewDecoder(res.Body).Decode(&env)
		conn.Close()
		if res.StatusCode != c.status || err != nil || env.Error.Type != "invalid_request_error" || !strings.HasPrefix(env.Error.Message, "Invalid request: ") {
			t.Errorf("%.40q: %d %+v (%v), want %d in the envelope", c.raw, res.StatusCode, env, err, c.status)
		}
	}
}

// --file-id-prefix: uploads get the platform's file_ ids, and the CLI
// reads them back.
func TestServeFileIDPrefix(t *testing.T) {
	out, _ := startServe(t, "--json", "--addr", "127.0.0.1:0", "--file-id-prefix", "file_")
	var info struct {
		BaseURL string   `json:"base_url"`
		Keys    []string `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatal(err)
	}
	base := []string{"--base-url", info.BaseURL, "--api-key", info.Keys[0]}
	path := writeFile(t, "notes.txt", "some notes")
	up := cli(t, "", append(base, "--json", "files", "upload", path)...).mustOK(t)
	id := regexp.MustCompile(`file_[0-9a-z]{20}`).FindString(up.stdout)
	if id == "" {
		t.Fatalf("upload printed %q", up.stdout)
	}
	if r := cli(t, "", append(base, "files", "content", id)...).mustOK(t); !strings.Contains(r.stdout, "some notes") {
		t.Errorf("content of %s: %q", id, r.stdout)
	}
}
