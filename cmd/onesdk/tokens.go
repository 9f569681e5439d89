package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/tokencount"
)

// tokenCandidates are the models tokens checks the count against: the
// models chat --file picks from and the default chat model. --model adds
// its own.
var tokenCandidates = append(kimi.DefaultDocumentQAModels(), catalog.RulesFor(catalog.ProviderMoonshot).DefaultModel)

type tokensOptions struct {
	file, messages string
	model          string
	offline        bool
	maxTokens      int
}

// modelFit says whether a prompt fits one model's context window.
type modelFit struct {
	Model         string `json:"model"`
	ContextLength int    `json:"context_length"` // 0: unknown
	Fits          *bool  `json:"fits"`           // prompt + max_tokens within the window; null: unknown window
	Remaining     int    `json:"remaining"`      // window - prompt - max_tokens; negative when over
}

// tokensResult is the --json output of tokens.
type tokensResult struct {
	Tokens int    `json:"tokens"`
	Model  string `json:"model,omitempty"` // model the server counted for; none for an offline estimate
	Method string `json:"method"`          // "server" or "offline-estimate"
	// MaxTokens is the answer budget reserved in every window (--max-tokens).
	MaxTokens int        `json:"max_tokens"`
	Models    []modelFit `json:"models"`
}

func newTokensCmd(a *app) *cobra.Command {
	o := &tokensOptions{}
	cmd := &cobra.Command{
		Use:   "tokens (TEXT... | - | --file PATH | --messages FILE)",
		Short: "Count the tokens of a prompt and check which models it fits",
		Long: `Count the prompt tokens of a text or a conversation, and say whether it
fits the context window of ` + strings.Join(tokenCandidates, ", ") + `
and of --model, with --max-tokens (default and 0: 1024, Kimi's default answer
budget, which it reserves in the window; DocumentQA and chat --file do the
same) kept free for the answer: FITS means prompt + max-tokens <= CONTEXT,
and REMAINING is CONTEXT - prompt - max-tokens.

The input is one of: the arguments (joined by spaces, one user message),
"-" (standard input, one user message), --file PATH (a text file, one user
message) or --messages FILE (a JSON array of chat messages,
[{"role":"system","content":"..."},...]; "-" reads standard input).

By default Kimi counts them (POST /v1/tokenizers/estimate-token-count, free
of charge) for --model (default: the provider's general model); this works with
--offline against the emulator. --offline-estimate counts locally instead,
with no request, no key and any --provider, and context windows from Kimi's
published catalogue. It is only an estimate: it errs high for Chinese, but
for English and code it can be ~30% below the emulator's count (and
possibly Kimi's), so "fits" is not a promise; the server's count is
authoritative.

With --json: {"tokens":N,"model":…,"method":"server"|"offline-estimate",
"max_tokens":M,"models":[{"model":…,"context_length":…,"fits":…,"remaining":…},...]}.`,
		Example: `  onesdk tokens "How many tokens is this?"
  onesdk tokens --file report.txt --model moonshot-v1-32k
  onesdk tokens --messages history.json --offline-estimate
  onesdk --offline tokens --json "hello"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.countTokens(cmd, o, args) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", "count the text of this file (one user message)")
	f.StringVar(&o.messages, "messages", "", `count this JSON array of messages ("-": standard input)`)
	f.StringVarP(&o.model, "model", "m", "", modelHelp("model to count for, also checked for fit"))
	f.BoolVar(&o.offline, "offline-estimate", false, "estimate locally, without any request")
	f.IntVar(&o.maxTokens, "max-tokens", tokencount.DefaultMaxTokens, "answer budget reserved in each context window")
	_ = cmd.RegisterFlagCompletionFunc("model", a.completeModels)
	return cmd
}

func (a *app) countTokens(cmd *cobra.Command, o *tokensOptions, args []string) error {
	f := cmd.Flags()
	o.model = strings.TrimSpace(o.model)
	if !f.Changed("model") {
		o.model = a.defaultModel()
	}
	if o.model == "" {
		return usageErrorf("--model must not be empty")
	}
	given := 0
	for _, b := range []bool{len(args) > 0, f.Changed("file"), f.Changed("messages")} {
		if b {
			given++
		}
	}
	if given != 1 {
		return usageErrorf("give exactly one of TEXT, --file PATH or --messages FILE")
	}
	if o.maxTokens < 0 {
		return usageErrorf("--max-tokens must not be negative")
	}
	msgs, err := tokenInput(cmd.InOrStdin(), o, args)
	if err != nil {
		return err
	}

	// The reservation is tokencount's: 0, like a request without
	// max_tokens, reserves Kimi's default.
	res := tokensResult{MaxTokens: tokencount.Charge(0, o.maxTokens)}
	if o.offline {
		res.Method = "offline-estimate"
		res.Tokens = tokencount.Chat(msgs, nil)
		res.fit(o.model, kimi.ContextWindow) // the published catalogue
		return a.printTokens(cmd.OutOrStdout(), res)
	}
	res.Method, res.Model = "server", o.model
	return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (tokensResult, error) {
		var err error
		if res.Tokens, err = sdk.CountTokens(ctx, o.model, msgs); err != nil {
			return res, err
		}
		// The windows the server reports, where it reports them.
		models, err := sdk.ListModels(ctx)
		if err != nil {
			return res, err
		}
		listed := map[string]int{}
		for _, m := range models {
			listed[m.ID] = m.ContextLength
		}
		res.fit(o.model, func(id string) int { return listed[id] })
		return res, nil
	}, a.printTokens)
}

// fit checks the count against the context windows of the candidate
// models and model, as window gives them (0: unknown).
func (res *tokensResult) fit(model string, window func(string) int) {
	candidates := slices.Clone(tokenCandidates)
	if !slices.Contains(candidates, model) {
		candidates = append(candidates, model)
	}
	for _, id := range candidates {
		mf := modelFit{Model: id, ContextLength: window(id)}
		if mf.ContextLength > 0 {
			mf.Remaining = mf.ContextLength - tokencount.Charge(res.Tokens, res.MaxTokens)
			fits := tokencount.FitsContext(res.Tokens, res.MaxTokens, mf.ContextLength)
			mf.Fits = &fits
		}
		res.Models = append(res.Models, mf)
	}
}

// printTokens prints the count, then whether it fits each model.
func (a *app) printTokens(w io.Writer, res tokensResult) error {
	if a.jsonOut {
		return writeJSON(w, res)
	}
	how := "counted by the server for " + res.Model
	if res.Method == "offline-estimate" {
		how = "offline estimate"
	}
	fmt.Fprintf(w, "%d tokens (%s); %d reserved for the answer (--max-tokens)\n", res.Tokens, how, res.MaxTokens)
	var t table
	t.row("MODEL", "CONTEXT", "FITS", "REMAINING")
	for _, mf := range res.Models {
		switch {
		case mf.Fits == nil:
			t.row(mf.Model, "-", "?", "-")
		case *mf.Fits:
			t.row(mf.Model, strconv.Itoa(mf.ContextLength), "yes", strconv.Itoa(mf.Remaining))
		default:
			t.row(mf.Model, strconv.Itoa(mf.ContextLength), "no", strconv.Itoa(mf.Remaining))
		}
	}
	return t.write(w)
}

// tokenInput returns the messages tokens counts.
func tokenInput(stdin io.Reader, o *tokensOptions, args []string) ([]onesdk.Message, error) {
	switch {
	case o.messages != "":
		b, err := readFlagFile(stdin, "--messages", o.messages)
		if err != nil {
			return nil, err
		}
		return decodeMessages("--messages", o.messages, b)
	case o.file != "":
		b, err := os.ReadFile(o.file)
		if err != nil {
			return nil, usageErrorf("--file: %v", err)
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, usageErrorf("--file %s is empty", o.file)
		}
		return []onesdk.Message{onesdk.UserMessage(string(b))}, nil
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, usageErrorf("empty text on standard input")
		}
		return []onesdk.Message{onesdk.UserMessage(string(b))}, nil
	}
	text := strings.Join(args, " ")
	if strings.TrimSpace(text) == "" {
		return nil, usageErrorf("empty text")
	}
	return []onesdk.Message{onesdk.UserMessage(text)}, nil
}
