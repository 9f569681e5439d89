package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimitest"
)

// story is a scripted answer long enough, with the emulator's stream
// delay, to be interrupted while it streams.
var story = kimitest.Rule{Match: "story", Reply: "Once upon a time" + strings.Repeat(" there was a gopher", 60) + ". The end."}

// outputWatch is a writer that tests can wait on: the output of an
// invocation running in another goroutine.
type outputWatch struct {
	watched
	buf bytes.Buffer
}

func newOutputWatch() *outputWatch { return &outputWatch{} }

func (w *outputWatch) Write(p []byte) (n int, err error) {
	w.change(func() { n, err = w.buf.Write(p) })
	return n, err
}

func (w *outputWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor waits until the output holds s n times; it fails the test if
// that takes longer than any run of the test should.
func (w *outputWatch) waitFor(t *testing.T, s string, n int) {
	t.Helper()
	w.waitUntil(t, func() bool { return strings.Count(w.buf.String(), s) >= n },
		func() string { return fmt.Sprintf("%q ×%d in:\n%s", s, n, w.buf.String()) })
}

// session is an invocation running in the background, with its standard
// input open and its signals fed by the test.
type session struct {
	stdin       *io.PipeWriter
	out, errOut *outputWatch
	sigs        chan os.Signal
	done        chan int
}

func startSession(t *testing.T, args ...string) *session {
	t.Helper()
	pr, pw := io.Pipe()
	s := &session{stdin: pw, out: newOutputWatch(), errOut: newOutputWatch(), sigs: make(chan os.Signal), done: make(chan int, 1)}
	go func() { s.done <- executeSignals(t.Context(), s.sigs, nil, args, pr, s.out, s.errOut) }()
	t.Cleanup(func() {
		pw.Close()
		<-s.done
	})
	return s
}

func (s *session) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// signal hands sig to the invocation; it returns once the invocation has
// taken it (the channel is unbuffered).
func (s *session) signal(sig os.Signal) { s.sigs <- sig }

func (s *session) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-s.done:
		s.done <- code
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("invocation did not end\nstdout: %s\nstderr: %s", s.out, s.errOut)
		return 0
	}
}

// In a session Ctrl-C stops the answer only: the prompt comes back, the
// interrupted turn is not kept, and the session goes on.
func TestREPLCtrlCStopsAnswer(t *testing.T) {
	e := setup(t, kimitest.WithStreamDelay(50*time.Millisecond), kimitest.WithRule(story),
		kimitest.WithRule(kimitest.Rule{Match: "Go", Reply: "A programming language."}))
	s := startSession(t, e.args("chat", "-i", "--model", "moonshot-v1-8k")...)
	s.out.waitFor(t, "> ", 1)
	s.send(t, "Tell me a story")
	s.out.waitFor(t, "Once upon", 1)
	s.signal(os.Interrupt)
	s.errOut.waitFor(t, "[answer interrupted]", 1)
	s.out.waitFor(t, "> ", 2)
	if strings.Contains(s.out.String(), "The end.") {
		t.Fatalf("the answer was not interrupted:\n%s", s.out)
	}

	s.send(t, "What is Go?")
	s.out.waitFor(t, "A programming language.\n> ", 1)
	// At the prompt Ctrl-C says how to leave, and stays.
	s.signal(os.Interrupt)
	s.errOut.waitFor(t, leaveHint, 1)
	s.out.waitFor(t, "> ", 4)
	s.send(t, "/history")
	s.out.waitFor(t, "2 messages\n", 1)
	s.send(t, "/exit")
	if code := s.wait(t); code != exitOK {
		t.Fatalf("exit code %d, want 0\nstderr: %s", code, s.errOut)
	}
	if got, want := s.errOut.String(), "[answer interrupted]\n"+leaveHint+"\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}

	reqs := e.rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("emulator saw %d requests, want 2", len(reqs))
	}
	// The interrupted turn is not sent back.
	if got := reqs[1].Messages; roles(got) != "user" || got[0].Content != "What is Go?" {
		t.Errorf("turn after the interrupt sent %+v", got)
	}
}

// Ctrl-C with --json and --no-stream: the answer stops too, and no JSON
// line is written for it.
func TestREPLCtrlCStopsAnswerJSON(t *testing.T) {
	// The stream delay does not slow a whole answer: delay the request.
	e := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/chat/completions", Delay: time.Minute}))
	s := startSession(t, e.args("--json", "chat", "-i", "--no-stream")...)
	s.send(t, "Tell me a story")
	e.rec.waitRequests(t, 1)
	s.signal(os.Interrupt)
	s.errOut.waitFor(t, "[answer interrupted]", 1)
	s.stdin.Close()
	if code := s.wait(t); code != exitOK || s.out.String() != "" {
		t.Fatalf("exit code %d, stdout %q, stderr %q", code, s.out, s.errOut)
	}
}

