package kimitest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// chatRequest is the parsed body of POST /v1/chat/completions
// (https://platform.moonshot.ai/docs/api/chat). Pointers tell "absent"
// from zero; unknown top-level fields are ignored, as Kimi does.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []message       `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	N                   *int            `json:"n"`
	PresencePenalty     *float64        `json:"presence_penalty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	ResponseFormat *responseFormat `json:"response_format"`
	Tools          []tool          `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	// Thinking is decoded by decodeThinking into thinking: the object
	// admits only type and keep.
	Thinking        bodySpan        `json:"thinking"`
	ReasoningEffort *string         `json:"reasoning_effort"`
	Logprobs        *bool           `json:"logprobs"`
	TopLogprobs     *int            `json:"top_logprobs"`
	PromptCacheKey  string          `json:"prompt_cache_key"` // scopes automatic caching (cache.go)
	rawMessages     json.RawMessage // compacted, seeds the generator
	rawTools        json.RawMessage // as sent, for context-cache matching
	stops           []string        // decoded Stop
	choice          toolChoice      // decoded ToolChoice
	thinking        *thinkingParam  // decoded Thinking; nil when absent or null
}

// thinkingParam is the decoded thinking object.
type thinkingParam struct {
	Type    string
	hasType bool
	Keep    *string // nil when absent or null
	hasKeep bool    // keep was sent, null included
	unknown string  // the first (in key order) field the object does not define
}

type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Strict *bool           `json:"strict"`
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

type message struct {
	Role             string        `json:"role"`
	Content          bodySpan      `json:"content"`
	Name             string        `json:"name,omitempty"`
	Partial          bool          `json:"partial,omitempty"`
	ToolCalls        []toolCall    `json:"tool_calls,omitempty"`
	ToolCallID       string        `json:"tool_call_id,omitempty"`
	ReasoningContent *string       `json:"reasoning_content,omitempty"`
	parts            []contentPart // decoded Content; a string is one text part
	contentNull      bool          // content absent or null
}

type contentPart struct {
	Type     string   `json:"type"`
	Text     string   `json:"text,omitempty"`
	ImageURL bodySpan `json:"image_url,omitempty"`
	VideoURL bodySpan `json:"video_url,omitempty"`
	url      []byte   // the decoded URL of a media part; usually a view of the body
}

type toolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// toolChoice is the decoded tool_choice.
type toolChoice struct {
	mode string // "auto" (also for null/absent), "none", "required", "specified"
	name string // for "specified"
}

// text returns the concatenated text parts of m.
func (m message) text() string {
	if len(m.parts) == 1 && m.parts[0].Type == "text" {
		return m.parts[0].Text // no copy of what may be most of the body
	}
	var b strings.Builder
	for _, p := range m.parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// parseChatRequest decodes the body and the polymorphic fields. Any
// failure is Kimi's "Invalid request: {details}". The request refers to
// body (see bodySpan), which must not change while it is in use.
func parseChatRequest(body []byte) (*chatRequest, *apiError) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, errInvalid("%s", jsonErrDetail(err))
	}
	// A second pass for the raw messages and tools: it matches keys as
	// the first does, and with bodySpan it copies nothing.
	var raw struct {
		Messages bodySpan `json:"messages"`
		Tools    bodySpan `json:"tools"`
	}
	_ = json.Unmarshal(body, &raw)
	if raw.Tools != nil {
		req.rawTools = json.RawMessage(raw.Tools)
	}
	req.rawMessages = compactSpan(raw.Messages)
	if req.Model == "" {
		return nil, errInvalid("model is required")
	}
	if raw.Messages == nil || string(raw.Messages) == "null" {
		return nil, errInvalid("messages is required")
	}
	for i := range req.Messages {
		if err := req.Messages[i].decodeContent(); err != nil {
			return nil, errInvalid("messages[%d].content: %v", i, err)
		}
	}
	stops, err := decodeStop(req.Stop)
	if err != nil {
		return nil, errInvalid("%v", err)
	}
	req.stops = stops
	tc, err := decodeToolChoice(req.ToolChoice)
	if err != nil {
		return nil, errInvalid("%v", err)
	}
	req.choice = tc
	th, err := decodeThinking(req.Thinking)
	if err != nil {
		return nil, errInvalid("%v", err)
	}
	req.thinking = th
	return &req, nil
}

