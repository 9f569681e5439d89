package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/catalog"
)

// completeModels completes --model with the models of the chosen
// --provider that package catalog lists and that are not retired. Any
// other id is still accepted on the command line: the catalogue is an
// aid, not a wall.
func (a *app) completeModels(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return modelCompletions(a.provider, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// modelCompletions lists the provider's models starting with prefix, each
// with its context window as the description.
func modelCompletions(provider, prefix string) []cobra.Completion {
	p, ok := onesdk.LookupProvider(provider)
	if !ok {
		return nil
	}
	var out []cobra.Completion
	for _, m := range catalog.ForProvider(p.Catalog) {
		if !strings.HasPrefix(m.ID, prefix) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(m.ID, modelDescription(m)))
	}
	return out
}

// modelDescription is a short description of a catalogue model: its
// context window, input kinds, thinking and status.
func modelDescription(m catalog.Model) string {
	var d []string
	if m.ContextWindow > 0 {
		d = append(d, windowSize(m.ContextWindow)+" context")
	}
	if m.ImageInput {
		d = append(d, "image")
	}
	if m.VideoInput {
		d = append(d, "video")
	}
	if r, ok := m.Rules(); ok && r.Thinking != catalog.ThinkingNone {
		d = append(d, "thinking "+r.Thinking.String())
	}
	if m.Status != catalog.StatusActive {
		d = append(d, string(m.Status))
	}
	return strings.Join(d, ", ")
}

// windowSize writes a window as Moonshot names it: 8k, 128k, 256k.
func windowSize(tokens int) string {
	if tokens%1024 == 0 {
		return strconv.Itoa(tokens/1024) + "k"
	}
	return strconv.Itoa(tokens)
}
