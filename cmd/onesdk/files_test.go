package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// files returns the files 'files list --json' shows.
func (e *testEnv) files(t *testing.T) []kimi.File {
	t.Helper()
	return decodeOne[kimi.FileList](t, []byte(e.run(t, "--json", "files", "list").mustOK(t).stdout)).Data
}

// docx writes a minimal DOCX holding the given paragraphs.
func docx(t *testing.T, paras ...string) string {
	t.Helper()
	return writeFile(t, "minutes.docx", string(kimitest.DOCX(paras...)))
}

var uploadLine = regexp.MustCompile(`^(\S+) -> (\S+) \((\d+) bytes, (\S+)\)$`)

func TestFilesUploadListGetContentDelete(t *testing.T) {
	e := setup(t)
	txt := writeFile(t, "report.txt", "The Lisbon office opened in March.\n")
	doc := docx(t, "Minutes of the board", "Budget approved")

	r := e.run(t, "files", "upload", txt, doc, "--wait").mustOK(t)
	if r.stderr != "" {
		t.Errorf("no progress bar or note expected off a terminal, stderr = %q", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("upload printed %q, want one line per file", r.stdout)
	}
	ids := map[string]string{}
	for i, want := range []struct {
		path  string
		bytes int
	}{{txt, len("The Lisbon office opened in March.\n")}, {doc, -1}} {
		m := uploadLine.FindStringSubmatch(lines[i])
		if m == nil || m[1] != want.path || m[4] != "ok" || (want.bytes >= 0 && m[3] != fmt.Sprint(want.bytes)) {
			t.Fatalf("upload line %q, want %s -> ID (%d bytes, ok)", lines[i], want.path, want.bytes)
		}
		ids[filepath.Base(want.path)] = m[2]
	}

	// The table: header and one row per file, newest first.
	r = e.run(t, "files", "list").mustOK(t)
	header, rows, _ := tableRows(t, r.stdout)
	if header != "ID NAME BYTES STATUS CREATED" || len(rows) != 2 {
		t.Fatalf("files list:\n%s", r.stdout)
	}
	if row := rows[ids["report.txt"]]; len(row) != 4 || row[0] != "report.txt" || row[1] != "35" || row[2] != "ok" {
		t.Errorf("row of report.txt = %v", row)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"report.txt", "minutes.docx"}) {
		t.Errorf("files list --json names = %v", got)
	}

	r = e.run(t, "files", "get", ids["minutes.docx"]).mustOK(t)
	if field(r.stdout, "name") != "minutes.docx" || field(r.stdout, "purpose") != "file-extract" || field(r.stdout, "status") != "ok" {
		t.Errorf("files get:\n%s", r.stdout)
	}
	if f := decodeOne[kimi.File](t, []byte(e.run(t, "--json", "files", "get", ids["minutes.docx"]).mustOK(t).stdout)); f.ID != ids["minutes.docx"] || f.Filename != "minutes.docx" {
		t.Errorf("files get --json = %+v", f)
	}

	r = e.run(t, "files", "content", ids["minutes.docx"]).mustOK(t)
	if r.stdout != "Minutes of the board\nBudget approved\n" {
		t.Errorf("files content = %q", r.stdout)
	}
	r = e.run(t, "files", "content", "--raw", ids["report.txt"]).mustOK(t)
	if raw := decodeOne[map[string]any](t, []byte(r.stdout)); raw["content"] != "The Lisbon office opened in March.\n" || raw["filename"] != "report.txt" {
		t.Errorf("files content --raw = %q", r.stdout)
	}
	r = e.run(t, "--json", "files", "content", ids["report.txt"]).mustOK(t)
	if c := decodeOne[kimi.FileContent](t, []byte(r.stdout)); c.Content != "The Lisbon office opened in March.\n" {
		t.Errorf("files content --json = %q", r.stdout)
	}

	r = e.run(t, "files", "delete", ids["report.txt"]).mustOK(t)
	if r.stdout != "deleted "+ids["report.txt"]+"\n" {
		t.Errorf("files delete printed %q", r.stdout)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"minutes.docx"}) {
		t.Errorf("after delete: %v", got)
	}
	for _, args := range [][]string{
		{"files", "get", ids["report.txt"]},
		{"files", "content", ids["report.txt"]},
		{"files", "delete", ids["report.txt"]},
	} {
		e.run(t, args...).wantError(t, exitBadRequest, "onesdk: not found (404 ", "'onesdk files list' lists the files")
	}
	r = e.run(t, "--json", "files", "delete", ids["minutes.docx"]).mustOK(t)
	if d := decodeOne[[]map[string]any](t, []byte(r.stdout)); len(d) != 1 || d[0]["id"] != ids["minutes.docx"] || d[0]["deleted"] != true {
		t.Errorf("files delete --json = %s", r.stdout)
	}
	if got := e.files(t); len(got) != 0 {
		t.Errorf("after the last delete: %v", names(got))
	}
}

