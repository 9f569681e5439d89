package kimi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// FormulaService calls Kimi's official tools, the Formula API
// (https://platform.moonshot.ai/docs/guide/use-official-tools): a formula
// is a hosted bundle of tools addressed by a URI "namespace/name:tag"
// (moonshot/web-search:latest); Tools lists its functions, to declare in a
// chat, and Run executes one call the model made, as a "fiber" whose
// output goes back to the model as the tool message.
//
// ToolLoop runs the whole exchange, mixing formula tools with the
// caller's own Go functions.
type FormulaService struct{ c *Client }

// FormulaNamespace is the one namespace the platform serves, and
// FormulaDefaultTag the tag a URI without one means.
const (
	FormulaNamespace  = "moonshot"
	FormulaDefaultTag = "latest"
)

// FormulaURI completes a formula reference: a bare name ("web-search")
// gets the moonshot namespace and a missing tag becomes latest, so
// "web-search", "moonshot/web-search" and "moonshot/web-search:latest"
// are the same formula. Anything else is returned as given.
func FormulaURI(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if !strings.Contains(name, "/") {
		name = FormulaNamespace + "/" + name
	}
	if _, ref, _ := strings.Cut(name, "/"); !strings.Contains(ref, ":") {
		name += ":" + FormulaDefaultTag
	}
	return name
}

// formulaPath is the path of a formula's endpoint. The URI's "/" and ":"
// go into the path as they are, as the platform expects; characters that
// would change the URL's meaning are refused, naming the field.
func formulaPath(uri, endpoint string) (string, error) {
	full := FormulaURI(uri)
	if full == "" {
		return "", invalid("formula", uri, "must not be empty")
	}
	ns, ref, _ := strings.Cut(full, "/")
	name, tag, _ := strings.Cut(ref, ":")
	if ns == "" || strings.Contains(ref, "/") || strings.Count(ref, ":") != 1 ||
		name == "" || tag == "" || ns == "." || name == "." || tag == "." {
		return "", invalid("formula", uri, "must be namespace/name:tag, such as moonshot/web-search:latest")
	}
	for _, r := range full {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/", r)
		if !ok {
			return "", invalid("formula", uri, "may hold only letters, digits and - _ . : /")
		}
	}
	if strings.Contains(full, "..") {
		return "", invalid("formula", uri, "must not contain ..")
	}
	return "formulas/" + full + "/" + endpoint, nil
}

// FormulaTools is a formula's tool list, GET /formulas/{uri}/tools.
type FormulaTools struct {
	Object string        `json:"object"`
	Tools  []FormulaTool `json:"tools"`
	// URI is the formula the list came from (not sent by the server).
	URI string `json:"-"`
}

// Tool types a formula's list may hold besides "function".
const (
	// FormulaToolTypePlugin is a bundle of functions (excel's), which are
	// run as "<plugin>.<function>".
	FormulaToolTypePlugin = "_plugin"
)

// FormulaTool is one entry of a formula's tool list, kept whole: Raw is
// the entry as sent, so that a type this package does not know survives;
// Function is set for "function" entries and Plugin for "_plugin" ones.
type FormulaTool struct {
	Type     string
	Function *ToolFunction
	Plugin   *FormulaPlugin
	Raw      json.RawMessage
}

// FormulaPlugin is a "_plugin" entry: several functions under one name.
type FormulaPlugin struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Functions   []ToolFunction `json:"functions"`
}

