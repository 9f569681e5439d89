package kimitest

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Files tests speak raw multipart over loopback.

// wireFile is the file object with status_details as a pointer, to tell
// an empty value from a missing field.
type wireFile struct {
	fileObject
	StatusDetails *string `json:"status_details"`
}

type formField struct{ name, value string }

// multipartBody builds an upload body: the fields in order, with the
// file part where a field named "file" is (its value is the content;
// filename is used for it).
func multipartBody(t *testing.T, filename string, fields ...formField) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		var w io.Writer
		var err error
		if f.name == "file" {
			w, err = mw.CreateFormFile("file", filename)
		} else {
			w, err = mw.CreateFormField(f.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, f.value)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// uploadRaw posts a multipart body.
func uploadRaw(t *testing.T, srv *Server, body []byte, contentType string) ktResp {
	t.Helper()
	return ktDo(t, srv, "POST", "/v1/files", body, "Content-Type", contentType)
}

// upload sends purpose then file; purpose "" omits the field.
func upload(t *testing.T, srv *Server, filename, purpose string, content []byte) ktResp {
	t.Helper()
	fields := []formField{{"file", string(content)}}
	if purpose != "" {
		fields = append([]formField{{"purpose", purpose}}, fields...)
	}
	body, ct := multipartBody(t, filename, fields...)
	return uploadRaw(t, srv, body, ct)
}

func mustUpload(t *testing.T, srv *Server, filename, purpose string, content []byte) wireFile {
	t.Helper()
	return decodeOK[wireFile](t, upload(t, srv, filename, purpose, content))
}

func listFiles(t *testing.T, srv *Server) []wireFile {
	t.Helper()
	return listOf[wireFile](t, srv, "/v1/files")
}

type wireContent struct {
	Content  *string `json:"content"`
	FileType *string `json:"file_type"`
	Filename *string `json:"filename"`
	Title    *string `json:"title"`
	Type     *string `json:"type"`
}

// fileContent fetches and decodes a file-extract content document.
func fileContent(t *testing.T, srv *Server, id string) wireContent {
	t.Helper()
	r := wantStatus(t, ktDo(t, srv, "GET", "/v1/files/"+id+"/content", nil), 200)
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	var c wireContent
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Content == nil || c.FileType == nil || c.Filename == nil || c.Title == nil || c.Type == nil {
		t.Fatalf("content document %s: %v", r.Body, err)
	}
	if *c.Type != "file" || *c.Title != "" {
		t.Fatalf("type/title: %s", r.Body)
	}
	return c
}

var fileIDRE = regexp.MustCompile(`^[0-9a-z]{20}$`)

func TestFilesRoundTrip(t *testing.T) {
	srv := setup(t)
	text := "Kimi emulator notes.\nLine two: 月之暗面.\n"
	f := mustUpload(t, srv, "notes.txt", "file-extract", []byte(text))
	if !fileIDRE.MatchString(f.ID) || f.Object != "file" || f.Bytes != int64(len(text)) || f.CreatedAt <= 0 ||
		f.Filename != "notes.txt" || f.Purpose != "file-extract" || f.Status != "ok" || f.StatusDetails == nil || *f.StatusDetails != "" {
		t.Fatalf("file object: %+v", f)
	}
	if got := decodeOK[wireFile](t, ktDo(t, srv, "GET", "/v1/files/"+f.ID, nil)); got.ID != f.ID || got.Bytes != f.Bytes || got.CreatedAt != f.CreatedAt || got.Status != "ok" {
		t.Fatalf("get: %+v", got)
	}
	second := mustUpload(t, srv, "b.md", "", []byte("# B"))
	if second.Purpose != "file-extract" {
		t.Fatalf("missing purpose: %+v", second)
	}
	if l := listFiles(t, srv); len(l) != 2 || l[0].ID != f.ID || l[1].ID != second.ID {
		t.Fatalf("list: %+v", l)
	}
	c := fileContent(t, srv, f.ID)
	if *c.Content != text || *c.Filename != "notes.txt" || *c.FileType != "text/plain" {
		t.Fatalf("content: %+v", c)
	}

	del := decodeOK[struct {
		Deleted *bool  `json:"deleted"`
		ID      string `json:"id"`
		Object  string `json:"object"`
	}](t, ktDo(t, srv, "DELETE", "/v1/files/"+f.ID, nil))
	if del.Deleted == nil || !*del.Deleted || del.ID != f.ID || del.Object != "file" {
		t.Fatalf("delete: %+v", del)
	}
	notFound := "Not found the file " + f.ID + " or Permission denied"
	for _, r := range []ktResp{
		ktDo(t, srv, "GET", "/v1/files/"+f.ID, nil),
		ktDo(t, srv, "GET", "/v1/files/"+f.ID+"/content", nil),
		ktDo(t, srv, "DELETE", "/v1/files/"+f.ID, nil),
	} {
		wantAPIError(t, r, 404, "resource_not_found_error", notFound)
	}
	if l := listFiles(t, srv); len(l) != 1 || l[0].ID != second.ID {
		t.Fatalf("list after delete: %+v", l)
	}
	// Without a key there is no account.
	wantStatus(t, ktDo(t, srv, "GET", "/v1/files", nil, "Authorization", ""), 401)
}

func TestFilesPurpose(t *testing.T) {
	srv := setup(t)
	bad := "Invalid purpose: only 'file-extract', 'image', 'video', 'batch' accepted"
	wantAPIError(t, upload(t, srv, "a.txt", "assistants", []byte("x")), 400, "invalid_request_error", bad)
	// A purpose after the file is checked too, and nothing is stored.
	body, ct := multipartBody(t, "a.txt", formField{"file", "x"}, formField{"purpose", "fine-tune"})
	wantAPIError(t, uploadRaw(t, srv, body, ct), 400, "invalid_request_error", bad)
	if l := listFiles(t, srv); len(l) != 0 {
		t.Fatalf("refused uploads stored: %+v", l)
	}
	// go-moonshot's misspelt field is ignored: the purpose defaults.
	body, ct = multipartBody(t, "a.txt", formField{"purpose ", "file-extract"}, formField{"file", "x"})
	if r := uploadRaw(t, srv, body, ct); r.Status != 200 || !strings.Contains(string(r.Body), `"purpose":"file-extract"`) {
		t.Fatalf("misspelt purpose: %d %s", r.Status, r.Body)
	}
	for p, content := range map[string][]byte{"image": pngBytes, "video": mp4Bytes, "batch": {0, 1, 2}} {
		f := mustUpload(t, srv, "x.bin", p, content)
		if f.Purpose != p || f.Status != "ok" {
			t.Fatalf("purpose %s: %+v", p, f)
		}
		wantAPIError(t, ktDo(t, srv, "GET", "/v1/files/"+f.ID+"/content", nil), 400, "invalid_request_error",
			"Invalid request: file "+f.ID+" has purpose "+p+", content is only available for file-extract files")
	}
	// No file part, no multipart body.
	body, ct = multipartBody(t, "", formField{"purpose", "file-extract"})
	wantAPIError(t, uploadRaw(t, srv, body, ct), 400, "invalid_request_error", "Invalid request: file is required")
	r := ktDo(t, srv, "POST", "/v1/files", map[string]any{"file": "x"})
	if typ, _ := apiErr(t, r); r.Status != 400 || typ != "invalid_request_error" {
		t.Fatalf("JSON upload: %d %s", r.Status, r.Body)
	}
	// A part without a filename is stored as "upload" (as in the docs' sample).
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	pw, _ := mw.CreateFormField("file")
	io.WriteString(pw, "anonymous text")
	mw.Close()
	if f := decodeOK[wireFile](t, uploadRaw(t, srv, buf.Bytes(), mw.FormDataContentType())); f.Filename != "upload" || f.Status != "ok" {
		t.Fatalf("no filename: %+v", f)
	}
}

func TestFilesLimitTexts(t *testing.T) {
	// The default limits print as documented.
	d := FileLimits{}.withDefaults()
	if d.MaxFiles != 1000 || d.MaxFileBytes != 100<<20 || d.MaxTotalBytes != 10<<30 || d.MaxBatchFiles != 1000 {
		t.Fatalf("defaults %+v", d)
	}
	for got, want := range map[string]string{
		errFileTooLarge(d.MaxFileBytes).Message:       "File size is too large, max file size is 100MB, please confirm and re-upload the file",
		errTooManyFiles(d.MaxFiles).Message:           "The number of files you have uploaded exceeded the max file count 1000, please delete previous uploaded files",
		errFilesTooBig(d.MaxTotalBytes).Message:       "The total size of the files you have uploaded exceeded the max total size 10GB, please delete previous uploaded files",
		errFileEmpty.Message:                          "File size is zero, please confirm and re-upload the file",
		errTooManyBatchFiles(d.MaxBatchFiles).Message: "The number of batch files you have uploaded exceeded the max batch file count 1000, please delete previous uploaded batch files",
	} {
		if got != want {
			t.Errorf("got %q\nwant %q", got, want)
		}
	}
}

func TestFilesLimits(t *testing.T) {
	srv := setup(t, WithFileLimits(FileLimits{MaxFiles: 3, MaxFileBytes: 100, MaxTotalBytes: 150}))
	const inv = "invalid_request_error"
	wantAPIError(t, upload(t, srv, "empty.txt", "file-extract", nil), 400, inv,
		"File size is zero, please confirm and re-upload the file")
	wantAPIError(t, upload(t, srv, "big.txt", "file-extract", bytes.Repeat([]byte("a"), 101)), 400, inv,
		"File size is too large, max file size is 100 bytes, please confirm and re-upload the file")
	a := mustUpload(t, srv, "a.txt", "file-extract", bytes.Repeat([]byte("a"), 100)) // exactly the limit
	wantAPIError(t, upload(t, srv, "b.txt", "file-extract", bytes.Repeat([]byte("b"), 51)), 400, inv,
		"The total size of the files you have uploaded exceeded the max total size 150 bytes, please delete previous uploaded files")
	mustUpload(t, srv, "b.txt", "file-extract", bytes.Repeat([]byte("b"), 49))
	mustUpload(t, srv, "c.txt", "file-extract", []byte("c"))
	wantAPIError(t, upload(t, srv, "d.txt", "file-extract", []byte("d")), 400, inv,
		"The number of files you have uploaded exceeded the max file count 3, please delete previous uploaded files")
	if l := listFiles(t, srv); len(l) != 3 {
		t.Fatalf("refused uploads stored: %+v", l)
	}
	// Deleting frees both the slot and the bytes.
	ktDo(t, srv, "DELETE", "/v1/files/"+a.ID, nil)
	mustUpload(t, srv, "e.txt", "file-extract", bytes.Repeat([]byte("e"), 100))
}

// Files of purpose batch have their own quota inside the file count;
// other purposes still fit, and deleting one frees its slot.
func TestBatchFileLimit(t *testing.T) {
	srv := setup(t, WithFileLimits(FileLimits{MaxBatchFiles: 2}))
	line := []byte(`{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"kimi-k2.6","messages":[{"role":"user","content":"hi"}]}}` + "\n")
	a := mustUpload(t, srv, "a.jsonl", "batch", line)
	mustUpload(t, srv, "b.jsonl", "batch", line)
	wantAPIError(t, upload(t, srv, "c.jsonl", "batch", line), 400, "invalid_request_error",
		"The number of batch files you have uploaded exceeded the max batch file count 2, please delete previous uploaded batch files")
	mustUpload(t, srv, "c.txt", "file-extract", []byte("not a batch"))
	ktDo(t, srv, "DELETE", "/v1/files/"+a.ID, nil)
	mustUpload(t, srv, "c.jsonl", "batch", line)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingReader) Close() error {
	if rc, ok := c.r.(io.Closer); ok {
		return rc.Close()
	}
	return nil
}

// endless yields 'x' forever.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// An oversized upload is refused after the server read at most the limit
// plus one byte of the file (plus multipart framing and one buffer of
// read-ahead), and the client is not made to send the rest.
func TestFilesOversizeStopsReading(t *testing.T) {
	const limit = 1000
	const total = 64 << 20
	e := New(WithFileLimits(FileLimits{MaxFileBytes: limit}))
	var serverRead atomic.Int64
	hts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = countingReader{r.Body, &serverRead}
		e.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { hts.Close(); e.Close() })

	// The body: purpose, then a file part of 64 MB generated on the fly.
	boundary := "kimitestboundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfile-extract\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\nContent-Type: text/plain\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	var sent atomic.Int64
	body := countingReader{io.MultiReader(strings.NewReader(head), io.LimitReader(endless{}, total), strings.NewReader(tail)), &sent}
	req, err := http.NewRequest("POST", hts.URL+"/v1/files", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(head) + total + len(tail))
	req.Header.Set("Authorization", "Bearer "+DefaultKey)
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	res, err := hts.Client().Do(req)
	if err == nil {
		wantAPIError(t, readResp(t, req, res), 400, "invalid_request_error",
			"File size is too large, max file size is 1000 bytes, please confirm and re-upload the file")
		if !res.Close {
			t.Error("the refusal does not close the connection")
		}
	} else {
		// The server may cut the connection before the client reads the
		// answer; what matters below is how much was read and sent.
		t.Logf("client error (connection closed early): %v", err)
	}
	if n := serverRead.Load(); n > int64(len(head))+limit+1+8<<10 {
		t.Errorf("server read %d bytes of the body for a %d-byte limit", n, limit)
	}
	if n := sent.Load(); n >= total/2 {
		t.Errorf("client sent %d of %d bytes: the server drained the body", n, total)
	}
	if l := e.accounts[DefaultKey].files; len(l.files) != 0 {
		t.Error("oversized file stored")
	}
}

