package onesdk

import (
	"context"

	"github.com/onesdk-go/onesdk/kimi"
)

// Kimi's official tools (the Formula API): hosted tools such as web
// search, unit conversion, dates and base64 that a chat declares like its
// own and the platform runs. Only the kimi provider offers them; on
// another provider the methods return an ErrUnsupported error.

type (
	// FormulaTools is a formula's tool list; ChatTools gives the
	// declarations for a Request, Functions the callable functions.
	FormulaTools = kimi.FormulaTools
	// Fiber is one run of a formula function; Result is its output.
	Fiber = kimi.Fiber
	// ToolLoop runs a chat with formula tools, local Go tools and
	// $web_search to its answer; see SDK.ToolLoop.
	ToolLoop = kimi.ToolLoop
	// LocalTool is a tool run by a Go function (see FuncTool).
	LocalTool = kimi.LocalTool
	// ToolHandler runs a local tool call and returns its result.
	ToolHandler = kimi.ToolHandler
	// Step is one event of a ToolLoop: a chunk, a completion, a tool call
	// or its result.
	Step = kimi.Step
	// ToolLoopResult is the answer and the conversation of a ToolLoop.
	ToolLoopResult = kimi.ToolLoopResult
)

// Step kinds.
const (
	StepChunk      = kimi.StepChunk
	StepCompletion = kimi.StepCompletion
	StepToolCall   = kimi.StepToolCall
	StepToolResult = kimi.StepToolResult
)

// FuncTool declares a local tool: its name, description, JSON schema of
// its parameters ("" for none) and the handler that runs it.
func FuncTool(name, description, parameters string, h ToolHandler) LocalTool {
	return kimi.FuncTool(name, description, parameters, h)
}

// FormulaURI completes a formula name: "web-search" is
// "moonshot/web-search:latest".
func FormulaURI(name string) string { return kimi.FormulaURI(name) }

// ListFormulaTools lists a formula's tools ("web-search", or a full URI).
func (s *SDK) ListFormulaTools(ctx context.Context, formula string, opts ...RequestOption) (*FormulaTools, error) {
	return gated(s, featFormulas, func() (*FormulaTools, error) { return s.client.Formulas.Tools(ctx, formula, opts...) })
}

// RunFormula runs one function of a formula with arguments as JSON text
// (what the model put in its tool call) and returns the fiber.
func (s *SDK) RunFormula(ctx context.Context, formula, name, arguments string, opts ...RequestOption) (*Fiber, error) {
	return gated(s, featFormulas, func() (*Fiber, error) { return s.client.Formulas.Run(ctx, formula, name, arguments, opts...) })
}

// ToolLoop returns a loop on this SDK's client over the named formulas
// ("web-search", "convert", …) and local tools; set its other fields
// (Stream, OnStep, MaxSteps, WebSearch) before Run:
//
//	loop := sdk.ToolLoop([]string{"web-search", "convert"}, onesdk.FuncTool("get_time", "Current time", "", now))
//	res, err := loop.Run(ctx, &onesdk.Request{Model: "kimi-k2.6", Messages: …})
//	fmt.Println(res.Completion.Text())
//
// On a provider without official tools, listing the formulas fails
// (GenerateWithTools says ErrUnsupported before sending); local tools
// work everywhere.
func (s *SDK) ToolLoop(formulas []string, tools ...LocalTool) *ToolLoop {
	return &kimi.ToolLoop{Client: s.client, Formulas: formulas, Tools: tools}
}

// GenerateWithTools is Generate with tools: it runs a ToolLoop over the
// named formulas and local tools and returns the final response and the
// whole conversation.
func (s *SDK) GenerateWithTools(ctx context.Context, req *Request, formulas []string, tools ...LocalTool) (*Response, []Message, error) {
	if len(formulas) > 0 && !s.p.has(featFormulas) {
		return nil, nil, s.unsupported(featFormulas)
	}
	res, err := s.ToolLoop(formulas, tools...).Run(ctx, req)
	if res == nil {
		return nil, nil, err
	}
	return res.Completion, res.Messages, err
}
