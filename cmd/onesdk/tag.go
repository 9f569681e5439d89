package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
)

func newTagCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "tag",
		Short: "Name context caches with tags",
		Long: `Manage tags: stable names that point to a context cache. 'onesdk chat
--cache TAG' asks against the cache a tag points to, so a cache can be
replaced (create a new one with --tag) without changing the commands that
use it. Tag names start with a letter and go on with letters, digits, "_",
"-" and "." (128 characters at most).

` + cachingNote,
		Example: `  onesdk tag create manual cache-abc123
  onesdk tag list
  onesdk tag content manual
  onesdk tag delete manual`,
	}, newTagCreateCmd(a), newTagListCmd(a), newTagGetCmd(a), newTagContentCmd(a), newTagDeleteCmd(a))
}

func newTagCreateCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "create TAG CACHE_ID",
		Short: "Point a tag at a cache",
		Args:  cobra.ExactArgs(2),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) != 1 { // the tag is a new name; the cache exists
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return a.completeIDs(cacheIDs)(cmd, args, prefix)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.Tag, error) {
				return sdk.CreateTag(ctx, &onesdk.TagCreateRequest{Tag: args[0], CacheID: args[1]})
			}, a.printTag)
		},
	}
}

func newTagGetCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "get TAG",
		Short: "Show a tag and the cache it points to",
	}, tagNames, (*onesdk.SDK).GetTag, a.printTag)
}

func newTagContentCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "content TAG",
		Short: "Show the cache a tag points to",
		Long:  `Show the cache a tag points to, as 'onesdk cache get' does.`,
	}, tagNames, (*onesdk.SDK).GetTagContent, a.printCache)
}

func newTagListCmd(a *app) *cobra.Command {
	p := &paging{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List tags",
		Long: `List tags, newest first: tag, cache id, creation time (UTC). --all pages
through every tag instead of one page of --limit (default 20). With --json
the list is printed as {"object":"list","data":[...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listTags(cmd, p) },
	}
	p.flags(cmd, "tag")
	return cmd
}

func (a *app) listTags(cmd *cobra.Command, p *paging) error {
	if err := p.check(cmd); err != nil {
		return err
	}
	opts := &onesdk.TagListOptions{Limit: p.limit, Order: p.order}
	return call(a, cmd, pages(p.all, (*onesdk.SDK).AllTags, (*onesdk.SDK).ListTags, opts), a.printTags)
}

func newTagDeleteCmd(a *app) *cobra.Command {
	return deleteCmd(a, &cobra.Command{
		Use:   "delete TAG...",
		Short: "Delete tags (not their caches)",
		Long: `Delete the given tags; their caches stay. Kimi reports success for a tag
that does not exist. With --json the deleted tags are printed as
[{"id":"TAG","deleted":true},...].`,
	}, tagNames, (*onesdk.SDK).DeleteTag)
}

// printTag prints one tag: the object with --json, else its fields.
func (a *app) printTag(w io.Writer, tag *onesdk.Tag) error {
	return a.print(w, tag, func(t *table) {
		t.field("tag", tag.Tag)
		t.field("cache", tag.CacheID)
		t.field("created", unixTime(tag.CreatedAt))
		if tag.OwnedBy != "" {
			t.field("owned by", tag.OwnedBy)
		}
	})
}

// printTags prints the tags of tag list.
func (a *app) printTags(w io.Writer, tags []onesdk.Tag) error {
	return printList(a, w, tags, []string{"TAG", "CACHE", "CREATED"}, func(t onesdk.Tag) []string {
		return []string{t.Tag, t.CacheID, unixTime(t.CreatedAt)}
	})
}
