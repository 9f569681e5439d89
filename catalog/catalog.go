// Package catalog is the one table of Kimi models this module knows: each
// model's context window, input kinds, family, release date, status and
// the providers that offer it, and each family's rules (thinking,
// default and fixed sampling, tools, caching, tool-call id style). The
// client (package kimi), the emulator (package kimitest) and the CLI all
// read it, so a fact about a model is written down exactly once; adding a
// model is one entry in the table.
//
// As of December 2026 the current models are kimi-k3 (1,048,576 tokens,
// always reasoning, at reasoning_effort low, high or max), kimi-k2.7-code
// and kimi-k2.7-code-highspeed (always thinking, keeping every earlier
// turn's reasoning), kimi-k2.6 and kimi-k2.5 (thinking unless disabled,
// fixed sampling), and the moonshot-v1 family (with explicit context
// caches). The K2 line (kimi-k2-turbo-preview, kimi-k2-0905-preview,
// kimi-k2-0711-preview, kimi-k2-thinking, kimi-k2-thinking-turbo) was
// retired on 2026-05-25, kimi-latest and kimi-thinking-preview before
// that; Retired lists them.
//
// The table is an aid, never a wall: a model it does not know is still
// usable. Clients send such a model as is and apply only the checks that
// hold for every model (ranges, counts, sizes), since Moonshot ships new
// models faster than any release of this module.
//
// The package imports only the standard library and exports no mutable
// state: every function returns a fresh copy.
//
// Sources are Moonshot's public docs as of December 2026: the model list
// at https://platform.kimi.ai/docs/models, the parameter comparison at
// https://platform.kimi.ai/docs/api/models-overview, the chat reference
// (Moonshot's OpenAPI of 2026) and, for the moonshot-v1 family's
// explicit context caches, which the 2026 docs no longer describe, the
// 2025 page https://platform.moonshot.cn/docs/api/caching. Where the
// sources disagree or say nothing, table.go says what was chosen.
package catalog

import (
	"slices"
	"strconv"
	"strings"
)

// Family groups models that share parameter rules, thinking behaviour,
// tool-call id style and caching. Its value is the name Moonshot's docs
// use for the group; for moonshot-v1 it is also the model name context
// caches are created for.
type Family string

// The families of the table.
const (
	FamilyMoonshotV1      Family = "moonshot-v1"           // moonshot-v1-*, vision previews and auto included
	FamilyKimiLatest      Family = "kimi-latest"           // kimi-latest
	FamilyThinkingPreview Family = "kimi-thinking-preview" // kimi-thinking-preview: thinking forced, no tools
	FamilyK2              Family = "kimi-k2"               // kimi-k2-*-preview and Ace's kimi-k2-instruct-*
	FamilyK2Thinking      Family = "kimi-k2-thinking"      // kimi-k2-thinking(-turbo): thinking forced
	FamilyK25             Family = "kimi-k2.5"             // kimi-k2.5: fixed sampling, thinking on by default
	FamilyK26             Family = "kimi-k2.6"             // kimi-k2.6: as kimi-k2.5, plus thinking.keep
	FamilyK27             Family = "kimi-k2.7"             // kimi-k2.7-code(-highspeed): thinking and keep "all" forced
	FamilyK3              Family = "kimi-k3"               // kimi-k3: always reasoning, reasoning_effort
)

// Rules returns the family's rules; ok is false for a family the table
// does not know (including "").
func (f Family) Rules() (r Rules, ok bool) {
	r, ok = familyRules[f]
	r.Efforts = slices.Clone(r.Efforts) // the table stays the table's
	return r, ok
}

// Thinking is how a family handles the request's thinking parameter.
type Thinking uint8

const (
	// ThinkingNone: no reasoning; the thinking parameter is accepted and
	// ignored.
	ThinkingNone Thinking = iota
	// ThinkingForced: the model always thinks; thinking.type "disabled"
	// is refused.
	ThinkingForced
	// ThinkingDefaultOn: the model thinks unless thinking.type is
	// "disabled".
	ThinkingDefaultOn
)

func (t Thinking) String() string {
	switch t {
	case ThinkingNone:
		return "none"
	case ThinkingForced:
		return "forced"
	case ThinkingDefaultOn:
		return "default-on"
	}
	return "Thinking(" + strconv.Itoa(int(t)) + ")"
}

// ToolCallIDStyle is the form of the tool-call ids a family's models
// return.
type ToolCallIDStyle uint8

