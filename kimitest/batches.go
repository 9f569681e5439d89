package kimitest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// The Batch API (https://platform.moonshot.ai/docs/api/batch; 2026 delta
// §3): POST /v1/batches, GET /v1/batches, GET /v1/batches/{id} and
// POST /v1/batches/{id}/cancel, per organization.
//
// A batch is validated when it is created (the whole input file is read
// once; only each line's offset, length and expected duration are kept),
// but the outcome shows on the emulator's clock: the batch stays
// validating for batchValidateFor, then either fails or goes in_progress.
// In progress, the requests run one after the other, each taking
// batchRequestDuration of emulated time; then the batch is finalizing for
// batchFinalizeFor and completed. A batch not completed by created_at +
// completion_window expires; a cancelled one is cancelling for
// batchCancelFor, then cancelled.
//
// The machine advances lazily: whenever the organization calls a batch
// endpoint or the files endpoints (list, get, content), each of its
// batches catches up with the clock, running (through the emulator's chat
// engine, batchChat) the requests whose time has come. No goroutine or
// timer is left behind; requests are billed, and the output files appear,
// when the batch catches up.
//
// Validation failures. Kimi's BatchObject has no errors field, so the
// emulator gives a failed batch an error file (error_file_id), in the
// same line shape as the request errors (batchLine), one line per
// problem (at most batchMaxValidationErrors), with the input line number
// in the message and custom_id when known (null for file-level problems).
//
// Billing: each request is charged ChargeBatchChat at batchDiscount (60%)
// of the real-time chat price ("saving 40% on inference costs").
// Batch requests do not count against the organization's rate limits
// (none are documented for batches; an assumption) but are refused,
// per request, while the balance is exhausted.

// ChargeBatchChat is the token cost of one request of a batch: the chat
// price (see ChargeChat) × 0.6.
const ChargeBatchChat ChargeKind = "batch_chat"

const (
	batchDiscount = 0.6
	// batchValidateFor is how long (emulated) a batch is validating.
	batchValidateFor = time.Minute
	// batchFinalizeFor and batchCancelFor: finalizing → completed and
	// cancelling → cancelled.
	batchFinalizeFor = 30 * time.Second
	batchCancelFor   = 10 * time.Second
	// batchTokensPerSecond sets a request's emulated duration: one second
	// plus its size (about len(body)/4 prompt tokens plus its max_tokens,
	// default 1024) at this many tokens per second. 10 makes a default
	// request take about 1m45s: batches take hours, as on the platform.
	batchTokensPerSecond = 10
	// batchMaxFileBytes is the documented input limit, 100 MB.
	batchMaxFileBytes = 100 << 20
	// batchMaxValidationErrors bounds a failed batch's error file.
	batchMaxValidationErrors = 100
	// batchMaxPerOrg bounds the batches an organization keeps; the oldest
	// finished one is forgotten to make room (an emulator bound).
	batchMaxPerOrg = 10000
	// batchOutputPurpose is the purpose of output and error files.
	batchOutputPurpose = "batch_output"
	batchEndpoint      = "/v1/chat/completions"
)

// batchModels are the models that take batches.
var batchModels = catalog.BatchModels()

// Batch statuses.
const (
	batchValidating = "validating"
	batchFailed     = "failed"
	batchInProgress = "in_progress"
	batchFinalizing = "finalizing"
	batchCompleted  = "completed"
	batchExpired    = "expired"
	batchCancelling = "cancelling"
	batchCancelled  = "cancelled"
)

// batchStore is an organization's batches (held by its fileStore).
type batchStore struct {
	mu    sync.Mutex
	byID  map[string]*batch
	order []*batch // creation order
}

// batchInput is one request line of the input file.
type batchInput struct {
	off, n   int64
	dur      time.Duration
	customID string
}

type batch struct {
	mu          sync.Mutex
	id          string
	inputFileID string
	window      string
	metadata    map[string]string
	created     time.Time
	expires     time.Time

	status                                         string
	inProgressAt, finalizingAt, completedAt        time.Time
	failedAt, cancellingAt, cancelledAt, expiredAt time.Time
	outputFileID, errorFileID                      string
	total, completed, failed                       int
	cursor                                         time.Time // end of the last request run
	next                                           int       // requests run
	invalid                                        [][]byte  // validation error lines; non-empty: the batch fails
	inputs                                         []batchInput
	input                                          *blob
	out, errs                                      spill
}

