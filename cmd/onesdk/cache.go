package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
)

const cachingNote = `Context caches are Kimi's (provider kimi, model family moonshot-v1); other
providers answer "not supported" (exit code 2).

With --offline every command starts a fresh emulator, so a cache lives only
as long as the command that created it. To try the workflow offline across
commands, run the emulator in another shell and point the CLI at it:

  onesdk serve --addr 127.0.0.1:8080          # prints the export line below
  export MOONSHOT_BASE_URL=http://127.0.0.1:8080/v1 MOONSHOT_API_KEY=sk-kimitest`

func newCacheCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "cache",
		Short: "Create, list, show, update and delete context caches",
		Long: `Manage Kimi's context caches: a long prompt (a document, a system prompt,
tools) stored once and used by later chats through a tag ('onesdk tag',
'onesdk chat --cache TAG'), which bills its tokens at the cache price.

` + cachingNote,
		Example: `  onesdk cache create --file manual.txt --name manual --tag manual --wait
  onesdk chat --cache manual "How do I reset the device?"
  onesdk cache list --meta project=docs
  onesdk cache update cache-abc123 --ttl 3600
  onesdk cache delete cache-abc123`,
	}, newCacheCreateCmd(a), newCacheListCmd(a), newCacheGetCmd(a), newCacheUpdateCmd(a), newCacheDeleteCmd(a))
}

type cacheCreateOptions struct {
	file, system, name, description string
	meta, tags                      []string
	ttl                             int
	wait                            bool
}

