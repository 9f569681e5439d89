package kimi

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// LocalTool is a tool the caller runs in Go: its declaration and the
// handler that answers the model's calls.
type LocalTool struct {
	Tool    Tool
	Handler ToolHandler
}

// FuncTool declares a function tool run by h. parameters is its JSON
// schema (an object schema; "" means no parameters).
func FuncTool(name, description, parameters string, h ToolHandler) LocalTool {
	var p json.RawMessage
	if parameters != "" {
		p = json.RawMessage(parameters)
	}
	return LocalTool{Tool: Tool{Type: ToolTypeFunction, Function: ToolFunction{Name: name, Description: description, Parameters: p}}, Handler: h}
}

// ToolLoop runs a chat with tools to its answer: it declares the tools of
// the formulas named in Formulas (Kimi's official tools, run as fibers),
// the caller's Tools (run by their handlers) and, with WebSearch, the
// builtin $web_search (which Kimi runs itself, and which needs thinking
// off); sends the request; runs every tool call of the reply, several at
// once; sends the results back; and repeats until the model answers
// without tool calls or MaxSteps rounds of tool calls have been run.
//
// The assistant turns go back exactly as received, reasoning_content
// included, as the thinking models require on tool-call turns. Each
// completion, streamed chunk (with Stream), tool call and tool result is
// a Step, passed to OnStep and yielded by Steps.
//
// A formula's tool list is fetched once per ToolLoop and kept. A ToolLoop
// may be used for several conversations, one at a time or at once.
type ToolLoop struct {
	Client *Client
	// Formulas are formula URIs or short names ("web-search", "convert").
	Formulas []string
	// Tools are the caller's own tools.
	Tools []LocalTool
	// Handler, when set, runs calls to the tools the request itself
	// declares (ChatRequest.Tools), which have no handler of their own.
	Handler ToolHandler
	// WebSearch adds the builtin $web_search, answered by echoing its
	// arguments, which tells Kimi to search.
	WebSearch bool
	// MaxSteps bounds the tool rounds, the completions whose tool calls
	// are run; 0 means MaxToolRounds. When the completion after the last
	// of them still asks for tools, Run returns ErrTooManyToolRounds
	// (those calls unanswered): at most MaxSteps+1 completions in all.
	MaxSteps int
	// Stream streams each completion, yielding its chunks as steps.
	Stream bool
	// Parallel bounds the tool calls of one turn run at once; 0 runs
	// them all at once, 1 one after the other.
	Parallel int
	// StopOnToolError ends the loop at the first tool that fails (a
	// handler error, a fiber that did not succeed, a call to an unknown
	// tool). By default the failure goes back to the model as the tool's
	// result ("Error: …"), as Kimi's own sample client does, and the loop
	// goes on.
	StopOnToolError bool
	// OnStep, when set, sees every step as it happens, from the goroutine
	// that called Run.
	OnStep func(Step)

	mu     sync.Mutex
	listed map[string][]FormulaFunction // by full URI
}

// StepKind says what a Step reports.
type StepKind int

const (
	// StepChunk is one streamed chunk of a completion (with Stream).
	StepChunk StepKind = 1 + iota
	// StepCompletion is a whole completion: one that asks for tools, or
	// the final answer (Final).
	StepCompletion
	// StepToolCall is a tool call about to run.
	StepToolCall
	// StepToolResult is a tool call's result (or Err).
	StepToolResult
)

// Tool sources, in Step.Source.
const (
	ToolSourceFormula = "formula" // run as a fiber of Step.Formula
	ToolSourceLocal   = "local"   // run by a LocalTool's handler
	ToolSourceBuiltin = "builtin" // run by Kimi ($web_search)
)

// Step is one event of a ToolLoop.
type Step struct {
	Kind StepKind
	// Round counts the completions, from 1.
	Round int

	Chunk      *ChatCompletionChunk // StepChunk
	Completion *ChatCompletion      // StepCompletion
	Final      bool                 // StepCompletion: the answer, no more tools

	Call    *ToolCall // StepToolCall, StepToolResult
	Source  string    // ToolSource*
	Formula string    // the formula's URI, for a formula tool
	Fiber   *Fiber    // StepToolResult of a formula tool
	Result  string    // StepToolResult: the tool message's content
	Err     error     // StepToolResult: why the tool failed
	Elapsed time.Duration
}

// ToolLoopResult is where a loop ended.
type ToolLoopResult struct {
	// Completion is the last completion: the answer when err is nil.
	Completion *ChatCompletion
	// Messages is the whole conversation: the request's messages and
	// every assistant and tool message added.
	Messages []Message
	// Rounds is the number of completions, ToolCalls the calls run.
	Rounds, ToolCalls int
}