const (
	// ToolCallIDPlain ids are "<name>:<index>", such as "get_weather:0".
	ToolCallIDPlain ToolCallIDStyle = iota
	// ToolCallIDQualified ids are "functions.<name>:<index>", such as
	// "functions.get_weather:0".
	ToolCallIDQualified
	// ToolCallIDUnderscore ids are "<name>_<index>", such as
	// "get_weather_0".
	ToolCallIDUnderscore
)

// Keep is how a family treats thinking.keep, which asks the server to
// read the reasoning_content of every earlier assistant turn.
type Keep uint8

const (
	// KeepUndocumented: the docs say nothing; the client sends it as is.
	KeepUndocumented Keep = iota
	// KeepRefused: thinking.keep is refused.
	KeepRefused
	// KeepOptional: null (earlier reasoning ignored) or "all".
	KeepOptional
	// KeepAlways: "all" whether sent or not; any other value is refused.
	KeepAlways
)

// Params is a set of sampling parameters.
type Params uint8

const (
	ParamTemperature Params = 1 << iota
	ParamTopP
	ParamN
	ParamPenalties // presence_penalty and frequency_penalty

	// FixedAll is the fixed sampling of the K2.5 generation: temperature
	// and top_p at their defaults, n at 1, both penalties at 0.
	FixedAll = ParamTemperature | ParamTopP | ParamN | ParamPenalties
)

// Has reports whether every parameter of q is in p.
func (p Params) Has(q Params) bool { return p&q == q }

// Rules are what the models of one family share.
type Rules struct {
	Thinking Thinking
	// Temperature is the temperature the server uses when the request
	// leaves it out; for ThinkingDefaultOn it is the one with thinking
	// on. TemperatureNoThinking is the one with thinking turned off
	// (ThinkingDefaultOn only). See DefaultTemperature.
	Temperature           float64
	TemperatureNoThinking float64
	// TopP is the server's top_p when the request leaves it out.
	TopP float64
	// Fixed are the sampling parameters fixed at their defaults
	// (temperature, top_p), at 1 (n) or at 0 (the penalties). Sending the
	// fixed value is allowed; any other value is refused.
	Fixed Params
	// Keep is how thinking.keep is treated.
	Keep Keep
	// Efforts are the values of the top-level reasoning_effort the
	// models take, in increasing order; none when they take none.
	// DefaultEffort is the one used when the request names none.
	Efforts       []string
	DefaultEffort string
	// RequiredWhileThinking: tool_choice "required" is accepted with
	// thinking on (elsewhere it is refused while thinking).
	RequiredWhileThinking bool
	// DefaultMaxTokens is the server's max_tokens when the request
	// leaves it out; 0 means it is not documented.
	DefaultMaxTokens int
	// Tools: the models accept tools (function calling).
	Tools bool
	// AutoCache: the server caches prompt prefixes by itself and reports
	// cached_tokens in the usage.
	AutoCache bool
	// ExplicitCache: chat requests may use an explicit context cache (a
	// first "cache" message). Such caches are created for the family
	// name; see CacheFamily.
	ExplicitCache bool
	ToolCallIDs   ToolCallIDStyle
}

// ThinkingType is the family's thinking as GET /models reports it in
// supports_thinking_type: "only", "both" or "no".
func (r Rules) ThinkingType() string {
	switch r.Thinking {
	case ThinkingForced:
		return "only"
	case ThinkingDefaultOn:
		return "both"
	}
	return "no"
}

// DefaultTemperature is the server's temperature when the request leaves
// it out, given whether the request runs with thinking on.
func (r Rules) DefaultTemperature(thinking bool) float64 {
	if !thinking && r.Thinking == ThinkingDefaultOn {
		return r.TemperatureNoThinking
	}
	return r.Temperature
}

// Thinks reports whether a request runs with thinking on, given its
// thinking.type ("" when the parameter is absent): never for
// ThinkingNone, always for ThinkingForced, and unless "disabled" for
// ThinkingDefaultOn.
func (r Rules) Thinks(thinkingType string) bool {
	switch r.Thinking {
	case ThinkingForced:
		return true
	case ThinkingDefaultOn:
		return thinkingType != "disabled"
	}
	return false
}

// Status is where a model is in its life.
type Status string

const (
	StatusActive     Status = "active"
	StatusPreview    Status = "preview"    // offered, but may change or go without the usual notice
	StatusDeprecated Status = "deprecated" // still served; a retirement is announced (Model.RetiresOn)
	StatusRetired    Status = "retired"    // no longer served
)

