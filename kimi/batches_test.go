package kimi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// batchJSON is a batch as Kimi sends it before it has run: the file ids
// and most timestamps are null.
const batchJSON = `{"id":"batch-1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-in",
"completion_window":"24h","status":"validating","created_at":1760000000,
"request_counts":{"completed":0,"failed":0,"total":0},"output_file_id":null,"error_file_id":null,
"in_progress_at":null,"expires_at":1760086400,"finalizing_at":null,"completed_at":null,"failed_at":null,
"cancelling_at":null,"cancelled_at":null,"metadata":null,"priority":"low"}`

func TestBatchCreateFillsDefaultsAndDecodesNulls(t *testing.T) {
	c, srv := loopback(t, kimi.Reply(200, batchJSON))
	req := &kimi.BatchCreateRequest{InputFileID: "file-in"}
	b, err := c.Batches.Create(testCtx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	r, body := srv.Last()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/batches" {
		t.Errorf("sent %s %s", r.Method, r.URL.Path)
	}
	var sent map[string]any
	if err := json.Unmarshal(body, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"input_file_id": "file-in", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
	if fmt.Sprint(sent) != fmt.Sprint(want) {
		t.Errorf("body %s, want %v (no metadata key when there is none)", body, want)
	}
	if req.Endpoint != "" || req.CompletionWindow != 0 {
		t.Errorf("Create changed the caller's request: %+v", req)
	}
	if b.ID != "batch-1" || b.Status != kimi.BatchStatusValidating || b.Done() {
		t.Errorf("batch %+v", b)
	}
	if b.OutputFileID != "" || b.ErrorFileID != "" || b.InProgressAt != nil || b.Metadata != nil {
		t.Errorf("nulls did not decode as empty: %+v", b)
	}
	if b.ExpiresAt == nil || *b.ExpiresAt != 1760086400 {
		t.Errorf("expires_at = %v", b.ExpiresAt)
	}
	if string(b.Extra["priority"]) != `"low"` || len(b.Extra) != 1 {
		t.Errorf("Extra = %v, want only the unknown field", b.Extra)
	}
}

func TestBatchCreateRefusesBadRequestsBeforeSending(t *testing.T) {
	many := map[string]string{}
	for i := range 17 {
		many[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name  string
		req   *kimi.BatchCreateRequest
		field string
	}{
		{"nil", nil, "request"},
		{"no file", &kimi.BatchCreateRequest{}, "input_file_id"},
		{"endpoint", &kimi.BatchCreateRequest{InputFileID: "f", Endpoint: "/v1/embeddings"}, "endpoint"},
		{"window too short", &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: 11 * time.Hour}, "completion_window"},
		{"window too long", &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: 8 * 24 * time.Hour}, "completion_window"},
		{"window in hours too long", &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: 169 * time.Hour}, "completion_window"},
		{"window not whole hours", &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: 24*time.Hour + time.Minute}, "completion_window"},
		{"window negative", &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: -time.Hour}, "completion_window"},
		{"metadata pairs", &kimi.BatchCreateRequest{InputFileID: "f", Metadata: many}, "metadata"},
		{"metadata key", &kimi.BatchCreateRequest{InputFileID: "f", Metadata: map[string]string{strings.Repeat("k", 65): "v"}}, "metadata key"},
		{"metadata value", &kimi.BatchCreateRequest{InputFileID: "f", Metadata: map[string]string{"k": strings.Repeat("v", 513)}}, "metadata[k]"},
	}
	c, srv := loopback(t, kimi.Reply(200, batchJSON))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Batches.Create(testCtx(t), tt.req)
			var ve *kimi.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("err = %v, want a validation error of %s", err, tt.field)
			}
			if !errors.Is(err, kimi.ErrBadRequest) {
				t.Errorf("err is not ErrBadRequest: %v", err)
			}
		})
	}
	if n := srv.Hits.Load(); n != 0 {
		t.Errorf("%d requests sent for refused batches", n)
	}
	// A window is sent as the platform spells it.
	for d, want := range map[time.Duration]string{12 * time.Hour: "12h", 24 * time.Hour: "24h", 36 * time.Hour: "36h",
		48 * time.Hour: "2d", 50 * time.Hour: "50h", 7 * 24 * time.Hour: "7d"} {
		if _, err := c.Batches.Create(testCtx(t), &kimi.BatchCreateRequest{InputFileID: "f", CompletionWindow: d}); err != nil {
			t.Errorf("window %v: %v", d, err)
			continue
		}
		_, body := srv.Last()
		var sent struct {
			W string `json:"completion_window"`
		}
		if json.Unmarshal(body, &sent) != nil || sent.W != want {
			t.Errorf("window %v sent as %s, want %q", d, body, want)
		}
	}
}

