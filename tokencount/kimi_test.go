package tokencount

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

// The adapters fit the hooks they are made for.
var (
	_ = kimi.Conversation{CountTokens: ChatMessages}
	_ = kimi.Conversation{CountTokens: (&Estimator{SafetyFactor: 1.5}).ChatMessages}
	_ = kimi.DocumentQA{CountTokens: ChatForModel}
	_ = kimi.DocumentQA{CountTokens: (&Estimator{SafetyFactor: 1.5}).ChatForModel}
)

// kimiMessages writes a sample conversation as kimi messages, tool calls
// and tool call ids included.
func kimiMessages(c conversation) []kimi.Message {
	var out []kimi.Message
	for _, m := range c.msgs {
		km := kimi.Message{Role: kimi.Role(m.Role), Content: m.Content, Name: m.Name, ReasoningContent: m.ReasoningContent}
		for i, tc := range m.ToolCalls {
			name, args, _ := strings.Cut(tc, " ")
			km.ToolCalls = append(km.ToolCalls, kimi.ToolCall{ID: fmt.Sprintf("%s:%d", name, i), Type: "function",
				Function: kimi.ToolCallFunction{Name: name, Arguments: args}})
		}
		if m.Role == "tool" {
			km.ToolCallID = m.Name + ":0"
		}
		out = append(out, km)
	}
	return out
}

func kimiTools(t *testing.T, c conversation) []kimi.Tool {
	t.Helper()
	if c.tools == "" {
		return nil
	}
	var tools []kimi.Tool
	if err := json.Unmarshal([]byte(c.tools), &tools); err != nil {
		t.Fatal(err)
	}
	return tools
}

// TestChatMatchesMessages: Chat counts kimi types exactly as Messages
// counts the same request written as Message values and tools JSON.
func TestChatMatchesMessages(t *testing.T) {
	for _, c := range conversations {
		msgs, tools := kimiMessages(c), kimiTools(t, c)
		want := Messages(c.msgs, toolsOf(c))
		if got := Chat(msgs, tools); got != want {
			t.Errorf("%s: Chat = %d, Messages = %d", c.name, got, want)
		}
		one := &Estimator{SafetyFactor: 1}
		if got, want := one.Chat(msgs, tools), one.Messages(c.msgs, toolsOf(c)); got != want {
			t.Errorf("%s: calibrated Chat = %d, Messages = %d", c.name, got, want)
		}
		noTools := Chat(msgs, nil)
		if got := ChatMessages(msgs); got != noTools {
			t.Errorf("%s: ChatMessages = %d, Chat without tools = %d", c.name, got, noTools)
		}
		if got, err := ChatForModel(context.Background(), "moonshot-v1-8k", msgs); got != noTools || err != nil {
			t.Errorf("%s: ChatForModel = %d, %v; want %d, nil", c.name, got, err, noTools)
		}
	}
}

func TestChatCountsTextPartsOnly(t *testing.T) {
	text := []kimi.Message{kimi.UserMessage("What is in this picture?")}
	parts := []kimi.Message{{Role: kimi.RoleUser, Parts: []kimi.ContentPart{
		{Type: "image_url", ImageURL: &kimi.MediaURL{URL: "data:image/png;base64," + strings.Repeat("iVBORw0KGgo", 100)}},
		{Type: "text", Text: "What is in this picture?"},
	}}}
	if got, want := Chat(parts, nil), Chat(text, nil); got != want {
		t.Errorf("message with an image and text = %d, want the text alone's %d", got, want)
	}
}

func TestEstimatorAdapters(t *testing.T) {
	msgs := kimiMessages(conversations[0])
	one, two := &Estimator{SafetyFactor: 1}, &Estimator{SafetyFactor: 2}
	calibrated := one.ChatMessages(msgs)
	if got := two.ChatMessages(msgs); got < 2*calibrated-1 || got > 2*calibrated {
		t.Errorf("SafetyFactor 2: ChatMessages = %d, want about %d", got, 2*calibrated)
	}
	if got, _ := two.ChatForModel(context.Background(), "kimi-k2.5", msgs); got != two.ChatMessages(msgs) {
		t.Errorf("ChatForModel = %d, want ChatMessages' %d", got, two.ChatMessages(msgs))
	}
	var nilEst *Estimator
	if got := nilEst.ChatMessages(msgs); got != ChatMessages(msgs) {
		t.Errorf("nil Estimator = %d, want %d", got, ChatMessages(msgs))
	}
}
