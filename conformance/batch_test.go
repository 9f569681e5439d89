package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimitest"
)

// Kimi's Batch API (/v1/batches) through each peer's own batch and file
// calls: a peer that works against OpenAI's batches must work against
// the emulator's unchanged.

// batchInfo is a batch object as the peer decoded it; a timestamp that
// is null on the wire is 0 here, as both peers make it.
type batchInfo struct {
	id, status, endpoint, window string
	inputFile, outputFile        string
	errorFile                    string
	total, completed, failed     int64
	createdAt, completedAt       int64
	cancellingAt                 int64
	metadata                     map[string]string
}

type batchPage struct {
	data    []batchInfo
	hasMore bool
}

// batchScale runs the emulator's batches fast: 60 s of validation is
// 30 ms, a request about 50 ms.
const batchScale = 2000

// The batch model and the rule that makes one request of a batch fail.
const (
	batchModel   = "kimi-k2.6"
	batchRefusal = "refuse this batch request"
)

func batchOptions() []kimitest.Option {
	return []kimitest.Option{kimitest.WithTimeScale(batchScale),
		kimitest.WithRule(kimitest.Rule{Match: batchRefusal, Error: &kimitest.RuleError{Status: 400,
			Type: "invalid_request_error", Message: "Invalid request: refused by the test's rule"}})}
}

// batchBody is the chat request of one input line.
func batchBody(prompt string) map[string]any {
	return map[string]any{"model": batchModel, "messages": []map[string]string{{"role": "user", "content": prompt}}}
}

