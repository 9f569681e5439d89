package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// FileService is Kimi's file API (/files): upload a document, let the
// server extract its text (purpose file-extract), read that text back and
// put it into a system message. Uploading, extraction and storage are free;
// the extracted text is billed as prompt tokens when it is sent to chat.
type FileService struct{ c *Client }

// File purposes. Kimi accepted only file-extract until 2025; image, video
// (referenced in chat as "ms://<id>") and batch (JSONL input of the Batch
// API) came in 2026. Upload passes any other value through for the server
// to judge.
const (
	PurposeFileExtract = "file-extract"
	PurposeImage       = "image"
	PurposeVideo       = "video"
	PurposeBatch       = "batch"
)

// File statuses. Kimi does not enumerate them: "ok" is what the 2024 docs
// show, "ready" the OpenAPI example, "processed" what other SDKs expect;
// all three mean the file is usable. "error" means extraction failed and
// StatusDetails says why.
const (
	FileStatusOK        = "ok"
	FileStatusReady     = "ready"
	FileStatusProcessed = "processed"
	FileStatusError     = "error"
)

// Limits of the file API (per user): at most MaxFileCount files of at most
// MaxFileBytes each, MaxTotalFileBytes together. Upload enforces
// MaxFileBytes (and refuses empty files) before or while sending; the
// other two are the server's to report.
const (
	MaxFileBytes      = 100 << 20 // "max file size is 100MB"
	MaxFileCount      = 1000
	MaxTotalFileBytes = 10 << 30
)

// ErrFileTooLarge is wrapped by Upload's error when a reader of unknown
// size turns out to hold more than MaxFileBytes: the upload is aborted
// once the limit is passed, before the excess is sent. (A size known in
// advance is refused before sending, with a *ValidationError.)
var ErrFileTooLarge = sentinel("kimi: file exceeds the upload size limit", ErrBadRequest)

// File is a file object. Decoding is lenient: unknown fields are kept in
// Extra.
type File struct {
	ID            string `json:"id"`
	Object        string `json:"object,omitempty"`
	Bytes         int64  `json:"bytes"`
	CreatedAt     int64  `json:"created_at,omitempty"`
	Filename      string `json:"filename"`
	Purpose       string `json:"purpose"`
	Status        string `json:"status"`
	StatusDetails string `json:"status_details"`

	Extra map[string]json.RawMessage `json:"-"`
}

var fileFields = jsonFieldNames(File{})

