package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/batch"
	"github.com/onesdk-go/onesdk/kimi"
)

func newBatchCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "batch",
		Short: "Run batch files of chat requests, here or on the server",
		Long: `Run a batch input file (Kimi's JSONL batch format, one request per line:
{"custom_id":"…","method":"POST","url":"/v1/chat/completions","body":{…}}).
The same file works both ways:

'onesdk batch run' sends the requests from here, now, at the account's rate
limits (--tier or --limits), at real-time prices, and can be stopped and
resumed at any time. Choose it when the answers are needed soon.

'onesdk batch submit' uploads the file to Kimi's Batch API, which runs it
within a completion window of 12h to 7d at 40% less than real-time prices,
outside the account's rate limits. Choose it when the answers can wait:
'batch status' and 'batch list' follow it, 'batch results' downloads what
it produced, in the same line shape as 'batch run' writes.`,
		Example: `  onesdk batch run requests.jsonl --out results.jsonl --tier 2026-tier1
  onesdk batch submit requests.jsonl --window 24h
  onesdk batch status batch-abc123
  onesdk batch results batch-abc123 --out results.jsonl --errors failed.jsonl`,
	}, newBatchRunCmd(a), newBatchSubmitCmd(a), newBatchStatusCmd(a), newBatchListCmd(a),
		newBatchCancelCmd(a), newBatchResultsCmd(a))
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
		switch {
		case cmd.Context().Err() != nil:
			fmt.Fprintf(stderr, "stopped: %d done in this run; run the same command again to go on\n", s.Done+s.Failed)
		case errors.Is(err, batch.ErrIncomplete):
			fmt.Fprintf(stderr, "%d succeeded, %d failed (see %s), %d left: nothing of them is written, so the same command sends them once the cause below is fixed\n",
				s.Done, s.Failed, o.errs, s.Left)
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

// batchNote is what the server-side commands share: which providers have
// them.
const batchNote = `The Batch API is Kimi's (provider kimi); other providers answer
"not supported" (exit code 2).`

type batchSubmitOptions struct {
	window string
	meta   []string
	wait   bool
}

func newBatchSubmitCmd(a *app) *cobra.Command {
	o := &batchSubmitOptions{}
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Upload a batch file and run it on the server, 40% cheaper",
		Long: `Check FILE line by line (each a POST to /v1/chat/completions with a
custom_id of its own), upload it with purpose "batch" and start a batch
over it; the batch is printed (with --json, the batch object).

--window is how long Kimi may take: whole hours or days from 12h to 7d
(default 24h); what is not done by then expires. --wait polls until the
batch is done (completed, failed, expired or cancelled); bound it with
--timeout. Without it, follow the batch with 'onesdk batch status ID'.

` + batchNote,
		Example: `  onesdk batch submit requests.jsonl
  onesdk batch submit requests.jsonl --window 3d --meta project=eval
  onesdk --json batch submit requests.jsonl | jq -r .id`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.submitBatch(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.StringVar(&o.window, "window", defaultBatchWindow(), `completion window, "12h" to "7d"`)
	f.StringArrayVar(&o.meta, "meta", nil, "metadata pair key=value (repeatable)")
	f.BoolVar(&o.wait, "wait", false, "wait until the batch is done")
	_ = cmd.RegisterFlagCompletionFunc("window", cobra.FixedCompletions([]string{"12h", "24h", "3d", "7d"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// defaultBatchWindow is the platform's default window, spelled as the
// --window flag takes it.
func defaultBatchWindow() string {
	w, _ := kimi.FormatBatchWindow(kimi.DefaultBatchWindow)
	return w
}

func (a *app) submitBatch(cmd *cobra.Command, o *batchSubmitOptions, path string) error {
	window, err := kimi.ParseBatchWindow(o.window)
	if err != nil {
		return usageErrorf("--window %q: want whole hours or days from 12h to 7d, like 24h or 3d", o.window)
	}
	md, err := parseMeta(o.meta)
	if err != nil {
		return err
	}
	// A bad line fails the whole batch on the server, after the upload
	// and a wait: say so now, naming the line.
	if err := checkBatchFile(path); err != nil {
		return err
	}
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	f, err := a.uploadOne(cmd.Context(), sdk, path, onesdk.PurposeBatch, stderr, !a.jsonOut && isTerminal(stderr))
	if err != nil {
		return err
	}
	return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.Batch, error) {
		b, err := sdk.CreateBatch(ctx, &onesdk.BatchCreateRequest{InputFileID: f.ID, CompletionWindow: window, Metadata: md})
		if err != nil {
			return nil, fmt.Errorf("%w (the input file %s stays uploaded; delete it with 'onesdk files delete %s')", err, f.ID, f.ID)
		}
		if !o.wait {
			return b, nil
		}
		if !a.jsonOut {
			fmt.Fprintf(stderr, "waiting for %s to be done…\n", b.ID)
		}
		// The wait gets a --timeout of its own.
		wctx, cancel := a.callContext(cmd.Context())
		defer cancel()
		return sdk.WaitBatch(wctx, b.ID)
	}, a.printBatch)
}

// checkBatchFile reads the batch file at path and reports its first bad
// line: not JSON, not a chat request, or a custom_id used before.
func checkBatchFile(path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return usageErrorf("%v", err)
	}
	defer fh.Close()
	seen := map[string]int{}
	n := 0
	for l, err := range kimi.ReadJSONL[kimi.BatchLine](fh) {
		n++
		if err != nil {
			return usageErrorf("%s: %v", path, strings.TrimPrefix(err.Error(), "kimi: "))
		}
		if err := l.Check(); err != nil {
			return usageErrorf("%s: request %d: %v", path, n, strings.TrimPrefix(err.Error(), "kimi: "))
		}
		if first, dup := seen[l.CustomID]; dup {
			return usageErrorf("%s: request %d: custom_id %q is also request %d's", path, n, l.CustomID, first)
		}
		seen[l.CustomID] = n
	}
	if n == 0 {
		return usageErrorf("%s holds no requests", path)
	}
	return nil
}

func newBatchStatusCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "status ID",
		Short: "Show a server-side batch: its status, counts and files",
		Long:  "Show a batch submitted with 'onesdk batch submit'.\n\n" + batchNote,
	}, batchIDs, (*onesdk.SDK).GetBatch, a.printBatch)
}

func newBatchCancelCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "cancel ID",
		Short: "Stop a server-side batch",
		Long: `Ask Kimi to stop a batch: it goes "cancelling", then "cancelled". What it
had finished stays in its files ('onesdk batch results'). A batch that is
already done cannot be cancelled.

` + batchNote,
	}, batchIDs, (*onesdk.SDK).CancelBatch, a.printBatch)
}

type batchListOptions struct {
	limit int
	after string
	all   bool
}

func newBatchListCmd(a *app) *cobra.Command {
	o := &batchListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the organization's server-side batches",
		Long:  "List batches one page at a time (--after ID for the next), or --all.\n\n" + batchNote,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("limit") && o.limit <= 0 {
				return usageErrorf("--limit must be positive")
			}
			opts := &onesdk.BatchListOptions{Limit: o.limit, After: o.after}
			return call(a, cmd, pages(o.all, (*onesdk.SDK).AllBatches, (*onesdk.SDK).ListBatches, opts), a.printBatches)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.limit, "limit", 0, "batches per page (default: the server's, 20)")
	f.StringVar(&o.after, "after", "", "start after this batch id")
	f.BoolVar(&o.all, "all", false, "list every batch, page after page")
	return cmd
}

type batchResultsOptions struct{ out, errs string }

func newBatchResultsCmd(a *app) *cobra.Command {
	o := &batchResultsOptions{}
	cmd := &cobra.Command{
		Use:   "results ID --out FILE [--errors FILE]",
		Short: "Download a server-side batch's results as JSONL",
		Long: `Download the output and error files of a batch and write their lines to
--out, one per custom_id ({"custom_id","response":{…},"error":{…}}, the
shape 'batch run' writes). With --errors, the requests that failed go
there instead. A batch that is not done yet has no results: wait with
'onesdk batch submit --wait' or check 'onesdk batch status'.

` + batchNote,
		Example: `  onesdk batch results batch-abc123 --out results.jsonl --errors failed.jsonl`,
		Args:    cobra.ExactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return a.batchResults(cmd, o, args[0]) },
	}
	cmd.ValidArgsFunction = a.completeOne(batchIDs)
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "write the results here (required)")
	f.StringVar(&o.errs, "errors", "", "write the failed requests here (default: with the others in --out)")
	return cmd
}

// batchResultCounts is what batch results reports.
type batchResultCounts struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Succeeded  int    `json:"succeeded"`
	Failed     int    `json:"failed"`
	Duplicates int    `json:"duplicates,omitempty"`
	Out        string `json:"out"`
	Errors     string `json:"errors,omitempty"`
}

