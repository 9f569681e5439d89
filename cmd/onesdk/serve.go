package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimitest"
)

type serveOptions struct {
	addr      string
	keys      []string
	orgs      []string // each a comma-separated list of one organization's keys
	tier      string
	timeScale float64
	fileIDs   string
}

func newServeCmd(a *app) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Kimi API emulator until interrupted",
		Long: `Run the Kimi API emulator (package kimitest) on --addr until SIGINT or
SIGTERM. It prints its base URL, the keys it accepts and how to point a
client at it. Each --key is an account (organization) of its own; each
--org KEY,KEY,... is one organization with several keys, which share its
rate limits, balance, files, caches and tags, as keys of one organization
do on Kimi. Without --key or --org the emulator accepts sk-kimitest. These
are test keys, so they are printed.

--tier applies a Moonshot tier's rate limits (concurrency, RPM, TPM, TPD) to
every organization; --time-scale speeds the emulator's clock up (e.g. 60 makes a
rate-limit minute last a second). --file-id-prefix file_ gives file ids
the platform's announced file_ form.`,
		Example: `  onesdk serve --addr 127.0.0.1:8080 --key sk-test
  onesdk serve --key sk-a --key sk-b --tier free
  onesdk serve --org sk-a1,sk-a2 --org sk-b1,sk-b2 --key sk-c --tier free
  eval "$(onesdk serve --addr 127.0.0.1:8080 | grep ^export)"  # in another shell`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.serve(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address (port 0 picks a free port)")
	f.StringArrayVar(&o.keys, "key", nil, "API key to accept, one account per key (repeatable)")
	f.StringArrayVar(&o.orgs, "org", nil, "comma-separated API keys of one organization, sharing limits, balance and resources (repeatable)")
	f.StringVar(&o.tier, "tier", "", "rate limits of a Moonshot tier: "+strings.Join(tierNames(), ", ")+" (default: no limits)")
	f.Float64Var(&o.timeScale, "time-scale", 1, "emulator clock speed factor")
	f.StringVar(&o.fileIDs, "file-id-prefix", "", `prefix of new file ids, e.g. "file_" (default: none, 20-character ids)`)
	_ = cmd.RegisterFlagCompletionFunc("tier", cobra.FixedCompletions(tierNames(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func tierNames() []string { return slices.Sorted(maps.Keys(catalog.Tiers())) }

// serveOrgs turns --key and --org into organizations, each a list of
// keys: the --key ones first, one key each, then the --org ones. A key
// given twice is refused, since it could only belong to one of them.
func serveOrgs(o *serveOptions) ([][]string, error) {
	var orgs [][]string
	for _, k := range o.keys {
		if strings.TrimSpace(k) == "" {
			return nil, usageErrorf("--key must not be empty")
		}
		orgs = append(orgs, []string{k})
	}
	for _, v := range o.orgs {
		var keys []string
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k == "" {
				return nil, usageErrorf("--org %q: keys must not be empty", v)
			}
			keys = append(keys, k)
		}
		orgs = append(orgs, keys)
	}
	seen := map[string]bool{}
	for _, k := range slices.Concat(orgs...) {
		if seen[k] {
			return nil, usageErrorf("key %q given twice (in --key or --org)", k)
		}
		seen[k] = true
	}
	return orgs, nil
}

func (a *app) serve(cmd *cobra.Command, o *serveOptions) error {
	orgs, err := serveOrgs(o)
	if err != nil {
		return err
	}
	var opts []kimitest.Option
	for _, keys := range orgs {
		opts = append(opts, kimitest.WithAccount(kimitest.Account{Key: keys[0], Keys: keys[1:]}))
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
	if o.fileIDs != "" {
		opts = append(opts, kimitest.WithFileIDPrefix(o.fileIDs))
	}
	srv, err := kimitest.Start(o.addr, opts...)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer srv.Close()

	if len(orgs) == 0 {
		orgs = [][]string{{srv.Key}}
	}
	keys := slices.Concat(orgs...)
	out := cmd.OutOrStdout()
	if a.jsonOut {
		if err := writeJSON(out, map[string]any{"base_url": srv.URL, "keys": keys, "organizations": orgs}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "Kimi API emulator listening on %s\n", srv.URL)
		var single []string
		for _, org := range orgs {
			if len(org) == 1 {
				single = append(single, org[0])
			}
		}
		if len(single) > 0 {
			fmt.Fprintf(out, "accepted keys (test keys, one account each): %s\n", strings.Join(single, ", "))
		}
		for _, org := range orgs {
			if len(org) > 1 {
				fmt.Fprintf(out, "organization (test keys sharing limits, balance and resources): %s\n", strings.Join(org, ", "))
			}
		}
		fmt.Fprintln(out)
		fmt.Fprintf(out, "export MOONSHOT_BASE_URL=%s MOONSHOT_API_KEY=%s\n\n", srv.URL, keys[0])
		fmt.Fprintf(out, "curl %s/chat/completions -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n"+
			"  -d '{\"model\":\"%s\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n\n", srv.URL, keys[0], catalog.RulesFor(catalog.ProviderMoonshot).DefaultModel)
		fmt.Fprintln(out, "Press Ctrl-C to stop.")
	}
	<-cmd.Context().Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "onesdk serve: stopped")
	return nil
}