func TestFilesPerAccount(t *testing.T) {
	srv := setup(t, WithFileLimits(FileLimits{MaxFiles: 1}), WithKey("sk-a"), WithKey("sk-b"))
	a, b := srv.withKey("sk-a"), srv.withKey("sk-b")
	f := mustUpload(t, a, "a.txt", "file-extract", []byte("account a"))
	for _, r := range []ktResp{
		ktDo(t, b, "GET", "/v1/files/"+f.ID, nil),
		ktDo(t, b, "GET", "/v1/files/"+f.ID+"/content", nil),
		ktDo(t, b, "DELETE", "/v1/files/"+f.ID, nil),
	} {
		wantAPIError(t, r, 404, "resource_not_found_error", "Not found the file "+f.ID+" or Permission denied")
	}
	if l := listFiles(t, b); len(l) != 0 {
		t.Fatalf("b sees a's files: %+v", l)
	}
	// Limits are per account: a is full, b is not.
	wantStatus(t, upload(t, a, "a2.txt", "", []byte("x")), 400)
	mustUpload(t, b, "b.txt", "", []byte("account b"))
	if l := listFiles(t, a); len(l) != 1 || l[0].ID != f.ID {
		t.Fatalf("a's list: %+v", l)
	}
}

// Large files and large extracted texts live in the emulator's temporary
// directory, which deletion and Close clean up.
func TestFilesDiskStorage(t *testing.T) {
	srv := setup(t)
	if srv.Emulator.fileDir() != "" {
		t.Fatal("directory created before any upload")
	}
	small := mustUpload(t, srv, "small.txt", "", []byte("small"))
	if srv.Emulator.fileDir() != "" {
		t.Fatal("small file went to disk")
	}
	line := "The quick brown fox jumps over the lazy dog. 敏捷的棕色狐狸跳过了懒狗。\n"
	big := strings.Repeat(line, (memBlobLimit/len(line))+100)
	f := mustUpload(t, srv, "big.txt", "", []byte(big))
	dir := srv.Emulator.fileDir()
	entries, err := os.ReadDir(dir)
	if dir == "" || err != nil || len(entries) != 1 { // the file, which is its own text
		t.Fatalf("dir %q: %v %v", dir, entries, err)
	}
	if c := fileContent(t, srv, f.ID); *c.Content != big {
		t.Fatalf("big content differs (%d vs %d bytes)", len(*c.Content), len(big))
	}
	if c := fileContent(t, srv, small.ID); *c.Content != "small" {
		t.Fatalf("small content %q", *c.Content)
	}
	ktDo(t, srv, "DELETE", "/v1/files/"+f.ID, nil)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("blobs left after delete: %v", entries)
	}
	mustUpload(t, srv, "big2.txt", "", []byte(big))
	srv.Close()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s survives Close: %v", filepath.Base(dir), err)
	}
}