// UnmarshalJSON keeps the entry as sent and decodes the parts it knows.
func (t *FormulaTool) UnmarshalJSON(data []byte) error {
	var w struct {
		Type     string         `json:"type"`
		Function *ToolFunction  `json:"function"`
		Plugin   *FormulaPlugin `json:"_plugin"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*t = FormulaTool{Type: w.Type, Raw: append(json.RawMessage(nil), data...)}
	switch w.Type {
	case ToolTypeFunction:
		t.Function = w.Function
	case FormulaToolTypePlugin:
		t.Plugin = w.Plugin
	}
	return nil
}

// MarshalJSON writes the entry as it was received.
func (t FormulaTool) MarshalJSON() ([]byte, error) {
	if len(t.Raw) > 0 {
		return t.Raw, nil
	}
	w := map[string]any{"type": t.Type}
	if t.Function != nil {
		w["function"] = t.Function
	}
	if t.Plugin != nil {
		w["_plugin"] = t.Plugin
	}
	return json.Marshal(w)
}

// FormulaFunction is one callable function of a formula, as declared in
// a chat and as run.
type FormulaFunction struct {
	// Tool is the declaration for the chat request. Its name is the one
	// the model calls: the function's own, or for a plugin function
	// PluginToolName's "<plugin>_<function>", since chat tool names may
	// not hold a dot.
	Tool Tool
	// Name is the name a fiber runs: the function's own, or
	// "<plugin>.<function>" for a plugin's.
	Name string
	// URI is the formula's full URI.
	URI string
}

// PluginToolName is the chat name of a plugin function: "excel" and
// "read_file" give "excel_read_file". The platform runs the function as
// "excel.read_file", a name a chat tool may not have (names match
// ^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$); the underscore form is this package's
// choice, and Functions maps it back.
func PluginToolName(plugin, function string) string { return plugin + "_" + function }

// Functions expands the list into callable functions: function entries
// as they are, and each plugin's functions under PluginToolName. Entries
// of a type that is neither are left out (Tools keeps them).
func (l *FormulaTools) Functions() []FormulaFunction {
	var out []FormulaFunction
	for _, t := range l.Tools {
		switch {
		case t.Function != nil:
			out = append(out, FormulaFunction{Tool: Tool{Type: ToolTypeFunction, Function: *t.Function}, Name: t.Function.Name, URI: l.URI})
		case t.Plugin != nil:
			for _, f := range t.Plugin.Functions {
				decl := f
				decl.Name = PluginToolName(t.Plugin.Name, f.Name)
				out = append(out, FormulaFunction{Tool: Tool{Type: ToolTypeFunction, Function: decl},
					Name: t.Plugin.Name + "." + f.Name, URI: l.URI})
			}
		}
	}
	return out
}

// ChatTools are the declarations of Functions, ready for a ChatRequest.
func (l *FormulaTools) ChatTools() []Tool {
	fs := l.Functions()
	tools := make([]Tool, len(fs))
	for i, f := range fs {
		tools[i] = f.Tool
	}
	return tools
}

// Tools lists a formula's tools. uri may be short (see FormulaURI). An
// unknown formula is a 404 "formula not found" (errors.Is ErrNotFound).
func (s *FormulaService) Tools(ctx context.Context, uri string, opts ...RequestOption) (*FormulaTools, error) {
	path, err := formulaPath(uri, "tools")
	if err != nil {
		return nil, err
	}
	l, err := get[FormulaTools](ctx, s.c, path, opts)
	if err != nil {
		return nil, err
	}
	l.URI = FormulaURI(uri)
	return l, nil
}

// Fiber statuses.
const FiberSucceeded = "succeeded"

// Fiber is one run of a formula function.
type Fiber struct {
	ID             string       `json:"id"`
	Object         string       `json:"object"`
	CreatedAt      int64        `json:"created_at"`
	LambdaID       string       `json:"lambda_id"`
	Status         string       `json:"status"`
	Context        FiberContext `json:"context"`
	Formula        string       `json:"formula"`
	OrganizationID string       `json:"organization_id"`
	ProjectID      string       `json:"project_id"`
	// Error is the failure the platform reports, when it does; its type
	// is not documented, so it is kept as sent.
	Error json.RawMessage `json:"error,omitempty"`
}

// FiberContext is a fiber's input and result. A protected formula (web
// search) answers in EncryptedOutput, which only the model can read.
type FiberContext struct {
	Input           string          `json:"input"`
	Output          string          `json:"output,omitempty"`
	EncryptedOutput string          `json:"encrypted_output,omitempty"`
	Error           json.RawMessage `json:"error,omitempty"`
}

// FiberError is a fiber that did not succeed. Its kind is ErrBadRequest:
// the formula refused its arguments or could not do what they asked
// (failures before the fiber ran, such as a 429, are API errors).
type FiberError struct {
	ID, Formula, Status string
	// Detail is the platform's error (the fiber's, else its context's),
	// as text.
	Detail string
}

func (e *FiberError) Error() string {
	var b strings.Builder
	b.WriteString("kimi: ")
	if e.Formula != "" {
		b.WriteString("formula " + e.Formula + ": ")
	}
	b.WriteString("fiber")
	if e.ID != "" {
		b.WriteString(" " + e.ID)
	}
	switch e.Status {
	case "":
		b.WriteString(" did not succeed (no status)")
	case FiberSucceeded:
		// Its status says succeeded, yet it carries an error.
		b.WriteString(" reported an error")
	default:
		b.WriteString(" " + e.Status)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

func (e *FiberError) errorKinds() []error { return []error{ErrBadRequest} }

// Is reports whether target is ErrBadRequest or ErrInvoke.
func (e *FiberError) Is(target error) bool { return isKind(e, target) }

// errorText renders an error of unknown type: a JSON string unquoted, an
// object's "message" when it has one, else the JSON as it is.
func errorText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Message != "" {
		return o.Message
	}
	return string(raw)
}

// Result is what goes back to the model: the output, or the encrypted
// output, of a fiber that succeeded. A fiber that did not, or that
// carries an error, gives a *FiberError, following the platform's own
// sample client (the fiber's error, then its context's). A function that
// ran but failed (excel's "ERROR: …" outputs) still succeeds here: its
// output is for the model to read.
func (f *Fiber) Result() (string, error) {
	detail := errorText(f.Error)
	if detail == "" {
		detail = errorText(f.Context.Error)
	}
	if f.Status != FiberSucceeded || detail != "" {
		return "", &FiberError{ID: f.ID, Formula: f.Formula, Status: f.Status, Detail: detail}
	}
	if f.Context.Output != "" {
		return f.Context.Output, nil
	}
	return f.Context.EncryptedOutput, nil
}

// ToolMessage is the tool message answering call with the fiber's result;
// a failed fiber's message says why, so the model can react.
func (f *Fiber) ToolMessage(call ToolCall) Message {
	out, err := f.Result()
	if err != nil {
		out = "Error: " + err.Error()
	}
	return ToolMessage(call.ID, call.Function.Name, out)
}

// fiberRequest is the body of a run: the model's call, arguments as the
// JSON text it emitted, never re-encoded.
type fiberRequest struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Run runs one function of a formula with the arguments the model gave
// (a JSON object as text, passed through as it is; "" means {}). name is
// the function's run name: for a plugin function "<plugin>.<function>"
// (FormulaFunction.Name). The fiber is returned whatever its status; use
// Result for its output. Failures before the fiber ran (429, 5xx) are
// retried by the client's RetryPolicy like any call.
func (s *FormulaService) Run(ctx context.Context, uri, name, arguments string, opts ...RequestOption) (*Fiber, error) {
	path, err := formulaPath(uri, "fibers")
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, invalid("name", name, "must not be empty")
	}
	if strings.TrimSpace(arguments) == "" {
		arguments = "{}"
	}
	if !json.Valid([]byte(arguments)) {
		return nil, invalid("arguments", arguments, "must be a JSON object")
	}
	return call[Fiber](ctx, s.c, http.MethodPost, path, &fiberRequest{Name: name, Arguments: arguments}, opts)
}
