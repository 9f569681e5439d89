package kimitest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/onesdk-go/onesdk/kimitest"
)

// A scripted reply served over plain HTTP. In a test, use
// kimitest.NewServer(t, …) instead of Start; it closes itself.
func Example() {
	srv, err := kimitest.Start("127.0.0.1:0",
		kimitest.WithKey("sk-test"),
		kimitest.WithRule(kimitest.Rule{Match: "ping", Reply: "pong"}),
	)
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	body := `{"model":"kimi-k2.6","messages":[{"role":"user","content":"ping"}]}`
	req, _ := http.NewRequest("POST", srv.URL+"/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.Key)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()

	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	fmt.Println(res.StatusCode, out.Choices[0].Message.Content, out.Choices[0].FinishReason)
	// Output: 200 pong stop
}

// CountTokens is the emulator's documented tokenizer: about 4 characters
// of English or 1.5 Chinese characters per token.
func ExampleCountTokens() {
	fmt.Println(kimitest.CountTokens("Hello, world!"), kimitest.CountTokens("你好，世界。"))
	// Output: 6 4
}