// SIGTERM still ends a session, as interrupted.
func TestREPLTermEndsSession(t *testing.T) {
	e := setup(t)
	s := startSession(t, e.args("chat", "-i", "--model", "moonshot-v1-8k")...)
	s.out.waitFor(t, "> ", 1)
	s.signal(syscall.SIGTERM)
	if code := s.wait(t); code != exitInterrupted {
		t.Fatalf("exit code %d, want %d\nstderr: %s", code, exitInterrupted, s.errOut)
	}
}

// Outside a session Ctrl-C ends the command.
func TestChatCtrlCEndsCommand(t *testing.T) {
	e := setup(t, kimitest.WithStreamDelay(50*time.Millisecond), kimitest.WithRule(story))
	s := startSession(t, e.args("chat", "--model", "moonshot-v1-8k", "Tell me a story")...)
	s.out.waitFor(t, "Once upon", 1)
	s.signal(os.Interrupt)
	if code := s.wait(t); code != exitInterrupted || !strings.HasSuffix(s.errOut.String(), "onesdk: interrupted\n") {
		t.Fatalf("exit code %d, stderr %q", code, s.errOut)
	}
}

// Ctrl-C while the question is read from standard input ends the command
// too, without waiting for the end of the input.
func TestChatCtrlCWhileReadingQuestion(t *testing.T) {
	s := startSession(t, setup(t).args("chat")...)
	s.signal(os.Interrupt)
	if code := s.wait(t); code != exitInterrupted || s.errOut.String() != "onesdk: interrupted\n" {
		t.Fatalf("exit code %d, stderr %q", code, s.errOut)
	}
}

// holdProxy is a proxy in front of the emulator that holds the requests
// hold selects until their client gives up, telling on the channel which
// one ("METHOD /path") it holds. It returns the flags that point the CLI
// at it.
func holdProxy(t *testing.T, e *testEnv, hold func(*http.Request) bool) (flags []string, held <-chan string) {
	t.Helper()
	target, err := url.Parse(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	target.Path = ""
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	ch := make(chan string, 16)
	stop := make(chan struct{}) // a failed test lets go of them too
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold(r) {
			// The server notices a client that gives up only once the
			// body is read.
			io.Copy(io.Discard, r.Body)
			ch <- r.Method + " " + r.URL.Path
			select {
			case <-r.Context().Done():
			case <-stop:
				// The CLI has returned; the connection it dropped
				// reaches this server a moment later.
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
					t.Errorf("%s %s: the CLI did not give up the request", r.Method, r.URL.Path)
				}
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(stop) })
	return []string{"--base-url", ts.URL + "/v1", "--api-key", e.key}, ch
}

func isDelete(r *http.Request) bool {
	return r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/v1/files/")
}

// receive returns the next value of ch; it fails the test if that takes
// longer than any run should.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("waited in vain")
		var zero T
		return zero
	}
}

