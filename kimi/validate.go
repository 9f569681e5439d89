package kimi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/onesdk-go/onesdk/catalog"
)

// Family is a group of models that share parameter rules; the rules are
// in package catalog (Family.Rules).
type Family = catalog.Family

// Model families, from package catalog. FamilyUnknown, the family of a
// model the catalogue does not know, gets only the generic checks, so such
// a model is never rejected for family reasons.
const (
	FamilyUnknown         Family = ""
	FamilyMoonshotV1             = catalog.FamilyMoonshotV1
	FamilyKimiLatest             = catalog.FamilyKimiLatest
	FamilyThinkingPreview        = catalog.FamilyThinkingPreview
	FamilyK2                     = catalog.FamilyK2
	FamilyK2Thinking             = catalog.FamilyK2Thinking
	FamilyK25                    = catalog.FamilyK25
	FamilyK26                    = catalog.FamilyK26
	FamilyK27                    = catalog.FamilyK27
	FamilyK3                     = catalog.FamilyK3
)

// ModelFamily returns the family of a model id as package catalog lists
// it (case ignored, a "vendor/" prefix as some gateways use ignored), or
// FamilyUnknown for a model the catalogue does not know.
func ModelFamily(model string) Family {
	if m, ok := catalog.Lookup(model); ok {
		return m.Family
	}
	return FamilyUnknown
}

// Limits Kimi enforces on a chat request.
const (
	MaxN           = 5
	MaxStops       = 5
	MaxStopBytes   = 32
	MaxTools       = 128
	MaxPenalty     = 2.0
	MinTemperature = 0.0
	MaxTemperature = 1.0
	// NearZeroTemperature: Kimi rejects n > 1 when temperature is "very
	// close to 0"; its docs use 0.001 as the example, so a temperature
	// below 0.001 (or a family default of 0, as on moonshot-v1) with n > 1
	// is refused here. The exact server threshold is not documented.
	NearZeroTemperature = 0.001
)

func invalid(field string, value any, limit string, args ...any) *ValidationError {
	if len(args) > 0 {
		limit = fmt.Sprintf(limit, args...)
	}
	return &ValidationError{Field: field, Value: value, Limit: limit}
}

// Validate checks r against the limits Kimi enforces, so that a bad
// request fails fast without costing a call (or RPM). The first problem is
// returned as a *ValidationError. Rules that depend on the model follow
// its family's rules in package catalog: fixed sampling (kimi-k2.5 to
// kimi-k2.7: temperature 1.0 with thinking, 0.6 without; top_p 0.95; n 1;
// penalties 0; kimi-k3: temperature 1; other values are refused, the
// fixed value itself is allowed), thinking that cannot be turned off
// (kimi-k2.7, kimi-k3), thinking.keep (refused on kimi-k2.5, "all" only
// on kimi-k2.7), reasoning_effort values (kimi-k3), tool_choice with
// thinking on, the media a model takes, n > 1 with a temperature near
// zero (moonshot-v1 defaults to 0), and explicit context caches only on
// moonshot-v1 models. A model the catalogue does not know gets only the
// generic checks (ranges, counts, sizes, message structure); Chat.Create
// and Chat.Stream first ask the server's GET /models about it (see
// Config.NoModelDiscovery), and Config.SkipModelChecks makes them treat
// every model as unknown.
func (r *ChatRequest) Validate() error {
	if r == nil {
		return invalid("request", nil, "must not be nil")
	}
	return r.validate(catalogueRules(r.Model))
}

// validate is Validate against the given rules of r.Model.
func (r *ChatRequest) validate(mr modelRules) error {
	if r == nil {
		return invalid("request", nil, "must not be nil")
	}
	if strings.TrimSpace(r.Model) == "" {
		return invalid("model", r.Model, "must not be empty")
	}
	thinking := mr.thinks(r.Thinking)

	if err := r.validateSampling(mr, thinking); err != nil {
		return err
	}
	if err := validateStop(r.Stop); err != nil {
		return err
	}
	if err := r.validateTools(mr, thinking); err != nil {
		return err
	}
	if err := validateResponseFormat(r.ResponseFormat); err != nil {
		return err
	}
	if err := r.validateThinking(mr); err != nil {
		return err
	}
	if err := validateMessages(r.Messages, mr); err != nil {
		return err
	}
	if err := r.validateCacheUse(mr); err != nil {
		return err
	}
	for k := range r.Extra {
		if chatRequestFields[k] || k == "stop" {
			return invalid("extra."+k, nil, "repeats a typed field of ChatRequest; set the field instead")
		}
	}
	return nil
}