func TestFilesUploadJSONAndErrors(t *testing.T) {
	e := setup(t, kimitest.WithFileLimits(kimitest.FileLimits{MaxFiles: 2}))
	a := writeFile(t, "a.txt", "alpha")
	b := writeFile(t, "b.txt", "bravo")

	// A missing file is a usage error found before anything is sent.
	e.run(t, "files", "upload", a, filepath.Join(t.TempDir(), "missing.pdf")).wantUsage(t, "missing.pdf", "no such file")
	if got := e.files(t); len(got) != 0 {
		t.Fatalf("a file was uploaded before the usage error: %v", names(got))
	}
	e.run(t, "files", "upload", t.TempDir()).wantUsage(t, "is a directory")
	e.run(t, "files", "upload").wantUsage(t)

	r := e.run(t, "--json", "files", "upload", a, b).mustOK(t)
	up := decodeOne[[]kimi.File](t, []byte(r.stdout))
	if len(up) != 2 || up[0].Filename != "a.txt" || up[1].Bytes != 5 {
		t.Fatalf("upload --json = %q", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("--json upload wrote %q on stderr", r.stderr)
	}

	// The emulator's file limit (Kimi's 1,000): the server's bad request, exit 6.
	e.run(t, "files", "upload", a).wantError(t, exitBadRequest, "onesdk: bad request (400 invalid_request_error)", "exceeded the max file count")

	// A file Kimi cannot extract: uploaded, then --wait reports it (exit 6).
	broken := writeFile(t, "broken.docx", "not a zip")
	e.run(t, "files", "delete", up[0].ID, up[1].ID).mustOK(t)
	e.run(t, "files", "upload", "--wait", broken).wantError(t, exitBadRequest, "onesdk: bad request", "broken.docx")

	// Providers without files say so: exit 2.
	e.acedata(t, "files", "list").wantError(t, exitUsage, "onesdk: not supported", "use --provider kimi")
}

// A file whose extraction failed stays on the server: upload --wait --json
// lists it with its status and status_details next to the others (which
// are still uploaded), and the exit code says a bad request.
func TestFilesUploadWaitJSONListsFailedExtraction(t *testing.T) {
	a := writeFile(t, "a.txt", "alpha")
	broken := writeFile(t, "broken.docx", "not a zip")
	b := writeFile(t, "b.txt", "bravo")
	r := cli(t, "", "--offline", "--json", "files", "upload", "--wait", a, broken, b)
	r.wantExit(t, exitBadRequest)
	up := decodeOne[[]kimi.File](t, []byte(r.stdout))
	if len(up) != 3 || up[0].Filename != "a.txt" || up[1].Filename != "broken.docx" || up[2].Filename != "b.txt" {
		t.Fatalf("listed %+v, want a.txt, broken.docx, b.txt", up)
	}
	if up[1].ID == "" || up[1].Status != "error" || up[1].StatusDetails == "" {
		t.Errorf("failed file listed as %+v, want its id, status error and status_details", up[1])
	}
	if up[0].Status == "error" || up[2].Status == "error" {
		t.Errorf("good files listed as %+v and %+v", up[0], up[2])
	}
	if !strings.Contains(r.stderr, "broken.docx") && !strings.Contains(r.stderr, up[1].ID) {
		t.Errorf("stderr %q names neither the failed file nor its id", r.stderr)
	}

	// Without --json the failed file has its line, status and details too.
	r = cli(t, "", "--offline", "files", "upload", "--wait", broken)
	if r.code != exitBadRequest || !strings.Contains(r.stdout, broken+" -> ") || !strings.Contains(r.stdout, "error)") {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
}

// A file over the 100 MB limit is a usage error naming the file, its size
// and the limit, found before anything is sent.
func TestFilesUploadTooBig(t *testing.T) {
	e := setup(t)
	small := writeFile(t, "small.txt", "alpha")
	big := filepath.Join(t.TempDir(), "big.pdf")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	const size = 101 << 20 // sparse: no bytes written
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{
		{"files", "upload", small, big},
		{"chat", "--file", small, "--file", big, "Summarise"},
	} {
		r := e.run(t, args...)
		r.wantUsage(t)
		for _, want := range []string{big, strconv.Itoa(size), "100 MB"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr %q does not contain %q", args[:2], r.stderr, want)
			}
		}
		if strings.Contains(r.stderr, "small.txt") {
			t.Errorf("%v: stderr %q names the wrong file", args[:2], r.stderr)
		}
		if got := e.files(t); len(got) != 0 {
			t.Errorf("%v: uploaded %v before refusing", args[:2], names(got))
		}
	}
}

// The progress bar is drawn only on a terminal; its rendering is checked
// on a buffer.
func TestUploadBarRenders(t *testing.T) {
	var buf bytes.Buffer
	bar := newUploadBar(&buf, 2048, "report.pdf")
	bar.Set64(1024)
	if err := bar.Finish(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "report.pdf") || !strings.Contains(out, "100%") || !strings.Contains(out, "2.0 kB") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("bar output %q lacks the name, 100%%, the size or the final newline", out)
	}
}

