package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
)

// defaultModel is the model of chat and tokens without --model: the
// provider's current general model (kimi-k2.6 on Moonshot, kimi-k2.5 on
// Ace Data Cloud), from package catalog.
func (a *app) defaultModel() string { return catalog.RulesFor(a.providerInfo.Catalog).DefaultModel }

// modelHelp is the --model flag's help, naming each provider's default.
func modelHelp(what string) string {
	var d []string
	for _, p := range onesdk.Providers() {
		if info, ok := onesdk.LookupProvider(p); ok {
			d = append(d, catalog.RulesFor(info.Catalog).DefaultModel+" on "+p)
		}
	}
	return what + " (default: the provider's, " + strings.Join(d, ", ") + ")"
}

// models names the current models that keep selects, for help texts and
// messages that must stay true when the catalogue changes.
func models(keep func(catalog.Model, catalog.Rules) bool) string {
	return strings.Join(catalog.Current(keep), ", ")
}

// Selectors of models for models.
func explicitCache(_ catalog.Model, r catalog.Rules) bool { return r.ExplicitCache }
func thinks(_ catalog.Model, r catalog.Rules) bool        { return r.Thinking != catalog.ThinkingNone }
func alwaysThinks(_ catalog.Model, r catalog.Rules) bool  { return r.Thinking == catalog.ThinkingForced }
func switchable(_ catalog.Model, r catalog.Rules) bool {
	return r.Thinking == catalog.ThinkingDefaultOn
}
func hasEfforts(_ catalog.Model, r catalog.Rules) bool { return len(r.Efforts) > 0 }

// defaultCacheModel is chat's model with --cache when --model names none:
// the provider's, else Moonshot's, so that a provider without caches is
// told so by the facade (ErrUnsupported) rather than about the model.
func (a *app) defaultCacheModel() string {
	if m := catalog.RulesFor(a.providerInfo.Catalog).DefaultCacheModel; m != "" {
		return m
	}
	return moonshotCacheModel
}

// efforts are the reasoning efforts the current models take, in the
// catalogue's order.
func efforts() []string {
	var all []string
	for _, m := range catalog.Models() {
		if r, _ := m.Rules(); m.Status != catalog.StatusRetired {
			for _, e := range r.Efforts {
				if !slices.Contains(all, e) {
					all = append(all, e)
				}
			}
		}
	}
	return all
}

// largestQAModel is the last rung of the document Q&A ladder.
func largestQAModel() string {
	l := catalog.DocumentQAModels()
	return l[len(l)-1]
}

var moonshotCacheModel = catalog.RulesFor(catalog.ProviderMoonshot).DefaultCacheModel

// cacheResetTTL is the reset_ttl of chat --cache: each question keeps the
// cache alive for another hour (the most Kimi allows).
const cacheResetTTL = time.Hour

type chatOptions struct {
	model         string
	system        string
	temperature   float64
	maxTokens     int
	thinking      string
	effort        string
	noStream      bool
	hideReasoning bool
	interactive   bool
	maxTurns      int
	cache         string   // --cache TAG
	files         []string // --file PATH (repeatable)
	keepFiles     bool
	quota         quotaFlags
	tools         []string // --tool FORMULA (repeatable)
}

