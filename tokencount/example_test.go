package tokencount_test

import (
	"context"
	"fmt"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/tokencount"
)

// A pre-flight check before calling moonshot-v1-8k (context window 8,192).
func Example() {
	msgs := []tokencount.Message{
		{Role: "system", Content: "你是 Kimi，由 Moonshot AI 提供的人工智能助手。"},
		{Role: "user", Content: "你好，我叫李雷，1+1等于多少？"},
	}
	prompt := tokencount.Messages(msgs, nil) // includes DefaultSafetyFactor (high for Chinese; English can still be under)
	fmt.Println("prompt tokens:", prompt)
	fmt.Println("fits 8k with max_tokens 8160:", tokencount.FitsContext(prompt, 8160, 8192))
	fmt.Println("fits 8k with default max_tokens:", tokencount.FitsContext(prompt, 0, 8192))
	fmt.Println("TPM charge:", tokencount.Charge(prompt, 0))
	// Output:
	// prompt tokens: 42
	// fits 8k with max_tokens 8160: false
	// fits 8k with default max_tokens: true
	// TPM charge: 1066
}

func ExampleText() {
	fmt.Println(tokencount.Text("The quick brown fox jumps over the lazy dog."))
	fmt.Println(tokencount.Text("在北京预订一家意大利餐厅是个不错的选择。"))
	// Output:
	// 10
	// 14
}

// The estimate of a chat request built from package kimi's types, tool
// definitions included.
func ExampleChat() {
	msgs := []kimi.Message{
		kimi.SystemMessage("You are a helpful assistant."),
		kimi.UserMessage("北京明天天气怎么样？"),
	}
	tools := []kimi.Tool{{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{
		Name:       "get_weather",
		Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
	}}}
	fmt.Println("without tools:", tokencount.Chat(msgs, nil))
	fmt.Println("with tools:", tokencount.Chat(msgs, tools))
	// Output:
	// without tools: 25
	// with tools: 69
}

// A conversation that keeps its prompt within 6,000 estimated tokens by
// dropping its oldest turns.
func ExampleChatMessages() {
	client := kimi.NewClient(kimi.Config{}) // MOONSHOT_API_KEY
	conv := kimi.NewConversation(client.Chat, "moonshot-v1-8k", "You are Kimi.")
	conv.MaxTokens = 6000
	conv.CountTokens = tokencount.ChatMessages
	reply, err := conv.Send(context.Background(), "Summarise our discussion so far.")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.Text())
}
