package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

const filesNote = `Files are Kimi's (provider kimi); other providers answer "not supported"
(exit code 2). Kimi keeps at most 1,000 files per account (100 MB each, 10 GB
in all); past that an upload fails (exit code 6) until old files are
deleted: 'onesdk files prune' does that.

With --offline every command starts a fresh emulator, so an uploaded file
lives only as long as the command; to keep files across commands offline,
run 'onesdk serve' and export the MOONSHOT_BASE_URL and MOONSHOT_API_KEY it
prints.`

func newFilesCmd(a *app) *cobra.Command {
	return group(&cobra.Command{
		Use:   "files",
		Short: "Upload, list, show, read and delete files",
		Long: `Manage the files of the account: upload documents for Kimi to extract
their text (purpose file-extract), read the extracted text, delete them.
'onesdk chat --file' does upload, extraction and question in one go.

` + filesNote,
		Example: `  onesdk files upload report.pdf notes.docx --wait
  onesdk files list
  onesdk files content file-abc123 > report.txt
  onesdk files delete file-abc123
  onesdk files prune --keep 100 --yes`,
	}, newFilesUploadCmd(a), newFilesListCmd(a), newFilesGetCmd(a), newFilesContentCmd(a),
		newFilesDeleteCmd(a), newFilesPruneCmd(a))
}

type filesUploadOptions struct {
	purpose string
	wait    bool
}

