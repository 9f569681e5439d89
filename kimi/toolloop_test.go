package kimi_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestFormulaURI(t *testing.T) {
	for in, want := range map[string]string{
		"web-search":                 "moonshot/web-search:latest",
		"moonshot/convert":           "moonshot/convert:latest",
		"moonshot/web-search:latest": "moonshot/web-search:latest",
		"date:v2":                    "moonshot/date:v2",
		"":                           "",
	} {
		if got := kimi.FormulaURI(in); got != want {
			t.Errorf("FormulaURI(%q) = %q, want %q", in, got, want)
		}
	}
}

// The URI goes into the path unescaped; a URI that would change the URL
// is refused before sending.
func TestFormulaPaths(t *testing.T) {
	c, _, rec := setup(t)
	if _, err := c.Formulas.Tools(testCtx(t), "web-search"); err != nil {
		t.Fatal(err)
	}
	if got := rec.last().Path; got != "/v1/formulas/moonshot/web-search:latest/tools" {
		t.Errorf("path %q", got)
	}
	for _, bad := range []string{"a/b/c", "web search", "x?y", "../files", "moonshot/:latest", "./convert", "web-search:", "a:b:c", "moonshot/.:latest"} {
		var ve *kimi.ValidationError
		if _, err := c.Formulas.Tools(testCtx(t), bad); !errors.As(err, &ve) || ve.Field != "formula" {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

// Tools keeps every entry; a plugin's functions expand to chat names
// with an underscore and run names with a dot.
func TestFormulaToolsAndPlugins(t *testing.T) {
	c, _, _ := setup(t)
	l, err := c.Formulas.Tools(testCtx(t), "excel")
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Tools) != 1 || l.Tools[0].Type != kimi.FormulaToolTypePlugin || l.Tools[0].Plugin == nil || len(l.Tools[0].Raw) == 0 {
		t.Fatalf("excel tools %+v", l.Tools)
	}
	fs := l.Functions()
	if len(fs) == 0 || fs[0].Name != "excel."+l.Tools[0].Plugin.Functions[0].Name || fs[0].Tool.Function.Name != "excel_"+l.Tools[0].Plugin.Functions[0].Name ||
		fs[0].URI != "moonshot/excel:latest" {
		t.Errorf("functions %+v", fs)
	}
	if err := (&kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("x")}, Tools: l.ChatTools()}).Validate(); err != nil {
		t.Errorf("the expanded tools are not valid chat tools: %v", err)
	}
	_, err = c.Formulas.Tools(testCtx(t), "quickjs")
	if !errors.Is(err, kimi.ErrNotFound) || !strings.Contains(err.Error(), "formula not found") {
		t.Errorf("quickjs: %v", err)
	}
}

func TestFormulaRun(t *testing.T) {
	c, _, _ := setup(t)
	f, err := c.Formulas.Run(testCtx(t), "convert", "convert", `{"value":72,"from_unit":"°F","to_unit":"°C"}`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Result()
	if err != nil || out != "72.0 °F = 22.22 °C" || !strings.HasPrefix(f.ID, "fiber-") || f.Formula != "moonshot/convert:latest" {
		t.Fatalf("fiber %+v: %q, %v", f, out, err)
	}
	// A search answers in an encrypted output, which Result returns.
	f, err = c.Formulas.Run(testCtx(t), "web-search", "web_search", `{"query":"Go 1.26"}`)
	if out, rerr := f.Result(); err != nil || rerr != nil || !strings.HasPrefix(out, "----MOONSHOT ENCRYPTED BEGIN----") {
		t.Fatalf("search: %v %v %q", err, rerr, out)
	}
	// A failed fiber is returned, and Result says why.
	f, err = c.Formulas.Run(testCtx(t), "convert", "no_such_function", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var fe *kimi.FiberError
	if _, err := f.Result(); !errors.As(err, &fe) || fe.Status == kimi.FiberSucceeded || !strings.Contains(fe.Detail, "no matching lambda found") {
		t.Errorf("failed fiber: %v", err)
	}
	msg := f.ToolMessage(kimi.ToolCall{ID: "c1", Function: kimi.ToolCallFunction{Name: "no_such_function"}})
	if msg.Role != kimi.RoleTool || msg.ToolCallID != "c1" || !strings.HasPrefix(msg.Content, "Error: ") {
		t.Errorf("tool message %+v", msg)
	}
	if _, err := c.Formulas.Run(testCtx(t), "convert", "convert", `{not json`); err == nil {
		t.Error("bad arguments sent")
	}
}

// One turn calls a formula and a local tool; both run (at once), both
// results go back, and the model answers from them. Every step is seen.
func TestToolLoopMixesFormulaAndLocal(t *testing.T) {
	for _, stream := range []bool{false, true} {
		c, _, rec := setup(t, kimitest.WithRule(kimitest.Rule{Match: "weather in Paris", ToolCalls: []kimitest.RuleToolCall{
			{Name: "convert", Arguments: `{"value":72,"from_unit":"°F","to_unit":"°C"}`},
			{Name: "get_weather", Arguments: `{"city":"Paris"}`},
		}}))
		var local atomic.Int32
		var kinds []kimi.StepKind
		var results []string
		loop := &kimi.ToolLoop{Client: c, Formulas: []string{"convert"}, Stream: stream,
			Tools: []kimi.LocalTool{kimi.FuncTool("get_weather", "Weather of a city", `{"type":"object","properties":{"city":{"type":"string"}}}`,
				func(ctx context.Context, call kimi.ToolCall) (string, error) {
					local.Add(1)
					return "72 °F and sunny", nil
				})},
			OnStep: func(s kimi.Step) {
				kinds = append(kinds, s.Kind)
				if s.Kind == kimi.StepToolResult {
					results = append(results, s.Source+": "+s.Result)
				}
			}}
		res, err := loop.Run(testCtx(t), &kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("What is the weather in Paris, in Celsius?")}})
		if err != nil {
			t.Fatal(err)
		}
		if local.Load() != 1 || res.Rounds != 2 || res.ToolCalls != 2 || len(res.Messages) != 5 {
			t.Fatalf("stream=%v: %d local calls, result %+v", stream, local.Load(), res)
		}
		if !strings.Contains(res.Completion.Text(), "72.0 °F = 22.22 °C") || !strings.Contains(res.Completion.Text(), "sunny") {
			t.Errorf("answer %q", res.Completion.Text())
		}
		if want := []string{"formula: 72.0 °F = 22.22 °C", "local: 72 °F and sunny"}; strings.Join(results, "|") != strings.Join(want, "|") {
			t.Errorf("results %q", results)
		}
		// The thinking model's tool-call turn went back with its reasoning.
		asst := res.Messages[1]
		if asst.ReasoningContent == "" || len(asst.ToolCalls) != 2 {
			t.Errorf("assistant turn %+v", asst)
		}
		sawChunk := false
		for _, k := range kinds {
			sawChunk = sawChunk || k == kimi.StepChunk
		}
		if sawChunk != stream || kinds[len(kinds)-1] != kimi.StepCompletion {
			t.Errorf("stream=%v: steps %v", stream, kinds)
		}
		if n := rec.count("POST", "/formulas/moonshot/convert:latest/fibers"); n != 1 {
			t.Errorf("%d fibers", n)
		}
	}
}