// terminal reports whether the batch is done (no more transitions).
func (b *batch) terminal() bool {
	switch b.status {
	case batchFailed, batchCompleted, batchExpired, batchCancelled:
		return true
	}
	return false
}

// batchJSON is the BatchObject, in the schema's field order.
type batchJSON struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Endpoint         string            `json:"endpoint"`
	InputFileID      string            `json:"input_file_id"`
	CompletionWindow string            `json:"completion_window"`
	Status           string            `json:"status"`
	OutputFileID     *string           `json:"output_file_id"`
	ErrorFileID      *string           `json:"error_file_id"`
	CreatedAt        int64             `json:"created_at"`
	InProgressAt     *int64            `json:"in_progress_at"`
	ExpiresAt        *int64            `json:"expires_at"`
	FinalizingAt     *int64            `json:"finalizing_at"`
	CompletedAt      *int64            `json:"completed_at"`
	FailedAt         *int64            `json:"failed_at"`
	CancellingAt     *int64            `json:"cancelling_at"`
	CancelledAt      *int64            `json:"cancelled_at"`
	RequestCounts    batchCounts       `json:"request_counts"`
	Metadata         map[string]string `json:"metadata"`
}

type batchCounts struct {
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Total     int `json:"total"`
}

func unixOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	u := t.Unix()
	return &u
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// object renders the batch; the caller holds b.mu. An expired batch
// reports expires_at as the moment it expired (there is no expired_at).
func (b *batch) object() batchJSON {
	return batchJSON{ID: b.id, Object: "batch", Endpoint: batchEndpoint, InputFileID: b.inputFileID,
		CompletionWindow: b.window, Status: b.status,
		OutputFileID: strOrNil(b.outputFileID), ErrorFileID: strOrNil(b.errorFileID),
		CreatedAt: b.created.Unix(), InProgressAt: unixOrNil(b.inProgressAt), ExpiresAt: unixOrNil(b.expires),
		FinalizingAt: unixOrNil(b.finalizingAt), CompletedAt: unixOrNil(b.completedAt), FailedAt: unixOrNil(b.failedAt),
		CancellingAt: unixOrNil(b.cancellingAt), CancelledAt: unixOrNil(b.cancelledAt),
		RequestCounts: batchCounts{Completed: b.completed, Failed: b.failed, Total: b.total},
		Metadata:      b.metadata}
}

// batchLine is one line of an output or error file. Kimi does not
// document the shape: this is OpenAI's batch output line, an assumption
// (LiteLLM passes Kimi batches through the OpenAI SDK unchanged), kept
// here and only here.
type batchLine struct {
	ID       string         `json:"id"` // "batch_req_" + 24 lowercase alphanumerics
	CustomID *string        `json:"custom_id"`
	Response *batchResponse `json:"response"`
	Error    *batchLineErr  `json:"error"`
}

type batchResponse struct {
	StatusCode int    `json:"status_code"`
	RequestID  string `json:"request_id"`
	Body       any    `json:"body"`
}

type batchLineErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// okLine and errLine encode the lines of a request that succeeded or
// failed; an error line's code is the envelope's type.
func (e *Emulator) okLine(customID string, body any) []byte {
	return lineBytes(batchLine{ID: batchReqID(), CustomID: &customID,
		Response: &batchResponse{StatusCode: http.StatusOK, RequestID: e.requestID(), Body: body}})
}

func (e *Emulator) errLine(customID *string, aerr *apiError) []byte {
	return lineBytes(batchLine{ID: batchReqID(), CustomID: customID,
		Response: &batchResponse{StatusCode: aerr.Status, RequestID: e.requestID(),
			Body: map[string]any{"error": map[string]string{"type": aerr.Type, "message": aerr.Message}}},
		Error: &batchLineErr{Code: aerr.Type, Message: aerr.Message}})
}

func lineBytes(l batchLine) []byte { return []byte(marshalNoEscape(l) + "\n") }