func (r *ChatRequest) validateSampling(mr modelRules, thinking bool) error {
	for _, f := range []struct {
		name string
		v    *int
	}{{"max_tokens", r.MaxTokens}, {"max_completion_tokens", r.MaxCompletionTokens}} {
		if f.v != nil && *f.v < 1 {
			return invalid(f.name, *f.v, "must be at least 1")
		}
	}
	if t := r.Temperature; t != nil && !(*t >= MinTemperature && *t <= MaxTemperature) {
		return invalid("temperature", *t, "must be within [0, 1]")
	}
	if p := r.TopP; p != nil && !(*p >= 0 && *p <= 1) {
		return invalid("top_p", *p, "must be within [0, 1]")
	}
	if n := r.N; n != nil && (*n < 1 || *n > MaxN) {
		return invalid("n", *n, "must be within [1, %d]", MaxN)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"presence_penalty", r.PresencePenalty}, {"frequency_penalty", r.FrequencyPenalty}} {
		if f.v != nil && !(*f.v >= -MaxPenalty && *f.v <= MaxPenalty) {
			return invalid(f.name, *f.v, "must be within [-2, 2]")
		}
	}
	if r.TopLogprobs != nil && (*r.TopLogprobs < 0 || *r.TopLogprobs > 20) {
		return invalid("top_logprobs", *r.TopLogprobs, "must be within [0, 20]")
	}

	rules, known := mr.rules, mr.known
	if known && rules.Fixed != 0 {
		want := rules.DefaultTemperature(thinking)
		if t := r.Temperature; t != nil && *t != want && rules.Fixed.Has(catalog.ParamTemperature) {
			if rules.Thinking == catalog.ThinkingDefaultOn {
				return invalid("temperature", *t, "is fixed at %g for %s with thinking %s; leave it unset", want, r.Model, onOff(thinking))
			}
			return invalid("temperature", *t, "is fixed at %g for %s; leave it unset", want, r.Model)
		}
		if p := r.TopP; p != nil && *p != rules.TopP && rules.Fixed.Has(catalog.ParamTopP) {
			return invalid("top_p", *p, "is fixed at %g for %s; leave it unset", rules.TopP, r.Model)
		}
		if n := r.N; n != nil && *n != 1 && rules.Fixed.Has(catalog.ParamN) {
			return invalid("n", *n, "is fixed at 1 for %s; leave it unset", r.Model)
		}
		if p := r.PresencePenalty; p != nil && *p != 0 && rules.Fixed.Has(catalog.ParamPenalties) {
			return invalid("presence_penalty", *p, "is fixed at 0 for %s; leave it unset", r.Model)
		}
		if p := r.FrequencyPenalty; p != nil && *p != 0 && rules.Fixed.Has(catalog.ParamPenalties) {
			return invalid("frequency_penalty", *p, "is fixed at 0 for %s; leave it unset", r.Model)
		}
	}

	if r.N != nil && *r.N > 1 {
		temp := rules.DefaultTemperature(thinking)
		known = known && temp >= 0 // rules learned from the server give no defaults
		if r.Temperature != nil {
			temp, known = *r.Temperature, true
		}
		if known && temp < NearZeroTemperature {
			return invalid("n", *r.N, "must be 1 when temperature is below %g (temperature is %g)", NearZeroTemperature, temp)
		}
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func validateStop(stop []string) error {
	if len(stop) > MaxStops {
		return invalid("stop", len(stop), "must hold at most %d strings", MaxStops)
	}
	for i, s := range stop {
		field := fmt.Sprintf("stop[%d]", i)
		if s == "" {
			return invalid(field, s, "must not be empty")
		}
		if len(s) > MaxStopBytes {
			return invalid(field, s, "must be at most %d bytes (is %d)", MaxStopBytes, len(s))
		}
	}
	return nil
}

func (r *ChatRequest) validateTools(mr modelRules, thinking bool) error {
	if len(r.Tools) > MaxTools {
		return invalid("tools", len(r.Tools), "must hold at most %d tools", MaxTools)
	}
	if len(r.Tools) > 0 && mr.known && !mr.rules.Tools {
		return invalid("tools", len(r.Tools), "%s takes no tools (per %s)", r.Model, mr.from)
	}
	seen := make(map[string]bool, len(r.Tools))
	for i, t := range r.Tools {
		field := fmt.Sprintf("tools[%d]", i)
		name := t.Function.Name
		switch t.Type {
		case ToolTypeFunction:
			if !validFunctionName(name) {
				return invalid(field+".function.name", name, "must match %s", functionNamePattern)
			}
			if p := bytes.TrimSpace(t.Function.Parameters); len(p) > 0 {
				var obj map[string]json.RawMessage
				if p[0] != '{' || json.Unmarshal(p, &obj) != nil {
					return invalid(field+".function.parameters", string(p), "must be a JSON schema whose root is an object")
				}
			}
		case ToolTypeBuiltinFunction:
			if len(name) < 2 || name[0] != '$' {
				return invalid(field+".function.name", name, "a builtin function's name starts with $, such as %s", WebSearchToolName)
			}
		default:
			return invalid(field+".type", t.Type, "must be %q or %q", ToolTypeFunction, ToolTypeBuiltinFunction)
		}
		if seen[name] {
			return invalid(field+".function.name", name, "is duplicated; tool names must be unique")
		}
		seen[name] = true
	}
	if tc := r.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			if tc.Mode != "" {
				return invalid("tool_choice", tc.Mode, "set either Mode or Function, not both")
			}
			if !seen[tc.Function] && !usesCacheMessage(r.Messages) { // a cache brings its own tools
				return invalid("tool_choice.function.name", tc.Function, "must name one of the request's tools")
			}
			if thinking {
				return invalid("tool_choice", tc.Function, "a specified function is incompatible with thinking enabled; use \"auto\" or \"none\"")
			}
		case tc.Mode == "none" || tc.Mode == "auto":
		case tc.Mode == "required":
			if thinking && !mr.rules.RequiredWhileThinking {
				return invalid("tool_choice", tc.Mode, "\"required\" is incompatible with thinking enabled; use \"auto\" or \"none\"")
			}
		default:
			return invalid("tool_choice", tc.Mode, "must be \"none\", \"auto\", \"required\" or a function name")
		}
	}
	return nil
}

