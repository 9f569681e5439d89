package onesdk_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/tokencount"
)

func conversation() []onesdk.Message {
	return []onesdk.Message{
		onesdk.SystemMessage("You are Kimi, a helpful assistant. Answer briefly."),
		onesdk.UserMessage("What is the rotation period of the Earth? 地球的自转周期是多少?"),
		onesdk.AssistantMessage("About 23 hours 56 minutes (a sidereal day)."),
		onesdk.UserMessage("And the Moon's? Give the figure in days, with two decimals."),
	}
}

// CountTokens is the server's count: the prompt_tokens a chat completion
// of the same messages reports.
func TestCountTokensMatchesPromptTokens(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	for _, model := range []string{"moonshot-v1-8k", "kimi-k2.6"} {
		msgs := conversation()
		n, err := sdk.CountTokens(ctx, model, msgs)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := sdk.Generate(ctx, &onesdk.Request{Model: model, Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		if n <= 0 || n != resp.Usage.PromptTokens {
			t.Errorf("%s: CountTokens = %d, chat prompt_tokens = %d", model, n, resp.Usage.PromptTokens)
		}
	}
}

// The offline estimate of package tokencount stays within a sane factor of
// the server's count, for English, Chinese and mixed prompts: it errs high
// for Chinese, and can be ~30% low for English.
func TestOfflineEstimateWithinFactor(t *testing.T) {
	sdk, _ := setup(t)
	for name, msgs := range map[string][]onesdk.Message{
		"conversation": conversation(),
		"english":      {onesdk.UserMessage(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 200))},
		"chinese":      {onesdk.UserMessage(strings.Repeat("月之暗面提供基于 HTTP 的 API 服务接入。", 100))},
	} {
		server, err := sdk.CountTokens(t.Context(), "moonshot-v1-128k", msgs)
		if err != nil {
			t.Fatal(err)
		}
		est := tokencount.Chat(msgs, nil)
		if float64(est) < 0.8*float64(server) || float64(est) > 2*float64(server) {
			t.Errorf("%s: offline estimate %d, server %d: outside [0.8x, 2x]", name, est, server)
		}
	}
}

// Tools and tool calls count towards the offline estimate.
func TestOfflineEstimateCountsToolsAndCalls(t *testing.T) {
	msgs := []onesdk.Message{onesdk.UserMessage("What is the weather in Lisbon?")}
	base := tokencount.Chat(msgs, nil)
	tools := []onesdk.Tool{{Type: "function", Function: onesdk.ToolFunction{
		Name: "get_weather", Description: "Get the current weather for a city, in degrees Celsius",
		Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`),
	}}}
	if withTools := tokencount.Chat(msgs, tools); withTools <= base {
		t.Errorf("tools not counted: %d with, %d without", withTools, base)
	}
	call := onesdk.Message{Role: kimi.RoleAssistant, ToolCalls: []onesdk.ToolCall{{ID: "get_weather:0", Type: "function",
		Function: kimi.ToolCallFunction{Name: "get_weather", Arguments: `{"city":"Lisbon, Portugal"}`}}}}
	if withCall := tokencount.Chat(append(msgs, call), nil); withCall <= base {
		t.Errorf("tool call not counted: %d with, %d without", withCall, base)
	}
	if tokencount.Chat(nil, nil) < 0 {
		t.Error("negative estimate for no messages")
	}
}

func TestCountTokensErrors(t *testing.T) {
	sdk, _ := setup(t)
	_, err := sdk.CountTokens(t.Context(), "no-such-model", conversation())
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &apiErr) {
		t.Fatalf("unknown model: want an ErrBadRequest from the server, got %v", err)
	}
}
