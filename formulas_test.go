package onesdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimitest"
)

func TestFormulasThroughTheFacade(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithRule(kimitest.Rule{Match: "Celsius", ToolCalls: []kimitest.RuleToolCall{
		{Name: "convert", Arguments: `{"value":212,"from_unit":"°F","to_unit":"°C"}`},
		{Name: "note", Arguments: `{"text":"boiling"}`},
	}}))
	ctx := context.Background()
	l, err := sdk.ListFormulaTools(ctx, "convert")
	if err != nil || len(l.ChatTools()) != 1 {
		t.Fatalf("tools %+v, %v", l, err)
	}
	f, err := sdk.RunFormula(ctx, "base64", "base64_encode", `{"data":"hello"}`)
	if out, rerr := f.Result(); err != nil || rerr != nil || out != "aGVsbG8=" {
		t.Fatalf("base64: %q %v %v", out, err, rerr)
	}
	noted := ""
	resp, history, err := sdk.GenerateWithTools(ctx, &onesdk.Request{Model: "kimi-k3", Messages: []onesdk.Message{onesdk.UserMessage("212 °F in Celsius?")}},
		[]string{"convert"}, onesdk.FuncTool("note", "Take a note", "", func(_ context.Context, c onesdk.ToolCall) (string, error) {
			noted = c.Function.Arguments
			return "noted", nil
		}))
	if err != nil || !strings.Contains(resp.Text(), "212.0 °F = 100.0 °C") || noted != `{"text":"boiling"}` || len(history) != 5 {
		t.Fatalf("answer %q (history %d), note %q, %v", resp.Text(), len(history), noted, err)
	}
}

// Ace Data Cloud has no official tools: the formula calls say so, and a
// loop with local tools only still works.
func TestFormulasUnsupportedOnAce(t *testing.T) {
	srv := kimitest.NewServer(t)
	ace := aceData(t, srv)
	if _, err := ace.ListFormulaTools(context.Background(), "convert"); !errors.Is(err, onesdk.ErrUnsupported) {
		t.Errorf("ListFormulaTools: %v", err)
	}
	if _, _, err := ace.GenerateWithTools(context.Background(), &onesdk.Request{Model: "kimi-k2.5", Messages: []onesdk.Message{onesdk.UserMessage("hi")}}, []string{"convert"}); !errors.Is(err, onesdk.ErrUnsupported) {
		t.Errorf("GenerateWithTools: %v", err)
	}
}
