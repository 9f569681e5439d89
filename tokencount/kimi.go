package tokencount

import (
	"context"
	"encoding/json"

	"github.com/onesdk-go/onesdk/kimi"
)

// Chat estimates the prompt_tokens of a chat request with these messages
// and tools (nil for none), with DefaultSafetyFactor applied. Only text is
// counted: image and video parts are not. See the package documentation
// for how far the estimate can be off; the server's count
// (kimi.Client.Tokenizers.Estimate, which does not count tools) is
// authoritative.
func Chat(messages []kimi.Message, tools []kimi.Tool) int {
	return (*Estimator)(nil).Chat(messages, tools)
}

// Chat is the package-level Chat with e's safety factor.
func (e *Estimator) Chat(messages []kimi.Message, tools []kimi.Tool) int {
	msgs := make([]Message, len(messages))
	for i, m := range messages {
		tm := Message{Role: string(m.Role), Content: m.Text(), Name: m.Name, ReasoningContent: m.ReasoningContent}
		for _, tc := range m.ToolCalls {
			tm.ToolCalls = append(tm.ToolCalls, tc.Function.Name+" "+tc.Function.Arguments)
		}
		msgs[i] = tm
	}
	var toolsJSON []byte
	if len(tools) > 0 {
		// Tools are plain data; Marshal fails only on Parameters that are
		// not valid JSON, which the request could not send either.
		toolsJSON, _ = json.Marshal(tools)
	}
	return e.Messages(msgs, toolsJSON)
}

// ChatMessages is Chat without tools, shaped for kimi.Conversation's
// token budget:
//
//	conv.MaxTokens = 6000
//	conv.CountTokens = tokencount.ChatMessages
func ChatMessages(messages []kimi.Message) int {
	return (*Estimator)(nil).Chat(messages, nil)
}

// ChatMessages is the package-level ChatMessages with e's safety factor,
// e.g. conv.CountTokens = (&tokencount.Estimator{SafetyFactor: 1.5}).ChatMessages.
func (e *Estimator) ChatMessages(messages []kimi.Message) int {
	return e.Chat(messages, nil)
}

// ChatForModel is ChatMessages shaped for kimi.DocumentQA, which then
// picks a model without asking the server:
//
//	qa.CountTokens = tokencount.ChatForModel
//
// The estimate is the same for every model (one tokenizer is assumed for
// all of them) and never fails. DocumentQA.Ask steps up to a larger model
// when the server refuses an under-estimated prompt as too long.
func ChatForModel(_ context.Context, _ string, messages []kimi.Message) (int, error) {
	return (*Estimator)(nil).Chat(messages, nil), nil
}

// ChatForModel is the package-level ChatForModel with e's safety factor.
func (e *Estimator) ChatForModel(_ context.Context, _ string, messages []kimi.Message) (int, error) {
	return e.Chat(messages, nil), nil
}
