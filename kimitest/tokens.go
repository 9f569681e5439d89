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
	pieceEnds(text, func(int) bool { n++; return true })
	return n
}

// tokenize splits text into its token pieces.
func tokenize(text string) []string {
	var out []string
	start := 0
	pieceEnds(text, func(end int) bool {
		out = append(out, text[start:end])
		start = end
		return true
	})
	// Trailing white space belongs to the last piece.
	if len(out) > 0 {
		out[len(out)-1] += text[start:]
	}
	return out
}

// cutTokens returns the first n token pieces of text and cut = true when
// text has more than n pieces; else text itself and its count.
func cutTokens(text string, n int) (prefix string, count int, cut bool) {
	end := 0
	pieceEnds(text, func(e int) bool {
		if count == n {
			cut = true
			return false
		}
		count++
		end = e
		return true
	})
	if cut {
		return text[:end], n, true
	}
	return text, count, false
}

type runeClass int

const (
	classSpace runeClass = iota
	classLetter
	classDigit
	classCJK
	classOther
)

// asciiClass is classify's answer for each ASCII rune, the common case,
// without the Unicode table look-ups.
var asciiClass = func() (t [utf8.RuneSelf]runeClass) {
	for r := range rune(utf8.RuneSelf) {
		t[r] = classifyUnicode(r)
	}
	return t
}()

func classify(r rune) runeClass {
	if r >= 0 && r < utf8.RuneSelf {
		return asciiClass[r]
	}
	return classifyUnicode(r)
}

func classifyUnicode(r rune) runeClass {
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

// decodeRune is utf8.DecodeRuneInString(text[i:]) with an ASCII fast path.
func decodeRune(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(text[i:])
}

// pieceEnds calls yield with the end offset of each token piece of text,
// in order, until yield returns false. A piece starts where the previous
// one ended (the first at 0), so its leading white space is included;
// white space after the last piece is not in any piece.
func pieceEnds(text string, yield func(end int) bool) {
	i := 0
	for i < len(text) {
		r, size := decodeRune(text, i)
		c := classify(r)
		if c == classSpace {
			i += size
			continue
		}
		// Find the run of the same class.
		j, runes := i, 0
		for j < len(text) {
			r2, s2 := decodeRune(text, j)
			if classify(r2) != c || (c == classOther && runes == 1) {
				break
			}
			j += s2
			runes++
		}
		// Split the run into pieces of the sizes (in runes) the rules
		// give; pos advances over each piece.
		pos := i
		advance := func(n int) bool {
			for range n {
				_, rs := decodeRune(text, pos)
				pos += rs
			}
			return yield(pos)
		}
		switch c {
		case classLetter:
			n := (runes + 3) / 4
			for k := range n {
				// Distribute runes evenly over n pieces.
				if !advance(runes*(k+1)/n - runes*k/n) {
					return
				}
			}
		case classDigit:
			for left := runes; left > 0; left -= 3 {
				if !advance(min(3, left)) {
					return
				}
			}
		case classCJK:
			for left, k := runes, 0; left > 0; k++ {
				s := 2 - k%2
				if !advance(min(s, left)) {
					return
				}
				left -= s
			}
		default:
			if !advance(1) {
				return
			}
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

// promptTokens is a chat request's prompt_tokens: countPrompt plus the
// tokens its $web_search results add. Chat and estimate-token-count both
// report it, so the two cannot drift apart.
func promptTokens(req *chatRequest) int {
	return satAdd(countPrompt(req.Messages, req.Tools), webSearchTokens(req.Messages))
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
