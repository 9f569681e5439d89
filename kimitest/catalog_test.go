package kimitest

import (
	"slices"
	"testing"

	"github.com/onesdk-go/onesdk/catalog"
)

// TestModelsFromCatalogue checks that the emulated model list is package
// catalog's Moonshot list, with its windows, input kinds and reasoning.
func TestModelsFromCatalogue(t *testing.T) {
	srv := setup(t)
	listed := listOf[modelObject](t, srv, "/v1/models")
	want := catalog.ForProvider(catalog.ProviderMoonshot)
	if len(listed) != len(want) {
		t.Fatalf("%d models listed, the catalogue has %d", len(listed), len(want))
	}
	for i, m := range want {
		got := listed[i]
		rules, _ := m.Rules()
		if got.ID != m.ID || got.ContextLength != m.ContextWindow || got.Created != m.Created ||
			got.SupportsImageIn != m.ImageInput || got.SupportsVideoIn != m.VideoInput ||
			got.SupportsReasoning != (rules.Thinking != catalog.ThinkingNone) ||
			got.SupportsToolUse != rules.Tools || got.SupportsThinkingType != rules.ThinkingType() ||
			(got.ThinkEfforts != nil) != (len(rules.Efforts) > 0) {
			t.Errorf("listed %+v, catalogue %+v", got, m)
		}
		if e := got.ThinkEfforts; e != nil && (!e.Support || !slices.Equal(e.ValidEfforts, rules.Efforts) || e.DefaultEffort != rules.DefaultEffort) {
			t.Errorf("%s: think_efforts %+v, rules %+v", m.ID, e, rules)
		}
	}
}

// TestAceModelsFromCatalogue checks that the Ace route takes the models
// package catalog lists for Ace, an Ace-only id included.
func TestAceModelsFromCatalogue(t *testing.T) {
	var want []string
	for _, m := range catalog.ForProvider("acedata") {
		want = append(want, m.ID)
	}
	if got := AceModels(); !slices.Equal(got, want) || !slices.Contains(got, "kimi-k2-instruct-0905") {
		t.Errorf("AceModels() = %v, want %v", got, want)
	}
	srv := setup(t)
	r := ktDo(t, srv, "POST", "/kimi/chat/completions", map[string]any{"model": "kimi-k2-instruct-0905", "messages": msgs(user("hi"))})
	if c := decodeChat(t, r); c.Model != "kimi-k2-instruct-0905" {
		t.Errorf("Ace-only model: %+v", c)
	}
}
