package kimi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// TestFaultMatrix is the client's fault matrix: every emulator fault
// against every call it applies to, with what the caller gets (kinds,
// sentinel, status), how many requests were sent and which waits the
// retry policy asked for. The expectations are data (fmFaults), so the
// table printed with -v (or KIMI_FAULT_MATRIX=1) is what the test
// asserted; BENCHMARKS.md carries a copy. Waits are recorded, never
// slept, so hints of seconds cost nothing; nothing asserts on durations.
//
// The client runs the default retry policy (3 attempts, backoff from 1 s,
// hints up to 30 s waited): the matrix documents what a caller who
// configured nothing gets.
func TestFaultMatrix(t *testing.T) {
	// The emulator is deterministic: a clean stream of the same request
	// tells how many chunks "every chunk" is.
	allChunks := fmCleanChunks(t)
	var rows []fmRow
	for _, f := range fmFaults {
		for _, call := range fmCalls {
			want, ok := f.cells[call.name]
			if !ok {
				continue
			}
			t.Run(f.name+"/"+call.name, func(t *testing.T) {
				w := want
				if w.chunks == fmAll {
					w.chunks = allChunks
				}
				fmCheck(t, f, call, w)
			})
			rows = append(rows, fmRow{f.name, call.name, want})
		}
	}
	if testing.Verbose() || os.Getenv("KIMI_FAULT_MATRIX") != "" {
		fmt.Print(fmTable(rows))
	}
}

// fmCall is one client call under test. run returns, for a stream, the
// chunks read and whether the error came from Stream.Err (after the
// stream had opened) rather than from Chat.Stream; and the call's error.
type fmCall struct {
	name string
	run  func(ctx context.Context, c *kimi.Client) (chunks int, fromErr bool, err error)
}

const fmPrompt = "Write a few sentences about the sea."

var fmCalls = []fmCall{
	{"Chat.Create", func(ctx context.Context, c *kimi.Client) (int, bool, error) {
		_, err := c.Chat.Create(ctx, userRequest("moonshot-v1-8k", fmPrompt))
		return 0, false, err
	}},
	{"Chat.Stream", fmStream},
	{"Files.Upload", func(ctx context.Context, c *kimi.Client) (int, bool, error) {
		// A bytes.Reader is seekable, so the upload can be retried; a
		// reader that cannot seek is sent once (see FileUploadRequest).
		data := []byte("The sea is wide.\n")
		_, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "sea.txt", Reader: bytes.NewReader(data), Size: int64(len(data))})
		return 0, false, err
	}},
	{"Models.List", func(ctx context.Context, c *kimi.Client) (int, bool, error) {
		_, err := c.Models.List(ctx)
		return 0, false, err
	}},
}

// fmStream opens a stream and reads it to its end, as a caller does.
func fmStream(ctx context.Context, c *kimi.Client) (int, bool, error) {
	st, err := c.Chat.Stream(ctx, userRequest("moonshot-v1-8k", fmPrompt))
	if err != nil {
		return 0, false, err
	}
	defer st.Close()
	n := 0
	for st.Next() {
		n++
	}
	return n, true, st.Err()
}

func fmCleanChunks(t *testing.T) int {
	t.Helper()
	c, _, _ := setup(t)
	n, _, err := fmStream(testCtx(t), c)
	if err != nil || n < 4 {
		t.Fatalf("clean stream: %d chunks, err %v; the cut=3 row needs at least 4", n, err)
	}
	return n
}

// fmFault is a row of the matrix: a fault and, per call name, what the
// caller gets. A call without a cell is one the fault does not apply to
// (the SSE faults leave JSON responses alone).
type fmFault struct {
	name  string
	fault kimitest.Fault
	// deadline bounds the call's context (0: none).
	deadline time.Duration
	// cancelAtWait cancels the call's context when the client starts its
	// first backoff wait.
	cancelAtWait bool
	cells        map[string]fmWant
}

