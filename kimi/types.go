package kimi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
)

// Ptr returns a pointer to v. Optional request fields are pointers so that an
// explicit zero (temperature 0) is sent while an unset field is left out.
func Ptr[T any](v T) *T { return &v }

// Role is a message author.
type Role string

// Message roles. RoleCache is Kimi's special context-cache reference message.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
	RoleCache     Role = "cache"
)

// Finish reasons reported on a choice.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// ChatRequest is the body of POST /chat/completions. Pointer fields are left
// out of the body when nil; Extra carries vendor fields this release does not
// know yet and is merged into the top-level JSON object.
type ChatRequest struct {
	Model    string    `json:"model"`
	Messages []Message `json:"messages"`

	MaxTokens           *int     `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int     `json:"max_completion_tokens,omitempty"`
	Temperature         *float64 `json:"temperature,omitempty"`
	TopP                *float64 `json:"top_p,omitempty"`
	N                   *int     `json:"n,omitempty"`
	PresencePenalty     *float64 `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64 `json:"frequency_penalty,omitempty"`
	// Stop holds at most 5 strings of at most 32 bytes each. One string is
	// sent as a JSON string, several as an array.
	Stop           []string        `json:"-"`
	Stream         bool            `json:"stream,omitempty"`
	StreamOptions  *StreamOptions  `json:"stream_options,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	Tools          []Tool          `json:"tools,omitempty"`
	ToolChoice     *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking       *Thinking       `json:"thinking,omitempty"`
	// ReasoningEffort is how hard an effort model (kimi-k3) reasons:
	// "low", "high" or "max" (the model's Efforts in package catalog).
	ReasoningEffort string `json:"reasoning_effort,omitempty"`
	PromptCacheKey  string `json:"prompt_cache_key,omitempty"`
	// SafetyIdentifier is a stable hashed end-user id (2026 API).
	SafetyIdentifier string `json:"safety_identifier,omitempty"`
	Seed             *int   `json:"seed,omitempty"`
	Logprobs         *bool  `json:"logprobs,omitempty"`
	TopLogprobs      *int   `json:"top_logprobs,omitempty"`
	User             string `json:"user,omitempty"`

	// Extra is merged into the JSON body; a key that repeats a typed field
	// is rejected by Validate. Per-call headers are not part of the
	// request: pass them to Create or Stream as options (WithHeader).
	Extra map[string]any `json:"-"`
}

// MarshalJSON writes the typed fields, the stop list and Extra.
func (r ChatRequest) MarshalJSON() ([]byte, error) {
	type plain ChatRequest
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	var tail map[string]any
	switch len(r.Stop) {
	case 0:
	case 1:
		tail = map[string]any{"stop": r.Stop[0]}
	default:
		tail = map[string]any{"stop": r.Stop}
	}
	if len(r.Extra) > 0 {
		if tail == nil {
			tail = make(map[string]any, len(r.Extra))
		}
		for k, v := range r.Extra {
			tail[k] = v
		}
	}
	return mergeObject(b, tail)
}

// UnmarshalJSON accepts stop as a string or an array and keeps unknown
// fields in Extra, so a request can round-trip through JSON files.
func (r *ChatRequest) UnmarshalJSON(data []byte) error {
	type plain ChatRequest
	var p plain
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*r = ChatRequest(p)
	if s, ok := raw["stop"]; ok {
		stop, err := decodeStringOrList(s)
		if err != nil {
			return fmt.Errorf("kimi: field stop: %w", err)
		}
		r.Stop = stop
	}
	for k, v := range raw {
		if chatRequestFields[k] || k == "stop" {
			continue
		}
		if r.Extra == nil {
			r.Extra = map[string]any{}
		}
		r.Extra[k] = v
	}
	return nil
}

// chatRequestFields lists the JSON names of ChatRequest's typed fields.
var chatRequestFields = jsonFieldNames(ChatRequest{})

// StreamOptions controls the usage trailer of a stream.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat selects text, JSON mode or a JSON schema.
type ResponseFormat struct {
	Type       string      `json:"type"` // "text", "json_object" or "json_schema"
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema is the payload of a json_schema response format.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Thinking switches reasoning on or off for models that allow it (kimi-k2.5).
type Thinking struct {
	Type string `json:"type"`           // "enabled" or "disabled"
	Keep string `json:"keep,omitempty"` // "all" keeps historical reasoning (k2.6)
}

// Tool types.
const (
	ToolTypeFunction        = "function"
	ToolTypeBuiltinFunction = "builtin_function"
	// WebSearchToolName is the builtin tool Kimi runs on its side.
	WebSearchToolName = "$web_search"
)

// Tool is a function (or builtin function) the model may call.
type Tool struct {
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction describes a callable function. Parameters is a JSON schema
// whose root is an object.
type ToolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// WebSearchTool returns the builtin $web_search tool.
func WebSearchTool() Tool {
	return Tool{Type: ToolTypeBuiltinFunction, Function: ToolFunction{Name: WebSearchToolName}}
}

// ToolChoice is "none", "auto", "required", or a named function. The zero
// value of a *ToolChoice (nil) leaves the field out.
type ToolChoice struct {
	Mode     string // "none", "auto" or "required"; empty when Function is set
	Function string // name of the function to force
}

// MarshalJSON writes the string form or the object form.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Function != "" {
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": t.Function}})
	}
	return json.Marshal(t.Mode)
}

// UnmarshalJSON reads the string form or the object form.
func (t *ToolChoice) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &t.Mode)
	}
	var obj struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return err
	}
	t.Function = obj.Function.Name
	return nil
}

// ToolCall is a call the model asked for. IDs are opaque: echo them verbatim.
type ToolCall struct {
	// Index is set on streamed calls and on some non-stream responses.
	Index    *int             `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function ToolCallFunction `json:"function"`
}

