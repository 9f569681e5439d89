package kimi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var batchResultSamples = []string{
	`{"id":"batch_req_1","custom_id":"a","response":{"status_code":200,"request_id":"r1","body":{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"kimi-k2.6","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}},"error":null}`,
	`{"id":"batch_req_2","custom_id":"b","response":{"status_code":400,"request_id":"r2","body":{"error":{"type":"invalid_request_error","message":"Invalid request: no"}}},"error":{"code":"invalid_request_error","message":"Invalid request: no"}}`,
	`{"custom_id":null,"response":null,"error":{"message":"line 3: duplicate custom_id a"},"extra":[1,2,{"x":"\u00e9"}]}`,
	`{"CUSTOM_ID":"folded","response":{"body":null}}`,
}

// The one-pass decoder of result lines agrees with encoding/json wherever
// it accepts a line, and leaves the result zero where it declines.
func FuzzBatchResultFastPath(f *testing.F) {
	for _, s := range batchResultSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fast BatchResult
		if !fast.decodeFast(data) {
			if d := cmp.Diff(BatchResult{}, fast); d != "" {
				t.Fatalf("declined but left fields set:\n%s", d)
			}
			return
		}
		type plain BatchResult
		var slow plain
		if err := json.Unmarshal(data, &slow); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects: %v", err)
		}
		if d := cmp.Diff(BatchResult(slow), fast); d != "" {
			t.Fatalf("fast path differs (-slow +fast):\n%s", d)
		}
	})
}

// Every sample takes the path it is meant to: the folded key declines,
// the others decode in one pass.
func TestBatchResultFastPathTaken(t *testing.T) {
	for i, s := range batchResultSamples {
		var r BatchResult
		if got, want := r.decodeFast([]byte(s)), i != 3; got != want {
			t.Errorf("sample %d: fast path %v, want %v", i, got, want)
		}
	}
}