// fmWant is one cell. The zero value of each field asserts "none": no
// error, no status, no waits.
type fmWant struct {
	// kinds are kimi.Kinds(err), in order; nil means success.
	kinds []error
	// is is a sentinel err must match with errors.Is.
	is error
	// status is the *kimi.Error's StatusCode (0: err is not one), and
	// retryAfter its RetryAfter.
	status     int
	retryAfter time.Duration
	// urlErr: errors.As reaches the transport's *url.Error.
	urlErr bool
	// attempts is the number of requests sent, retries included.
	attempts int
	// waits are the retry waits asked for.
	waits []fmWait
	// Streams only: chunks read (fmAll: as many as a clean stream) and
	// whether the error came from Stream.Err.
	chunks  int
	fromErr bool
	// issue, when set, says how the client may deviate from this cell
	// today; the table prints it as a note.
	issue string
}

// fmAll stands for the chunk count of the clean stream.
const fmAll = -1

// fmWait is a wait within [lo, hi]: a server hint is exact, a backoff
// wait is jittered.
type fmWait struct{ lo, hi time.Duration }

func fmHint(d time.Duration) fmWait { return fmWait{d, d} }

// fmBackoff is the default policy's range for retry n without a hint:
// equal jitter over d = 1 s·2^(n−1), i.e. [d/2, d].
func fmBackoff(n int) fmWait {
	d := time.Second << (n - 1)
	return fmWait{d / 2, d}
}

// fmEvery gives each call the same cell; fmNonStream the calls other than
// Chat.Stream.
func fmEvery(w fmWant) map[string]fmWant {
	m := fmNonStream(w)
	m["Chat.Stream"] = w
	return m
}

func fmNonStream(w fmWant) map[string]fmWant {
	return map[string]fmWant{"Chat.Create": w, "Files.Upload": w, "Models.List": w}
}

func fmWith(m map[string]fmWant, call string, w fmWant) map[string]fmWant {
	m[call] = w
	return m
}

var (
	fmUnavailable = []error{kimi.ErrServerUnavailable}
	fmConnection  = []error{kimi.ErrConnection}
	fmTwoRetries  = []fmWait{fmBackoff(1), fmBackoff(2)}
	// fmRateLimited is the default policy's first wait after a rate limit
	// without a hint: [d, 1.5·d] for d = RateLimitDelay, 3 s.
	fmRateLimited = fmWait{3 * time.Second, 4500 * time.Millisecond}
)

