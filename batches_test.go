package onesdk_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk"
)

// batchServer is a hand-written /v1/batches: one batch that is in
// progress on its first read and completed from then on, with an output
// and an error file. It stands in until the emulator serves batches.
func batchServer(t *testing.T) (*onesdk.SDK, *httptest.Server) {
	t.Helper()
	var mu sync.Mutex
	gets := 0
	obj := func(status string) string {
		out, errf := "null", "null"
		if status == onesdk.BatchStatusCompleted {
			out, errf = `"file-out"`, `"file-err"`
		}
		return fmt.Sprintf(`{"id":"batch-1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-in",
"completion_window":"24h","status":%q,"created_at":1760000000,"request_counts":{"completed":1,"failed":1,"total":2},
"output_file_id":%s,"error_file_id":%s,"completed_at":null}`, status, out, errf)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch p := r.Method + " " + r.URL.Path; p {
		case "POST /v1/batches":
			io.WriteString(w, obj(onesdk.BatchStatusValidating))
		case "GET /v1/batches":
			fmt.Fprintf(w, `{"object":"list","data":[%s],"has_more":false}`, obj(onesdk.BatchStatusInProgress))
		case "GET /v1/batches/batch-1":
			gets++
			if gets == 1 {
				io.WriteString(w, obj(onesdk.BatchStatusInProgress))
			} else {
				io.WriteString(w, obj(onesdk.BatchStatusCompleted))
			}
		case "POST /v1/batches/batch-1/cancel":
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"task status does not allow cancellation"}}`)
		case "GET /v1/files/file-out/content":
			io.WriteString(w, `{"custom_id":"a","response":{"status_code":200,"body":{"choices":[{"index":0,"message":{"role":"assistant","content":"4"}}]}}}`+"\n")
		case "GET /v1/files/file-err/content":
			io.WriteString(w, `{"custom_id":"b","error":{"message":"model overloaded"}}`+"\n")
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"type":"resource_not_found_error","message":"not found"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return newSDK(t, "kimi", onesdk.Config{APIKey: "sk-test", APIURL: srv.URL + "/v1", HTTPClient: srv.Client(), Retry: fastRetry}), srv
}

func TestBatchLifecycle(t *testing.T) {
	sdk, _ := batchServer(t)
	ctx := t.Context()
	b, err := sdk.CreateBatch(ctx, &onesdk.BatchCreateRequest{InputFileID: "file-in", CompletionWindow: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != onesdk.BatchStatusValidating {
		t.Errorf("created in status %s", b.Status)
	}
	list, err := sdk.ListBatches(ctx, nil)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListBatches = %v, %v", list, err)
	}
	n := 0
	for _, err := range sdk.AllBatches(ctx, &onesdk.BatchListOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("AllBatches yielded %d, want 1 (has_more false ends it)", n)
	}
	done, err := sdk.WaitBatch(ctx, b.ID)
	if err != nil || done.Status != onesdk.BatchStatusCompleted {
		t.Fatalf("WaitBatch = %+v, %v", done, err)
	}
	var got []string
	for r, err := range sdk.BatchResults(ctx, done) {
		if err != nil {
			t.Fatal(err)
		}
		if c, err := r.Completion(); err == nil {
			got = append(got, r.CustomID+"="+c.Text())
		} else {
			got = append(got, r.CustomID+" failed")
		}
	}
	if strings.Join(got, ",") != "a=4,b failed" {
		t.Errorf("results %v", got)
	}
	if _, err := sdk.CancelBatch(ctx, b.ID); !errors.Is(err, onesdk.ErrBadRequest) {
		t.Errorf("cancelling a done batch: %v", err)
	}
	if _, err := sdk.GetBatch(ctx, "nope"); !errors.Is(err, onesdk.ErrNotFound) {
		t.Errorf("GetBatch of an unknown id: %v", err)
	}
}

// Ace Data Cloud has no /v1/batches: every batch method says so, naming
// the provider, without a request.
func TestBatchesUnsupportedOnAceData(t *testing.T) {
	_, srv := setup(t, unreachable)
	sdk := aceData(t, srv)
	ctx := t.Context()
	errs := map[string]error{}
	_, errs["CreateBatch"] = sdk.CreateBatch(ctx, &onesdk.BatchCreateRequest{InputFileID: "file-in"})
	_, errs["ListBatches"] = sdk.ListBatches(ctx, nil)
	for _, err := range sdk.AllBatches(ctx, nil) {
		errs["AllBatches"] = err
	}
	_, errs["GetBatch"] = sdk.GetBatch(ctx, "batch-1")
	_, errs["CancelBatch"] = sdk.CancelBatch(ctx, "batch-1")
	_, errs["WaitBatch"] = sdk.WaitBatch(ctx, "batch-1")
	for _, err := range sdk.BatchResults(ctx, &onesdk.Batch{OutputFileID: "f"}) {
		errs["BatchResults"] = err
	}
	if len(errs) != 7 {
		t.Fatalf("%d methods checked, want 7", len(errs))
	}
	wantUnsupported(t, "acedata", errs)
}
