package kimitest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Files (https://platform.moonshot.ai/docs/api/files): POST /v1/files
// (multipart), GET /v1/files,
// GET /v1/files/{id}, GET /v1/files/{id}/content, DELETE /v1/files/{id}.
// Files are per account: another account's file id is answered exactly
// like an unknown one (404).
//
// Upload. The multipart body is streamed (mime/multipart.Reader, never
// ParseMultipartForm): the `file` part is read through a limit of
// min(MaxFileBytes, room left under MaxTotalBytes) + 1 bytes, so an
// oversized upload is refused after reading at most one byte more than
// the limit, and the response closes the connection (Connection: close)
// instead of draining the rest. The `purpose` field may come before or
// after the file; a missing or empty purpose means file-extract (the 2026
// docs say it defaults; go-moonshot even sends a misspelt "purpose "
// field, which is ignored like any unknown field). Accepted purposes:
// file-extract, image, video, batch (2026); others are refused with
// `Invalid purpose: only 'file-extract', 'image', 'video', 'batch' accepted`
// (the 2025 text listed file-extract only). A missing filename is stored
// as "upload" (as in the docs' content sample). Validation order:
// purpose (as soon as it is known), file count, size (streamed), zero
// size, total size.
//
// Limits (400 invalid_request_error), configurable with
// WithFileLimits; sizes are binary (100 MB = 100 MiB) and printed as
// "<n>MB"/"<n>GB" when whole, else "<n>KB" or "<n> bytes":
//
//	File size is too large, max file size is 100MB, please confirm and re-upload the file
//	File size is zero, please confirm and re-upload the file
//	The number of files you have uploaded exceeded the max file count 1000, please delete previous uploaded files
//	The total size of the files you have uploaded exceeded the max total size 10GB, please delete previous uploaded files
//	The number of batch files you have uploaded exceeded the max batch file count 1000, please delete previous uploaded batch files
//
// (the last two texts are the emulator's own, in the style of the count
// error: the docs state the 10 GB and 1,000 batch-file limits but not
// their messages; see assumed.go).
//
// Storage. A file's bytes are kept in memory up to memBlobLimit (256 KiB)
// and otherwise in a temporary directory (os.MkdirTemp, created on first
// need) that Emulator.Close (and so Server.Close and NewServer's cleanup)
// removes; the same holds for the extracted text, except that a UTF-8
// text file is its own extracted text (a view of the file's bytes past
// any BOM: a 100 MB upload is neither read into memory nor copied).
// Deleting a file deletes its bytes.
//
// FileObject: id (20 lowercase alphanumerics), object "file",
// bytes, created_at (emulated clock), filename, purpose, status "ok" (the
// 2024 sample; the docs do not enumerate statuses) or "error"
// when extraction failed, with status_details saying why ("" otherwise).
// Files of the other purposes are stored as sent, status "ok"; an image
// or video file must be in a format chat takes (media.go), else the
// upload is refused with "Invalid request: unsupported image format:
// {type}" (or video), the type sniffed from its first bytes. Chat
// messages refer to them as ms://<file_id>.
//
// Listing returns the account's files in upload order.
//
// Content (file-extract only) is the documented JSON document
// {"content":…,"file_type":…,"filename":…,"title":"","type":"file"},
// streamed (the text is JSON-escaped as it is copied from storage),
// served as text/plain; charset=utf-8 (the OpenAPI content type; the
// body is a JSON string the docs tell users to paste into a message). A
// file whose extraction failed answers 500 server_error
// `Failed to extract file: {error}` (the upload itself succeeded with
// status "error"); a file of another purpose answers 400
// `Invalid request: file {id} has purpose {purpose}, content is only available for file-extract files`.
// An unknown id answers 404 resource_not_found_error
// `Not found the file {id} or Permission denied`.
//
// File endpoints are not inference: they are neither rate limited nor
// billed (uploads, extraction and storage are free).

// FileLimits are the per-account file limits. Zero fields mean the
// defaults: 1,000 files, 100 MB each, 10 GB in all, and 1,000 of
// purpose batch (the Batch API guide's per-organization quota).
type FileLimits struct {
	MaxFiles      int   // files an account may hold
	MaxFileBytes  int64 // size of one file
	MaxTotalBytes int64 // sum of the sizes of an account's files
	MaxBatchFiles int   // files of purpose batch an account may hold
}

func (l FileLimits) withDefaults() FileLimits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = 1000
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = 100 << 20
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = 10 << 30
	}
	if l.MaxBatchFiles <= 0 {
		l.MaxBatchFiles = 1000
	}
	return l
}

