package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/tokencount"
)

type tokensOut struct {
	Tokens    int    `json:"tokens"`
	Model     string `json:"model"`
	Method    string `json:"method"`
	MaxTokens *int   `json:"max_tokens"`
	Models    []struct {
		Model         string `json:"model"`
		ContextLength int    `json:"context_length"`
		Fits          *bool  `json:"fits"`
		Remaining     int    `json:"remaining"`
	} `json:"models"`
}

// parseTokens decodes the output of a tokens --json that succeeded.
func parseTokens(t *testing.T, r result) tokensOut {
	t.Helper()
	return decodeOne[tokensOut](t, []byte(r.mustOK(t).stdout))
}

// The server's count is the prompt_tokens of a chat with the same
// message.
func TestTokensServerCountMatchesChat(t *testing.T) {
	e := setup(t)
	const q = "How many tokens does this question take? 这个问题有多少个词元?"
	tok := parseTokens(t, e.run(t, "--json", "tokens", "--model", "moonshot-v1-8k", q))
	r := e.run(t, "--json", "chat", "--no-stream", "--model", "moonshot-v1-8k", q).mustOK(t)
	resp := decodeOne[kimi.ChatCompletion](t, []byte(r.stdout))
	if tok.Tokens <= 0 || tok.Tokens != resp.Usage.PromptTokens || tok.Method != "server" || tok.Model != "moonshot-v1-8k" {
		t.Fatalf("tokens = %+v, chat prompt_tokens = %d", tok, resp.Usage.PromptTokens)
	}
	// Candidates: the three moonshot-v1 sizes and the default model, with
	// the windows the server lists.
	var ids []string
	for _, m := range tok.Models {
		ids = append(ids, m.Model)
		if m.Fits == nil || !*m.Fits || m.Remaining != m.ContextLength-tok.Tokens-1024 {
			t.Errorf("model row %+v for %d tokens", m, tok.Tokens)
		}
	}
	if strings.Join(ids, ",") != "moonshot-v1-8k,moonshot-v1-32k,moonshot-v1-128k,kimi-k2.6" || tok.Models[0].ContextLength != 8192 {
		t.Errorf("candidates %v (%+v)", ids, tok.Models)
	}

	// Human output: the count, then one row per model.
	r = e.run(t, "tokens", "--model", "moonshot-v1-8k", q).mustOK(t)
	if !strings.HasPrefix(r.stdout, strconv.Itoa(tok.Tokens)+" tokens (counted by the server for moonshot-v1-8k); 1024 reserved for the answer (--max-tokens)\n") {
		t.Errorf("tokens printed:\n%s", r.stdout)
	}
	header, rows, _ := tableRows(t, strings.SplitN(r.stdout, "\n", 2)[1])
	if header != "MODEL CONTEXT FITS REMAINING" || strings.Join(rows["moonshot-v1-8k"], " ") != "8192 yes "+strconv.Itoa(8192-tok.Tokens-1024) {
		t.Errorf("table:\n%s", r.stdout)
	}
}

func TestTokensInputsAndFit(t *testing.T) {
	e := setup(t)
	long := strings.Repeat("The committee discussed the budget again, at some length. ", 1200) // ~12k tokens
	file := writeFile(t, "long.txt", long)
	tok := parseTokens(t, e.run(t, "--json", "tokens", "--file", file))
	fits := map[string]bool{}
	for _, m := range tok.Models {
		fits[m.Model] = m.Fits != nil && *m.Fits
	}
	if tok.Tokens <= 8192 || fits["moonshot-v1-8k"] || !fits["moonshot-v1-32k"] {
		t.Fatalf("long file: %d tokens, fits %v", tok.Tokens, fits)
	}
	r := e.run(t, "tokens", "--file", file).mustOK(t)
	if _, rows, _ := tableRows(t, strings.SplitN(r.stdout, "\n", 2)[1]); len(rows["moonshot-v1-8k"]) != 3 || rows["moonshot-v1-8k"][1] != "no" {
		t.Errorf("8k row for a long file:\n%s", r.stdout)
	}

	// --messages: a conversation; the same text from standard input as "-".
	msgs := `[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}]`
	path := writeFile(t, "msgs.json", msgs)
	conv := parseTokens(t, e.run(t, "--json", "tokens", "--messages", path))
	one := parseTokens(t, e.run(t, "--json", "tokens", "Hello"))
	if conv.Tokens <= one.Tokens {
		t.Errorf("system + user = %d tokens, user alone = %d", conv.Tokens, one.Tokens)
	}
	stdin := parseTokens(t, e.input(t, "Hello", "--json", "tokens", "-"))
	if stdin.Tokens != one.Tokens {
		t.Errorf("from stdin %d, from the argument %d", stdin.Tokens, one.Tokens)
	}

	// --model outside the candidates is added; an unknown one is the server's 404.
	k25 := parseTokens(t, e.run(t, "--json", "tokens", "--model", "kimi-k2.5", "Hello"))
	if last := k25.Models[len(k25.Models)-1]; last.Model != "kimi-k2.5" || last.ContextLength != 262144 {
		t.Errorf("--model kimi-k2.5 rows %+v", k25.Models)
	}
	e.run(t, "tokens", "--model", "no-such-model", "Hello").wantExit(t, exitBadRequest)

	for _, args := range [][]string{
		{"tokens"},
		{"tokens", "hi", "--file", file},
		{"tokens", "--file", filepath.Join(t.TempDir(), "missing.txt")},
		{"tokens", "--messages", file}, // not JSON
		{"tokens", "--model", "", "hi"},
	} {
		e.run(t, args...).wantUsage(t)
	}
}

