package kimi_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

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