// memBlobLimit is the largest blob kept in memory; larger ones go to disk.
const memBlobLimit = 256 << 10

// maxFormField bounds the non-file form fields (purpose and unknown ones).
const maxFormField = 64 << 10

var filePurposes = []string{"file-extract", "image", "video", "batch"}

// fileStore is an account's files.
type fileStore struct {
	mu    sync.Mutex
	files map[string]*storedFile
	order []string // ids in upload order
	total int64    // bytes of all files

	batches batchStore // the organization's batches (batches.go)
}

// countPurpose counts the files of one purpose; the caller holds fs.mu.
// A scan is enough: a store holds at most FileLimits.MaxFiles files.
func (fs *fileStore) countPurpose(purpose string) int {
	n := 0
	for _, f := range fs.files {
		if f.purpose == purpose {
			n++
		}
	}
	return n
}

func newFileStore() *fileStore { return &fileStore{files: map[string]*storedFile{}} }

type storedFile struct {
	id       string
	created  time.Time
	filename string
	purpose  string
	data     *blob
	// Extraction (file-extract): the text, or why it failed.
	fileType   string
	text       *blob
	extractErr string
}

type fileObject struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Bytes         int64  `json:"bytes"`
	CreatedAt     int64  `json:"created_at"`
	Filename      string `json:"filename"`
	Purpose       string `json:"purpose"`
	Status        string `json:"status"`
	StatusDetails string `json:"status_details"`
}

func (f *storedFile) object() fileObject {
	o := fileObject{ID: f.id, Object: "file", Bytes: f.data.size, CreatedAt: f.created.Unix(),
		Filename: f.filename, Purpose: f.purpose, Status: "ok"}
	if f.extractErr != "" {
		o.Status, o.StatusDetails = "error", f.extractErr
	}
	return o
}

func (f *storedFile) remove() {
	f.data.remove()
	f.text.remove()
}

// blob is bytes in memory or in a file of the emulator's directory (from
// offset off on). A shared blob is a view of another one (plain text is
// its own extracted text) and removing it leaves the bytes alone.
type blob struct {
	mem    []byte
	path   string
	off    int64
	size   int64
	shared bool
}

// view returns the blob's bytes from offset skip on, without copying.
func (b *blob) view(skip int64) *blob {
	v := &blob{path: b.path, off: b.off + skip, size: b.size - skip, shared: true}
	if b.path == "" {
		v.mem = b.mem[skip:]
	}
	return v
}

// open returns a reader over the blob; close it when done.
func (b *blob) open() (interface {
	io.ReaderAt
	io.Reader
	io.Closer
}, error) {
	if b.path == "" {
		return nopCloser{bytes.NewReader(b.mem)}, nil
	}
	f, err := os.Open(b.path)
	if err != nil {
		return nil, err
	}
	return sectionFile{io.NewSectionReader(f, b.off, b.size), f}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

type sectionFile struct {
	*io.SectionReader
	io.Closer
}

func (b *blob) remove() {
	if b != nil && b.path != "" && !b.shared {
		os.Remove(b.path)
	}
}

// blobDir is the emulator's temporary directory, created on first need.
type blobDir struct {
	mu     sync.Mutex
	dir    string
	closed bool
}

var errEmulatorClosed = errors.New("kimitest: emulator closed")

// create makes a new file in the directory.
func (d *blobDir) create() (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errEmulatorClosed
	}
	if d.dir == "" {
		dir, err := os.MkdirTemp("", "kimitest-files-")
		if err != nil {
			return nil, err
		}
		d.dir = dir
	}
	return os.CreateTemp(d.dir, "blob-")
}

func (d *blobDir) path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dir
}

func (d *blobDir) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.dir == "" {
		return nil
	}
	err := os.RemoveAll(d.dir)
	d.dir = ""
	return err
}