// Run runs the loop on req (which is not modified); opts apply to every
// completion and fiber. On error the result holds what was reached.
func (l *ToolLoop) Run(ctx context.Context, req *ChatRequest, opts ...RequestOption) (*ToolLoopResult, error) {
	return l.run(ctx, req, opts, func(Step) bool { return true })
}

// Steps runs the loop as an iterator over its steps; the loop's error,
// if any, is yielded last. Stopping the range stops the loop. OnStep is
// still called.
func (l *ToolLoop) Steps(ctx context.Context, req *ChatRequest, opts ...RequestOption) iter.Seq2[Step, error] {
	return func(yield func(Step, error) bool) {
		stopped := false
		_, err := l.run(ctx, req, opts, func(s Step) bool {
			if !yield(s, nil) {
				stopped = true
				return false
			}
			return true
		})
		if err != nil && !stopped {
			yield(Step{}, err)
		}
	}
}

// errStopped ends a loop whose Steps range was left.
var errStopped = fmt.Errorf("kimi: tool loop stopped")

// route is how a declared tool name is run.
type route struct {
	formula *FormulaFunction
	local   ToolHandler
}

func (l *ToolLoop) run(ctx context.Context, req *ChatRequest, opts []RequestOption, emit func(Step) bool) (*ToolLoopResult, error) {
	if l.Client == nil {
		return nil, WithKind(fmt.Errorf("kimi: ToolLoop.Client is nil"), ErrConfig)
	}
	if req == nil {
		return nil, invalid("request", nil, "must not be nil")
	}
	step := func(s Step) bool {
		if l.OnStep != nil {
			l.OnStep(s)
		}
		return emit(s)
	}
	cur := *req
	cur.Messages = slices.Clone(req.Messages)
	res := &ToolLoopResult{Messages: cur.Messages}
	tools, routes, err := l.declare(ctx, req.Tools, opts)
	if err != nil {
		return res, err
	}
	cur.Tools = tools
	maxSteps := l.MaxSteps
	if maxSteps <= 0 {
		maxSteps = MaxToolRounds
	}
	for round := 1; ; round++ {
		cc, err := l.complete(ctx, &cur, round, opts, step)
		res.Rounds = round
		if cc != nil {
			res.Completion = cc
		}
		if err != nil {
			return res, err
		}
		if len(cc.Choices) == 0 {
			return res, fmt.Errorf("%w: completion %s has no choices", ErrBadResponse, cc.ID)
		}
		choice := cc.Choices[0]
		msg := choice.Message
		if msg.Role == "" {
			msg.Role = RoleAssistant
		}
		cur.Messages = append(cur.Messages, historyMessage(msg))
		res.Messages = cur.Messages
		final := choice.FinishReason != FinishToolCalls || len(msg.ToolCalls) == 0
		if !step(Step{Kind: StepCompletion, Round: round, Completion: cc, Final: final}) {
			return res, errStopped
		}
		if final {
			return res, nil
		}
		if round > maxSteps {
			return res, fmt.Errorf("%w (%d)", ErrTooManyToolRounds, maxSteps)
		}
		results, err := l.runCalls(ctx, round, msg.ToolCalls, routes, opts, step)
		res.ToolCalls += len(results)
		cur.Messages = append(cur.Messages, results...)
		res.Messages = cur.Messages
		if err != nil {
			return res, err
		}
	}
}

