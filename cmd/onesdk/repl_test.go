package main

import (
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

func TestREPLKeepsHistory(t *testing.T) {
	e := setup(t)
	in := "What is Go?\nWho made it?\n\nWhen?\n/history\n/exit\nnever asked\n"
	r := e.input(t, in, "chat", "--interactive", "--model", "moonshot-v1-8k").mustOK(t)

	reqs := e.rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("emulator saw %d requests, want 3 (blank line skipped, nothing after /exit)", len(reqs))
	}
	for i, want := range []string{"user", "user,assistant,user", "user,assistant,user,assistant,user"} {
		if got := roles(reqs[i].Messages); got != want {
			t.Errorf("turn %d sent %s, want %s", i+1, got, want)
		}
	}
	// The reply of turn 1 as printed is what turn 2 sends back.
	answer1 := reqs[1].Messages[1].Content
	if answer1 == "" || !strings.Contains(r.stdout, answer1) {
		t.Errorf("history answer %q not among the printed answers:\n%s", answer1, r.stdout)
	}
	if reqs[2].Messages[2].Content != "Who made it?" {
		t.Errorf("turn 3 history: %+v", reqs[2].Messages)
	}
	if !strings.Contains(r.stdout, "6 messages\n") {
		t.Errorf("/history did not report 6 messages:\n%s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestREPLKeepsReasoningInHistory(t *testing.T) {
	e := setup(t)
	// --no-stream too: both paths must keep the whole assistant message.
	for _, extra := range [][]string{nil, {"--no-stream"}} {
		e.input(t, "Is 7 prime?\nAnd 9?\n", append([]string{"chat", "-i", "--model", "kimi-k2.7-code"}, extra...)...).mustOK(t)
	}
	reqs := e.rec.requests()
	if len(reqs) != 4 {
		t.Fatalf("emulator saw %d requests, want 4", len(reqs))
	}
	for _, i := range []int{1, 3} {
		m := reqs[i].Messages[1]
		if m.Role != kimi.RoleAssistant || m.ReasoningContent == "" || m.Content == "" {
			t.Errorf("request %d: assistant turn lost content or reasoning: %+v", i+1, m)
		}
	}
}

func TestREPLMaxTurnsAndReset(t *testing.T) {
	e := setup(t)
	in := "one\ntwo\nthree\n/reset\nfour\n" // ends with EOF, not /exit
	r := e.input(t, in, "chat", "-i", "--system", "Be brief.", "--max-turns", "2").mustOK(t)

	reqs := e.rec.requests()
	if len(reqs) != 4 {
		t.Fatalf("emulator saw %d requests, want 4", len(reqs))
	}
	third := reqs[2].Messages
	if roles(third) != "system,user,assistant,user" || third[0].Content != "Be brief." ||
		third[1].Content != "two" || third[3].Content != "three" {
		t.Errorf("third turn with --max-turns 2 sent %+v", third)
	}
	if got := reqs[3].Messages; roles(got) != "system,user" || got[1].Content != "four" {
		t.Errorf("turn after /reset sent %+v", got)
	}
	if !strings.Contains(r.stdout, "history cleared") {
		t.Errorf("/reset not acknowledged:\n%s", r.stdout)
	}
}

func TestREPLStopsOnAuthError(t *testing.T) {
	e := setup(t)
	e.withKey("sk-wrong-key-123").input(t, "first\nsecond\n", "chat", "-i").mustExit(t, exitAuth)
	if n := len(e.rec.requests()); n != 1 {
		t.Errorf("session went on after a rejected key: %d requests", n)
	}
}

func TestREPLJSONLines(t *testing.T) {
	e := setup(t)
	in := "What is Go?\n/help\nWho made it?\n/history\n/reset\n/history\n/nope\n/exit\n"
	for _, extra := range [][]string{nil, {"--no-stream"}} {
		r := e.input(t, in, append([]string{"--json", "chat", "-i"}, extra...)...).mustOK(t)

		// Nothing but JSON on stdout: no banner, no prompt.
		lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		if len(lines) != 4 || !strings.HasSuffix(r.stdout, "\n") {
			t.Fatalf("%v: want 4 JSON lines (2 turns, 2 /history), got:\n%s", extra, r.stdout)
		}
		var turns []kimi.ChatCompletion
		for _, l := range lines[:2] {
			c := decodeOne[kimi.ChatCompletion](t, []byte(l))
			if c.Object != "chat.completion" || len(c.Choices) != 1 || c.Text() == "" ||
				c.Choices[0].FinishReason != kimi.FinishStop || c.Usage == nil {
				t.Errorf("%v: turn line is not a whole completion: %s", extra, l)
			}
			turns = append(turns, c)
		}
		hist := decodeOne[[]kimi.Message](t, []byte(lines[2]))
		if roles(hist) != "user,assistant,user,assistant" || hist[0].Content != "What is Go?" ||
			hist[1].Content != turns[0].Text() || hist[3].Content != turns[1].Text() {
			t.Errorf("%v: /history line = %s", extra, lines[2])
		}
		if lines[3] != "[]" {
			t.Errorf("%v: /history after /reset = %s, want []", extra, lines[3])
		}
		// What the commands say goes to stderr.
		if !strings.Contains(r.stderr, "history cleared") || !strings.Contains(r.stderr, "unknown command /nope") {
			t.Errorf("%v: stderr = %q", extra, r.stderr)
		}
	}

	reqs := e.rec.requests()
	if len(reqs) != 4 {
		t.Fatalf("emulator saw %d requests, want 4", len(reqs))
	}
	for i, r := range reqs {
		if r.Stream != (i < 2) {
			t.Errorf("request %d: stream = %v", i+1, r.Stream)
		}
	}
	// The second turn sends the first one back.
	if roles(reqs[1].Messages) != "user,assistant,user" {
		t.Errorf("turn 2 sent %s", roles(reqs[1].Messages))
	}
}

func TestREPLNotesAnswerCut(t *testing.T) {
	e := setup(t)
	r := e.input(t, "Tell me a long story\n", "chat", "-i", "--model", "moonshot-v1-8k", "--max-tokens", "5").mustOK(t)
	if strings.Count(r.stderr, cutNote) != 1 {
		t.Errorf("stderr = %q, want the cut note once", r.stderr)
	}
	if strings.Contains(r.stdout, cutNote) {
		t.Errorf("cut note on stdout: %q", r.stdout)
	}

	// A whole answer gets no note, and --json says it in finish_reason.
	if r := e.input(t, "Hi\n", "chat", "-i", "--model", "moonshot-v1-8k").mustOK(t); r.stderr != "" {
		t.Errorf("whole answer: stderr = %q", r.stderr)
	}
	js := e.input(t, "Tell me a long story\n", "--json", "chat", "-i", "--model", "moonshot-v1-8k", "--max-tokens", "5").mustOK(t)
	c := decodeOne[kimi.ChatCompletion](t, []byte(js.stdout))
	if c.Choices[0].FinishReason != kimi.FinishLength || js.stderr != "" {
		t.Errorf("--json: finish_reason %q, stderr %q", c.Choices[0].FinishReason, js.stderr)
	}
}

func TestTrimTurns(t *testing.T) {
	sys, u1, a1, u2, a2, u3 := onesdk.SystemMessage("s"), onesdk.UserMessage("1"), onesdk.AssistantMessage("a1"),
		onesdk.UserMessage("2"), onesdk.AssistantMessage("a2"), onesdk.UserMessage("3")
	tool := kimi.ToolMessage("id", "f", "r")
	text := func(ms []onesdk.Message) string {
		return strings.Join(pluck(ms, func(m onesdk.Message) string { return m.Content }), " ")
	}
	for _, tc := range []struct {
		in   []onesdk.Message
		max  int
		want string
	}{
		{[]onesdk.Message{sys, u1, a1, u2, a2, u3}, 0, "s 1 a1 2 a2 3"},
		{[]onesdk.Message{sys, u1, a1, u2, a2, u3}, 3, "s 1 a1 2 a2 3"},
		{[]onesdk.Message{sys, u1, a1, u2, a2, u3}, 2, "s 2 a2 3"},
		{[]onesdk.Message{sys, u1, a1, u2, a2, u3}, 1, "s 3"},
		{[]onesdk.Message{u1, a1, tool, u2}, 1, "2"},
		{[]onesdk.Message{u1, a1, tool, u2}, 2, "1 a1 r 2"},
	} {
		in := append([]onesdk.Message(nil), tc.in...)
		if got := text(trimTurns(in, tc.max)); got != tc.want {
			t.Errorf("trimTurns(%s, %d) = %s, want %s", text(tc.in), tc.max, got, tc.want)
		}
	}
}