// ParseBatchWindow reads the platform's spelling; FormatBatchWindow
// writes it back.
func TestParseBatchWindow(t *testing.T) {
	for _, w := range []string{"11h", "8d", "169h", "1w", "24", "", "h", "-12h", "99999999999999999999h"} {
		if _, err := kimi.ParseBatchWindow(w); err == nil {
			t.Errorf("ParseBatchWindow(%q) = nil error", w)
		}
	}
	for _, w := range []string{"12h", "1d", "3d", "7d", "168h", "36h"} {
		d, err := kimi.ParseBatchWindow(w)
		if err != nil {
			t.Errorf("ParseBatchWindow(%q): %v", w, err)
			continue
		}
		back, err := kimi.FormatBatchWindow(d)
		if again, _ := kimi.ParseBatchWindow(back); err != nil || again != d {
			t.Errorf("%q → %v → %q", w, d, back)
		}
	}
}

// batchPage is a list page of batches with the ids given.
func batchPage(hasMore bool, ids ...string) string {
	var data []string
	for _, id := range ids {
		data = append(data, strings.Replace(batchJSON, `"batch-1"`, fmt.Sprintf("%q", id), 1))
	}
	return fmt.Sprintf(`{"object":"list","data":[%s],"has_more":%t}`, strings.Join(data, ","), hasMore)
}

func TestBatchAllFollowsHasMore(t *testing.T) {
	c, srv := loopback(t,
		kimi.Reply(200, batchPage(true, "b1", "b2")),
		kimi.Reply(200, batchPage(true, "b3")), // shorter than the limit, yet more follow
		kimi.Reply(200, batchPage(false, "b4")))
	var got []string
	for b, err := range c.Batches.All(testCtx(t), &kimi.BatchListOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b.ID)
	}
	if strings.Join(got, ",") != "b1,b2,b3,b4" {
		t.Errorf("got %v", got)
	}
	var queries []string
	for _, r := range srv.Requests() {
		queries = append(queries, r.URL.RawQuery)
	}
	if want := "limit=2,after=b2&limit=2,after=b3&limit=2"; strings.Join(queries, ",") != want {
		t.Errorf("queries %v, want %s", queries, want)
	}
}

func TestBatchAllStopsOnARepeatedCursor(t *testing.T) {
	c, _ := loopback(t, kimi.Reply(200, batchPage(true, "b1")))
	n := 0
	var last error
	for _, err := range c.Batches.All(testCtx(t), nil) {
		n++
		last = err
		if n > 10 {
			t.Fatal("no end to a server that ignores the cursor")
		}
	}
	if !errors.Is(last, kimi.ErrBadResponse) {
		t.Errorf("last = %v, want ErrBadResponse", last)
	}
}

