package onesdk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	pngenc "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/tokencount"
)

const report = "Quarterly report.\nRevenue grew by 12 percent; the Lisbon office opened in March.\n"

func TestFilesRoundTrip(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()

	path := writeTemp(t, "report.txt", []byte(report))
	f, err := sdk.UploadFile(ctx, path, "") // "" is file-extract
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Filename != "report.txt" || f.Bytes != int64(len(report)) || f.Purpose != onesdk.PurposeFileExtract || f.CreatedAt == 0 {
		t.Fatalf("uploaded file = %+v", f)
	}
	done, err := sdk.WaitFileProcessed(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.ID != f.ID || done.Status == "" || done.Status == "error" {
		t.Fatalf("processed file = %+v", done)
	}

	files, err := sdk.ListFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(files, func(x onesdk.File) bool { return x.ID == f.ID && x.Filename == "report.txt" }) {
		t.Fatalf("ListFiles = %+v, want %s", files, f.ID)
	}
	got, err := sdk.GetFile(ctx, f.ID)
	if err != nil || got.ID != f.ID || got.Bytes != f.Bytes || got.Filename != f.Filename {
		t.Fatalf("GetFile = %+v, %v", got, err)
	}

	content, err := sdk.GetFileContent(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(content.Content, "Lisbon office opened") {
		t.Fatalf("extracted content = %+v", content)
	}
	raw, err := sdk.GetFileContentRaw(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	// GetFileContentReader streams the same body.
	rc, err := sdk.GetFileContentReader(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	streamed, err := io.ReadAll(rc)
	if cerr := rc.Close(); err != nil || cerr != nil || !bytes.Equal(streamed, raw) {
		t.Fatalf("GetFileContentReader = %d bytes (%v, close %v), GetFileContentRaw %d", len(streamed), err, cerr, len(raw))
	}
	// The raw body is the JSON document the decoded form comes from.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("raw content is not JSON: %v\n%s", err, raw)
	}
	if doc["content"] != content.Content {
		t.Fatalf("raw content %q differs from decoded %q", doc["content"], content.Content)
	}

	if err := sdk.DeleteFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.GetFile(ctx, f.ID); !errors.Is(err, onesdk.ErrNotFound) {
		t.Fatalf("GetFile after delete: want ErrNotFound, got %v", err)
	}
	err = sdk.DeleteFile(ctx, f.ID)
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("second delete: want a 404 ErrNotFound, got %v", err)
	}
	files, err = sdk.ListFiles(ctx)
	if err != nil || slices.ContainsFunc(files, func(x onesdk.File) bool { return x.ID == f.ID }) {
		t.Fatalf("ListFiles after delete = %+v, %v", files, err)
	}
}

// Upload takes any reader and reports progress up to the whole size.
func TestUploadReaderProgress(t *testing.T) {
	sdk, _ := setup(t)
	body := bytes.Repeat([]byte("a line of text for the progress test\n"), 4000) // ~150 kB
	var mu sync.Mutex
	var seen []int64
	f, err := sdk.Upload(t.Context(), &onesdk.FileUploadRequest{
		Filename: "big.txt", Reader: bytes.NewReader(body), Size: int64(len(body)),
		Progress: func(sent int64) { mu.Lock(); seen = append(seen, sent); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.Bytes != int64(len(body)) || f.Purpose != onesdk.PurposeFileExtract {
		t.Fatalf("uploaded %+v", f)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || seen[len(seen)-1] != int64(len(body)) {
		t.Fatalf("progress %v does not end at %d", seen, len(body))
	}
	if !slices.IsSorted(seen) {
		t.Fatalf("progress went backwards: %v", seen)
	}
}

func TestFileErrorsAreClassified(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	for op, err := range map[string]error{
		"GetFile":           func() error { _, err := sdk.GetFile(ctx, "file-nope"); return err }(),
		"GetFileContent":    func() error { _, err := sdk.GetFileContent(ctx, "file-nope"); return err }(),
		"GetFileContentRaw": func() error { _, err := sdk.GetFileContentRaw(ctx, "file-nope"); return err }(),
		"GetFileContentReader": func() error {
			_, err := sdk.GetFileContentReader(ctx, "file-nope")
			return err
		}(),
		"DeleteFile": sdk.DeleteFile(ctx, "file-nope"),
	} {
		var apiErr *onesdk.APIError
		if !errors.Is(err, onesdk.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
			t.Errorf("%s of an unknown id: want a 404 ErrNotFound, got %v", op, err)
		}
	}
	// A file that is not there locally never reaches the server.
	_, err := sdk.UploadFile(ctx, filepath.Join(t.TempDir(), "missing.pdf"), "")
	wantKinds(t, "upload of a missing file", err, []error{onesdk.ErrBadRequest, os.ErrNotExist}, onesdk.ErrConnection)
	// An empty file is refused before sending.
	_, err = sdk.UploadFile(ctx, writeTemp(t, "empty.txt", nil), "")
	if !errors.Is(err, onesdk.ErrBadRequest) {
		t.Fatalf("upload of an empty file: want ErrBadRequest, got %v", err)
	}
}

func TestBalanceDecreasesAfterChat(t *testing.T) {
	_, srv := setup(t, kimitest.WithAccount(kimitest.Account{Key: "sk-balance-test", Balance: 10}))
	// The response does not name its currency and a loopback host does
	// not tell the platform: Config.Currency says it.
	cfg := loopback(srv)
	cfg.Currency = "USD"
	sdk := newSDK(t, "kimi", cfg)
	ctx := t.Context()
	before, err := sdk.GetBalance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Available != 10 || before.Currency != "USD" {
		t.Fatalf("balance before = %+v, want 10 USD available", before)
	}
	if before.Available != before.Cash+before.Voucher {
		t.Errorf("available %v != cash %v + voucher %v", before.Available, before.Cash, before.Voucher)
	}
	if _, err := sdk.Generate(ctx, ask("moonshot-v1-8k", report)); err != nil {
		t.Fatal(err)
	}
	after, err := sdk.GetBalance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !(after.Available < before.Available) || after.Available <= 0 {
		t.Fatalf("balance after a chat = %+v, want less than %v and still positive", after, before.Available)
	}
}

// Ace Data Cloud has no files, token estimation or balance: every method
// says so, naming the provider, without a request.
func TestPlatformUnsupportedOnAceData(t *testing.T) {
	_, srv := setup(t, unreachable)
	sdk := aceData(t, srv)
	ctx := t.Context()
	path := writeTemp(t, "report.txt", []byte(report))
	msgs := []onesdk.Message{onesdk.UserMessage("hello")}
	errs := map[string]error{}
	_, errs["UploadFile"] = sdk.UploadFile(ctx, path, "")
	_, errs["Upload"] = sdk.Upload(ctx, &onesdk.FileUploadRequest{Filename: "a.txt", Reader: strings.NewReader("a"), Size: 1})
	_, errs["WaitFileProcessed"] = sdk.WaitFileProcessed(ctx, "file-x")
	_, errs["ListFiles"] = sdk.ListFiles(ctx)
	_, errs["GetFile"] = sdk.GetFile(ctx, "file-x")
	_, errs["GetFileContent"] = sdk.GetFileContent(ctx, "file-x")
	_, errs["GetFileContentRaw"] = sdk.GetFileContentRaw(ctx, "file-x")
	_, errs["GetFileContentReader"] = sdk.GetFileContentReader(ctx, "file-x")
	errs["DeleteFile"] = sdk.DeleteFile(ctx, "file-x")
	_, errs["GetBalance"] = sdk.GetBalance(ctx)
	_, errs["CountTokens"] = sdk.CountTokens(ctx, "kimi-k2.5", msgs)
	_, errs["NewDocumentQA"] = sdk.NewDocumentQA()
	if len(errs) != 12 {
		t.Fatalf("%d methods checked, want 12", len(errs))
	}
	wantUnsupported(t, "acedata", errs)
}

// A DOCX is extracted paragraph by paragraph; a file Kimi cannot extract
// ends in status "error", which WaitFileProcessed reports as a bad
// request and GetFileContent as the server's failure.
func TestUploadDOCXAndBrokenFile(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()

	docx := writeTemp(t, "minutes.docx", kimitest.DOCX("Minutes of the board", "The budget for 2026 is approved & signed."))
	f, err := sdk.UploadFile(ctx, docx, onesdk.PurposeFileExtract)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.WaitFileProcessed(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	c, err := sdk.GetFileContent(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Content, "Minutes of the board\nThe budget for 2026 is approved & signed.") || !strings.Contains(c.FileType, "wordprocessingml") {
		t.Fatalf("docx content = %+v", c)
	}

	broken := writeTemp(t, "broken.docx", []byte("this is not a zip archive"))
	bf, err := sdk.UploadFile(ctx, broken, "")
	if err != nil {
		t.Fatalf("upload of an unreadable docx: the upload itself succeeds, got %v", err)
	}
	got, err := sdk.WaitFileProcessed(ctx, bf.ID)
	var fe *kimi.FileError
	if !errors.Is(err, onesdk.ErrBadRequest) || !errors.As(err, &fe) || fe.ID != bf.ID || !strings.Contains(fe.Details, "docx") {
		t.Fatalf("WaitFileProcessed of a broken docx: want an ErrBadRequest wrapping a *kimi.FileError, got %v", err)
	}
	if got == nil || got.Status != "error" {
		t.Errorf("WaitFileProcessed returned %+v, want the file in status error", got)
	}
	if _, err := sdk.GetFileContent(ctx, bf.ID); !errors.Is(err, onesdk.ErrServerUnavailable) {
		t.Errorf("content of a broken file: want the server's 500 as ErrServerUnavailable, got %v", err)
	}
}

// Past the account's file count the upload is a bad request carrying
// Kimi's message; deleting a file makes room again.
func TestUploadFileCountLimit(t *testing.T) {
	sdk, _ := setup(t, kimitest.WithFileLimits(kimitest.FileLimits{MaxFiles: 2}))
	ctx := t.Context()
	path := writeTemp(t, "a.txt", []byte(report))
	first, err := sdk.UploadFile(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.UploadFile(ctx, path, ""); err != nil {
		t.Fatal(err)
	}
	_, err = sdk.UploadFile(ctx, path, "")
	var apiErr *onesdk.APIError
	if !errors.Is(err, onesdk.ErrBadRequest) || errors.Is(err, onesdk.ErrRateLimit) || !errors.As(err, &apiErr) || apiErr.StatusCode != 400 ||
		!strings.Contains(apiErr.Message, "exceeded the max file count") {
		t.Fatalf("third upload: want a 400 ErrBadRequest about the file count, got %v", err)
	}
	if err := sdk.DeleteFile(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.UploadFile(ctx, path, ""); err != nil {
		t.Fatalf("upload after a delete: %v", err)
	}
}

// documentQA returns a DocumentQA on sdk whose candidates are models (nil:
// the default ones). offline sizes prompts with package tokencount instead
// of asking the server.
func documentQA(t *testing.T, sdk *onesdk.SDK, offline bool, models ...string) *onesdk.DocumentQA {
	t.Helper()
	qa, err := sdk.NewDocumentQA()
	if err != nil {
		t.Fatal(err)
	}
	qa.Models = models
	if offline {
		qa.CountTokens = tokencount.ChatForModel
	}
	return qa
}

func TestDocumentQA(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	short := writeTemp(t, "report.txt", []byte(report))
	long := writeTemp(t, "long.txt", []byte(strings.Repeat("The committee met again and discussed the budget at length. ", 1500))) // ~15k tokens

	for _, offline := range []bool{false, true} {
		qa := documentQA(t, sdk, offline)
		if err := qa.AddFiles(ctx, short); err != nil {
			t.Fatal(err)
		}
		resp, err := qa.Ask(ctx, "Which office opened in March?")
		if err != nil {
			t.Fatal(err)
		}
		if resp.Model != "moonshot-v1-8k" || resp.Text() == "" {
			t.Fatalf("offline=%t: short document answered by %q: %q, want moonshot-v1-8k", offline, resp.Model, resp.Text())
		}
		// The document reached the prompt: far more tokens than the question.
		if resp.Usage == nil || resp.Usage.PromptTokens < kimitest.CountTokens(report) {
			t.Errorf("prompt tokens %+v do not cover the document", resp.Usage)
		}
		if err := qa.AddFiles(ctx, long); err != nil {
			t.Fatal(err)
		}
		model, n, err := qa.PickModel(ctx, "Summarise")
		if err != nil || model != "moonshot-v1-32k" || n <= 8192 {
			t.Fatalf("offline=%t: with the long document PickModel = %q, %d, %v; want moonshot-v1-32k", offline, model, n, err)
		}
		docs := qa.Documents()
		if len(docs) != 2 || docs[0].FileID == "" {
			t.Fatalf("documents = %+v", docs)
		}
		if err := qa.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sdk.GetFile(ctx, docs[0].FileID); !errors.Is(err, onesdk.ErrNotFound) {
			t.Errorf("file %s still there after Cleanup: %v", docs[0].FileID, err)
		}
	}

	// An English document the offline estimate undercounts: it picks the
	// 8k model, Kimi refuses the prompt as too long, Ask steps up.
	english := writeTemp(t, "english.txt", []byte(strings.Repeat("The committee met again and discussed the budget at length. ", 500)))
	qa := documentQA(t, sdk, true)
	if err := qa.AddFiles(ctx, english); err != nil {
		t.Fatal(err)
	}
	picked, est, err := qa.PickModel(ctx, "Summarise")
	if err != nil || picked != "moonshot-v1-8k" {
		t.Fatalf("offline PickModel for the English document = %q, %d, %v; want the too-small moonshot-v1-8k", picked, est, err)
	}
	resp, err := qa.Ask(ctx, "Summarise")
	if err != nil {
		t.Fatalf("Ask with an undercounted prompt: %v", err)
	}
	if resp.Model != "moonshot-v1-32k" || qa.LastModel() != "moonshot-v1-32k" || resp.Usage == nil || resp.Usage.PromptTokens <= 8192-1024 {
		t.Errorf("answered by %q (LastModel %q), usage %+v; want moonshot-v1-32k for a prompt the 8k model cannot take (estimate %d)",
			resp.Model, qa.LastModel(), resp.Usage, est)
	}
	qa.Cleanup(ctx)

	// Too long for the only candidate: a bad request naming the limit.
	qa = documentQA(t, sdk, false, "moonshot-v1-8k")
	if err := qa.AddFiles(ctx, long); err != nil {
		t.Fatal(err)
	}
	_, err = qa.Ask(ctx, "Summarise")
	wantKinds(t, "too long a document", err, []error{onesdk.ErrBadRequest, kimi.ErrPromptTooLong})
	// A missing file is the caller's mistake, not the network's.
	err = qa.AddFiles(ctx, filepath.Join(t.TempDir(), "missing.pdf"))
	wantKinds(t, "AddFiles of a missing file", err, []error{onesdk.ErrBadRequest, os.ErrNotExist}, onesdk.ErrConnection)
}

// Media goes in parts built with the facade alone: an uploaded image by
// FileURL, a video by data URL; a model without video input is refused
// before sending.
func TestMediaParts(t *testing.T) {
	sdk, _ := setup(t)
	ctx := t.Context()
	var png bytes.Buffer
	if err := pngenc.Encode(&png, image.NewGray(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	f, err := sdk.Upload(ctx, &onesdk.FileUploadRequest{Filename: "dot.png", Purpose: onesdk.PurposeImage, Reader: &png})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	video := onesdk.DataURL("video/mp4", []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"))
	req := &onesdk.Request{Model: "kimi-k2.6", Messages: []onesdk.Message{{Role: onesdk.RoleUser, Parts: []onesdk.ContentPart{
		onesdk.TextPart("What do these show?"), onesdk.ImagePart(onesdk.FileURL(f.ID)), onesdk.VideoPart(video),
	}}}}
	resp, err := sdk.Generate(ctx, req, onesdk.WithHeaders(http.Header{"X-Trace": {"t1"}}))
	if err != nil || resp.Text() == "" {
		t.Fatalf("Generate with media: %v", err)
	}
	req.Model = "moonshot-v1-8k-vision-preview"
	if _, err := sdk.Generate(ctx, req); !errors.Is(err, onesdk.ErrBadRequest) || !strings.Contains(err.Error(), "video_url") {
		t.Errorf("video to an image model: %v", err)
	}
}