// decodeThinking reads the thinking object, keeping what checkThinking
// needs to enforce its schema (type required, keep null or a string, no
// other field).
func decodeThinking(raw bodySpan) (*thinkingParam, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errors.New(fieldErrDetail("thinking", err))
	}
	t := &thinkingParam{}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := fields[k]
		switch k {
		case "type":
			if err := json.Unmarshal(v, &t.Type); err != nil {
				return nil, errors.New(fieldErrDetail("thinking.type", err))
			}
			t.hasType = true
		case "keep":
			if err := json.Unmarshal(v, &t.Keep); err != nil {
				return nil, errors.New(fieldErrDetail("thinking.keep", err))
			}
			t.hasKeep = true
		default:
			if t.unknown == "" {
				t.unknown = k
			}
		}
	}
	return t, nil
}

// fieldErrDetail is jsonErrDetail for a value decoded on its own, named
// by its place in the request.
func fieldErrDetail(field string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		te.Field = strings.TrimSuffix(field+"."+te.Field, ".")
	}
	return jsonErrDetail(err)
}

// bodySpan is a raw JSON value like json.RawMessage, but it refers to
// the bytes being decoded instead of copying them: a message's content
// or the messages array can be most of a 100 MB body. It is only for
// json.Unmarshal of a buffer that outlives the value and is not changed
// (a request body); a json.Decoder reuses its buffer.
type bodySpan []byte

// UnmarshalJSON keeps data itself; see bodySpan.
func (s *bodySpan) UnmarshalJSON(data []byte) error {
	*s = data
	return nil
}

// MarshalJSON writes the value as it was sent, as json.RawMessage does.
func (s bodySpan) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	return s, nil
}

// compactSpan is raw without insignificant space: raw itself when it has
// none (compact JSON, as clients send it), else a compacted copy; nil
// when raw is not valid JSON.
func compactSpan(raw bodySpan) json.RawMessage {
	if raw == nil {
		return nil
	}
	if isCompact(raw) {
		return json.RawMessage(raw)
	}
	var compact bytes.Buffer
	compact.Grow(len(raw)) // compacting never grows it
	if json.Compact(&compact, raw) != nil {
		return nil
	}
	return compact.Bytes()
}

// isCompact reports whether the JSON value raw has no space outside its
// strings, that is whether json.Compact would leave it unchanged.
func isCompact(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString:
			if c == '\\' {
				i++ // the escaped byte cannot end the string
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

// jsonErrDetail words a decode error in JSON's terms (the field's path
// and JSON type names), never in Go's (struct and type names).
func jsonErrDetail(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "request body"
		}
		got := te.Value
		if num, ok := strings.CutPrefix(got, "number "); ok && wholeNumberRE.MatchString(num) {
			// A whole number the integer field cannot hold.
			return fmt.Sprintf("%s: number %s is out of range for %s", field, num, jsonTypeName(te.Type))
		}
		return fmt.Sprintf("%s: expected %s, got %s", field, jsonTypeName(te.Type), got)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "malformed JSON: unexpected end of input"
	}
	return "malformed JSON"
}

var wholeNumberRE = regexp.MustCompile(`^-?[0-9]+$`)

// jsonTypeName is the JSON name of the type a Go value decodes from.
func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

// decodeContent accepts a string, null/absent, or an array of parts.
func (m *message) decodeContent() error {
	c := bytes.TrimSpace(m.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
		m.contentNull = true
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return err
		}
		m.parts = []contentPart{{Type: "text", Text: s}}
	case c[0] == '[':
		if err := json.Unmarshal(c, &m.parts); err != nil {
			return errors.New(jsonErrDetail(err))
		}
		for i := range m.parts {
			p := &m.parts[i]
			var err error
			switch p.Type {
			case "text":
			case "image_url":
				if p.url, err = partURL(p.ImageURL); err != nil {
					return fmt.Errorf("part %d: image_url %v", i, err)
				}
			case "video_url":
				if p.url, err = partURL(p.VideoURL); err != nil {
					return fmt.Errorf("part %d: video_url %v", i, err)
				}
			default:
				return fmt.Errorf("part %d: unknown content type %q", i, p.Type)
			}
		}
	default:
		return errors.New("must be a string, an array of content parts or null")
	}
	return nil
}

