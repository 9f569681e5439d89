package kimi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// Kimi error types (the "type" of the error envelope) that the client
// treats specially.
const (
	ErrTypeInvalidRequest        = "invalid_request_error"
	ErrTypeInvalidAuthentication = "invalid_authentication_error"
	ErrTypeIncorrectAPIKey       = "incorrect_api_key_error"
	ErrTypePermissionDenied      = "permission_denied_error"
	ErrTypeResourceNotFound      = "resource_not_found_error"
	ErrTypeRateLimitReached      = "rate_limit_reached_error"
	ErrTypeEngineOverloaded      = "engine_overloaded_error"
	ErrTypeExceededCurrentQuota  = "exceeded_current_quota_error"
	ErrTypeContentFilter         = "content_filter"
	ErrTypeServerError           = "server_error"
	ErrTypeServerUnavailable     = "server_unavailable"
)

// ErrBadResponse is wrapped by the error of a call whose 2xx response body
// could not be decoded: a malformed JSON body, a body that does not
// decompress (a corrupt gzip encoding), an HTML page in answer to a
// stream request, a stream line or event over the decoder's size cap, or
// a malformed chunk in a stream (then it is Stream.Err). The error names
// the path or event, the status and the request id. Its kind is
// ErrServerUnavailable: the server sent garbage, the network is not at
// fault.
var ErrBadResponse = sentinel("kimi: malformed response", ErrServerUnavailable)

// Error is a non-2xx API response, or a 2xx one whose body is an error
// envelope instead of the object asked for (a gateway quirk; then
// StatusCode is the body's "status" if it has a 4xx or 5xx one, else the
// 2xx status, and the kinds come from the type), or an error inside a
// stream. Four body shapes are decoded, the same way wherever they come:
//
//   - Kimi's {"error":{"type","message","code"?,"param"?}}: Type, Message,
//     Code and Param;
//   - the gateway's {"code":5,"error":"url.not_found","message":...} that
//     unknown routes return: Code is the "error" string, and so is Type
//     when the string ends in "_error" (a Kimi type), else Type is empty;
//   - Ace Data Cloud's {"error":{"code","message"},"trace_id"}: Code and
//     Message, Type is empty, RequestID falls back to trace_id;
//   - a flat {"type","message"} (error events in a stream): Type and
//     Message.
//
// Any other body (an HTML gateway page, say) gives a Message made of the
// status text and a short cleaned snippet. Body always holds the raw body
// (at most 1 MiB).
type Error struct {
	StatusCode int
	Type       string
	Code       string
	Message    string
	Param      string
	// RequestID is the Msh-Request-Id header (or the body's trace_id).
	RequestID string
	// RetryAfter is the server's hint: the Retry-After header or the
	// message's "try again after N seconds" (N = 0 counts as 1 s). Zero
	// when there is none.
	RetryAfter time.Duration
	// Attempts is how many requests were sent, retries included (for an
	// error inside a stream: the requests sent for that stream).
	Attempts int
	// Header is the response header, with credentials redacted: any
	// value holding the API key has it replaced by "[REDACTED]", and the
	// values of Authorization, Proxy-Authorization, Cookie, Set-Cookie and
	// X-Api-Key are "[REDACTED]". ChatCompletion.Header and Stream.Header
	// are redacted the same way.
	Header http.Header
	Body   []byte
	// Unsupported explains a gateway 404 for a route the platform does
	// not serve (explicit context caching, gone from the 2026 API); such
	// an error is also ErrUnsupported. "" for any other error.
	Unsupported string
}