func TestBatchListPage(t *testing.T) {
	c, srv := loopback(t, kimi.Reply(200, batchPage(true, "b1")))
	l, err := c.Batches.List(testCtx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !l.HasMore || len(l.Data) != 1 || l.Data[0].ID != "b1" {
		t.Errorf("list %+v", l)
	}
	if r, _ := srv.Last(); r.URL.RawQuery != "" {
		t.Errorf("nil options sent query %q", r.URL.RawQuery)
	}
	if _, err := c.Batches.List(testCtx(t), &kimi.BatchListOptions{Limit: -1}); !errors.Is(err, kimi.ErrBadRequest) {
		t.Errorf("negative limit: %v", err)
	}
}

func TestBatchCancelAndGet(t *testing.T) {
	cancelled := strings.Replace(batchJSON, `"validating"`, `"cancelling"`, 1)
	c, srv := loopback(t,
		kimi.Reply(200, cancelled),
		kimi.Reply(400, `{"error":{"type":"invalid_request_error","message":"task status does not allow cancellation"}}`),
		kimi.Reply(404, `{"error":{"type":"resource_not_found_error","message":"batch not found"}}`))
	b, err := c.Batches.Cancel(testCtx(t), "batch/1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != kimi.BatchStatusCancelling {
		t.Errorf("status %s", b.Status)
	}
	if r, _ := srv.Last(); r.Method != http.MethodPost || r.URL.EscapedPath() != "/v1/batches/batch%2F1/cancel" {
		t.Errorf("sent %s %s", r.Method, r.URL.EscapedPath())
	}
	var apiErr *kimi.Error
	if _, err := c.Batches.Cancel(testCtx(t), "batch-1"); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("cancel of a done batch: %v", err)
	}
	if _, err := c.Batches.Get(testCtx(t), "nope"); !errors.Is(err, kimi.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
	if _, err := c.Batches.Get(testCtx(t), ""); !errors.Is(err, kimi.ErrBadRequest) {
		t.Errorf("empty id: %v", err)
	}
}

func TestBatchWaitDonePollsToATerminalStatus(t *testing.T) {
	status := func(s string) http.HandlerFunc {
		return kimi.Reply(200, strings.Replace(batchJSON, `"validating"`, fmt.Sprintf("%q", s), 1))
	}
	c, srv := loopback(t, status("validating"), status("in_progress"), status("finalizing"), status("expired"))
	waits := kimi.RecordWaits(c)
	b, err := c.Batches.WaitDone(testCtx(t), "batch-1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != kimi.BatchStatusExpired || srv.Hits.Load() != 4 || len(waits()) != 3 {
		t.Errorf("status %s after %d gets and %d waits", b.Status, srv.Hits.Load(), len(waits()))
	}
}

func TestBatchResultsReadsOutputThenErrors(t *testing.T) {
	out := `{"id":"r1","custom_id":"a","response":{"status_code":200,"body":{"id":"c1","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}]}}}` + "\n" +
		"not json\n" +
		`{"id":"r2","custom_id":"b","response":{"status_code":200,"body":{}}}` + "\n"
	errs := `{"id":"r3","custom_id":"c","error":{"code":"bad","message":"no"}}` + "\n"
	c, srv := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/files/file-out/content":
			io.WriteString(w, out)
		case "/v1/files/file-err/content":
			io.WriteString(w, errs)
		default:
			http.NotFound(w, r)
		}
	})
	b := &kimi.Batch{ID: "batch-1", OutputFileID: "file-out", ErrorFileID: "file-err"}
	var ids []string
	var lineErrs int
	for r, err := range c.Batches.Results(testCtx(t), b) {
		if err != nil {
			lineErrs++
			var le *kimi.LineError
			if !errors.As(err, &le) || le.File != "file-out" || le.Line != 2 ||
				!strings.HasPrefix(err.Error(), "kimi: file file-out line 2: ") {
				t.Errorf("line error does not say where: %v", err)
			}
			checkKinds(t, err, kimi.ErrServerUnavailable)
			if !errors.Is(err, kimi.ErrBadResponse) {
				t.Errorf("%v is not ErrBadResponse", err)
			}
			continue
		}
		ids = append(ids, r.CustomID)
	}
	if strings.Join(ids, ",") != "a,b,c" || lineErrs != 1 {
		t.Errorf("results %v with %d errors", ids, lineErrs)
	}
	if srv.Hits.Load() != 2 {
		t.Errorf("%d downloads", srv.Hits.Load())
	}

	// A batch with no error file reads only its output; a failed
	// download ends the range with its error.
	var n atomic.Int32
	for _, err := range c.Batches.Results(testCtx(t), &kimi.Batch{OutputFileID: "gone"}) {
		n.Add(1)
		if !errors.Is(err, kimi.ErrNotFound) {
			t.Errorf("err = %v, want not found", err)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d items for a failed download", n.Load())
	}
}

func TestWriteBatchInput(t *testing.T) {
	line := func(id string) kimi.BatchLine {
		return kimi.BatchLine{CustomID: id, Method: "POST", URL: kimi.BatchURL,
			Body: kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage("hi " + id)}}}
	}
	var buf bytes.Buffer
	if err := kimi.WriteBatchInput(&buf, []kimi.BatchLine{line("a"), line("b")}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Errorf("%d lines:\n%s", n, buf.String())
	}
	var got []string
	for l, err := range kimi.ReadJSONL[kimi.BatchLine](&buf) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.CustomID)
	}
	if strings.Join(got, ",") != "a,b" {
		t.Errorf("read back %v", got)
	}

	bad := line("c")
	bad.Method = "GET"
	for _, tt := range []struct {
		lines []kimi.BatchLine
		field string
	}{
		{nil, "lines"},
		{[]kimi.BatchLine{line("a"), line("a")}, "lines[1].custom_id"},
		{[]kimi.BatchLine{line("a"), bad}, "lines[1].method"},
	} {
		buf.Reset()
		err := kimi.WriteBatchInput(&buf, tt.lines)
		var ve *kimi.ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("err = %v, want one of %s", err, tt.field)
		}
		if buf.Len() != 0 {
			t.Errorf("wrote %q for a bad input", buf.String())
		}
	}
}