func newFilesUploadCmd(a *app) *cobra.Command {
	o := &filesUploadOptions{}
	cmd := &cobra.Command{
		Use:   "upload PATH...",
		Short: "Upload files",
		Long: `Upload files in order, stopping at the first failed upload; the ones uploaded
before it are listed. A progress bar is drawn on standard error when it is
a terminal (not with --json). --wait waits until Kimi has processed each
file (its text can then be read with 'onesdk files content'); a file whose
extraction failed stays on the server: it is listed with status "error" and
its status_details, the remaining files are still uploaded, and the command
ends as a bad request (exit code 6). A missing or unreadable PATH, or one
over the 100 MB per-file limit, is a usage error (exit code 2) naming it,
checked before anything is sent.

Each upload prints "PATH -> ID (BYTES bytes, STATUS)"; with --json every
uploaded file object (id, filename, status, status_details, ...) is printed
in one JSON array, failed extractions included.`,
		Example: `  onesdk files upload report.pdf
  onesdk files upload --wait *.docx
  onesdk --json files upload data.csv | jq -r '.[0].id'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.uploadFiles(cmd, o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.purpose, "purpose", onesdk.PurposeFileExtract, `purpose of the files: "file-extract" (text extraction), "image", "video" or "batch"`)
	f.BoolVar(&o.wait, "wait", false, "wait until each file is processed")
	_ = cmd.RegisterFlagCompletionFunc("purpose", cobra.FixedCompletions([]string{"file-extract", "image", "video", "batch"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// checkFiles makes sure every path is a readable regular file within
// Kimi's per-file size limit before any request, so that a typo or an
// oversized file is a usage error and not a half-done upload.
func checkFiles(flag string, paths []string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			return usageErrorf("%s%v", flag, err)
		case fi.IsDir():
			return usageErrorf("%s%s is a directory", flag, p)
		case !fi.Mode().IsRegular():
			return usageErrorf("%s%s is not a regular file", flag, p)
		case fi.Size() > kimi.MaxFileBytes:
			return tooBig(flag, p, fi.Size())
		}
	}
	return nil
}

// tooBig is the usage error of a file over Kimi's per-file limit.
func tooBig(flag, path string, size int64) error {
	return usageErrorf("%s%s is %d bytes (%.1f MB): over the 100 MB (%d-byte) limit per file",
		flag, path, size, float64(size)/(1<<20), int64(kimi.MaxFileBytes))
}

func (a *app) uploadFiles(cmd *cobra.Command, o *filesUploadOptions, paths []string) error {
	o.purpose = strings.TrimSpace(o.purpose)
	if o.purpose == "" {
		return usageErrorf("--purpose must not be empty")
	}
	if err := checkFiles("", paths); err != nil {
		return err
	}
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	bar := !a.jsonOut && isTerminal(stderr)
	uploaded := []*onesdk.File{}
	var failures []error
	for _, p := range paths {
		f, err := a.uploadOne(cmd.Context(), sdk, p, o.purpose, stderr, bar)
		if err != nil {
			failures = append(failures, err)
			break
		}
		var extractErr error
		if o.wait {
			ctx, cancel := a.callContext(cmd.Context())
			done, err := sdk.WaitFileProcessed(ctx, f.ID)
			cancel()
			if done != nil {
				f = done
			}
			extractErr = err
		}
		// The file is on the server whatever the wait said: list it.
		uploaded = append(uploaded, f)
		if !a.jsonOut {
			fmt.Fprintf(out, "%s -> %s (%d bytes, %s)\n", p, f.ID, f.Bytes, orDash(f.Status))
			if extractErr != nil && f.StatusDetails != "" {
				fmt.Fprintf(out, "  %s\n", oneLine(f.StatusDetails))
			}
		}
		if extractErr != nil {
			failures = append(failures, fmt.Errorf("%s (%s): %w", p, f.ID, extractErr))
			if !extractionFailed(extractErr) {
				break // the wait itself failed (timeout, network): stop
			}
		}
	}
	if a.jsonOut {
		if err := writeJSON(out, uploaded); err != nil {
			return err
		}
	}
	if len(failures) == 0 {
		return nil
	}
	// Report the first failure (its exit code); the others were listed.
	return failures[0]
}

// extractionFailed reports whether err is Kimi's verdict that it could
// not process a file (status error), as opposed to a failed wait.
func extractionFailed(err error) bool {
	var fe *kimi.FileError
	return errors.As(err, &fe)
}

// uploadOne uploads one file, drawing a progress bar on w when bar is set.
func (a *app) uploadOne(ctx context.Context, sdk *onesdk.SDK, path, purpose string, w io.Writer, bar bool) (*onesdk.File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if fi.Size() > kimi.MaxFileBytes { // grown since checkFiles
		return nil, tooBig("", path, fi.Size())
	}
	req := &onesdk.FileUploadRequest{Filename: filepath.Base(path), Purpose: purpose, Reader: fh, Size: fi.Size()}
	var pb *progressbar.ProgressBar
	if bar {
		pb = newUploadBar(w, fi.Size(), filepath.Base(path))
		req.Progress = func(sent int64) { _ = pb.Set64(sent) }
	}
	ctx, cancel := a.callContext(ctx)
	defer cancel()
	f, err := sdk.Upload(ctx, req)
	if pb != nil {
		if err == nil {
			_ = pb.Finish()
		} else {
			_ = pb.Exit() // leave the bar where it stopped, on its own line
			fmt.Fprintln(w)
		}
	}
	return f, err
}

// newUploadBar returns the progress bar of one upload of size bytes,
// written to w (standard error on a terminal).
func newUploadBar(w io.Writer, size int64, name string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionUseANSICodes(useColor(w)),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

func newFilesListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the files of the account",
		Long: `List every file of the account, newest first: id, name, bytes, status and
creation time (UTC). With --json the list is printed as the API returns it:
{"object":"list","data":[...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return call(a, cmd, method((*onesdk.SDK).ListFiles), a.printFiles)
		},
	}
}

// printFiles prints the files of files list: with --json in the API's
// order, else newest first and, among files of the same second, the last
// uploaded first (the API lists in upload order).
func (a *app) printFiles(w io.Writer, files []onesdk.File) error {
	if !a.jsonOut {
		slices.Reverse(files)
		slices.SortStableFunc(files, func(x, y onesdk.File) int { return -compareAge(x, y) })
	}
	return printList(a, w, files, []string{"ID", "NAME", "BYTES", "STATUS", "CREATED"}, func(f onesdk.File) []string {
		return []string{f.ID, fileName(f.Filename), strconv.FormatInt(f.Bytes, 10), orDash(f.Status), unixTime(f.CreatedAt)}
	})
}

// compareAge orders files oldest first by creation time (whole seconds);
// callers sort stably, so that files of the same second keep the API's
// order, which is upload order.
func compareAge(x, y onesdk.File) int { return cmp.Compare(x.CreatedAt, y.CreatedAt) }

// timeNow is prune's clock; tests move it.
var timeNow = time.Now

// fileName keeps a file name to one table cell: no white space, which
// would shift the columns.
func fileName(s string) string {
	s = strings.Join(strings.Fields(oneLine(s)), "_")
	return orDash(s)
}

func newFilesGetCmd(a *app) *cobra.Command {
	return getCmd(a, &cobra.Command{
		Use:   "get FILE_ID",
		Short: "Show one file",
	}, fileIDs, (*onesdk.SDK).GetFile, a.printFile)
}

// printFile prints one file: the object with --json, else its fields.
func (a *app) printFile(w io.Writer, f *onesdk.File) error {
	return a.print(w, f, func(t *table) {
		t.field("id", f.ID)
		t.field("name", orDash(oneLine(f.Filename)))
		t.field("bytes", strconv.FormatInt(f.Bytes, 10))
		t.field("purpose", orDash(f.Purpose))
		t.field("status", orDash(f.Status))
		if f.StatusDetails != "" {
			t.field("details", oneLine(f.StatusDetails))
		}
		t.field("created", unixTime(f.CreatedAt))
	})
}

func newFilesContentCmd(a *app) *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "content FILE_ID",
		Short: "Print the text Kimi extracted from a file",
		Long: `Print the text Kimi extracted from a file-extract file. --raw prints the
response body as sent instead (for file-extract files a JSON document with
content, file_type, filename, title and type), streamed in constant memory
whatever its size. With --json the decoded document is printed. The decoded
text is read into memory and refused above 256 MiB (use --raw).`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeOne(fileIDs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if raw {
				return call(a, cmd, byID((*onesdk.SDK).GetFileContentReader, args[0]), copyBody)
			}
			return call(a, cmd, byID((*onesdk.SDK).GetFileContent, args[0]), a.printContent)
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "print the response body as sent, streamed")
	return cmd
}

