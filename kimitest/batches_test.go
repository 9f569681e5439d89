package kimitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

type wireBatchLine struct {
	ID       string  `json:"id"`
	CustomID *string `json:"custom_id"`
	Response *struct {
		StatusCode int             `json:"status_code"`
		RequestID  string          `json:"request_id"`
		Body       json.RawMessage `json:"body"`
	} `json:"response"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// bline is an input line for custom id cid asking text of kimi-k2.6.
func bline(cid, text string, extra ...any) map[string]any {
	body := map[string]any{"model": "kimi-k2.6", "messages": msgs(user(text)), "max_tokens": 50}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return map[string]any{"custom_id": cid, "method": "POST", "url": "/v1/chat/completions", "body": body}
}

func jsonl(t *testing.T, lines ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		if s, ok := l.(string); ok {
			b.WriteString(s)
		} else {
			raw, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(raw)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func createBatch(t *testing.T, srv *Server, fileID string) batchJSON {
	t.Helper()
	return decodeOK[batchJSON](t, ktDo(t, srv, "POST", "/v1/batches",
		map[string]any{"input_file_id": fileID, "endpoint": "/v1/chat/completions", "completion_window": "12h"}))
}

func getBatch(t *testing.T, srv *Server, id string) batchJSON {
	t.Helper()
	return decodeOK[batchJSON](t, ktDo(t, srv, "GET", "/v1/batches/"+id, nil))
}

// waitBatch polls until the batch has status want, failing on any status
// outside seen (the statuses allowed on the way) or after 20 s.
func waitBatch(t *testing.T, srv *Server, id, want string, seen map[string]bool) batchJSON {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b := getBatch(t, srv, id)
		if seen != nil {
			seen[b.Status] = true
		}
		if b.Status == want {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch %s: status %s, want %s", id, b.Status, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func batchFile(t *testing.T, srv *Server, id *string) []wireBatchLine {
	t.Helper()
	if id == nil {
		t.Fatal("no file id")
	}
	r := wantStatus(t, ktDo(t, srv, "GET", "/v1/files/"+*id+"/content", nil), 200)
	var out []wireBatchLine
	for _, l := range strings.Split(strings.TrimSuffix(string(r.Body), "\n"), "\n") {
		var wl wireBatchLine
		if err := json.Unmarshal([]byte(l), &wl); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if !strings.HasPrefix(wl.ID, "batch_req_") {
			t.Errorf("line id %q", wl.ID)
		}
		out = append(out, wl)
	}
	return out
}

func TestBatchLifecycle(t *testing.T) {
	srv := setup(t, WithTimeScale(100), WithRule(Rule{Match: "FAIL", Error: &RuleError{Status: 400, Message: "scripted failure"}}))
	in := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t, bline("r1", "hello there"), bline("r2", "FAIL please")))
	b := decodeOK[batchJSON](t, ktDo(t, srv, "POST", "/v1/batches", map[string]any{"input_file_id": in.ID,
		"endpoint": "/v1/chat/completions", "completion_window": "1d", "metadata": map[string]string{"job": "nightly"}}))
	if b.Status != "validating" || b.Object != "batch" || b.Endpoint != "/v1/chat/completions" || b.InputFileID != in.ID ||
		b.CompletionWindow != "1d" || b.Metadata["job"] != "nightly" || len(b.ID) != len("batch_")+24 || !strings.HasPrefix(b.ID, "batch_") {
		t.Fatalf("created: %+v", b)
	}
	if b.ExpiresAt == nil || *b.ExpiresAt != b.CreatedAt+86400 || b.InProgressAt != nil || b.OutputFileID != nil || b.CompletedAt != nil {
		t.Errorf("created timestamps: %+v", b)
	}
	seen := map[string]bool{}
	done := waitBatch(t, srv, b.ID, "completed", seen)
	for _, s := range []string{"validating", "in_progress", "finalizing", "completed"} {
		if !seen[s] {
			t.Errorf("status %s never observed (saw %v)", s, seen)
		}
	}
	if len(seen) != 4 {
		t.Errorf("statuses seen: %v", seen)
	}
	if done.RequestCounts != (batchCounts{Completed: 1, Failed: 1, Total: 2}) {
		t.Errorf("counts %+v", done.RequestCounts)
	}
	if done.InProgressAt == nil || *done.InProgressAt < b.CreatedAt+59 || done.FinalizingAt == nil || *done.FinalizingAt < *done.InProgressAt ||
		done.CompletedAt == nil || *done.CompletedAt < *done.FinalizingAt+29 || done.FailedAt != nil || done.CancelledAt != nil || done.CancellingAt != nil {
		t.Errorf("timestamps %+v", done)
	}
	out := batchFile(t, srv, done.OutputFileID)
	if len(out) != 1 || *out[0].CustomID != "r1" || out[0].Error != nil || out[0].Response.StatusCode != 200 || out[0].Response.RequestID == "" {
		t.Fatalf("output %+v", out)
	}
	var comp chatResponse
	if err := json.Unmarshal(out[0].Response.Body, &comp); err != nil || comp.Object != "chat.completion" || len(comp.Choices) != 1 || comp.Choices[0].Message.Content == nil {
		t.Errorf("completion %s (%v)", out[0].Response.Body, err)
	}
	errs := batchFile(t, srv, done.ErrorFileID)
	if len(errs) != 1 || *errs[0].CustomID != "r2" || errs[0].Response.StatusCode != 400 || errs[0].Error == nil ||
		errs[0].Error.Code != "invalid_request_error" || errs[0].Error.Message != "scripted failure" {
		t.Fatalf("errors %+v", errs)
	}
	if typ, msg := errEnvelope(t, errs[0].Response.Body); typ != "invalid_request_error" || msg != "scripted failure" {
		t.Errorf("error body %s", errs[0].Response.Body)
	}
	files := map[string]string{}
	for _, f := range listFiles(t, srv) {
		files[f.ID] = f.Purpose
	}
	if files[*done.OutputFileID] != "batch_output" || files[*done.ErrorFileID] != "batch_output" {
		t.Errorf("files %v", files)
	}
	// A finished batch cannot be cancelled.
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil), 400, "invalid_request_error", "task status does not allow cancellation")
}

func TestBatchBilling(t *testing.T) {
	srv := setup(t, WithTimeScale(1e5))
	body := map[string]any{"model": "kimi-k2.6", "messages": msgs(user("price of a batch")), "max_tokens": 50}
	chat(t, srv, body)
	in := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t,
		map[string]any{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": body}))
	waitBatch(t, srv, createBatch(t, srv, in.ID).ID, "completed", nil)
	var real, batch float64
	for _, c := range srv.Emulator.Ledger(srv.Key) {
		switch c.Kind {
		case ChargeChat:
			real = c.Amount
		case ChargeBatchChat:
			batch = c.Amount
			if c.Count != 1 || c.Model != "kimi-k2.6" {
				t.Errorf("batch charge %+v", c)
			}
		}
	}
	if real <= 0 || !approx(batch, real*0.6) {
		t.Errorf("batch charge %v, real-time %v: want 60%%", batch, real)
	}
}

func TestBatchValidationFailures(t *testing.T) {
	srv := setup(t, WithTimeScale(1e4))
	good := bline("a", "hi")
	cases := []struct {
		name, file, purpose string
		content             []byte
		want                string // in the error line's message
		customID            string // "" : null
	}{
		{"not found", "", "", nil, "Not found the file", ""},
		{"purpose", "in.jsonl", "file-extract", jsonl(t, good), "has purpose file-extract", ""},
		{"extension", "in.json", "batch", jsonl(t, good), "is not a .jsonl file", ""},
		{"no requests", "in.jsonl", "batch", []byte("\n \n"), "has no requests", ""},
		{"malformed", "in.jsonl", "batch", jsonl(t, good, "{nope"), "line 2: invalid JSON", ""},
		{"custom_id", "in.jsonl", "batch", jsonl(t, map[string]any{"method": "POST", "url": "/v1/chat/completions", "body": map[string]any{"model": "kimi-k2.6"}}), "line 1: custom_id is required", ""},
		{"method missing", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "url": "/v1/chat/completions", "body": map[string]any{"model": "kimi-k2.6"}}), "method is required", "x"},
		{"url missing", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "method": "POST", "body": map[string]any{"model": "kimi-k2.6"}}), "url is required", "x"},
		{"body missing", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions"}), "body is required", "x"},
		{"model missing", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": map[string]any{}}), "body.model is required", "x"},
		{"duplicate", "in.jsonl", "batch", jsonl(t, good, bline("a", "again")), "line 2: duplicate custom_id a", "a"},
		{"mixed models", "in.jsonl", "batch", jsonl(t, good, bline("b", "x", "model", "kimi-k2.5")), "same model", "b"},
		{"method", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "method": "GET", "url": "/v1/chat/completions", "body": map[string]any{"model": "kimi-k2.6"}}), "method must be POST", "x"},
		{"url", "in.jsonl", "batch", jsonl(t, map[string]any{"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": map[string]any{"model": "kimi-k2.6"}}), "url must be /v1/chat/completions", "x"},
		{"unknown model", "in.jsonl", "batch", jsonl(t, bline("x", "hi", "model", "gpt-4")), "Not found the model gpt-4 or Permission denied", "x"},
		{"non-batch model", "in.jsonl", "batch", jsonl(t, bline("x", "hi", "model", "kimi-k3")), "model kimi-k3 does not support batch", "x"},
	}
	for _, p := range []string{"temperature", "top_p", "n", "presence_penalty", "frequency_penalty"} {
		cases = append(cases, struct {
			name, file, purpose string
			content             []byte
			want                string
			customID            string
		}{p, "in.jsonl", "batch", jsonl(t, bline("x", "hi", p, 1)), p + " is fixed for model kimi-k2.6", "x"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "file-missing"
			if c.file != "" {
				id = mustUpload(t, srv, c.file, c.purpose, c.content).ID
			}
			b := waitBatch(t, srv, createBatch(t, srv, id).ID, "failed", nil)
			if b.FailedAt == nil || b.InProgressAt != nil || b.OutputFileID != nil || b.ErrorFileID == nil {
				t.Fatalf("failed batch %+v", b)
			}
			lines := batchFile(t, srv, b.ErrorFileID)
			var hit bool
			for _, l := range lines {
				if l.Error != nil && strings.Contains(l.Error.Message, c.want) && l.Response.StatusCode >= 400 {
					hit = true
					if (c.customID == "") != (l.CustomID == nil) || (l.CustomID != nil && *l.CustomID != c.customID) {
						t.Errorf("custom_id %v, want %q", l.CustomID, c.customID)
					}
				}
			}
			if !hit {
				raw, _ := json.Marshal(lines)
				t.Errorf("error file %s lacks %q", raw, c.want)
			}
		})
	}
}

// TestBatchFileSizes covers the empty and over-100 MB inputs, which the
// upload endpoint would not store, by placing such files directly.
func TestBatchFileSizes(t *testing.T) {
	srv := setup(t, WithTimeScale(1e4))
	fs := srv.Emulator.accounts[srv.Key].files
	for _, c := range []struct {
		size int64
		want string
	}{{0, "is empty"}, {100<<20 + 1, "is larger than 100MB"}} {
		f := &storedFile{id: newFileID(""), created: srv.Emulator.clock.Now(), filename: "big.jsonl", purpose: "batch", data: &blob{size: c.size}}
		fs.mu.Lock()
		fs.files[f.id] = f
		fs.order = append(fs.order, f.id)
		fs.mu.Unlock()
		b := waitBatch(t, srv, createBatch(t, srv, f.id).ID, "failed", nil)
		if lines := batchFile(t, srv, b.ErrorFileID); len(lines) != 1 || !strings.Contains(lines[0].Error.Message, c.want) {
			t.Errorf("size %d: %+v", c.size, lines)
		}
	}
}

func TestBatchCreateErrors(t *testing.T) {
	srv := setup(t)
	base := func(kv ...any) map[string]any {
		m := map[string]any{"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "12h"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	big := map[string]string{}
	for i := range 17 {
		big[fmt.Sprint("k", i)] = "v"
	}
	for _, c := range []struct {
		body any
		msg  string
	}{
		{base("input_file_id", nil), "Invalid request: input_file_id is required"},
		{base("endpoint", nil), "Invalid request: endpoint is required"},
		{base("endpoint", "/v1/embeddings"), "Invalid request: endpoint must be /v1/chat/completions, got /v1/embeddings"},
		{base("completion_window", nil), "Invalid request: completion_window is required"},
		{base("completion_window", "11h"), errBatchWindow("11h").Message},
		{base("completion_window", "8d"), errBatchWindow("8d").Message},
		{base("completion_window", "169h"), errBatchWindow("169h").Message},
		{base("completion_window", "1w"), errBatchWindow("1w").Message},
		{base("completion_window", "24"), errBatchWindow("24").Message},
		{base("completion_window", "99999999999999999999h"), errBatchWindow("99999999999999999999h").Message},
		{base("metadata", big), "Invalid request: metadata may have at most 16 pairs, got 17"},
		{base("metadata", map[string]string{strings.Repeat("k", 65): "v"}), "is longer than 64 characters"},
		{base("metadata", map[string]string{"k": strings.Repeat("v", 513)}), `metadata value of key "k" is longer than 512 characters`},
	} {
		r := wantStatus(t, ktDo(t, srv, "POST", "/v1/batches", c.body), 400)
		if typ, msg := apiErr(t, r); typ != "invalid_request_error" || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %s %s, want %s", c.body, typ, msg, c.msg)
		}
	}
	for _, w := range []string{"12h", "168h", "7d", "1d", "0012h"} {
		b := decodeOK[batchJSON](t, ktDo(t, srv, "POST", "/v1/batches", base("completion_window", w)))
		if b.CompletionWindow != w || b.Metadata != nil {
			t.Errorf("%s: %+v", w, b)
		}
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/batches/batch_nope", nil), 404, "resource_not_found_error", "Not found the batch batch_nope or Permission denied")
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/batch_nope/cancel", nil), 404, "resource_not_found_error", "Not found the batch batch_nope or Permission denied")
	wantStatus(t, ktDo(t, srv, "GET", "/v1/batches", nil, "Authorization", ""), 401)
}

func TestBatchCancel(t *testing.T) {
	srv := setup(t, WithTimeScale(100))
	in := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t, bline("a", "one"), bline("b", "two")))
	// While validating.
	b := createBatch(t, srv, in.ID)
	c := decodeOK[batchJSON](t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil))
	if c.Status != "cancelling" || c.CancellingAt == nil || c.CancelledAt != nil {
		t.Fatalf("cancel: %+v", c)
	}
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil), 400, "invalid_request_error", "task status does not allow cancellation")
	done := waitBatch(t, srv, b.ID, "cancelled", map[string]bool{})
	if done.CancelledAt == nil || *done.CancelledAt < *done.CancellingAt+9 || done.InProgressAt != nil || done.OutputFileID != nil || done.ErrorFileID != nil {
		t.Errorf("cancelled %+v", done)
	}
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil), 400, "invalid_request_error", "task status does not allow cancellation")

	// While in progress: the requests run so far keep their results.
	b = createBatch(t, srv, in.ID)
	waitBatch(t, srv, b.ID, "in_progress", map[string]bool{})
	for getBatch(t, srv, b.ID).RequestCounts.Completed < 1 {
		time.Sleep(time.Millisecond)
	}
	c = decodeOK[batchJSON](t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil))
	if c.Status != "cancelling" {
		t.Fatalf("cancel in progress: %+v", c)
	}
	done = waitBatch(t, srv, b.ID, "cancelled", nil)
	if n := done.RequestCounts.Completed; n < 1 || n > 2 || done.RequestCounts.Total != 2 || done.CompletedAt != nil {
		t.Errorf("cancelled in progress: %+v", done)
	}
	if out := batchFile(t, srv, done.OutputFileID); len(out) != done.RequestCounts.Completed {
		t.Errorf("output %+v", out)
	}

	// A failed batch cannot be cancelled.
	f := waitBatch(t, srv, createBatch(t, srv, "missing").ID, "failed", nil)
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/"+f.ID+"/cancel", nil), 400, "invalid_request_error", "task status does not allow cancellation")
}

func TestBatchExpiry(t *testing.T) {
	srv := setup(t, WithTimeScale(1e6))
	var lines []any
	for i := range 5 {
		// About 10,000 emulated seconds each: the fifth ends after 12h.
		lines = append(lines, bline(fmt.Sprint("r", i), "long one", "max_tokens", 100000))
	}
	in := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t, lines...))
	b := waitBatch(t, srv, createBatch(t, srv, in.ID).ID, "expired", nil)
	if b.RequestCounts != (batchCounts{Completed: 4, Failed: 1, Total: 5}) || b.CompletedAt != nil || b.ExpiresAt == nil ||
		*b.ExpiresAt != b.CreatedAt+12*3600 {
		t.Errorf("expired %+v", b)
	}
	if out := batchFile(t, srv, b.OutputFileID); len(out) != 4 {
		t.Errorf("output %d lines", len(out))
	}
	errs := batchFile(t, srv, b.ErrorFileID)
	if len(errs) != 1 || *errs[0].CustomID != "r4" || errs[0].Error.Code != "batch_expired" {
		t.Errorf("errors %+v", errs)
	}
	wantAPIError(t, ktDo(t, srv, "POST", "/v1/batches/"+b.ID+"/cancel", nil), 400, "invalid_request_error", "task status does not allow cancellation")
}

func TestBatchListAndIsolation(t *testing.T) {
	srv := setup(t, WithTimeScale(1e4), WithKey("sk-one"), WithKey("sk-two"))
	var ids []string
	for range 5 {
		ids = append(ids, createBatch(t, srv, "f").ID)
	}
	type page struct {
		Object  string      `json:"object"`
		Data    []batchJSON `json:"data"`
		HasMore bool        `json:"has_more"`
	}
	get := func(q string) (out []string, more bool) {
		p := decodeOK[page](t, ktDo(t, srv, "GET", "/v1/batches"+q, nil))
		if p.Object != "list" || p.Data == nil {
			t.Fatalf("list %+v", p)
		}
		for _, b := range p.Data {
			out = append(out, b.ID)
		}
		return out, p.HasMore
	}
	all, more := get("")
	if want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}; fmt.Sprint(all) != fmt.Sprint(want) || more {
		t.Fatalf("list %v %v, want newest first %v", all, more, want)
	}
	p1, more1 := get("?limit=2")
	p2, more2 := get("?limit=2&after=" + p1[1])
	p3, more3 := get("?limit=2&after=" + p2[1])
	if fmt.Sprint(p1, p2, p3) != fmt.Sprint(all[:2], all[2:4], all[4:]) || !more1 || !more2 || more3 {
		t.Errorf("pages %v %v %v (%v %v %v)", p1, p2, p3, more1, more2, more3)
	}
	if p, more := get("?after=" + ids[0]); len(p) != 0 || more {
		t.Errorf("after the oldest: %v %v", p, more)
	}
	for _, q := range []string{"0", "101", "x"} {
		wantStatus(t, ktDo(t, srv, "GET", "/v1/batches?limit="+q, nil), 400)
	}
	wantStatus(t, ktDo(t, srv, "GET", "/v1/batches?after=batch_unknown", nil), 404)

	other := srv.withKey("sk-two")
	if p := decodeOK[page](t, ktDo(t, other, "GET", "/v1/batches", nil)); len(p.Data) != 0 {
		t.Errorf("other org sees %+v", p.Data)
	}
	wantStatus(t, ktDo(t, other, "GET", "/v1/batches/"+ids[0], nil), 404)
	wantStatus(t, ktDo(t, other, "POST", "/v1/batches/"+ids[0]+"/cancel", nil), 404)
	// Another org's input file is not found.
	f := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t, bline("a", "hi")))
	b := waitBatch(t, other, createBatch(t, other, f.ID).ID, "failed", nil)
	if lines := batchFile(t, other, b.ErrorFileID); !strings.Contains(lines[0].Error.Message, "Not found the file") {
		t.Errorf("%+v", lines)
	}
}

// TestBatchSuspended: with no balance left every request fails with the
// real-time 429, and nothing is charged.
func TestBatchSuspended(t *testing.T) {
	srv := setup(t, WithTimeScale(1e5), WithAccount(Account{Key: "sk-poor", Balance: -1}))
	in := mustUpload(t, srv, "in.jsonl", "batch", jsonl(t, bline("a", "hi"), bline("b", "ho")))
	b := waitBatch(t, srv, createBatch(t, srv, in.ID).ID, "completed", nil)
	if b.RequestCounts != (batchCounts{Failed: 2, Total: 2}) || b.OutputFileID != nil {
		t.Errorf("%+v", b)
	}
	for _, l := range batchFile(t, srv, b.ErrorFileID) {
		if l.Response.StatusCode != 429 || l.Error.Code != "exceeded_current_quota_error" {
			t.Errorf("%+v", l)
		}
	}
	if rows := srv.Emulator.Ledger(srv.Key); len(rows) != 0 {
		t.Errorf("charged %+v", rows)
	}
	f := decodeOK[wireFile](t, ktDo(t, srv, "GET", "/v1/files/"+*b.ErrorFileID, nil))
	if f.Purpose != "batch_output" || f.Filename != b.ID+"_error.jsonl" || f.Status != "ok" || f.Bytes == 0 {
		t.Errorf("error file %+v", f)
	}
}
