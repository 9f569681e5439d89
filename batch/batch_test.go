package batch_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/batch"
	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/quota"
)

// writeInput writes n requests, and bad ones after them if asked.
func writeInput(t *testing.T, n int, extra ...string) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		l := kimi.BatchLine{CustomID: fmt.Sprintf("req-%03d", i), Method: "POST", URL: kimi.BatchURL,
			Body: kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{kimi.UserMessage(fmt.Sprintf("question %d", i))}}}
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	p := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// readResults returns the custom_ids of a result file, in file order.
func readResults(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r kimi.BatchResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		ids = append(ids, r.CustomID)
	}
	return ids
}

func unique(t *testing.T, ids []string) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, id := range ids {
		if m[id] {
			t.Errorf("%s appears twice", id)
		}
		m[id] = true
	}
	return m
}

// A run at a tier's limits on a fast clock: every request once, no 429.
func TestRunAtTheQuota(t *testing.T) {
	const scale = 120
	lim := catalog.Limits{Concurrency: 2, RPM: 20}
	srv := kimitest.NewServer(t, kimitest.WithLimits(lim), kimitest.WithTimeScale(scale),
		kimitest.WithRule(kimitest.Rule{Match: "question 7", Error: &kimitest.RuleError{Status: 400, Type: "invalid_request_error", Message: "Invalid request: no"}}))
	l := quota.New(quota.Config{Limits: lim, Clock: quota.ScaledClock(scale)})
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client(), Retry: &kimi.RetryPolicy{}, Admitter: l.Admitter()})
	in := writeInput(t, 30)
	dir := t.TempDir()
	out, errs := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "errors.jsonl")
	var last batch.Progress
	r := &batch.Runner{Client: c, Workers: 4, Progress: func(p batch.Progress) { last = p }}
	s, err := r.Run(context.Background(), in, out, errs)
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := unique(t, readResults(t, out)), unique(t, readResults(t, errs))
	if len(ok) != 29 || len(bad) != 1 || !bad["req-007"] || s.Done != 29 || s.Failed != 1 || last.Remaining != 0 || s.Cost <= 0 || last.Cost != s.Cost {
		t.Errorf("%d ok, %d failed (%v), summary %+v", len(ok), len(bad), bad, s)
	}
	// The failure says why.
	data, _ := os.ReadFile(errs)
	if !strings.Contains(string(data), `"code":"invalid_request_error"`) || !strings.Contains(string(data), "Invalid request: no") {
		t.Errorf("error line %s", data)
	}
	// A second run has nothing left to do.
	s, err = r.Run(context.Background(), in, out, errs)
	if err != nil || s.Skipped != 30 || s.Done != 0 {
		t.Errorf("rerun: %+v %v", s, err)
	}
}

// A kill leaves a partial last line: it is cut, and its request sent
// again; nothing is lost or duplicated.
func TestResumeAfterPartialLine(t *testing.T) {
	srv := kimitest.NewServer(t)
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
	in := writeInput(t, 6)
	dir := t.TempDir()
	out, errs := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "errors.jsonl")
	os.WriteFile(out, []byte(`{"custom_id":"req-001","response":{"status_code":200,"body":{}},"error":null}`+"\n"+`{"custom_id":"req-002","respo`), 0o600)
	s, err := (&batch.Runner{Client: c}).Run(context.Background(), in, out, errs)
	if err != nil {
		t.Fatal(err)
	}
	if got := unique(t, readResults(t, out)); len(got) != 6 || s.Skipped != 1 || s.Done != 5 {
		t.Errorf("results %v, summary %+v", got, s)
	}
}

func TestShards(t *testing.T) {
	srv := kimitest.NewServer(t)
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client()})
	in := writeInput(t, 40)
	all := map[string]bool{}
	for i := range 3 {
		dir := t.TempDir()
		out := filepath.Join(dir, "out.jsonl")
		if _, err := (&batch.Runner{Client: c, Shard: i, Shards: 3}).Run(context.Background(), in, out, out+".err"); err != nil {
			t.Fatal(err)
		}
		for _, id := range readResults(t, out) {
			if all[id] {
				t.Errorf("%s in two shards", id)
			}
			all[id] = true
		}
	}
	if len(all) != 40 {
		t.Errorf("%d of 40 requests across the shards", len(all))
	}
}

