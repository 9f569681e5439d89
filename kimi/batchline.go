package kimi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// BatchLine is one request of a batch input file, a JSONL line in Kimi's
// format: {"custom_id":…,"method":"POST","url":"/v1/chat/completions",
// "body":{…chat request…}}. The same file serves the platform's Batch API
// and a local runner (package batch).
type BatchLine struct {
	CustomID string      `json:"custom_id"`
	Method   string      `json:"method"`
	URL      string      `json:"url"`
	Body     ChatRequest `json:"body"`
}

// BatchURL is the one endpoint a batch line may name.
const BatchURL = "/v1/chat/completions"

// MaxBatchLineBytes bounds one line of a batch file read here: the
// platform's whole file is at most 100 MB, and a line holds one request.
const MaxBatchLineBytes = 16 << 20

// Check reports what is wrong with the line, naming the field.
func (l *BatchLine) Check() error {
	switch {
	case l.CustomID == "":
		return invalid("custom_id", l.CustomID, "must not be empty")
	case l.Method != http.MethodPost:
		return invalid("method", l.Method, "must be POST")
	case l.URL != BatchURL:
		return invalid("url", l.URL, "must be %s", BatchURL)
	}
	return nil
}

// BatchResult is one line of a batch output or error file, in OpenAI's
// batch shape: {"id","custom_id","response":{"status_code","request_id",
// "body"},"error":{"code","message"}}. Kimi does not document the shape
// of its output lines; OpenAI's is assumed, and decoded leniently.
type BatchResult struct {
	ID       string         `json:"id,omitempty"`
	CustomID string         `json:"custom_id"`
	Response *BatchResponse `json:"response"`
	Error    *BatchError    `json:"error"`
}

// BatchResponse is the HTTP answer to one batch request.
type BatchResponse struct {
	StatusCode int             `json:"status_code"`
	RequestID  string          `json:"request_id,omitempty"`
	Body       json.RawMessage `json:"body"`
}

// BatchError is why a batch request failed.
type BatchError struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// Completion decodes the result's chat completion. A request that
// failed gives an *Error built from the line as from a response (its
// status_code, its body's error envelope, else the line's error object),
// so its kinds are those of the same failure met directly: a 429 line is
// ErrRateLimit, a 400 ErrBadRequest. A line with neither a response nor
// an error wraps ErrBadResponse.
func (r *BatchResult) Completion() (*ChatCompletion, error) {
	if e := r.apiError(); e != nil {
		return nil, &batchRequestError{customID: r.CustomID, err: e}
	}
	if r.Response == nil || r.Response.StatusCode == 0 {
		return nil, fmt.Errorf("%w: batch request %s has neither a response status nor an error", ErrBadResponse, r.CustomID)
	}
	var c ChatCompletion
	if err := decodeJSON(r.Response.Body, &c); err != nil {
		return nil, fmt.Errorf("%w: batch request %s: %w", ErrBadResponse, r.CustomID, err)
	}
	return &c, nil
}

// apiError is the *Error of a failed request, nil for a success.
func (r *BatchResult) apiError() *Error {
	resp := r.Response
	if r.Error == nil && (resp == nil || resp.StatusCode == 0 || resp.StatusCode/100 == 2) {
		return nil // a success, or a line Completion calls malformed
	}
	e := &Error{}
	if resp != nil {
		e.StatusCode, e.RequestID = resp.StatusCode, resp.RequestID
		if resp.StatusCode/100 != 2 && decodeErrorBody(e, resp.Body) {
			return e
		}
	}
	if r.Error != nil {
		e.Code, e.Message = r.Error.Code, r.Error.Message
	}
	if e.Message == "" && e.StatusCode != 0 {
		e.Message = statusText(e.StatusCode)
	}
	return e
}

// batchRequestError names the batch request an API error belongs to.
type batchRequestError struct {
	customID string
	err      *Error
}

func (e *batchRequestError) Error() string {
	return "kimi: batch request " + e.customID + ": " + strings.TrimPrefix(e.err.Error(), "kimi: ")
}

func (e *batchRequestError) Unwrap() error { return e.err }

// decodeFast decodes a result line in one pass with the chunk parser,
// the body kept as raw bytes for Completion to decode (with the same
// parser); false leaves r zero for decodeSlow, encoding/json, to decide.
// A file of results is mostly completions, and encoding/json would
// scan each body twice before Completion scans it again.
func (r *BatchResult) decodeFast(data []byte) bool {
	p := &jparser{jscan: jscan{b: data}}
	if parseObject(p, r, (*jparser).batchResultMember) != nil || !p.end() {
		*r = BatchResult{}
		return false
	}
	return true
}

func (r *BatchResult) decodeSlow(data []byte) error {
	type plain BatchResult
	return json.Unmarshal(data, (*plain)(r))
}

