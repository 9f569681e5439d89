package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestMain(m *testing.M) {
	// The tests choose keys and URLs themselves; the developer's must not
	// leak in.
	for _, k := range []string{"MOONSHOT_API_KEY", "MOONSHOT_BASE_URL", "ACEDATA_API_TOKEN", "ACEDATA_BASE_URL", "NO_COLOR"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}

// result is what one invocation of the CLI gave.
type result struct {
	args           []string
	code           int
	stdout, stderr string
}

// cli runs the command tree in-process, as main would, reading stdin.
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return cliContext(t, t.Context(), stdin, args...)
}

// cliContext is cli under ctx, e.g. one cancelled as SIGINT would.
func cliContext(t *testing.T, ctx context.Context, stdin string, args ...string) result {
	t.Helper()
	var out bytes.Buffer
	r := cliTo(ctx, &out, stdin, args...)
	r.stdout = out.String()
	return r
}

// cliTo runs the command tree with its standard output going to stdout,
// for the tests that watch how the output arrives; the result has no
// stdout.
func cliTo(ctx context.Context, stdout io.Writer, stdin string, args ...string) result {
	var errb bytes.Buffer
	code := execute(ctx, args, strings.NewReader(stdin), stdout, &errb)
	return result{args: args, code: code, stderr: errb.String()}
}

// mustOK fails the test now unless the command succeeded.
func (r result) mustOK(t *testing.T) result {
	t.Helper()
	return r.mustExit(t, exitOK)
}

// mustExit fails the test now unless the command ended with code.
func (r result) mustExit(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s", r.mismatch(code))
	}
	return r
}

// wantExit reports whether the command ended with code, and fails the
// test (going on) when it did not.
func (r result) wantExit(t *testing.T, code int) bool {
	t.Helper()
	if r.code != code {
		t.Errorf("%s", r.mismatch(code))
		return false
	}
	return true
}

// wantUsage reports whether the command failed as a mistake in the
// command line does: exit code 2, a message that starts with "onesdk: "
// and holds each of says, where the help is, and no usage dump. It fails
// the test (going on) when it did not.
func (r result) wantUsage(t *testing.T, says ...string) bool {
	t.Helper()
	if !r.wantExit(t, exitUsage) {
		return false
	}
	ok := strings.HasPrefix(r.stderr, "onesdk: ") && strings.Contains(r.stderr, "--help' for usage") &&
		!strings.Contains(r.stdout+r.stderr, "Usage:")
	for _, s := range says {
		ok = ok && strings.Contains(r.stderr, s)
	}
	if !ok {
		t.Errorf("onesdk %s: stdout %q, stderr %q; want a message saying %q and where the help is", strings.Join(r.args, " "), r.stdout, r.stderr, says)
	}
	return ok
}

// mismatch tells how the exit code differs from code, with the output.
func (r result) mismatch(code int) string {
	return fmt.Sprintf("onesdk %s: exit code %d, want %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, code, r.stdout, r.stderr)
}

// testEnv is the emulator of one test behind a recorder, and the flags
// that point the CLI at it. Its invocations share the emulator's state
// (caches, tags, files, balances, rate limits), as commands against
// 'onesdk serve' do.
type testEnv struct {
	srv *kimitest.Server
	rec *recorder
	key string // --api-key: the emulator's first account unless withKey
}

// setup starts the emulator of a test with opts; it stops when the test
// ends. A new cache is ready after 300ms, unless opts say otherwise: long
// enough that --wait polls, shorter than the emulator's 2s default.
func setup(t *testing.T, opts ...kimitest.Option) *testEnv {
	t.Helper()
	opts = append([]kimitest.Option{kimitest.WithCacheReadyDelay(300 * time.Millisecond)}, opts...)
	srv, err := kimitest.Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatalf("kimitest.Start: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return &testEnv{srv: srv, rec: newRecorder(t, srv), key: srv.Key}
}

// args returns the flags that point the CLI at the emulator, then args.
func (e *testEnv) args(args ...string) []string {
	return append([]string{"--base-url", e.rec.URL, "--api-key", e.key}, args...)
}

// run runs the CLI against the emulator, with nothing on standard input.
func (e *testEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	return cli(t, "", e.args(args...)...)
}

// input runs the CLI against the emulator, reading stdin.
func (e *testEnv) input(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return cli(t, stdin, e.args(args...)...)
}

// withKey returns the environment with another --api-key, such as one the
// emulator does not know.
func (e *testEnv) withKey(key string) *testEnv {
	c := *e
	c.key = key
	return &c
}

// acedata runs the CLI as provider acedata, against the emulator's Ace
// Data Cloud endpoint.
func (e *testEnv) acedata(t *testing.T, args ...string) result {
	t.Helper()
	return cli(t, "", append([]string{"--provider", "acedata", "--base-url", e.srv.AceDataCloudURL(), "--api-key", e.key}, args...)...)
}

// recorder is a reverse proxy in front of the emulator that keeps the chat
// requests the CLI sent, so tests can check what reached the wire.
type recorder struct {
	URL string // base URL to give the CLI, ending /v1

	watched
	reqs []kimi.ChatRequest
}

// watched is state that another goroutine changes and a test waits on;
// its zero value is ready.
type watched struct {
	mu      sync.Mutex
	changed chan struct{} // closed at the next change
}

// change runs f under the lock and wakes the waiters.
func (w *watched) change(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f()
	if w.changed != nil {
		close(w.changed)
	}
	w.changed = make(chan struct{})
}

// waitUntil waits until done, read under the lock, holds; it fails the
// test with what() if that takes longer than any run of the test should.
func (w *watched) waitUntil(t *testing.T, done func() bool, what func() string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		w.mu.Lock()
		if w.changed == nil {
			w.changed = make(chan struct{})
		}
		ok, changed := done(), w.changed
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("waited in vain for %s", what())
		}
	}
}

