package kimitest

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// compress gzips JSON response bodies for clients that accept gzip, as
// Kimi's gateway does (Content-Encoding: gzip, Vary: Accept-Encoding).
// Event streams go as they are, so that each SSE chunk reaches the client
// when it is flushed, and so do the text/plain file contents.
func compress(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !acceptsGzip(r.Header["Accept-Encoding"]) {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		next.ServeHTTP(gw, r)
		// Not deferred: a panic (an abort) must not end the body cleanly.
		gw.close()
	})
}

// acceptsGzip reports whether an Accept-Encoding (all its header lines)
// admits gzip: named, or "*", with no q=0.
func acceptsGzip(lines []string) bool {
	for _, line := range lines {
		for coding := range strings.SplitSeq(line, ",") {
			name, params, _ := strings.Cut(coding, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name != "gzip" && name != "x-gzip" && name != "*" {
				continue
			}
			q := ""
			for p := range strings.SplitSeq(params, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					q = strings.TrimSpace(v)
				}
			}
			if f, err := strconv.ParseFloat(q, 64); q == "" || (err == nil && f > 0) {
				return true
			}
		}
	}
	return false
}

// gzipWriters are reused: a gzip.Writer is large to allocate.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// gzipWriter compresses the body once the header says it is JSON.
type gzipWriter struct {
	http.ResponseWriter
	wroteHeader bool
	zw          *gzip.Writer // nil while the body goes uncompressed
}

func (w *gzipWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 200 {
		w.wroteHeader = true
		h := w.Header()
		if code != http.StatusNoContent && code != http.StatusNotModified && h.Get("Content-Encoding") == "" &&
			strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			h.Set("Content-Encoding", "gzip")
			h.Add("Vary", "Accept-Encoding")
			h.Del("Content-Length")
			w.zw = gzipWriters.Get().(*gzip.Writer)
			w.zw.Reset(w.ResponseWriter)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.zw != nil {
		return w.zw.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// FlushError is what http.ResponseController.Flush calls.
func (w *gzipWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.zw != nil {
		if err := w.zw.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *gzipWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the connection (faults
// hijack it).
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// close ends a compressed body.
func (w *gzipWriter) close() {
	if w.zw == nil {
		return
	}
	w.zw.Close()
	w.zw.Reset(io.Discard) // drop the reference to the connection
	gzipWriters.Put(w.zw)
	w.zw = nil
}