// ToolCallFunction holds the called name and its JSON arguments string.
type ToolCallFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// ContentPart is one element of a multi-part message content.
type ContentPart struct {
	Type     string    `json:"type"` // "text", "image_url" or "video_url"
	Text     string    `json:"text,omitempty"`
	ImageURL *MediaURL `json:"image_url,omitempty"`
	VideoURL *MediaURL `json:"video_url,omitempty"`
}

// MediaURL is a data: URL or an ms://<file_id> reference.
type MediaURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UnmarshalJSON accepts the 2026 string form as well as {"url": ...}.
func (m *MediaURL) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &m.URL)
	}
	type plain MediaURL
	return json.Unmarshal(data, (*plain)(m))
}

// TextPart returns a text content part.
func TextPart(s string) ContentPart { return ContentPart{Type: "text", Text: s} }

// ImagePart returns an image_url content part.
func ImagePart(url string) ContentPart {
	return ContentPart{Type: "image_url", ImageURL: &MediaURL{URL: url}}
}

// Message is one turn of a conversation. Content is sent as a string unless
// Parts is non-nil, in which case the parts array is sent instead.
type Message struct {
	Role             Role
	Content          string
	Parts            []ContentPart
	Name             string
	Partial          bool
	ToolCalls        []ToolCall
	ToolCallID       string
	ReasoningContent string
	// Extra is merged into the message object (vendor fields).
	Extra map[string]any
}

// SystemMessage, UserMessage and AssistantMessage build plain text turns.
func SystemMessage(s string) Message    { return Message{Role: RoleSystem, Content: s} }
func UserMessage(s string) Message      { return Message{Role: RoleUser, Content: s} }
func AssistantMessage(s string) Message { return Message{Role: RoleAssistant, Content: s} }

// ToolMessage answers the tool call with the given id.
func ToolMessage(toolCallID, name, content string) Message {
	return Message{Role: RoleTool, ToolCallID: toolCallID, Name: name, Content: content}
}

// PartialMessage is a last assistant message that the model continues
// (partial mode); the reply does not repeat prefix.
func PartialMessage(prefix string) Message {
	return Message{Role: RoleAssistant, Content: prefix, Partial: true}
}

type wireMessage struct {
	Role             Role            `json:"role"`
	Content          json.RawMessage `json:"content,omitempty"`
	Name             string          `json:"name,omitempty"`
	Partial          bool            `json:"partial,omitempty"`
	ToolCalls        []ToolCall      `json:"tool_calls,omitempty"`
	ToolCallID       string          `json:"tool_call_id,omitempty"`
	ReasoningContent *string         `json:"reasoning_content,omitempty"`
}

var messageFields = jsonFieldNames(wireMessage{})

// MarshalJSON omits content only on an assistant turn that carries tool
// calls and no text, as Kimi's own CLI does.
func (m Message) MarshalJSON() ([]byte, error) {
	w := wireMessage{Role: m.Role, Name: m.Name, Partial: m.Partial, ToolCalls: m.ToolCalls,
		ToolCallID: m.ToolCallID}
	if m.ReasoningContent != "" {
		w.ReasoningContent = &m.ReasoningContent
	}
	switch {
	case m.Parts != nil:
		b, err := json.Marshal(m.Parts)
		if err != nil {
			return nil, err
		}
		w.Content = b
	case m.Content == "" && len(m.ToolCalls) > 0:
	default:
		b, err := json.Marshal(m.Content)
		if err != nil {
			return nil, err
		}
		w.Content = b
	}
	b, err := json.Marshal(w)
	if err != nil || len(m.Extra) == 0 {
		return b, err
	}
	return mergeObject(b, m.Extra)
}

