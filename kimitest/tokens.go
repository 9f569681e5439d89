package kimitest

import (
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// The emulator's tokenizer: the server's count, in the emulator. Every
// token figure the emulator reports (usage, estimate-token-count, context
// limits, rate-limit charges) comes from it, as on the platform they come
// from Kimi's tokenizer. It is not Kimi's real BPE vocabulary, nor the
// client-side estimate of package tokencount; it is a deterministic rule
// with Kimi-like ratios, so that those figures behave plausibly:
//
//   - a run of letters (any script except CJK) is split into ceil(L/4)
//     pieces of near-equal length: about one token per 4 characters of
//     English;
//   - a run of digits is split into pieces of at most 3 digits;
//   - a run of c CJK characters (Han, kana, Hangul) is split into pieces of
//     2 and 1 characters alternately: about one token per 1.5 characters
//     (Chinese Kimi guides: "1 token ≈ 1.5–2 Chinese characters");
//   - every other non-space character (punctuation, CJK punctuation, emoji)
//     is one token;
//   - white space is free: it is glued to the following piece (or to the
//     last piece at the end of the text).
//
// Concatenating the pieces gives the text back, so generated replies can be
// cut at token boundaries (max_tokens) and streamed token by token.

// CountTokens returns the number of tokens the emulator charges for text:
// the emulated server's count.
func CountTokens(text string) int {
	n := 0
	forEachPiece(text, func(string) { n++ })
	return n
}

// tokenize splits text into its token pieces.
func tokenize(text string) []string {
	var out []string
	forEachPiece(text, func(p string) { out = append(out, p) })
	// Trailing white space belongs to the last piece.
	if len(out) > 0 {
		total := 0
		for _, p := range out {
			total += len(p)
		}
		out[len(out)-1] += text[total:]
	}
	return out
}

type runeClass int

const (
	classSpace runeClass = iota
	classLetter
	classDigit
	classCJK
	classOther
)

func classify(r rune) runeClass {
	switch {
	case unicode.IsSpace(r):
		return classSpace
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return classCJK
	case unicode.IsLetter(r) || unicode.IsMark(r):
		return classLetter
	case unicode.IsDigit(r):
		return classDigit
	}
	return classOther
}

// forEachPiece calls fn with each token piece of text, leading white space
// included; white space after the last piece is not reported.
func forEachPiece(text string, fn func(string)) {
	start := 0 // start of the pending piece, including its leading spaces
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		c := classify(r)
		if c == classSpace {
			i += size
			continue
		}
		// Find the run of the same class.
		j, runes := i, 0
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if classify(r2) != c || (c == classOther && runes == 1) {
				break
			}
			j += s2
			runes++
		}
		var sizes []int
		switch c {
		case classLetter:
			n := (runes + 3) / 4
			for k := 0; k < n; k++ {
				// Distribute runes evenly over n pieces.
				sizes = append(sizes, runes*(k+1)/n-runes*k/n)
			}
		case classDigit:
			for left := runes; left > 0; left -= 3 {
				sizes = append(sizes, min(3, left))
			}
		case classCJK:
			for left, k := runes, 0; left > 0; k++ {
				s := 2 - k%2
				sizes = append(sizes, min(s, left))
				left -= s
			}
		default:
			sizes = []int{1}
		}
		pos := i
		for _, s := range sizes {
			for range s {
				_, rs := utf8.DecodeRuneInString(text[pos:])
				pos += rs
			}
			fn(text[start:pos])
			start = pos
		}
		i = j
	}
}

// Per-message and per-request overheads of the prompt counter: role and
// separator markers of the chat template.
const (
	tokensPerMessage = 4
	tokensPerReply   = 3
	tokensPerImage   = 1024 // documented: each image costs a fixed 1,024 tokens
	tokensPerVideo   = 2048 // not documented; a plausible fixed cost
)

// countPrompt counts the prompt tokens of a request: every message's
// content, name, reasoning and tool calls plus a per-message overhead, the
// tool definitions (as compact JSON) and the reply priming.
func countPrompt(msgs []message, tools []tool) int {
	n := tokensPerReply
	for _, m := range msgs {
		n += countMessage(m)
	}
	if len(tools) > 0 {
		b, _ := json.Marshal(tools)
		n += CountTokens(string(b))
	}
	return n
}

func countMessage(m message) int {
	n := tokensPerMessage + CountTokens(m.Role)
	for _, p := range m.parts {
		switch p.Type {
		case "text":
			n += CountTokens(p.Text)
		case "image_url":
			n += tokensPerImage
		case "video_url":
			n += tokensPerVideo
		}
	}
	n += CountTokens(m.Name)
	if m.ReasoningContent != nil {
		n += CountTokens(*m.ReasoningContent)
	}
	for _, tc := range m.ToolCalls {
		n += CountTokens(tc.Function.Name) + CountTokens(tc.Function.Arguments)
	}
	return n
}

// CountRequestTokens returns the prompt_tokens the emulator would report
// for a chat-completions request body (messages and tools; excluding the
// tokens a $web_search result adds). It lets tests predict usage.
func CountRequestTokens(body []byte) (int, error) {
	req, aerr := parseChatRequest(body)
	if aerr != nil {
		return 0, aerr
	}
	return countPrompt(req.Messages, req.Tools), nil
}
