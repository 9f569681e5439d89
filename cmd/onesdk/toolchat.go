package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk"
)

// officialFormulas are the official tools --tool completes.
var officialFormulas = []string{"web-search", "convert", "date", "base64", "fetch", "memory", "random-choice", "excel", "rethink", "mew", "$web_search"}

// replyWithTools answers through the tool loop: formula tools run as
// fibers (and "$web_search" as Kimi's builtin search) until the model
// answers. Each tool call and a short form of its result go to standard
// error; the answer is printed as it arrives, like any reply. The message
// returned is the final answer; the tool turns are not kept in a
// session's history.
func (a *app) replyWithTools(ctx context.Context, sdk *onesdk.SDK, req onesdk.Request, noStream bool, p *replyPrinter) (onesdk.Message, *onesdk.Response, error) {
	var formulas []string
	webSearch := false
	for _, t := range a.tools {
		if t == "$web_search" {
			webSearch = true
			continue
		}
		formulas = append(formulas, t)
	}
	loop := sdk.ToolLoop(formulas)
	loop.WebSearch = webSearch
	loop.Stream = !noStream
	var werr error
	notes := a.toolNotes
	if notes == nil {
		notes = io.Discard
	}
	loop.OnStep = func(s onesdk.Step) {
		switch s.Kind {
		case onesdk.StepChunk:
			p.reasoning(s.Chunk.Reasoning())
			if err := p.text(s.Chunk.Text()); err != nil && werr == nil {
				werr = err
			}
		case onesdk.StepCompletion:
			if noStream && len(s.Completion.Choices) > 0 {
				m := s.Completion.Choices[0].Message
				p.reasoning(m.ReasoningContent)
				if err := p.text(m.Text()); err != nil && werr == nil {
					werr = err
				}
			}
		case onesdk.StepToolCall:
			p.endReasoning()
			fmt.Fprintf(notes, "[tool %s %s]\n", s.Call.Function.Name, short(s.Call.Function.Arguments, 200))
		case onesdk.StepToolResult:
			if s.Err != nil {
				fmt.Fprintf(notes, "[tool %s failed: %s]\n", s.Call.Function.Name, short(s.Err.Error(), 200))
			} else {
				fmt.Fprintf(notes, "[tool %s → %s]\n", s.Call.Function.Name, short(s.Result, 120))
			}
		}
	}
	res, err := loop.Run(ctx, &req)
	ferr := p.finish()
	if err != nil {
		return onesdk.Message{}, nil, err
	}
	if werr != nil {
		return onesdk.Message{}, nil, werr
	}
	var msg onesdk.Message
	if len(res.Completion.Choices) > 0 {
		msg = res.Completion.Choices[0].Message
	}
	return msg, res.Completion, ferr
}

// short is s on one line, cut to n runes; an encrypted search result is
// named rather than shown.
func short(s string, n int) string {
	if strings.HasPrefix(s, "----MOONSHOT ENCRYPTED BEGIN----") {
		return fmt.Sprintf("(encrypted result, %d bytes)", len(s))
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