// UnmarshalJSON keeps unknown fields in Extra and accepts a
// status_details that is not a string (its JSON text is kept).
func (f *File) UnmarshalJSON(data []byte) error {
	type plain File
	var p struct {
		plain
		StatusDetails json.RawMessage `json:"status_details"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*f = File(p.plain)
	f.StatusDetails = lenientString(p.StatusDetails)
	extra, err := unknownFields(data, fileFields)
	f.Extra = extra
	return err
}

// lenientString renders a JSON string as its value, null as "", and any
// other value as its JSON text.
func lenientString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}

// Created returns CreatedAt as a time (the zero time when it is unset).
func (f *File) Created() time.Time { return unixTime(f.CreatedAt) }

// FileList is the answer of GET /files: every file of the user.
type FileList struct {
	Object string `json:"object"`
	Data   []File `json:"data"`
}

// FileError is why a file ended in status error (extraction failed). It
// is WaitProcessed's error.
type FileError struct {
	ID      string
	Status  string
	Details string // the file's status_details
}

func (e *FileError) Error() string {
	msg := "kimi: file " + e.ID + " failed (status " + e.Status + ")"
	if e.Details != "" {
		msg += ": " + e.Details
	}
	return msg
}

// FileUploadRequest describes one upload.
//
// The body is streamed from Reader as it is sent: memory use does not
// grow with the file size. A request is retried (per the client's
// RetryPolicy) only when Reader is an io.Seeker whose Seek works (a file,
// a bytes.Reader): it is sought back to where it stood when Upload was
// called and read again. Any other reader (a pipe, a network stream) is
// read once, so a failed attempt returns its error without a retry. Upload
// does not start a Read after it returns; for a non-seekable reader a Read
// already in progress may still finish in the background.
type FileUploadRequest struct {
	// Filename is sent as the multipart file name; Kimi keeps it and
	// guesses the format from its extension. Required.
	Filename string
	// Purpose is one of the Purpose constants; "" means PurposeFileExtract.
	Purpose string
	// Reader yields the file's bytes. Required.
	Reader io.Reader
	// Size is the number of bytes Reader yields; 0 or negative means
	// unknown. A known size is checked before sending (more than
	// MaxFileBytes is refused) and sent as Content-Length; a reader that
	// then yields a different number of bytes fails the upload. For a
	// seekable Reader (and a *bytes.Buffer) an unknown size is measured.
	// An unknown size is counted while streaming: past MaxFileBytes the
	// upload is aborted with an error wrapping ErrFileTooLarge, and an
	// empty stream is left for the server to refuse.
	Size int64
	// Progress, if set, is called after each chunk read from Reader with
	// the number of file bytes read so far (the multipart framing is not
	// counted); the bytes have been handed to the connection or are about
	// to be. It runs on the HTTP transport's goroutine, so it must be quick
	// and safe for concurrent use with the caller. A retry starts again
	// from the first byte.
	Progress func(sent int64)
}

// Upload uploads a file (POST /files, multipart/form-data with the fields
// purpose and file, streamed). An empty file, or a known Size above
// MaxFileBytes, is refused with a *ValidationError before anything is
// sent; see FileUploadRequest for unknown sizes and retries. Server limits
// (1000 files, 10 GB in all, an invalid purpose) come back as an *Error
// with Kimi's message.
//
// A server that refuses an upload part-way through the body (Kimi checks
// the file count and total size as the file arrives) may close the
// connection before the client has written everything; Go's HTTP/1
// transport then reports the broken connection rather than the server's
// message. Small files are not affected (the body is written before the
// answer).
//
// For purpose file-extract the server extracts the text during or after
// the upload: call WaitProcessed before ExtractedText when the returned
// status is not yet FileStatusOK.
func (s *FileService) Upload(ctx context.Context, r *FileUploadRequest, opts ...RequestOption) (*File, error) {
	return s.upload(ctx, r, "Size", opts)
}

// UploadFile uploads the file at path with its base name as the file name.
// "" purpose means PurposeFileExtract. The size comes from the file system,
// so an empty or oversized file is refused before sending, and failed
// attempts are retried (a regular file can be read again).
func (s *FileService) UploadFile(ctx context.Context, path, purpose string, opts ...RequestOption) (*File, error) {
	// A missing or unreadable local file is the caller's argument at
	// fault, not the network's.
	f, err := os.Open(path)
	if err != nil {
		return nil, WithKind(fmt.Errorf("kimi: upload: %w", err), ErrBadRequest)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, WithKind(fmt.Errorf("kimi: upload: %w", err), ErrBadRequest)
	}
	if st.IsDir() {
		return nil, invalid("file", path, "is a directory")
	}
	size := int64(-1) // a pipe or device: unknown, counted while streaming
	if st.Mode().IsRegular() {
		size = st.Size()
	}
	return s.upload(ctx, &FileUploadRequest{Filename: filepath.Base(path), Purpose: purpose, Reader: f, Size: size},
		"size of "+path, opts)
}

func (s *FileService) upload(ctx context.Context, r *FileUploadRequest, sizeField string, opts []RequestOption) (*File, error) {
	if r == nil {
		return nil, invalid("request", nil, "must not be nil")
	}
	if r.Reader == nil {
		return nil, invalid("Reader", nil, "must not be nil")
	}
	if strings.TrimSpace(r.Filename) == "" {
		return nil, invalid("Filename", r.Filename, "must not be empty: Kimi keeps the name and guesses the format from its extension")
	}
	if strings.ContainsAny(r.Filename, "\r\n\x00") {
		return nil, invalid("Filename", r.Filename, "must not contain CR, LF or NUL")
	}
	purpose := r.Purpose
	if purpose == "" {
		purpose = PurposeFileExtract
	}
	limit := s.c.maxUpload
	u := &upload{src: r.Reader, size: r.Size, limit: limit, progress: r.Progress, name: r.Filename}
	if u.size <= 0 {
		u.size = -1
	}
	if err := u.measure(sizeField); err != nil {
		return nil, err
	}
	switch {
	case u.size == 0:
		return nil, invalid(sizeField, int64(0), "must not be zero: Kimi refuses empty files (\"File size is zero\")")
	case u.size > limit:
		return nil, invalid(sizeField, u.size, "must be at most %d bytes (%s), Kimi's per-file limit", limit, sizeText(limit))
	}
	if err := u.frame(purpose); err != nil {
		return nil, err
	}
	first, _ := u.open()
	sb := &streamBody{body: first, contentType: u.contentType, length: -1}
	if u.size >= 0 {
		sb.length = int64(len(u.prefix)) + u.size + int64(len(u.trailer))
	}
	if u.seeker != nil {
		sb.getBody = u.open
	}
	req, err := s.c.newRequest(ctx, http.MethodPost, "files", sb, opts)
	if err != nil {
		return nil, err
	}
	f := new(File)
	_, err = s.c.do(req, f)
	u.finish()
	var apiErr *Error
	if serr := u.streamErr(); serr != nil && !errors.As(err, &apiErr) {
		// The reader broke the upload (too large, wrong size, read error):
		// that, not the transport's report of the aborted request, is the
		// cause. A server that answered has the last word.
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// upload is the state of one Upload call across attempts.
type upload struct {
	src      io.Reader
	seeker   io.Seeker // nil: read once, never retried
	start    int64     // seeker offset at the call
	size     int64     // -1: unknown
	limit    int64
	progress func(int64)
	name     string

	prefix, trailer []byte // multipart framing around the file bytes
	contentType     string

	mu  sync.Mutex // guards cur; held by open while it waits for a Read
	cur *uploadBody

	emu sync.Mutex // guards err; taken inside Read, so never while holding mu
	err error      // first stream error of any attempt
}

// measure finds the seekable reader and fills in an unknown size from it.
func (u *upload) measure(sizeField string) error {
	switch rs := u.src.(type) {
	case io.Seeker:
		start, err := rs.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil // not really seekable (a pipe behind an *os.File): stream once
		}
		end, err := rs.Seek(0, io.SeekEnd)
		if err != nil {
			return nil
		}
		if _, err := rs.Seek(start, io.SeekStart); err != nil {
			return WithKind(fmt.Errorf("kimi: upload: seek back after measuring the Reader: %w", err), ErrBadRequest)
		}
		u.seeker, u.start = rs, start
		if u.size < 0 {
			u.size = end - start
		} else if u.size != end-start {
			return invalid(sizeField, u.size, "must match what the Reader holds (%d bytes from its current offset)", end-start)
		}
	case *bytes.Buffer:
		if u.size < 0 {
			u.size = int64(rs.Len())
		}
	}
	return nil
}

// frame builds the multipart framing. The file part is last, so the body
// is prefix, the file bytes, trailer: streamed without a pipe or a
// goroutine, and of a computable length.
func (u *upload) frame(purpose string) error {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("purpose", purpose); err != nil {
		return fmt.Errorf("kimi: upload: %w", err)
	}
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(u.name)))
	ct := mime.TypeByExtension(filepath.Ext(u.name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	if _, err := mw.CreatePart(h); err != nil {
		return fmt.Errorf("kimi: upload: %w", err)
	}
	u.prefix = bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return fmt.Errorf("kimi: upload: %w", err)
	}
	u.trailer = bytes.Clone(buf.Bytes())
	u.contentType = mw.FormDataContentType()
	return nil
}

// quoteEscaper escapes a multipart file name as mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

// open returns a fresh body for the next attempt: the previous one is
// stopped (an in-flight Read finishes first) and the reader sought back.
// It is the request's GetBody when the reader is seekable.
func (u *upload) open() (io.ReadCloser, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cur != nil {
		u.cur.stop()
		if err := u.streamErr(); err != nil {
			return nil, err
		}
		if _, err := u.seeker.Seek(u.start, io.SeekStart); err != nil {
			return nil, fmt.Errorf("kimi: upload: rewind the Reader for a retry: %w", err)
		}
	}
	fr := &fileReader{u: u, r: u.src}
	u.cur = &uploadBody{r: io.MultiReader(bytes.NewReader(u.prefix), fr, bytes.NewReader(u.trailer))}
	return u.cur, nil
}

// finish stops the last attempt's body once the call is over, so that the
// caller's reader is not read after Upload returns. For a seekable reader
// it waits for a Read in progress (a file does not block); any other
// reader might block indefinitely, so it is only marked closed.
func (u *upload) finish() {
	u.mu.Lock()
	b := u.cur
	u.mu.Unlock()
	if b == nil {
		return
	}
	if u.seeker != nil {
		b.stop()
	} else {
		b.closed.Store(true)
	}
}

func (u *upload) fail(err error) error {
	u.emu.Lock()
	defer u.emu.Unlock()
	if u.err == nil {
		u.err = err
	}
	return u.err
}

func (u *upload) streamErr() error {
	u.emu.Lock()
	defer u.emu.Unlock()
	return u.err
}

var errUploadClosed = errors.New("kimi: upload body closed")

// uploadBody is one attempt's request body.
type uploadBody struct {
	mu     sync.Mutex // held during Read, so stop can wait for it
	closed atomic.Bool
	r      io.Reader
}

func (b *uploadBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return 0, errUploadClosed
	}
	return b.r.Read(p)
}

// Close is called by the transport, possibly while a Read is in progress
// on another goroutine; it only marks the body closed.
func (b *uploadBody) Close() error {
	b.closed.Store(true)
	return nil
}

// stop closes the body and waits for a Read in progress to return.
func (b *uploadBody) stop() {
	b.closed.Store(true)
	// Taking the lock waits for a Read in progress, which holds it.
	b.mu.Lock()
	defer b.mu.Unlock()
}

// fileReader counts the file bytes of one attempt and enforces the limit
// and the declared size.
type fileReader struct {
	u *upload
	r io.Reader
	n int64
}

func (f *fileReader) Read(p []byte) (int, error) {
	u := f.u
	if u.size < 0 && int64(len(p)) > u.limit-f.n+1 {
		p = p[:u.limit-f.n+1] // never read further past the limit than one byte
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	switch {
	case u.size >= 0 && f.n > u.size:
		return 0, u.fail(WithKind(fmt.Errorf("kimi: upload %q: the Reader yielded more than the %d bytes Size announced", u.name, u.size), ErrBadRequest))
	case u.size < 0 && f.n > u.limit:
		return 0, u.fail(fmt.Errorf("%w: %q: the Reader yielded more than %d bytes (%s, Kimi's per-file limit); the upload was aborted",
			ErrFileTooLarge, u.name, u.limit, sizeText(u.limit)))
	}
	if n > 0 && u.progress != nil {
		u.progress(f.n)
	}
	switch {
	case err == io.EOF && u.size >= 0 && f.n < u.size:
		return n, u.fail(WithKind(fmt.Errorf("kimi: upload %q: the Reader ended after %d of the %d bytes Size announced", u.name, f.n, u.size), ErrBadRequest))
	case err != nil && err != io.EOF:
		// The caller's Reader failed, not the network.
		return n, u.fail(WithKind(fmt.Errorf("kimi: upload %q: read: %w", u.name, err), ErrBadRequest))
	}
	return n, err
}

// List returns every file of the user (GET /files).
func (s *FileService) List(ctx context.Context, opts ...RequestOption) (*FileList, error) {
	return get[FileList](ctx, s.c, "files", opts)
}

// Get returns a file's metadata (GET /files/{id}); an unknown id is a 404
// *Error.
func (s *FileService) Get(ctx context.Context, id string, opts ...RequestOption) (*File, error) {
	return getID[File](ctx, s.c, "file id", id, "files/%s", opts)
}

// Delete deletes a file (DELETE /files/{id}); an unknown id is a 404
// *Error.
func (s *FileService) Delete(ctx context.Context, id string, opts ...RequestOption) error {
	return deleteID(ctx, s.c, "file id", id, "files/%s", opts)
}

// MaxContentBytes is the largest body of GET /files/{id}/content that
// Content and ExtractedText read into memory: 256 MiB, over twice
// MaxFileBytes, the largest file Kimi accepts. A larger body is refused with
// an error wrapping ErrBadResponse that names its size and the limit,
// rather than growing without bound. ContentReader has no limit: it hands
// over the open body for the caller to stream.
const MaxContentBytes = 256 << 20

// contentLimits holds per-client overrides of MaxContentBytes (*Client to
// int64). Only tests set them (export_test.go), to reach the limit
// without sending 256 MiB.
var contentLimits sync.Map

func (s *FileService) contentLimit() int64 {
	if n, ok := contentLimits.Load(s.c); ok {
		return n.(int64)
	}
	return MaxContentBytes
}

// ContentReader returns the body of GET /files/{id}/content as it
// arrives, for the caller to read and close; nothing is buffered, so the
// body can be copied to a file or stdout in constant memory. A non-2xx
// status is an *Error (and no body); ctx bounds the reading too.
func (s *FileService) ContentReader(ctx context.Context, id string, opts ...RequestOption) (io.ReadCloser, error) {
	resp, err := s.content(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func (s *FileService) content(ctx context.Context, id string, opts []RequestOption) (*http.Response, error) {
	if err := validateID("file id", id); err != nil {
		return nil, err
	}
	// The body is usually JSON, but Kimi does not promise it.
	opts = append([]RequestOption{acceptByDefault("application/json, text/plain, */*")}, opts...)
	req, err := s.c.newRequest(ctx, http.MethodGet, "files/"+url.PathEscape(id)+"/content", nil, opts)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.do(req, nil)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Content returns the body of GET /files/{id}/content as it is. For a
// file-extract file it is a JSON document (see DecodeFileContent) that
// Kimi recommends putting, whole and as text, into a system message.
// A body over MaxContentBytes is an error wrapping ErrBadResponse; use
// ContentReader to stream a body of any size.
func (s *FileService) Content(ctx context.Context, id string, opts ...RequestOption) ([]byte, error) {
	resp, err := s.content(ctx, id, opts)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := s.contentLimit()
	tooLarge := func(size string) error {
		return fmt.Errorf("%w: content of file %s is %s, over the %s limit of Content (MaxContentBytes); stream it with ContentReader",
			ErrBadResponse, id, size, sizeText(limit))
	}
	fail := func(err error) error {
		return readError(fmt.Sprintf("read %s response (request %s)", resp.Request.URL.Path, requestID(resp.Header)), err)
	}
	if n := resp.ContentLength; n > limit {
		return nil, tooLarge(sizeText(n))
	} else if n >= 0 {
		// The size is known: one buffer of exactly that size, not the
		// doubling of io.ReadAll (net/http ends the body at n bytes).
		b := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			return nil, fail(err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fail(err)
	}
	if int64(len(b)) > limit {
		return nil, tooLarge("more than " + sizeText(limit))
	}
	return b, nil
}

// FileContent is the decoded extraction result of a file-extract file.
type FileContent struct {
	Content  string `json:"content"`   // the extracted text
	FileType string `json:"file_type"` // e.g. "application/pdf"
	Filename string `json:"filename"`
	Title    string `json:"title"`
	Type     string `json:"type"` // "file"

	Extra map[string]json.RawMessage `json:"-"`
}

var fileContentFields = jsonFieldNames(FileContent{})

// DecodeFileContent decodes the body of GET /files/{id}/content:
// {"content":"…","file_type":"…","filename":"…","title":"…","type":"file"}.
// It is lenient: missing fields stay empty, unknown ones go to Extra, a
// field that is not a string keeps its JSON text, and a body that is
// itself a JSON string holding that object (double-encoded) is accepted.
// A body that is not a JSON object is an error wrapping ErrBadResponse.
func DecodeFileContent(b []byte) (*FileContent, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err == nil {
			b = bytes.TrimSpace([]byte(s))
		}
	}
	var raw map[string]json.RawMessage
	if len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("%w: file content is not a JSON object (%d bytes)", ErrBadResponse, len(b))
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: file content: %w", ErrBadResponse, err)
	}
	fc := &FileContent{
		Content: lenientString(raw["content"]), FileType: lenientString(raw["file_type"]),
		Filename: lenientString(raw["filename"]), Title: lenientString(raw["title"]), Type: lenientString(raw["type"]),
	}
	for k, v := range raw {
		if !fileContentFields[k] {
			if fc.Extra == nil {
				fc.Extra = map[string]json.RawMessage{}
			}
			fc.Extra[k] = v
		}
	}
	return fc, nil
}

// ExtractedText is Content decoded by DecodeFileContent; like Content it
// refuses a body over MaxContentBytes.
func (s *FileService) ExtractedText(ctx context.Context, id string, opts ...RequestOption) (*FileContent, error) {
	b, err := s.Content(ctx, id, opts...)
	if err != nil {
		return nil, err
	}
	return DecodeFileContent(b)
}

// waitFileSchedule spaces WaitProcessed's Gets.
var waitFileSchedule = schedule{first: 100 * time.Millisecond, limit: 2 * time.Second}

// WaitProcessed polls Get until the file is usable (status ok, ready or
// processed, or no status at all) and returns it. Status error gives a
// *FileError carrying status_details; a failed Get its error. Any other
// status is taken as "still processing". ctx bounds the wait; when it
// ends the wait, the file as last seen is returned with the error. opts
// apply to every Get.
func (s *FileService) WaitProcessed(ctx context.Context, id string, opts ...RequestOption) (*File, error) {
	return poll(ctx, s.c, "file", id, opts, waitFileSchedule, s.Get, func(f *File) (string, bool, error) {
		switch strings.ToLower(f.Status) {
		case FileStatusOK, FileStatusReady, FileStatusProcessed, "":
			return f.Status, true, nil
		case FileStatusError, "failed":
			return f.Status, true, &FileError{ID: id, Status: f.Status, Details: f.StatusDetails}
		}
		return f.Status, false, nil
	})
}