// FITS and REMAINING reserve the answer budget, as Kimi, DocumentQA and
// tokencount.FitsContext do: 1,024 tokens unless --max-tokens says
// otherwise. A prompt of ~7,600 tokens fits 8k alone but not with it.
func TestTokensReserveMaxTokens(t *testing.T) {
	e := setup(t)
	file := writeFile(t, "mid.txt", strings.Repeat("The committee discussed the budget again, at some length. ", 420))
	fit8k := func(tok tokensOut) (bool, int) {
		t.Helper()
		for _, m := range tok.Models {
			if m.Model == "moonshot-v1-8k" && m.Fits != nil {
				return *m.Fits, m.Remaining
			}
		}
		t.Fatalf("no 8k row: %+v", tok.Models)
		return false, 0
	}
	tok := parseTokens(t, e.run(t, "--json", "tokens", "--file", file))
	if tok.Tokens > 8192 || tok.Tokens+1024 <= 8192 {
		t.Fatalf("%d tokens: the test file does not straddle 8192 - 1024", tok.Tokens)
	}
	if fits, rem := fit8k(tok); fits || rem != 8192-tok.Tokens-1024 || tok.MaxTokens == nil || *tok.MaxTokens != 1024 {
		t.Errorf("default: 8k fits %t, remaining %d, max_tokens %v; want no, %d, 1024", fits, rem, tok.MaxTokens, 8192-tok.Tokens-1024)
	}
	r := e.run(t, "tokens", "--file", file).mustOK(t)
	if _, rows, _ := tableRows(t, strings.SplitN(r.stdout, "\n", 2)[1]); strings.Join(rows["moonshot-v1-8k"], " ") != "8192 no "+strconv.Itoa(8192-tok.Tokens-1024) {
		t.Errorf("8k row with the default budget:\n%s", r.stdout)
	}
	small := parseTokens(t, e.run(t, "--json", "tokens", "--max-tokens", "100", "--file", file))
	if fits, rem := fit8k(small); !fits || rem != 8192-tok.Tokens-100 || *small.MaxTokens != 100 {
		t.Errorf("--max-tokens 100: 8k fits %t, remaining %d, max_tokens %d", fits, rem, *small.MaxTokens)
	}
	off := parseTokens(t, cli(t, "", "--json", "tokens", "--offline-estimate", "--max-tokens", "8192", "hi"))
	if fits, _ := fit8k(off); fits || *off.MaxTokens != 8192 {
		t.Errorf("offline, --max-tokens 8192: 8k fits %t, max_tokens %d", fits, *off.MaxTokens)
	}
	// 0 is what a request without max_tokens is: Kimi's default reserved.
	zero := parseTokens(t, cli(t, "", "--json", "tokens", "--offline-estimate", "--max-tokens", "0", "hi"))
	if _, rem := fit8k(zero); *zero.MaxTokens != 1024 || rem != 8192-zero.Tokens-1024 {
		t.Errorf("--max-tokens 0: max_tokens %d, remaining %d", *zero.MaxTokens, rem)
	}
	e.run(t, "tokens", "--max-tokens", "-1", "hi").wantUsage(t)
}

// --offline-estimate sends nothing: it needs no key and no server, and
// works for any provider.
func TestTokensOfflineEstimate(t *testing.T) {
	const text = "The quick brown fox jumps over the lazy dog, again and again and again."
	for models, args := range map[int][]string{
		4: {"--json", "tokens", "--offline-estimate", text},
		// and acedata's default model, kimi-k2.5
		5: {"--json", "--provider", "acedata", "--base-url", "http://127.0.0.1:1/", "tokens", "--offline-estimate", text},
	} {
		est := parseTokens(t, cli(t, "", args...))
		if est.Method != "offline-estimate" || est.Model != "" || len(est.Models) != models || est.Models[0].ContextLength != 8192 {
			t.Errorf("%v: %+v", args, est)
		}
		// tokencount's estimate of the request, as a program would get it.
		if want := tokencount.Chat([]kimi.Message{kimi.UserMessage(text)}, nil); est.Tokens != want {
			t.Errorf("%v: estimate %d, tokencount.Chat says %d", args, est.Tokens, want)
		}
		// Within reason of the emulator's own count (this text errs high).
		exact := kimitest.CountTokens(text)
		if est.Tokens < exact || est.Tokens > 3*exact+20 {
			t.Errorf("%v: estimate %d for a text of %d tokens", args, est.Tokens, exact)
		}
	}
	r := cli(t, "", "tokens", "--offline-estimate", text).mustOK(t)
	if !strings.Contains(r.stdout, " tokens (offline estimate); 1024 reserved for the answer (--max-tokens)\n") {
		t.Errorf("offline estimate printed:\n%s", r.stdout)
	}
	// Without --offline-estimate the same command needs a key (exit 3)...
	cli(t, "", "tokens", text).wantExit(t, exitAuth)
	// ...and works against the in-process emulator.
	if tok := parseTokens(t, cli(t, "", "--offline", "--json", "tokens", text)); tok.Method != "server" || tok.Tokens <= 0 {
		t.Errorf("--offline tokens = %+v", tok)
	}
}