// copyBody copies a response body to w as it arrives, in constant memory
// whatever its size.
func copyBody(w io.Writer, body io.ReadCloser) error {
	defer body.Close()
	_, err := io.Copy(w, body)
	return err
}

// printContent prints the text Kimi extracted, ending with a newline, or
// with --json the decoded document.
func (a *app) printContent(w io.Writer, c *onesdk.FileContent) error {
	if a.jsonOut {
		return writeJSON(w, c)
	}
	// The newline is written on its own: appending it would copy the
	// whole text.
	if _, err := io.WriteString(w, c.Content); err != nil {
		return err
	}
	if c.Content != "" && !strings.HasSuffix(c.Content, "\n") {
		_, err := io.WriteString(w, "\n")
		return err
	}
	return nil
}

func newFilesDeleteCmd(a *app) *cobra.Command {
	return deleteCmd(a, &cobra.Command{
		Use:   "delete FILE_ID...",
		Short: "Delete files",
		Long: `Delete the given files in order, stopping at the first failure (an unknown
id is "not found", exit code 6); the ones deleted before it are listed. With
--json the deleted ids are printed as [{"id":"…","deleted":true},...].`,
	}, fileIDs, (*onesdk.SDK).DeleteFile)
}

type filesPruneOptions struct {
	olderThan time.Duration
	keep      int
	purpose   string
	dryRun    bool
	yes       bool
}

// defaultPruneAge is prune's --older-than when neither it nor --keep is
// given.
const defaultPruneAge = 24 * time.Hour

