package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"unicode"

	"go.uber.org/goleak"

	"github.com/onesdk-go/onesdk/kimitest"
)

// TestMain fails the run if a peer client or the emulator leaves goroutines
// behind (e.g. a stream body nobody closed).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Scenario fixtures, the same for every peer so their results are comparable.
const (
	modelChat     = "moonshot-v1-128k"
	modelThinking = "kimi-k2.6"

	promptPlain   = "Explain in two sentences why the sky is blue."
	promptChinese = "请用中文简单介绍一下长城。"

	scriptedMatch = "conformance-scripted"
	scriptedReply = "Scripted reply: 42 — «quoted», emoji ✓, 中文 too.\nSecond line."

	thinkingMatch     = "conformance-thinking"
	thinkingReasoning = "The user wants a fixed answer; I will give it."
	thinkingReply     = "Thought about it: 7."

	// toolMatch scripts a tool call with fixed arguments, so a peer's
	// parsing can be checked byte for byte; the emulator passes the rule
	// over once the last message is a tool result, so a scripted round
	// trip still ends with an answer. promptTool (no rule) exercises the
	// generator instead: it calls a tool whose description word
	// ("weather") the user mentions, and answers from the tool result.
	toolMatch  = "conformance-tool"
	promptTool = "What is the weather in Paris today?"
	toolName   = "get_weather"
	toolArgs   = `{"city":"Paris","unit":"celsius"}`
	toolResult = `{"temp_c":18,"sky":"clear"}`

	jsonPrompt = "Return a JSON object with keys name and age describing a cat."
)

// toolSchema is the JSON schema of the get_weather tool offered to the model.
var toolSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"city": map[string]any{"type": "string"},
		"unit": map[string]any{"type": "string", "enum": []string{"celsius", "fahrenheit"}},
	},
	"required": []string{"city"},
}

// scriptOptions are the emulator rules every chat test server gets.
func scriptOptions() []kimitest.Option {
	return []kimitest.Option{
		kimitest.WithRule(kimitest.Rule{Match: scriptedMatch, Reply: scriptedReply}),
		kimitest.WithRule(kimitest.Rule{Match: thinkingMatch, Reasoning: thinkingReasoning, Reply: thinkingReply}),
		kimitest.WithRule(kimitest.Rule{
			Match:     toolMatch,
			ToolCalls: []kimitest.RuleToolCall{{Name: toolName, Arguments: toolArgs}},
		}),
	}
}

// rawPost sends body to srv with a bare net/http client: the reference a
// peer's view is compared with. kimitest's own raw helpers live in its
// _test.go files, which another package cannot import.
func rawPost(t *testing.T, srv *kimitest.Server, key, path string, body any, header http.Header) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	maps.Copy(req.Header, header)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// kimiError is the {"error":{...}} envelope decoded without any peer, so a
// peer's surfaced error can be compared with what the emulator actually sent.
type kimiError struct {
	Status  int    `json:"-"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

// rawChatError performs a chat request directly and decodes the Kimi error.
func rawChatError(t *testing.T, srv *kimitest.Server, key string, req chatRequest) kimiError {
	t.Helper()
	status, data := rawPost(t, srv, key, "/chat/completions", req.wire(), nil)
	var env struct {
		Error *kimiError `json:"error"`
	}
	if err := json.Unmarshal(data, &env); err != nil || env.Error == nil {
		t.Fatalf("emulator answered %d with a body that is not the Kimi error envelope: %s", status, data)
	}
	env.Error.Status = status
	return *env.Error
}

// rawStreamLines returns the SSE data payloads of a streaming chat request,
// so tests can tell what the emulator sent independently of a peer's parser.
func rawStreamLines(t *testing.T, srv *kimitest.Server, req chatRequest, header http.Header) []string {
	t.Helper()
	body := req.wire()
	body["stream"] = true
	status, data := rawPost(t, srv, srv.Key, "/chat/completions", body, header)
	if status != http.StatusOK {
		t.Fatalf("raw stream: status %d: %s", status, data)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "data:"); ok {
			out = append(out, strings.TrimSpace(p))
		}
	}
	return out
}

// requireNoDone checks the precondition of the omit-done scenario: the
// fault really removes [DONE] while the rest of the stream, final chunk
// included, still arrives. Without it the scenario would pass even if the
// header were ignored.
func requireNoDone(t *testing.T, srv *kimitest.Server, req chatRequest) {
	t.Helper()
	lines := rawStreamLines(t, srv, req, http.Header{kimitest.FaultHeader: {"omit-done"}})
	if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], `"finish_reason":"stop"`) {
		t.Fatalf("omit-done stream does not end with the final chunk: %q", lines)
	}
	if slices.Contains(lines, "[DONE]") {
		t.Fatal("omit-done fault did not remove data: [DONE]")
	}
}

// documentedTypes lists the error types Kimi documents per status
// (https://platform.moonshot.ai/docs/api/errors).
var documentedTypes = map[int][]string{
	400: {"invalid_request_error", "content_filter"},
	401: {"invalid_authentication_error", "incorrect_api_key_error"},
	404: {"resource_not_found_error"},
	429: {"rate_limit_reached_error", "engine_overloaded_error", "exceeded_current_quota_error"},
}

func checkDocumentedType(t *testing.T, status int, typ string) {
	t.Helper()
	if !slices.Contains(documentedTypes[status], typ) {
		t.Errorf("error type %q is not documented for HTTP %d (want one of %v)", typ, status, documentedTypes[status])
	}
}

// hasHan reports whether s contains Chinese characters.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// requireJSONObject fails unless s is a JSON object.
func requireJSONObject(t *testing.T, what, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		t.Fatalf("%s is not a JSON object (%v): %q", what, err, s)
	}
	return m
}

// sameJSON reports whether a and b encode the same JSON value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("not JSON: %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
