package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// fakeBatches is a hand-written Batch API: uploads with purpose batch, one
// batch that is done on its second read, and its output and error files.
// It stands in for the emulator's /v1/batches.
type fakeBatches struct {
	*httptest.Server
	mu      sync.Mutex
	upload  []byte // the uploaded input file
	purpose string
	create  map[string]any // the body of POST /v1/batches
	gets    int
	cancels int
}

func newFakeBatches(t *testing.T) *fakeBatches {
	t.Helper()
	f := &fakeBatches{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeBatches) batch(status string) string {
	out, errf, done := "null", "null", "null"
	if status == kimi.BatchStatusCompleted {
		out, errf, done = `"file-out"`, `"file-err"`, "1760003600"
	}
	window, _ := f.create["completion_window"].(string)
	return fmt.Sprintf(`{"id":"batch-1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-in",
"completion_window":%q,"status":%q,"created_at":1760000000,"request_counts":{"completed":2,"failed":1,"total":3},
"output_file_id":%s,"error_file_id":%s,"expires_at":1760086400,"completed_at":%s,"metadata":{"project":"eval"}}`,
		window, status, out, errf, done)
}

func (f *fakeBatches) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.Method + " " + r.URL.Path {
	case "POST /v1/files":
		file, _, err := r.FormFile("file")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.upload, _ = io.ReadAll(file)
		f.purpose = r.FormValue("purpose")
		fmt.Fprintf(w, `{"id":"file-in","object":"file","bytes":%d,"filename":"in.jsonl","purpose":%q,"status":"ok"}`, len(f.upload), f.purpose)
	case "POST /v1/batches":
		json.NewDecoder(r.Body).Decode(&f.create)
		io.WriteString(w, f.batch(kimi.BatchStatusValidating))
	case "GET /v1/batches":
		fmt.Fprintf(w, `{"object":"list","data":[%s],"has_more":false}`, f.batch(kimi.BatchStatusInProgress))
	case "GET /v1/batches/batch-1":
		if f.gets++; f.gets == 1 {
			io.WriteString(w, f.batch(kimi.BatchStatusInProgress))
		} else {
			io.WriteString(w, f.batch(kimi.BatchStatusCompleted))
		}
	case "POST /v1/batches/batch-1/cancel":
		f.cancels++
		io.WriteString(w, f.batch(kimi.BatchStatusCancelling))
	case "GET /v1/files/file-out/content":
		// b is retried and appears in both files; a repeat is dropped.
		io.WriteString(w, `{"id":"r1","custom_id":"a","response":{"status_code":200,"body":{"choices":[]}},"error":null}`+"\n"+
			`{"id":"r2","custom_id":"b","response":{"status_code":200,"body":{"choices":[]}},"error":null}`+"\n")
	case "GET /v1/files/file-err/content":
		io.WriteString(w, `{"id":"r3","custom_id":"c","response":null,"error":{"code":"bad","message":"too long"}}`+"\n"+
			`{"id":"r4","custom_id":"b","response":null,"error":{"message":"timeout"}}`+"\n")
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"type":"resource_not_found_error","message":"not found"}}`)
	}
}

func (f *fakeBatches) run(t *testing.T, args ...string) result {
	t.Helper()
	return cli(t, "", append([]string{"--base-url", f.URL, "--api-key", "sk-test"}, args...)...)
}

const batchInput = `{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"kimi-k2.6","messages":[{"role":"user","content":"1+1?"}]}}
{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"kimi-k2.6","messages":[{"role":"user","content":"2+2?"}]}}
{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"kimi-k2.6","messages":[{"role":"user","content":"3+3?"}]}}
`

func TestBatchSubmitStatusResults(t *testing.T) {
	f := newFakeBatches(t)
	in := writeFile(t, "requests.jsonl", batchInput)

	js := decodeOne[kimi.Batch](t, []byte(f.run(t, "--json", "batch", "submit", in, "--window", "3d", "--meta", "project=eval").mustOK(t).stdout))
	if js.ID != "batch-1" || js.Status != kimi.BatchStatusValidating {
		t.Errorf("submit --json printed %+v", js)
	}
	if string(f.upload) != batchInput || f.purpose != kimi.PurposeBatch {
		t.Errorf("uploaded %q with purpose %q", f.upload, f.purpose)
	}
	if f.create["input_file_id"] != "file-in" || f.create["completion_window"] != "3d" || f.create["endpoint"] != kimi.BatchURL {
		t.Errorf("create body %v", f.create)
	}

	st := f.run(t, "batch", "status", "batch-1").mustOK(t)
	if field(st.stdout, "status") != "in_progress" || field(st.stdout, "requests") != "3 total, 2 completed, 1 failed" ||
		field(st.stdout, "metadata") != "project=eval" {
		t.Errorf("status printed:\n%s", st.stdout)
	}
	list := f.run(t, "batch", "list").mustOK(t)
	if !strings.Contains(list.stdout, "batch-1") || !strings.Contains(list.stdout, "3/3") {
		t.Errorf("list printed:\n%s", list.stdout)
	}

	dir := t.TempDir()
	out, errs := dir+"/results.jsonl", dir+"/failed.jsonl"
	res := f.run(t, "batch", "results", "batch-1", "--out", out, "--errors", errs).mustOK(t)
	if !strings.Contains(res.stdout, "2 succeeded, 1 failed") || !strings.Contains(res.stdout, "1 repeated") {
		t.Errorf("results printed %q", res.stdout)
	}
	if got := customIDs(t, out); got != "a,b" {
		t.Errorf("--out holds %s", got)
	}
	if got := customIDs(t, errs); got != "c" {
		t.Errorf("--errors holds %s", got)
	}

	// Without --errors every custom_id goes to --out, once.
	all := dir + "/all.jsonl"
	f.run(t, "batch", "results", "batch-1", "--out", all).mustOK(t)
	if got := customIDs(t, all); got != "a,b,c" {
		t.Errorf("--out alone holds %s", got)
	}
	if f.run(t, "batch", "cancel", "batch-1").mustOK(t); f.cancels != 1 {
		t.Errorf("%d cancels", f.cancels)
	}
}

func TestBatchSubmitWait(t *testing.T) {
	f := newFakeBatches(t)
	in := writeFile(t, "requests.jsonl", batchInput)
	r := f.run(t, "batch", "submit", in, "--wait").mustOK(t)
	if field(r.stdout, "status") != "completed" || field(r.stdout, "output_file") != "file-out" {
		t.Errorf("submit --wait printed:\n%s", r.stdout)
	}
	if r.stderr != "waiting for batch-1 to be done…\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	if f.create["completion_window"] != "24h" {
		t.Errorf("default window: %v", f.create["completion_window"])
	}
}

// A file or a window the server would refuse is refused before the
// upload, naming what is wrong.
func TestBatchSubmitRefusesBadInput(t *testing.T) {
	f := newFakeBatches(t)
	good := writeFile(t, "requests.jsonl", batchInput)
	for _, tt := range []struct {
		name, window, content, says string
	}{
		{"window", "6h", batchInput, "--window"},
		{"window unit", "1w", batchInput, "--window"},
		{"empty", "24h", "\n", "no requests"},
		{"not json", "24h", "{\n", "line 1"},
		{"method", "24h", strings.Replace(batchInput, `"POST"`, `"GET"`, 1), "request 1"},
		{"duplicate", "24h", batchInput + strings.SplitAfter(batchInput, "\n")[0], `custom_id "a" is also request 1's`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			if tt.content != batchInput {
				in = writeFile(t, "bad.jsonl", tt.content)
			}
			f.run(t, "batch", "submit", in, "--window", tt.window).wantUsage(t, tt.says)
		})
	}
	if f.upload != nil {
		t.Error("a refused file was uploaded")
	}
}