// partURL reads the object form {"url":…} or the 2026 string form. A
// data URL can be most of a 100 MB body, so the URL is a view of raw
// unless its JSON string has escapes to undo.
func partURL(raw bodySpan) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		var o struct {
			URL bodySpan `json:"url"`
		}
		if json.Unmarshal(raw, &o) != nil {
			return nil, errPartURL
		}
		raw = o.URL
	}
	u, ok := jsonStringView(raw)
	if !ok || len(u) == 0 {
		return nil, errPartURL
	}
	return u, nil
}

var errPartURL = errors.New("must be a URL string or an object with a url")

// jsonStringView returns the text of the JSON string raw: a view of raw
// when it has no escapes, else a decoded copy.
func jsonStringView(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// decodeStop accepts a string or an array of strings.
func decodeStop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	var one string
	if json.Unmarshal(raw, &one) == nil {
		list = []string{one}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("stop must be a string or an array of strings")
	}
	if len(list) > 5 {
		return nil, fmt.Errorf("stop must have at most 5 items, got %d", len(list))
	}
	var out []string
	for _, s := range list {
		if len(s) > 32 {
			return nil, fmt.Errorf("stop item %q is longer than 32 bytes", s)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func decodeToolChoice(raw json.RawMessage) (toolChoice, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return toolChoice{mode: "auto"}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "auto", "none", "required":
			return toolChoice{mode: s}, nil
		}
		return toolChoice{}, fmt.Errorf("tool_choice must be one of none, auto, required or a function object, got %q", s)
	}
	var o struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.Type != "function" || o.Function.Name == "" {
		return toolChoice{}, errors.New(`tool_choice object must be {"type":"function","function":{"name":…}}`)
	}
	return toolChoice{mode: "specified", name: o.Function.Name}, nil
}

// params are the effective sampling settings after validation.
type params struct {
	thinking    bool
	keepAll     bool   // thinking.keep "all", sent or forced: earlier reasoning is read
	effort      string // reasoning_effort in force ("" for families without efforts)
	temperature float64
	n           int
	maxTokens   int  // effective completion budget
	explicitMax bool // maxTokens came from the request
	logprobs    bool // logprobs asked for
	topLogprobs int  // alternatives per token, with logprobs
}

// zeroTemperature is the temperature at or below which n>1 is refused:
// the docs call 0.001 "very close to 0" and give no exact threshold.
const zeroTemperature = 0.001

// maxTopLogprobs is the largest top_logprobs: no source gives Kimi's, so
// OpenAI's is taken.
const maxTopLogprobs = 20

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// checkParams applies the per-family parameter rules of package catalog.
// dropFixed (a gateway such as Ace Data Cloud's) treats the fixed
// sampling parameters as not sent instead of refusing other values.
func checkParams(req *chatRequest, m ModelSpec, dropFixed bool) (params, *apiError) {
	fr := rulesFor(m.Family)
	p := params{n: 1}

	// Thinking first: it decides k2.5's fixed temperature.
	if aerr := checkThinking(req.thinking, fr, &p); aerr != nil {
		return p, aerr
	}
	if len(fr.Efforts) > 0 {
		p.effort = cmp.Or(m.DefaultEffort, fr.DefaultEffort)
		if e := req.ReasoningEffort; e != nil {
			if !slices.Contains(fr.Efforts, *e) {
				return p, errBadEffort(fr.Efforts)
			}
			p.effort = *e
		}
	}
	// Elsewhere reasoning_effort is accepted and ignored: clients send it
	// to every model, and none documents a refusal.

	p.temperature = fr.DefaultTemperature(p.thinking)
	if aerr := checkSampling(req, fr, &p, dropFixed); aerr != nil {
		return p, aerr
	}

	// max_completion_tokens (2026) wins over the deprecated max_tokens
	// when both are sent, as the live API does.
	mt := req.MaxTokens
	name := "max_tokens"
	if req.MaxCompletionTokens != nil {
		mt, name = req.MaxCompletionTokens, "max_completion_tokens"
	}
	p.maxTokens = cmp.Or(fr.DefaultMaxTokens, catalog.DefaultMaxTokens)
	if mt != nil {
		if *mt < 1 {
			return p, errInvalid("%s must be at least 1, got %d", name, *mt)
		}
		// A budget over the whole window can never fit; refusing it here
		// also keeps prompt+budget far from overflowing, so that it cannot
		// wrap around under the window or the TPM/TPD limits.
		if *mt > m.ContextLength {
			return p, errBadRequest("Your request exceeded model token limit : %d (%s %d alone is over it)", m.ContextLength, name, *mt)
		}
		p.maxTokens, p.explicitMax = *mt, true
	}

	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text", "json_object":
		case "json_schema":
			if rf.JSONSchema == nil {
				return p, errInvalid("response_format.json_schema is required when type is json_schema")
			}
			if d := checkResponseSchema(rf.JSONSchema.Schema); d != "" {
				return p, errInvalid("response_format.json_schema is not a valid moonshot flavored json schema, details: <%s>", d)
			}
		default:
			return p, errInvalid("response_format.type must be one of text, json_object, json_schema, got %q", rf.Type)
		}
	}

	p.logprobs = req.Logprobs != nil && *req.Logprobs
	if tl := req.TopLogprobs; tl != nil {
		if *tl < 0 || *tl > maxTopLogprobs {
			return p, errTopLogprobsRange(*tl)
		}
		if *tl > 0 && !p.logprobs {
			return p, errTopLogprobsAlone
		}
		p.topLogprobs = *tl
	}

	if p.thinking {
		switch req.choice.mode {
		case "required":
			if !fr.RequiredWhileThinking {
				return p, errBadRequest("tool_choice 'required' is incompatible with thinking enabled")
			}
		case "specified":
			return p, errBadRequest("tool_choice 'specified' is incompatible with thinking enabled")
		}
	}
	return p, nil
}

