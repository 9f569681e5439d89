package kimitest

import (
	"encoding/json"
	"testing"
)

func estimate(t *testing.T, srv *Server, body map[string]any, headers ...string) int {
	t.Helper()
	r := ktDo(t, srv, "POST", "/v1/tokenizers/estimate-token-count", body, headers...)
	out := decodeOK[struct {
		Data *struct {
			TotalTokens *int `json:"total_tokens"`
		} `json:"data"`
	}](t, r)
	if out.Data == nil || out.Data.TotalTokens == nil {
		t.Fatalf("estimate: %d %s", r.Status, r.Body)
	}
	return *out.Data.TotalTokens
}

// The estimate is exactly the prompt_tokens a real chat call reports.
func TestEstimateMatchesChat(t *testing.T) {
	srv := setup(t)
	weather := map[string]any{"type": "function", "function": map[string]any{"name": "get_weather", "description": "Weather of a city",
		"parameters": map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}}
	call := map[string]any{"role": "assistant", "content": "", "tool_calls": []any{map[string]any{"id": "get_weather:0", "type": "function",
		"function": map[string]any{"name": "get_weather", "arguments": `{"city":"北京"}`}}}}
	sets := []struct {
		name  string
		model string
		body  map[string]any
	}{
		{"english", "moonshot-v1-8k", map[string]any{"messages": msgs(user("Hello, how many moons does Jupiter have?"))}},
		{"chinese", "moonshot-v1-32k", map[string]any{"messages": msgs(
			map[string]any{"role": "system", "content": "你是 Kimi，由 Moonshot AI 提供的人工智能助手。"},
			user("你好，我叫李雷，1+1等于多少？"))}},
		{"multi-turn", "kimi-k2.6", map[string]any{"messages": msgs(
			user("地球的自转周期是多少?"), map[string]any{"role": "assistant", "content": "大约 23 小时 56 分 4 秒。"}, user("月球呢? And Mars?"))}},
		{"tools", "moonshot-v1-128k", map[string]any{"tools": []any{weather}, "messages": msgs(
			user("北京天气?"), call, map[string]any{"role": "tool", "tool_call_id": "get_weather:0", "name": "get_weather", "content": `{"temp":21}`},
			user("thanks"))}},
		{"thinking", "kimi-k3", map[string]any{"messages": msgs(user("Prove that √2 is irrational. 请用中文回答。"))}},
		{"vision", "moonshot-v1-8k-vision-preview", map[string]any{"messages": msgs(map[string]any{"role": "user", "content": []any{
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/png;base64,iVBORw0KGgo="}},
			map[string]any{"type": "text", "text": "What is in this picture?"}}})}},
	}
	for _, s := range sets {
		s.body["model"] = s.model
		got := estimate(t, srv, s.body)
		c := chat(t, srv, s.body)
		raw, _ := json.Marshal(s.body)
		want, err := CountRequestTokens(raw)
		if err != nil || got != c.Usage.PromptTokens || got != want || got <= 3 {
			t.Errorf("%s: estimate %d, chat prompt_tokens %d, CountRequestTokens %d (%v)", s.name, got, c.Usage.PromptTokens, want, err)
		}
	}
}

func TestEstimateErrors(t *testing.T) {
	srv := setup(t)
	path := "/v1/tokenizers/estimate-token-count"
	wantAPIError(t, ktDo(t, srv, "POST", path, map[string]any{"model": "gpt-4", "messages": msgs(user("x"))}), 404,
		"resource_not_found_error", "Not found the model gpt-4 or Permission denied")
	wantAPIError(t, ktDo(t, srv, "POST", path, map[string]any{"messages": msgs(user("x"))}), 400,
		"invalid_request_error", "Invalid request: model is required")
	wantAPIError(t, ktDo(t, srv, "POST", path, map[string]any{"model": "moonshot-v1-8k", "messages": []any{}}), 400,
		"invalid_request_error", "Invalid request: messages must not be empty")
	wantAPIError(t, ktDo(t, srv, "POST", path, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user(""))}), 400,
		"invalid_request_error", "Invalid request: messages[0]: content of a user message must not be empty")
	wantAPIError(t, ktDo(t, srv, "POST", path, map[string]any{"model": "moonshot-v1-8k",
		"messages": msgs(map[string]any{"role": "cache", "content": "cache_id=cache-x"}, user("x"))}), 400,
		"invalid_request_error", "Invalid request: messages[0]: cache messages are not supported by estimate-token-count")
	wantStatus(t, ktDo(t, srv, "POST", path, "{"), 400)
	if r := ktDo(t, srv, "GET", path, nil); r.Status != 404 || !json.Valid(r.Body) {
		t.Fatalf("GET: %d %s", r.Status, r.Body)
	}
}

// Estimation is free (no charge, no TPM) and allowed on a suspended
// account, but counts as a request for RPM.
func TestEstimateIsFree(t *testing.T) {
	srv := setup(t,
		WithAccount(Account{Key: "sk-rpm", Limits: Limits{RPM: 2, TPM: 10}}),
		WithAccount(Account{Key: "sk-broke", Balance: -1}))
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("count me, please, I am rather long for ten tokens"))}
	rpm := srv.withKey("sk-rpm")
	n := estimate(t, rpm, body)
	if n <= 10 {
		t.Fatalf("want a prompt over the TPM limit, got %d tokens", n)
	}
	estimate(t, rpm, body)
	if _, _, tpm, tpd := srv.Emulator.limiter.usage("sk-rpm"); tpm != 0 || tpd != 0 {
		t.Fatalf("estimate charged tokens: tpm %d tpd %d", tpm, tpd)
	}
	r := ktDo(t, rpm, "POST", "/v1/tokenizers/estimate-token-count", body)
	if typ, _ := apiErr(t, r); r.Status != 429 || typ != "rate_limit_reached_error" {
		t.Fatalf("third estimate within RPM 2: %d %s", r.Status, r.Body)
	}
	if l := srv.Emulator.Ledger("sk-rpm"); len(l) != 0 {
		t.Fatalf("estimate billed: %+v", l)
	}
	if got := estimate(t, srv.withKey("sk-broke"), body); got != n {
		t.Fatalf("suspended account: %d, want %d", got, n)
	}
}