func validateResponseFormat(f *ResponseFormat) error {
	if f == nil {
		return nil
	}
	switch f.Type {
	case "text", "json_object":
	case "json_schema":
		s := f.JSONSchema
		if s == nil {
			return invalid("response_format.json_schema", nil, "is required when type is json_schema")
		}
		if s.Name == "" {
			return invalid("response_format.json_schema.name", s.Name, "must not be empty")
		}
		var obj map[string]json.RawMessage
		if sc := bytes.TrimSpace(s.Schema); len(sc) == 0 || sc[0] != '{' || json.Unmarshal(sc, &obj) != nil {
			return invalid("response_format.json_schema.schema", string(s.Schema), "must be a JSON object")
		}
	default:
		return invalid("response_format.type", f.Type, "must be \"text\", \"json_object\" or \"json_schema\"")
	}
	return nil
}

func (r *ChatRequest) validateThinking(mr modelRules) error {
	if e := r.ReasoningEffort; e != "" && mr.known && len(mr.rules.Efforts) > 0 && !slices.Contains(mr.rules.Efforts, e) {
		return invalid("reasoning_effort", e, "must be one of %s for %s", strings.Join(mr.rules.Efforts, ", "), r.Model)
	}
	t := r.Thinking
	if t == nil {
		return nil
	}
	if t.Type != "enabled" && t.Type != "disabled" {
		return invalid("thinking.type", t.Type, "must be \"enabled\" or \"disabled\"")
	}
	if t.Keep != "" && t.Keep != "all" {
		return invalid("thinking.keep", t.Keep, "must be \"all\" or empty")
	}
	if !mr.known {
		return nil
	}
	if t.Type == "disabled" && mr.rules.Thinking == catalog.ThinkingForced {
		return invalid("thinking.type", t.Type, "%s always thinks; only \"enabled\" is allowed", r.Model)
	}
	if t.Keep != "" && mr.rules.Keep == catalog.KeepRefused {
		return invalid("thinking.keep", t.Keep, "is not supported by %s (Preserved Thinking is for %s); leave it empty", r.Model, keepModels())
	}
	return nil
}

// keepModels names the current models that take thinking.keep.
func keepModels() string {
	return strings.Join(catalog.Current(func(_ catalog.Model, r catalog.Rules) bool {
		return r.Keep == catalog.KeepOptional || r.Keep == catalog.KeepAlways
	}), ", ")
}

