package kimi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
)

// These tests check the upload's transport mechanics against a loopback
// server: streaming, framing, limits, replay.

const fileJSON = `{"id":"f1","object":"file","bytes":%d,"created_at":1700815879,"filename":"a.txt","purpose":"file-extract","status":"ok","status_details":""}`

// uploadSeen is what a test server saw of one upload request.
type uploadSeen struct {
	contentLength int64
	chunked       bool
	purpose       string
	filename      string
	partType      string
	data          []byte
	fields        []string // part names in order
}

// readUpload parses a multipart upload, body being r's.
func readUpload(r *http.Request, body io.Reader) (*uploadSeen, error) {
	s := &uploadSeen{contentLength: r.ContentLength, chunked: len(r.TransferEncoding) > 0 && r.TransferEncoding[0] == "chunked"}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errors.New("content type " + r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.fields = append(s.fields, p.FormName())
		b, err := io.ReadAll(p)
		if err != nil {
			return s, err
		}
		switch p.FormName() {
		case "purpose":
			s.purpose = string(b)
		case "file":
			s.filename, s.partType, s.data = p.FileName(), p.Header.Get("Content-Type"), b
		}
	}
}

// uploads starts a loopback server answering uploads with statuses, then
// with a file object, and returns a client for it.
func uploads(t *testing.T, statuses ...int) (*kimi.Client, *kimi.Loopback) {
	t.Helper()
	var steps []http.HandlerFunc
	for _, status := range statuses {
		steps = append(steps, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, `{"error":{"type":"server_unavailable","message":"try later"}}`)
		})
	}
	steps = append(steps, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, strings.Replace(fileJSON, "%d", "5", 1))
	})
	return loopback(t, steps...)
}

// upload parses the i-th upload srv received.
func upload(t *testing.T, srv *kimi.Loopback, i int) *uploadSeen {
	t.Helper()
	r, body := srv.Request(i)
	s, err := readUpload(r, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("upload %d: %v", i+1, err)
	}
	return s
}

