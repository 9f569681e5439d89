package tokencount

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode"

	"github.com/onesdk-go/onesdk/kimitest"
)

// requestBody writes a conversation as the chat-completions request body
// the emulator counts.
func requestBody(t testing.TB, c conversation) []byte {
	t.Helper()
	type fn struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	}
	type call struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function fn     `json:"function"`
	}
	type msg struct {
		Role             string  `json:"role"`
		Content          string  `json:"content"`
		Name             string  `json:"name,omitempty"`
		ReasoningContent *string `json:"reasoning_content,omitempty"`
		ToolCalls        []call  `json:"tool_calls,omitempty"`
		ToolCallID       string  `json:"tool_call_id,omitempty"`
	}
	var msgs []msg
	for _, m := range c.msgs {
		w := msg{Role: m.Role, Content: m.Content, Name: m.Name}
		if m.ReasoningContent != "" {
			w.ReasoningContent = &m.ReasoningContent
		}
		for i, tc := range m.ToolCalls {
			name, args, _ := strings.Cut(tc, " ")
			w.ToolCalls = append(w.ToolCalls, call{ID: fmt.Sprintf("%s:%d", name, i), Type: "function", Function: fn{name, args}})
		}
		if m.Role == "tool" {
			w.ToolCallID = m.Name + ":0"
		}
		msgs = append(msgs, w)
	}
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs}
	if c.tools != "" {
		body["tools"] = json.RawMessage(c.tools)
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func emulatorRequestTokens(t testing.TB, c conversation) int {
	t.Helper()
	n, err := kimitest.CountRequestTokens(requestBody(t, c))
	if err != nil {
		t.Fatalf("%s: CountRequestTokens: %v", c.name, err)
	}
	return n
}

func toolsOf(c conversation) []byte {
	if c.tools == "" {
		return nil
	}
	return []byte(c.tools)
}

// The one published usage figure that can be paired with its text: the
// example response of Moonshot's chat API reference
// (https://platform.moonshot.cn/docs/api/chat) prints its reply next to
// its usage.completion_tokens. See README.md for the figures that cannot
// be paired.
const (
	// docsReply is that reply as a Chinese guide to the API copied it
	// (ASCII punctuation, leading space).
	docsReply = " 你好,李雷!1+1等于2。如果你有其他问题,请随时提问!"
	// docsReplyCompletionTokens is that response's completion_tokens.
	docsReplyCompletionTokens = 21
	// docsReplyPage is the same reply as Moonshot's page renders it, with
	// full-width punctuation.
	docsReplyPage = " 你好，李雷！1+1等于2。如果你有其他问题，请随时提问！"
	// docsPromptTokens is the same response's prompt_tokens.
	docsPromptTokens = 19
)

// Bounds asserted by TestReport, chosen from the measured table in
// README.md with some headroom; see there for the reasoning.
const (
	// maxRealError bounds the calibrated count's relative error against
	// the real completion figure (measured: +9.5% for the guide's copy,
	// +4.8% for the page's full-width rendering).
	maxRealError = 0.12
	// maxHanMARE bounds the mean absolute relative error of the
	// calibrated text count against the emulator on samples that are
	// mostly Han (measured: 7.3%); both model Kimi's documented 1.5
	// characters per token there.
	maxHanMARE = 0.10
	// Over all text samples the emulator's count lies within these
	// multiples of the calibrated count (measured 0.88–1.71): the
	// emulator charges one token per 4 Latin letters of each word and one
	// per punctuation character, a modern BPE much less (see README.md).
	minEmuRatio, maxEmuRatio = 0.80, 1.80
	// maxAllMARE bounds the mean absolute relative error of the
	// calibrated text count against the emulator on all text samples
	// (measured: 16.0%).
	maxAllMARE = 0.20
	// emulatorSafetyFactor is a safety factor with which the estimate is
	// never below the emulator's count on the sample set: every text
	// sample (measured need: 1.71) and every conversation (1.64).
	emulatorSafetyFactor = 1.8
)

func hanShare(s string) float64 {
	han, all := 0, 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		all++
		if unicode.Is(unicode.Han, r) {
			han++
		}
	}
	if all == 0 {
		return 0
	}
	return float64(han) / float64(all)
}

