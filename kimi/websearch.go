package kimi

import "context"

// MaxToolRounds bounds RunTools (and a ToolLoop without MaxSteps): after
// this many rounds of tool calls run, a completion that still asks for
// tools ends it with ErrTooManyToolRounds.
const MaxToolRounds = 10

// ErrTooManyToolRounds is returned (wrapped) by RunTools and ToolLoop when
// the model still calls tools after the last round allowed.
var ErrTooManyToolRounds = sentinel("kimi: too many tool-call rounds", ErrBadRequest)

// ToolHandler runs a function tool the model called and returns the
// content of the tool message sent back. An error stops RunTools.
type ToolHandler func(ctx context.Context, call ToolCall) (string, error)

// RunTools runs the tool-call loop with Kimi's builtin $web_search: a
// ToolLoop with WebSearch set (adding WebSearchTool if req has no
// $web_search tool), whose calls to req's own tools go to handler, and
// which stops at the first tool that fails (nil handler: an error naming
// the tool). A $web_search call is answered with its arguments
// unchanged, which tells Kimi to run the search. Only the first choice is
// followed; the assistant messages go back exactly as returned
// (reasoning_content included).
//
// It returns the final completion and the whole conversation (req's
// messages plus every assistant and tool message added). On error the
// completion and history reached so far are returned with it. req is not
// modified. opts apply to every completion. ToolLoop adds formula tools,
// local tools with their own handlers, streaming and observable steps.
func (s *ChatService) RunTools(ctx context.Context, req *ChatRequest, handler ToolHandler, opts ...RequestOption) (*ChatCompletion, []Message, error) {
	l := &ToolLoop{Client: s.c, WebSearch: true, Handler: handler, StopOnToolError: true, Parallel: 1}
	res, err := l.Run(ctx, req, opts...)
	if res == nil {
		return nil, nil, err
	}
	return res.Completion, res.Messages, err
}
