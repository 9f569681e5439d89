// Command hello is the facade's hello world, built to measure what a
// program that uses onesdk links (BENCHMARKS.md: binary size).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/onesdk-go/onesdk"
)

func main() {
	sdk, err := onesdk.New("kimi", onesdk.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	resp, err := sdk.Generate(context.Background(), &onesdk.Request{
		Model:    "kimi-k2.5",
		Messages: []onesdk.Message{onesdk.UserMessage("Hello")},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(resp.Text())
}