func (a *app) batchResults(cmd *cobra.Command, o *batchResultsOptions, id string) error {
	if o.out == "" {
		return usageErrorf("--out FILE is required: the results are written there")
	}
	if o.errs != "" && o.errs == o.out {
		return usageErrorf("--errors must name another file than --out")
	}
	return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*batchResultCounts, error) {
		b, err := sdk.GetBatch(ctx, id)
		if err != nil {
			return nil, err
		}
		if !b.Done() {
			return nil, fmt.Errorf("batch %s is %s: its results come when it is done (onesdk batch status %s)", id, b.Status, id)
		}
		if b.OutputFileID == "" && b.ErrorFileID == "" {
			return nil, fmt.Errorf("batch %s (%s) has no output or error file", id, b.Status)
		}
		return writeBatchResults(ctx, sdk, b, o)
	}, func(w io.Writer, c *batchResultCounts) error {
		if a.jsonOut {
			return writeJSON(w, c)
		}
		fmt.Fprintf(w, "batch %s (%s): %d succeeded, %d failed", c.ID, c.Status, c.Succeeded, c.Failed)
		if c.Duplicates > 0 {
			fmt.Fprintf(w, ", %d repeated lines skipped", c.Duplicates)
		}
		if c.Errors != "" {
			fmt.Fprintf(w, "; written to %s and %s\n", c.Out, c.Errors)
		} else {
			fmt.Fprintf(w, "; written to %s\n", c.Out)
		}
		return nil
	})
}

// writeBatchResults writes b's result lines to o.out (and the failed ones
// to o.errs when set), the first line of each custom_id only: a retried
// request may appear in both files. The files are written whole under a
// temporary name and renamed at the end, so an interrupted download
// leaves no half file behind.
func writeBatchResults(ctx context.Context, sdk *onesdk.SDK, b *onesdk.Batch, o *batchResultsOptions) (*batchResultCounts, error) {
	c := &batchResultCounts{ID: b.ID, Status: b.Status, Out: o.out, Errors: o.errs}
	out, err := newAtomicFile(o.out)
	if err != nil {
		return nil, err
	}
	defer out.abort()
	errf := out
	if o.errs != "" {
		if errf, err = newAtomicFile(o.errs); err != nil {
			return nil, err
		}
		defer errf.abort()
	}
	seen := map[string]bool{}
	for r, err := range sdk.BatchResults(ctx, b) {
		if err != nil {
			return nil, err
		}
		if seen[r.CustomID] {
			c.Duplicates++
			continue
		}
		seen[r.CustomID] = true
		w := out
		if failed := r.Error != nil || r.Response == nil || r.Response.StatusCode/100 != 2; failed {
			c.Failed++
			w = errf
		} else {
			c.Succeeded++
		}
		if err := writeJSONLine(w.bw, r); err != nil {
			return nil, err
		}
	}
	if err := out.commit(); err != nil {
		return nil, err
	}
	if errf != out {
		if err := errf.commit(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// atomicFile is a file written under a temporary name next to its path
// and renamed into place by commit.
type atomicFile struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	done bool
}

func newAtomicFile(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return &atomicFile{path: path, f: f, bw: bufio.NewWriter(f)}, nil
}

func (a *atomicFile) commit() error {
	err := a.bw.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.path, err)
	}
	a.done = true
	return nil
}

func (a *atomicFile) abort() {
	if !a.done {
		a.f.Close()
		os.Remove(a.f.Name())
		a.done = true
	}
}

// printBatch prints one batch: the object with --json, else its fields.
func (a *app) printBatch(w io.Writer, b *onesdk.Batch) error {
	return a.print(w, b, func(t *table) {
		t.field("id", b.ID)
		t.field("status", b.Status)
		rc := b.RequestCounts
		t.field("requests", fmt.Sprintf("%d total, %d completed, %d failed", rc.Total, rc.Completed, rc.Failed))
		t.field("window", orDash(b.CompletionWindow))
		t.field("input_file", orDash(b.InputFileID))
		t.field("output_file", orDash(b.OutputFileID))
		t.field("error_file", orDash(b.ErrorFileID))
		t.field("created", unixTime(b.CreatedAt))
		t.field("expires", unixTime(deref(b.ExpiresAt)))
		for _, ts := range []struct {
			name string
			at   *int64
		}{{"completed", b.CompletedAt}, {"failed", b.FailedAt}, {"cancelled", b.CancelledAt}} {
			if ts.at != nil {
				t.field(ts.name, unixTime(*ts.at))
			}
		}
		t.field("metadata", metaString(b.Metadata))
	})
}

// printBatches prints the batches of batch list.
func (a *app) printBatches(w io.Writer, batches []onesdk.Batch) error {
	return printList(a, w, batches, []string{"ID", "STATUS", "DONE", "CREATED", "WINDOW", "METADATA"}, func(b onesdk.Batch) []string {
		rc := b.RequestCounts
		return []string{b.ID, b.Status, fmt.Sprintf("%d/%d", rc.Completed+rc.Failed, rc.Total), unixTime(b.CreatedAt),
			orDash(b.CompletionWindow), metaString(b.Metadata)}
	})
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// batchIDs lists the organization's batches: the id, then its status.
func batchIDs(sdk *onesdk.SDK, ctx context.Context) ([]cobra.Completion, error) {
	return listed(sdk.AllBatches(ctx, &onesdk.BatchListOptions{Limit: 100}), func(b *onesdk.Batch) cobra.Completion {
		return cobra.CompletionWithDesc(b.ID, b.Status)
	})
}
