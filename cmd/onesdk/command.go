package main

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
)

// call runs the API call of a command and prints what it returns: the SDK
// comes from the global flags and --timeout bounds the call. The bound
// lasts until show returns, so that a streamed body is read within it. do
// takes the SDK first, as a method expression such as
// (*onesdk.SDK).ListFiles does.
func call[T any](a *app, cmd *cobra.Command, do func(*onesdk.SDK, context.Context) (T, error), show func(io.Writer, T) error) error {
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := a.callContext(cmd.Context())
	defer cancel()
	v, err := do(sdk, ctx)
	if err != nil {
		return err
	}
	return show(cmd.OutOrStdout(), v)
}

// method makes a method expression such as (*onesdk.SDK).ListFiles the
// call of a command; the command passes no per-call options.
func method[T any](do func(*onesdk.SDK, context.Context, ...onesdk.RequestOption) (T, error)) func(*onesdk.SDK, context.Context) (T, error) {
	return func(sdk *onesdk.SDK, ctx context.Context) (T, error) { return do(sdk, ctx) }
}

// byID binds the id that get takes, so that a method expression such as
// (*onesdk.SDK).GetCache serves as the call of a command.
func byID[T any](get func(*onesdk.SDK, context.Context, string, ...onesdk.RequestOption) (T, error), id string) func(*onesdk.SDK, context.Context) (T, error) {
	return func(sdk *onesdk.SDK, ctx context.Context) (T, error) { return get(sdk, ctx, id) }
}

// getCmd completes c as a command that fetches the object its one
// argument names and prints it; ids completes that argument.
func getCmd[T any](a *app, c *cobra.Command, ids idLister, get func(*onesdk.SDK, context.Context, string, ...onesdk.RequestOption) (T, error), show func(io.Writer, T) error) *cobra.Command {
	c.Args = cobra.ExactArgs(1)
	if ids != nil {
		c.ValidArgsFunction = a.completeOne(ids)
	}
	c.RunE = func(cmd *cobra.Command, args []string) error { return call(a, cmd, byID(get, args[0]), show) }
	return c
}

// deleteCmd completes c as a command that deletes the objects its
// arguments name (completed from ids), one by one: each success is printed, and the first
// failure stops it. With --json the deleted ids are printed at the end as
// [{"id":…,"deleted":true},...].
func deleteCmd(a *app, c *cobra.Command, ids idLister, del func(*onesdk.SDK, context.Context, string, ...onesdk.RequestOption) error) *cobra.Command {
	c.Args = cobra.MinimumNArgs(1)
	c.ValidArgsFunction = a.completeIDs(ids)
	c.RunE = func(cmd *cobra.Command, ids []string) error {
		sdk, err := a.newSDK(cmd)
		if err != nil {
			return err
		}
		out := cmd.OutOrStdout()
		deleted := []map[string]any{}
		failure := eachCall(a, cmd.Context(), ids, func(ctx context.Context, id string) error {
			return del(sdk, ctx, id)
		}, func(id string) {
			deleted = append(deleted, map[string]any{"id": id, "deleted": true})
			if !a.jsonOut {
				fmt.Fprintf(out, "deleted %s\n", id)
			}
		})
		if a.jsonOut {
			if err := writeJSON(out, deleted); err != nil {
				return err
			}
		}
		return failure
	}
	return c
}

// eachCall makes one call per item, in order, each bounded by --timeout
// on its own, and tells done of each success. It stops at the first
// failure and returns it.
func eachCall[T any](a *app, ctx context.Context, items []T, do func(context.Context, T) error, done func(T)) error {
	for _, it := range items {
		cctx, cancel := a.callContext(ctx)
		err := do(cctx, it)
		cancel()
		if err != nil {
			return err
		}
		done(it)
	}
	return nil
}

// group completes c as a command that only holds subs: run alone, it
// prints its help.
func group(c *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	c.Args = cobra.NoArgs
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	c.AddCommand(subs...)
	return c
}

// paging holds the --limit, --order and --all flags of a list command.
type paging struct {
	limit int
	order string
	all   bool
}

// flags declares the paging flags on cmd, a list of nouns.
func (p *paging) flags(cmd *cobra.Command, noun string) {
	f := cmd.Flags()
	f.IntVar(&p.limit, "limit", 0, noun+"s per page (default: the server's, 20)")
	f.StringVar(&p.order, "order", "", `"desc" (newest first, default) or "asc"`)
	f.BoolVar(&p.all, "all", false, "list every "+noun+", page after page")
	_ = cmd.RegisterFlagCompletionFunc("order", cobra.FixedCompletions([]string{"asc", "desc"}, cobra.ShellCompDirectiveNoFileComp))
}

// check refuses a --limit or an --order that the API would not take.
func (p *paging) check(cmd *cobra.Command) error {
	if cmd.Flags().Changed("limit") && p.limit <= 0 {
		return usageErrorf("--limit must be positive")
	}
	switch p.order {
	case "", "asc", "desc":
		return nil
	}
	return usageErrorf(`--order must be "asc" or "desc", not %q`, p.order)
}

// pages is the call of a list command: every page with all (--all),
// else the first one.
func pages[T, O any](all bool, every func(*onesdk.SDK, context.Context, O, ...onesdk.RequestOption) iter.Seq2[*T, error],
	first func(*onesdk.SDK, context.Context, O, ...onesdk.RequestOption) ([]T, error), opts O) func(*onesdk.SDK, context.Context) ([]T, error) {
	return func(sdk *onesdk.SDK, ctx context.Context) ([]T, error) {
		if !all {
			return first(sdk, ctx, opts)
		}
		var rows []T
		for r, err := range every(sdk, ctx, opts) {
			if err != nil {
				return nil, err
			}
			rows = append(rows, *r)
		}
		return rows, nil
	}
}
