package kimitest

import (
	"hash/fnv"
	"math"
)

// Log probabilities (logprobs: true, top_logprobs: 0..20), in OpenAI's
// shape, which Kimi's captured responses use: each choice (and each
// content delta of a stream) carries logprobs.content, one entry per
// content token with its text, log probability, UTF-8 bytes and the
// top_logprobs most likely tokens at that place. Only the content is
// covered, not reasoning_content nor tool calls.
//
// The figures are deterministic, like the reply: a token's log
// probability comes from a hash of the request seed, the choice and the
// token's position and text. The token produced is always the likeliest
// (probability 0.40 to 0.99); the alternatives share the rest, halving
// one after the other, so the probabilities of a place never sum above 1.

// logprobsSpec is what a completion needs to report log probabilities.
type logprobsSpec struct {
	seed uint64
	top  int // alternatives per token
}

type logprobsJSON struct {
	Content []tokenLogprobJSON `json:"content"`
}

type tokenLogprobJSON struct {
	Token       string           `json:"token"`
	Logprob     float64          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []topLogprobJSON `json:"top_logprobs"`
}

type topLogprobJSON struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// altTokens are the alternatives offered at every place, picked in a
// hashed order: common pieces of both languages the replies use.
var altTokens = []string{" the", " a", " and", " of", " to", " is", ".", ",", " in", " it",
	"的", "是", "，", "。", "了", "在", " this", " that", " you", "\n"}

// tokens returns the entries of the content pieces of choice index.
func (s *logprobsSpec) tokens(index int, pieces []string) []tokenLogprobJSON {
	out := make([]tokenLogprobJSON, len(pieces))
	for i, tok := range pieces {
		h := fnv.New64a()
		var b [16]byte
		at := uint64(index)<<32 | uint64(i)
		for k := range 8 {
			b[k] = byte(s.seed >> (8 * k))
			b[8+k] = byte(at >> (8 * k))
		}
		h.Write(b[:])
		h.Write([]byte(tok))
		x := h.Sum64()
		p := 0.40 + 0.59*float64(x%10000)/10000
		e := tokenLogprobJSON{Token: tok, Logprob: round6(math.Log(p)), Bytes: byteList(tok), TopLogprobs: []topLogprobJSON{}}
		if s.top > 0 {
			e.TopLogprobs = append(e.TopLogprobs, topLogprobJSON{Token: tok, Logprob: e.Logprob, Bytes: e.Bytes})
			rest := 1 - p
			start := int(x >> 32 % uint64(len(altTokens)))
			for k := 0; len(e.TopLogprobs) < s.top && k < len(altTokens); k++ {
				alt := altTokens[(start+k)%len(altTokens)]
				if alt == tok {
					continue
				}
				rest /= 2
				e.TopLogprobs = append(e.TopLogprobs, topLogprobJSON{Token: alt, Logprob: round6(math.Log(rest)), Bytes: byteList(alt)})
			}
		}
		out[i] = e
	}
	return out
}

// round6 keeps six decimals, as figures on the wire have.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// byteList is s's UTF-8 bytes as JSON numbers (a []byte would encode as
// base64).
func byteList(s string) []int {
	out := make([]int, len(s))
	for i := range len(s) {
		out[i] = int(s[i])
	}
	return out
}
