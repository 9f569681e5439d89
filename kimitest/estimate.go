package kimitest

import (
	"net/http"
)

// POST /v1/tokenizers/estimate-token-count
// (https://platform.moonshot.ai/docs/api/estimate).
//
// The body is a chat request of which model and messages are used; the
// answer is {"data":{"total_tokens":N}} where N is exactly the
// usage.prompt_tokens a chat completion with the same model and messages
// reports (the same counter, promptTokens: countPrompt plus the tokens of
// $web_search results). Choices where the docs are silent:
//
//   - tools, when sent, are counted as chat counts them (the documented
//     schema has no tools field; counting them keeps N equal to the chat's
//     prompt_tokens); other chat fields are ignored, not validated;
//   - messages are validated like chat messages (roles, empty content,
//     tool-call structure, image and video parts); the thinking-only
//     reasoning_content rule is not applied, and a role=cache message is
//     refused (there is no cache expansion here);
//   - every model of the catalogue is accepted, thinking models included
//     (the 2026 OpenAPI enum leaves them out, but their tokens count the
//     same); an unknown model is 404 as in chat;
//   - prompts longer than the model's window are counted, not refused;
//   - it is free: nothing is billed and no tokens are charged to TPM/TPD,
//     and it works on a suspended account; it does count as a request for
//     the concurrency and RPM limits (like every API call).
func (e *Emulator) handleEstimateTokens(w http.ResponseWriter, r *http.Request, a *account) {
	req, model, aerr := readChatRequest(w, r, e.models)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	for i, m := range req.Messages {
		if m.Role == "cache" {
			writeError(w, errInvalid("messages[%d]: cache messages are not supported by estimate-token-count", i))
			return
		}
	}
	if aerr := checkTools(req, model); aerr != nil {
		writeError(w, aerr)
		return
	}
	if aerr := checkMessages(req.Messages, false); aerr != nil {
		writeError(w, aerr)
		return
	}
	if aerr := checkMedia(req.Messages, model, a.files); aerr != nil {
		writeError(w, aerr)
		return
	}
	release, aerr := e.admit(a, 0)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	defer release()
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]int{"total_tokens": promptTokens(req)}})
}