var fmFaults = []fmFault{
	{name: "503 once, then ok", fault: kimitest.Fault{Times: 1, Status: 503},
		cells: fmWith(fmEvery(fmWant{attempts: 2, waits: []fmWait{fmBackoff(1)}}),
			"Chat.Stream", fmWant{attempts: 2, waits: []fmWait{fmBackoff(1)}, chunks: fmAll, fromErr: true})},
	{name: "503 always", fault: kimitest.Fault{Status: 503},
		cells: fmEvery(fmWant{kinds: fmUnavailable, status: 503, attempts: 3, waits: fmTwoRetries})},
	// The header wins over the body's "try again after 1 seconds" and is
	// waited in full.
	{name: "429, Retry-After: 2, once", fault: kimitest.Fault{Times: 1, Status: 429, Header: http.Header{"Retry-After": {"2"}}},
		cells: fmWith(fmEvery(fmWant{attempts: 2, waits: []fmWait{fmHint(2 * time.Second)}}),
			"Chat.Stream", fmWant{attempts: 2, waits: []fmWait{fmHint(2 * time.Second)}, chunks: fmAll, fromErr: true})},
	// Longer than MaxDelay (30 s): not waited, returned for the caller.
	{name: "429, Retry-After: 60", fault: kimitest.Fault{Status: 429, Header: http.Header{"Retry-After": {"60"}}},
		cells: fmEvery(fmWant{kinds: []error{kimi.ErrRateLimit}, status: 429, retryAfter: time.Minute, attempts: 1})},
	{name: "429 exceeded_current_quota_error", fault: kimitest.Fault{Status: 429,
		Body: `{"error":{"type":"exceeded_current_quota_error","message":"Your account org-kimitest<ak-kimitest> is suspended, please check your plan and billing details"}}`},
		cells: fmEvery(fmWant{kinds: []error{kimi.ErrQuota}, status: 429, attempts: 1})},
	{name: "401 invalid_authentication_error", fault: kimitest.Fault{Status: 401},
		cells: fmEvery(fmWant{kinds: []error{kimi.ErrAuthorization}, status: 401, attempts: 1})},
	{name: "500 always", fault: kimitest.Fault{Status: 500},
		cells: fmEvery(fmWant{kinds: fmUnavailable, status: 500, attempts: 3, waits: fmTwoRetries})},
	// kimitest sends nginx's HTML page, as the real gateway does.
	{name: "504 gateway HTML page, always", fault: kimitest.Fault{Status: 504},
		cells: fmEvery(fmWant{kinds: []error{kimi.ErrTimeout, kimi.ErrServerUnavailable}, status: 504, attempts: 3, waits: fmTwoRetries})},
	{name: "connection reset before headers, always", fault: kimitest.Fault{ResetBeforeHeaders: true},
		// An upload's reset may race the body's write and surface as
		// net.ErrClosed: retried too.
		cells: fmEvery(fmWant{kinds: fmConnection, urlErr: true, attempts: 3, waits: fmTwoRetries})},
	// The server may still be working: a timeout waiting for headers is
	// not retried. The delay is short because the emulator's handler
	// sleeps it out when the request has a body it never read (net/http
	// notices the hang-up only after the body), holding up the server's
	// Close.
	{name: "delay 1s, context deadline 150ms", fault: kimitest.Fault{Delay: time.Second}, deadline: 150 * time.Millisecond,
		cells: fmEvery(fmWant{kinds: []error{kimi.ErrTimeout, kimi.ErrConnection}, is: context.DeadlineExceeded, urlErr: true, attempts: 1})},
	// A 2xx that does not decode is not retried: the server answered.
	{name: "malformed JSON body (SSE: first event)", fault: kimitest.Fault{MalformedJSON: true},
		cells: fmWith(fmNonStream(fmWant{kinds: fmUnavailable, is: kimi.ErrBadResponse, attempts: 1}),
			"Chat.Stream", fmWant{kinds: fmUnavailable, is: kimi.ErrBadResponse, attempts: 1, fromErr: true})},
	// A 200 whose body is an error object of a server-error type is
	// retried like a 5xx, by every call: for Chat.Stream the object is
	// the whole body, so the stream never started.
	{name: "200 with an error object (server_error), always", fault: kimitest.Fault{Status: 200,
		Body: `{"error":{"type":"server_error","message":"upstream failed"}}`},
		cells: fmEvery(fmWant{kinds: fmUnavailable, status: 200, attempts: 3, waits: fmTwoRetries})},
	// A rate-limit type is waited as a 429 is: from RateLimitDelay (3 s).
	{name: "200 with an error object (rate_limit_reached_error), once, then ok", fault: kimitest.Fault{Times: 1, Status: 200,
		Body: `{"error":{"type":"rate_limit_reached_error","message":"Your account reached max RPM"}}`},
		cells: fmWith(fmEvery(fmWant{attempts: 2, waits: []fmWait{fmRateLimited}}),
			"Chat.Stream", fmWant{attempts: 2, waits: []fmWait{fmRateLimited}, chunks: fmAll, fromErr: true})},
	{name: "stream cut after 3 chunks", fault: kimitest.Fault{CutAfterChunks: 3},
		cells: map[string]fmWant{"Chat.Stream": {kinds: fmConnection, is: kimi.ErrStreamIncomplete, attempts: 1, chunks: 3, fromErr: true}}},
	{name: "stream without [DONE]", fault: kimitest.Fault{OmitDone: true},
		cells: map[string]fmWant{"Chat.Stream": {kinds: fmConnection, is: kimi.ErrStreamIncomplete, attempts: 1, chunks: fmAll, fromErr: true}}},
	// The stream has started: an in-stream error is never retried.
	{name: "in-stream error event after 2 chunks", fault: kimitest.Fault{ErrorEvent: true, CutAfterChunks: 2},
		cells: map[string]fmWant{"Chat.Stream": {kinds: fmUnavailable, status: 200, attempts: 1, chunks: 2, fromErr: true}}},
	// The cancellation wins over the 503 that caused the wait.
	{name: "503 always, context cancelled during the wait", fault: kimitest.Fault{Status: 503}, cancelAtWait: true,
		cells: fmEvery(fmWant{kinds: fmConnection, is: context.Canceled, attempts: 1, waits: []fmWait{fmBackoff(1)}})},
}