func TestUploadFraming(t *testing.T) {
	c, srv := uploads(t)
	payload := []byte("hello, \"world\"\n")
	var progress []int64
	f, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{
		Filename: `re"port.md`, Reader: bytes.NewReader(payload),
		Progress: func(n int64) { progress = append(progress, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "f1" || f.Status != kimi.FileStatusOK || f.Created().Unix() != 1700815879 {
		t.Errorf("file = %+v", f)
	}
	if n := srv.Hits.Load(); n != 1 {
		t.Fatalf("requests %d", n)
	}
	s := upload(t, srv, 0)
	if s.purpose != kimi.PurposeFileExtract || s.filename != `re"port.md` || !bytes.Equal(s.data, payload) {
		t.Errorf("purpose %q filename %q data %q", s.purpose, s.filename, s.data)
	}
	if strings.Join(s.fields, ",") != "purpose,file" {
		t.Errorf("field order %v, want purpose first", s.fields)
	}
	if s.partType != "text/markdown; charset=utf-8" {
		t.Errorf("part content type %q", s.partType)
	}
	// A bytes.Reader has a known size: Content-Length, not chunked.
	if s.chunked || s.contentLength <= int64(len(payload)) {
		t.Errorf("content length %d, chunked %t", s.contentLength, s.chunked)
	}
	if len(progress) == 0 || progress[len(progress)-1] != int64(len(payload)) {
		t.Errorf("progress = %v", progress)
	}
}

// onlyReader hides every method but Read (no Seek, no Len).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadUnknownSizeIsChunked(t *testing.T) {
	c, srv := uploads(t)
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	if _, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{
		Filename: "a.txt", Purpose: kimi.PurposeBatch, Reader: onlyReader{bytes.NewReader(payload)},
	}); err != nil {
		t.Fatal(err)
	}
	s := upload(t, srv, 0)
	if !s.chunked || s.contentLength != -1 || !bytes.Equal(s.data, payload) || s.purpose != kimi.PurposeBatch {
		t.Errorf("chunked %t length %d, %d bytes, purpose %q", s.chunked, s.contentLength, len(s.data), s.purpose)
	}
}

// TestUploadStreams proves the body is streamed: the server receives the
// first file bytes while the client's reader (an io.Pipe) has not been
// closed, which a client buffering the file first could not do. Its
// server is a plain httptest one: kimi.Loopback reads each body whole
// before its step runs, which would hide whether it streams.
func TestUploadStreams(t *testing.T) {
	first := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			if p.FormName() != "file" {
				continue
			}
			buf := make([]byte, 5)
			if _, err := io.ReadFull(p, buf); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			first <- buf
			rest, err := io.ReadAll(p)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			io.WriteString(w, strings.Replace(fileJSON, "%d", strconv.Itoa(5+len(rest)), 1))
			return
		}
	}))
	defer srv.Close()
	c := kimi.NewTestClient(t, srv.URL+"/v1", func(c *kimi.Config) { c.HTTPClient = srv.Client() })

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "live.log", Reader: pr})
		done <- err
	}()
	if _, err := pw.Write([]byte("first chunk of a live log\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-first:
		if string(b) != "first" {
			t.Errorf("server got %q", b)
		}
	case err := <-done:
		t.Fatalf("upload ended before the reader was closed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server saw no file byte while the reader was still open: the body is not streamed")
	}
	pw.Write([]byte("second chunk\n"))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUploadRefusedBeforeSending(t *testing.T) {
	c, srv := uploads(t)
	ctx := context.Background()

	tests := []struct {
		name  string
		req   *kimi.FileUploadRequest
		field string
		text  string
	}{
		{"over 100 MB", &kimi.FileUploadRequest{Filename: "big.pdf", Reader: onlyReader{strings.NewReader("x")}, Size: kimi.MaxFileBytes + 1},
			"Size", "kimi: invalid Size 104857601: must be at most 104857600 bytes (100 MB), Kimi's per-file limit"},
		{"empty seekable", &kimi.FileUploadRequest{Filename: "e.txt", Reader: strings.NewReader("")},
			"Size", "kimi: invalid Size 0: must not be zero"},
		{"empty buffer", &kimi.FileUploadRequest{Filename: "e.txt", Reader: new(bytes.Buffer)},
			"Size", "must not be zero"},
		{"size mismatch", &kimi.FileUploadRequest{Filename: "a.txt", Reader: strings.NewReader("abc"), Size: 4},
			"Size", "must match what the Reader holds (3 bytes"},
		{"no filename", &kimi.FileUploadRequest{Reader: strings.NewReader("abc")}, "Filename", "must not be empty"},
		{"newline in filename", &kimi.FileUploadRequest{Filename: "a\r\nX-Evil: 1", Reader: strings.NewReader("abc")}, "Filename", "CR, LF"},
		{"no reader", &kimi.FileUploadRequest{Filename: "a.txt"}, "Reader", "must not be nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Files.Upload(ctx, tt.req)
			var ve *kimi.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want a ValidationError on %s containing %q", err, tt.field, tt.text)
			}
		})
	}
	// A real file: the size comes from stat.
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o600)
	_, err := c.Files.UploadFile(ctx, empty, "")
	var ve *kimi.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "size of "+empty) || ve.Value != int64(0) {
		t.Errorf("empty file: %v", err)
	}
	if _, err := c.Files.UploadFile(ctx, dir, ""); !errors.As(err, &ve) || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := c.Files.UploadFile(ctx, filepath.Join(dir, "missing.txt"), ""); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A small limit and a real file over it.
	kimi.SetUploadLimit(c, 10)
	big := filepath.Join(dir, "big.txt")
	os.WriteFile(big, []byte("eleven byte"), 0o600)
	if _, err := c.Files.UploadFile(ctx, big, ""); !errors.As(err, &ve) || !strings.Contains(err.Error(), "must be at most 10 bytes") {
		t.Errorf("big file: %v", err)
	}
	if n := srv.Hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server; every case must be refused before sending", n)
	}
}

// countingReader yields n bytes of 'a' and counts what was read.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.left))
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.left -= int64(n)
	r.read.Add(int64(n))
	return n, nil
}

