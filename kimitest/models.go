package kimitest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/onesdk-go/onesdk/catalog"
)

// Family groups models that share parameter rules, thinking behaviour,
// tool-call id style and automatic caching; the rules are package
// catalog's (Family.Rules).
type Family = catalog.Family

// The families of package catalog, re-exported for ModelSpec literals.
// The first four are the models Moonshot serves in 2026; the others are
// those of retired models (WithRetiredModels) and of Ace Data Cloud's
// kimi-k2-instruct-0905.
const (
	FamilyMoonshotV1      = catalog.FamilyMoonshotV1      // moonshot-v1-*, incl. vision previews and auto
	FamilyK25             = catalog.FamilyK25             // kimi-k2.5: fixed sampling, thinking on by default, no keep
	FamilyK26             = catalog.FamilyK26             // kimi-k2.6: as kimi-k2.5, plus thinking.keep
	FamilyK27             = catalog.FamilyK27             // kimi-k2.7-code(-highspeed): thinking and keep "all" forced
	FamilyK3              = catalog.FamilyK3              // kimi-k3: always reasoning, reasoning_effort
	FamilyKimiLatest      = catalog.FamilyKimiLatest      // kimi-latest (retired)
	FamilyK2              = catalog.FamilyK2              // kimi-k2-*-preview (retired), kimi-k2-instruct-0905 (Ace)
	FamilyK2Thinking      = catalog.FamilyK2Thinking      // kimi-k2-thinking(-turbo): thinking forced (retired; Ace)
	FamilyThinkingPreview = catalog.FamilyThinkingPreview // kimi-thinking-preview: thinking forced, no tools (retired)
)

// ModelSpec is one entry of the emulated catalogue. Its rules are its
// Family's; a family package catalog does not know gets the moonshot-v1
// rules without explicit caching.
type ModelSpec struct {
	ID            string
	Family        Family
	ContextLength int   // tokens, prompt + completion
	Created       int64 // unix seconds, as listed by GET /v1/models
	ImageIn       bool
	VideoIn       bool
	// DisplayName is GET /v1/models' display_name; "" lists the ID.
	DisplayName string
	// DefaultEffort is the reasoning_effort of a request that names none,
	// for a family with efforts (kimi-k3); "" is the family's default.
	// No source gives Moonshot's, hence the setting. New panics on a
	// value the family does not take.
	DefaultEffort string
}

// specOf is the emulated entry of a catalogue model.
func specOf(m catalog.Model) ModelSpec {
	return ModelSpec{ID: m.ID, Family: m.Family, ContextLength: m.ContextWindow,
		Created: m.Created, ImageIn: m.ImageInput, VideoIn: m.VideoInput}
}

// DefaultModels returns the built-in catalogue: the models package catalog
// lists for Moonshot's platform, retired ones left out (WithRetiredModels
// adds them). Pass a modified copy to WithModels to change it.
func DefaultModels() []ModelSpec {
	var out []ModelSpec
	for _, m := range catalog.ForProvider(catalog.ProviderMoonshot) {
		out = append(out, specOf(m))
	}
	return out
}

// RetiredModels returns the models Moonshot has retired (the K2 line,
// kimi-latest, kimi-thinking-preview), which WithRetiredModels serves
// again.
func RetiredModels() []ModelSpec {
	var out []ModelSpec
	for _, m := range catalog.Retired() {
		out = append(out, specOf(m))
	}
	return out
}

// rulesFor returns a family's rules from package catalog. A family it
// does not know (a custom ModelSpec's) is served like plain moonshot-v1:
// default temperature 0, tools, no thinking and no caching.
func rulesFor(f Family) catalog.Rules {
	if r, ok := f.Rules(); ok {
		return r
	}
	r, _ := catalog.FamilyMoonshotV1.Rules()
	r.ExplicitCache = false
	return r
}

