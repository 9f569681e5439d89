package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

const rootLong = `onesdk talks to LLM providers through the onesdk facade (Kimi by default),
asks questions about documents (chat --file), manages Kimi's files, context
caches and tags, counts tokens, shows the balance, and runs a local Kimi
API emulator.

The API key is read from MOONSHOT_API_KEY (ACEDATA_API_TOKEN for --provider
acedata), the base URL from MOONSHOT_BASE_URL. Prefer the environment to
--api-key, which ends up in the shell history. --offline needs neither: it
starts an emulator inside the process, which lives as long as the
command: to keep caches, tags and files across commands offline, run 'onesdk
serve' and export the MOONSHOT_BASE_URL and MOONSHOT_API_KEY it prints.

Exit codes:
  0    success
  1    other error
  2    usage error (unknown command or flag, missing argument, bad value,
       also one the client refuses before sending, e.g. --temperature 3,
       a missing or unreadable file, e.g. files upload or chat --file, and
       a feature the provider lacks, e.g. caches, files, tokens or balance
       with --provider acedata)
  3    authentication (key rejected, or no key configured)
  4    rate limit or quota exceeded
  5    server unavailable, timeout, connection failure or cut stream
  6    bad request or not found, as the server answered (e.g. an unknown
       model, cache id, tag or file id, the 1,000-file limit reached, a
       file Kimi could not extract), also documents too long for every
       candidate model (chat --file)
  130  interrupted (SIGINT or SIGTERM; a second one ends a command that
       does not stop at once); 'onesdk serve', which runs until then,
       exits 0, and in a chat session Ctrl-C stops the answer only`