func TestUploadUnknownSizeOverLimitAborts(t *testing.T) {
	got := make(chan int, 10) // file bytes each request delivered
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		s, err := readUpload(r, r.Body)
		n := 0
		if s != nil {
			n = len(s.data)
		}
		if err != nil {
			// The aborted request: count what arrived of the file part.
			n = -1 - n
		}
		got <- n
		io.WriteString(w, strings.Replace(fileJSON, "%d", "1", 1))
	})
	const limit = 64 << 10
	kimi.SetUploadLimit(c, limit)

	src := &countingReader{left: 10 * limit}
	_, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "stream.bin", Reader: src})
	if !errors.Is(err, kimi.ErrFileTooLarge) {
		t.Fatalf("err = %v, want ErrFileTooLarge", err)
	}
	want := `"stream.bin": the Reader yielded more than 65536 bytes`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if r := src.read.Load(); r > limit+1 {
		t.Errorf("read %d bytes from the source, want at most limit+1 = %d", r, limit+1)
	}
	// The server sees a broken request (never a complete file).
	select {
	case n := <-got:
		if n >= 0 {
			t.Errorf("the server received a complete upload of %d bytes", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the aborted request never reached the server: not streamed?")
	}

	// Exactly at the limit passes.
	if _, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "exact.bin", Reader: &countingReader{left: limit}}); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
	if n := <-got; n != limit {
		t.Errorf("server received %d bytes, want %d", n, limit)
	}
	select {
	case n := <-got:
		t.Errorf("an extra request reached the server (%d): the stream was replayed", n)
	default:
	}
}

func TestUploadDeclaredSizeWrong(t *testing.T) {
	c, _ := uploads(t)
	ctx := context.Background()
	_, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "a.txt", Reader: onlyReader{strings.NewReader("abc")}, Size: 5})
	if err == nil || !strings.Contains(err.Error(), "the Reader ended after 3 of the 5 bytes Size announced") {
		t.Errorf("short reader: %v", err)
	}
	_, err = c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "a.txt", Reader: onlyReader{strings.NewReader("abcdefg")}, Size: 5})
	if err == nil || !strings.Contains(err.Error(), "more than the 5 bytes Size announced") {
		t.Errorf("long reader: %v", err)
	}
	boom := errors.New("disk on fire")
	_, err = c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "a.txt", Reader: io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom))})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `upload "a.txt": read`) {
		t.Errorf("failing reader: %v", err)
	}
}

