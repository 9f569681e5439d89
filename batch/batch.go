// Package batch runs a batch input file (Kimi's JSONL format, the same
// file the platform's Batch API takes) locally, at the account's quota:
// each request is sent through a kimi.Client (whose Admitter, a
// quota.Limiter, holds it to the limits), and each result is appended to
// the output file and synced to disk as it completes. To run the file
// on the platform instead (40 % cheaper, finished within hours to days),
// use kimi.Client.Batches; `onesdk batch submit` and `onesdk batch run`
// are the two paths on the command line.
//
// A run can be killed at any point (a crash, kill -9) and started again
// with the same files: it reads what the output and error files already
// hold and skips those custom_ids, so that every custom_id ends up in
// exactly one of the two files exactly once. A partial last line left by
// a kill is cut off first. A request that was sent but whose result was
// not yet written when the process died is sent again (and paid for
// again): the price of never losing one.
//
// Transient failures (rate limits, overload, 5xx, connection failures)
// are retried by the client's retry policy and then, with a longer
// backoff, by the runner; permanent ones (a bad request, a refused
// model) go to the error file with the reason. Failures that are not the
// request's are never written: a transient one that outlasts the attempts
// is left for the next run, and a refusal of the account (a bad key, a
// spent balance) stops the run at once; Run then returns ErrIncomplete,
// and the same command, once the cause is fixed, sends what is left.
package batch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/tokencount"
)

// Runner runs batch files. Client is required.
type Runner struct {
	Client *kimi.Client
	// Workers is how many requests are in flight at most; 0 means 4. The
	// client's Admitter, if any, holds them to the quota besides.
	Workers int
	// Shard and Shards split one input between processes or machines
	// without overlap: a runner takes the lines whose custom_id hashes to
	// Shard modulo Shards (0 <= Shard < Shards); Shards 0 is 1.
	Shard, Shards int
	// Attempts is how many times a transiently failing request is sent
	// in all, beyond the client's own retries; 0 means 5.
	Attempts int
	// Backoff is the first wait between the runner's attempts, doubled
	// each time; 0 means 2 s.
	Backoff time.Duration
	// Progress, if set, is called after each result with the totals so
	// far (from one goroutine at a time).
	Progress func(Progress)
}

// Progress is the state of a run.
type Progress struct {
	Total   int // lines of this shard in the input
	Skipped int // already in the output or error file (a resumed run)
	Done    int // succeeded in this run
	Failed  int // failed for good in this run (the request's fault)
	Tokens  int // prompt + completion tokens of this run's successes
	// Cost is what this run's successes cost at real-time prices
	// (catalog.ModelPrice), USD; models without a price count nothing.
	Cost      float64
	Started   time.Time
	Remaining int
}