var knownRoles = map[Role]bool{RoleSystem: true, RoleUser: true, RoleAssistant: true, RoleTool: true, RoleCache: true}

func validateMessages(msgs []Message, mr modelRules) error {
	if len(msgs) == 0 {
		return invalid("messages", nil, "must hold at least one message")
	}
	// pending holds the unanswered tool call ids of the assistant message
	// at callAt: the tool messages right after it must answer each once.
	var pending map[string]bool
	callAt := -1
	openCalls := false // tool messages answer calls hidden in a cache
	closeBlock := func() error {
		for id := range pending {
			return invalid(fmt.Sprintf("messages[%d].tool_calls", callAt), id, "has no tool message answering it; one must follow the assistant message")
		}
		pending, callAt, openCalls = nil, -1, false
		return nil
	}
	for i, m := range msgs {
		field := fmt.Sprintf("messages[%d]", i)
		if !knownRoles[m.Role] {
			return invalid(field+".role", string(m.Role), "must be one of system, user, assistant, tool, cache")
		}
		if m.Role != RoleTool {
			if err := closeBlock(); err != nil {
				return err
			}
		}
		switch m.Role {
		case RoleSystem, RoleUser:
			if err := validateContent(field, m); err != nil {
				return err
			}
			if err := validateMedia(field, m.Parts, mr); err != nil {
				return err
			}
		case RoleCache:
			if i != 0 {
				return invalid(field+".role", string(m.Role), "a cache message must be the first message (and there can be only one)")
			}
			if m.Parts != nil {
				return invalid(field+".content", nil, "a cache message's content must be a string; build it with CacheMessage")
			}
			if _, err := parseCacheRef(field+".content", m.Content); err != nil {
				return err
			}
			if len(m.ToolCalls) > 0 || m.ToolCallID != "" || m.Name != "" {
				return invalid(field, nil, "a cache message carries only its content; build it with CacheMessage")
			}
			// The cached messages may end with tool calls that the
			// tool messages right after the reference answer: their ids
			// are unknown here.
			if i+1 < len(msgs) && msgs[i+1].Role == RoleTool {
				pending, callAt, openCalls = map[string]bool{}, i, true
			}
		case RoleAssistant:
			if len(m.ToolCalls) == 0 && !m.Partial && contentEmpty(m) {
				return invalid(field+".content", m.Content, "must not be empty for an assistant message without tool_calls")
			}
			if m.Parts != nil {
				if err := validateParts(field, m.Parts); err != nil {
					return err
				}
			}
			if len(m.ToolCalls) > 0 {
				pending, callAt = make(map[string]bool, len(m.ToolCalls)), i
				for j, tc := range m.ToolCalls {
					tf := fmt.Sprintf("%s.tool_calls[%d]", field, j)
					if tc.ID == "" {
						return invalid(tf+".id", tc.ID, "must not be empty; echo the id the API returned")
					}
					if tc.Function.Name == "" {
						return invalid(tf+".function.name", tc.Function.Name, "must not be empty")
					}
					if pending[tc.ID] {
						return invalid(tf+".id", tc.ID, "is duplicated within the message")
					}
					pending[tc.ID] = true
				}
			}
		case RoleTool:
			if m.ToolCallID == "" {
				return invalid(field+".tool_call_id", m.ToolCallID, "must not be empty on a tool message")
			}
			if !pending[m.ToolCallID] && !openCalls {
				return invalid(field+".tool_call_id", m.ToolCallID, "must answer an unanswered tool call of the assistant message right before the tool messages")
			}
			delete(pending, m.ToolCallID)
			if err := validateContent(field, m); err != nil {
				return err
			}
			if err := validateMedia(field, m.Parts, mr); err != nil {
				return err
			}
		}
		if m.Partial {
			if m.Role != RoleAssistant {
				return invalid(field+".partial", true, "is allowed only on an assistant message")
			}
			if i != len(msgs)-1 {
				return invalid(field+".partial", true, "is allowed only on the last message")
			}
		}
		for k := range m.Extra {
			if messageFields[k] {
				return invalid(field+".extra."+k, nil, "repeats a typed field of Message; set the field instead")
			}
		}
	}
	return closeBlock()
}

// contentEmpty reports whether m carries no content at all: no text and
// no parts.
func contentEmpty(m Message) bool {
	return m.Parts == nil && m.Content == "" || m.Parts != nil && len(m.Parts) == 0
}

