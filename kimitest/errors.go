package kimitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// apiError is a Kimi error response: {"error":{"type":..,"message":..}}.
type apiError struct {
	Status  int
	Type    string
	Message string
	Header  http.Header // extra response headers, e.g. Retry-After
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

// writeError writes e in Kimi's error envelope.
func writeError(w http.ResponseWriter, e *apiError) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"type": e.Type, "message": e.Message}})
}

// writeJSON writes v as the whole response body. HTML escaping is off because
// Kimi's messages contain "<" and ">" literally ("{org}<{ak}>").
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":{"type":"server_error","message":"encode failure"}}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writeResult writes aerr when there is one, else v with status 200.
func writeResult(w http.ResponseWriter, v any, aerr *apiError) {
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// listBody is the body of a list endpoint.
func listBody(data any) map[string]any { return map[string]any{"object": "list", "data": data} }

// Error constructors, with Kimi's documented message texts
// (https://platform.moonshot.ai/docs/api/errors).

// errInvalid is the generic 400 "Invalid request: {details}".
func errInvalid(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: "Invalid request: " + fmt.Sprintf(format, args...)}
}

// errBadRequest is a 400 invalid_request_error with a message used verbatim
// (the texts that do not carry the "Invalid request:" prefix).
func errBadRequest(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}

func errModelNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error", Message: "Not found the model " + id + " or Permission denied"}
}

var (
	errInvalidAuth  = &apiError{Status: http.StatusUnauthorized, Type: "invalid_authentication_error", Message: "Invalid Authentication"}
	errIncorrectKey = &apiError{Status: http.StatusUnauthorized, Type: "incorrect_api_key_error", Message: "Incorrect API key provided"}
)

// errSuspended is the 2026 (429) form of the suspended-account error.
func errSuspended(orgID, akID string) *apiError {
	return &apiError{Status: http.StatusTooManyRequests, Type: "exceeded_current_quota_error",
		Message: fmt.Sprintf("Your account %s<%s> is suspended, please check your plan and billing details", orgID, akID)}
}

// writeGatewayNotFound writes the gateway's non-OpenAI 404 body
// ({"code":5,"error":"url.not_found",...}), returned for unknown paths
// and for known paths with the wrong method.
func writeGatewayNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, gatewayError{
		Code: 5, Error: "url.not_found", Message: "没找到对象", Method: r.Method,
		SCode: "0x5", Status: false, UA: r.UserAgent(), URL: r.URL.Path,
	})
}

// gatewayError keeps the field order of the captured body.
type gatewayError struct {
	Code    int    `json:"code"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Method  string `json:"method"`
	SCode   string `json:"scode"`
	Status  bool   `json:"status"`
	UA      string `json:"ua"`
	URL     string `json:"url"`
}