// textGen is an endless deterministic UTF-8 text with every character
// class the JSON escaping cares about (quotes, backslashes, controls,
// U+2028, HTML characters, multi-byte runes that straddle buffers).
type textGen struct{ i int }

const textGenLine = "Line \"quoted\" \\ back\tslash <b>&amp;</b> \b\f\x01 \u2028\u2029 月之暗面 😀 Привет\r\n"

func (g *textGen) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], textGenLine[g.i:])
		n += c
		g.i = (g.i + c) % len(textGenLine)
	}
	return n, nil
}

// textGenLines returns the first size bytes of textGen, whole lines only
// (so that no rune is cut).
func textGenLines(size int64) int64 {
	return size / int64(len(textGenLine)) * int64(len(textGenLine))
}

// streamUpload uploads prefix and textGenLines(size) as name, streaming
// the body.
func streamUpload(tb testing.TB, srv *Server, name, prefix string, size int64) wireFile {
	tb.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, _ := mw.CreateFormFile("file", name)
		_, err := io.Copy(w, io.MultiReader(strings.NewReader(prefix), io.LimitReader(&textGen{}, textGenLines(size))))
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req := newRequest(tb, srv, "POST", "/v1/files", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	f := decodeOK[wireFile](tb, readResp(tb, req, send(tb, srv, req)))
	if f.Status != "ok" {
		tb.Fatalf("upload: %+v", f)
	}
	return f
}

// getContent opens GET /v1/files/{id}/content.
func getContent(tb testing.TB, srv *Server, id string) *http.Response {
	tb.Helper()
	resp := send(tb, srv, newRequest(tb, srv, "GET", "/v1/files/"+id+"/content", nil))
	if resp.StatusCode != 200 {
		tb.Fatalf("content: %d", resp.StatusCode)
	}
	return resp
}

// BenchmarkLargeTextFile uploads a 100 MB text file and reads its content
// back, reporting the peak heap in use (sampled) above the starting heap.
func BenchmarkLargeTextFile(b *testing.B) {
	const size = 100 << 20
	for b.Loop() {
		srv := setup(b)
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapInuse
		var peak atomic.Uint64
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
					peak.Store(ms.HeapInuse - base)
				}
				select {
				case <-done:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		f := streamUpload(b, srv, "big.txt", "", size)
		resp := getContent(b, srv, f.ID)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(done)
		<-sampled
		if err != nil || n < size*9/10 {
			b.Fatalf("content: %d bytes, %v", n, err)
		}
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
		srv.Close()
	}
}

// A multi-MB text file (with a BOM, which the text leaves out) comes back
// byte for byte as the document marshalNoEscape would build, and neither
// the upload nor the content copies it in memory.
func TestFilesLargeTextContent(t *testing.T) {
	srv := setup(t)
	const size = 8 << 20
	text, _ := io.ReadAll(io.LimitReader(&textGen{}, textGenLines(size)))
	want := []byte(marshalNoEscape(fileContentJSON{Content: string(text), FileType: "text/plain", Filename: "big.txt", Type: "file"}))
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f := streamUpload(t, srv, "big.txt", "\xEF\xBB\xBF", size)
	resp := getContent(t, srv, f.ID)
	defer resp.Body.Close()
	// Compare as it streams: reading it whole would count against the
	// allocation budget.
	buf := make([]byte, 64<<10)
	got := want
	for {
		n, err := resp.Body.Read(buf)
		if n > len(got) || !bytes.Equal(buf[:n], got[:n]) {
			t.Fatalf("content differs at byte %d", len(want)-len(got))
		}
		got = got[n:]
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 0 {
		t.Fatalf("content is %d bytes short", len(got))
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/2 {
		t.Errorf("upload and content of a %d MB text allocated %d MB", size>>20, alloc>>20)
	}
}