// spool reads r into a blob: in memory up to memBlobLimit, then on disk.
// It reads at most limit+1 bytes; over reports that r had more than limit
// (the blob is then discarded).
func (e *Emulator) spool(r io.Reader, limit int64) (b *blob, over bool, err error) {
	lr := io.LimitReader(r, limit+1)
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, lr, memBlobLimit+1)
	if err != nil && err != io.EOF {
		return nil, false, err
	}
	if n <= memBlobLimit {
		if n > limit {
			return nil, true, nil
		}
		return &blob{mem: buf.Bytes(), size: n}, false, nil
	}
	f, err := e.blobs.create()
	if err != nil {
		return nil, false, err
	}
	b = &blob{path: f.Name()}
	m, err := io.Copy(f, io.MultiReader(&buf, lr))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || m > limit {
		b.remove()
		return nil, err == nil, err
	}
	b.size = m
	return b, false, nil
}

// storeText stores extracted text as a blob.
func (e *Emulator) storeText(p string) (*blob, error) {
	if len(p) <= memBlobLimit {
		return &blob{mem: []byte(p), size: int64(len(p))}, nil
	}
	f, err := e.blobs.create()
	if err != nil {
		return nil, err
	}
	_, err = io.WriteString(f, p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &blob{path: f.Name(), size: int64(len(p))}, nil
}

// newFileID is a fresh file id: prefix (WithFileIDPrefix) and 20 random
// lower-case letters and digits.
func newFileID(prefix string) string {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return prefix + string(b)
}

// humanSize prints a limit the way the size error does ("100MB").
func humanSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func errFileTooLarge(max int64) *apiError {
	return errBadRequest("File size is too large, max file size is %s, please confirm and re-upload the file", humanSize(max))
}

var errFileEmpty = errBadRequest("File size is zero, please confirm and re-upload the file")

func errTooManyFiles(max int) *apiError {
	return errBadRequest("The number of files you have uploaded exceeded the max file count %d, please delete previous uploaded files", max)
}

func errFilesTooBig(max int64) *apiError {
	return errBadRequest("The total size of the files you have uploaded exceeded the max total size %s, please delete previous uploaded files", humanSize(max))
}

func errBadPurpose() *apiError {
	return errBadRequest("Invalid purpose: only 'file-extract', 'image', 'video', 'batch' accepted")
}

func errFileNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error", Message: "Not found the file " + id + " or Permission denied"}
}

func errServer(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusInternalServerError, Type: "server_error", Message: fmt.Sprintf(format, args...)}
}

// readErrReader records the error of its reader, telling a broken
// request body from a failure to store it.
type readErrReader struct {
	r   io.Reader
	err error
}

func (r *readErrReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// errBadBody is the 400 of a multipart body that cannot be read: cut
// short, stalled, over the size cap or not well formed. The message is
// the emulator's, not the reader's (which names Go packages).
func errBadBody(err error) *apiError {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errBodyTimeout):
		return errInvalid("malformed multipart body: %v", errBodyTimeout)
	case errors.As(err, &mbe):
		return errInvalid("total message size exceeds limit %d", mbe.Limit)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errInvalid("malformed multipart body: the body ended before the closing boundary")
	}
	return errInvalid("malformed multipart body: it is not valid multipart/form-data")
}

// refuseUpload answers an upload error and closes the connection, so that
// the unread rest of a large body is not drained.
func refuseUpload(w http.ResponseWriter, aerr *apiError) {
	w.Header().Set("Connection", "close")
	writeError(w, aerr)
}