var (
	batchResultKeys   = fieldKeys(BatchResult{})
	batchResponseKeys = fieldKeys(BatchResponse{})
	batchErrorKeys    = fieldKeys(BatchError{})
)

func (p *jparser) batchResultMember(r *BatchResult, k []byte) (uint32, error) {
	switch string(k) {
	case "id":
		return 1, p.plainStr(&r.ID)
	case "custom_id":
		return 2, p.plainStr(&r.CustomID)
	case "response":
		return 4, newObject(p, &r.Response, (*jparser).batchResponseMember)
	case "error":
		return 8, newObject(p, &r.Error, (*jparser).batchErrorMember)
	}
	return 0, p.unknown(k, batchResultKeys)
}

func (p *jparser) batchResponseMember(r *BatchResponse, k []byte) (uint32, error) {
	switch string(k) {
	case "status_code":
		return 1, p.int(&r.StatusCode)
	case "request_id":
		return 2, p.plainStr(&r.RequestID)
	case "body":
		raw, err := p.raw()
		r.Body = raw
		return 4, err
	}
	return 0, p.unknown(k, batchResponseKeys)
}

func (p *jparser) batchErrorMember(e *BatchError, k []byte) (uint32, error) {
	switch string(k) {
	case "code":
		return 1, p.plainStr(&e.Code)
	case "message":
		return 2, p.plainStr(&e.Message)
	}
	return 0, p.unknown(k, batchErrorKeys)
}

// ReadJSONL ranges over the JSON lines of r decoded as T, with their
// line numbers (from 1); blank lines are skipped. A line that does not
// decode, or is longer than MaxBatchLineBytes, is yielded as a
// *LineError, and reading goes on; a read error ends the range, also as
// a *LineError.
func ReadJSONL[T any](r io.Reader) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		br := bufio.NewReaderSize(r, 64<<10)
		for n := 1; ; n++ {
			line, err := readLine(br)
			var zero T
			// A line cut by a failed read is not decoded: the read error
			// says what happened to it.
			if (err == nil || err == io.EOF || errors.Is(err, errLineTooLong)) && len(bytes.TrimSpace(line)) > 0 {
				var v T
				switch {
				case errors.Is(err, errLineTooLong):
					if !yield(zero, &LineError{Line: n, Err: fmt.Errorf("longer than %d bytes", MaxBatchLineBytes)}) {
						return
					}
					err = nil
				default:
					if derr := decodeJSON(line, &v); derr != nil {
						if !yield(zero, &LineError{Line: n, Err: derr}) {
							return
						}
					} else if !yield(v, nil) {
						return
					}
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(zero, &LineError{Line: n, Err: err, read: true})
				return
			}
		}
	}
}

// LineError is a line of a JSONL file that could not be read. A line
// that does not decode is ErrBadRequest when the file is the caller's
// and wraps ErrBadResponse when the platform wrote it (Batches.Results);
// a failed read has the reader's kinds, else ErrConnection for the
// platform's file (a cut download) and ErrBadRequest for the caller's.
type LineError struct {
	// File is the id of the platform's file the line is from, "" for a
	// caller's reader.
	File string
	// Line is the line's number, from 1.
	Line int
	Err  error
	read bool // Err is the reader's, not the line's
}

func (e *LineError) Error() string {
	where := "line " + strconv.Itoa(e.Line)
	if e.File != "" {
		where = "file " + e.File + " " + where
	}
	return "kimi: " + where + ": " + e.Err.Error()
}

// Unwrap is Err, and ErrBadResponse too for a platform's line that does
// not decode, so that errors.Is finds both.
func (e *LineError) Unwrap() []error {
	if e.File != "" && !e.read {
		return []error{ErrBadResponse, e.Err}
	}
	return []error{e.Err}
}

func (e *LineError) errorKinds() []error {
	if e.read {
		if ks := Kinds(e.Err); ks != nil {
			return ks
		}
	}
	if e.File != "" {
		if e.read {
			return []error{ErrConnection} // the download was cut
		}
		return Kinds(ErrBadResponse)
	}
	// The caller's input: a line that does not decode, or a reader
	// (a local file, say) that failed.
	return []error{ErrBadRequest}
}

// Is reports whether target is one of the error's kinds or ErrInvoke.
func (e *LineError) Is(target error) bool { return isKind(e, target) }

var errLineTooLong = errors.New("line too long")

// readLine reads one line without its newline; a line over the limit is
// skipped to its end and reported as errLineTooLong.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > MaxBatchLineBytes {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err == nil || err == io.EOF {
				return []byte("x"), errLineTooLong
			}
			return nil, err
		}
		line = append(line, frag...)
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil:
			return line[:len(line)-1], nil
		}
		return line, err
	}
}