func newCacheCreateCmd(a *app) *cobra.Command {
	o := &cacheCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create (--file FILE | --system TEXT)",
		Short: "Create a context cache from a file or a system prompt",
		Long: `Create a context cache for the moonshot-v1 models.

--file FILE: a .json file holds a messages array, e.g.
  [{"role":"system","content":"..."},{"role":"user","content":"..."}]
any other file (or "-", standard input) becomes one system message with its
text. --system TEXT caches that text as a system message.

A new cache is "pending" until Kimi has processed it (about a minute;
seconds on the emulator); --wait waits until it is ready (bound it with
--timeout). --tag points tags at the new cache, for 'onesdk chat --cache'.
--ttl is the lifetime in seconds (at most 3600, the default).`,
		Example: `  onesdk cache create --file manual.txt --tag manual --wait
  onesdk cache create --system "You are a support agent for ACME." --meta team=support --ttl 1800
  onesdk --json cache create --file history.json | jq -r .id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.createCache(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "", `file to cache: .json is a messages array, anything else one system message ("-": standard input)`)
	f.StringVarP(&o.system, "system", "s", "", "text to cache as a system message")
	f.StringVar(&o.name, "name", "", "name of the cache")
	f.StringVar(&o.description, "description", "", "description of the cache")
	f.StringArrayVar(&o.meta, "meta", nil, "metadata pair key=value (repeatable)")
	f.IntVar(&o.ttl, "ttl", 0, "lifetime in seconds, at most 3600 (default: the server's, one hour)")
	f.StringArrayVar(&o.tags, "tag", nil, "tag to point at the new cache (repeatable)")
	f.BoolVar(&o.wait, "wait", false, "wait until the cache is ready")
	return cmd
}

func (a *app) createCache(cmd *cobra.Command, o *cacheCreateOptions) error {
	f := cmd.Flags()
	if f.Changed("file") == f.Changed("system") {
		return usageErrorf("give either --file FILE or --system TEXT: the content to cache")
	}
	md, err := ttlAndMeta(cmd, o.ttl, o.meta)
	if err != nil {
		return err
	}
	var msgs []onesdk.Message
	if f.Changed("file") {
		msgs, err = readCacheFile(cmd.InOrStdin(), o.file)
	} else if strings.TrimSpace(o.system) == "" {
		err = usageErrorf("--system must not be empty")
	} else {
		msgs = []onesdk.Message{onesdk.SystemMessage(o.system)}
	}
	if err != nil {
		return err
	}
	return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.Cache, error) {
		c, err := sdk.CreateCache(ctx, &onesdk.CacheCreateRequest{Messages: msgs,
			Name: o.name, Description: o.description, Metadata: md, TTL: ttlSeconds(o.ttl), Tags: o.tags,
		})
		if err != nil || !o.wait {
			return c, err
		}
		if !a.jsonOut {
			fmt.Fprintf(cmd.ErrOrStderr(), "waiting for %s to be ready…\n", c.ID)
		}
		// The wait gets a --timeout of its own. Its error names the
		// cache: "kimi: cache cache-…: …".
		wctx, cancel := a.callContext(cmd.Context())
		defer cancel()
		return sdk.WaitCacheReady(wctx, c.ID)
	}, a.printCache)
}

// readCacheFile reads the messages of cache create --file.
func readCacheFile(stdin io.Reader, name string) ([]onesdk.Message, error) {
	b, err := readFlagFile(stdin, "--file", name)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(name), ".json") {
		return decodeMessages("--file", name, b)
	}
	text := string(b)
	if strings.TrimSpace(text) == "" {
		return nil, usageErrorf("--file %s is empty", name)
	}
	return []onesdk.Message{onesdk.SystemMessage(text)}, nil
}

// readFlagFile reads the file that flag names, standard input for "-".
func readFlagFile(stdin io.Reader, flag, name string) ([]byte, error) {
	var b []byte
	var err error
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, usageErrorf("%s: %v", flag, err)
	}
	return b, nil
}

// decodeMessages decodes the JSON array of chat messages read from the
// file name that flag gave.
func decodeMessages(flag, name string, b []byte) ([]onesdk.Message, error) {
	var msgs []onesdk.Message
	if err := json.Unmarshal(b, &msgs); err != nil {
		return nil, usageErrorf("%s %s: not a JSON array of messages: %v", flag, name, err)
	}
	if len(msgs) == 0 {
		return nil, usageErrorf("%s %s: no messages", flag, name)
	}
	return msgs, nil
}

// ttlAndMeta checks --ttl and parses --meta, the flags that cache create
// and cache update share.
func ttlAndMeta(cmd *cobra.Command, ttl int, meta []string) (map[string]string, error) {
	if cmd.Flags().Changed("ttl") && ttl <= 0 {
		return nil, usageErrorf("--ttl must be positive")
	}
	return parseMeta(meta)
}

// parseMeta turns --meta key=value flags into a map; nil when none.
func parseMeta(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	md := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErrorf("--meta %q: want key=value", p)
		}
		md[k] = v
	}
	return md, nil
}

type cacheListOptions struct {
	paging
	meta []string
}

func newCacheListCmd(a *app) *cobra.Command {
	o := &cacheListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List context caches",
		Long: `List context caches, newest first: id, status, tokens, expiry (UTC), name
and metadata. --meta keeps the caches that have every given pair; --all
pages through every cache instead of one page of --limit (default 20). With
--json the list is printed as the API returns it: {"object":"list","data":[...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.listCaches(cmd, o) },
	}
	o.paging.flags(cmd, "cache")
	cmd.Flags().StringArrayVar(&o.meta, "meta", nil, "only caches with this metadata pair key=value (repeatable)")
	return cmd
}

func (a *app) listCaches(cmd *cobra.Command, o *cacheListOptions) error {
	if err := o.paging.check(cmd); err != nil {
		return err
	}
	md, err := parseMeta(o.meta)
	if err != nil {
		return err
	}
	opts := &onesdk.CacheListOptions{Limit: o.limit, Order: o.order, Metadata: md}
	return call(a, cmd, pages(o.all, (*onesdk.SDK).AllCaches, (*onesdk.SDK).ListCaches, opts), a.printCaches)
}

func newCacheGetCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "get CACHE_ID",
		Short: "Show one context cache",
		Long:  `Show one context cache; --json prints the whole object, cached messages and tools included.`,
	}, cacheIDs, (*onesdk.SDK).GetCache, a.printCache)
}

type cacheUpdateOptions struct {
	ttl  int
	meta []string
}