func validateContent(field string, m Message) error {
	if m.Parts == nil {
		if m.Content == "" {
			return invalid(field+".content", m.Content, "must not be empty for a %s message", m.Role)
		}
		return nil
	}
	if len(m.Parts) == 0 {
		return invalid(field+".content", nil, "must not be an empty parts list")
	}
	return validateParts(field, m.Parts)
}

// validateMedia checks the media parts of a message against what the
// platform fetches (data: URLs and ms://<file_id> references, not http(s)
// URLs), the image types it decodes and the media the model takes. Like
// every rule learned from the platform's current behaviour it applies to
// models whose rules are known, so that SkipModelChecks lets through
// whatever the platform may come to accept.
func validateMedia(field string, parts []ContentPart, mr modelRules) error {
	if !mr.known {
		return nil
	}
	for j, p := range parts {
		pf := fmt.Sprintf("%s.content[%d]", field, j)
		var u string
		video := false
		switch {
		case p.Type == "image_url" && p.ImageURL != nil:
			pf, u = pf+".image_url", p.ImageURL.URL
		case p.Type == "video_url" && p.VideoURL != nil:
			pf, u, video = pf+".video_url", p.VideoURL.URL, true
		default:
			continue
		}
		kind := "image"
		if video {
			kind = "video"
		}
		if mr.inputs && (video && !mr.video || !video && !mr.image) {
			return invalid(pf, kind, "%s takes no %s input (per %s)", mr.id, kind, mr.from)
		}
		switch scheme, rest, _ := strings.Cut(u, ":"); strings.ToLower(scheme) {
		case "ms":
			if !strings.HasPrefix(rest, "//") || len(rest) == 2 {
				return invalid(pf+".url", u, "an ms:// reference is ms://<file_id> (see FileURL)")
			}
		case "data":
			mime, _, _ := strings.Cut(rest, ",")
			mime, _, _ = strings.Cut(mime, ";")
			if isImage, _ := catalog.MediaType(mime); !video && !isImage {
				return invalid(pf+".url", shorten(u, 40), "image type %q is not one Kimi decodes (%s)", mime, strings.Join(catalog.ImageTypes(), ", "))
			}
		case "http", "https":
			return invalid(pf+".url", u, "must be a data: URL or an ms://<file_id> reference: Kimi does not fetch http(s) URLs; upload the file with purpose %q and use FileURL", kind)
		default:
			return invalid(pf+".url", shorten(u, 40), "must be a data: URL or an ms://<file_id> reference")
		}
	}
	return nil
}

// shorten cuts a long value (a data: URL) for an error message.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func validateParts(field string, parts []ContentPart) error {
	for j, p := range parts {
		pf := fmt.Sprintf("%s.content[%d]", field, j)
		switch p.Type {
		case "text":
			if p.Text == "" {
				return invalid(pf+".text", p.Text, "must not be empty")
			}
		case "image_url":
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return invalid(pf+".image_url.url", nil, "must not be empty")
			}
		case "video_url":
			if p.VideoURL == nil || p.VideoURL.URL == "" {
				return invalid(pf+".video_url.url", nil, "must not be empty")
			}
		default:
			return invalid(pf+".type", p.Type, "must be \"text\", \"image_url\" or \"video_url\"")
		}
	}
	return nil
}

// usesCacheMessage reports whether msgs start with a cache reference.
func usesCacheMessage(msgs []Message) bool {
	return len(msgs) > 0 && msgs[0].Role == RoleCache
}

// validateCacheUse checks the rules of a cache message: the request
// carries no tools (the server fills them from the cache; even an empty
// array counts as present, and Tools is left out of the body when empty)
// and the model's family has explicit caches (moonshot-v1 only; an
// unknown model is not judged). The cache headers are call options, which
// ChatService checks.
func (r *ChatRequest) validateCacheUse(mr modelRules) error {
	if !usesCacheMessage(r.Messages) {
		return nil
	}
	if len(r.Tools) > 0 {
		return invalid("tools", len(r.Tools), "must be absent when a cache message is used: the server takes the tools from the cache")
	}
	if rules := mr.rules; mr.known && !rules.ExplicitCache {
		if rules.AutoCache {
			return invalid("model", r.Model, "cannot use a context cache: explicit caches serve only moonshot-v1-* models (%s caches prompt prefixes automatically)", r.Model)
		}
		return invalid("model", r.Model, "cannot use a context cache: explicit caches serve only moonshot-v1-* models")
	}
	return nil
}