// fmCheck runs call against a fresh emulator injecting f.fault and
// asserts the cell want.
func fmCheck(t *testing.T, f fmFault, call fmCall, want fmWant) {
	_, srv, _ := setup(t, kimitest.WithFaults(f.fault))
	c, rec := newClient(srv, func(cfg *kimi.Config) {
		p := kimi.DefaultRetryPolicy()
		cfg.Retry = &p
	})
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	if f.deadline > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.deadline)
		defer cancel()
	}
	waits := kimi.RecordWaitsThen(c, func(time.Duration) {
		if f.cancelAtWait {
			cancel()
		}
	})

	chunks, fromErr, err := call.run(ctx, c)
	// A cell with a known issue may deviate: its deviations skip the
	// subtest (visible with -v) instead of failing it, so that the cell
	// keeps the documented behaviour and passes again once it is fixed.
	var deviations []string
	errorf := func(format string, args ...any) { deviations = append(deviations, fmt.Sprintf(format, args...)) }
	defer func() {
		switch {
		case len(deviations) == 0:
		case want.issue != "":
			t.Skipf("known issue (%s): %s; err: %v", want.issue, strings.Join(deviations, "; "), err)
		default:
			t.Errorf("%s; err: %v", strings.Join(deviations, "; "), err)
		}
	}()

	if got := kimi.Kinds(err); !slices.Equal(got, want.kinds) {
		errorf("kinds = %v, want %v (err %v)", got, want.kinds, err)
	}
	if err != nil && !errors.Is(err, kimi.ErrInvoke) {
		errorf("err %v is not an ErrInvoke", err)
	}
	for _, k := range allKinds { // errors.Is agrees with Kinds: a quota error is no rate limit
		if got, w := errors.Is(err, k), slices.Contains(want.kinds, k); got != w {
			errorf("errors.Is(err, %v) = %t, want %t", k, got, w)
		}
	}
	if want.is != nil && !errors.Is(err, want.is) {
		errorf("err = %v, want errors.Is %v", err, want.is)
	}
	var apiErr *kimi.Error
	switch isAPI := errors.As(err, &apiErr); {
	case want.status == 0 && isAPI:
		errorf("err = %v, a %d *kimi.Error; want none", err, apiErr.StatusCode)
	case want.status != 0 && !isAPI:
		errorf("err = %v, want a %d *kimi.Error", err, want.status)
	case isAPI:
		if apiErr.StatusCode != want.status || apiErr.RetryAfter != want.retryAfter || apiErr.Attempts != rec.n() {
			errorf("*Error status %d, RetryAfter %v, Attempts %d; want %d, %v, %d",
				apiErr.StatusCode, apiErr.RetryAfter, apiErr.Attempts, want.status, want.retryAfter, rec.n())
		}
	}
	var urlErr *url.Error
	if got := errors.As(err, &urlErr); got != want.urlErr {
		errorf("errors.As(%v, *url.Error) = %t, want %t", err, got, want.urlErr)
	}
	if n := rec.n(); n != want.attempts {
		errorf("attempts = %d, want %d", n, want.attempts)
	}
	got := waits()
	if len(got) != len(want.waits) {
		errorf("waits = %v, want %d in %v", got, len(want.waits), want.waits)
	} else {
		for i, w := range want.waits {
			if got[i] < w.lo || got[i] > w.hi {
				errorf("wait %d = %v, want within [%v, %v]", i+1, got[i], w.lo, w.hi)
			}
		}
	}
	if chunks != want.chunks || fromErr != want.fromErr {
		errorf("%d chunks, error from Stream.Err %t; want %d, %t", chunks, fromErr, want.chunks, want.fromErr)
	}
}

type fmRow struct {
	fault, call string
	want        fmWant
}