// batchInput is a JSONL input file, one line per custom_id → prompt.
func batchInput(t *testing.T, prompts [][2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range prompts {
		line, err := json.Marshal(map[string]any{"custom_id": p[0], "method": "POST", "url": "/v1/chat/completions", "body": batchBody(p[1])})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// waitBatch polls the batch until it reaches a terminal state.
func waitBatch(t *testing.T, c conn, id string) batchInfo {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, err := c.GetBatch(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch b.status {
		case "completed", "failed", "expired", "cancelled":
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s still %s after 20 s", id, b.status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// resultLine is a line of an output or error file, in OpenAI's shape.
type resultLine struct {
	ID       string `json:"id"`
	CustomID string `json:"custom_id"`
	Response struct {
		StatusCode int             `json:"status_code"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func readLines(t *testing.T, c conn, fileID string) map[string]resultLine {
	t.Helper()
	data, err := c.FileContent(t.Context(), fileID)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]resultLine{}
	for l := range strings.Lines(string(data)) {
		var r resultLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("result line %q: %v", l, err)
		}
		if _, dup := lines[r.CustomID]; dup {
			t.Errorf("custom_id %s twice", r.CustomID)
		}
		lines[r.CustomID] = r
	}
	return lines
}

// contentOf is the first choice's content of a chat completion body.
func contentOf(t *testing.T, body []byte) string {
	t.Helper()
	var c struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) != 1 {
		t.Fatalf("not a completion with one choice (%v): %s", err, body)
	}
	return c.Choices[0].Message.Content
}

// A batch uploaded, created, awaited and read through the peer: every
// request once, in the output file or (the scripted refusal) the error
// file, each answer the one a real-time call with the same body gets.
func TestBatchRoundTrip(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p, batchOptions()...)
		c, _ := e.connect(t, options{})
		prompts := [][2]string{{"q1", "What is the capital of France?"}, {"q2", "用一句话介绍长城"}, {"q3", "please " + batchRefusal}}
		fileID, err := c.UploadBatchInput(t.Context(), "requests.jsonl", batchInput(t, prompts))
		if err != nil {
			t.Fatal(err)
		}
		meta := map[string]string{"job": "conformance"}
		b, err := c.CreateBatch(t.Context(), fileID, "24h", meta)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.id, "batch") || b.status != "validating" || b.inputFile != fileID || b.window != "24h" ||
			b.endpoint != "/v1/chat/completions" || b.createdAt == 0 || b.completedAt != 0 || b.outputFile != "" || !maps.Equal(b.metadata, meta) {
			t.Fatalf("created batch %+v", b)
		}
		done := waitBatch(t, c, b.id)
		if done.status != "completed" || done.total != 3 || done.completed != 2 || done.failed != 1 ||
			done.completedAt < done.createdAt || done.outputFile == "" || done.errorFile == "" {
			t.Fatalf("finished batch %+v", done)
		}
		out := readLines(t, c, done.outputFile)
		if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, []string{"q1", "q2"}) {
			t.Fatalf("output custom_ids %v", got)
		}
		for _, pr := range prompts[:2] {
			l := out[pr[0]]
			if l.Response.StatusCode != 200 || l.Error != nil || !strings.HasPrefix(l.ID, "batch_req_") {
				t.Errorf("%s: line %+v", pr[0], l)
			}
			status, body := rawPost(t, e.srv, e.srv.Key, "/chat/completions", batchBody(pr[1]), nil)
			if status != 200 {
				t.Fatalf("real-time call: %d %s", status, body)
			}
			if got, want := contentOf(t, l.Response.Body), contentOf(t, body); got != want {
				t.Errorf("%s: batch answer %q, real-time answer %q", pr[0], got, want)
			}
		}
		errs := readLines(t, c, done.errorFile)
		if l, ok := errs["q3"]; len(errs) != 1 || !ok || l.Response.StatusCode != 400 || l.Error == nil ||
			l.Error.Code != "invalid_request_error" || !strings.Contains(l.Error.Message, "refused by the test's rule") {
			t.Errorf("error file %+v", errs)
		}
	})
}

// Listing pages with limit and the after cursor, newest first; cancel
// moves a running batch to cancelling and then cancelled, and a second
// cancel of a finished batch is the documented 400.
func TestBatchListAndCancel(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p, batchOptions()...)
		c, _ := e.connect(t, options{})
		var ids []string
		for i := range 3 {
			in := batchInput(t, [][2]string{{fmt.Sprint("r", i), fmt.Sprint("question ", i)}})
			fileID, err := c.UploadBatchInput(t.Context(), fmt.Sprintf("in%d.jsonl", i), in)
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.CreateBatch(t.Context(), fileID, "7d", nil)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, b.id)
		}
		first, err := c.ListBatches(t.Context(), "", 2)
		if err != nil {
			t.Fatal(err)
		}
		rest, err := c.ListBatches(t.Context(), first.data[len(first.data)-1].id, 2)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, b := range append(first.data, rest.data...) {
			listed = append(listed, b.id)
		}
		if !first.hasMore || rest.hasMore || !slices.Equal(listed, []string{ids[2], ids[1], ids[0]}) {
			t.Fatalf("pages %v (has_more %v) and %v (has_more %v); created %v", first.data, first.hasMore, rest.data, rest.hasMore, ids)
		}
		b, err := c.CancelBatch(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if b.status != "cancelling" || b.cancellingAt == 0 {
			t.Fatalf("cancel answered %+v", b)
		}
		if done := waitBatch(t, c, ids[0]); done.status != "cancelled" {
			t.Fatalf("cancelled batch ended %s", done.status)
		}
		_, err = c.CancelBatch(t.Context(), ids[0])
		if pe := p.Classify(err); pe.kind != errAPI || pe.status != 400 || pe.message != "task status does not allow cancellation" {
			t.Errorf("cancel of a cancelled batch: %+v", pe)
		}
		_, err = c.GetBatch(t.Context(), "batch_missing")
		if pe := p.Classify(err); pe.kind != errAPI || pe.status != 404 {
			t.Errorf("unknown batch: %+v", pe)
		}
	})
}

// An input the platform refuses (a duplicate custom_id) fails the batch
// at validation; the reason is in its error file, line number included.
func TestBatchValidationFailure(t *testing.T) {
	forEachPeer(t, func(t *testing.T, p peer) {
		e := setup(t, p, batchOptions()...)
		c, _ := e.connect(t, options{})
		in := batchInput(t, [][2]string{{"same", "one"}, {"same", "two"}})
		fileID, err := c.UploadBatchInput(t.Context(), "dup.jsonl", in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.CreateBatch(t.Context(), fileID, "24h", nil)
		if err != nil {
			t.Fatal(err)
		}
		done := waitBatch(t, c, b.id)
		if done.status != "failed" || done.outputFile != "" || done.errorFile == "" {
			t.Fatalf("batch %+v", done)
		}
		data, err := c.FileContent(t.Context(), done.errorFile)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "line 2") || !strings.Contains(string(data), "same") {
			t.Errorf("error file %s", data)
		}
		// A window outside 12h..7d is refused at creation.
		_, err = c.CreateBatch(t.Context(), fileID, "8d", nil)
		if pe := p.Classify(err); pe.kind != errAPI || pe.status != 400 || !strings.Contains(pe.message, "completion_window") {
			t.Errorf("8d window: %+v", pe)
		}
	})
}
