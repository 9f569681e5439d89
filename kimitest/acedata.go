package kimitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/onesdk-go/onesdk/catalog"
)

// Ace Data Cloud re-sells Kimi at POST /kimi/chat/completions.
// The emulator serves that route with the same chat handler, so validation
// and generation cannot drift from the Kimi route, and rewrites error
// responses into Ace's envelope:
//
//	{"error":{"code":"invalid_token","message":"..."},"trace_id":"..."}
//
// The model must be one of Ace's (AceModels): package catalog's models
// offered by Ace, whatever the Emulator's own catalogue, retired K2
// thinking models and Ace's own kimi-k2-instruct-0905 included. Upstream
// Kimi's rules apply, except that Ace's gateway drops the sampling
// parameters a model fixes instead of passing them on to be refused
// (catalog.RulesFor(ProviderAceData).IgnoresFixedSampling): Ace's own
// sample request sends temperature 0.7 to kimi-k2.5.
const aceChatPath = "/kimi/chat/completions"

// aceWindow is the context window of an Ace model whose window no source
// gives (kimi-k2-instruct-0905): that of the K2 0905 weights on Moonshot.
const aceWindow = 262144

// AceModels returns the models Ace Data Cloud's Kimi endpoint accepts:
// package catalog's models offered by catalog.ProviderAceData. The slice
// is a fresh copy.
func AceModels() []string { return slices.Clone(aceModels()) }

// aceModels is AceModels shared, for the Ace route: the catalogue is
// fixed, so its list is built once instead of on every request.
var aceModels = sync.OnceValue(func() []string {
	var ids []string
	for _, m := range catalog.ForProvider(catalog.ProviderAceData) {
		ids = append(ids, m.ID)
	}
	return ids
})

// aceSpecs are the emulated entries of Ace's models, by id.
func aceSpecs() map[string]ModelSpec {
	out := map[string]ModelSpec{}
	for _, m := range catalog.ForProvider(catalog.ProviderAceData) {
		s := specOf(m)
		if s.ContextLength == 0 {
			s.ContextLength = aceWindow
		}
		out[s.ID] = s
	}
	return out
}

// AceDataCloudURL is the base URL to give an Ace Data Cloud client: chat
// is at AceDataCloudURL() + "/chat/completions".
func (s *Server) AceDataCloudURL() string { return strings.TrimSuffix(s.URL, "/v1") + "/kimi" }

func (e *Emulator) handleAceChat(w http.ResponseWriter, r *http.Request) {
	aw := &aceWriter{ResponseWriter: w}
	defer aw.finish(e)
	if r.Header.Get("Authorization") == "" {
		aw.fail(http.StatusBadRequest, "no_token", "The token is not provided.")
		return
	}
	// Ace validates the model against its own list before passing on.
	body, aerr := readBody(w, r)
	if aerr != nil {
		aw.fail(http.StatusBadRequest, "bad_request", "The request body could not be read: "+aerr.Message)
		return
	}
	var probe struct {
		Model string `json:"model"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.Model != "" && !slices.Contains(aceModels(), probe.Model) {
		aw.fail(http.StatusBadRequest, "bad_request", "The model "+probe.Model+" is not supported, use one of: "+strings.Join(aceModels(), ", "))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.authed(func(w http.ResponseWriter, r *http.Request, a *account) { e.chat(w, r, a, &e.aceChat) }).ServeHTTP(aw, r)
}

// aceWriter passes successful responses (streams included) through and
// holds back an error response to rewrite it.
type aceWriter struct {
	http.ResponseWriter
	status int
	held   bytes.Buffer
}

func (w *aceWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if code < 400 {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *aceWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 400 {
		return w.held.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *aceWriter) Flush() {
	if w.status != 0 && w.status < 400 {
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
	}
}

func (w *aceWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *aceWriter) fail(status int, code, msg string) {
	w.status = status
	w.held.Reset()
	b, _ := json.Marshal(map[string]map[string]string{"error": {"type": "", "message": msg, "ace_code": code}})
	w.held.Write(b)
}

// finish rewrites a held Kimi error into Ace's envelope and status.
func (w *aceWriter) finish(e *Emulator) {
	if w.status < 400 {
		return
	}
	var kimiErr struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
			AceCode string `json:"ace_code"`
		} `json:"error"`
	}
	json.Unmarshal(w.held.Bytes(), &kimiErr)
	status, code := aceStatus(w.status, kimiErr.Error.Type)
	if kimiErr.Error.AceCode != "" {
		code = kimiErr.Error.AceCode
	}
	msg := kimiErr.Error.Message
	if code == "invalid_token" {
		msg = "The specified token is invalid or wrong."
	}
	h := w.ResponseWriter.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.ResponseWriter.WriteHeader(status)
	json.NewEncoder(w.ResponseWriter).Encode(map[string]any{
		"error":    map[string]string{"code": code, "message": msg},
		"trace_id": e.requestID(),
	})
}

// aceStatus maps a Kimi error to Ace's status and code.
func aceStatus(status int, kimiType string) (int, string) {
	switch {
	case kimiType == "invalid_authentication_error":
		return http.StatusBadRequest, "no_token"
	case kimiType == "incorrect_api_key_error":
		return http.StatusUnauthorized, "invalid_token"
	case kimiType == "exceeded_current_quota_error":
		return http.StatusForbidden, "used_up"
	case kimiType == "content_filter":
		return http.StatusForbidden, "forbidden"
	case status == http.StatusTooManyRequests:
		return status, "too_many_requests"
	case status == http.StatusGatewayTimeout:
		return status, "timeout"
	case status >= 500:
		return http.StatusInternalServerError, "api_error"
	}
	return http.StatusBadRequest, "bad_request"
}
