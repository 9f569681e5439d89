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
			got.SupportsReasoning != (rules.Thinking != catalog.ThinkingNone) {
			t.Errorf("listed %+v, catalogue %+v", got, m)
		}
	}
}

// TestAceModelsFromCatalogue checks that the Ace route takes the models
// package catalog lists for Ace; an Ace-only id is not emulated and fails
// in Ace's envelope.
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
	if code, _, _ := aceErr(t, r); r.Status != 400 || code != "bad_request" {
		t.Errorf("Ace-only model: %d %q", r.Status, code)
	}
}
