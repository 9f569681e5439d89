package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk/kimitest"
)

type serveOptions struct {
	addr      string
	keys      []string
	tier      string
	timeScale float64
}

func newServeCmd(a *app) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Kimi API emulator until interrupted",
		Long: `Run the Kimi API emulator (package kimitest) on --addr until SIGINT or
SIGTERM. It prints its base URL, the keys it accepts and how to point a
client at it. Each --key is an account of its own; without --key the
emulator accepts sk-kimitest. These are test keys, so they are printed.

--tier applies a Moonshot tier's rate limits (concurrency, RPM, TPM, TPD) to
every account; --time-scale speeds the emulator's clock up (e.g. 60 makes a
rate-limit minute last a second).`,
		Example: `  onesdk serve --addr 127.0.0.1:8080 --key sk-test
  onesdk serve --key sk-a --key sk-b --tier free
  eval "$(onesdk serve --addr 127.0.0.1:8080 | grep ^export)"  # in another shell`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	f.StringArrayVar(&o.keys, "key", nil, "API key to accept, one account per key (repeatable)")
	f.StringVar(&o.tier, "tier", "", "rate limits of a Moonshot tier: "+strings.Join(tierNames(), ", ")+" (default: no limits)")
	f.Float64Var(&o.timeScale, "time-scale", 1, "emulator clock speed factor")
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(tierNames(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func tierNames() []string { return slices.Sorted(maps.Keys(kimitest.Tiers())) }

func (a *app) serve(cmd *cobra.Command, o *serveOptions) error {
	var opts []kimitest.Option
	for _, k := range o.keys {
		if strings.TrimSpace(k) == "" {
			return usageErrorf("--key must not be empty")
		}
		opts = append(opts, kimitest.WithKey(k))
	}
	if o.tier != "" {
		lim, ok := kimitest.Tiers()[strings.ToLower(o.tier)]
		if !ok {
			return usageErrorf("unknown --tier %q (known: %s)", o.tier, strings.Join(tierNames(), ", "))
		}
		opts = append(opts, kimitest.WithLimits(lim))
	}
	if cmd.Flags().Changed("time-scale") {
		if o.timeScale <= 0 {
			return usageErrorf("--time-scale must be positive")
		}
		opts = append(opts, kimitest.WithTimeScale(o.timeScale))
	}
	srv, err := kimitest.Start(o.addr, opts...)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()

	keys := o.keys
	if len(keys) == 0 {
		keys = []string{srv.Key}
	}
	out := cmd.OutOrStdout()
	if a.jsonOut {
		if err := writeJSON(out, map[string]any{"base_url": srv.URL, "keys": keys}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "Kimi API emulator listening on %s\n", srv.URL)
		fmt.Fprintf(out, "accepted keys (test keys, one account each): %s\n\n", strings.Join(keys, ", "))
		fmt.Fprintf(out, "export MOONSHOT_BASE_URL=%s MOONSHOT_API_KEY=%s\n\n", srv.URL, keys[0])
		fmt.Fprintf(out, "curl %s/chat/completions -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n"+
			"  -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n\n", srv.URL, keys[0], defaultModel)
		fmt.Fprintln(out, "Press Ctrl-C to stop.")
	}
	<-cmd.Context().Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "onesdk serve: stopped")
	return nil
}
