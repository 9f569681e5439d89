package kimitest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// guard is the outermost layer of the emulator's handler. It bounds the
// time a request body may take to arrive (bodyReadTimeout, so that a
// client stalling after the headers cannot hold a connection) and turns a
// panic in any handler into a logged 500 in Kimi's error envelope, so
// that a bug answers like a server error instead of cutting the
// connection (which clients retry as a network failure).
func guard(logger *slog.Logger, bodyTimeout time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw := &guardWriter{ResponseWriter: w}
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// Servers that cannot set deadlines (a ResponseRecorder) just
			// go without.
			if rc.SetReadDeadline(time.Now().Add(bodyTimeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // a deliberate abort, not a bug
			}
			logger.LogAttrs(r.Context(), slog.LevelError, "kimitest: handler panic",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			if gw.wrote.Load() {
				// Too late for an error body: cut the response so that
				// the client does not take a partial one for whole.
				panic(http.ErrAbortHandler)
			}
			writeError(w, errServer("internal error while handling the request"))
		}()
		next.ServeHTTP(gw, r)
	})
}

// guardWriter records whether the response has started.
type guardWriter struct {
	http.ResponseWriter
	wrote atomic.Bool
}

func (w *guardWriter) WriteHeader(code int) {
	if code >= 200 {
		w.wrote.Store(true)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *guardWriter) Write(p []byte) (int, error) {
	w.wrote.Store(true)
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming incremental for writers that assert http.Flusher.
func (w *guardWriter) Flush() {
	w.wrote.Store(true)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *guardWriter) FlushError() error {
	w.wrote.Store(true)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *guardWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// deadlineBody lifts the body read deadline once the body has been read
// whole: the server keeps reading the connection in the background to
// notice a client going away, and a deadline left set would end a long
// stream's context.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil || b.done:
	case errors.Is(err, io.EOF):
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errBodyTimeout
	}
	return n, err
}

// errBodyTimeout is the read error of a body that stalled.
var errBodyTimeout = errors.New("the request body stalled: it did not arrive in time")