func newRecorder(t *testing.T, srv *kimitest.Server) *recorder {
	t.Helper()
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	target.Path = "" // the CLI's requests already carry /v1
	rp := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		FlushInterval: -1, // pass stream chunks on at once
		// A stream the emulator cuts on purpose is passed on cut; the
		// proxy need not log it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	rec := &recorder{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/chat/completions") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			var req kimi.ChatRequest
			if err := json.Unmarshal(body, &req); err != nil {
				t.Errorf("CLI sent a body that is not a chat request: %v\n%s", err, body)
			}
			rec.change(func() { rec.reqs = append(rec.reqs, req) })
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	rec.URL = ts.URL + "/v1"
	return rec
}

// waitRequests waits until n chat requests have arrived, as sent to the
// emulator; it fails the test if that takes longer than any run should.
func (r *recorder) waitRequests(t *testing.T, n int) {
	t.Helper()
	r.waitUntil(t, func() bool { return len(r.reqs) >= n },
		func() string { return fmt.Sprintf("%d chat requests, got %d", n, len(r.reqs)) })
}

func (r *recorder) requests() []kimi.ChatRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]kimi.ChatRequest(nil), r.reqs...)
}

// pluck returns what f gives for each of xs.
func pluck[T any](xs []T, f func(T) string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

// roles lists the roles of msgs, e.g. "system,user,assistant".
func roles(msgs []kimi.Message) string {
	return strings.Join(pluck(msgs, func(m kimi.Message) string { return string(m.Role) }), ",")
}

// names lists the names of files.
func names(files []kimi.File) []string {
	return pluck(files, func(f kimi.File) string { return f.Filename })
}

// writeCounter counts the Write calls that reach it, to tell a streamed
// answer (many writes) from a buffered one.
// It does not embed bytes.Buffer, whose WriteString would bypass Write.
type writeCounter struct {
	buf    bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

// decodeOne decodes b as exactly one JSON document of type T.
func decodeOne[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, b)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document:\n%s", b)
	}
	return v
}

// wantError reports whether the command failed with code and said why
// on one line of standard error that starts with prefix and holds each of
// says (a hint, a name). It fails the test (going on) when it did not.
func (r result) wantError(t *testing.T, code int, prefix string, says ...string) bool {
	t.Helper()
	if !r.wantExit(t, code) {
		return false
	}
	ok := strings.HasPrefix(r.stderr, prefix) && strings.Count(r.stderr, "\n") == 1 && strings.HasSuffix(r.stderr, "\n")
	for _, s := range says {
		ok = ok && strings.Contains(r.stderr, s)
	}
	if !ok {
		t.Errorf("onesdk %s: stderr %q, want one line starting with %q and saying %q", strings.Join(r.args, " "), r.stderr, prefix, says)
	}
	return ok
}

// field returns the value of a "name:  value" line of the output of a
// command that shows one object, or "".
func field(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// tableRows splits a table printed by the CLI into its header and rows of
// fields keyed by the first column.
func tableRows(t *testing.T, out string) (header string, rows map[string][]string, order []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	rows = map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f[1:]
		order = append(order, f[0])
	}
	return strings.Join(strings.Fields(lines[0]), " "), rows, order
}

// writeFile writes a file of the test's own and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