// Providers, by the names ForProvider takes.
const (
	ProviderMoonshot = "moonshot" // Moonshot's own platform (api.moonshot.cn, api.moonshot.ai)
	ProviderAceData  = "acedata"  // Ace Data Cloud's re-sold Kimi endpoint
)

// Model is one model of the table. Its family's rules are in
// Family.Rules.
type Model struct {
	ID     string
	Family Family
	// ContextWindow is prompt plus completion, in tokens; 0 means
	// unknown. For moonshot-v1-auto, which routes a request to the 8k,
	// 32k or 128k model by its size, it is the largest window.
	ContextWindow int
	ImageInput    bool // accepts image_url content parts
	VideoInput    bool // accepts video_url content parts
	// ExplicitCache: a context cache can be created with this model's
	// name standing for its family (CacheFamily accepts it). Only the
	// moonshot-v1 text models; the vision models can use such caches but
	// not name them.
	ExplicitCache bool
	// Batch: the Batch API takes the model (on Moonshot's platform; the
	// 2026 batch guide names kimi-k2.6 and kimi-k2.5, and says nothing of
	// kimi-k3 or kimi-k2.7).
	Batch bool
	// Created is the model's "created" in GET /models, in unix seconds;
	// 0 means unknown.
	Created int64
	Status  Status
	// RetiresOn is the retirement date ("YYYY-MM-DD") Moonshot announced
	// or retired the model on; "" when none is known.
	RetiresOn string
	// Providers are the providers that offer the model today
	// (ProviderMoonshot, ProviderAceData); Status and RetiresOn are its
	// life on Moonshot's platform, so a model Moonshot retired may still
	// be offered elsewhere.
	Providers []string
}

// Rules returns the rules of the model's family; ok is false when the
// family is unknown.
func (m Model) Rules() (Rules, bool) { return m.Family.Rules() }

// OfferedBy reports whether the provider (a name ForProvider takes)
// offers the model.
func (m Model) OfferedBy(provider string) bool {
	return slices.Contains(m.Providers, canonicalProvider(provider))
}

func (m Model) clone() Model {
	m.Providers = slices.Clone(m.Providers)
	return m
}

// Retired returns the models Moonshot has retired, in table order: what
// an emulator may serve again for old test suites.
func Retired() []Model {
	var out []Model
	for _, m := range models {
		if m.Status == StatusRetired {
			out = append(out, m.clone())
		}
	}
	return out
}

var byID = func() map[string]int {
	idx := make(map[string]int, len(models))
	for i, m := range models {
		idx[strings.ToLower(m.ID)] = i
	}
	return idx
}()

// Models returns every model of the table, retired ones included, in
// table order. The slice is a fresh copy.
func Models() []Model {
	out := make([]Model, len(models))
	for i, m := range models {
		out[i] = m.clone()
	}
	return out
}

// normalize lower-cases id, trims it and drops a "vendor/" prefix, as
// gateways spell ids ("moonshotai/kimi-k2.5").
func normalize(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	return id
}

// Lookup finds a model by id, ignoring case and a "vendor/" prefix.
func Lookup(id string) (Model, bool) {
	i, ok := byID[normalize(id)]
	if !ok {
		return Model{}, false
	}
	return models[i].clone(), true
}

