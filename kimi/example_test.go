package kimi_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// The examples talk to the kimitest emulator, which stands in for Kimi;
// its scripted rules keep their output fixed. Against Kimi, build the
// client with kimi.NewClient(kimi.Config{}): the key then comes from
// MOONSHOT_API_KEY.

func ExampleChatService_Create() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithRule(kimitest.Rule{Match: "1+1", Reply: "1+1 equals 2."}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})

	resp, err := c.Chat.Create(context.Background(), &kimi.ChatRequest{
		Model: "kimi-k2.6",
		Messages: []kimi.Message{
			kimi.SystemMessage("You are Kimi."),
			kimi.UserMessage("What is 1+1?"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text())
	fmt.Println(resp.Choices[0].FinishReason, resp.RequestID() != "")
	// Output:
	// 1+1 equals 2.
	// stop true
}

func ExampleChatRequest_Validate() {
	req := &kimi.ChatRequest{
		Model:       "kimi-k2.5",
		Messages:    []kimi.Message{kimi.UserMessage("hi")},
		Temperature: kimi.Ptr(0.3), // kimi-k2.5 has fixed sampling
	}
	err := req.Validate()
	var ve *kimi.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Field)
	fmt.Println(err)
	// Output:
	// true temperature
	// kimi: invalid temperature 0.3: is fixed at 1 for kimi-k2.5 with thinking on; leave it unset
}

func ExampleError() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithRule(kimitest.Rule{Error: &kimitest.RuleError{
		Status: 429, Type: "exceeded_current_quota_error",
		Message: "Your account org<ak> is suspended, please check your plan and billing details",
	}}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})

	_, err = c.Chat.Create(context.Background(), &kimi.ChatRequest{
		Model:    "kimi-k2.6",
		Messages: []kimi.Message{kimi.UserMessage("hi")},
	})
	var apiErr *kimi.Error
	if errors.As(err, &apiErr) {
		// Out of quota: not retried, and not worth retrying.
		fmt.Println(apiErr.StatusCode, apiErr.Type, apiErr.Temporary(), apiErr.Attempts)
		fmt.Println(errors.Is(err, kimi.ErrQuota))
	}
	// Output:
	// 429 exceeded_current_quota_error false 1
	// true
}

