package kimi_test

import (
	"context"
	"fmt"
	"log"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

func ExampleChatService_Stream() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithRule(kimitest.Rule{Match: "sea",
		Reply: "The sea covers most of the Earth. It is deep, salty and always moving."}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
	history := []kimi.Message{kimi.UserMessage("Tell me about the sea.")}

	stream, err := client.Chat.Stream(context.Background(), &kimi.ChatRequest{
		Model:         "kimi-k2-turbo-preview",
		Messages:      history,
		StreamOptions: &kimi.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer stream.Close()
	for stream.Next() {
		for _, c := range stream.Current().Choices {
			fmt.Print(c.Delta.Content)
		}
	}
	fmt.Println()
	if err := stream.Err(); err != nil {
		// errors.Is(err, kimi.ErrStreamIncomplete): the answer was cut short.
		log.Fatal(err)
	}
	// The assembled reply goes back into the history as is.
	history = append(history, stream.Message())
	u := stream.Completion().Usage
	fmt.Println(len(history), history[1].Role, u.TotalTokens == u.PromptTokens+u.CompletionTokens)
	// Output:
	// The sea covers most of the Earth. It is deep, salty and always moving.
	// 2 assistant true
}

func ExampleStream_All() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithRule(kimitest.Rule{Match: "Count", Reply: "1 2 3 4 5 6 7 8 9 10"}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	client := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})

	stream, err := client.Chat.Stream(context.Background(), &kimi.ChatRequest{
		Model:    "kimi-k2-turbo-preview",
		Messages: []kimi.Message{kimi.UserMessage("Count to ten.")},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Breaking out of the loop closes the stream.
	for chunk, err := range stream.All() {
		if err != nil {
			log.Fatal(err)
		}
		for _, c := range chunk.Choices {
			fmt.Print(c.Delta.Content)
		}
	}
	fmt.Println()
	// Output:
	// 1 2 3 4 5 6 7 8 9 10
}
