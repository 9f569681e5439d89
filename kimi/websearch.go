package kimi

import (
	"context"
	"fmt"
	"slices"
)

// MaxToolRounds bounds RunTools: after this many completions that still
// end in tool calls it gives up with ErrTooManyToolRounds.
const MaxToolRounds = 10

// ErrTooManyToolRounds is returned (wrapped) by RunTools when the model
// keeps calling tools after MaxToolRounds completions.
var ErrTooManyToolRounds = sentinel("kimi: too many tool-call rounds", ErrBadRequest)

// ToolHandler runs a function tool the model called and returns the
// content of the tool message sent back. An error stops RunTools.
type ToolHandler func(ctx context.Context, call ToolCall) (string, error)

// RunTools runs the tool-call loop, including Kimi's builtin $web_search:
// it sends req (adding WebSearchTool if req has no $web_search tool) and,
// while the reply ends with finish_reason "tool_calls", appends the
// assistant message exactly as returned (reasoning_content included) and
// one tool message per call, then asks again. A $web_search call is
// answered with its arguments unchanged, which tells Kimi to run the
// search; any other call goes to handler (nil handler: an error naming the
// tool). Only the first choice is followed.
//
// It returns the final completion and the whole conversation (req's
// messages plus every assistant and tool message added). On error the
// completion and history reached so far are returned with it. req is not
// modified. opts apply to every completion.
func (s *ChatService) RunTools(ctx context.Context, req *ChatRequest, handler ToolHandler, opts ...RequestOption) (*ChatCompletion, []Message, error) {
	if req == nil {
		return nil, nil, invalid("request", nil, "must not be nil")
	}
	cur := *req
	cur.Messages = slices.Clone(req.Messages)
	if !slices.ContainsFunc(cur.Tools, func(t Tool) bool { return t.Function.Name == WebSearchToolName }) {
		cur.Tools = append(slices.Clone(req.Tools), WebSearchTool())
	}
	var last *ChatCompletion
	for round := 1; round <= MaxToolRounds; round++ {
		cc, err := s.Create(ctx, &cur, opts...)
		if err != nil {
			return last, cur.Messages, err
		}
		last = cc
		if len(cc.Choices) == 0 {
			return cc, cur.Messages, fmt.Errorf("%w: completion %s has no choices", ErrBadResponse, cc.ID)
		}
		choice := cc.Choices[0]
		msg := choice.Message
		if msg.Role == "" {
			msg.Role = RoleAssistant
		}
		cur.Messages = append(cur.Messages, historyMessage(msg))
		if choice.FinishReason != FinishToolCalls || len(msg.ToolCalls) == 0 {
			return cc, cur.Messages, nil
		}
		for _, call := range msg.ToolCalls {
			name := call.Function.Name
			var content string
			switch {
			case name == WebSearchToolName:
				content = call.Function.Arguments
			case handler == nil:
				return cc, cur.Messages, WithKind(fmt.Errorf("kimi: the model called tool %q and RunTools has no handler", name), ErrBadRequest)
			default:
				out, err := handler(ctx, call)
				if err != nil {
					return cc, cur.Messages, fmt.Errorf("kimi: tool %q: %w", name, err)
				}
				content = out
			}
			cur.Messages = append(cur.Messages, ToolMessage(call.ID, name, content))
		}
	}
	return last, cur.Messages, fmt.Errorf("%w (%d)", ErrTooManyToolRounds, MaxToolRounds)
}
