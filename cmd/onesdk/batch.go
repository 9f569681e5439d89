package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk/batch"
)

func newBatchCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "batch",
		Short: "Run batch files of chat requests",
		Long: `Run a batch input file (Kimi's JSONL batch format, one request per line:
{"custom_id":"…","method":"POST","url":"/v1/chat/completions","body":{…}}).

'onesdk batch run' sends the requests from here, at the account's rate
limits (--tier or --limits), and can be stopped and resumed at any time.`,
	}, newBatchRunCmd(a))
}

type batchRunOptions struct {
	out, errs string
	workers   int
	shard     string
	quota     quotaFlags
}

func newBatchRunCmd(a *app) *cobra.Command {
	o := &batchRunOptions{}
	cmd := &cobra.Command{
		Use:   "run FILE --out FILE",
		Short: "Run a batch file from here, at the quota, resumably",
		Long: `Send every request of FILE and append each result to --out as it completes,
synced to disk, in the line shape of a batch output file
({"custom_id","response":{"status_code","request_id","body"},"error"}).
Requests that fail for good (a bad request, a refused model) go to
--errors (default: --out with .errors.jsonl) with the reason; transient
failures (rate limits, overload, 5xx, connections) are retried first.

Run it again with the same files after a crash, kill -9 or Ctrl-C: what
the output and error files hold is skipped (a partial last line is cut
off), so every custom_id ends up in exactly one of them, once.

--tier or --limits hold the requests to an organization's limits
(concurrency, RPM, TPM, TPD), charging each its prompt estimate plus its
max_tokens as Kimi does; --redis shares them with every process using that
Redis, so several processes or machines together stay within them;
--shard i/n gives this process its share of FILE (the lines whose
custom_id hashes to i modulo n), so that n processes split one file
without overlap. --time-scale matches 'onesdk serve --time-scale'.

A progress bar (rate, tokens, cost at real-time prices, ETA) is drawn on standard error when it is
a terminal; --json prints a summary at the end.`,
		Example: `  onesdk batch run requests.jsonl --out results.jsonl --tier 2026-tier1
  onesdk batch run requests.jsonl --out results.jsonl --limits concurrency=50,rpm=200,tpm=2000000
  onesdk batch run requests.jsonl --out part0.jsonl --shard 0/2 --tier 2026-tier1 --redis redis://127.0.0.1:6379`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runBatch(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "append results here (required)")
	f.StringVar(&o.errs, "errors", "", "append failed requests here (default: --out with .errors.jsonl)")
	f.IntVar(&o.workers, "workers", 0, "requests in flight at most (default: the concurrency limit, else 4)")
	f.StringVar(&o.shard, "shard", "", "i/n: run only this process's share of the file")
	o.quota.register(cmd)
	return cmd
}

func (a *app) runBatch(cmd *cobra.Command, o *batchRunOptions, in string) error {
	if o.out == "" {
		return usageErrorf("--out FILE is required: the results are appended there")
	}
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return err
	}
	lim, err := o.quota.limiter(a)
	if err != nil {
		return err
	}
	workers := o.workers
	if lim != nil {
		a.admitter = lim.Admitter()
		if c := lim.Limits().Concurrency; workers == 0 && c > 0 {
			workers = c
		}
	}
	if o.errs == "" {
		o.errs = strings.TrimSuffix(o.out, ".jsonl") + ".errors.jsonl"
	}
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	r := &batch.Runner{Client: sdk.Kimi(), Workers: workers, Shard: shard, Shards: shards}
	stderr := cmd.ErrOrStderr()
	var bar *progressbar.ProgressBar
	if !a.jsonOut && isTerminal(stderr) {
		r.Progress = func(p batch.Progress) {
			if bar == nil {
				bar = newBatchBar(stderr, p.Total)
			}
			bar.Describe(fmt.Sprintf("%d ok, %d failed, %d tokens, $%.4f", p.Skipped+p.Done, p.Failed, p.Tokens, p.Cost))
			_ = bar.Set(p.Total - p.Remaining)
		}
	}
	s, err := r.Run(cmd.Context(), in, o.out, o.errs)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		if cmd.Context().Err() != nil {
			fmt.Fprintf(stderr, "stopped: %d done in this run; run the same command again to go on\n", s.Done+s.Failed)
		}
		return err
	}
	if a.jsonOut {
		return writeJSON(cmd.OutOrStdout(), s)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%d requests: %d succeeded, %d failed (see %s), %d done before; %d tokens, $%.4f at real-time prices, in %s\n",
		s.Total, s.Done, s.Failed, o.errs, s.Skipped, s.Tokens, s.Cost, s.Elapsed.Round(time.Millisecond))
	return nil
}

func newBatchBar(w io.Writer, total int) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionUseANSICodes(useColor(w)),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// parseShard reads --shard i/n; "" is the whole file.
func parseShard(s string) (shard, shards int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	i, n, ok := strings.Cut(s, "/")
	shard, err1 := strconv.Atoi(strings.TrimSpace(i))
	shards, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || shards < 1 || shard < 0 || shard >= shards {
		return 0, 0, usageErrorf("--shard %q: want i/n with 0 <= i < n", s)
	}
	return shard, shards, nil
}