// checkThinking applies the family's thinking rules to the thinking
// object and sets p.thinking and p.keepAll. Families without reasoning
// accept and ignore the object (undocumented there; refusing it would
// break generic clients).
func checkThinking(t *thinkingParam, fr catalog.Rules, p *params) *apiError {
	p.thinking = fr.Thinks("")
	p.keepAll = fr.Keep == catalog.KeepAlways
	if t == nil || fr.Thinking == catalog.ThinkingNone {
		return nil
	}
	// The object's schema has additionalProperties false; keep is
	// checked below, by the family's rule.
	if t.unknown != "" {
		return errThinkingField(t.unknown)
	}
	switch {
	case !t.hasType:
		return errInvalid("thinking.type is required")
	case t.Type == "enabled":
	case t.Type == "disabled":
		if fr.Thinking == catalog.ThinkingForced {
			return errBadRequest("invalid thinking: only type=enabled is allowed for this model")
		}
		p.thinking = false
	default:
		return errInvalid("thinking.type must be enabled or disabled, got %q", t.Type)
	}
	if !t.hasKeep {
		return nil
	}
	keep := ""
	if t.Keep != nil {
		keep = *t.Keep
	}
	switch fr.Keep {
	case catalog.KeepRefused:
		return errKeepRefused
	case catalog.KeepOptional:
		if t.Keep != nil && keep != "all" {
			return errKeepOptional
		}
		p.keepAll = keep == "all"
	case catalog.KeepAlways:
		// null reads as absent: "all" either way.
		if t.Keep != nil && keep != "all" {
			return errKeepAlways
		}
	default:
		// Undocumented for the family: passed over, as a client that
		// sends it to every thinking model expects.
		p.keepAll = keep == "all"
	}
	return nil
}