// fmTable renders the matrix as Markdown, one row per fault and outcome:
// calls with the same outcome share a row. Known issues follow as notes.
func fmTable(rows []fmRow) string {
	var b strings.Builder
	var notes []string
	b.WriteString("| fault | call | caller gets | kinds | attempts | waits |\n|---|---|---|---|---|---|\n")
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].fault == rows[i].fault {
			j++
		}
		// Group the fault's calls by outcome, in call order.
		var outcomes []string
		calls := map[string][]string{}
		for _, r := range rows[i:j] {
			note := 0
			if r.want.issue != "" {
				notes = append(notes, r.want.issue)
				note = len(notes)
			}
			o := fmOutcome(r.want, note)
			if _, ok := calls[o]; !ok {
				outcomes = append(outcomes, o)
			}
			calls[o] = append(calls[o], r.call)
		}
		for k, o := range outcomes {
			name := rows[i].fault
			if k > 0 {
				name = "" // the fault's first row names it
			}
			cs := strings.Join(calls[o], ", ")
			if len(calls[o]) == len(fmCalls) {
				cs = "all four"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", name, cs, o)
		}
		i = j
	}
	for i, n := range notes {
		fmt.Fprintf(&b, "\nNote %d: %s.\n", i+1, n)
	}
	return b.String()
}

// fmOutcome is the "caller gets | kinds | attempts | waits" part of a
// row; note, if not 0, is the number of the cell's known-issue note.
func fmOutcome(w fmWant, note int) string {
	var gets string
	switch {
	case w.kinds == nil:
		gets = "result"
		if w.chunks != 0 {
			gets = "every chunk, then `Err() == nil`"
		}
	case w.status != 0:
		gets = fmt.Sprintf("`*kimi.Error` %d", w.status)
		if w.retryAfter != 0 {
			gets += fmt.Sprintf(", `RetryAfter` %v", w.retryAfter)
		}
	case w.is != nil:
		gets = "`" + fmName(w.is) + "`"
		if w.urlErr {
			gets += " (`*url.Error`)"
		}
	case w.urlErr:
		gets = "`*url.Error`"
	}
	if w.kinds != nil && w.fromErr {
		n := fmt.Sprintf("%d chunks", w.chunks)
		if w.chunks == fmAll {
			n = "every chunk"
		}
		gets = n + ", then `Err()`: " + gets
	}
	kinds := "—"
	if w.kinds != nil {
		names := make([]string, len(w.kinds))
		for i, k := range w.kinds {
			names[i] = fmName(k)
		}
		kinds = strings.Join(names, ", ")
	}
	waits := "—"
	if len(w.waits) > 0 {
		ws := make([]string, len(w.waits))
		for i, x := range w.waits {
			ws[i] = x.lo.String()
			if x.hi != x.lo {
				ws[i] += "–" + x.hi.String()
			}
		}
		waits = strings.Join(ws, ", ")
	}
	attempts := fmt.Sprint(w.attempts)
	if note != 0 {
		attempts += fmt.Sprintf(" (note %d)", note)
	}
	return fmt.Sprintf("%s | %s | %s | %s", gets, kinds, attempts, waits)
}

// fmName is the Go name of a kind or sentinel, as a caller spells it.
func fmName(err error) string {
	for _, n := range []struct {
		err  error
		name string
	}{
		{kimi.ErrConnection, "ErrConnection"}, {kimi.ErrServerUnavailable, "ErrServerUnavailable"},
		{kimi.ErrRateLimit, "ErrRateLimit"}, {kimi.ErrAuthorization, "ErrAuthorization"},
		{kimi.ErrBadRequest, "ErrBadRequest"}, {kimi.ErrTimeout, "ErrTimeout"},
		{kimi.ErrNotFound, "ErrNotFound"}, {kimi.ErrQuota, "ErrQuota"},
		{kimi.ErrStreamIncomplete, "kimi.ErrStreamIncomplete"}, {kimi.ErrBadResponse, "kimi.ErrBadResponse"},
		{context.Canceled, "context.Canceled"}, {context.DeadlineExceeded, "context.DeadlineExceeded"},
	} {
		if n.err == err {
			return n.name
		}
	}
	return err.Error()
}