func ExampleChatService_RunTools() {
	// The scripted model searches the web and asks for the time, then
	// answers from the results.
	srv, err := kimitest.Start("127.0.0.1:0",
		kimitest.WithRule(kimitest.Rule{Match: "Beijing", ToolCalls: []kimitest.RuleToolCall{
			{Name: kimi.WebSearchToolName, Arguments: `{"search_result":{"search_id":"s-1"}}`},
			{Name: "get_time", Arguments: `{"tz":"Asia/Shanghai"}`},
		}}),
		kimitest.WithRule(kimitest.Rule{Match: "Beijing", Reply: "The lantern festival opened in Beijing; it is noon there."}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// RunTools adds the builtin $web_search tool and answers its calls;
	// get_time calls go to the handler.
	resp, history, err := c.Chat.RunTools(ctx, &kimi.ChatRequest{
		// $web_search runs on models that do not think: moonshot-v1, or
		// kimi-k2.6 with thinking disabled.
		Model:    "moonshot-v1-128k",
		Messages: []kimi.Message{kimi.UserMessage("What happened in Beijing today, and what time is it there?")},
		Tools: []kimi.Tool{{Type: kimi.ToolTypeFunction, Function: kimi.ToolFunction{
			Name:       "get_time",
			Parameters: []byte(`{"type":"object","properties":{"tz":{"type":"string"}}}`),
		}}},
	}, func(ctx context.Context, call kimi.ToolCall) (string, error) {
		return time.Now().UTC().Format(time.RFC3339), nil
	})
	if err != nil {
		log.Fatal(err)
	}
	var called []string
	for _, call := range history[1].ToolCalls {
		called = append(called, call.Function.Name)
	}
	fmt.Println(strings.Join(called, ", "))
	fmt.Println(resp.Text())
	fmt.Println(len(history), "messages")
	// Output:
	// $web_search, get_time
	// The lantern festival opened in Beijing; it is noon there.
	// 5 messages
}

func ExampleClient_SetProxy() {
	srv, err := kimitest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL})

	// From now on every request goes through this SOCKS5 proxy.
	if err := c.SetProxy("socks5://127.0.0.1:1080"); err != nil {
		log.Fatal(err)
	}
	// An unsupported scheme is refused, and the proxy set before stays.
	fmt.Println(c.SetProxy("ftp://proxy.example:21"))
	// "" returns to the environment's proxy settings, which never proxy a
	// loopback address such as the emulator's.
	if err := c.SetProxy(""); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Models.List(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println("listed the models directly")
	// Output:
	// kimi: proxy "ftp://proxy.example:21": scheme must be http, https, socks5 or socks5h
	// listed the models directly
}

// Ask several questions about one long document, paying for the document
// once. The emulator stands in for Kimi here.
func ExampleCachedContext() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithTimeScale(100), kimitest.WithCacheReadyDelay(2*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})

	doc := &kimi.CachedContext{
		Client: c,
		Tag:    "handbook-v1", // other processes using this tag share the cache
		Model:  "moonshot-v1-32k",
		Messages: []kimi.Message{kimi.SystemMessage("Answer from this handbook: " +
			"onboarding has four steps: account, laptop, training and a buddy.")},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // creation takes ~1 min on Kimi
	defer cancel()
	for _, q := range []string{"How many onboarding steps are there?", "What is the last step?"} {
		resp, err := doc.Ask(ctx, &kimi.ChatRequest{Messages: []kimi.Message{kimi.UserMessage(q)}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(doc.Cached(), resp.CacheInfo().Hit, resp.Usage.CachedTokens > 0)
	}
	// Output:
	// true true true
	// true true true
}

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
		Model:         "kimi-k2.6",
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
		Model:    "kimi-k2.6",
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

// Run chat requests on the platform's Batch API, at 60 % of the
// real-time price: write the input file, upload it with purpose batch,
// create the batch, wait for it and read one result per custom_id. (The
// emulator's clock runs 2000 times fast here; on Kimi a batch takes
// hours, within its completion window.)
func ExampleBatchService_Create() {
	srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithTimeScale(2000),
		kimitest.WithRule(kimitest.Rule{Match: "France", Reply: "Paris."}),
		kimitest.WithRule(kimitest.Rule{Match: "Japan", Reply: "Tokyo."}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
	ctx := context.Background()

	var in strings.Builder
	var lines []kimi.BatchLine
	for id, q := range map[string]string{"fr": "Capital of France?", "jp": "Capital of Japan?"} {
		lines = append(lines, kimi.BatchLine{CustomID: id, Method: "POST", URL: kimi.BatchURL,
			Body: kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage(q)}}})
	}
	if err := kimi.WriteBatchInput(&in, lines); err != nil {
		log.Fatal(err)
	}
	f, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "capitals.jsonl", Purpose: kimi.PurposeBatch,
		Reader: strings.NewReader(in.String())})
	if err != nil {
		log.Fatal(err)
	}
	b, err := c.Batches.Create(ctx, &kimi.BatchCreateRequest{InputFileID: f.ID, CompletionWindow: 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	if b, err = c.Batches.WaitDone(ctx, b.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Status, b.RequestCounts.Completed, "of", b.RequestCounts.Total)
	answers := map[string]string{}
	for r, err := range c.Batches.Results(ctx, b) {
		if err != nil {
			log.Fatal(err)
		}
		resp, err := r.Completion()
		if err != nil {
			log.Fatal(err)
		}
		answers[r.CustomID] = resp.Choices[0].Message.Content
	}
	fmt.Println(answers["fr"], answers["jp"])
	// Output:
	// completed 2 of 2
	// Paris. Tokyo.
}