// declare builds the request's tools: its own, then the formulas', then
// the local ones, then $web_search; a name declared twice is an error
// naming both sources, as Kimi refuses duplicate tool names.
func (l *ToolLoop) declare(ctx context.Context, own []Tool, opts []RequestOption) ([]Tool, map[string]route, error) {
	tools := slices.Clone(own)
	routes := map[string]route{}
	source := map[string]string{}
	for _, t := range own {
		source[t.Function.Name] = "the request's tools"
	}
	add := func(t Tool, r route, from string) error {
		if prev, dup := source[t.Function.Name]; dup {
			return invalid("tools", t.Function.Name, "is declared by %s and by %s; tool names must be unique", prev, from)
		}
		source[t.Function.Name] = from
		tools = append(tools, t)
		routes[t.Function.Name] = r
		return nil
	}
	named := map[string]bool{}
	for _, uri := range l.Formulas {
		full := FormulaURI(uri)
		if named[full] {
			continue // "convert" and "moonshot/convert:latest" are one formula
		}
		named[full] = true
		fs, err := l.formula(ctx, uri, opts)
		if err != nil {
			return nil, nil, err
		}
		for i := range fs {
			if err := add(fs[i].Tool, route{formula: &fs[i]}, "formula "+fs[i].URI); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, t := range l.Tools {
		if t.Handler == nil {
			return nil, nil, invalid("Tools", t.Tool.Function.Name, "has no Handler")
		}
		if err := add(t.Tool, route{local: t.Handler}, "a local tool"); err != nil {
			return nil, nil, err
		}
	}
	if l.WebSearch && source[WebSearchToolName] == "" {
		tools = append(tools, WebSearchTool())
	}
	return tools, routes, nil
}

// formula returns a formula's functions, listing them once.
func (l *ToolLoop) formula(ctx context.Context, uri string, opts []RequestOption) ([]FormulaFunction, error) {
	full := FormulaURI(uri)
	l.mu.Lock()
	fs, ok := l.listed[full]
	l.mu.Unlock()
	if ok {
		return fs, nil
	}
	list, err := l.Client.Formulas.Tools(ctx, full, opts...)
	if err != nil {
		return nil, err
	}
	fs = list.Functions()
	l.mu.Lock()
	if l.listed == nil {
		l.listed = map[string][]FormulaFunction{}
	}
	l.listed[full] = fs
	l.mu.Unlock()
	return fs, nil
}

// complete sends one completion, streamed or not.
func (l *ToolLoop) complete(ctx context.Context, req *ChatRequest, round int, opts []RequestOption, step func(Step) bool) (*ChatCompletion, error) {
	if !l.Stream {
		req.Stream = false
		return l.Client.Chat.Create(ctx, req, opts...)
	}
	st, err := l.Client.Chat.Stream(ctx, req, opts...)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for st.Next() {
		if !step(Step{Kind: StepChunk, Round: round, Chunk: st.Current()}) {
			return st.Completion(), errStopped
		}
	}
	if err := st.Err(); err != nil {
		return st.Completion(), err
	}
	return st.Completion(), nil
}

// runCalls runs a turn's tool calls, up to Parallel at once, and returns
// their tool messages in the calls' order. The steps are emitted from
// this goroutine: every call first, then every result in order.
func (l *ToolLoop) runCalls(ctx context.Context, round int, calls []ToolCall, routes map[string]route, opts []RequestOption, step func(Step) bool) ([]Message, error) {
	steps := make([]Step, len(calls))
	for i := range calls {
		s := Step{Kind: StepToolCall, Round: round, Call: &calls[i], Source: ToolSourceLocal}
		name := calls[i].Function.Name
		switch r := routes[name]; {
		case name == WebSearchToolName:
			s.Source = ToolSourceBuiltin
		case r.formula != nil:
			s.Source, s.Formula = ToolSourceFormula, r.formula.URI
		}
		steps[i] = s
		if !step(s) {
			return nil, errStopped
		}
	}
	limit := l.Parallel
	if limit <= 0 {
		limit = len(calls)
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	// A handler's panic is the caller's: it is caught on the call's
	// goroutine and raised again on the loop's, where the caller can
	// recover it, once every call has returned.
	var panicked atomic.Pointer[any]
	for i := range calls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				if p := recover(); p != nil {
					panicked.CompareAndSwap(nil, &p)
				}
			}()
			start := time.Now()
			s := &steps[i]
			s.Kind = StepToolResult
			s.Fiber, s.Result, s.Err = l.runCall(ctx, calls[i], routes, opts)
			s.Elapsed = time.Since(start)
		})
	}
	wg.Wait()
	if p := panicked.Load(); p != nil {
		panic(*p)
	}
	msgs := make([]Message, 0, len(calls))
	var first error
	for i := range steps {
		s := steps[i]
		content := s.Result
		if s.Err != nil {
			if first == nil {
				first = fmt.Errorf("kimi: tool %q: %w", calls[i].Function.Name, s.Err)
			}
			content = "Error: " + s.Err.Error()
			s.Result = content
		}
		msgs = append(msgs, ToolMessage(calls[i].ID, calls[i].Function.Name, content))
		if !step(s) {
			return msgs, errStopped
		}
	}
	if first != nil && (l.StopOnToolError || ctx.Err() != nil) {
		return msgs, first
	}
	return msgs, nil
}

// runCall runs one call: $web_search is answered with its arguments, a
// formula function as a fiber, a local tool by its handler.
func (l *ToolLoop) runCall(ctx context.Context, call ToolCall, routes map[string]route, opts []RequestOption) (*Fiber, string, error) {
	name := call.Function.Name
	r := routes[name]
	switch {
	case name == WebSearchToolName:
		return nil, call.Function.Arguments, nil
	case r.formula != nil:
		f, err := l.Client.Formulas.Run(ctx, r.formula.URI, r.formula.Name, call.Function.Arguments, opts...)
		if err != nil {
			return nil, "", err
		}
		out, err := f.Result()
		return f, out, err
	case r.local != nil:
		out, err := r.local(ctx, call)
		return nil, out, err
	case l.Handler != nil:
		out, err := l.Handler(ctx, call)
		return nil, out, err
	}
	return nil, "", WithKind(fmt.Errorf("kimi: the model called tool %q, which the loop does not declare", name), ErrBadRequest)
}
