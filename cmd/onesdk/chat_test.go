package main

import (
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

func TestChatOfflineStreamsAnswer(t *testing.T) {
	var out writeCounter
	r := cliTo(t.Context(), &out, "", "--offline", "chat", "Explain goroutines in two sentences.").mustOK(t)
	text := out.buf.String()
	if strings.TrimSpace(text) == "" || !strings.HasSuffix(text, "\n") {
		t.Fatalf("stdout = %q, want an answer ending with a newline", text)
	}
	// One write per delta plus the final newline: a buffered answer
	// would arrive in one or two writes.
	if out.writes < 3 {
		t.Errorf("answer arrived in %d writes, want it streamed delta by delta", out.writes)
	}
	// The default model (kimi-k2.6) thinks: its reasoning goes to
	// stderr, never into the answer.
	if r.stderr == "" || strings.Contains(r.stderr, "onesdk:") || strings.Contains(text, strings.TrimSpace(r.stderr)) {
		t.Errorf("stderr = %q, want the reasoning alone (stdout %q)", r.stderr, text)
	}
}

func TestChatNoStreamAndJSON(t *testing.T) {
	e := setup(t)
	plain := e.run(t, "chat", "--no-stream", "What is Go?").mustOK(t)
	var out writeCounter
	cliTo(t.Context(), &out, "", e.args("--json", "chat", "--no-stream", "What is Go?")...).mustOK(t)
	resp := decodeOne[kimi.ChatCompletion](t, out.buf.Bytes())
	if resp.Object != "chat.completion" || len(resp.Choices) == 0 || resp.Usage == nil {
		t.Fatalf("JSON completion incomplete: %+v", resp)
	}
	if got, want := plain.stdout, resp.Text()+"\n"; got != want {
		t.Errorf("--no-stream printed %q, the completion says %q", got, want)
	}

	streamed := e.run(t, "--json", "chat", "What is Go?").mustOK(t)
	sresp := decodeOne[kimi.ChatCompletion](t, []byte(streamed.stdout))
	if sresp.Text() == "" || sresp.Choices[0].Message.Role != kimi.RoleAssistant || sresp.Usage == nil {
		t.Errorf("assembled completion incomplete: %+v", sresp)
	}

	reqs := e.rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("emulator saw %d chat requests, want 3", len(reqs))
	}
	if reqs[0].Stream || reqs[1].Stream || !reqs[2].Stream {
		t.Errorf("stream flags sent = %v %v %v, want false false true", reqs[0].Stream, reqs[1].Stream, reqs[2].Stream)
	}
}

func TestChatFlagsReachTheRequest(t *testing.T) {
	e := setup(t)
	e.run(t, "chat", "--model", "moonshot-v1-8k", "--system", "Be brief.", "--temperature", "0", "--max-tokens", "64", "Say", "hi").mustOK(t)
	e.run(t, "chat", "--model", "kimi-k2.5", "--thinking", "disabled", "Hello").mustOK(t)

	reqs := e.rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("emulator saw %d requests, want 2", len(reqs))
	}
	r := reqs[0]
	if r.Model != "moonshot-v1-8k" || roles(r.Messages) != "system,user" ||
		r.Messages[0].Content != "Be brief." || r.Messages[1].Content != "Say hi" {
		t.Errorf("request = model %q, messages %+v", r.Model, r.Messages)
	}
	// An explicit 0 must be sent, not dropped as "unset".
	if r.Temperature == nil || *r.Temperature != 0 || r.MaxCompletionTokens == nil || *r.MaxCompletionTokens != 64 || r.MaxTokens != nil {
		t.Errorf("temperature %v, max_completion_tokens %v (max_tokens %v); want 0 and 64", r.Temperature, r.MaxCompletionTokens, r.MaxTokens)
	}
	if r.Thinking != nil {
		t.Errorf("thinking sent without --thinking: %+v", r.Thinking)
	}
	if th := reqs[1].Thinking; th == nil || th.Type != "disabled" {
		t.Errorf("thinking = %+v, want disabled", th)
	}
}