func TestUploadRetryReplaysSeekableOnly(t *testing.T) {
	payload := bytes.Repeat([]byte("retry me "), 50000) // 450 kB: more than one transport buffer

	t.Run("seekable", func(t *testing.T) {
		c, srv := uploads(t, 503, 502)
		// Start mid-reader: the retry must seek back to here, not to 0.
		r := bytes.NewReader(append([]byte("HEADER"), payload...))
		r.Seek(6, io.SeekStart)
		var calls atomic.Int32
		f, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "a.txt", Reader: r,
			Progress: func(int64) { calls.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		if n := srv.Hits.Load(); f.ID != "f1" || n != 3 {
			t.Fatalf("file %v after %d requests, want 3", f, n)
		}
		for i := range 3 {
			if s := upload(t, srv, i); !bytes.Equal(s.data, payload) || s.contentLength <= 0 {
				t.Errorf("attempt %d: %d bytes (want %d), length %d", i+1, len(s.data), len(payload), s.contentLength)
			}
		}
	})
	t.Run("non-seekable", func(t *testing.T) {
		c, srv := uploads(t, 503)
		_, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "a.txt", Reader: onlyReader{bytes.NewReader(payload)}})
		if e := mustStatus(t, err, 503); e.Attempts != 1 {
			t.Fatalf("err = %v, want the 503 after one attempt", err)
		}
		if n := srv.Hits.Load(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
	t.Run("file", func(t *testing.T) {
		c, srv := uploads(t, 500)
		path := writeTemp(t, "doc.txt", string(payload))
		if _, err := c.Files.UploadFile(context.Background(), path, kimi.PurposeFileExtract); err != nil {
			t.Fatal(err)
		}
		if n, s := srv.Hits.Load(), upload(t, srv, 1); n != 2 || !bytes.Equal(s.data, payload) || s.filename != "doc.txt" {
			t.Errorf("%d requests; second carried %d bytes as %q", n, len(s.data), s.filename)
		}
	})
}

// The server answering before the body is read (a limit check on the
// Content-Length) must give its error, not a broken-pipe transport error.
func TestUploadEarlyServerAnswer(t *testing.T) {
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"File size is too large, max file size is 100MB, please confirm and re-upload the file"}}`)
	})
	_, err := c.Files.Upload(context.Background(), &kimi.FileUploadRequest{Filename: "a.txt", Reader: bytes.NewReader(make([]byte, 8<<10))})
	var apiErr *kimi.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.HasPrefix(apiErr.Message, "File size is too large") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeFileContent(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want kimi.FileContent
		err  bool
	}{
		{"documented", `{"content":"hello","file_type":"application/pdf","filename":"x.pdf","title":"","type":"file"}`,
			kimi.FileContent{Content: "hello", FileType: "application/pdf", Filename: "x.pdf", Type: "file"}, false},
		{"double encoded", `"{\"content\":\"hi\",\"type\":\"file\"}"`, kimi.FileContent{Content: "hi", Type: "file"}, false},
		{"missing and odd fields", ` {"content":"c","title":null,"type":7} `, kimi.FileContent{Content: "c", Type: "7"}, false},
		{"plain text", `just text`, kimi.FileContent{}, true},
		{"broken json", `{"content":`, kimi.FileContent{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := kimi.DecodeFileContent([]byte(tt.in))
			if tt.err {
				if !errors.Is(err, kimi.ErrBadResponse) {
					t.Fatalf("err = %v, want ErrBadResponse", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Extra = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
	got, _ := kimi.DecodeFileContent([]byte(`{"content":"c","pages":3}`))
	if string(got.Extra["pages"]) != "3" {
		t.Errorf("extra = %v", got.Extra)
	}
}

func TestWaitProcessed(t *testing.T) {
	var polls atomic.Int32
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		n := polls.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/bad"):
			io.WriteString(w, `{"id":"bad","status":"error","status_details":"Failed to extract file: encrypted pdf"}`)
		case n < 3:
			io.WriteString(w, `{"id":"slow","status":"processing","status_details":""}`)
		default:
			io.WriteString(w, `{"id":"slow","status":"ready","status_details":{"pages":2},"sha":"x"}`)
		}
	})
	ctx := context.Background()
	f, err := c.Files.WaitProcessed(ctx, "slow")
	if err != nil || f.Status != kimi.FileStatusReady || polls.Load() != 3 {
		t.Fatalf("file %+v, err %v after %d polls", f, err, polls.Load())
	}
	if f.StatusDetails != `{"pages":2}` || string(f.Extra["sha"]) != `"x"` {
		t.Errorf("details %q extra %v", f.StatusDetails, f.Extra)
	}
	_, err = c.Files.WaitProcessed(ctx, "bad")
	var fe *kimi.FileError
	if !errors.As(err, &fe) || fe.Details != "Failed to extract file: encrypted pdf" ||
		err.Error() != "kimi: file bad failed (status error): Failed to extract file: encrypted pdf" {
		t.Errorf("err = %v", err)
	}
	polls.Store(-100)
	cctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	if _, err := c.Files.WaitProcessed(cctx, "slow"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	// A Get that fails part-way (the file was deleted) ends the wait with
	// its error and the file as last seen, as WaitReady does.
	c, _ = loopback(t, kimi.Reply(200, `{"id":"gone","status":"processing"}`),
		kimi.Reply(404, `{"error":{"type":"resource_not_found_error","message":"file gone not found"}}`))
	f, err = c.Files.WaitProcessed(ctx, "gone")
	if mustStatus(t, err, 404); f == nil || f.Status != "processing" {
		t.Errorf("file as last seen = %+v, want the processing one", f)
	}
}