// checkSampling checks temperature, top_p, the penalties and n one by
// one: a parameter the family fixes must be sent at its fixed value or
// not at all (or is dropped, with dropFixed), any other is range-checked.
// Sending exactly the fixed value is accepted, as a client that echoes
// documented defaults would do (the docs leave this open).
func checkSampling(req *chatRequest, fr catalog.Rules, p *params, dropFixed bool) *apiError {
	fixed := func(param catalog.Params) bool { return fr.Fixed.Has(param) }
	// notFixed reports whether v must be range-checked: a fixed
	// parameter at another value than want is refused (or dropped).
	check := func(param catalog.Params, name string, v *float64, want float64) (notFixed bool, aerr *apiError) {
		if !fixed(param) {
			return true, nil
		}
		if v != nil && !dropFixed && math.Abs(*v-want) > 1e-9 {
			return false, errFixedParam(name, fmtNum(want))
		}
		return false, nil
	}

	if free, aerr := check(catalog.ParamTemperature, "temperature", req.Temperature, p.temperature); aerr != nil {
		return aerr
	} else if t := req.Temperature; free && t != nil {
		if *t < 0 || *t > 1 {
			return errInvalid("temperature must be in [0, 1], got %s", fmtNum(*t))
		}
		p.temperature = *t
	}
	if free, aerr := check(catalog.ParamTopP, "top_p", req.TopP, fr.TopP); aerr != nil {
		return aerr
	} else if t := req.TopP; free && t != nil && (*t < 0 || *t > 1) {
		return errInvalid("top_p must be in [0, 1], got %s", fmtNum(*t))
	}
	for _, pen := range []struct {
		name string
		v    *float64
	}{{"presence_penalty", req.PresencePenalty}, {"frequency_penalty", req.FrequencyPenalty}} {
		if free, aerr := check(catalog.ParamPenalties, pen.name, pen.v, 0); aerr != nil {
			return aerr
		} else if free && pen.v != nil && (*pen.v < -2 || *pen.v > 2) {
			return errInvalid("%s must be in [-2, 2], got %s", pen.name, fmtNum(*pen.v))
		}
	}
	if fixed(catalog.ParamN) {
		if req.N != nil && *req.N != 1 && !dropFixed {
			return errFixedParam("n", "1")
		}
		return nil
	}
	if req.N != nil {
		if *req.N < 1 || *req.N > 5 {
			return errInvalid("n must be in [1, 5], got %d", *req.N)
		}
		p.n = *req.N
	}
	// The effective temperature counts: moonshot-v1 defaults to 0.
	if p.n > 1 && p.temperature <= zeroTemperature {
		return errInvalid("n must be 1 when temperature is 0 or close to 0 (got temperature %s, n %d)", fmtNum(p.temperature), p.n)
	}
	return nil
}

// checkSchema is a small subset of the MFJS checks: the root must be an
// object schema. It returns "" when the schema is acceptable.
func checkSchema(raw json.RawMessage) string {
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		return "schema must be a JSON object"
	}
	if t, _ := s["type"].(string); t != "object" {
		return "root schema type must be object"
	}
	return ""
}