func TestBadInput(t *testing.T) {
	c := kimi.NewClient(kimi.Config{APIKey: "sk-x", BaseURL: "http://127.0.0.1:1/v1"})
	for name, extra := range map[string]string{
		"not json":     `{"custom_id":`,
		"duplicate id": `{"custom_id":"req-000","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[]}}`,
		"method":       `{"custom_id":"x","method":"GET","url":"/v1/chat/completions","body":{}}`,
		"url":          `{"custom_id":"x","method":"POST","url":"/v1/embeddings","body":{}}`,
		"no id":        `{"method":"POST","url":"/v1/chat/completions","body":{}}`,
	} {
		in := writeInput(t, 2, extra)
		dir := t.TempDir()
		_, err := (&batch.Runner{Client: c}).Run(context.Background(), in, filepath.Join(dir, "o"), filepath.Join(dir, "e"))
		if err == nil || !strings.Contains(err.Error(), "line 3") && !strings.Contains(err.Error(), "request 3") {
			t.Errorf("%s: err = %v, want it to name line 3", name, err)
		}
	}
}

// A failed write (here a full disk: the file size limit) stops the run:
// the requests not yet sent are left for the next run, not paid for and
// thrown away. The limit is set in a child process, so that no other
// test feels it.
func TestWriteErrorStopsSending(t *testing.T) {
	if os.Getenv("BATCH_FSIZE_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteErrorStopsSending$", "-test.v")
		cmd.Env = append(os.Environ(), "BATCH_FSIZE_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	var sent atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x","object":"chat.completion","created":1,"model":"moonshot-v1-8k","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`))
	}))
	defer srv.Close()
	c := kimi.NewClient(kimi.Config{APIKey: "sk-x", BaseURL: srv.URL + "/v1", Retry: &kimi.RetryPolicy{}})
	in := writeInput(t, 50)
	dir := t.TempDir()
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 2000, Max: old.Max}); err != nil {
		t.Skip("cannot limit the file size:", err)
	}
	s, err := (&batch.Runner{Client: c, Workers: 1}).Run(context.Background(), in, filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "errors.jsonl"))
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if err == nil || s.Done == 0 || s.Done >= 50 {
		t.Fatalf("want a write error part way: %v, %+v", err, s)
	}
	if n := int(sent.Load()); n > s.Done+3 {
		t.Errorf("the write failed after %d results, yet %d requests were sent", s.Done, n)
	}
}

// Failures that are not the request's are never written: a rejected key
// stops the run, an outage outlasting the attempts leaves the requests;
// either way the same command, once the cause is fixed, sends them all.
func TestAccountAndOutageFailuresAreLeft(t *testing.T) {
	srv := kimitest.NewServer(t)
	in := writeInput(t, 6)
	dir := t.TempDir()
	out, errs := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "errors.jsonl")
	client := func(key, url string) *kimi.Client {
		return kimi.NewClient(kimi.Config{APIKey: key, BaseURL: url, HTTPClient: srv.Client(), Retry: &kimi.RetryPolicy{}})
	}

	s, err := (&batch.Runner{Client: client("sk-wrong", srv.URL), Workers: 2}).Run(context.Background(), in, out, errs)
	if !errors.Is(err, batch.ErrIncomplete) || !errors.Is(err, kimi.ErrAuthorization) || s.Failed != 0 || s.Left != 6 {
		t.Fatalf("wrong key: %v, %+v", err, s)
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // connections refused
	s, err = (&batch.Runner{Client: client(srv.Key, dead.URL+"/v1"), Attempts: 2, Backoff: time.Millisecond}).Run(context.Background(), in, out, errs)
	if !errors.Is(err, batch.ErrIncomplete) || !errors.Is(err, kimi.ErrConnection) || s.Failed != 0 || s.Left != 6 {
		t.Fatalf("outage: %v, %+v", err, s)
	}
	if data, _ := os.ReadFile(errs); len(data) != 0 {
		t.Fatalf("written as failed for good:\n%s", data)
	}

	s, err = (&batch.Runner{Client: client(srv.Key, srv.URL)}).Run(context.Background(), in, out, errs)
	if err != nil || s.Done != 6 || s.Left != 0 || len(unique(t, readResults(t, out))) != 6 {
		t.Errorf("after the fix: %v, %+v", err, s)
	}
}
