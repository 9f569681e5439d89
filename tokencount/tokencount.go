package tokencount

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/tiktoken-go/tokenizer/codec"
)

// Calibration constants. Each one is documented with where it comes from;
// the accuracy they give is measured by TestReport (see README.md).
const (
	// DefaultSafetyFactor multiplies the calibrated estimate of a request
	// so that pre-flight checks err high on Chinese. It does not make them
	// err high everywhere: on English and code the estimate with it is
	// still ~20–40% below the kimitest emulator's count (TestReport), and
	// whether Kimi's own count is nearer o200k or the emulator is not
	// measured. The calibration has no real
	// prompt figure to be checked against (only one real reply, see
	// README.md), the framing of the moonshot-v1 chat template is not
	// published, and Kimi's own range for Chinese (1.5–2 characters per
	// token) leaves room for tokenizers denser than the one assumed. With
	// 1.1 the Chinese-dominant conversations of the sample set are
	// estimated at 1.05–1.10 times the kimitest emulator's count.
	DefaultSafetyFactor = 1.1

	// hanFactor converts o200k tokens that hold Chinese characters (Han)
	// into Kimi tokens. Moonshot documents "1 token ≈ 1.5–2 Chinese
	// characters" (https://platform.moonshot.cn/docs/intro); we take the
	// token-dense end, 1/1.5 = 0.667 tokens per character, because it errs
	// high and because the one real figure that can be paired with its
	// text (a reply of 21 completion tokens in the example of
	// https://platform.moonshot.cn/docs/api/chat, see README.md) sits at
	// that end. o200k spends 0.744 tokens per Han character on the
	// Chinese samples of the sample set (measured by TestHanFactor), so
	// 0.667 / 0.744 = 0.90.
	hanFactor = 0.90

	// otherFactor is the factor for every other o200k token (Latin and
	// other scripts, kana, Hangul, digits, punctuation, code, JSON). Kimi
	// documents no figure for them. Kimi's published K2 tokenizer is a
	// tiktoken BPE with the same pre-tokenization rules as o200k (apart
	// from splitting Han runs off) and a vocabulary of similar size
	// (163,840 vs 200,019), so o200k counts are taken as they are.
	otherFactor = 1.0

	// tokensPerMessage is the framing of one message in Kimi's chat
	// template (as published with the K2 weights): <|im_user|> (or
	// <|im_system|>, <|im_assistant|>) before the role name,
	// <|im_middle|> before the content and <|im_end|> after it. The role
	// name is counted as text (1 token for system, user, assistant and
	// tool), so a plain message costs 4 tokens of framing. The kimitest
	// emulator charges 4 plus its count of the role name.
	tokensPerMessage = 3

	// tokensPerRequest is the priming of the reply at the end of the
	// prompt: <|im_assistant|>assistant<|im_middle|>. The emulator charges
	// 3 as well.
	tokensPerRequest = 3

	// tokensPerToolsBlock frames the tool definitions in the template:
	// <|im_system|>tool_declare<|im_middle|> … <|im_end|> (3 special
	// tokens and "tool_declare", which is 3 o200k tokens).
	tokensPerToolsBlock = 6

	// tokensPerToolCall frames one tool call of an assistant message:
	// <|tool_call_begin|>, the call id around the function name
	// ("functions." and ":0": 4 tokens; the name itself is in the call's
	// text; ids are functions.NAME:IDX, see
	// https://github.com/MoonshotAI/Kimi-K2/blob/main/docs/tool_call_guidance.md),
	// <|tool_call_argument_begin|> and <|tool_call_end|>.
	tokensPerToolCall = 7

	// tokensPerToolCallSection frames the tool calls of one message:
	// <|tool_calls_section_begin|> and <|tool_calls_section_end|>.
	tokensPerToolCallSection = 2
)

// DefaultMaxTokens is the max_tokens Kimi reserves for a request that does
// not set one, in the context window and in TPM accounting: the API
// reference's max_tokens entry gives 1024 as the value used when it is
// not set (https://platform.moonshot.cn/docs/api/chat). Thinking models
// may use a larger default.
const DefaultMaxTokens = catalog.DefaultMaxTokens

// Message is the part of a chat message that costs prompt tokens. Callers
// adapt their own message type to it (Chat does it for kimi.Message);
// images and videos are not covered (Kimi charges a fixed 1,024 tokens per
// image: https://www.kimi.com/help/kimi-api/api-model-selection).
type Message struct {
	Role             string
	Content          string
	Name             string
	ReasoningContent string
	// ToolCalls holds the text of each tool call the assistant made, one
	// element per call: its function name and arguments, e.g.
	// `get_weather {"city":"北京"}`.
	ToolCalls []string
}

// Estimator estimates prompt tokens with a configurable safety factor.
// The zero value (and a nil *Estimator) uses DefaultSafetyFactor. An
// Estimator is safe for concurrent use.
type Estimator struct {
	// SafetyFactor multiplies the calibrated estimate. 0 (or a negative
	// or non-finite value) means DefaultSafetyFactor; 1 gives the
	// calibrated best estimate.
	SafetyFactor float64
}

func (e *Estimator) factor() float64 {
	if e == nil || !(e.SafetyFactor > 0) || math.IsInf(e.SafetyFactor, 0) {
		return DefaultSafetyFactor
	}
	return e.SafetyFactor
}

// encoder loads o200k_base once, on first use, for splitEncode: the
// reference the hand-written split (fast.go) is tested against, and its
// fallback. The vocabulary is compiled into the tiktoken-go module;
// nothing is read from the network or a cache directory. Only o200k is
// referenced, so the linker drops the module's other vocabularies.
var encoder = sync.OnceValue(codec.NewO200kBase)