// uploadBatchInput writes lines with WriteBatchInput and uploads them
// with purpose batch, as a caller of the Batch API would.
func uploadBatchInput(t *testing.T, c *kimi.Client, lines ...kimi.BatchLine) string {
	t.Helper()
	var buf bytes.Buffer
	if err := kimi.WriteBatchInput(&buf, lines); err != nil {
		t.Fatal(err)
	}
	f, err := c.Files.Upload(testCtx(t), &kimi.FileUploadRequest{Filename: "in.jsonl", Purpose: kimi.PurposeBatch, Reader: &buf})
	if err != nil {
		t.Fatal(err)
	}
	return f.ID
}

func batchLine(id, question string) kimi.BatchLine {
	return kimi.BatchLine{CustomID: id, Method: http.MethodPost, URL: kimi.BatchURL,
		Body: kimi.ChatRequest{Model: "kimi-k2.6", Messages: []kimi.Message{kimi.UserMessage(question)}}}
}

// pollBriefly makes WaitDone's waits a few real milliseconds, so that
// the emulator's clock (run fast) moves between polls without the test
// waiting the real schedule.
func pollBriefly(c *kimi.Client) {
	kimi.RecordWaitsThen(c, func(time.Duration) { time.Sleep(2 * time.Millisecond) })
}

func TestBatchOnEmulator(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithTimeScale(2000))
	pollBriefly(c)
	ctx := testCtx(t)
	in := uploadBatchInput(t, c, batchLine("a", "hello"), batchLine("b", "what is 2+2?"))
	b, err := c.Batches.Create(ctx, &kimi.BatchCreateRequest{InputFileID: in, Metadata: map[string]string{"job": "nightly"}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != kimi.BatchStatusValidating || b.CompletionWindow != "24h" || b.Metadata["job"] != "nightly" ||
		b.OutputFileID != "" || b.InProgressAt != nil || b.ExpiresAt == nil {
		t.Errorf("created %+v", b)
	}
	found := false
	for x, err := range c.Batches.All(ctx, &kimi.BatchListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || x.ID == b.ID
	}
	if !found {
		t.Errorf("All did not list %s", b.ID)
	}
	done, err := c.Batches.WaitDone(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != kimi.BatchStatusCompleted || done.RequestCounts.Total != 2 || done.CompletedAt == nil {
		t.Fatalf("done %+v", done)
	}
	var ids []string
	for r, err := range c.Batches.Results(ctx, done) {
		if err != nil {
			t.Fatal(err)
		}
		comp, err := r.Completion()
		if err != nil || comp.Text() == "" {
			t.Errorf("%s: %v", r.CustomID, err)
		}
		ids = append(ids, r.CustomID)
	}
	if slices.Sort(ids); strings.Join(ids, ",") != "a,b" {
		t.Errorf("results for %v", ids)
	}
	var apiErr *kimi.Error
	if _, err := c.Batches.Cancel(ctx, b.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
		t.Errorf("cancel of a completed batch: %v", err)
	}
}

func TestBatchCancelOnEmulator(t *testing.T) {
	c, _, _ := setup(t, kimitest.WithTimeScale(2000))
	pollBriefly(c)
	ctx := testCtx(t)
	in := uploadBatchInput(t, c, batchLine("a", "hello"))
	b, err := c.Batches.Create(ctx, &kimi.BatchCreateRequest{InputFileID: in, CompletionWindow: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = c.Batches.Cancel(ctx, b.ID); err != nil || b.Status != kimi.BatchStatusCancelling {
		t.Fatalf("cancel: %+v, %v", b, err)
	}
	done, err := c.Batches.WaitDone(ctx, b.ID)
	if err != nil || done.Status != kimi.BatchStatusCancelled || done.CancelledAt == nil {
		t.Errorf("after cancel: %+v, %v", done, err)
	}
	if _, err := c.Batches.Get(ctx, "batch_unknown"); !errors.Is(err, kimi.ErrNotFound) {
		t.Errorf("unknown batch: %v", err)
	}
}
