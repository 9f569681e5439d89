package kimi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// Files, token estimation and balance against the kimitest emulator.

// wantAPIError stops the test unless err is a *kimi.Error with status,
// and reports an error unless it has message.
func wantAPIError(t *testing.T, err error, status int, message string) {
	t.Helper()
	if e := mustStatus(t, err, status); e.Message != message {
		t.Errorf("err = %d %q, want %d %q", e.StatusCode, e.Message, status, message)
	}
}

func TestEmulatorFileLifecycle(t *testing.T) {
	t.Run("legacy ids", func(t *testing.T) { fileLifecycle(t) })
	// The platform's file_ ids (from 2026-08-31) are as opaque to the client.
	t.Run("file_ ids", func(t *testing.T) { fileLifecycle(t, kimitest.WithFileIDPrefix("file_")) })
}

func fileLifecycle(t *testing.T, opts ...kimitest.Option) {
	c, _, _ := setup(t, opts...)
	ctx := context.Background()
	text := "The onboarding handbook.\nStep one: read it. Step two: ask Kimi.\n"
	path := writeTemp(t, "handbook.txt", text)

	f, err := c.Files.UploadFile(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Object != "file" || f.Bytes != int64(len(text)) || f.Filename != "handbook.txt" ||
		f.Purpose != kimi.PurposeFileExtract || f.Status != kimi.FileStatusOK || f.CreatedAt == 0 {
		t.Errorf("uploaded file = %+v", f)
	}
	if got, err := c.Files.WaitProcessed(ctx, f.ID); err != nil || got.ID != f.ID {
		t.Errorf("WaitProcessed = %+v, %v", got, err)
	}
	got, err := c.Files.Get(ctx, f.ID)
	if err != nil || got.ID != f.ID || got.Bytes != f.Bytes || got.Filename != f.Filename {
		t.Errorf("Get = %+v, %v", got, err)
	}
	list, err := c.Files.List(ctx)
	if err != nil || list.Object != "list" || len(list.Data) != 1 || list.Data[0].ID != f.ID {
		t.Errorf("List = %+v, %v", list, err)
	}
	raw, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := kimi.DecodeFileContent(raw)
	if err != nil || fc.Content != text || fc.Type != "file" || fc.Filename != "handbook.txt" {
		t.Errorf("content = %+v, %v (raw %q)", fc, err, raw)
	}
	if fc2, err := c.Files.ExtractedText(ctx, f.ID); err != nil || fc2.Content != text {
		t.Errorf("ExtractedText = %+v, %v", fc2, err)
	}

	if err := c.Files.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	notFound := "Not found the file " + f.ID + " or Permission denied"
	_, err = c.Files.Get(ctx, f.ID)
	wantAPIError(t, err, 404, notFound)
	wantAPIError(t, c.Files.Delete(ctx, f.ID), 404, notFound)
	_, err = c.Files.Content(ctx, f.ID)
	wantAPIError(t, err, 404, notFound)
	if list, err := c.Files.List(ctx); err != nil || len(list.Data) != 0 {
		t.Errorf("List after delete = %+v, %v", list, err)
	}
}

func TestEmulatorFileLimits(t *testing.T) {
	c, _, rec := setup(t, kimitest.WithFileLimits(kimitest.FileLimits{MaxFiles: 2, MaxFileBytes: 1 << 10}))
	ctx := context.Background()
	up := func(name, purpose string, r io.Reader) error {
		_, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: name, Purpose: purpose, Reader: r})
		return err
	}
	// The client's own limit is 100 MB; the emulator's lower one answers.
	wantAPIError(t, up("big.txt", "", bytes.NewReader(bytes.Repeat([]byte("a"), 4<<10))), 400,
		"File size is too large, max file size is 1KB, please confirm and re-upload the file")
	// An empty stream of unknown size is left for the server to refuse.
	wantAPIError(t, up("empty.txt", "", onlyReader{strings.NewReader("")}), 400,
		"File size is zero, please confirm and re-upload the file")
	wantAPIError(t, up("a.txt", "lambda", strings.NewReader("x")), 400,
		"Invalid purpose: only 'file-extract', 'image', 'video', 'batch' accepted")
	before := rec.n()
	for i := range 2 {
		if err := up("ok.txt", "", strings.NewReader("fine")); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	wantAPIError(t, up("third.txt", "", strings.NewReader("one too many")), 400,
		"The number of files you have uploaded exceeded the max file count 2, please delete previous uploaded files")
	if n := rec.n() - before; n != 3 {
		t.Errorf("%d requests for 3 uploads: a 400 must not be retried", n)
	}
}

