package kimi

import (
	"slices"
	"strings"
)

// Accumulator assembles streamed chunks into the completion a non-stream
// call would have returned. Stream feeds one as chunks pass through Next;
// it is exported for callers that decode chunks themselves. The zero value
// is ready to use. It is not safe for concurrent use.
type Accumulator struct {
	id, model, fingerprint string
	created                int64
	usage                  *Usage // top-level (include_usage trailer)
	choices                []*choiceAcc
}

type choiceAcc struct {
	index     int
	content   strings.Builder
	reasoning strings.Builder
	finish    string
	usage     *Usage
	logprobs  []byte

	calls []*toolCallAcc
	// byIndex maps a tool-call index to calls; byPos maps an array position
	// to calls for deltas that carry no index (see AddChunk).
	byIndex map[int]*toolCallAcc
	byPos   []*toolCallAcc
}

type toolCallAcc struct {
	id, typ, name string
	args          strings.Builder
}

// AddChunk merges c into the accumulated completion.
//
// Tool-call fragments are merged by their index. A fragment without an
// index (seen in some third-party captures) is placed by its position in
// the delta's tool_calls array: a fragment that carries a new id starts a
// new call at that position, one without an id continues the call last
// started at that position.
func (a *Accumulator) AddChunk(c *ChatCompletionChunk) {
	if c == nil {
		return
	}
	setOnce(&a.id, c.ID)
	setOnce(&a.model, c.Model)
	setOnce(&a.fingerprint, c.SystemFingerprint)
	if a.created == 0 {
		a.created = c.Created
	}
	if c.Usage != nil {
		a.usage = c.Usage
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		ca := a.choice(ch.Index)
		d := &ch.Delta
		ca.content.WriteString(d.Content)
		ca.reasoning.WriteString(d.ReasoningContent)
		for pos := range d.ToolCalls {
			ca.addToolCall(pos, &d.ToolCalls[pos])
		}
		if ch.FinishReason != "" {
			ca.finish = ch.FinishReason
		}
		if ch.Usage != nil {
			ca.usage = ch.Usage
		}
		if len(ch.Logprobs) > 0 && string(ch.Logprobs) != "null" {
			// Logprobs arrive as {"content":[...]} per chunk; keep the
			// entries in order so the result has the non-stream shape.
			ca.logprobs = appendLogprobs(ca.logprobs, ch.Logprobs)
		}
	}
}

func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func (a *Accumulator) choice(index int) *choiceAcc {
	for _, ca := range a.choices {
		if ca.index == index {
			return ca
		}
	}
	ca := &choiceAcc{index: index}
	a.choices = append(a.choices, ca)
	return ca
}

func (ca *choiceAcc) addToolCall(pos int, tc *ToolCall) {
	var t *toolCallAcc
	switch {
	case tc.Index != nil:
		t = ca.byIndex[*tc.Index]
		if t == nil {
			t = ca.newCall()
			if ca.byIndex == nil {
				ca.byIndex = map[int]*toolCallAcc{}
			}
			ca.byIndex[*tc.Index] = t
		}
	default:
		for len(ca.byPos) <= pos {
			ca.byPos = append(ca.byPos, nil)
		}
		t = ca.byPos[pos]
		if t == nil || (tc.ID != "" && t.id != "" && tc.ID != t.id) {
			t = ca.newCall()
			ca.byPos[pos] = t
		}
	}
	setOnce(&t.id, tc.ID)
	setOnce(&t.typ, tc.Type)
	setOnce(&t.name, tc.Function.Name)
	t.args.WriteString(tc.Function.Arguments)
}

func (ca *choiceAcc) newCall() *toolCallAcc {
	t := &toolCallAcc{}
	ca.calls = append(ca.calls, t)
	return t
}

// appendLogprobs merges the "content" arrays of per-chunk logprobs objects.
func appendLogprobs(acc []byte, lp []byte) []byte {
	const prefix = `{"content":[`
	s := strings.TrimSpace(string(lp))
	inner, ok := strings.CutPrefix(s, prefix)
	if !ok || !strings.HasSuffix(inner, "]}") {
		return acc // unknown shape: not merged
	}
	inner = strings.TrimSpace(strings.TrimSuffix(inner, "]}"))
	if inner == "" {
		if acc == nil {
			acc = append(acc, prefix+"]}"...)
		}
		return acc
	}
	if acc == nil {
		return append([]byte(prefix), inner+"]}"...)
	}
	acc = acc[:len(acc)-2] // drop "]}"
	if acc[len(acc)-1] != '[' {
		acc = append(acc, ',')
	}
	return append(acc, inner+"]}"...)
}

// Completion returns the completion assembled so far, shaped like a
// non-stream response: object "chat.completion", one Choice per choice
// index in order, each with the assistant message (content, reasoning
// content, tool calls), finish reason and the choice's usage. Usage is the
// include_usage trailer when there was one, else the usage of the only
// choice, else (n > 1 without a trailer) the prompt counted once and the
// completions summed.
func (a *Accumulator) Completion() *ChatCompletion {
	c := &ChatCompletion{
		ID: a.id, Object: "chat.completion", Created: a.created, Model: a.model,
		SystemFingerprint: a.fingerprint,
		Choices:           make([]Choice, 0, len(a.choices)),
	}
	order := slices.Clone(a.choices)
	slices.SortStableFunc(order, func(x, y *choiceAcc) int { return x.index - y.index })
	for _, ca := range order {
		c.Choices = append(c.Choices, Choice{
			Index:        ca.index,
			Message:      ca.message(),
			FinishReason: ca.finish,
			Usage:        ca.usage,
			Logprobs:     slices.Clone(ca.logprobs),
		})
	}
	c.Usage = a.totalUsage()
	return c
}

func (a *Accumulator) totalUsage() *Usage {
	if a.usage != nil {
		u := *a.usage
		return &u
	}
	var sum *Usage
	for _, ca := range a.choices {
		if ca.usage == nil {
			continue
		}
		if sum == nil {
			u := *ca.usage
			sum = &u
			continue
		}
		sum.CompletionTokens += ca.usage.CompletionTokens
		sum.TotalTokens = sum.PromptTokens + sum.CompletionTokens
		if d := ca.usage.CompletionTokensDetails; d != nil {
			if sum.CompletionTokensDetails == nil {
				sum.CompletionTokensDetails = &CompletionTokensDetails{}
			} else {
				cd := *sum.CompletionTokensDetails
				sum.CompletionTokensDetails = &cd
			}
			sum.CompletionTokensDetails.ReasoningTokens += d.ReasoningTokens
		}
	}
	return sum
}

// Message returns choice 0's assistant message, ready to append to the
// conversation history: it keeps ReasoningContent (thinking models reject
// a tool-call turn without it) and ToolCalls. The role is always
// assistant.
func (a *Accumulator) Message() Message {
	for _, ca := range a.choices {
		if ca.index == 0 {
			return ca.message()
		}
	}
	return Message{Role: RoleAssistant}
}

func (ca *choiceAcc) message() Message {
	m := Message{
		Role:             RoleAssistant,
		Content:          ca.content.String(),
		ReasoningContent: ca.reasoning.String(),
	}
	for _, t := range ca.calls {
		typ := t.typ
		if typ == "" {
			typ = ToolTypeFunction
		}
		m.ToolCalls = append(m.ToolCalls, ToolCall{
			ID: t.id, Type: typ,
			Function: ToolCallFunction{Name: t.name, Arguments: t.args.String()},
		})
	}
	return m
}