func (e *Emulator) handleUploadFile(w http.ResponseWriter, r *http.Request, a *account) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		refuseUpload(w, errInvalid("Content-Type must be multipart/form-data with a boundary"))
		return
	}
	lim := e.cfg.fileLimits
	fs := a.files
	mr := multipart.NewReader(r.Body, params["boundary"])
	var (
		purpose  string
		data     *blob
		filename string
	)
	discard := func() {
		if data != nil {
			data.remove()
			data = nil
		}
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			discard()
			refuseUpload(w, errBadBody(err))
			return
		}
		if len(part.FileName()) > maxFilenameBytes {
			discard()
			refuseUpload(w, errInvalid("filename is too long: at most %d bytes are allowed, got %d", maxFilenameBytes, len(part.FileName())))
			return
		}
		switch part.FormName() {
		case "purpose":
			v, aerr := readFormField(part)
			if aerr != nil {
				discard()
				refuseUpload(w, aerr)
				return
			}
			purpose = v
			if purpose != "" && !slices.Contains(filePurposes, purpose) {
				discard()
				refuseUpload(w, errBadPurpose())
				return
			}
		case "file":
			if data != nil {
				discard()
				refuseUpload(w, errInvalid("only one file may be uploaded per request"))
				return
			}
			fs.mu.Lock()
			count, used := len(fs.files), fs.total
			fs.mu.Unlock()
			if count >= lim.MaxFiles {
				refuseUpload(w, errTooManyFiles(lim.MaxFiles))
				return
			}
			room := max(lim.MaxTotalBytes-used, 0)
			limit := min(lim.MaxFileBytes, room)
			src := &readErrReader{r: part}
			b, over, err := e.spool(src, limit)
			if src.err != nil {
				// The client's body broke off or stalled: its mistake,
				// not a storage failure, and not worth a retry as is.
				refuseUpload(w, errBadBody(src.err))
				return
			}
			if err != nil {
				refuseUpload(w, errServer("failed to store file"))
				e.cfg.logger.Error("kimitest: storing an upload", slog.String("error", err.Error()))
				return
			}
			if over {
				if limit == lim.MaxFileBytes {
					refuseUpload(w, errFileTooLarge(lim.MaxFileBytes))
				} else {
					refuseUpload(w, errFilesTooBig(lim.MaxTotalBytes))
				}
				return
			}
			if b.size == 0 {
				refuseUpload(w, errFileEmpty)
				return
			}
			data, filename = b, part.FileName()
		default:
			// Unknown fields are ignored, within reason.
			if _, aerr := readFormField(part); aerr != nil {
				discard()
				refuseUpload(w, aerr)
				return
			}
		}
	}
	if data == nil {
		refuseUpload(w, errInvalid("file is required"))
		return
	}
	if purpose == "" {
		purpose = "file-extract"
	}
	if filename == "" {
		filename = "upload"
	}
	if aerr := checkUploadMedia(purpose, data); aerr != nil {
		discard()
		refuseUpload(w, aerr)
		return
	}
	f := &storedFile{id: newFileID(e.cfg.fileIDs), created: e.clock.Now(), filename: filename, purpose: purpose, data: data}
	if purpose == "file-extract" {
		if aerr := e.extractInto(r.Context(), f); aerr != nil {
			discard()
			writeError(w, aerr)
			return
		}
	}
	fs.mu.Lock()
	// Checked again: concurrent uploads may have taken the room.
	var aerr *apiError
	switch {
	case len(fs.files) >= lim.MaxFiles:
		aerr = errTooManyFiles(lim.MaxFiles)
	case fs.total+data.size > lim.MaxTotalBytes:
		aerr = errFilesTooBig(lim.MaxTotalBytes)
	case purpose == "batch" && fs.countPurpose("batch") >= lim.MaxBatchFiles:
		aerr = errTooManyBatchFiles(lim.MaxBatchFiles)
	}
	if aerr != nil {
		fs.mu.Unlock()
		f.remove()
		writeError(w, aerr)
		return
	}
	fs.files[f.id] = f
	fs.order = append(fs.order, f.id)
	fs.total += data.size
	obj := f.object()
	fs.mu.Unlock()
	writeJSON(w, http.StatusOK, obj)
}

// readFormField reads a small form field.
func readFormField(p *multipart.Part) (string, *apiError) {
	b, err := io.ReadAll(io.LimitReader(p, maxFormField+1))
	if err != nil {
		return "", errBadBody(err)
	}
	if len(b) > maxFormField {
		return "", errInvalid("form field %q is too large", p.FormName())
	}
	return string(b), nil
}

// extractInto runs file-extract on f. A file that cannot be extracted
// (extraction timing out included) is still stored, with its error; only
// a storage failure or the client going away is an error here.
func (e *Emulator) extractInto(ctx context.Context, f *storedFile) *apiError {
	rd, err := f.data.open()
	if err != nil {
		return errServer("failed to read file: %v", err)
	}
	defer rd.Close()
	fileType, x, xerr := extract(ctx, f.filename, rd, f.data.size)
	f.fileType = fileType
	if ctx.Err() != nil {
		// The client is gone: nobody will learn the file's id.
		return errInvalid("the request was cancelled during extraction")
	}
	if xerr != nil {
		f.extractErr = xerr.Error()
		return nil
	}
	if x.same {
		// Plain UTF-8 text is its own extracted text: no copy.
		f.text = f.data.view(x.skip)
		return nil
	}
	b, err := e.storeText(x.text)
	if err != nil {
		return errServer("failed to store file: %v", err)
	}
	f.text = b
	return nil
}