func TestEmulatorUploadRetry(t *testing.T) {
	c, _, rec := setup(t, kimitest.WithFaults(kimitest.Fault{Route: "POST /v1/files", Times: 2, Status: 503}))
	ctx := context.Background()

	// Non-seekable: the 503 comes back after one request; nothing stored.
	_, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "pipe.txt", Reader: onlyReader{strings.NewReader("from a pipe")}})
	if e := mustStatus(t, err, 503); e.Attempts != 1 || rec.n() != 1 {
		t.Fatalf("non-seekable: err %v after %d requests, want one 503", err, rec.n())
	}
	// Seekable: the second fault is retried through, the file arrives whole.
	text := strings.Repeat("seekable content ", 1000)
	f, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "doc.txt", Reader: strings.NewReader(text)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.n() != 3 || f.Bytes != int64(len(text)) {
		t.Errorf("%d requests, %d bytes stored", rec.n(), f.Bytes)
	}
	if fc, err := c.Files.ExtractedText(ctx, f.ID); err != nil || fc.Content != text {
		t.Errorf("content after retry: %v", err)
	}
	if list, _ := c.Files.List(ctx); len(list.Data) != 1 {
		t.Errorf("%d files stored, want 1", len(list.Data))
	}
}

func TestEmulatorEstimateMatchesChat(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	msgs := []kimi.Message{
		kimi.SystemMessage("You are Kimi. 你是 Kimi,由 Moonshot AI 提供的人工智能助手。"),
		kimi.UserMessage("How long is a day on Mars, in hours and minutes?"),
		kimi.AssistantMessage("About 24 hours 37 minutes."),
		kimi.UserMessage("And on Venus?"),
	}
	for _, model := range []string{"moonshot-v1-8k", "moonshot-v1-128k"} {
		n, err := c.Tokenizers.Estimate(ctx, model, msgs)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Chat.Create(ctx, &kimi.ChatRequest{Model: model, Messages: msgs})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || resp.Usage == nil || resp.Usage.PromptTokens != n {
			t.Errorf("%s: estimate %d, chat prompt_tokens %+v", model, n, resp.Usage)
		}
	}
	_, err := c.Tokenizers.Estimate(ctx, "no-such-model", msgs)
	mustStatus(t, err, 404)
	_, err = c.Tokenizers.Estimate(ctx, "moonshot-v1-8k", nil)
	wantInvalid(t, "no messages", err, "messages")
}

