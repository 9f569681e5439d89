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
)

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
