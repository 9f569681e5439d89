package kimitest

import (
	"net/http"

	"github.com/onesdk-go/onesdk/catalog"
)

// Family groups models that share parameter rules, thinking behaviour,
// tool-call id style and automatic caching; the rules are package
// catalog's (Family.Rules).
type Family = catalog.Family

// The families of package catalog, re-exported for ModelSpec literals.
const (
	FamilyMoonshotV1      = catalog.FamilyMoonshotV1      // moonshot-v1-*, incl. vision previews and auto
	FamilyKimiLatest      = catalog.FamilyKimiLatest      // kimi-latest
	FamilyK2              = catalog.FamilyK2              // kimi-k2-*-preview
	FamilyK2Thinking      = catalog.FamilyK2Thinking      // kimi-k2-thinking(-turbo): thinking forced
	FamilyK25             = catalog.FamilyK25             // kimi-k2.5: fixed sampling, thinking on by default
	FamilyThinkingPreview = catalog.FamilyThinkingPreview // kimi-thinking-preview: thinking forced, no tools
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
}

// DefaultModels returns the built-in catalogue: the models package catalog
// lists for Moonshot's platform, retired ones left out. Pass a modified
// copy to WithModels to change it.
func DefaultModels() []ModelSpec {
	var out []ModelSpec
	for _, m := range catalog.ForProvider(catalog.ProviderMoonshot) {
		out = append(out, ModelSpec{ID: m.ID, Family: m.Family, ContextLength: m.ContextWindow,
			Created: m.Created, ImageIn: m.ImageInput, VideoIn: m.VideoInput})
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

// modelObject is a list item carrying both the 2024 and the 2026 fields,
// in the 2024 field order.
type modelObject struct {
	ID                string       `json:"id"`
	Object            string       `json:"object"`
	Created           int64        `json:"created"`
	OwnedBy           string       `json:"owned_by"`
	Root              string       `json:"root"`
	Parent            string       `json:"parent"`
	Permission        []permission `json:"permission"`
	ContextLength     int          `json:"context_length"`
	SupportsImageIn   bool         `json:"supports_image_in"`
	SupportsVideoIn   bool         `json:"supports_video_in"`
	SupportsReasoning bool         `json:"supports_reasoning"`
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
	return modelObject{
		ID: m.ID, Object: "model", Created: m.Created, OwnedBy: "moonshot",
		Permission:        []permission{{Organization: "public", Group: "public"}},
		ContextLength:     m.ContextLength,
		SupportsImageIn:   m.ImageIn,
		SupportsVideoIn:   m.VideoIn,
		SupportsReasoning: rulesFor(m.Family).Thinking != catalog.ThinkingNone,
	}
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

// lookupModel is exact (case-sensitive), like the real API.
func (e *Emulator) lookupModel(id string) (ModelSpec, bool) {
	m, ok := e.models[id]
	return m, ok
}
