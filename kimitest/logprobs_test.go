package kimitest

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

type wireLogprobs struct {
	Content []struct {
		Token       string  `json:"token"`
		Logprob     float64 `json:"logprob"`
		Bytes       []int   `json:"bytes"`
		TopLogprobs []struct {
			Token   string  `json:"token"`
			Logprob float64 `json:"logprob"`
			Bytes   []int   `json:"bytes"`
		} `json:"top_logprobs"`
	} `json:"content"`
}

// logprobsOf decodes choices[].logprobs of a non-stream response.
func logprobsOf(t *testing.T, r ktResp) []*wireLogprobs {
	t.Helper()
	var out struct {
		Choices []struct {
			Logprobs *wireLogprobs `json:"logprobs"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(wantStatus(t, r, 200).Body, &out); err != nil {
		t.Fatal(err)
	}
	var l []*wireLogprobs
	for _, c := range out.Choices {
		l = append(l, c.Logprobs)
	}
	return l
}

// checkLogprobs requires one entry per content token, the tokens spelling
// the content, bytes matching, top alternatives sorted, distinct, led by
// the token, and the probabilities of a place summing to at most 1.
func checkLogprobs(t *testing.T, lp *wireLogprobs, content string, top int) {
	t.Helper()
	if lp == nil || lp.Content == nil {
		t.Fatalf("no logprobs.content")
	}
	var text strings.Builder
	for i, e := range lp.Content {
		text.WriteString(e.Token)
		if e.Logprob > 0 || e.Logprob < -1 || !reflect.DeepEqual(e.Bytes, byteList(e.Token)) || len(e.TopLogprobs) != top {
			t.Fatalf("entry %d: %+v", i, e)
		}
		sum, seen := 0.0, map[string]bool{}
		for k, alt := range e.TopLogprobs {
			if seen[alt.Token] || (k > 0 && alt.Logprob >= e.TopLogprobs[k-1].Logprob) || !reflect.DeepEqual(alt.Bytes, byteList(alt.Token)) {
				t.Fatalf("entry %d: top_logprobs %+v", i, e.TopLogprobs)
			}
			seen[alt.Token] = true
			sum += math.Exp(alt.Logprob)
		}
		if top > 0 && (e.TopLogprobs[0].Token != e.Token || e.TopLogprobs[0].Logprob != e.Logprob || sum > 1.000001) {
			t.Fatalf("entry %d: %+v (sum %v)", i, e, sum)
		}
	}
	if text.String() != content || len(lp.Content) != CountTokens(content) {
		t.Fatalf("tokens spell %q (%d), content %q (%d tokens)", text.String(), len(lp.Content), content, CountTokens(content))
	}
}

func TestLogprobs(t *testing.T) {
	srv := setup(t)
	body := func() map[string]any {
		return map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me about logarithms.")), "logprobs": true, "top_logprobs": 3}
	}
	r := postChat(t, srv, body())
	c := decodeChat(t, r)
	lp := logprobsOf(t, r)
	checkLogprobs(t, lp[0], content(t, c, 0), 3)

	// Deterministic: the same request, the same figures.
	if again := logprobsOf(t, postChat(t, srv, body())); !reflect.DeepEqual(again, lp) {
		t.Fatal("logprobs differ between identical requests")
	}

	// A stream carries the same entries, each with its content delta.
	chunks, sr := streamChat(t, srv, body())
	if a := assemble(t, chunks)[0]; a.content != content(t, c, 0) {
		t.Fatalf("streamed %q, non-stream %q", a.content, content(t, c, 0))
	}
	raw, _ := json.Marshal(lp[0].Content)
	var streamed []json.RawMessage
	for _, ev := range readSSE(t, sr.Body) {
		if ev == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Delta struct {
					Content *string `json:"content"`
				} `json:"delta"`
				Logprobs *struct {
					Content []json.RawMessage `json:"content"`
				} `json:"logprobs"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(ev), &chunk); err != nil {
			t.Fatal(err)
		}
		for _, ch := range chunk.Choices {
			if ch.Logprobs == nil {
				continue
			}
			if ch.Delta.Content == nil || *ch.Delta.Content == "" || len(ch.Logprobs.Content) == 0 {
				t.Fatalf("logprobs on a chunk without content: %s", ev)
			}
			streamed = append(streamed, ch.Logprobs.Content...)
		}
	}
	if got, _ := json.Marshal(streamed); string(got) != string(raw) {
		t.Fatalf("streamed logprobs %s\nnon-stream %s", got, raw)
	}

	// top_logprobs 0 gives empty alternatives; n choices each get theirs;
	// thinking models cover the content, not the reasoning.
	b := body()
	b["top_logprobs"], b["n"], b["temperature"] = 0, 2, 0.7
	r = postChat(t, srv, b)
	c = decodeChat(t, r)
	for i, l := range logprobsOf(t, r) {
		checkLogprobs(t, l, content(t, c, i), 0)
	}
	b = body()
	b["model"], b["top_logprobs"] = "kimi-k3", 20
	r = postChat(t, srv, b)
	checkLogprobs(t, logprobsOf(t, r)[0], content(t, decodeChat(t, r), 0), 20)

	// Without logprobs, no field at all.
	b = body()
	delete(b, "top_logprobs")
	b["logprobs"] = false
	if r := postChat(t, srv, b); strings.Contains(string(r.Body), "logprobs") {
		t.Fatalf("logprobs without asking: %s", r.Body)
	}
}

func TestLogprobsValidation(t *testing.T) {
	srv := setup(t)
	hi := msgs(user("hi"))
	wantAPIError(t, postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": hi, "logprobs": true, "top_logprobs": 21}),
		400, "invalid_request_error", "Invalid request: top_logprobs must be in [0, 20], got 21")
	wantAPIError(t, postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": hi, "logprobs": true, "top_logprobs": -1}),
		400, "invalid_request_error", "Invalid request: top_logprobs must be in [0, 20], got -1")
	wantAPIError(t, postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": hi, "top_logprobs": 2}),
		400, "invalid_request_error", "Invalid request: top_logprobs requires logprobs to be true")
	wantAPIError(t, postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": hi, "logprobs": "yes"}),
		400, "invalid_request_error", "Invalid request: logprobs: expected a boolean, got string")
	chat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": hi, "logprobs": false, "top_logprobs": 0})
}