// StatusType is the status code and the error's type (or, in an envelope
// without one, its code), such as "429 rate_limit_reached_error": the
// part of the message that says what kind of failure it was.
//
// An error without a status (a failed batch line that carries only an
// error object) is its type or code alone.
func (e *Error) StatusType() string {
	var parts []string
	if e.StatusCode != 0 {
		parts = append(parts, strconv.Itoa(e.StatusCode))
	}
	switch {
	case e.Type != "":
		parts = append(parts, e.Type)
	case e.Code != "":
		parts = append(parts, e.Code)
	}
	return strings.Join(parts, " ")
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kimi: " + e.StatusType())
	if e.Message != "" {
		if b.Len() > len("kimi: ") {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.Param != "" {
		b.WriteString(" (param " + e.Param + ")")
	}
	if h := e.RetiredHint(); h != "" {
		b.WriteString(" (" + h + ")")
	}
	if e.Unsupported != "" {
		b.WriteString(" (" + e.Unsupported + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// RetiredHint explains a "Not found the model" 404 for a model package
// catalog lists as retired: when it was retired and which models are
// current. It is "" for any other error.
func (e *Error) RetiredHint() string {
	const prefix = "Not found the model "
	if e.StatusCode != http.StatusNotFound || !strings.HasPrefix(e.Message, prefix) {
		return ""
	}
	id, _, _ := strings.Cut(e.Message[len(prefix):], " ")
	m, ok := catalog.Lookup(id)
	if !ok || m.Status != catalog.StatusRetired {
		return ""
	}
	h := m.ID + " is retired"
	if m.RetiresOn != "" {
		h += " since " + m.RetiresOn
	}
	var current []string
	for _, c := range catalog.ForProvider(catalog.ProviderMoonshot) {
		if c.Family != catalog.FamilyMoonshotV1 {
			current = append(current, c.ID)
		}
	}
	return h + "; current models include " + strings.Join(current, ", ")
}

// Temporary reports whether repeating the request later may succeed: a
// 429 other than exceeded_current_quota_error (no balance or a suspended
// account: waiting does not help), or a 500, 502, 503 or 504; for an
// error object in a 2xx body (a gateway quirk, or an in-stream error),
// whose status says nothing, a type of rate_limit_reached_error,
// engine_overloaded_error, server_error or server_unavailable. These are
// exactly the errors the client retries.
func (e *Error) Temporary() bool {
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return e.Type != ErrTypeExceededCurrentQuota
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	if e.StatusCode/100 == 2 {
		switch e.Type {
		case ErrTypeRateLimitReached, ErrTypeEngineOverloaded, ErrTypeServerError, ErrTypeServerUnavailable:
			return true
		}
	}
	return false
}

// maxErrorBody bounds how much of an error body is kept.
const maxErrorBody = 1 << 20

// parseError builds an *Error from a non-2xx response whose body was read.
// key is redacted from the message and body in case a server echoes the
// Authorization header back.
func parseError(resp *http.Response, body []byte, key string) *Error {
	body = redactKey(body, key)
	e := &Error{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       body,
		RequestID:  requestID(resp.Header),
	}
	if !decodeErrorBody(e, body) {
		e.Message = snippetMessage(resp.StatusCode, body)
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), e.Message, time.Now())
	if e.StatusCode == http.StatusNotFound && e.Code == gatewayNotFound && resp.Request != nil {
		e.Unsupported = missingRoute(resp.Request.URL.Path)
	}
	return e
}

// gatewayNotFound is the code of the gateway's 404 for a route it does
// not serve, as opposed to an object the route does not find.
const gatewayNotFound = "url.not_found"

// missingRoute explains why a platform may lack the route of path, ""
// for a route every platform serves.
func missingRoute(path string) string {
	if strings.Contains(path, "/caching") {
		return "this platform serves no explicit context caching (/v1/caching): Kimi's 2026 API " +
			"documents only automatic prefix caching, steered by prompt_cache_key; explicit caches " +
			"are a moonshot-v1 feature of the 2025 platform"
	}
	return ""
}

// requestID is the response's Msh-Request-Id, else its X-Request-Id.
func requestID(h http.Header) string {
	if id := h.Get("Msh-Request-Id"); id != "" {
		return id
	}
	return h.Get("X-Request-Id")
}

// responseError is the one judge of a response whose body has been read:
// the *Error of a non-2xx status, or of a 2xx whose body is an error
// envelope instead of the object asked for (some gateways answer 200
// so), else nil. Every response of every call passes here (send), so a
// 2xx envelope is classified, and retried, exactly as the same error
// with its own status.
func responseError(resp *http.Response, body []byte, key string) *Error {
	if resp.StatusCode/100 != 2 {
		return parseError(resp, body, key)
	}
	status, code, ok := envelope(body)
	if !ok {
		return nil
	}
	r := *resp
	if status != 0 {
		r.StatusCode = status
	}
	e := parseError(&r, body, key)
	if e.Code == "" {
		e.Code = code
	}
	return e
}

// envelope reports whether a 2xx body is an error envelope: a JSON object
// without the "id" and "object" members of an API object (a failed cache
// is a cache object with an "error" member) that has an "error" member
// (an object, or the gateway's machine code as a string), a non-zero
// "code", or a "status" that is false (the gateway's {"code","status"}
// envelope) or a 4xx or 5xx number. status is that number (top level,
// else in the error object), 0 if none; code is the top-level "code".
func envelope(body []byte) (status int, code string, ok bool) {
	if !bytes.Contains(body, []byte(`"error"`)) && !bytes.Contains(body, []byte(`"code"`)) &&
		!bytes.Contains(body, []byte(`"status"`)) {
		return 0, "", false // the common case, without parsing
	}
	var env struct {
		Error  json.RawMessage `json:"error"`
		Code   json.RawMessage `json:"code"`
		Status json.RawMessage `json:"status"`
		ID     json.RawMessage `json:"id"`
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal(body, &env) != nil || env.ID != nil || env.Object != nil {
		return 0, "", false
	}
	errVal := bytes.TrimSpace(env.Error)
	var inner struct {
		Status json.RawMessage `json:"status"`
	}
	if len(errVal) > 0 && errVal[0] == '{' {
		json.Unmarshal(errVal, &inner)
	}
	for _, raw := range []json.RawMessage{env.Status, inner.Status} {
		if n, err := strconv.Atoi(string(bytes.TrimSpace(raw))); err == nil && n >= 400 && n <= 599 {
			status = n
			break
		}
	}
	code = scalarString(env.Code)
	switch {
	case len(errVal) > 0 && errVal[0] == '{',
		len(errVal) > 0 && errVal[0] == '"' && string(errVal) != `""`,
		string(errVal) == "true",
		code != "" && code != "0",
		string(bytes.TrimSpace(env.Status)) == "false",
		status != 0:
		return status, code, true
	}
	return 0, "", false
}

// credentialHeaders are response headers that carry credentials (echoed
// request headers, session cookies); kept response headers hold
// "[REDACTED]" instead of their values.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"}

// redactHeader returns h, or a redacted copy of it when it holds a
// credential header or a value containing key (a server or proxy that
// echoes the Authorization header): the response header is kept in
// errors, completions and streams, and printed and logged with them. The
// copy leaves h itself alone, in case the transport shares it; it is
// made only once a value actually changes, and only the changed
// headers get new value slices (a Set-Cookie on every response must not
// cost a deep copy of the header). A cookie jar has seen Set-Cookie
// before this runs.
func redactHeader(h http.Header, key string) http.Header {
	var out http.Header
	for name, vs := range h {
		var red []string
		for i, v := range vs {
			r := v
			switch {
			case slices.Contains(credentialHeaders, name):
				r = "[REDACTED]"
			case len(key) >= 6 && strings.Contains(v, key):
				r = strings.ReplaceAll(v, key, "[REDACTED]")
			}
			if r == v {
				continue
			}
			if red == nil {
				red = slices.Clone(vs)
			}
			red[i] = r
		}
		if red != nil {
			if out == nil {
				out = maps.Clone(h)
			}
			out[name] = red
		}
	}
	if out == nil {
		return h
	}
	return out
}

// redactKey replaces key in body with [REDACTED]. A key shorter than 6
// bytes is left alone: it would match innocent text and is not a real key.
func redactKey(body []byte, key string) []byte {
	if len(key) >= 6 && bytes.Contains(body, []byte(key)) {
		return bytes.ReplaceAll(body, []byte(key), []byte("[REDACTED]"))
	}
	return body
}

// decodeErrorBody fills e from a JSON error body and reports whether the
// body was one of the known shapes. It is the one decoder of error
// bodies: responses (parseError) and in-stream errors (eventError) read
// alike.
func decodeErrorBody(e *Error, body []byte) bool {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Type    string          `json:"type"`
		Message *string         `json:"message"`
		TraceID string          `json:"trace_id"`
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &env) != nil {
		return false
	}
	if e.RequestID == "" {
		e.RequestID = env.TraceID
	}
	errVal := bytes.TrimSpace(env.Error)
	switch {
	case len(errVal) > 0 && errVal[0] == '{':
		var inner struct {
			Type    string          `json:"type"`
			Message string          `json:"message"`
			Code    json.RawMessage `json:"code"`
			Param   json.RawMessage `json:"param"`
		}
		if json.Unmarshal(errVal, &inner) != nil {
			return false
		}
		e.Type, e.Message = inner.Type, inner.Message
		e.Code, e.Param = scalarString(inner.Code), scalarString(inner.Param)
	case len(errVal) > 0 && errVal[0] == '"':
		// Gateway shape: "error" is the machine code, "code" a number.
		json.Unmarshal(errVal, &e.Code)
		if strings.HasSuffix(e.Code, "_error") {
			// {"error":"invalid_authentication_error",...}: the code is
			// Kimi's type, which decides the kinds (a 200 says nothing).
			e.Type = e.Code
		}
		if env.Message != nil {
			e.Message = *env.Message
		}
	case env.Message != nil:
		// A flat {"type","message"} object, as error events carry.
		e.Type, e.Message = env.Type, *env.Message
	default:
		return false
	}
	if e.Message == "" {
		e.Message = statusText(e.StatusCode)
	}
	return true
}

// statusText names a failed status for a message. A 2xx that carried an
// error says so: "OK" would read as if nothing failed.
func statusText(status int) string {
	if status/100 == 2 {
		return "error in a " + strconv.Itoa(status) + " response"
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "HTTP " + strconv.Itoa(status)
}

// scalarString renders a JSON string, number or bool as text; null and
// objects give "".
func scalarString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		json.Unmarshal(raw, &s)
		return s
	case '{', '[', 'n':
		return ""
	}
	return string(raw)
}

const maxSnippet = 200

// snippetMessage describes a body that is not a JSON error: the status
// text, then the HTML title or the text with tags stripped, whitespace
// collapsed and cut to a short length.
func snippetMessage(status int, body []byte) string {
	text := statusText(status)
	s := string(body)
	if title, ok := htmlTitle(s); ok {
		s = title
	} else {
		s = htmlText(s)
	}
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	if len(s) > maxSnippet {
		cut := maxSnippet
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	if s == "" || strings.EqualFold(s, text) {
		return text
	}
	return text + ": " + s
}

// retryAfter reads the Retry-After header (delta seconds or an HTTP date)
// or, failing that, the message's "try again after N seconds". A hint of
// zero becomes one second: Kimi penalises immediate retries after a 429.
func retryAfter(header, message string, now time.Time) time.Duration {
	if header = strings.TrimSpace(header); header != "" {
		if n, err := strconv.ParseInt(header, 10, 64); err == nil && n >= 0 {
			return atLeastSecond(time.Duration(min(n, 1<<31)) * time.Second)
		}
		if t, err := http.ParseTime(header); err == nil {
			return atLeastSecond(t.Sub(now))
		}
	}
	if n, ok := parseRetryHint(message); ok {
		return atLeastSecond(time.Duration(min(n, 1<<31)) * time.Second)
	}
	return 0
}

func atLeastSecond(d time.Duration) time.Duration {
	return max(d, time.Second)
}

// ValidationError reports a request field that Kimi would reject; it is
// returned before anything is sent. Field is a path such as
// "messages[2].content"; Limit says what is allowed.
type ValidationError struct {
	Field string
	Value any
	Limit string
}

func (e *ValidationError) Error() string {
	if e.Value == nil {
		return fmt.Sprintf("kimi: invalid %s: %s", e.Field, e.Limit)
	}
	return fmt.Sprintf("kimi: invalid %s %s: %s", e.Field, formatValue(e.Value), e.Limit)
}

const maxValueText = 64

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > maxValueText {
			cut := maxValueText
			for cut > 0 && !utf8.RuneStart(x[cut]) {
				cut--
			}
			x = x[:cut] + "…"
		}
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}