// pruned is the --json output of files prune.
type pruned struct {
	DryRun bool        `json:"dry_run"`
	Kept   int         `json:"kept"`
	Files  []kimi.File `json:"files"`
}

func TestFilesPrune(t *testing.T) {
	e := setup(t)
	for _, n := range []string{"one.txt", "two.txt", "three.txt", "four.txt"} {
		e.run(t, "files", "upload", writeFile(t, n, "content of "+n)).mustOK(t)
	}
	before := e.files(t)
	if len(before) != 4 {
		t.Fatalf("uploaded %v", names(before))
	}

	// Without --yes: a dry run, oldest first, nothing deleted.
	r := e.run(t, "files", "prune", "--keep", "2").mustOK(t)
	if !strings.HasPrefix(r.stdout, "would delete "+before[0].ID+"  one.txt  ") || strings.Count(r.stdout, "would delete") != 2 ||
		!strings.Contains(r.stdout, before[1].ID+"  two.txt") {
		t.Errorf("dry run printed:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "dry run: 2 of 4 files would be deleted, 2 kept; add --yes") {
		t.Errorf("dry run note %q", r.stderr)
	}
	if got := e.files(t); len(got) != 4 {
		t.Fatalf("dry run deleted files: %v", names(got))
	}
	r = e.run(t, "--json", "files", "prune", "--keep", "3", "--dry-run").mustOK(t)
	if dry := decodeOne[pruned](t, []byte(r.stdout)); !dry.DryRun || dry.Kept != 3 || len(dry.Files) != 1 || dry.Files[0].ID != before[0].ID {
		t.Errorf("--json dry run = %s", r.stdout)
	}

	e.run(t, "files", "prune", "--dry-run", "--yes").wantUsage(t)
	e.run(t, "files", "prune", "--keep", "-1").wantUsage(t)

	// Fresh files are younger than the default 24h: nothing to prune.
	r = e.run(t, "files", "prune", "--yes").mustOK(t)
	if r.stdout != "" || !strings.Contains(r.stderr, "pruned 0 of 4 files") {
		t.Errorf("prune of fresh files: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	// --keep alone deletes whatever the age, oldest first.
	r = e.run(t, "files", "prune", "--keep", "2", "--yes").mustOK(t)
	want := "deleted " + before[0].ID + "  one.txt  "
	if !strings.HasPrefix(r.stdout, want) || strings.Count(r.stdout, "deleted ") != 2 {
		t.Errorf("prune --keep 2 --yes printed:\n%s", r.stdout)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"three.txt", "four.txt"}) {
		t.Fatalf("after prune --keep 2: %v", got)
	}

	// Two hours later, by prune's clock: --older-than picks by age, and
	// --keep still protects the newest.
	later := time.Now().Add(2 * time.Hour)
	timeNow = func() time.Time { return later }
	t.Cleanup(func() { timeNow = time.Now })
	if r := e.run(t, "files", "prune", "--older-than", "3h", "--yes").mustOK(t); r.stdout != "" {
		t.Errorf("--older-than 3h deleted files two hours old:\n%s", r.stdout)
	}
	r = e.run(t, "--json", "files", "prune", "--older-than", "1h", "--keep", "1", "--yes").mustOK(t)
	if done := decodeOne[pruned](t, []byte(r.stdout)); done.DryRun || done.Kept != 1 || len(done.Files) != 1 || done.Files[0].Filename != "three.txt" {
		t.Errorf("prune --older-than 1h --keep 1 --yes --json = %s", r.stdout)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"four.txt"}) {
		t.Fatalf("after prune --older-than 1h --keep 1: %v", got)
	}
	e.run(t, "files", "prune", "--older-than", "1h", "--yes").mustOK(t)
	if got := e.files(t); len(got) != 0 {
		t.Fatalf("after prune --older-than 1h: %v", names(got))
	}
}

func TestPruneSelect(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	files := []kimi.File{
		{ID: "c", CreatedAt: now.Add(-3 * time.Hour).Unix(), Purpose: "file-extract"},
		{ID: "a", CreatedAt: now.Add(-48 * time.Hour).Unix(), Purpose: "file-extract"},
		{ID: "img", CreatedAt: now.Add(-72 * time.Hour).Unix(), Purpose: "image"},
		{ID: "b", CreatedAt: now.Add(-25 * time.Hour).Unix(), Purpose: "file-extract"},
		{ID: "new", CreatedAt: now.Add(-time.Minute).Unix(), Purpose: "file-extract"},
	}
	ids := func(fs []kimi.File) string {
		return strings.Join(pluck(fs, func(f kimi.File) string { return f.ID }), ",")
	}
	for _, tc := range []struct {
		purpose string
		age     time.Duration
		keep    int
		want    string
	}{
		{"", 24 * time.Hour, 0, "img,a,b"},
		{"file-extract", 24 * time.Hour, 0, "a,b"},
		{"", 0, 2, "img,a,b"},
		{"", 24 * time.Hour, 4, "img"},
		{"", 0, 0, "img,a,b,c,new"},
		{"", 0, 10, ""},
		{"image", time.Hour, 0, "img"},
	} {
		if got := ids(pruneSelect(files, tc.purpose, tc.age, tc.keep, now)); got != tc.want {
			t.Errorf("pruneSelect(purpose %q, age %s, keep %d) = %q, want %q", tc.purpose, tc.age, tc.keep, got, tc.want)
		}
	}
}

func TestChatFile(t *testing.T) {
	e := setup(t)
	doc := writeFile(t, "report.txt", "The Lisbon office opened in March. Revenue grew by 12 percent.\n")
	minutes := docx(t, "Minutes of the board", "Budget approved")

	r := e.run(t, "chat", "--file", doc, "--file", minutes, "Which office opened in March?").mustOK(t)
	if strings.TrimSpace(r.stdout) == "" {
		t.Fatal("no answer on stdout")
	}
	if !strings.Contains(r.stderr, "[model moonshot-v1-8k, ") {
		t.Errorf("chosen model not noted on stderr: %q", r.stderr)
	}
	if got := e.files(t); len(got) != 0 {
		t.Errorf("uploaded files left behind: %v", names(got))
	}

	// --json: the completion; --keep-files keeps the uploads; --model picks.
	r = e.run(t, "--json", "chat", "--keep-files", "--model", "moonshot-v1-32k", "--max-tokens", "50", "--file", doc, "Summarise").mustOK(t)
	resp := decodeOne[kimi.ChatCompletion](t, []byte(r.stdout))
	if resp.Model != "moonshot-v1-32k" || resp.Usage == nil ||
		resp.Usage.CompletionTokens > 50 || resp.Usage.PromptTokens < kimitest.CountTokens("The Lisbon office opened in March.") {
		t.Fatalf("chat --file --json = %s", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("--json wrote %q on stderr", r.stderr)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"report.txt"}) {
		t.Errorf("--keep-files: files %v", got)
	}

	// The question from standard input, offline.
	r = cli(t, "What grew?", "--offline", "chat", "--file", doc).mustOK(t)
	if strings.TrimSpace(r.stdout) == "" || !strings.Contains(r.stderr, "[model moonshot-v1-8k") {
		t.Errorf("--offline chat --file: stdout %q, stderr %q", r.stdout, r.stderr)
	}

	// A document too long for the model chosen: the server is not asked
	// to fail, the SDK refuses (exit 6) and names the window.
	long := writeFile(t, "long.txt", strings.Repeat("The committee discussed the budget again, at some length. ", 1200))
	r = e.run(t, "chat", "--model", "moonshot-v1-8k", "--file", long, "Summarise")
	if r.code != exitBadRequest || !strings.Contains(r.stderr, "8192") {
		t.Errorf("too long for 8k: exit %d, stderr %q", r.code, r.stderr)
	}
	// Without --model the next size up answers.
	r = e.run(t, "chat", "--file", long, "Summarise").mustOK(t)
	if !strings.Contains(r.stderr, "[model moonshot-v1-32k") {
		t.Errorf("long document answered by: %q", r.stderr)
	}

	// A file Kimi cannot extract: exit 6, and nothing left behind.
	broken := writeFile(t, "broken.docx", "not a zip")
	if r := e.run(t, "chat", "--file", broken, "What is in it?"); r.code != exitBadRequest || !strings.Contains(r.stderr, "broken.docx") {
		t.Errorf("broken docx: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := names(e.files(t)); !slices.Equal(got, []string{"report.txt"}) {
		t.Errorf("files after the failures: %v", got)
	}

	for _, args := range [][]string{
		{"chat", "--file", filepath.Join(t.TempDir(), "missing.pdf"), "hi"},
		{"chat", "--file", doc, "--cache", "manual", "hi"},
		{"chat", "--file", doc, "--temperature", "0.3", "hi"},
		{"chat", "--file", doc, "--interactive"},
		{"chat", "--file", doc, "--model", "my-own-model", "hi"},
		{"chat", "--file", doc, ""},
	} {
		e.run(t, args...).wantUsage(t)
	}
	e.acedata(t, "chat", "--file", doc, "hi").wantError(t, exitUsage, "onesdk: not supported", "use --provider kimi")
}

// 'files content --raw' prints the body byte for byte, and streams it: the
// first bytes reach stdout before the body has ended.
func TestFilesContentRawStreams(t *testing.T) {
	e := setup(t)
	text := strings.Repeat("One line of a long extracted text.\n", 3000)
	r := e.run(t, "files", "upload", writeFile(t, "long.txt", text)).mustOK(t)
	m := regexp.MustCompile(`-> (\S+) \(`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no file id in %q", r.stdout)
	}
	id := m[1]
	body, err := kimi.NewClient(kimi.Config{APIKey: e.srv.Key, BaseURL: e.srv.URL}).Files.Content(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if r := e.run(t, "files", "content", "--raw", id).mustOK(t); r.stdout != string(body) {
		t.Fatalf("files content --raw printed %d bytes, the body has %d", len(r.stdout), len(body))
	}

	// A server that sends half of the body and holds the rest back until
	// that half is on stdout (or 5 s have passed, which fails the test).
	first, rest := body[:len(body)/2], body[len(body)/2:]
	seen := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/files/"+id+"/content" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(first)
		w.(http.Flusher).Flush()
		select {
		case <-seen:
		case <-time.After(5 * time.Second):
		case <-req.Context().Done():
		}
		w.Write(rest)
	}))
	defer srv.Close()
	out := &watchWriter{want: len(first), total: len(body), seen: seen}
	if r := cliTo(t.Context(), out, "", "--base-url", srv.URL+"/v1", "--api-key", "sk-stream", "files", "content", "--raw", id); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if out.buf.String() != string(body) {
		t.Errorf("streamed --raw printed %d bytes, want %d", out.buf.Len(), len(body))
	}
	if !out.early {
		t.Error("nothing reached stdout before the body ended: --raw buffers the body")
	}
}

// watchWriter closes seen once it holds want bytes of a body of total
// bytes, and notes whether that happened before the whole body came. It
// has only Write (a bytes.Buffer inside would give io.Copy a ReadFrom).
type watchWriter struct {
	buf         bytes.Buffer
	want, total int
	seen        chan struct{}
	early       bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if w.buf.Len() >= w.want && w.seen != nil {
		w.early = w.buf.Len() < w.total
		close(w.seen)
		w.seen = nil
	}
	return n, err
}
