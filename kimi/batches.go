package kimi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// BatchService is Kimi's Batch API (/batches): a JSONL file of chat
// requests (uploaded with PurposeBatch) is run by the server within a
// completion window, at a lower price than real-time calls. Results come
// back as files (OutputFileID, ErrorFileID); Results reads them.
type BatchService struct{ c *Client }

// Batch statuses. Completed, failed, expired and cancelled are terminal
// (Batch.Done); only validating, in_progress and finalizing can be
// cancelled.
const (
	BatchStatusValidating = "validating"
	BatchStatusFailed     = "failed"
	BatchStatusInProgress = "in_progress"
	BatchStatusFinalizing = "finalizing"
	BatchStatusCompleted  = "completed"
	BatchStatusExpired    = "expired"
	BatchStatusCancelling = "cancelling"
	BatchStatusCancelled  = "cancelled"
)

// Completion windows Kimi accepts: a whole number of hours or days
// ("12h", "1d", "3d") between these bounds.
const (
	MinBatchWindow     = 12 * time.Hour
	MaxBatchWindow     = 7 * 24 * time.Hour
	DefaultBatchWindow = 24 * time.Hour
)

// Batch is a batch object. Decoding is lenient: unknown fields are kept
// in Extra. The file ids and timestamps the server sends as null (not
// yet known) are empty or nil.
type Batch struct {
	ID               string             `json:"id"`
	Object           string             `json:"object,omitempty"`
	Endpoint         string             `json:"endpoint"`
	InputFileID      string             `json:"input_file_id"`
	CompletionWindow string             `json:"completion_window"`
	Status           string             `json:"status"`
	CreatedAt        int64              `json:"created_at"`
	RequestCounts    BatchRequestCounts `json:"request_counts"`
	OutputFileID     string             `json:"output_file_id,omitempty"`
	ErrorFileID      string             `json:"error_file_id,omitempty"`
	InProgressAt     *int64             `json:"in_progress_at,omitempty"`
	ExpiresAt        *int64             `json:"expires_at,omitempty"`
	FinalizingAt     *int64             `json:"finalizing_at,omitempty"`
	CompletedAt      *int64             `json:"completed_at,omitempty"`
	FailedAt         *int64             `json:"failed_at,omitempty"`
	CancellingAt     *int64             `json:"cancelling_at,omitempty"`
	CancelledAt      *int64             `json:"cancelled_at,omitempty"`
	Metadata         map[string]string  `json:"metadata,omitempty"`

	Extra map[string]json.RawMessage `json:"-"`
}

// BatchRequestCounts counts a batch's requests by outcome.
type BatchRequestCounts struct {
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Total     int `json:"total"`
}

var batchFields = jsonFieldNames(Batch{})

// UnmarshalJSON keeps unknown fields in Extra. Null file ids decode as
// "" (encoding/json leaves a string untouched on null) and null
// timestamps as nil.
func (b *Batch) UnmarshalJSON(data []byte) error {
	type plain Batch
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	extra, err := unknownFields(data, batchFields)
	if err != nil {
		return err
	}
	*b = Batch(p)
	b.Extra = extra
	return nil
}

// Done reports whether the batch reached a terminal status: completed,
// failed, expired or cancelled. Its files do not change after that.
func (b *Batch) Done() bool {
	switch b.Status {
	case BatchStatusCompleted, BatchStatusFailed, BatchStatusExpired, BatchStatusCancelled:
		return true
	}
	return false
}

// Window returns CompletionWindow as a duration (ParseBatchWindow).
func (b *Batch) Window() (time.Duration, error) { return ParseBatchWindow(b.CompletionWindow) }

// Created returns CreatedAt as a time.
func (b *Batch) Created() time.Time { return unixTime(b.CreatedAt) }

// BatchCreateRequest is what POST /batches starts.
type BatchCreateRequest struct {
	// InputFileID is a .jsonl file uploaded with PurposeBatch. Required.
	InputFileID string
	// Endpoint is what every line calls; "" means BatchURL, the only one
	// Kimi supports.
	Endpoint string
	// CompletionWindow is how long the server may take: 12h to 7d, in
	// whole hours; 0 means DefaultBatchWindow. It is sent as the
	// platform spells it (FormatBatchWindow: "36h", "3d").
	CompletionWindow time.Duration
	// Metadata is at most 16 pairs, keys up to 64 characters and values
	// up to 512 (the caching limits).
	Metadata map[string]string
}