// canonicalProvider lets a provider name be written in any case.
func canonicalProvider(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// ForProvider returns the models a provider offers today, in table order.
// name is ProviderMoonshot or
// ProviderAceData, in any case; the facade's aliases ("kimi", "ace") are
// the facade's to resolve. An unknown provider has none.
func ForProvider(name string) []Model {
	p := canonicalProvider(name)
	var out []Model
	for _, m := range models {
		if slices.Contains(m.Providers, p) {
			out = append(out, m.clone())
		}
	}
	return out
}

// CacheFamily maps the model argument of a context-cache creation to the
// model name Moonshot's /caching accepts: "" and a family with explicit
// caches ("moonshot-v1") stand for themselves, and a model with
// ExplicitCache (moonshot-v1-8k, -32k, -128k, -auto) stands for its
// family, since the API refuses the sized names with "model family is
// invalid" while a cache of the family serves all of them. Any other
// model, the vision previews included, is not ok; CacheRefusal says why.
func CacheFamily(model string) (family string, ok bool) {
	id := normalize(model)
	if id == "" {
		id = string(FamilyMoonshotV1)
	}
	if r, known := Family(id).Rules(); known && r.ExplicitCache {
		return id, true
	}
	if m, known := Lookup(id); known && m.ExplicitCache {
		return string(m.Family), true
	}
	return "", false
}

// CacheRefusal returns why CacheFamily refuses model, as a phrase that
// follows the model's name ("" when CacheFamily accepts it).
func CacheRefusal(model string) string {
	if _, ok := CacheFamily(model); ok {
		return ""
	}
	var names []string
	for _, m := range models {
		if m.ExplicitCache && m.Status != StatusRetired {
			names = append(names, m.ID)
		}
	}
	fam := string(FamilyMoonshotV1)
	if m, ok := Lookup(model); ok {
		if r, _ := m.Rules(); r.ExplicitCache {
			return "cannot name a context cache: create the cache for the family " + quote(fam) +
				" (or one of " + strings.Join(names, ", ") + ") and use it with " + m.ID
		}
		if r, _ := m.Rules(); r.AutoCache {
			return "has no explicit context caches: only the " + fam + " family has (pass " + quote(fam) +
				" or one of " + strings.Join(names, ", ") + "); " + m.ID + " caches prompt prefixes automatically"
		}
	}
	return "has no explicit context caches: only the " + fam + " family has; pass " + quote(fam) +
		" or one of " + strings.Join(names, ", ")
}

func quote(s string) string { return `"` + s + `"` }

// DocumentQAModels returns the candidate models of document Q&A, smallest
// (and cheapest) context window first: moonshot-v1-8k, -32k and -128k.
// The slice is a fresh copy.
func DocumentQAModels() []string { return slices.Clone(documentQA) }

// Current returns the ids of the models that are not retired and for
// which keep is true, in table order; rules are the model's family's
// (zero for a family without rules). It is how text that names "the
// models that …" stays true when the table changes.
func Current(keep func(m Model, rules Rules) bool) []string {
	var ids []string
	for _, m := range models {
		if m.Status == StatusRetired {
			continue
		}
		if r, _ := m.Rules(); keep(m, r) {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// BatchModels are the ids of the current models the Batch API takes,
// in the table's order.
func BatchModels() []string {
	return Current(func(m Model, _ Rules) bool { return m.Batch })
}

// ProviderRules are what a provider changes in the table's rules.
type ProviderRules struct {
	// IgnoresFixedSampling: the provider's gateway drops a fixed sampling
	// parameter rather than pass it on to be refused, so a client must
	// not refuse it either.
	IgnoresFixedSampling bool
	// MaxTokensField is the request field that carries the answer budget:
	// "max_completion_tokens" where the provider prefers it to the
	// deprecated "max_tokens", else "max_tokens".
	MaxTokensField string
	// DefaultModel is the model to use when a user names none: a current
	// general model the provider offers.
	DefaultModel string
	// DefaultCacheModel is the model to ask against an explicit context
	// cache when a user names none: the largest window of the family
	// with explicit caches, which holds the cache and the question. ""
	// for a provider without explicit caches.
	DefaultCacheModel string
}

// RulesFor returns a provider's rules; an unknown provider has Moonshot's.
func RulesFor(provider string) ProviderRules {
	if r, ok := providerRules[canonicalProvider(provider)]; ok {
		return r
	}
	return providerRules[ProviderMoonshot]
}

// Media types the platform takes in data: URLs and uploads of purpose
// image or video, as Kimi's vision guide of 2026 lists the formats (png,
// jpeg, webp, gif; mp4, mpeg, mov, avi, flv, mpg, webm, wmv, 3gpp); any
// other image type is refused as "unsupported image format".
var (
	imageTypes = []string{"image/png", "image/jpeg", "image/webp", "image/gif"}
	videoTypes = []string{"video/mp4", "video/mpeg", "video/quicktime", "video/x-msvideo", "video/x-flv",
		"video/mpg", "video/webm", "video/x-ms-wmv", "video/3gpp"}
)

// ImageTypes returns the image media types the platform takes.
func ImageTypes() []string { return slices.Clone(imageTypes) }

// VideoTypes returns the video media types the platform takes.
func VideoTypes() []string { return slices.Clone(videoTypes) }

// MediaType reports whether mime (case ignored, parameters dropped) is
// an image or video type the platform takes.
func MediaType(mime string) (image, video bool) {
	mime, _, _ = strings.Cut(strings.ToLower(strings.TrimSpace(mime)), ";")
	return slices.Contains(imageTypes, mime), slices.Contains(videoTypes, mime)
}
