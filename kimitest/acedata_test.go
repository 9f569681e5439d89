package kimitest

import (
	"encoding/json"
	"strings"
	"testing"
)

func aceErr(t *testing.T, r ktResp) (code, msg, trace string) {
	t.Helper()
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		TraceID string `json:"trace_id"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("not an Ace error envelope: %v: %s", err, r.Body)
	}
	return env.Error.Code, env.Error.Message, env.TraceID
}

func TestAceDataCloudRoute(t *testing.T) {
	srv := setup(t, WithRule(Rule{Match: "quota", Error: &RuleError{Status: 429, Type: "exceeded_current_quota_error", Message: "suspended"}}))
	if got := srv.AceDataCloudURL(); !strings.HasSuffix(got, "/kimi") || strings.Contains(got, "/v1") {
		t.Fatalf("AceDataCloudURL %q", got)
	}
	ok := map[string]any{"model": "kimi-k2.5", "messages": msgs(user("你好,请介绍一下你自己")), "max_tokens": 1024}
	if resp := decodeChat(t, ktDo(t, srv, "POST", "/kimi/chat/completions", ok)); content(t, resp, 0) == "" {
		t.Fatalf("empty completion: %+v", resp)
	}

	// Moonshot retired the K2 thinking models; Ace still serves them.
	stream := map[string]any{"model": "kimi-k2-thinking-turbo", "stream": true, "messages": msgs(user("hi"))}
	r := ktDo(t, srv, "POST", "/kimi/chat/completions", stream)
	if ev := readSSE(t, r.Body); r.Status != 200 || ev[len(ev)-1] != "[DONE]" {
		t.Fatalf("stream: status %d, events %d", r.Status, len(ev))
	}

	for _, tc := range []struct {
		name    string
		body    any
		headers []string
		status  int
		code    string
	}{
		{"no token", ok, []string{"Authorization", ""}, 400, "no_token"},
		{"wrong token", ok, []string{"Authorization", "Bearer 2efa9340-wrong"}, 401, "invalid_token"},
		{"model not offered", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}, nil, 400, "bad_request"},
		{"kimi validation", map[string]any{"model": "kimi-k2-instruct-0905", "temperature": 1.5, "messages": msgs(user("hi"))}, nil, 400, "bad_request"},
		{"kimi rules beyond sampling", map[string]any{"model": "kimi-k2.5", "messages": msgs(user("hi")), "thinking": map[string]any{"type": "enabled", "keep": "all"}}, nil, 400, "bad_request"},
		{"quota", map[string]any{"model": "kimi-k2-instruct-0905", "messages": msgs(user("quota"))}, nil, 403, "used_up"},
		{"bad json", `{"model":`, nil, 400, "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ktDo(t, srv, "POST", "/kimi/chat/completions", tc.body, tc.headers...)
			code, msg, trace := aceErr(t, r)
			if r.Status != tc.status || code != tc.code || msg == "" || trace == "" {
				t.Fatalf("got %d %q %q trace %q, want %d %q", r.Status, code, msg, trace, tc.status, tc.code)
			}
			if strings.Contains(string(r.Body), `"type"`) {
				t.Errorf("Kimi envelope leaked through: %s", r.Body)
			}
		})
	}
	if r := ktDo(t, srv, "GET", "/kimi/models", nil); r.Status != 404 {
		t.Errorf("GET /kimi/models: %d, want the gateway 404", r.Status)
	}
}

// The Ace model list is built once and shared by the route: a caller
// changing AceModels' slice changes neither later results nor what the
// route accepts.
func TestAceModelsSharedListUnchanged(t *testing.T) {
	want := AceModels()
	got := AceModels()
	for i := range got {
		got[i] = "moonshot-v1-8k"
	}
	if again := AceModels(); strings.Join(again, ",") != strings.Join(want, ",") {
		t.Fatalf("AceModels after a caller's edit = %v, want %v", again, want)
	}
	srv := setup(t)
	r := ktDo(t, srv, "POST", "/kimi/chat/completions", map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))})
	if code, msg, _ := aceErr(t, r); r.Status != 400 || code != "bad_request" || msg != "The model moonshot-v1-8k is not supported, use one of: "+strings.Join(want, ", ") {
		t.Fatalf("got %d %q %q", r.Status, code, msg)
	}
}

// Ace's own sample request, byte for byte: temperature 0.7 is one
// Moonshot refuses for kimi-k2.5, and Ace's gateway drops it.
func TestAceSampleRequest(t *testing.T) {
	srv := setup(t)
	const sample = `{"model":"kimi-k2.5","messages":[{"role":"user","content":"你好,请介绍一下你自己"}],"max_tokens":1024,"temperature":0.7}`
	resp := decodeChat(t, ktDo(t, srv, "POST", "/kimi/chat/completions", sample))
	if content(t, resp, 0) == "" || resp.Model != "kimi-k2.5" {
		t.Fatalf("sample: %+v", resp)
	}
	// The streamed variant is the same body plus "stream": true.
	r := ktDo(t, srv, "POST", "/kimi/chat/completions", strings.Replace(sample, `}],`, `}],"stream":true,`, 1))
	if ev := readSSE(t, r.Body); r.Status != 200 || ev[len(ev)-1] != "[DONE]" {
		t.Fatalf("stream: status %d, events %v", r.Status, ev)
	}
	// Moonshot itself refuses it.
	wantAPIError(t, postChat(t, srv, sample), 400, "invalid_request_error", "invalid temperature: only 1 is allowed for this model")
	// Every fixed parameter is dropped, on K3 only temperature is fixed.
	chat := func(body map[string]any) ktResp { return ktDo(t, srv, "POST", "/kimi/chat/completions", body) }
	decodeChat(t, chat(map[string]any{"model": "kimi-k2.5", "messages": msgs(user("hi")), "top_p": 0.5, "n": 3, "presence_penalty": 1, "frequency_penalty": -1}))
	decodeChat(t, chat(map[string]any{"model": "kimi-k3", "messages": msgs(user("hi")), "temperature": 0.2, "reasoning_effort": "max"}))
	if r := chat(map[string]any{"model": "kimi-k3", "messages": msgs(user("hi")), "top_p": 1.5}); r.Status != 400 {
		t.Fatalf("k3 top_p 1.5 on Ace: %d %s", r.Status, r.Body)
	}
}

// Every model package catalog lists for Ace is served on the Ace route,
// the ones Moonshot retired and Ace's own included, and none of Ace's
// is on the Kimi route unless Moonshot offers it.
func TestAceServesEveryAceModel(t *testing.T) {
	srv := setup(t)
	for _, id := range AceModels() {
		r := ktDo(t, srv, "POST", "/kimi/chat/completions", map[string]any{"model": id, "messages": msgs(user("hi"))})
		if c := decodeChat(t, r); c.Model != id || content(t, c, 0) == "" {
			t.Errorf("%s: %+v", id, c)
		}
	}
	for _, id := range []string{"kimi-k2-instruct-0905", "kimi-k2-thinking"} {
		wantStatus(t, postChat(t, srv, map[string]any{"model": id, "messages": msgs(user("hi"))}), 404)
	}
}