// batchBody is the JSON of POST /batches.
type batchBody struct {
	InputFileID      string            `json:"input_file_id"`
	Endpoint         string            `json:"endpoint"`
	CompletionWindow string            `json:"completion_window"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// FormatBatchWindow spells a completion window as the platform takes it:
// whole days from two days up ("3d"), else whole hours ("12h", "24h",
// "36h"). A window that is not whole hours, or outside 12h..7d, is a
// *ValidationError.
func FormatBatchWindow(d time.Duration) (string, error) {
	if d%time.Hour != 0 {
		return "", invalid("completion_window", d, "must be a whole number of hours")
	}
	if d < MinBatchWindow || d > MaxBatchWindow {
		return "", invalid("completion_window", d, "must be between 12h and 7d")
	}
	if day := 24 * time.Hour; d >= 2*day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d", nil
	}
	return strconv.FormatInt(int64(d/time.Hour), 10) + "h", nil
}

// ParseBatchWindow returns the duration of a completion window ("24h",
// "3d"), or a *ValidationError when it is malformed or outside 12h..7d.
func ParseBatchWindow(w string) (time.Duration, error) {
	if !isWindow(w) {
		return 0, invalid("completion_window", w, "must be a whole number of hours or days, like \"24h\" or \"3d\"")
	}
	n, err := strconv.ParseInt(w[:len(w)-1], 10, 64)
	unit := time.Hour
	if w[len(w)-1] == 'd' {
		unit = 24 * time.Hour
	}
	// A number too big to parse is also too big a window.
	if err != nil || n > int64(MaxBatchWindow/unit) || time.Duration(n)*unit < MinBatchWindow {
		return 0, invalid("completion_window", w, "must be between 12h and 7d")
	}
	return time.Duration(n) * unit, nil
}

// isWindow reports whether w is digits then "h" or "d". It is written
// out rather than a regexp so that the module does not link package
// regexp for this one check.
func isWindow(w string) bool {
	if len(w) < 2 || (w[len(w)-1] != 'h' && w[len(w)-1] != 'd') {
		return false
	}
	for i := 0; i < len(w)-1; i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// Validate checks r as Kimi would, with the defaults applied.
func (r *BatchCreateRequest) Validate() error {
	if r == nil {
		return invalid("request", nil, "must not be nil")
	}
	if err := validateID("input_file_id", r.InputFileID); err != nil {
		return err
	}
	if r.Endpoint != "" && r.Endpoint != BatchURL {
		return invalid("endpoint", r.Endpoint, "must be %s", BatchURL)
	}
	if r.CompletionWindow != 0 {
		if _, err := FormatBatchWindow(r.CompletionWindow); err != nil {
			return err
		}
	}
	return validateMetadata(r.Metadata)
}

// Create starts a batch (POST /batches) and returns it, usually in status
// validating. The defaults (Endpoint, CompletionWindow) are filled in on
// the body sent: r is not modified.
func (s *BatchService) Create(ctx context.Context, r *BatchCreateRequest, opts ...RequestOption) (*Batch, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	body := batchBody{InputFileID: r.InputFileID, Endpoint: r.Endpoint, Metadata: r.Metadata}
	if body.Endpoint == "" {
		body.Endpoint = BatchURL
	}
	window := r.CompletionWindow
	if window == 0 {
		window = DefaultBatchWindow
	}
	body.CompletionWindow, _ = FormatBatchWindow(window) // checked by Validate
	if len(body.Metadata) == 0 {
		body.Metadata = nil
	}
	return call[Batch](ctx, s.c, http.MethodPost, "batches", &body, opts)
}

// Get returns a batch (GET /batches/{id}); an unknown id is a 404 *Error.
func (s *BatchService) Get(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	return getID[Batch](ctx, s.c, "batch id", id, "batches/%s", opts)
}

// Cancel asks the server to stop a batch (POST /batches/{id}/cancel); it
// goes to cancelling, then cancelled. A batch that is not validating,
// in_progress or finalizing is refused with a 400 *Error.
func (s *BatchService) Cancel(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	path, err := idPath("batch id", id, "batches/%s/cancel")
	if err != nil {
		return nil, err
	}
	return call[Batch](ctx, s.c, http.MethodPost, path, nil, opts)
}

// BatchListOptions are the query of GET /batches. Zero fields are left
// out: the server then returns its first 20 batches.
type BatchListOptions struct {
	After string // batch id; the page starts after it
	Limit int    // page size; 0: server default (20)
}

func (o *BatchListOptions) query() (url.Values, error) {
	if o == nil {
		return nil, nil
	}
	if o.Limit < 0 {
		return nil, invalid("limit", o.Limit, "must not be negative (0: server default of 20)")
	}
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	return q, nil
}

// BatchList is a page of batches; HasMore says another page follows.
type BatchList struct {
	Object  string  `json:"object"`
	Data    []Batch `json:"data"`
	HasMore bool    `json:"has_more"`
}

// List returns one page of the organisation's batches (GET /batches). o
// may be nil.
func (s *BatchService) List(ctx context.Context, o *BatchListOptions, opts ...RequestOption) (*BatchList, error) {
	return listPage[BatchList](ctx, s.c, "batches", o, opts)
}

// All iterates over every batch from o.After on, page by page: while a
// page says has_more, the next is asked for after its last id. A server
// that repeats a cursor ends the iteration with an error rather than
// looping. An error is yielded last with a nil batch. o may be nil and is
// not modified.
func (s *BatchService) All(ctx context.Context, o *BatchListOptions, opts ...RequestOption) iter.Seq2[*Batch, error] {
	var p BatchListOptions
	if o != nil {
		p = *o
	}
	return func(yield func(*Batch, error) bool) {
		q := p
		seen := map[string]bool{}
		for {
			page, err := s.List(ctx, &q, opts...)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Data {
				if !yield(&page.Data[i], nil) {
					return
				}
			}
			if !page.HasMore || len(page.Data) == 0 {
				return
			}
			last := page.Data[len(page.Data)-1].ID
			if last == "" || seen[last] {
				yield(nil, fmt.Errorf("%w: pagination stalled: the page after %q ended with %q again", ErrBadResponse, q.After, last))
				return
			}
			seen[last] = true
			q.After = last
		}
	}
}

// waitBatchSchedule spaces WaitDone's Gets: a batch takes minutes to
// hours, so the polls grow to one a minute.
var waitBatchSchedule = schedule{first: time.Second, limit: time.Minute}

// WaitDone polls Get until the batch is done (completed, failed, expired
// or cancelled) and returns it; a terminal status that is not completed
// is not an error here, as its files may still hold results. A failed Get
// ends the wait with its error. ctx bounds the wait; when it ends the
// wait, the batch as last seen is returned with the error. opts apply to
// every Get.
func (s *BatchService) WaitDone(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	return poll(ctx, s.c, "batch", id, opts, waitBatchSchedule, s.Get, func(b *Batch) (string, bool, error) {
		return b.Status, b.Done(), nil
	})
}

// Results ranges over a batch's result lines: those of its output file,
// then those of its error file (a file id that is empty is skipped). A
// line that does not decode is yielded as a *LineError naming the file,
// which wraps ErrBadResponse, and reading goes on;
// a failed download ends the range with its error. Each file is streamed,
// so memory does not grow with its size.
func (s *BatchService) Results(ctx context.Context, b *Batch, opts ...RequestOption) iter.Seq2[*BatchResult, error] {
	return func(yield func(*BatchResult, error) bool) {
		if b == nil {
			yield(nil, invalid("batch", nil, "must not be nil"))
			return
		}
		for _, id := range []string{b.OutputFileID, b.ErrorFileID} {
			if id == "" {
				continue
			}
			if !s.results(ctx, id, opts, yield) {
				return
			}
		}
	}
}

// results yields the lines of one file; false when the caller stopped or
// the download failed.
func (s *BatchService) results(ctx context.Context, fileID string, opts []RequestOption, yield func(*BatchResult, error) bool) bool {
	rc, err := s.c.Files.ContentReader(ctx, fileID, opts...)
	if err != nil {
		yield(nil, err)
		return false
	}
	defer rc.Close()
	for r, err := range ReadJSONL[BatchResult](rc) {
		if err != nil {
			if le, ok := err.(*LineError); ok {
				le.File = fileID
			}
			if !yield(nil, err) {
				return false
			}
			continue
		}
		if !yield(&r, nil) {
			return false
		}
	}
	return true
}

// WriteBatchInput writes lines as a batch input file, one JSON object a
// line. Every line is checked (BatchLine.Check) and custom ids must be
// unique, as the server fails a batch for either; nothing is written
// when a line is wrong.
func WriteBatchInput(w io.Writer, lines []BatchLine) error {
	if len(lines) == 0 {
		return invalid("lines", 0, "must not be empty: Kimi refuses an empty batch file")
	}
	seen := make(map[string]int, len(lines))
	for i := range lines {
		if err := lines[i].Check(); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return invalid(fmt.Sprintf("lines[%d].%s", i, ve.Field), ve.Value, "%s", ve.Limit)
			}
			return err
		}
		if j, dup := seen[lines[i].CustomID]; dup {
			return invalid(fmt.Sprintf("lines[%d].custom_id", i), lines[i].CustomID, "duplicates lines[%d]", j)
		}
		seen[lines[i].CustomID] = i
	}
	enc := json.NewEncoder(w) // one line per value, newline-terminated
	for i := range lines {
		if err := enc.Encode(&lines[i]); err != nil {
			return fmt.Errorf("kimi: batch line %d (%s): %w", i, lines[i].CustomID, err)
		}
	}
	return nil
}
