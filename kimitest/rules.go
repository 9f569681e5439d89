package kimitest

import (
	"net/http"
	"regexp"
	"strings"
)

// Rule scripts the reply to matching chat requests, overriding the
// generator. A rule matches when every condition it sets holds; the first
// matching rule (in WithRule order) wins. Validation, token limits and rate
// limits still apply before a rule is consulted, and max_tokens and stop
// still shape a scripted reply.
type Rule struct {
	// Match is a substring of the last user message's text; "" matches all.
	Match string
	// Regexp, when set, must also match the last user message's text.
	Regexp *regexp.Regexp
	// Model, when set, must equal the request's model.
	Model string

	// Reply is the assistant content.
	Reply string
	// Reasoning is the reasoning_content; when empty, thinking models get
	// a generated one.
	Reasoning string
	// ToolCalls are returned as tool calls, with ids in the model family's
	// style; an empty Arguments is sent as "{}". Such a rule is passed over
	// once the last message is a tool result, so a scripted round trip
	// ends with an answer.
	ToolCalls []RuleToolCall
	// FinishReason overrides the finish reason unless the reply was cut by
	// max_tokens; default "tool_calls" with ToolCalls, else "stop".
	FinishReason string
	// Error, when set, makes the request fail with this error instead.
	Error *RuleError
}

// RuleToolCall is a scripted tool call.
type RuleToolCall struct {
	Name      string
	Arguments string // JSON object text
}

// RuleError is a scripted error response in Kimi's envelope.
type RuleError struct {
	Status  int    // HTTP status; 0 means 400
	Type    string // e.g. "engine_overloaded_error"; default chosen by Status
	Message string
}

func (r *Rule) matches(model, lastUser string) bool {
	if r.Model != "" && r.Model != model {
		return false
	}
	if r.Match != "" && !strings.Contains(lastUser, r.Match) {
		return false
	}
	if r.Regexp != nil && !r.Regexp.MatchString(lastUser) {
		return false
	}
	return true
}

// matchRule returns the first rule matching the request, or nil. A rule
// that scripts tool calls does not match a request whose last message is a
// tool result: the call it scripted has been answered, and the model now
// replies from the result (otherwise it would call the tool forever).
func (e *Emulator) matchRule(req *chatRequest) *Rule {
	last := lastUserText(req.Messages)
	afterTool := len(req.Messages) > 0 && req.Messages[len(req.Messages)-1].Role == "tool"
	for i := range e.cfg.rules {
		if afterTool && len(e.cfg.rules[i].ToolCalls) > 0 {
			continue
		}
		if e.cfg.rules[i].matches(req.Model, last) {
			return &e.cfg.rules[i]
		}
	}
	return nil
}

func (re *RuleError) apiError() *apiError {
	e := &apiError{Status: re.Status, Type: re.Type, Message: re.Message}
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	if e.Type == "" {
		e.Type = defaultErrorTypes[e.Status]
		if e.Type == "" {
			e.Type = "server_error"
		}
	}
	return e
}

// defaultErrorTypes maps a status to the documented error type most often
// seen with it (https://platform.moonshot.ai/docs/api/errors).
var defaultErrorTypes = map[int]string{
	http.StatusBadRequest:      "invalid_request_error",
	http.StatusUnauthorized:    "invalid_authentication_error",
	http.StatusForbidden:       "permission_denied_error",
	http.StatusNotFound:        "resource_not_found_error",
	http.StatusTooManyRequests: "rate_limit_reached_error",
}