// checkDefaultEffort panics on a DefaultEffort the family does not take,
// as a configuration mistake.
func (m ModelSpec) checkDefaultEffort() {
	if m.DefaultEffort == "" {
		return
	}
	if efforts := rulesFor(m.Family).Efforts; !slices.Contains(efforts, m.DefaultEffort) {
		panic(fmt.Sprintf("kimitest: model %q: DefaultEffort %q is not one of its family's efforts %v", m.ID, m.DefaultEffort, efforts))
	}
}

// modelObject is a list item carrying both the 2024 and the 2026 fields,
// the 2024 ones first in their order.
type modelObject struct {
	ID                   string        `json:"id"`
	Object               string        `json:"object"`
	Created              int64         `json:"created"`
	OwnedBy              string        `json:"owned_by"`
	Root                 string        `json:"root"`
	Parent               string        `json:"parent"`
	Permission           []permission  `json:"permission"`
	ContextLength        int           `json:"context_length"`
	SupportsImageIn      bool          `json:"supports_image_in"`
	SupportsVideoIn      bool          `json:"supports_video_in"`
	SupportsReasoning    bool          `json:"supports_reasoning"`
	SupportsToolUse      bool          `json:"supports_tool_use"`
	SupportsThinkingType string        `json:"supports_thinking_type"` // "only", "both" or "no"
	ThinkEfforts         *thinkEfforts `json:"think_efforts,omitempty"`
	DisplayName          string        `json:"display_name"`
}

// thinkEfforts lists the reasoning_effort values of a family that takes
// them; families without are listed without the object.
type thinkEfforts struct {
	Support       bool     `json:"support"`
	ValidEfforts  []string `json:"valid_efforts"`
	DefaultEffort string   `json:"default_effort"`
}

type permission struct {
	Created            int64  `json:"created"`
	ID                 string `json:"id"`
	Object             string `json:"object"`
	AllowCreateEngine  bool   `json:"allow_create_engine"`
	AllowSampling      bool   `json:"allow_sampling"`
	AllowLogprobs      bool   `json:"allow_logprobs"`
	AllowSearchIndices bool   `json:"allow_search_indices"`
	AllowView          bool   `json:"allow_view"`
	AllowFineTuning    bool   `json:"allow_fine_tuning"`
	Organization       string `json:"organization"`
	Group              string `json:"group"`
	IsBlocking         bool   `json:"is_blocking"`
}

func (m ModelSpec) object() modelObject {
	r := rulesFor(m.Family)
	o := modelObject{
		ID: m.ID, Object: "model", Created: m.Created, OwnedBy: "moonshot",
		Permission:           []permission{{Organization: "public", Group: "public"}},
		ContextLength:        m.ContextLength,
		SupportsImageIn:      m.ImageIn,
		SupportsVideoIn:      m.VideoIn,
		SupportsReasoning:    r.Thinking != catalog.ThinkingNone,
		SupportsToolUse:      r.Tools,
		SupportsThinkingType: r.ThinkingType(),
		DisplayName:          cmp.Or(m.DisplayName, m.ID),
	}
	if len(r.Efforts) > 0 {
		o.ThinkEfforts = &thinkEfforts{Support: true, ValidEfforts: slices.Clone(r.Efforts),
			DefaultEffort: cmp.Or(m.DefaultEffort, r.DefaultEffort)}
	}
	return o
}

func (e *Emulator) handleListModels(w http.ResponseWriter, r *http.Request, _ *account) {
	data := make([]modelObject, 0, len(e.modelList))
	for _, m := range e.modelList {
		data = append(data, m.object())
	}
	writeJSON(w, http.StatusOK, listBody(data))
}

// handleGetModel serves GET /v1/models/{id}, which Moonshot does not
// document; it is emulated OpenAI-style.
func (e *Emulator) handleGetModel(w http.ResponseWriter, r *http.Request, _ *account) {
	id := r.PathValue("id")
	m, ok := e.models[id]
	if !ok {
		writeError(w, errModelNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, m.object())
}