// toolNameRE is the documented tool name rule (3–64 characters).
var toolNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`)

// builtinTools are the builtin_function names the emulator implements.
var builtinTools = map[string]bool{"$web_search": true}

const maxTools = 128

// checkTools validates the tool list.
func checkTools(req *chatRequest, m ModelSpec) *apiError {
	if len(req.Tools) == 0 {
		if req.choice.mode == "required" || req.choice.mode == "specified" {
			return errInvalid("tool_choice is set but no tools are provided")
		}
		return nil
	}
	if !rulesFor(m.Family).Tools {
		return errInvalid("model %s does not support tools", m.ID)
	}
	if len(req.Tools) > maxTools {
		return errInvalid("too many tools: at most %d are allowed, got %d", maxTools, len(req.Tools))
	}
	seen := make(map[string]bool)
	for i, t := range req.Tools {
		name := t.Function.Name
		switch t.Type {
		case "function":
			if !toolNameRE.MatchString(name) {
				return errInvalid("tools[%d]: function name %q is invalid, it must match %s", i, name, toolNameRE)
			}
			if len(t.Function.Parameters) > 0 && string(t.Function.Parameters) != "null" {
				if d := checkSchema(t.Function.Parameters); d != "" {
					return errInvalid("tools[%d]: function %s parameters: %s", i, name, d)
				}
			}
		case "builtin_function":
			if !builtinTools[name] {
				return errInvalid("tools[%d]: unknown builtin function %q", i, name)
			}
		default:
			return errInvalid("tools[%d]: type must be function or builtin_function, got %q", i, t.Type)
		}
		if seen[name] {
			return errInvalid("function name %s is duplicated", name)
		}
		seen[name] = true
	}
	if req.choice.mode == "specified" && !seen[req.choice.name] {
		return errInvalid("tool_choice function %q is not in tools", req.choice.name)
	}
	return nil
}

// checkMessages validates the conversation structure (roles, content,
// each assistant tool call answered by a tool message) and the
// reasoning_content rule of thinking models.
func checkMessages(msgs []message, thinking bool) *apiError {
	if len(msgs) == 0 {
		return errInvalid("messages must not be empty")
	}
	for i, m := range msgs {
		switch m.Role {
		case "system", "user":
			if len(m.parts) == 0 || (len(m.parts) == 1 && m.parts[0].Type == "text" && m.parts[0].Text == "") {
				return errInvalid("messages[%d]: content of a %s message must not be empty", i, m.Role)
			}
		case "assistant":
			if m.contentNull && len(m.ToolCalls) == 0 && !m.Partial {
				return errInvalid("messages[%d]: assistant message must have content or tool_calls", i)
			}
			if m.Partial && i != len(msgs)-1 {
				return errInvalid("messages[%d]: partial is only allowed on the last message", i)
			}
			seen := make(map[string]bool)
			for j, tc := range m.ToolCalls {
				if tc.ID == "" || tc.Function.Name == "" {
					return errInvalid("messages[%d].tool_calls[%d]: id and function.name are required", i, j)
				}
				if seen[tc.ID] {
					return errInvalid("messages[%d]: duplicated tool call id %s", i, tc.ID)
				}
				seen[tc.ID] = true
			}
			if len(m.ToolCalls) > 0 {
				// "" counts as sent: a turn may have reasoned nothing,
				// and clients that lost the text send "" (or " ") back.
				if thinking && m.ReasoningContent == nil {
					return errBadRequest("thinking is enabled but reasoning_content is missing in assistant tool call message at index %d", i)
				}
				// One tool message per call must follow, before anything else.
				k := i + 1
				for ; k < len(msgs) && msgs[k].Role == "tool"; k++ {
					if !seen[msgs[k].ToolCallID] {
						return errInvalid("tool_call_id not found: messages[%d] refers to %q, which is not a tool call of messages[%d]", k, msgs[k].ToolCallID, i)
					}
					delete(seen, msgs[k].ToolCallID)
				}
				for _, tc := range m.ToolCalls {
					if seen[tc.ID] {
						return errInvalid("tool_call_id not found: tool call %s of messages[%d] has no tool message", tc.ID, i)
					}
				}
			}
		case "tool":
			if i == 0 || (msgs[i-1].Role != "tool" && msgs[i-1].Role != "assistant") || !precededByCall(msgs, i) {
				return errInvalid("tool_call_id not found: messages[%d] refers to %q, which no assistant tool call made", i, m.ToolCallID)
			}
		case "cache":
			// A first cache message has been replaced by the cached
			// messages before validation (caching_chat.go).
			return errInvalid("messages[%d]: a cache message is only allowed as the first message", i)
		default:
			return errInvalid("messages[%d]: unknown role %q", i, m.Role)
		}
		if m.Partial && m.Role != "assistant" {
			return errInvalid("messages[%d]: partial is only allowed on an assistant message", i)
		}
	}
	return nil
}

// precededByCall reports whether the tool message at i belongs to the
// block of tool messages right after an assistant message with tool calls.
func precededByCall(msgs []message, i int) bool {
	for k := i - 1; k >= 0; k-- {
		if msgs[k].Role == "tool" {
			continue
		}
		return msgs[k].Role == "assistant" && len(msgs[k].ToolCalls) > 0
	}
	return false
}