// A failed tool goes back to the model by default; StopOnToolError ends
// the loop with it. Steps yields the same steps as OnStep sees.
func TestToolLoopToolErrors(t *testing.T) {
	rule := kimitest.WithRule(kimitest.Rule{Match: "broken", ToolCalls: []kimitest.RuleToolCall{{Name: "convert", Arguments: `{"value":"x"}`}}})
	c, _, _ := setup(t, rule)
	req := &kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("a broken conversion")}}
	loop := &kimi.ToolLoop{Client: c, Formulas: []string{"convert"}}
	var failed int
	for s, err := range loop.Steps(testCtx(t), req) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Kind == kimi.StepToolResult && s.Err != nil && strings.HasPrefix(s.Result, "Error: ") {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed results", failed)
	}
	loop.StopOnToolError = true
	res, err := loop.Run(testCtx(t), req)
	var fe *kimi.FiberError
	if !errors.As(err, &fe) || res.Rounds != 1 {
		t.Errorf("StopOnToolError: %v after %d rounds", err, res.Rounds)
	}
	// Names must be unique across the formulas and the local tools.
	dup := &kimi.ToolLoop{Client: c, Formulas: []string{"convert"}, Tools: []kimi.LocalTool{kimi.FuncTool("convert", "", "", nil)}}
	if _, err := dup.Run(testCtx(t), req); err == nil {
		t.Error("duplicate tool name accepted")
	}
}

// MaxSteps counts the rounds of tool calls run; a formula named twice is
// declared once; a handler's panic reaches the caller's goroutine.
func TestToolLoopStepsAndPanics(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "weather", ToolCalls: []kimitest.RuleToolCall{{Name: "get_x", Arguments: `{}`}}}))
	req := &kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("the weather, please")}}
	var ran atomic.Int32
	tool := kimi.FuncTool("get_x", "x", "", func(context.Context, kimi.ToolCall) (string, error) { ran.Add(1); return "x", nil })
	loop := &kimi.ToolLoop{Client: c, MaxSteps: 1, Formulas: []string{"convert", "moonshot/convert:latest"}, Tools: []kimi.LocalTool{tool}}
	res, err := loop.Run(testCtx(t), req)
	if err != nil || ran.Load() != 1 || res.Rounds != 2 {
		t.Fatalf("MaxSteps 1: %v, %d runs, %d rounds", err, ran.Load(), res.Rounds)
	}

	boom := kimi.FuncTool("get_x", "x", "", func(context.Context, kimi.ToolCall) (string, error) { panic("boom") })
	loop = &kimi.ToolLoop{Client: c, Tools: []kimi.LocalTool{boom}}
	got := func() (p any) {
		defer func() { p = recover() }()
		loop.Run(testCtx(t), req)
		return nil
	}()
	if got != "boom" {
		t.Errorf("recovered %v, want the handler's panic", got)
	}
}

// One loop: a completion that calls convert, the fiber, and the answer,
// over loopback against the emulator; beside it the two completions
// alone, so that the loop's own cost (declaration, routing, the fiber)
// shows.
func BenchmarkToolLoop(b *testing.B) {
	srv := kimitest.NewServer(b, kimitest.WithRule(kimitest.Rule{Match: "Celsius", ToolCalls: []kimitest.RuleToolCall{
		{Name: "convert", Arguments: `{"value":72,"from_unit":"°F","to_unit":"°C"}`}}}))
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
	req := &kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("72 °F in Celsius?")}}
	b.Run("loop", func(b *testing.B) {
		loop := &kimi.ToolLoop{Client: c, Formulas: []string{"convert"}}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := loop.Run(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fiber", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Formulas.Run(context.Background(), "convert", "convert", `{"value":72,"from_unit":"°F","to_unit":"°C"}`); err != nil {
				b.Fatal(err)
			}
		}
	})
}