func TestEmulatorBalance(t *testing.T) {
	const key = "sk-balance-test"
	srv := kimitest.NewServer(t, kimitest.WithAccount(kimitest.Account{Key: key, Balance: 3.00001, Voucher: 46.58893, Currency: "CNY"}))
	c, _ := newClient(srv, func(c *kimi.Config) { c.Currency = "CNY" })
	ctx := context.Background()
	b, err := c.Users.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.Cash != 3.00001 || b.Voucher != 46.58893 || b.Available != 3.00001+46.58893 || b.Currency != "CNY" {
		t.Errorf("balance = %+v", b)
	}
	if b.CashRaw != "3.00001" || b.VoucherRaw != "46.58893" {
		t.Errorf("raw = %q %q", b.CashRaw, b.VoucherRaw)
	}
	// A chat call is billed: the balance follows the emulator's ledger.
	if _, err := c.Chat.Create(ctx, userRequest("moonshot-v1-8k", "Hello")); err != nil {
		t.Fatal(err)
	}
	b, err = c.Users.Balance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	avail, voucher, cash, _ := srv.Emulator.Balance(key)
	if b.Available != avail || b.Voucher != voucher || b.Cash != cash || b.Voucher >= 46.58893 {
		t.Errorf("after a call: %+v, emulator says %v/%v/%v", b, avail, voucher, cash)
	}
	// Without Config.Currency a loopback host has no known currency.
	c2, _ := newClient(srv)
	if b, err := c2.Users.Balance(ctx); err != nil || b.Currency != "" || b.Available != avail {
		t.Errorf("no Config.Currency: %+v, %v", b, err)
	}
}

// ContentReader hands over the body of /files/{id}/content unbuffered;
// Content and ExtractedText refuse a body over their limit.

// uploaded uploads text as a file named name and returns the file and
// what Content gives for it.
func uploaded(t *testing.T, c *kimi.Client, name, text string) (*kimi.File, []byte) {
	t.Helper()
	ctx := context.Background()
	f, err := c.Files.UploadFile(ctx, writeTemp(t, name, text), "")
	if err != nil {
		t.Fatal(err)
	}
	body, err := c.Files.Content(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f, body
}

func TestEmulatorFileContentReader(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	text := "Chapter one.\n" + strings.Repeat("A line of the long extracted text.\n", 2000)
	f, want := uploaded(t, c, "long.txt", text)
	rc, err := c.Files.ContentReader(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if cerr := rc.Close(); err != nil || cerr != nil {
		t.Fatalf("read content: %v, close: %v", err, cerr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ContentReader gave %d bytes, Content %d", len(got), len(want))
	}
	if fc, err := kimi.DecodeFileContent(got); err != nil || fc.Content != text {
		t.Errorf("decoded ContentReader body: %v (content %d bytes, want %d)", err, len(fc.Content), len(text))
	}

	// A non-2xx status is an *Error, with no body to close.
	rc, err = c.Files.ContentReader(ctx, "file-nope")
	if rc != nil {
		t.Errorf("ContentReader(unknown) = %v, want no body", rc)
	}
	mustStatus(t, err, http.StatusNotFound)
	if _, err := c.Files.ContentReader(ctx, ""); err == nil {
		t.Error("ContentReader(\"\") succeeded")
	}
}

func TestEmulatorFileContentLimit(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	// A small body (sent with a Content-Length) and a large one (chunked):
	// the limit holds for both.
	for _, size := range []int{200, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			f, body := uploaded(t, c, "doc.txt", strings.Repeat("x", size))
			n := int64(len(body))
			kimi.SetContentLimit(c, n)
			if b, err := c.Files.Content(ctx, f.ID); err != nil || int64(len(b)) != n {
				t.Fatalf("Content at the limit = %d bytes, %v", len(b), err)
			}
			kimi.SetContentLimit(c, n-1)
			defer kimi.SetContentLimit(c, kimi.MaxContentBytes)
			b, err := c.Files.Content(ctx, f.ID)
			if b != nil || !errors.Is(err, kimi.ErrBadResponse) || !strings.Contains(err.Error(), fmt.Sprintf("over the %d bytes limit", n-1)) {
				t.Errorf("Content over the limit = %d bytes, %v", len(b), err)
			}
			if _, err := c.Files.ExtractedText(ctx, f.ID); !errors.Is(err, kimi.ErrBadResponse) {
				t.Errorf("ExtractedText over the limit: %v", err)
			}
			// ContentReader streams whatever the size.
			rc, err := c.Files.ContentReader(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			if got, err := io.ReadAll(rc); err != nil || !bytes.Equal(got, body) {
				t.Errorf("ContentReader over the Content limit: %d bytes, %v", len(got), err)
			}
		})
	}
}