// Summary is the end state of a run, as JSON for `onesdk batch run --json`.
type Summary struct {
	Total   int           `json:"total"`
	Skipped int           `json:"skipped"`
	Done    int           `json:"succeeded"`
	Failed  int           `json:"failed"`
	Left    int           `json:"left"` // not finished: the next run sends them
	Tokens  int           `json:"tokens"`
	Cost    float64       `json:"cost_usd"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// ErrIncomplete is returned (wrapped, with the cause) when a run ends
// with requests left unfinished: failures that may pass (an outage, rate
// limits, 5xx) outlasted the attempts, or the account was refused (a bad
// key, a spent balance), which stops the run at once. Nothing of them is
// written, so the same command sends them again.
var ErrIncomplete = errors.New("batch: requests left for the next run")

// Run runs the lines of the input file at inPath, appending results to
// outPath and failures to errPath (both created if missing, resumed if
// not). It returns when every line of the shard has a result, or when
// ctx ends (then with ctx's error; what completed is on disk).
func (r *Runner) Run(ctx context.Context, inPath, outPath, errPath string) (Summary, error) {
	if r.Client == nil {
		return Summary{}, errors.New("batch: Runner.Client is nil")
	}
	shards := max(r.Shards, 1)
	if r.Shard < 0 || r.Shard >= shards {
		return Summary{}, fmt.Errorf("batch: shard %d of %d: want 0 <= shard < shards", r.Shard, shards)
	}
	lines, err := readInput(inPath, r.Shard, shards)
	if err != nil {
		return Summary{}, err
	}
	done := map[string]bool{}
	out, err := openResults(outPath, done)
	if err != nil {
		return Summary{}, err
	}
	defer out.Close()
	errf, err := openResults(errPath, done)
	if err != nil {
		return Summary{}, err
	}
	defer errf.Close()

	p := Progress{Total: len(lines), Started: time.Now()}
	var todo []kimi.BatchLine
	for _, l := range lines {
		if done[l.CustomID] {
			p.Skipped++
		} else {
			todo = append(todo, l)
		}
	}
	p.Remaining = len(todo)
	if r.Progress != nil {
		r.Progress(p)
	}

	// A failed write stops the sending: what is not written would be paid
	// for now and again by the next run.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	results := make(chan outcome)
	work := make(chan kimi.BatchLine)
	var wg sync.WaitGroup
	workers := r.Workers
	if workers <= 0 {
		workers = 4
	}
	for range workers {
		wg.Go(func() {
			for l := range work {
				results <- r.send(ctx, l)
			}
		})
	}
	go func() {
		defer close(work)
		for _, l := range todo {
			select {
			case work <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()

	var werr, fatal, lastLeft error
	for o := range results {
		switch {
		case o.left != nil:
			// Not written: the next run sends it again. A refusal of the
			// account fails every other request too, so it stops the run.
			lastLeft = o.left
			if accountRefused(o.left) && fatal == nil {
				fatal = o.left
				stop()
			}
			continue
		case o.interrupted || werr != nil:
			continue // not written: the next run sends it again
		}
		f := out
		if o.result.Error != nil {
			f = errf
		}
		if err := appendLine(f, o.result); err != nil {
			werr = err
			stop()
			continue
		}
		if o.result.Error != nil {
			p.Failed++
		} else {
			p.Done++
			p.Tokens += o.tokens
			p.Cost += o.cost
		}
		p.Remaining--
		if r.Progress != nil {
			r.Progress(p)
		}
	}
	s := Summary{Total: p.Total, Skipped: p.Skipped, Done: p.Done, Failed: p.Failed, Left: p.Total - p.Skipped - p.Done - p.Failed,
		Tokens: p.Tokens, Cost: p.Cost, Elapsed: time.Since(p.Started)}
	switch {
	case werr != nil:
		return s, werr
	case fatal != nil:
		return s, fmt.Errorf("%w: %d of them; stopped at: %w", ErrIncomplete, s.Left, fatal)
	case ctx.Err() != nil:
		return s, ctx.Err()
	case lastLeft != nil:
		return s, fmt.Errorf("%w: %d failed past %d attempts, the last with: %w", ErrIncomplete, s.Left, r.attempts(), lastLeft)
	}
	return s, nil
}

// outcome is one request's result; interrupted when ctx ended first;
// left (the cause) when it failed in a way that may pass or that is the
// account's, not the request's.
type outcome struct {
	result      kimi.BatchResult
	tokens      int
	cost        float64
	interrupted bool
	left        error
}

func (r *Runner) attempts() int {
	if r.Attempts <= 0 {
		return 5
	}
	return r.Attempts
}

// send runs one line, retrying transient failures.
func (r *Runner) send(ctx context.Context, l kimi.BatchLine) outcome {
	attempts := r.attempts()
	wait := r.Backoff
	if wait <= 0 {
		wait = 2 * time.Second
	}
	req := l.Body
	for i := 1; ; i++ {
		resp, err := r.Client.Chat.Create(ctx, &req)
		if ctx.Err() != nil {
			return outcome{interrupted: true}
		}
		if err == nil {
			body, _ := json.Marshal(resp)
			o := outcome{result: kimi.BatchResult{ID: "batch_req_" + l.CustomID, CustomID: l.CustomID,
				Response: &kimi.BatchResponse{StatusCode: 200, RequestID: resp.RequestID(), Body: body}}}
			if u := resp.Usage; u != nil {
				o.tokens = u.TotalTokens
				if price, ok := catalog.ModelPrice(resp.Model, u.PromptTokens+tokencount.DefaultMaxTokens); ok {
					o.cost = price.Cost(u.PromptTokens, u.CachedTokens, u.CompletionTokens)
				}
			}
			return o
		}
		switch {
		case accountRefused(err):
			return outcome{left: err}
		case !transient(err):
			return outcome{result: failure(l.CustomID, err)}
		case i >= attempts:
			return outcome{left: err}
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return outcome{interrupted: true}
		}
		wait *= 2
	}
}

// transient reports whether a failure may pass: what the client retries
// (rate limits, overload, 5xx, connections), once its own retries are
// spent.
func transient(err error) bool {
	var e *kimi.Error
	if errors.As(err, &e) {
		return e.Temporary()
	}
	return errors.Is(err, kimi.ErrConnection) || errors.Is(err, kimi.ErrServerUnavailable) || errors.Is(err, kimi.ErrTimeout)
}

// accountRefused reports a failure of the account, not of the request:
// a rejected key, a spent balance, a configuration error. Every request
// would fail alike, and none of them is at fault.
func accountRefused(err error) bool {
	return errors.Is(err, kimi.ErrAuthorization) || errors.Is(err, kimi.ErrQuota) || errors.Is(err, kimi.ErrConfig)
}

// failure is the error line of a request that failed for good.
func failure(id string, err error) kimi.BatchResult {
	res := kimi.BatchResult{ID: "batch_req_" + id, CustomID: id, Error: &kimi.BatchError{Message: err.Error()}}
	var e *kimi.Error
	var ve *kimi.ValidationError
	switch {
	case errors.As(err, &e):
		res.Error.Code = e.Type
		if res.Error.Code == "" {
			res.Error.Code = e.Code
		}
		body := e.Body
		if !json.Valid(body) {
			body, _ = json.Marshal(string(body))
		}
		res.Response = &kimi.BatchResponse{StatusCode: e.StatusCode, RequestID: e.RequestID, Body: body}
	case errors.As(err, &ve):
		res.Error.Code = "invalid_request"
	default:
		res.Error.Code = "request_failed"
	}
	return res
}

// readInput reads and checks the shard's lines of the input file: each
// line must decode and name a custom_id, method POST and the chat URL,
// and custom_ids must be unique in the whole file. The first problem is
// returned, naming its line.
func readInput(path string, shard, shards int) ([]kimi.BatchLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	defer f.Close()
	seen := map[string]int{}
	var lines []kimi.BatchLine
	n := 0
	for l, err := range kimi.ReadJSONL[kimi.BatchLine](f) {
		n++
		if err != nil {
			return nil, fmt.Errorf("batch: %s: %w", path, err)
		}
		if err := l.Check(); err != nil {
			return nil, fmt.Errorf("batch: %s: request %d: %w", path, n, err)
		}
		if first, dup := seen[l.CustomID]; dup {
			return nil, fmt.Errorf("batch: %s: request %d: custom_id %q repeats request %d", path, n, l.CustomID, first)
		}
		seen[l.CustomID] = n
		if shardOf(l.CustomID, shards) == shard {
			lines = append(lines, l)
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("batch: %s: no requests", path)
	}
	return lines, nil
}

// shardOf is the shard of a custom_id: stable across processes, machines
// and releases.
func shardOf(id string, shards int) int {
	if shards <= 1 {
		return 0
	}
	sum := sha256.Sum256([]byte(id))
	return int(binary.BigEndian.Uint64(sum[:8]) % uint64(shards))
}

// openResults opens a result file for appending, first recording the
// custom_ids it holds in done and cutting off a partial last line (a
// write a kill interrupted), which holds no complete result.
func openResults(path string, done map[string]bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("batch: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("batch: read %s: %w", path, err)
	}
	keep := len(data)
	if i := bytes.LastIndexByte(data, '\n'); i+1 != len(data) {
		keep = i + 1 // -1 + 1: no complete line at all
	}
	for line := range bytes.Lines(data[:keep]) {
		var r struct {
			CustomID string `json:"custom_id"`
		}
		if json.Unmarshal(line, &r) == nil && r.CustomID != "" {
			done[r.CustomID] = true
		}
	}
	if keep != len(data) {
		if err := f.Truncate(int64(keep)); err != nil {
			f.Close()
			return nil, fmt.Errorf("batch: cut the partial last line of %s: %w", path, err)
		}
	}
	if _, err := f.Seek(int64(keep), io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("batch: %w", err)
	}
	return f, nil
}

// appendLine writes one result as a line and syncs it to disk, so that a
// result written is a result kept.
func appendLine(f *os.File, r kimi.BatchResult) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("batch: encode the result of %s: %w", r.CustomID, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("batch: write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("batch: sync %s: %w", f.Name(), err)
	}
	return nil
}
