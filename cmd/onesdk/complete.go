package main

import (
	"context"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

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

// idLister lists the objects an argument may name, for shell completion:
// each id with a short description.
type idLister func(*onesdk.SDK, context.Context) ([]cobra.Completion, error)

// completionWait bounds the server call of a completion: a shell that
// waits longer for a TAB than this is worse than one that offers nothing.
const completionWait = 3 * time.Second

// completeIDs completes arguments (or a flag) with the ids list gives. It
// asks the server only when a key is configured (--api-key or the
// provider's variable) and never with --offline, whose fresh emulator
// holds nothing; a failure or a slow server completes nothing. Ids already
// on the command line are not offered again.
func (a *app) completeIDs(list idLister) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const none = cobra.ShellCompDirectiveNoFileComp
		// Completion does not run the pre-run check; its flags are parsed.
		if a.offline || a.preRun(cmd, args) != nil {
			return nil, none
		}
		if a.apiKey == "" && os.Getenv(a.providerInfo.KeyEnv) == "" {
			return nil, none
		}
		sdk, err := a.newSDK(cmd)
		if err != nil {
			return nil, none
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionWait)
		defer cancel()
		ids, err := list(sdk, ctx)
		if err != nil {
			return nil, none
		}
		var out []cobra.Completion
		for _, c := range ids {
			id, _, _ := strings.Cut(c, "\t")
			if strings.HasPrefix(id, prefix) && !slices.Contains(args, id) {
				out = append(out, c)
			}
		}
		return out, none
	}
}

// cacheIDs lists the account's caches: id, then status and name.
func cacheIDs(sdk *onesdk.SDK, ctx context.Context) ([]cobra.Completion, error) {
	return listed(sdk.AllCaches(ctx, &onesdk.CacheListOptions{Limit: 100}), func(c *onesdk.Cache) cobra.Completion {
		return cobra.CompletionWithDesc(c.ID, strings.TrimSpace(c.Status+" "+oneLine(c.Name)))
	})
}

// tagNames lists the account's tags: the tag, then the cache it names.
func tagNames(sdk *onesdk.SDK, ctx context.Context) ([]cobra.Completion, error) {
	return listed(sdk.AllTags(ctx, &onesdk.TagListOptions{Limit: 100}), func(t *onesdk.Tag) cobra.Completion {
		return cobra.CompletionWithDesc(t.Tag, "→ "+t.CacheID)
	})
}

// fileIDs lists the account's files: id, then name and status.
func fileIDs(sdk *onesdk.SDK, ctx context.Context) ([]cobra.Completion, error) {
	files, err := sdk.ListFiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cobra.Completion, 0, len(files))
	for _, f := range files {
		out = append(out, cobra.CompletionWithDesc(f.ID, strings.TrimSpace(oneLine(f.Filename)+" "+f.Status)))
	}
	return out, nil
}

// listedMax bounds what a completion gathers from a paged list: a shell
// offers a screenful, not an account's history.
const listedMax = 500

func listed[T any](all iter.Seq2[*T, error], completion func(*T) cobra.Completion) ([]cobra.Completion, error) {
	var out []cobra.Completion
	for v, err := range all {
		if err != nil {
			return nil, err
		}
		if out = append(out, completion(v)); len(out) == listedMax {
			break
		}
	}
	return out, nil
}

// completeOne is completeIDs for a command that takes one argument.
func (a *app) completeOne(list idLister) cobra.CompletionFunc {
	ids := a.completeIDs(list)
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ids(cmd, args, prefix)
	}
}