func (fs *fileStore) get(id string) *storedFile {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.files[id]
}

func (e *Emulator) handleListFiles(w http.ResponseWriter, r *http.Request, a *account) {
	e.advanceBatches(a) // batch result files appear on the clock (batches.go)
	fs := a.files
	fs.mu.Lock()
	data := make([]fileObject, 0, len(fs.order))
	for _, id := range fs.order {
		data = append(data, fs.files[id].object())
	}
	fs.mu.Unlock()
	writeJSON(w, http.StatusOK, listBody(data))
}

func (e *Emulator) handleGetFile(w http.ResponseWriter, r *http.Request, a *account) {
	e.advanceBatches(a)
	id := r.PathValue("id")
	f := a.files.get(id)
	if f == nil {
		writeError(w, errFileNotFound(id))
		return
	}
	writeJSON(w, http.StatusOK, f.object())
}

// fileContentJSON is the file content document, in the field order of the
// docs' sample.
type fileContentJSON struct {
	Content  string `json:"content"`
	FileType string `json:"file_type"`
	Filename string `json:"filename"`
	Title    string `json:"title"`
	Type     string `json:"type"`
}

func (e *Emulator) handleFileContent(w http.ResponseWriter, r *http.Request, a *account) {
	e.advanceBatches(a)
	id := r.PathValue("id")
	f := a.files.get(id)
	switch {
	case f == nil:
		writeError(w, errFileNotFound(id))
		return
	case f.purpose == batchOutputPurpose:
		serveBatchFile(w, f) // batch output and error files (batches.go)
		return
	case f.purpose != "file-extract":
		writeError(w, errInvalid("file %s has purpose %s, content is only available for file-extract files", id, f.purpose))
		return
	case f.extractErr != "":
		writeError(w, errServer("Failed to extract file: %s", f.extractErr))
		return
	}
	text, err := f.text.open()
	if err != nil {
		// Deleted meanwhile, or the emulator was closed.
		writeError(w, errFileNotFound(id))
		return
	}
	defer text.Close()
	// The document is streamed, the text JSON-escaped on the way: a 100 MB
	// text is never held in memory. The bytes are marshalNoEscape's.
	doc := marshalNoEscape(fileContentJSON{FileType: f.fileType, Filename: f.filename, Type: "file"})
	const open = `{"content":"`
	rest := strings.TrimPrefix(doc, open+`"`)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	bw.WriteString(open)
	if err := writeJSONText(bw, text); err != nil {
		// Too late for an error document: cut the response short.
		panic(http.ErrAbortHandler)
	}
	bw.WriteString(`"`)
	bw.WriteString(rest)
	bw.Flush()
}

// writeJSONText writes the UTF-8 text of r as the inside of a JSON string,
// escaped exactly as marshalNoEscape escapes it (encoding/json without
// HTML escaping), a chunk at a time, cut at rune boundaries.
func writeJSONText(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	out := make([]byte, 0, 2*len(buf))
	carry := 0
	for {
		n, err := io.ReadFull(r, buf[carry:])
		end := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !end {
			return err
		}
		p := buf[:carry+n]
		cut := len(p)
		if !end {
			cut = runeCut(p)
		}
		out = appendJSONText(out[:0], p[:cut])
		if _, err := w.Write(out); err != nil {
			return err
		}
		if end {
			return nil
		}
		carry = copy(buf, p[cut:])
	}
}

// appendJSONText appends src JSON-escaped, without the quotes, as
// encoding/json's appendString does with escapeHTML false.
func appendJSONText(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, src[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(src[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, src[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, src[start:]...)
}

func (e *Emulator) handleDeleteFile(w http.ResponseWriter, r *http.Request, a *account) {
	id := r.PathValue("id")
	fs := a.files
	f, aerr := lookup(&fs.mu, fs.files, id, errFileNotFound, func(f *storedFile) *storedFile {
		delete(fs.files, id)
		fs.order = slices.DeleteFunc(fs.order, func(s string) bool { return s == id })
		fs.total -= f.data.size
		return f
	})
	if f != nil {
		f.remove() // outside the lock: it may touch the disk
	}
	writeResult(w, map[string]any{"deleted": true, "id": id, "object": "file"}, aerr)
}

// fileDir returns the emulator's temporary file directory ("" before the
// first file that needed the disk, and after Close).
func (e *Emulator) fileDir() string { return e.blobs.path() }