func randAlnum(n int) string {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func newBatchID() string { return "batch_" + randAlnum(24) }
func batchReqID() string { return "batch_req_" + randAlnum(24) }

// spill collects a file's lines in memory up to memBlobLimit, then on
// disk, so that a large batch's results are not held in memory.
type spill struct {
	buf bytes.Buffer
	f   *os.File
	n   int64
	bad bool // the disk failed: the lines are dropped
}

func (s *spill) write(e *Emulator, p []byte) {
	if s.bad {
		return
	}
	s.n += int64(len(p))
	if s.f == nil && s.buf.Len()+len(p) > memBlobLimit {
		f, err := e.blobs.create()
		if err == nil {
			_, err = f.Write(s.buf.Bytes())
		}
		if err != nil {
			e.cfg.logger.Error("kimitest: spilling batch results", slog.String("error", err.Error()))
			if f != nil {
				f.Close()
				os.Remove(f.Name())
			}
			s.bad = true
			s.buf = bytes.Buffer{}
			return
		}
		s.f = f
		s.buf = bytes.Buffer{}
	}
	if s.f != nil {
		if _, err := s.f.Write(p); err != nil {
			s.bad = true
		}
		return
	}
	s.buf.Write(p)
}

// blob ends the spill; nil when nothing was written or the disk failed.
func (s *spill) blob() *blob {
	defer func() { s.f, s.buf = nil, bytes.Buffer{} }()
	if s.f != nil {
		name := s.f.Name()
		if err := s.f.Close(); err != nil || s.bad {
			os.Remove(name)
			return nil
		}
		return &blob{path: name, size: s.n}
	}
	if s.bad || s.n == 0 {
		return nil
	}
	return &blob{mem: bytes.Clone(s.buf.Bytes()), size: s.n}
}

// --- Creation and validation ---

type batchCreateJSON struct {
	InputFileID      *string           `json:"input_file_id"`
	Endpoint         *string           `json:"endpoint"`
	CompletionWindow *string           `json:"completion_window"`
	Metadata         map[string]string `json:"metadata"`
}

var windowRE = regexp.MustCompile(`^(\d+)([hd])$`)

// parseWindow parses a completion window: "12h".."7d".
func parseWindow(s string) (time.Duration, bool) {
	m := windowRE.FindStringSubmatch(s)
	if m == nil || len(m[1]) > 4 {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	hours := n
	if m[2] == "d" {
		hours = n * 24
	}
	if hours < 12 || hours > 7*24 {
		return 0, false
	}
	return time.Duration(hours) * time.Hour, true
}

func (e *Emulator) handleCreateBatch(w http.ResponseWriter, r *http.Request, a *account) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	var req batchCreateJSON
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, errInvalid("%s", jsonErrDetail(err)))
		return
	}
	switch {
	case req.InputFileID == nil || *req.InputFileID == "":
		aerr = errBatchFieldRequired("input_file_id")
	case req.Endpoint == nil || *req.Endpoint == "":
		aerr = errBatchFieldRequired("endpoint")
	case *req.Endpoint != batchEndpoint:
		aerr = errBatchEndpoint(*req.Endpoint)
	case req.CompletionWindow == nil || *req.CompletionWindow == "":
		aerr = errBatchFieldRequired("completion_window")
	}
	if aerr == nil {
		aerr = checkBatchMetadata(req.Metadata)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	window, ok := parseWindow(*req.CompletionWindow)
	if !ok {
		writeError(w, errBatchWindow(*req.CompletionWindow))
		return
	}
	now := e.clock.Now()
	b := &batch{id: newBatchID(), inputFileID: *req.InputFileID, window: *req.CompletionWindow,
		metadata: req.Metadata, created: now, expires: now.Add(window), status: batchValidating}
	e.validateBatch(a, b)
	bs := &a.files.batches
	bs.mu.Lock()
	if bs.byID == nil {
		bs.byID = map[string]*batch{}
	}
	if len(bs.order) >= batchMaxPerOrg {
		i := slices.IndexFunc(bs.order, func(o *batch) bool {
			o.mu.Lock()
			defer o.mu.Unlock()
			return o.terminal()
		})
		if i < 0 {
			bs.mu.Unlock()
			writeError(w, errTooManyBatches(batchMaxPerOrg))
			return
		}
		delete(bs.byID, bs.order[i].id)
		bs.order = slices.Delete(bs.order, i, i+1)
	}
	bs.byID[b.id] = b
	bs.order = append(bs.order, b)
	bs.mu.Unlock()
	b.mu.Lock()
	obj := b.object()
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

func checkBatchMetadata(m map[string]string) *apiError {
	if len(m) > 16 {
		return errBatchMetadata("metadata may have at most 16 pairs, got %d", len(m))
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		if utf8.RuneCountInString(k) > 64 {
			return errBatchMetadata("metadata key %q is longer than 64 characters", k)
		}
		if utf8.RuneCountInString(m[k]) > 512 {
			return errBatchMetadata("metadata value of key %q is longer than 512 characters", k)
		}
	}
	return nil
}

// batchLineJSON is an input line.
type batchLineJSON struct {
	CustomID *string         `json:"custom_id"`
	Method   *string         `json:"method"`
	URL      *string         `json:"url"`
	Body     json.RawMessage `json:"body"`
}

// batchBodyJSON is what validation reads of a line's body.
type batchBodyJSON struct {
	Model               *string         `json:"model"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         json.RawMessage `json:"temperature"`
	TopP                json.RawMessage `json:"top_p"`
	N                   json.RawMessage `json:"n"`
	PresencePenalty     json.RawMessage `json:"presence_penalty"`
	FrequencyPenalty    json.RawMessage `json:"frequency_penalty"`
}

// validateBatch reads the input file and records the requests, or the
// reasons the batch will fail (b.invalid).
func (e *Emulator) validateBatch(a *account, b *batch) {
	fail := func(customID *string, aerr *apiError) bool {
		b.invalid = append(b.invalid, e.errLine(customID, aerr))
		return len(b.invalid) < batchMaxValidationErrors
	}
	f := a.files.get(b.inputFileID)
	switch {
	case f == nil:
		fail(nil, errFileNotFound(b.inputFileID))
		return
	case f.purpose != "batch":
		fail(nil, errBatchInput("file %s has purpose %s, a batch needs a file uploaded with purpose batch", f.id, f.purpose))
		return
	case !strings.HasSuffix(strings.ToLower(f.filename), ".jsonl"):
		fail(nil, errBatchInput("file %s (%s) is not a .jsonl file", f.id, f.filename))
		return
	case f.data.size == 0:
		fail(nil, errBatchInput("file %s is empty", f.id))
		return
	case f.data.size > batchMaxFileBytes:
		fail(nil, errBatchInput("file %s is larger than %s", f.id, humanSize(batchMaxFileBytes)))
		return
	}
	rd, err := f.data.open()
	if err != nil {
		fail(nil, errFileNotFound(b.inputFileID))
		return
	}
	defer rd.Close()
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), batchMaxFileBytes+1)
	// Lines keep their newline, so that offsets add up.
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			return i + 1, data[:i+1], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	var (
		off   int64
		no    int
		model string
		seen  = map[string]struct{}{}
	)
	for sc.Scan() {
		raw := sc.Bytes()
		start := off
		off += int64(len(raw))
		no++
		line := bytes.TrimSpace(raw)
		if len(line) == 0 {
			continue // blank lines are skipped (an assumption)
		}
		var l batchLineJSON
		if err := json.Unmarshal(line, &l); err != nil {
			if !fail(nil, errBatchLine(no, "invalid JSON: %s", jsonErrDetail(err))) {
				return
			}
			continue
		}
		var body batchBodyJSON
		var aerr *apiError
		switch {
		case l.CustomID == nil || *l.CustomID == "":
			aerr = errBatchLine(no, "custom_id is required")
		case l.Method == nil || *l.Method == "":
			aerr = errBatchLine(no, "method is required")
		case l.URL == nil || *l.URL == "":
			aerr = errBatchLine(no, "url is required")
		case len(l.Body) == 0 || string(l.Body) == "null":
			aerr = errBatchLine(no, "body is required")
		case *l.Method != http.MethodPost:
			aerr = errBatchLine(no, "method must be POST, got %s", *l.Method)
		case *l.URL != batchEndpoint:
			aerr = errBatchLine(no, "url must be %s, got %s", batchEndpoint, *l.URL)
		}
		if aerr == nil {
			if _, dup := seen[*l.CustomID]; dup {
				aerr = errBatchLine(no, "duplicate custom_id %s", *l.CustomID)
			} else if err := json.Unmarshal(l.Body, &body); err != nil {
				aerr = errBatchLine(no, "body: %s", jsonErrDetail(err))
			} else if body.Model == nil || *body.Model == "" {
				aerr = errBatchLine(no, "body.model is required")
			}
		}
		if aerr == nil {
			m := *body.Model
			_, known := e.models[m]
			fixed := ""
			for _, p := range []struct {
				name string
				v    json.RawMessage
			}{{"temperature", body.Temperature}, {"top_p", body.TopP}, {"n", body.N},
				{"presence_penalty", body.PresencePenalty}, {"frequency_penalty", body.FrequencyPenalty}} {
				if p.v != nil {
					fixed = p.name
					break
				}
			}
			switch {
			case !known:
				aerr = errModelNotFound(m)
			case !slices.Contains(batchModels, m):
				aerr = errBatchLine(no, "model %s does not support batch, use one of %s", m, strings.Join(batchModels, ", "))
			case model != "" && m != model:
				aerr = errBatchLine(no, "all requests must use the same model: %s, got %s", model, m)
			case fixed != "":
				aerr = errBatchLine(no, "%s is fixed for model %s and must not be sent in a batch", fixed, m)
			}
			if model == "" && known {
				model = m
			}
		}
		if aerr != nil {
			if l.CustomID != nil && *l.CustomID != "" {
				id := *l.CustomID
				if !fail(&id, aerr) {
					return
				}
			} else if !fail(nil, aerr) {
				return
			}
			continue
		}
		seen[*l.CustomID] = struct{}{}
		budget := 1024
		if body.MaxCompletionTokens != nil {
			budget = max(*body.MaxCompletionTokens, 0)
		}
		if body.MaxTokens != nil {
			budget = max(*body.MaxTokens, 0)
		}
		size := satAdd(len(line)/4, budget)
		b.inputs = append(b.inputs, batchInput{off: start, n: int64(len(raw)), customID: *l.CustomID,
			dur: time.Second + time.Duration(size)*time.Second/batchTokensPerSecond})
	}
	if err := sc.Err(); err != nil {
		fail(nil, errBatchInput("file %s cannot be read: %v", f.id, err))
		return
	}
	if len(b.inputs) == 0 && len(b.invalid) == 0 {
		fail(nil, errBatchInput("file %s has no requests", f.id))
		return
	}
	b.input = f.data
}

// --- The state machine ---

// advanceBatches brings every unfinished batch of the account up to the
// emulator's clock.
func (e *Emulator) advanceBatches(a *account) {
	bs := &a.files.batches
	bs.mu.Lock()
	list := slices.Clone(bs.order)
	bs.mu.Unlock()
	for _, b := range list {
		b.mu.Lock()
		if !b.terminal() {
			e.advance(a, b, e.clock.Now())
		}
		b.mu.Unlock()
	}
}

// advance runs the batch's transitions due by now; the caller holds b.mu.
func (e *Emulator) advance(a *account, b *batch, now time.Time) {
	var in interface {
		io.ReaderAt
		io.Closer
	}
	defer func() {
		if in != nil {
			in.Close()
		}
	}()
	for {
		switch b.status {
		case batchValidating:
			end := b.created.Add(batchValidateFor)
			if now.Before(end) {
				return
			}
			if len(b.invalid) > 0 {
				for _, l := range b.invalid {
					b.errs.write(e, l)
				}
				b.invalid = nil
				b.status, b.failedAt = batchFailed, end
				e.finishFiles(a, b, end)
				return
			}
			b.status, b.inProgressAt, b.cursor, b.total = batchInProgress, end, end, len(b.inputs)
		case batchInProgress:
			for b.next < len(b.inputs) {
				req := b.inputs[b.next]
				end := b.cursor.Add(req.dur)
				if end.After(now) || end.After(b.expires) {
					break
				}
				if in == nil {
					rd, err := b.input.open()
					if err != nil {
						in = errReaderAt{}
					} else {
						in = rd
					}
				}
				e.runBatchRequest(a, b, in, req, end)
				b.next++
				b.cursor = end
			}
			if b.next == len(b.inputs) {
				b.status, b.finalizingAt = batchFinalizing, b.cursor
				continue
			}
			if now.Before(b.expires) {
				return
			}
			e.expire(a, b)
			return
		case batchFinalizing:
			end := b.finalizingAt.Add(batchFinalizeFor)
			if end.After(b.expires) && !now.Before(b.expires) {
				e.expire(a, b)
				return
			}
			if now.Before(end) {
				return
			}
			b.status, b.completedAt = batchCompleted, end
			e.finishFiles(a, b, end)
			return
		case batchCancelling:
			end := b.cancellingAt.Add(batchCancelFor)
			if now.Before(end) {
				return
			}
			b.status, b.cancelledAt = batchCancelled, end
			e.finishFiles(a, b, end)
			return
		default:
			return
		}
	}
}

// expire ends a batch at its expiry: the requests not run go to the error
// file (OpenAI's batch_expired code and text, an assumption).
func (e *Emulator) expire(a *account, b *batch) {
	for _, req := range b.inputs[b.next:] {
		id := req.customID
		b.errs.write(e, e.errLine(&id, errBatchRequestExpired))
		b.failed++
	}
	b.next = len(b.inputs)
	b.status, b.expiredAt = batchExpired, b.expires
	e.finishFiles(a, b, b.expires)
}

type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, os.ErrNotExist }
func (errReaderAt) Close() error                      { return nil }

// runBatchRequest runs one request at emulated time at and records its
// line.
func (e *Emulator) runBatchRequest(a *account, b *batch, in io.ReaderAt, req batchInput, at time.Time) {
	id := req.customID
	raw := make([]byte, req.n)
	if _, err := in.ReadAt(raw, req.off); err != nil && err != io.EOF {
		b.errs.write(e, e.errLine(&id, errBatchInputGone(b.inputFileID)))
		b.failed++
		return
	}
	var l batchLineJSON
	if err := json.Unmarshal(bytes.TrimSpace(raw), &l); err != nil {
		b.errs.write(e, e.errLine(&id, errBatchInputGone(b.inputFileID)))
		b.failed++
		return
	}
	body, aerr := e.batchChat(a, l.Body, at)
	if aerr != nil {
		b.errs.write(e, e.errLine(&id, aerr))
		b.failed++
		return
	}
	b.out.write(e, e.okLine(id, body))
	b.completed++
}

// batchChat answers one chat request of a batch with the engine of
// POST /v1/chat/completions (chat.go): the same parsing, checks, rules
// and generator, without streaming (stream is ignored), context caches
// (neither role=cache nor automatic: cached_tokens is 0) and rate limits;
// billed at batchDiscount of the real-time price.
func (e *Emulator) batchChat(a *account, body []byte, at time.Time) (any, *apiError) {
	req, aerr := parseChatRequest(body)
	if aerr != nil {
		return nil, aerr
	}
	model, ok := e.kimiChat.models[req.Model]
	if !ok {
		return nil, errModelNotFound(req.Model)
	}
	plan, aerr := checkChat(req, model, a.files, e.kimiChat.provider.IgnoresFixedSampling)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := e.quotaError(a); aerr != nil {
		return nil, aerr
	}
	rule := e.matchRule(req)
	if rule != nil && rule.Error != nil {
		return nil, rule.Error.apiError()
	}
	var cached *int
	if rulesFor(model.Family).AutoCache {
		n := 0
		cached = &n
	}
	c := generateCompletion(req, model, plan, rule, cached, at)
	e.chargeBatch(a, model, plan.charge, c, at)
	return c.response(), nil
}

// chargeBatch records a batch request's cost: as chargeChat, × 0.6.
func (e *Emulator) chargeBatch(a *account, m ModelSpec, size int, c *completion, at time.Time) {
	completion := 0
	for _, ch := range c.choices {
		completion += ch.CompletionTokens
	}
	p := chatPrice(m, size)
	a.ledger.add(Charge{Kind: ChargeBatchChat, Time: at, Amount: p.Cost(c.prompt, 0, completion) * batchDiscount,
		Tokens: c.prompt, Model: m.ID, BilledAs: p.Row, CompletionTokens: completion})
}

// finishFiles stores the output and error files of a finished batch and
// lets go of its input.
func (e *Emulator) finishFiles(a *account, b *batch, at time.Time) {
	if bl := b.out.blob(); bl != nil {
		b.outputFileID = e.addBatchFile(a, bl, b.id+"_output.jsonl", at)
	}
	if bl := b.errs.blob(); bl != nil {
		b.errorFileID = e.addBatchFile(a, bl, b.id+"_error.jsonl", at)
	}
	b.inputs, b.input = nil, nil
}

// addBatchFile adds a result file to the account's files. Result files
// are not refused for the file limits (they count in them afterwards):
// an assumption.
func (e *Emulator) addBatchFile(a *account, data *blob, name string, at time.Time) string {
	f := &storedFile{id: newFileID(e.cfg.fileIDs), created: at, filename: name, purpose: batchOutputPurpose, data: data}
	fs := a.files
	fs.mu.Lock()
	fs.files[f.id] = f
	fs.order = append(fs.order, f.id)
	fs.total += data.size
	fs.mu.Unlock()
	return f.id
}

// serveBatchFile answers GET /v1/files/{id}/content for a result file:
// the JSONL itself, as text/plain.
func serveBatchFile(w http.ResponseWriter, f *storedFile) {
	rd, err := f.data.open()
	if err != nil {
		writeError(w, errFileNotFound(f.id))
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.FormatInt(f.data.size, 10))
	w.WriteHeader(http.StatusOK)
	io.Copy(w, rd)
}

// --- Lookup, listing, cancel ---

func (e *Emulator) getBatch(a *account, id string) *batch {
	bs := &a.files.batches
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return bs.byID[id]
}

// pathBatch is the batch the path names, its state brought up to the
// clock; nil, with the 404 written, when the account has no such batch.
func (e *Emulator) pathBatch(w http.ResponseWriter, r *http.Request, a *account) *batch {
	e.advanceBatches(a)
	b := e.getBatch(a, r.PathValue("id"))
	if b == nil {
		writeError(w, errBatchNotFound(r.PathValue("id")))
	}
	return b
}

func (e *Emulator) handleGetBatch(w http.ResponseWriter, r *http.Request, a *account) {
	b := e.pathBatch(w, r, a)
	if b == nil {
		return
	}
	b.mu.Lock()
	obj := b.object()
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

func (e *Emulator) handleCancelBatch(w http.ResponseWriter, r *http.Request, a *account) {
	b := e.pathBatch(w, r, a)
	if b == nil {
		return
	}
	b.mu.Lock()
	switch b.status {
	case batchValidating, batchInProgress, batchFinalizing:
		b.invalid = nil // a cancelled batch does not fail
		b.status, b.cancellingAt = batchCancelling, e.clock.Now()
	default:
		b.mu.Unlock()
		writeError(w, errBatchNotCancellable)
		return
	}
	obj := b.object()
	b.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

type batchListJSON struct {
	Object  string      `json:"object"`
	Data    []batchJSON `json:"data"`
	HasMore bool        `json:"has_more"`
}

// handleListBatches serves GET /v1/batches?after=&limit=: newest first,
// after is the id of the last batch of the previous page.
func (e *Emulator) handleListBatches(w http.ResponseWriter, r *http.Request, a *account) {
	e.advanceBatches(a)
	q := r.URL.Query()
	limit := 20
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			writeError(w, errBatchLimit(s))
			return
		}
		limit = n
	}
	bs := &a.files.batches
	bs.mu.Lock()
	list := slices.Clone(bs.order)
	bs.mu.Unlock()
	slices.Reverse(list)
	if after := q.Get("after"); after != "" {
		i := slices.IndexFunc(list, func(b *batch) bool { return b.id == after })
		if i < 0 {
			writeError(w, errBatchNotFound(after))
			return
		}
		list = list[i+1:]
	}
	out := batchListJSON{Object: "list", Data: []batchJSON{}, HasMore: len(list) > limit}
	for _, b := range list[:min(limit, len(list))] {
		b.mu.Lock()
		out.Data = append(out.Data, b.object())
		b.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, out)
}