func newChatCmd(a *app) *cobra.Command {
	o := &chatOptions{}
	cmd := &cobra.Command{
		Use:   "chat [question | -]",
		Short: "Ask a question, or chat interactively",
		Long: `Ask a question and stream the answer to standard output.

The question is the arguments, joined by spaces; with "-" or when standard
input is piped and no argument is given, it is read from standard input.
With no argument on a terminal, or with --interactive, chat starts a
multi-turn session that keeps the history: /history shows it, /reset clears
it (the --system prompt stays), /exit or end of input leaves. Ctrl-C
stops the answer being written and returns to the prompt; the
interrupted turn is not kept in the history.

The reasoning of thinking models (` + models(thinks) + `) goes to
standard error, dimmed on a terminal; --hide-reasoning drops it. An answer
cut short by the token limit ends with a note on standard error.

With --json the completion (assembled from the stream) is printed as one
JSON document, and no reasoning or note is shown: finish_reason "length"
tells a cut answer. In a session --json prints JSON Lines: one compact
completion per turn, and /history prints the history as one JSON array;
there is no banner and no prompt, and the other commands answer on
standard error.

--cache TAG asks against the context cache the tag points to ('onesdk
cache', 'onesdk tag'): every request starts with a cache message
(tag=TAG, reset_ttl=3600, which keeps the cache alive another hour; in a
session /reset keeps it) and carries no tools. Caches serve the
moonshot-v1 chat models only: the model is then ` + moonshotCacheModel + `
unless --model names another moonshot-v1 model. The tag is checked
first (an unknown tag is "not found", exit code 6). After each answer
the prompt tokens the cache saved are noted on standard error, except
with --json, whose usage carries cached_tokens.

--file PATH (repeatable) asks the question about documents (pdf, docx,
txt, md, csv, pptx, xlsx, html, code ...): each file is uploaded (purpose
file-extract), Kimi extracts its text, and the texts go as a system
message ahead of the question. The model is the smallest of
` + strings.Join(catalog.DocumentQAModels(), ", ") + ` whose context window holds the documents
plus the answer budget (--max-tokens, default 1024), unless --model names
one; it is noted on standard error. The answer comes whole, not streamed.
The uploaded files are deleted afterwards unless --keep-files is given
(Kimi keeps at most 1,000 files per account), also after Ctrl-C, for at
most 5 seconds; a Ctrl-C meanwhile stops that, and the ids of the files
that may remain are printed, for 'onesdk files delete'. A missing file
is a usage error (exit code 2); documents too long for every model, or a
file Kimi cannot extract, a bad request (exit code 6). --file takes one
question: it does not combine with a session, --cache, --temperature or
--thinking.

--tool FORMULA (repeatable) lets the model use Kimi's official tools
(web-search, convert, date, base64, fetch, memory, random-choice, excel,
rethink, mew, or any formula URI; '$web_search' is the builtin search,
which needs thinking off): each call the model makes is run on the
platform and its result sent back, until the model answers; every call
(name, arguments) and a short form of its result are shown on standard
error. The always-thinking models (` + models(alwaysThinks) + `) search with
--tool web-search. --tool does not combine with --file or --cache.

The default model is the provider's current general model: ` + catalog.RulesFor(catalog.ProviderMoonshot).DefaultModel + ` on
Moonshot, ` + catalog.RulesFor(catalog.ProviderAceData).DefaultModel + ` on Ace Data Cloud. The models with a reasoning
effort (` + models(hasEfforts) + `) take --reasoning-effort ` + strings.Join(efforts(), ", ") + `.`,
		Example: `  onesdk chat "What is the capital of France?"
  onesdk chat --model kimi-k3 --reasoning-effort max --max-tokens 16000 "Prove that √2 is irrational"
  git diff | onesdk chat --system "Review this patch" -
  onesdk --json chat --no-stream "Hello" | jq -r '.choices[0].message.content'
  onesdk chat --system "You are terse." --max-turns 10
  onesdk chat --cache manual "How do I reset the device?"
  onesdk chat --file report.pdf --file appendix.docx "What are the main findings?"
  onesdk chat --tool web-search --tool convert "Search the boiling point of water in Fahrenheit and convert 212 °F to °C"`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runChat(cmd, o, args) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.model, "model", "m", "", modelHelp("model id ('onesdk models' lists them)"))
	f.StringVarP(&o.system, "system", "s", "", "system prompt")
	f.Float64VarP(&o.temperature, "temperature", "t", 0, "sampling temperature (default: the model's)")
	f.IntVar(&o.maxTokens, "max-tokens", 0, "maximum tokens to generate, reasoning included (default: the server's)")
	f.StringVar(&o.thinking, "thinking", "", `"enabled" or "disabled": switch reasoning of models that allow it (`+models(switchable)+`)`)
	f.StringVar(&o.effort, "reasoning-effort", "", "how hard a model with an effort reasons: "+strings.Join(efforts(), ", ")+" ("+models(hasEfforts)+")")
	f.BoolVar(&o.noStream, "no-stream", false, "wait for the whole answer instead of streaming it")
	f.BoolVar(&o.hideReasoning, "hide-reasoning", false, "do not show the reasoning of thinking models")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "multi-turn session even when standard input is not a terminal")
	f.IntVar(&o.maxTurns, "max-turns", 0, "interactive: keep only the last N turns in the history (0 keeps all)")
	f.StringVar(&o.cache, "cache", "", "ask against the context cache this tag points to (model: "+moonshotCacheModel+" unless --model says otherwise)")
	f.StringArrayVarP(&o.files, "file", "f", nil, "ask about this document: uploaded, extracted, put ahead of the question (repeatable)")
	f.StringArrayVar(&o.tools, "tool", nil, "let the model use this official tool (web-search, convert, date, base64, fetch, memory, random-choice, excel, rethink, mew, or a formula URI; $web_search for the builtin search); repeatable")
	f.BoolVar(&o.keepFiles, "keep-files", false, "with --file: keep the uploaded files instead of deleting them afterwards")
	_ = cmd.RegisterFlagCompletionFunc("thinking", cobra.FixedCompletions([]string{"enabled", "disabled"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("reasoning-effort", cobra.FixedCompletions(efforts(), cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("model", a.completeModels)
	_ = cmd.RegisterFlagCompletionFunc("tool", cobra.FixedCompletions(officialFormulas, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("cache", a.completeIDs(tagNames))
	o.quota.register(cmd)
	return cmd
}

func (a *app) runChat(cmd *cobra.Command, o *chatOptions, args []string) error {
	req, err := o.request(cmd, a.defaultModel(), a.defaultCacheModel())
	if err != nil {
		return err
	}
	lim, err := o.quota.limiter(a)
	if err != nil {
		return err
	}
	if lim != nil {
		a.admitter = lim.Admitter()
	}
	if a.offline && o.cache != "" {
		// Every --offline command starts an empty emulator: the tag cannot
		// exist, so say how to do it rather than answer "not found".
		return usageErrorf("--cache cannot work with --offline: each offline command starts a fresh emulator with no caches or tags; "+
			"run 'onesdk serve' and use the MOONSHOT_BASE_URL and MOONSHOT_API_KEY it prints, then 'onesdk cache create --tag %s ...' and ask again", o.cache)
	}
	question, interactive, err := o.input(cmd, args)
	if err != nil {
		return err
	}
	if len(o.files) > 0 {
		if len(o.tools) > 0 {
			return usageErrorf("--file and --tool exclude each other")
		}
		return a.askDocuments(cmd, o, req, question, interactive)
	}
	if len(o.tools) > 0 && o.cache != "" {
		return usageErrorf("--cache and --tool exclude each other: a cached context carries no tools")
	}
	a.tools, a.toolNotes = o.tools, cmd.ErrOrStderr()
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	if err := a.checkCacheTag(cmd.Context(), sdk, o); err != nil {
		return err
	}
	if interactive {
		return a.repl(cmd, sdk, o, req, question)
	}

	req.Messages = append(o.head(), onesdk.UserMessage(question))
	if a.jsonOut {
		// The reply goes into the JSON document only.
		p := &replyPrinter{out: io.Discard}
		_, resp, err := a.reply(cmd.Context(), sdk, req, o.noStream, p)
		if err != nil {
			return err
		}
		return writeJSON(cmd.OutOrStdout(), resp)
	}
	_, resp, err := a.reply(cmd.Context(), sdk, req, o.noStream, o.printer(cmd))
	if err != nil {
		return err
	}
	noteCut(cmd.ErrOrStderr(), resp)
	o.noteCache(cmd.ErrOrStderr(), resp)
	return nil
}

// head returns the messages every request starts with: the cache
// message of --cache, then the --system prompt.
func (o *chatOptions) head() []onesdk.Message {
	var msgs []onesdk.Message
	if o.cache != "" {
		msgs = append(msgs, onesdk.CacheMessage(onesdk.CacheRef{Tag: o.cache, ResetTTL: cacheResetTTL}))
	}
	if o.system != "" {
		msgs = append(msgs, onesdk.SystemMessage(o.system))
	}
	return msgs
}

// checkCacheTag makes sure the --cache tag exists before asking: the chat
// endpoint's answer to an unknown tag is vaguer, and a provider without
// caching says so here.
func (a *app) checkCacheTag(ctx context.Context, sdk *onesdk.SDK, o *chatOptions) error {
	if o.cache == "" {
		return nil
	}
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	_, err := sdk.GetTag(ctx, o.cache)
	return err
}

// noteCache tells on w how many prompt tokens the --cache cache saved.
func (o *chatOptions) noteCache(w io.Writer, resp *onesdk.Response) {
	if o.cache == "" || resp == nil {
		return
	}
	// TokensSaved is the Msh-Context-Cache-Token-Saved header, else the
	// usage's cached_tokens.
	if saved := resp.CacheInfo().TokensSaved; saved > 0 {
		fmt.Fprintf(w, "[cache %s: %d prompt tokens saved]\n", o.cache, saved)
	} else {
		fmt.Fprintf(w, "[cache %s: not used this time, no tokens saved]\n", o.cache)
	}
}

// request checks the generation flags and returns the request they make,
// without messages; model is the model without --model.
func (o *chatOptions) request(cmd *cobra.Command, model, cacheModel string) (onesdk.Request, error) {
	f := cmd.Flags()
	req := onesdk.Request{Model: strings.TrimSpace(o.model)}
	if !f.Changed("model") {
		req.Model = model
	}
	req.ReasoningEffort = strings.TrimSpace(o.effort)
	if f.Changed("cache") {
		o.cache = strings.TrimSpace(o.cache)
		if o.cache == "" {
			return req, usageErrorf("--cache must name a tag")
		}
		if !f.Changed("model") {
			req.Model = cacheModel
		}
		// A model the catalogue does not know is sent as it is: the
		// platform decides.
		if r, known := kimi.ModelFamily(req.Model).Rules(); known && !r.ExplicitCache {
			return req, usageErrorf("--cache needs a model of a family with explicit caches (%s), not %q", models(explicitCache), req.Model)
		}
	}
	if req.Model == "" {
		return req, usageErrorf("--model must not be empty")
	}
	if f.Changed("temperature") {
		if o.temperature < 0 {
			return req, usageErrorf("--temperature must be 0 or more")
		}
		req.Temperature = kimi.Ptr(o.temperature)
	}
	if f.Changed("max-tokens") {
		if o.maxTokens <= 0 {
			return req, usageErrorf("--max-tokens must be positive")
		}
		req.MaxTokens = kimi.Ptr(o.maxTokens)
	}
	switch o.thinking {
	case "":
	case "enabled", "disabled":
		req.Thinking = &kimi.Thinking{Type: o.thinking}
	default:
		return req, usageErrorf(`--thinking must be "enabled" or "disabled", not %q`, o.thinking)
	}
	if o.maxTurns < 0 {
		return req, usageErrorf("--max-turns must be 0 or more")
	}
	return req, nil
}

// input finds the question and whether to run a session instead (then the
// question, if any, is its first turn).
func (o *chatOptions) input(cmd *cobra.Command, args []string) (question string, interactive bool, err error) {
	stdin := cmd.InOrStdin()
	fromStdin := false
	switch {
	case len(args) == 1 && args[0] == "-":
		if o.interactive {
			return "", false, usageErrorf(`"-" reads the question from standard input, which --interactive reads turns from`)
		}
		fromStdin = true
	case len(args) > 0:
		question = strings.Join(args, " ")
	case o.interactive || isTerminal(stdin):
		return "", true, nil
	default:
		fromStdin = true
	}
	if o.interactive {
		return strings.TrimSpace(question), true, nil
	}
	if fromStdin {
		b, err := readAll(cmd.Context(), stdin)
		if err != nil {
			return "", false, fmt.Errorf("read the question from standard input: %w", err)
		}
		question = string(b)
	}
	question = strings.TrimSpace(question)
	if question == "" {
		return "", false, usageErrorf("empty question")
	}
	return question, false, nil
}

// readAll is io.ReadAll that gives up when ctx ends: a read from a pipe
// or a terminal cannot be interrupted, and Ctrl-C must not wait for the
// writer to finish. The read is then left running: the command is ending.
func readAll(ctx context.Context, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// printer returns the reply printer for the command's terminals.
func (o *chatOptions) printer(cmd *cobra.Command) *replyPrinter {
	p := &replyPrinter{out: cmd.OutOrStdout()}
	if !o.hideReasoning {
		p.reason = cmd.ErrOrStderr()
		p.dim = useColor(p.reason)
	}
	return p
}

// reply runs one completion, printing it through p as it arrives, and
// returns the assistant message for the history and the whole completion.
func (a *app) reply(ctx context.Context, sdk *onesdk.SDK, req onesdk.Request, noStream bool, p *replyPrinter) (onesdk.Message, *onesdk.Response, error) {
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	if len(a.tools) > 0 {
		return a.replyWithTools(ctx, sdk, req, noStream, p)
	}
	if noStream {
		resp, err := sdk.Generate(ctx, &req)
		if err != nil {
			return onesdk.Message{}, nil, err
		}
		var msg onesdk.Message
		if len(resp.Choices) > 0 {
			msg = resp.Choices[0].Message
		}
		p.reasoning(msg.ReasoningContent)
		err = p.text(msg.Text())
		if ferr := p.finish(); err == nil {
			err = ferr
		}
		return msg, resp, err
	}

	st, err := sdk.StreamGenerate(ctx, &req)
	if err != nil {
		return onesdk.Message{}, nil, err
	}
	defer st.Close()
	for st.Next() {
		// Only one answer is shown (n > 1 is not offered): Text and
		// Reasoning read choice 0.
		c := st.Current()
		p.reasoning(c.Reasoning())
		if err := p.text(c.Text()); err != nil {
			p.finish()
			return onesdk.Message{}, nil, err
		}
	}
	ferr := p.finish()
	if err := st.Err(); err != nil {
		return onesdk.Message{}, nil, err
	}
	return st.Message(), st.Completion(), ferr
}

// askDocuments answers chat --file: the question about the documents,
// through the facade's DocumentQA (upload, extraction, model choice).
func (a *app) askDocuments(cmd *cobra.Command, o *chatOptions, req onesdk.Request, question string, interactive bool) (err error) {
	f := cmd.Flags()
	switch {
	case interactive:
		return usageErrorf("--file takes one question: give it as an argument or on standard input, not in a session")
	case f.Changed("cache"):
		return usageErrorf("--file and --cache exclude each other")
	case f.Changed("temperature"), f.Changed("thinking"):
		return usageErrorf("--file does not take --temperature or --thinking")
	}
	if err := checkFiles("--file: ", o.files); err != nil {
		return err
	}
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	qa, err := sdk.NewDocumentQA()
	if err != nil {
		return err
	}
	qa.System = o.system
	if f.Changed("model") {
		qa.Models = []string{req.Model}
		if kimi.ContextWindow(req.Model) == 0 {
			return usageErrorf("--model %s: its context window is unknown, so the documents cannot be sized for it; use a model of 'onesdk models' such as %s", req.Model, largestQAModel())
		}
	}
	if req.MaxTokens != nil {
		qa.MaxTokens = *req.MaxTokens
	}
	stderr := cmd.ErrOrStderr()
	if !o.keepFiles {
		defer func() {
			if cerr := a.deleteUploads(cmd.Context(), stderr, qa); err == nil {
				err = cerr
			}
		}()
	}
	ctx, cancel := a.callContext(cmd.Context())
	defer cancel()
	if !a.jsonOut {
		fmt.Fprintf(stderr, "[reading %s]\n", strings.Join(o.files, ", "))
	}
	if err := qa.AddFiles(ctx, o.files...); err != nil {
		return err
	}
	if o.keepFiles && !a.jsonOut {
		for _, d := range qa.Documents() {
			fmt.Fprintf(stderr, "[kept %s as %s]\n", d.Name, d.FileID)
		}
	}
	resp, err := qa.Ask(ctx, question)
	if err != nil {
		return err
	}
	if a.jsonOut {
		return writeJSON(cmd.OutOrStdout(), resp)
	}
	tokens := ""
	if resp.Usage != nil {
		tokens = fmt.Sprintf(", %d prompt tokens", resp.Usage.PromptTokens)
	}
	fmt.Fprintf(stderr, "[model %s%s]\n", resp.Model, tokens)
	var msg onesdk.Message
	if len(resp.Choices) > 0 {
		msg = resp.Choices[0].Message
	}
	p := o.printer(cmd)
	p.reasoning(msg.ReasoningContent)
	err = p.text(msg.Text())
	if ferr := p.finish(); err == nil {
		err = ferr
	}
	noteCut(stderr, resp)
	return err
}

// uploadCleanupTimeout bounds the deletion of chat --file's uploads. It
// also runs after Ctrl-C, when the user waits for the prompt, so it is
// short; a variable so that tests need not wait that long.
var uploadCleanupTimeout = 5 * time.Second

// deleteUploads deletes the files chat --file uploaded, which served their
// purpose, to keep the account under its file limit; it runs after an
// interrupt too. A signal while it runs (typically the second Ctrl-C)
// stops it at once and ends the command as interrupted. Whenever files may
// remain, their ids are printed so that the user can delete them. Failing
// to delete is worth a note, not an error.
func (a *app) deleteUploads(ctx context.Context, stderr io.Writer, qa *onesdk.DocumentQA) error {
	if len(uploadsLeft(qa)) == 0 {
		return nil
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadCleanupTimeout)
	defer cancel()
	var interrupted atomic.Bool
	defer a.interrupts.push(func(os.Signal) bool {
		interrupted.Store(true)
		cancel()
		a.interrupts.stop() // the command ends; one more signal ends the process
		return true
	})()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "onesdk: deleting the uploaded files (Ctrl-C again to leave them)")
	}
	err := qa.Cleanup(dctx)
	left := uploadsLeft(qa)
	var note string
	switch {
	case interrupted.Load():
		note = "onesdk: stopped deleting the uploaded files"
		err = context.Canceled
	case err != nil:
		note = "onesdk: warning: could not delete the uploaded files: " + oneLine(err.Error())
		err = nil
	}
	if note != "" {
		// The offline emulator, and its files, end with the command.
		if len(left) > 0 && !a.offline {
			note += fmt.Sprintf("; these may remain: %s (delete them with 'onesdk files delete %s')",
				strings.Join(left, ", "), strings.Join(left, " "))
		}
		fmt.Fprintln(stderr, a.redact(note))
	}
	return err
}

// uploadsLeft lists the ids of the uploaded files not deleted yet.
func uploadsLeft(qa *onesdk.DocumentQA) []string {
	var ids []string
	for _, d := range qa.Documents() {
		if d.FileID != "" {
			ids = append(ids, d.FileID)
		}
	}
	return ids
}