func newCacheUpdateCmd(a *app) *cobra.Command {
	o := &cacheUpdateOptions{}
	cmd := &cobra.Command{
		Use:   "update CACHE_ID (--ttl N | --meta k=v ...)",
		Short: "Change a cache's expiry or metadata",
		Long: `Change a cache's expiry (--ttl seconds from now, at most 3600) or replace
its metadata (--meta, repeatable). The cache goes back to "pending" while
Kimi processes it again.`,
		Example: `  onesdk cache update cache-abc123 --ttl 3600
  onesdk cache update cache-abc123 --meta project=docs --meta owner=ana`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeOne(cacheIDs),
		RunE:              func(cmd *cobra.Command, args []string) error { return a.updateCache(cmd, o, args[0]) },
	}
	f := cmd.Flags()
	f.IntVar(&o.ttl, "ttl", 0, "new lifetime in seconds from now, at most 3600")
	f.StringArrayVar(&o.meta, "meta", nil, "metadata pair key=value, replacing the metadata (repeatable)")
	return cmd
}

func (a *app) updateCache(cmd *cobra.Command, o *cacheUpdateOptions, id string) error {
	f := cmd.Flags()
	if !f.Changed("ttl") && !f.Changed("meta") {
		return usageErrorf("nothing to update: give --ttl or --meta")
	}
	md, err := ttlAndMeta(cmd, o.ttl, o.meta)
	if err != nil {
		return err
	}
	return call(a, cmd, func(sdk *onesdk.SDK, ctx context.Context) (*onesdk.Cache, error) {
		return sdk.UpdateCache(ctx, id, &onesdk.CacheUpdateRequest{Metadata: md, TTL: ttlSeconds(o.ttl)})
	}, a.printCache)
}

// ttlSeconds converts a --ttl (whole seconds, as Kimi takes them) to the
// TTL of a request, saturating rather than overflowing: the client refuses
// anything over an hour with the value in its message.
func ttlSeconds(n int) time.Duration {
	if int64(n) > int64(math.MaxInt64/time.Second) {
		return math.MaxInt64
	}
	return time.Duration(n) * time.Second
}

func newCacheDeleteCmd(a *app) *cobra.Command {
	return deleteCmd(a, &cobra.Command{
		Use:   "delete CACHE_ID...",
		Short: "Delete context caches",
		Long: `Delete the given caches in order, stopping at the first failure (an unknown
id is "not found", exit code 6); the ones deleted before it are listed.
Tags that pointed to a deleted cache are left dangling. With --json the
deleted ids are printed as [{"id":"cache-…","deleted":true},...].`,
	}, cacheIDs, (*onesdk.SDK).DeleteCache)
}

// printCache prints one cache: the object with --json, else its fields.
func (a *app) printCache(w io.Writer, c *onesdk.Cache) error {
	return a.print(w, c, func(t *table) {
		t.field("id", c.ID)
		t.field("status", c.Status)
		if c.Error != nil {
			t.field("error", oneLine(strings.TrimPrefix(c.Error.Error(), "kimi: ")))
		}
		t.field("model", orDash(c.Model))
		t.field("tokens", strconv.Itoa(c.Tokens))
		t.field("created", unixTime(c.CreatedAt))
		t.field("expires", unixTime(c.ExpiredAt))
		if c.Name != "" {
			t.field("name", oneLine(c.Name))
		}
		if c.Description != "" {
			t.field("description", oneLine(c.Description))
		}
		t.field("metadata", metaString(c.Metadata))
		t.field("messages", strconv.Itoa(len(c.Messages)))
		t.field("tools", strconv.Itoa(len(c.Tools)))
	})
}

// printCaches prints the caches of cache list.
func (a *app) printCaches(w io.Writer, caches []onesdk.Cache) error {
	return printList(a, w, caches, []string{"ID", "STATUS", "TOKENS", "EXPIRES", "NAME", "METADATA"}, func(c onesdk.Cache) []string {
		return []string{c.ID, c.Status, strconv.Itoa(c.Tokens), unixTime(c.ExpiredAt), orDash(oneLine(c.Name)), metaString(c.Metadata)}
	})
}

// unixTime renders unix seconds in UTC, "-" for 0.
func unixTime(sec int64) string {
	if sec == 0 {
		return "-"
	}
	return time.Unix(sec, 0).UTC().Format(time.RFC3339)
}

// metaString renders metadata as sorted k=v pairs, "-" when empty.
func metaString(md map[string]string) string {
	if len(md) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(md)) {
		parts = append(parts, k+"="+md[k])
	}
	return oneLine(strings.Join(parts, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