func TestBatchResultsOfAnUnfinishedBatch(t *testing.T) {
	f := newFakeBatches(t)
	out := t.TempDir() + "/r.jsonl"
	r := f.run(t, "batch", "results", "batch-1", "--out", out)
	if r.code == exitOK || !strings.Contains(r.stderr, "in_progress") {
		t.Errorf("results of a running batch: code %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out was written for a running batch: %v", err)
	}
	f.run(t, "batch", "results", "batch-1").wantUsage(t, "--out")
}

// customIDs lists the custom_ids of a JSONL results file, in order.
func customIDs(t *testing.T, path string) string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var ids []string
	for r, err := range kimi.ReadJSONL[kimi.BatchResult](fh) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.CustomID)
	}
	return strings.Join(ids, ",")
}

// The same file that 'batch run' takes goes through the emulator's Batch
// API, run fast so that one poll of --wait sees it done.
func TestBatchSubmitOnEmulator(t *testing.T) {
	e := setup(t, kimitest.WithTimeScale(2000))
	in := writeFile(t, "requests.jsonl", batchInput)
	done := decodeOne[kimi.Batch](t, []byte(e.run(t, "--json", "batch", "submit", in, "--wait").mustOK(t).stdout))
	if done.Status != kimi.BatchStatusCompleted || done.RequestCounts.Total != 3 {
		t.Fatalf("submit --wait: %+v", done)
	}
	if st := e.run(t, "batch", "status", done.ID).mustOK(t); field(st.stdout, "status") != "completed" {
		t.Errorf("status:\n%s", st.stdout)
	}
	if list := e.run(t, "batch", "list", "--all").mustOK(t); !strings.Contains(list.stdout, done.ID) {
		t.Errorf("list:\n%s", list.stdout)
	}
	out := t.TempDir() + "/results.jsonl"
	e.run(t, "batch", "results", done.ID, "--out", out).mustOK(t)
	if got := customIDs(t, out); got != "a,b,c" {
		t.Errorf("results for %s", got)
	}
}