// UnmarshalJSON accepts content as a string, null or a parts array and keeps
// unknown fields in Extra.
func (m *Message) UnmarshalJSON(data []byte) error {
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*m = Message{Role: w.Role, Name: w.Name, Partial: w.Partial, ToolCalls: w.ToolCalls,
		ToolCallID: w.ToolCallID}
	if w.ReasoningContent != nil {
		m.ReasoningContent = *w.ReasoningContent
	}
	c := bytes.TrimSpace(w.Content)
	switch {
	case len(c) == 0 || string(c) == "null":
	case c[0] == '"':
		if err := json.Unmarshal(c, &m.Content); err != nil {
			return err
		}
	case c[0] == '[':
		if err := json.Unmarshal(c, &m.Parts); err != nil {
			return err
		}
	default:
		return fmt.Errorf("kimi: message content must be a string, null or an array, got %.20s", c)
	}
	extra, err := unknownFields(data, messageFields)
	for k, v := range extra {
		if m.Extra == nil {
			m.Extra = make(map[string]any, len(extra))
		}
		m.Extra[k] = v
	}
	return err
}

// Text returns the message text: Content, or the text parts joined.
func (m Message) Text() string {
	if m.Parts == nil {
		return m.Content
	}
	var b bytes.Buffer
	for _, p := range m.Parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// Usage is token accounting. Kimi reports cached tokens at the top level
// (cached_tokens) and, on 2026 models, in prompt_tokens_details as well;
// CachedTokens holds whichever is present after decoding.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	CachedTokens            int                      `json:"cached_tokens,omitempty"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails is the OpenAI-style breakdown of prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// CompletionTokensDetails breaks down completion tokens (thinking models).
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// UnmarshalJSON fills CachedTokens from either location.
func (u *Usage) UnmarshalJSON(data []byte) error {
	type plain Usage
	if err := json.Unmarshal(data, (*plain)(u)); err != nil {
		return err
	}
	u.normalize()
	return nil
}

func (u *Usage) normalize() {
	if u.CachedTokens == 0 && u.PromptTokensDetails != nil {
		u.CachedTokens = u.PromptTokensDetails.CachedTokens
	}
}

// ChatCompletion is a non-streaming chat response.
type ChatCompletion struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`

	// Extra holds top-level fields this release does not know.
	Extra map[string]json.RawMessage `json:"-"`
	// Header is the HTTP response header (request id, cache headers).
	Header http.Header `json:"-"`
}

var completionFields = jsonFieldNames(ChatCompletion{})

// UnmarshalJSON keeps unknown top-level fields in Extra. Into a zero value
// (where decoding cannot merge with earlier contents) the common shape is
// decoded in one pass by the fast path; encoding/json decides the rest.
func (c *ChatCompletion) UnmarshalJSON(data []byte) error {
	if c.ID == "" && c.Object == "" && c.Created == 0 && c.Model == "" && c.Choices == nil &&
		c.Usage == nil && c.SystemFingerprint == "" && c.Extra == nil && c.decodeFast(data) {
		return nil
	}
	return c.decodeSlow(data)
}

// Text returns the content of the first choice, or "".
func (c *ChatCompletion) Text() string {
	if c == nil || len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Message.Text()
}

// RequestID returns the Msh-Request-Id response header.
func (c *ChatCompletion) RequestID() string { return c.Header.Get("Msh-Request-Id") }

// CacheInfo reports context cache use from the response headers
// (Msh-Context-Cache-Id, -Token-Saved, -Token-Exp or -Token-Ttl), with
// usage.cached_tokens as the fallback for TokensSaved.
func (c *ChatCompletion) CacheInfo() CacheInfo {
	cached := 0
	if c.Usage != nil {
		cached = c.Usage.CachedTokens
	}
	return cacheInfo(c.Header, cached)
}

// Choice is one generated alternative.
type Choice struct {
	Index        int     `json:"index"`
	Message      Message `json:"message"`
	FinishReason string  `json:"finish_reason"`
	// Logprobs is the raw logprobs of a request with Logprobs set, kept
	// as sent (it is read only on demand); Tokens decodes it.
	Logprobs json.RawMessage `json:"logprobs,omitempty"`
	// Usage is set per choice on Kimi's final stream chunk.
	Usage *Usage `json:"usage,omitempty"`
}

// ChatCompletionChunk is one SSE event of a streamed completion.
type ChatCompletionChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
}

// Text returns the new answer text of the chunk's first choice (its
// delta's content), "" when there is none. With n > 1, choices are
// interleaved across chunks: read Choices and their Index instead.
func (c *ChatCompletionChunk) Text() string {
	if c == nil || len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Delta.Content
}

// Reasoning returns the new reasoning text of the chunk's first choice
// (reasoning_content, from thinking models), "" when there is none.
func (c *ChatCompletionChunk) Reasoning() string {
	if c == nil || len(c.Choices) == 0 {
		return ""
	}
	return c.Choices[0].Delta.ReasoningContent
}

// ChunkChoice is one choice's part of a chunk. Kimi puts Usage here on the
// final chunk of each choice.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Usage        *Usage          `json:"usage,omitempty"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Delta is the increment of a streamed message.
type Delta struct {
	Role             Role       `json:"role,omitempty"`
	Content          string     `json:"content,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// Model is an entry of GET /models. Both the 2024 fields and the 2026
// capability fields are decoded; unknown fields are kept in Extra.
type Model struct {
	ID                string `json:"id"`
	Object            string `json:"object"`
	Created           int64  `json:"created,omitempty"`
	OwnedBy           string `json:"owned_by,omitempty"`
	Root              string `json:"root,omitempty"`
	Parent            string `json:"parent,omitempty"`
	ContextLength     int    `json:"context_length,omitempty"`
	SupportsImageIn   bool   `json:"supports_image_in,omitempty"`
	SupportsVideoIn   bool   `json:"supports_video_in,omitempty"`
	SupportsReasoning bool   `json:"supports_reasoning,omitempty"`
	DisplayName       string `json:"display_name,omitempty"`
	// SupportsThinkingType is "only" (always thinks), "both" (thinking
	// can be turned off) or "no"; it wins over SupportsReasoning.
	SupportsThinkingType string `json:"supports_thinking_type,omitempty"`
	// SupportsToolUse is nil when the server does not say, which means
	// the model takes tools.
	SupportsToolUse *bool `json:"supports_tool_use,omitempty"`
	// ThinkEfforts are the values of reasoning_effort the model takes.
	ThinkEfforts *ThinkEfforts `json:"think_efforts,omitempty"`

	Permission []json.RawMessage          `json:"permission,omitempty"`
	Extra      map[string]json.RawMessage `json:"-"`
}

var modelFields = jsonFieldNames(Model{})

// ThinkEfforts is the think_efforts of a model in GET /models: ignored
// unless Support is true.
type ThinkEfforts struct {
	Support       bool     `json:"support"`
	ValidEfforts  []string `json:"valid_efforts,omitempty"`
	DefaultEffort string   `json:"default_effort,omitempty"`
}

// UnmarshalJSON keeps unknown fields in Extra.
func (m *Model) UnmarshalJSON(data []byte) error {
	type plain Model
	if err := json.Unmarshal(data, (*plain)(m)); err != nil {
		return err
	}
	extra, err := unknownFields(data, modelFields)
	m.Extra = extra
	return err
}

// ModelList is the body of GET /models.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// VideoPart returns a video_url content part.
func VideoPart(url string) ContentPart {
	return ContentPart{Type: "video_url", VideoURL: &MediaURL{URL: url}}
}

// DataURL returns data as a base64 data: URL of the given media type
// ("image/png"), for ImagePart and VideoPart. Kimi decodes the image and
// video types in catalog.ImageTypes and catalog.VideoTypes; for large
// files upload them instead (purpose "image" or "video") and use FileURL.
func DataURL(mediaType string, data []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// FileURL returns the ms://<file_id> reference of a file uploaded with
// purpose "image" or "video", for ImagePart and VideoPart.
func FileURL(fileID string) string { return "ms://" + fileID }

// TokenLogprob is the log probability of one generated token, with the
// most likely alternatives when the request set TopLogprobs.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes,omitempty"`
	TopLogprobs []TopLogprob `json:"top_logprobs,omitempty"`
}

// TopLogprob is one alternative of a TokenLogprob.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes,omitempty"`
}

// LogprobTokens decodes a choice's logprobs ({"content":[...]}, as
// OpenAI's API shapes them): nil when there are none. Logprobs of
// another shape give an error wrapping ErrBadResponse.
func LogprobTokens(raw json.RawMessage) ([]TokenLogprob, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var lp struct {
		Content []TokenLogprob `json:"content"`
	}
	if err := json.Unmarshal(raw, &lp); err != nil {
		return nil, fmt.Errorf("%w: logprobs: %w", ErrBadResponse, err)
	}
	return lp.Content, nil
}

// Tokens returns the choice's logprobs, decoded (see LogprobTokens).
func (c Choice) Tokens() ([]TokenLogprob, error) { return LogprobTokens(c.Logprobs) }

// Tokens returns the chunk choice's logprobs, decoded (see LogprobTokens).
func (c ChunkChoice) Tokens() ([]TokenLogprob, error) { return LogprobTokens(c.Logprobs) }
