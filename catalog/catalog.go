// Package catalog is the one table of Kimi models this module knows: each
// model's context window, input kinds, family, release date, status and
// the providers that offer it, and each family's rules (thinking,
// default and fixed sampling, tools, caching, tool-call id style). The
// client (package kimi), the emulator (package kimitest) and the CLI all
// read it, so a fact about a model is written down exactly once; adding a
// model is one entry in the table.
//
// The table is an aid, never a wall: a model it does not know is still
// usable. Clients send such a model as is and apply only the checks that
// hold for every model (ranges, counts, sizes), since Moonshot ships new
// models faster than any release of this module.
//
// The package imports only the standard library and exports no mutable
// state: every function returns a fresh copy.
//
// Sources are Moonshot's public docs: the model list at
// https://platform.moonshot.cn/docs/intro, the chat reference at
// https://platform.moonshot.cn/docs/api/chat (parameters and their
// per-model rules), the prices at https://platform.moonshot.ai/docs/pricing/chat
// and context caching at https://platform.moonshot.cn/docs/api/caching.
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
)

// Rules returns the family's rules; ok is false for a family the table
// does not know (including "").
func (f Family) Rules() (r Rules, ok bool) {
	r, ok = familyRules[f]
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
)

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
	// FixedSampling: temperature and top_p are fixed at their defaults,
	// n at 1 and presence_penalty and frequency_penalty at 0. Sending the
	// fixed value is allowed; any other value is refused.
	FixedSampling bool
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
	// Created is the model's "created" in GET /models, in unix seconds;
	// 0 means unknown.
	Created int64
	Status  Status
	// RetiresOn is the retirement date ("YYYY-MM-DD") Moonshot announced
	// or retired the model on; "" when none is known.
	RetiresOn string
	// Providers are the providers that offer the model (ProviderMoonshot,
	// ProviderAceData).
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

// ForProvider returns the models a provider offers today, in table order:
// retired models are left out. name is ProviderMoonshot or
// ProviderAceData, in any case; the facade's aliases ("kimi", "ace") are
// the facade's to resolve. An unknown provider has none.
func ForProvider(name string) []Model {
	p := canonicalProvider(name)
	var out []Model
	for _, m := range models {
		if m.Status != StatusRetired && slices.Contains(m.Providers, p) {
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