// Text returns the calibrated token count of plain text, without framing
// overheads or safety factor.
func Text(s string) int {
	return ceil(text(s))
}

// Messages estimates the prompt_tokens of a chat request with the given
// messages and tool definitions (the request's "tools" JSON array, or
// nil), with DefaultSafetyFactor applied.
func Messages(msgs []Message, toolsJSON []byte) int {
	return (*Estimator)(nil).Messages(msgs, toolsJSON)
}

// Messages estimates the prompt_tokens of a chat request with the given
// messages and tool definitions (the request's "tools" JSON array, or
// nil), with e's safety factor applied. Tokens that a $web_search result
// adds (a tool message named "$web_search" whose content carries
// "usage":{"total_tokens":N}, see
// https://platform.moonshot.cn/docs/guide/use-web-search) are added as
// reported, without the safety factor.
func (e *Estimator) Messages(msgs []Message, toolsJSON []byte) int {
	n := float64(tokensPerRequest)
	search := 0
	for i := range msgs {
		m := &msgs[i]
		n += tokensPerMessage + text(m.Role) + text(m.Name) + text(m.Content) + text(m.ReasoningContent)
		if len(m.ToolCalls) > 0 {
			n += tokensPerToolCallSection
			for _, tc := range m.ToolCalls {
				n += tokensPerToolCall + text(tc)
			}
		}
		if m.Role == "tool" && m.Name == "$web_search" {
			search += webSearchTokens(m.Content)
		}
	}
	if t := bytes.TrimSpace(toolsJSON); len(t) > 0 && string(t) != "null" && string(t) != "[]" {
		var compact bytes.Buffer
		if json.Compact(&compact, t) == nil {
			t = compact.Bytes()
		}
		n += tokensPerToolsBlock + text(string(t))
	}
	return ceil(n*e.factor()) + search
}

// FitsContext reports whether a request of promptTokens with the given
// max_tokens fits a model's context window: Kimi rejects prompt +
// max_tokens > window (https://platform.moonshot.cn/docs/guide/faq).
// maxTokens <= 0 means the request does not set max_tokens, so
// DefaultMaxTokens is reserved.
func FitsContext(promptTokens, maxTokens, contextWindow int) bool {
	return promptTokens+reserved(maxTokens) <= contextWindow
}

// Charge returns the tokens Kimi's gateway charges against the TPM and
// TPD limits when it admits a request (see the rate limits in
// https://platform.moonshot.cn/docs/intro): the prompt plus max_tokens,
// or DefaultMaxTokens when maxTokens <= 0, regardless of how many tokens
// are generated.
func Charge(promptTokens, maxTokens int) int {
	return promptTokens + reserved(maxTokens)
}

func reserved(maxTokens int) int {
	if maxTokens <= 0 {
		return DefaultMaxTokens
	}
	return maxTokens
}

// webSearchTokens reads usage.total_tokens from the arguments of a
// $web_search call echoed back as a tool message.
func webSearchTokens(content string) int {
	var v struct {
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if json.Unmarshal([]byte(content), &v) != nil || v.Usage.TotalTokens < 0 {
		return 0
	}
	return v.Usage.TotalTokens
}

// ceil rounds a weighted count up, ignoring float noise below 1e-9.
func ceil(x float64) int {
	return int(math.Ceil(x - 1e-9))
}

// text is the calibrated, unrounded count of s: o200k tokens, each
// weighted by the script it holds.
func text(s string) float64 {
	if s == "" {
		return 0
	}
	han, other := split(s)
	return hanFactor*float64(han) + otherFactor*float64(other)
}

// split encodes s with o200k and returns how many of its tokens hold a Han
// character (or a byte of one: o200k splits rare characters into byte
// tokens) and how many do not.
func split(s string) (han, other int) {
	if !utf8.ValidString(s) {
		// regexp2 matches runes: make the pieces' bytes match s's.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if f := fast(); f != nil && !useEncode {
		return f.split(s)
	}
	return splitEncode(s)
}

// useEncode switches split to tiktoken-go's Encode (splitEncode), which
// gives the same counts about five times slower. split also falls back to
// it when the ranks read back from tiktoken-go do not look like o200k's.
var useEncode = false

// splitEncode is split for valid UTF-8 s, through tiktoken-go's Encode.
func splitEncode(s string) (han, other int) {
	_, toks, err := encoder().Encode(s)
	if err != nil {
		// Only a failing regexp match (a timeout, which o200k does not
		// set) gets here. Fall back to one token per rune, which errs
		// high for every script.
		return 0, utf8.RuneCountInString(s)
	}
	off := 0
	for _, t := range toks {
		if !strings.HasPrefix(s[off:], t) {
			// The pieces cover s in order; stay correct if o200k's
			// split pattern ever skips a character.
			if i := strings.Index(s[off:], t); i >= 0 {
				off += i
			}
		}
		if spanHasHan(s, off, min(off+len(t), len(s))) {
			han++
		} else {
			other++
		}
		off += len(t)
	}
	return han, other
}

// spanHasHan reports whether s[a:b] overlaps the bytes of a Han rune.
func spanHasHan(s string, a, b int) bool {
	for a > 0 && !utf8.RuneStart(s[a]) {
		a--
	}
	for a < b {
		c := s[a]
		if c < utf8.RuneSelf {
			a++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[a:])
		if unicode.Is(unicode.Han, r) {
			return true
		}
		a += size
	}
	return false
}