func TestChatQuestionFromStdin(t *testing.T) {
	e := setup(t)
	e.input(t, "  What is a channel?\n", "chat", "-").mustOK(t)
	// Piped input without an argument is a question too, not a session.
	r := e.input(t, "Multi\nline\n", "chat").mustOK(t)
	if strings.Contains(r.stdout, "onesdk chat with") {
		t.Errorf("piped question started a session: %q", r.stdout)
	}

	reqs := e.rec.requests()
	if len(reqs) != 2 {
		t.Fatalf("emulator saw %d requests, want 2", len(reqs))
	}
	if got := reqs[0].Messages[0].Content; got != "What is a channel?" {
		t.Errorf("question from -: %q", got)
	}
	if got := reqs[1].Messages[0].Content; got != "Multi\nline" {
		t.Errorf("question from pipe: %q", got)
	}

	e.input(t, " \n", "chat", "-").wantUsage(t)
}

func TestChatThinkingModelShowsReasoningApart(t *testing.T) {
	e := setup(t)
	q := "Is 91 a prime number?"

	shown := e.run(t, "chat", "--model", "kimi-k2.7-code", q).mustOK(t)
	reasoning := strings.TrimSpace(shown.stderr)
	if reasoning == "" || strings.TrimSpace(shown.stdout) == "" {
		t.Fatalf("want the answer on stdout and the reasoning on stderr; stdout %q, stderr %q", shown.stdout, shown.stderr)
	}
	if strings.Contains(shown.stdout, reasoning) {
		t.Errorf("reasoning leaked into stdout: %q", shown.stdout)
	}
	if strings.Contains(shown.stderr, "\x1b[") {
		t.Errorf("ANSI codes written to a stderr that is not a terminal: %q", shown.stderr)
	}

	js := e.run(t, "--json", "chat", "--model", "kimi-k2.7-code", q).mustOK(t)
	resp := decodeOne[kimi.ChatCompletion](t, []byte(js.stdout))
	if resp.Choices[0].Message.ReasoningContent == "" {
		t.Errorf("assembled completion lost the reasoning: %s", js.stdout)
	}
	if js.stderr != "" {
		t.Errorf("--json wrote to stderr: %q", js.stderr)
	}

	hidden := e.run(t, "chat", "--model", "kimi-k2.7-code", "--hide-reasoning", q).mustOK(t)
	if hidden.stderr != "" || strings.TrimSpace(hidden.stdout) == "" {
		t.Errorf("--hide-reasoning: stdout %q, stderr %q", hidden.stdout, hidden.stderr)
	}
}

func TestChatNotesAnswerCutByMaxTokens(t *testing.T) {
	e := setup(t)
	q := "Tell me a long story about gophers."
	for _, extra := range [][]string{nil, {"--no-stream"}} {
		r := e.run(t, append(append([]string{"chat", "--model", "moonshot-v1-8k", "--max-tokens", "5"}, extra...), q)...).mustOK(t)
		if strings.TrimSpace(r.stdout) == "" || strings.Contains(r.stdout, cutNote) {
			t.Errorf("%v: stdout = %q, want the cut answer alone", extra, r.stdout)
		}
		if r.stderr != cutNote+"\n" {
			t.Errorf("%v: stderr = %q, want %q", extra, r.stderr, cutNote)
		}
	}

	// With --json the document says it; stderr stays empty.
	js := e.run(t, "--json", "chat", "--model", "moonshot-v1-8k", "--max-tokens", "5", q).mustOK(t)
	resp := decodeOne[kimi.ChatCompletion](t, []byte(js.stdout))
	if resp.Choices[0].FinishReason != kimi.FinishLength || js.stderr != "" {
		t.Errorf("--json: finish_reason %q, stderr %q", resp.Choices[0].FinishReason, js.stderr)
	}
}