// TestReport measures the estimator against the emulator's counts and the
// real usage figures, prints the table (go test -run TestReport -v) and
// asserts the bounds above.
func TestReport(t *testing.T) {
	enc := encoder()
	t.Log("text samples: o200k, calibrated Text, emulator CountTokens")
	t.Logf("%-28s %6s %6s %6s %8s", "sample", "o200k", "Text", "emu", "Text/emu")
	var sumAll, sumHan float64
	var nHan int
	minR, maxR := math.Inf(1), math.Inf(-1)
	for _, s := range textSamples {
		raw, _ := enc.Count(s.text)
		got := Text(s.text)
		emu := kimitest.CountTokens(s.text)
		rel := float64(got-emu) / float64(emu)
		t.Logf("%-28s %6d %6d %6d %+7.1f%%", s.name, raw, got, emu, 100*rel)
		sumAll += math.Abs(rel)
		if hanShare(s.text) >= 0.5 {
			sumHan += math.Abs(rel)
			nHan++
		}
		r := float64(emu) / float64(got)
		minR, maxR = min(minR, r), max(maxR, r)
		if e := ceil(text(s.text) * emulatorSafetyFactor); e < emu {
			t.Errorf("%s: text count with safety factor %.2f = %d, below the emulator's %d", s.name, emulatorSafetyFactor, e, emu)
		}
	}
	mareAll := sumAll / float64(len(textSamples))
	mareHan := sumHan / float64(nHan)
	t.Logf("MARE vs emulator: all %d samples %.1f%%, %d Han-dominant samples %.1f%%; emu/Text %.2f–%.2f",
		len(textSamples), 100*mareAll, nHan, 100*mareHan, minR, maxR)
	if mareAll > maxAllMARE {
		t.Errorf("MARE vs emulator on all samples = %.3f, want <= %.2f", mareAll, maxAllMARE)
	}
	if mareHan > maxHanMARE {
		t.Errorf("MARE vs emulator on Han samples = %.3f, want <= %.2f", mareHan, maxHanMARE)
	}
	if minR < minEmuRatio || maxR > maxEmuRatio {
		t.Errorf("emulator/Text ratio range %.2f–%.2f, want within %.2f–%.2f", minR, maxR, minEmuRatio, maxEmuRatio)
	}

	t.Log("conversations: Messages (×1.1), calibrated (×1), emulator CountRequestTokens")
	t.Logf("%-28s %6s %6s %6s %8s", "conversation", "est", "calib", "emu", "est/emu")
	need := 0.0
	for _, c := range conversations {
		est := Messages(c.msgs, toolsOf(c))
		cal := (&Estimator{SafetyFactor: 1}).Messages(c.msgs, toolsOf(c))
		emu := emulatorRequestTokens(t, c)
		t.Logf("%-28s %6d %6d %6d %8.2f", c.name, est, cal, emu, float64(est)/float64(emu))
		need = max(need, float64(emu)/float64(cal))
		if e := (&Estimator{SafetyFactor: emulatorSafetyFactor}).Messages(c.msgs, toolsOf(c)); e < emu {
			t.Errorf("%s: estimate with safety factor %.2f = %d, below the emulator's %d", c.name, emulatorSafetyFactor, e, emu)
		}
	}
	t.Logf("safety factor needed to cover the emulator on every conversation: %.2f", need)

	t.Log("real usage figure (chat API reference example)")
	for _, reply := range []string{docsReply, docsReplyPage} {
		got := Text(reply)
		safe := ceil(text(reply) * DefaultSafetyFactor)
		rel := float64(got-docsReplyCompletionTokens) / docsReplyCompletionTokens
		t.Logf("reply %q: completion_tokens %d, Text %d (%+.1f%%), ×1.1 %d, emulator %d",
			reply, docsReplyCompletionTokens, got, 100*rel, safe, kimitest.CountTokens(reply))
		if math.Abs(rel) > maxRealError {
			t.Errorf("Text(%q) = %d, want within %.0f%% of %d", reply, got, 100*maxRealError, docsReplyCompletionTokens)
		}
		if safe < docsReplyCompletionTokens {
			t.Errorf("safety-factored count of %q = %d, below the real %d", reply, safe, docsReplyCompletionTokens)
		}
	}
	// Reported only: prompt_tokens 19 cannot belong to the request the
	// page prints next to it (its system prompt alone is ~80 tokens); it
	// matches the user message alone.
	lilei := conversations[0]
	userOnly := conversations[1]
	t.Logf("prompt_tokens %d: as printed with system prompt + user, est %d (calib %d); user message only, est %d (calib %d)",
		docsPromptTokens,
		Messages(lilei.msgs, nil), (&Estimator{SafetyFactor: 1}).Messages(lilei.msgs, nil),
		Messages(userOnly.msgs, nil), (&Estimator{SafetyFactor: 1}).Messages(userOnly.msgs, nil))
}

// TestHanFactor checks hanFactor against its source: o200k's measured
// tokens per Han character on the Chinese samples, times hanFactor, must
// give Kimi's documented 1 token per 1.5 characters
// (https://platform.moonshot.cn/docs/intro).
func TestHanFactor(t *testing.T) {
	var hanTokens, hanChars int
	for _, s := range textSamples {
		if !strings.HasPrefix(s.name, "zh-") {
			continue
		}
		h, _ := split(s.text)
		hanTokens += h
		for _, r := range s.text {
			if unicode.Is(unicode.Han, r) {
				hanChars++
			}
		}
	}
	perChar := float64(hanTokens) / float64(hanChars)
	t.Logf("o200k: %d tokens for %d Han characters = %.3f tokens/char; hanFactor %.2f gives %.3f (1/1.5 = %.3f)",
		hanTokens, hanChars, perChar, hanFactor, hanFactor*perChar, 1/1.5)
	if got := hanFactor * perChar; math.Abs(got-1/1.5) > 0.01 {
		t.Errorf("hanFactor × o200k tokens per Han char = %.3f, want 1/1.5 ± 0.01: recalibrate hanFactor to %.2f", got, (1/1.5)/perChar)
	}
}
