package onesdk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimitest"
)

// The examples run against kimitest, a local emulator of the Kimi
// platform, whose answers are deterministic. Against the real platform,
// leave APIURL and HTTPClient empty and set MOONSHOT_API_KEY.

// emulator starts a Kimi emulator on a free loopback port and returns an
// SDK that talks to it. Call the returned function when done.
func emulator(opts ...kimitest.Option) (*onesdk.SDK, func()) {
	srv, err := kimitest.Start("127.0.0.1:0", opts...)
	if err != nil {
		log.Fatal(err)
	}
	sdk, err := onesdk.New("kimi", onesdk.Config{APIKey: srv.Key, APIURL: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	return sdk, srv.Close
}

func ExampleNew() {
	srv, err := kimitest.Start("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// "kimi" (or "moonshot") is Moonshot's platform; APIKey defaults to
	// MOONSHOT_API_KEY and APIURL to the platform of Region.
	sdk, err := onesdk.New("kimi", onesdk.Config{APIKey: srv.Key, APIURL: srv.URL})
	if err != nil {
		log.Fatal(err)
	}
	model, err := sdk.GetModel(context.Background(), "moonshot-v1-8k")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sdk.Provider(), model.ID, model.ContextLength)

	// An unknown provider is a configuration error.
	_, err = onesdk.New("openai", onesdk.Config{APIKey: "sk-..."})
	fmt.Println(errors.Is(err, onesdk.ErrConfig))
	// Output:
	// kimi moonshot-v1-8k 8192
	// true
}

func ExampleSDK_Generate() {
	sdk, stop := emulator(kimitest.WithRule(kimitest.Rule{Match: "capital of France", Reply: "Paris."}))
	defer stop()

	resp, err := sdk.Generate(context.Background(), &onesdk.Request{
		Model: "kimi-k2.6",
		Messages: []onesdk.Message{
			onesdk.SystemMessage("Answer in one word."),
			onesdk.UserMessage("What is the capital of France?"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Text(), resp.Choices[0].FinishReason)
	// Output: Paris. stop
}

func ExampleSDK_StreamGenerate() {
	sdk, stop := emulator(kimitest.WithRule(kimitest.Rule{Match: "count", Reply: "One, two, three."}))
	defer stop()

	st, err := sdk.StreamGenerate(context.Background(), &onesdk.Request{
		Model:    "kimi-k2.6",
		Messages: []onesdk.Message{onesdk.UserMessage("Please count to three.")},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	for chunk, err := range st.All() {
		if err != nil {
			log.Fatal(err) // a stream cut short ends with an ErrConnection error
		}
		fmt.Print(chunk.Text())
	}
	fmt.Println()
	fmt.Println(st.Completion().Choices[0].FinishReason)
	// Output:
	// One, two, three.
	// stop
}

func ExampleSDK_CreateCache() {
	// The emulator builds caches at once here; Kimi takes 40–60 s.
	sdk, stop := emulator(kimitest.WithCacheReadyDelay(0))
	defer stop()
	ctx := context.Background()

	manual := strings.Repeat("The reset button is on the back of the device. ", 100)
	cache, err := sdk.CreateCache(ctx, &onesdk.CacheCreateRequest{
		Model:    "moonshot-v1",
		Messages: []onesdk.Message{onesdk.SystemMessage("Answer from this manual:\n" + manual)},
		TTL:      time.Hour,
		Tags:     []string{"manual"},
	})
	if err != nil {
		log.Fatal(err)
	}
	cache, err = sdk.WaitCacheReady(ctx, cache.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cache.Status)

	// The first message names the cache, by tag (or id); the server puts
	// the cached messages in its place.
	resp, err := sdk.Generate(ctx, &onesdk.Request{
		Model: "moonshot-v1-32k",
		Messages: []onesdk.Message{
			onesdk.CacheMessage(onesdk.CacheRef{Tag: "manual", ResetTTL: time.Hour}),
			onesdk.UserMessage("Where is the reset button?"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.CacheInfo().Hit, resp.Usage.CachedTokens == cache.Tokens)
	// Output:
	// ready
	// true true
}

func ExampleSDK_UploadFile() {
	sdk, stop := emulator()
	defer stop()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "onesdk-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(path, []byte("The meeting moved to Thursday."), 0o600); err != nil {
		log.Fatal(err)
	}

	f, err := sdk.UploadFile(ctx, path, onesdk.PurposeFileExtract)
	if err != nil {
		log.Fatal(err)
	}
	defer sdk.DeleteFile(ctx, f.ID)
	if _, err := sdk.WaitFileProcessed(ctx, f.ID); err != nil {
		log.Fatal(err)
	}
	content, err := sdk.GetFileContent(ctx, f.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Filename, f.Bytes)
	fmt.Println(content.Content)
	// Output:
	// notes.txt 30
	// The meeting moved to Thursday.
}

// Errors match their kinds with errors.Is; an error of the API is an
// *APIError with the status, Kimi's error type and the request id.
func Example_errors() {
	sdk, stop := emulator()
	defer stop()

	_, err := sdk.GetCache(context.Background(), "cache-does-not-exist")
	fmt.Println(errors.Is(err, onesdk.ErrNotFound), errors.Is(err, onesdk.ErrBadRequest), errors.Is(err, onesdk.ErrRateLimit))

	var apiErr *onesdk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.RequestID != "")
	}

	// A request the client can tell is wrong is not sent: the error is a
	// *ValidationError naming the field.
	_, err = sdk.Generate(context.Background(), &onesdk.Request{
		Model:       "kimi-k2.6",
		Messages:    []onesdk.Message{onesdk.UserMessage("Hi")},
		Temperature: onesdk.Ptr(3.0),
	})
	var ve *onesdk.ValidationError
	fmt.Println(errors.Is(err, onesdk.ErrBadRequest), errors.As(err, &ve) && ve.Field == "temperature")
	// Output:
	// true true false
	// 404 true
	// true true
}

// Search the web and convert units with Kimi's official tools: the loop
// declares the formulas' tools, runs each call the model makes on the
// platform, sends the results back and returns the answer. The emulator
// stands in for Kimi; its rule makes the model call both tools.
func ExampleSDK_ToolLoop() {
	sdk, stop := emulator(kimitest.WithRule(kimitest.Rule{Match: "boiling point", ToolCalls: []kimitest.RuleToolCall{
		{Name: "web_search", Arguments: `{"query":"boiling point of water in Fahrenheit"}`},
		{Name: "convert", Arguments: `{"value":212,"from_unit":"°F","to_unit":"°C"}`},
	}}))
	defer stop()

	loop := sdk.ToolLoop([]string{"web-search", "convert"})
	loop.OnStep = func(s onesdk.Step) {
		if s.Kind == onesdk.StepToolResult {
			result := s.Result
			if strings.HasPrefix(result, "----MOONSHOT ENCRYPTED") {
				result = "(encrypted results, for the model)"
			}
			fmt.Printf("%s(%s) → %s\n", s.Call.Function.Name, s.Call.Function.Arguments, result)
		}
	}
	res, err := loop.Run(context.Background(), &onesdk.Request{Model: "kimi-k3", Messages: []onesdk.Message{
		onesdk.UserMessage("What is the boiling point of water in Fahrenheit, and in Celsius?")}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Rounds, "completions,", res.ToolCalls, "tool calls")
	// Output:
	// web_search({"query":"boiling point of water in Fahrenheit"}) → (encrypted results, for the model)
	// convert({"value":212,"from_unit":"°F","to_unit":"°C"}) → 212.0 °F = 100.0 °C
	// 2 completions, 2 tool calls
}

// Excel/CSV analysis with the official excel formula: upload a file,
// then run a function on it directly, or let the model call it.
func ExampleSDK_RunFormula() {
	sdk, stop := emulator()
	defer stop()
	ctx := context.Background()

	path := filepath.Join(os.TempDir(), "sales.csv")
	os.WriteFile(path, []byte("city,sales\nParis,120\nLyon,80\nParis,30\n"), 0o600)
	defer os.Remove(path)
	f, err := sdk.UploadFile(ctx, path, "file-extract")
	if err != nil {
		log.Fatal(err)
	}

	args := fmt.Sprintf(`{"file_id":%q,"by":"city","agg":{"sales":"sum"}}`, f.ID)
	fiber, err := sdk.RunFormula(ctx, "excel", "excel.groupby", args)
	if err != nil {
		log.Fatal(err)
	}
	out, err := fiber.Result()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)

	res, err := sdk.ToolLoop([]string{"excel"}).Run(ctx, &onesdk.Request{Model: "kimi-k3", Messages: []onesdk.Message{
		onesdk.UserMessage(fmt.Sprintf(`What is the total of "sales" in %s?`, f.ID))}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ToolCalls, "tool call")
	// Output:
	// city   sales
	// Lyon   80
	// Paris  150
	// [2 rows × 2 columns]
	// 1 tool call
}