func newFilesPruneCmd(a *app) *cobra.Command {
	o := &filesPruneOptions{}
	cmd := &cobra.Command{
		Use:   "prune [--older-than DURATION] [--keep N] [--purpose P] [--yes]",
		Short: "Delete old files, oldest first (a dry run unless --yes)",
		Long: `Delete old files to stay under Kimi's limit of 1,000 files per account.

A file is pruned when it is older than --older-than (by its creation time)
and is not one of the --keep newest files; --purpose restricts both to the
files of that purpose. With neither --older-than nor --keep, --older-than
is 24h. Files go oldest first.

Without --yes nothing is deleted: prune lists what it would delete (a dry
run, also what --dry-run asks for) and says how to go ahead. With --yes it
deletes and prints each file as it goes, stopping at the first failure.
--dry-run and --yes exclude each other.

With --json the result is one document: {"dry_run":…,"kept":N,"files":[…]},
files being the files deleted (or that would be).`,
		Example: `  onesdk files prune                          # what is older than a day
  onesdk files prune --older-than 168h --yes  # delete what is older than a week
  onesdk files prune --keep 500 --yes         # keep only the 500 newest files`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.pruneFiles(cmd, o) },
	}
	f := cmd.Flags()
	f.DurationVar(&o.olderThan, "older-than", defaultPruneAge, "prune files created longer ago than this, e.g. 24h, 30m")
	f.IntVar(&o.keep, "keep", 0, "keep the N newest files whatever their age")
	f.StringVar(&o.purpose, "purpose", "", "only files of this purpose, e.g. file-extract")
	f.BoolVar(&o.dryRun, "dry-run", false, "only list what would be deleted (the default without --yes)")
	f.BoolVar(&o.yes, "yes", false, "delete, rather than list what would be deleted")
	return cmd
}

func (a *app) pruneFiles(cmd *cobra.Command, o *filesPruneOptions) error {
	f := cmd.Flags()
	if o.dryRun && o.yes {
		return usageErrorf("--dry-run and --yes exclude each other")
	}
	if o.olderThan < 0 {
		return usageErrorf("--older-than must not be negative")
	}
	if o.keep < 0 {
		return usageErrorf("--keep must be 0 or more")
	}
	age := o.olderThan
	if f.Changed("keep") && !f.Changed("older-than") {
		age = 0 // --keep alone: whatever the age
	}
	sdk, err := a.newSDK(cmd)
	if err != nil {
		return err
	}
	ctx, cancel := a.callContext(cmd.Context())
	files, err := sdk.ListFiles(ctx)
	cancel()
	if err != nil {
		return err
	}
	doomed := pruneSelect(files, o.purpose, age, o.keep, timeNow())
	kept := len(files) - len(doomed)
	out, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if !o.yes {
		if a.jsonOut {
			return writeJSON(out, map[string]any{"dry_run": true, "kept": kept, "files": doomed})
		}
		for _, file := range doomed {
			fmt.Fprintln(out, "would delete", pruneLine(file))
		}
		fmt.Fprintf(stderr, "dry run: %d of %d files would be deleted, %d kept; add --yes to delete them\n", len(doomed), len(files), kept)
		return nil
	}
	deleted := []onesdk.File{}
	failure := eachCall(a, cmd.Context(), doomed, func(ctx context.Context, file onesdk.File) error {
		return sdk.DeleteFile(ctx, file.ID)
	}, func(file onesdk.File) {
		deleted = append(deleted, file)
		if !a.jsonOut {
			fmt.Fprintln(out, "deleted", pruneLine(file))
		}
	})
	if a.jsonOut {
		if err := writeJSON(out, map[string]any{"dry_run": false, "kept": len(files) - len(deleted), "files": deleted}); err != nil {
			return err
		}
	} else if failure == nil {
		fmt.Fprintf(stderr, "pruned %d of %d files, %d kept\n", len(deleted), len(files), len(files)-len(deleted))
	}
	return failure
}

// pruneLine describes a file prune deletes: id, name and creation time.
func pruneLine(f onesdk.File) string {
	return f.ID + "  " + fileName(f.Filename) + "  " + unixTime(f.CreatedAt)
}

// pruneSelect returns the files prune deletes, oldest first: of the files
// of purpose (all when ""), those not among the keep newest and created
// more than age before now (any age when age is 0).
func pruneSelect(files []onesdk.File, purpose string, age time.Duration, keep int, now time.Time) []onesdk.File {
	var pool []onesdk.File
	for _, f := range files {
		if purpose == "" || f.Purpose == purpose {
			pool = append(pool, f)
		}
	}
	slices.SortStableFunc(pool, compareAge)
	pool = pool[:max(len(pool)-keep, 0)] // the keep newest stay
	doomed := []onesdk.File{}
	for _, f := range pool {
		if age == 0 || time.Unix(f.CreatedAt, 0).Before(now.Add(-age)) {
			doomed = append(doomed, f)
		}
	}
	return doomed
}