// A server that does not answer the deletion of chat --file's uploads
// holds the command only for uploadCleanupTimeout; the uploads left are
// named.
func TestChatFileCleanupBounded(t *testing.T) {
	defer func(d time.Duration) { uploadCleanupTimeout = d }(uploadCleanupTimeout)
	uploadCleanupTimeout = 100 * time.Millisecond
	e := setup(t)
	flags, _ := holdProxy(t, e, isDelete)
	doc := writeFile(t, "report.txt", "The Lisbon office opened in March.\n")
	r := cli(t, "", append(flags, "chat", "--file", doc, "Which office opened?")...).mustOK(t)
	left := e.files(t)
	if len(left) != 1 {
		t.Fatalf("files left: %v", names(left))
	}
	for _, want := range []string{"onesdk: warning: could not delete the uploaded files", "onesdk files delete " + left[0].ID} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// The first Ctrl-C stops the question, the uploads are being deleted; a
// second one stops that at once, naming the uploads that may remain.
func TestChatFileSecondCtrlCStopsCleanup(t *testing.T) {
	e := setup(t)
	// The question and the deletion both hang, until the CLI gives up.
	flags, held := holdProxy(t, e, func(r *http.Request) bool {
		return isDelete(r) || r.URL.Path == "/v1/chat/completions"
	})
	doc := writeFile(t, "report.txt", "The Lisbon office opened in March.\n")
	s := startSession(t, append(flags, "chat", "--file", doc, "Which office opened?")...)
	if got := receive(t, held); got != "POST /v1/chat/completions" {
		t.Fatalf("held %s first", got)
	}
	s.signal(os.Interrupt)
	if got := receive(t, held); !strings.HasPrefix(got, "DELETE /v1/files/") {
		t.Fatalf("held %s second", got)
	}
	s.errOut.waitFor(t, "Ctrl-C again to leave them", 1)
	s.signal(os.Interrupt)
	code := s.wait(t)

	left := e.files(t)
	if len(left) != 1 {
		t.Fatalf("files left: %v", names(left))
	}
	stderr := s.errOut.String()
	if code != exitInterrupted || !strings.HasSuffix(stderr, "onesdk: interrupted\n") {
		t.Errorf("exit code %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"onesdk: stopped deleting the uploaded files", "onesdk files delete " + left[0].ID} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// A Ctrl-C that comes while the uploads are deleted after the answer
// also stops the deletion, and the command ends as interrupted.
func TestChatFileCtrlCDuringCleanup(t *testing.T) {
	e := setup(t)
	flags, held := holdProxy(t, e, isDelete)
	doc := writeFile(t, "report.txt", "The Lisbon office opened in March.\n")
	s := startSession(t, append(flags, "chat", "--file", doc, "Which office opened?")...)
	receive(t, held)
	s.signal(os.Interrupt)
	if code := s.wait(t); code != exitInterrupted || !strings.Contains(s.errOut.String(), "onesdk: stopped deleting the uploaded files") {
		t.Errorf("exit code %d, stderr:\n%s", code, s.errOut)
	}
	if strings.TrimSpace(s.out.String()) == "" {
		t.Errorf("no answer before the cleanup")
	}
}

// Past the first signal, which cancelled the invocation, the next one
// ends the process (the exit function of main).
func TestInterruptsSecondSignalExits(t *testing.T) {
	cancels, exits := 0, 0
	in := &interrupts{cancel: func() { cancels++ }, exit: func() { exits++ }}
	pop := in.push(func(sig os.Signal) bool { return sig == os.Interrupt })
	in.deliver(os.Interrupt) // taken by the handler
	in.deliver(syscall.SIGTERM)
	if cancels != 1 || exits != 0 {
		t.Fatalf("after one SIGTERM: %d cancels, %d exits", cancels, exits)
	}
	pop()
	in.deliver(os.Interrupt)
	if cancels != 1 || exits != 1 {
		t.Fatalf("after a second signal: %d cancels, %d exits", cancels, exits)
	}
}

// buildCLI builds the onesdk binary into a directory of the test.
func buildCLI(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build the CLI: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "onesdk")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startCLI starts the onesdk binary with args; a process that outlives
// the test is killed.
func startCLI(t *testing.T, bin string, args ...string) (cmd *exec.Cmd, stdin io.WriteCloser, out, errOut *outputWatch) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, bin, args...)
	out, errOut = newOutputWatch(), newOutputWatch()
	cmd.Stdout, cmd.Stderr = out, errOut
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdin, out, errOut
}

// The same with a real process and real signals.
func TestCtrlCProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildCLI(t)
	e := setup(t, kimitest.WithStreamDelay(50*time.Millisecond), kimitest.WithRule(story))

	// A session: Ctrl-C stops the answer, then says how to leave.
	cmd, stdin, out, errOut := startCLI(t, bin, e.args("chat", "-i", "--model", "moonshot-v1-8k")...)
	out.waitFor(t, "> ", 1)
	io.WriteString(stdin, "Tell me a story\n")
	out.waitFor(t, "Once upon", 1)
	cmd.Process.Signal(os.Interrupt)
	errOut.waitFor(t, "[answer interrupted]", 1)
	out.waitFor(t, "> ", 2)
	cmd.Process.Signal(os.Interrupt)
	errOut.waitFor(t, leaveHint, 1)
	out.waitFor(t, "> ", 3)
	io.WriteString(stdin, "/exit\n")
	if err := cmd.Wait(); err != nil {
		t.Errorf("session: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}

	// One question: Ctrl-C ends the command.
	cmd, _, out, errOut = startCLI(t, bin, e.args("chat", "--model", "moonshot-v1-8k", "Tell me a story")...)
	out.waitFor(t, "Once upon", 1)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || errOut.String() != "onesdk: interrupted\n" {
		t.Errorf("one question: exit code %d, stderr %q", code, errOut)
	}

	// chat --file: the second Ctrl-C stops the deletion of the uploads.
	flags, held := holdProxy(t, e, func(r *http.Request) bool {
		return isDelete(r) || r.URL.Path == "/v1/chat/completions"
	})
	doc := writeFile(t, "report.txt", "The Lisbon office opened in March.\n")
	cmd, _, _, errOut = startCLI(t, bin, append(flags, "chat", "--file", doc, "Which office opened?")...)
	receive(t, held)
	cmd.Process.Signal(os.Interrupt)
	receive(t, held)
	errOut.waitFor(t, "Ctrl-C again", 1)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	left := e.files(t)
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || len(left) != 1 ||
		!strings.Contains(errOut.String(), "onesdk files delete "+left[0].ID) {
		t.Errorf("chat --file: exit code %d, files left %v, stderr:\n%s", code, names(left), errOut)
	}
}