// app holds the global flags and what one invocation started, so that
// several invocations can run side by side in one process (tests).
type app struct {
	provider string
	baseURL  string
	apiKey   string
	region   string
	proxy    string
	offline  bool
	debug    bool
	jsonOut  bool
	retries  int
	timeout  time.Duration

	// started is set once cobra has parsed flags and arguments: an error
	// seen before that is a usage error.
	started bool
	// the provider --provider names, set by the pre-run check.
	providerInfo onesdk.ProviderInfo
	// admitter holds the command's chat requests to rate limits
	// (quotaFlags), nil for none.
	admitter onesdk.Admitter
	// tools are chat --tool's formulas ("$web_search" for the builtin):
	// when set, every reply runs the tool loop (toolchat.go).
	tools     []string
	toolNotes io.Writer // where the tool calls are shown: standard error
	// command is the command path being run ("onesdk tag get"), for hints.
	command    string
	offlineKey string
	closers    []func()
	// interrupts owns SIGINT and SIGTERM for this invocation.
	interrupts *interrupts
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "onesdk",
		Short:         "Chat with Kimi and other providers, list models, run the Kimi emulator",
		Long:          rootLong,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// No Args: cobra then reports an unknown command as an error
		// and shows the help when no command is given.
		PersistentPreRunE: a.preRun,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })

	f := root.PersistentFlags()
	f.StringVar(&a.provider, "provider", "kimi", "provider: "+strings.Join(onesdk.Providers(), ", "))
	f.StringVar(&a.baseURL, "base-url", "", "API base URL (default $MOONSHOT_BASE_URL, else by --region)")
	f.StringVar(&a.apiKey, "api-key", "", "API key; prefer $MOONSHOT_API_KEY (a flag ends up in the shell history)")
	f.StringVar(&a.region, "region", "", `Moonshot platform when no base URL is set: "cn" (api.moonshot.cn, default) or "ai" (api.moonshot.ai)`)
	f.BoolVar(&a.offline, "offline", false, "run against an in-process Kimi emulator (no key, no network)")
	f.StringVar(&a.proxy, "proxy", "", "http, https or socks5 proxy URL")
	f.IntVar(&a.retries, "retries", 0, "retries of a failed call (default: the SDK's retry policy)")
	f.DurationVar(&a.timeout, "timeout", 0, "time limit of each API call, e.g. 30s (default none)")
	f.BoolVar(&a.debug, "debug", false, "log requests to standard error (the key is never logged)")
	f.BoolVar(&a.jsonOut, "json", false, "machine-readable JSON output")

	_ = root.RegisterFlagCompletionFunc("provider", cobra.FixedCompletions(onesdk.Providers(), cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("region", cobra.FixedCompletions(onesdk.Regions(), cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(newChatCmd(a), newModelsCmd(a), newCacheCmd(a), newTagCmd(a), newFilesCmd(a), newTokensCmd(a),
		newBalanceCmd(a), newServeCmd(a), newBatchCmd(a), newQuotaCmd(a), newFormulasCmd(a), newVersionCmd(a))
	return root
}

// execute runs one invocation and turns its error into a message on stderr
// and an exit code. Cancelling ctx interrupts it as a signal would.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return executeSignals(ctx, nil, nil, args, stdin, stdout, stderr)
}

// executeSignals is execute with the signals of sigs (SIGINT, SIGTERM)
// handed to the invocation; exit, if not nil, ends the process when a
// second signal arrives after the first cancelled the invocation.
func executeSignals(ctx context.Context, sigs <-chan os.Signal, exit func(), args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := &app{interrupts: &interrupts{cancel: cancel, exit: exit}}
	if sigs != nil {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { a.interrupts.listen(sigs, done) })
		defer wg.Wait()
		defer close(done)
	}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	a.close()
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		// Whatever failed, it failed because the user asked to stop.
		fmt.Fprintln(stderr, "onesdk: interrupted")
		return exitInterrupted
	}
	if !a.started {
		err = asUsage(err)
	}
	fmt.Fprintln(stderr, a.redact(a.describe(err)))
	code := exitCode(err)
	if code == exitUsage && cmd != nil && !errors.Is(err, onesdk.ErrUnsupported) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// preRun checks the global flags that every command shares.
func (a *app) preRun(cmd *cobra.Command, _ []string) error {
	a.command = cmd.CommandPath()
	a.started = true
	if r := strings.ToLower(a.region); r != "" && !slices.Contains(onesdk.Regions(), r) {
		return usageErrorf("--region must be one of %q, not %q", onesdk.Regions(), a.region)
	}
	if cmd.Flags().Changed("retries") && a.retries < 0 {
		return usageErrorf("--retries must be 0 or more")
	}
	if a.timeout < 0 {
		return usageErrorf("--timeout must be positive")
	}
	p, ok := onesdk.LookupProvider(a.provider)
	if !ok {
		return usageErrorf("unknown provider %q (known: %s)", a.provider, strings.Join(onesdk.Providers(), ", "))
	}
	a.providerInfo = p
	if a.offline {
		if p.Name != "kimi" {
			return usageErrorf("--offline emulates Kimi only, not provider %q", a.provider)
		}
		if a.baseURL != "" {
			return usageErrorf("--offline and --base-url exclude each other")
		}
		if a.proxy != "" {
			return usageErrorf("--offline and --proxy exclude each other: the emulator runs in this process")
		}
	}
	return nil
}

// newSDK builds the facade from the global flags; with --offline it first
// starts the emulator, which execute stops at the end.
func (a *app) newSDK(cmd *cobra.Command) (*onesdk.SDK, error) {
	cfg := onesdk.Config{APIKey: a.apiKey, APIURL: a.baseURL, Region: strings.ToLower(a.region)}
	if cmd.Flags().Changed("retries") {
		p := kimi.DefaultRetryPolicy() // keep its backoff, change the count
		p.MaxRetries = a.retries
		cfg.Retry = &p
	}
	if a.debug {
		// Our own logger rather than Config.Debug so that the log goes to
		// the command's stderr, through the key filter.
		w := &redactWriter{w: cmd.ErrOrStderr(), a: a}
		cfg.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if a.offline {
		key, err := newOfflineKey()
		if err != nil {
			return nil, err
		}
		srv, err := kimitest.Start("127.0.0.1:0", kimitest.WithKey(key))
		if err != nil {
			return nil, fmt.Errorf("start the offline emulator: %w", err)
		}
		a.closers = append(a.closers, func() { srv.Close() })
		a.offlineKey = key
		cfg.APIKey, cfg.APIURL = key, srv.URL
		cfg.Currency = "USD" // the emulator's accounts bill in USD
	}
	if strings.TrimSpace(cfg.APIKey) == "" && strings.TrimSpace(os.Getenv(a.providerInfo.KeyEnv)) == "" {
		return nil, noKeyError{env: a.providerInfo.KeyEnv}
	}
	cfg.Proxy = a.proxy
	cfg.Admitter = a.admitter
	return onesdk.New(a.provider, cfg)
}

// callContext bounds one API call by --timeout.
func (a *app) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.timeout > 0 {
		return context.WithTimeout(ctx, a.timeout)
	}
	return context.WithCancel(ctx)
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

func newOfflineKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "sk-offline-" + hex.EncodeToString(b), nil
}
