package kimitest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Bounds on hostile input. The emulator runs in tests, in users' CI and
// behind `onesdk serve`, so no request may make it loop, panic, overflow
// or hold memory or a core out of proportion to its size. Every limit
// that is not one of Kimi's documented ones is here, in one place:
//
//   - request bodies: maxBodyBytes (Kimi's documented 100 MB, chat.go);
//     a body must arrive within bodyReadTimeout, counted from the end of
//     the headers, and the headers within headerReadTimeout and
//     maxHeaderBytes (http.Server settings in Start; NewServer sets the
//     same on its httptest server);
//   - token figures: max_tokens is checked against the model's context
//     window, a $web_search result's total_tokens against
//     maxTokenFigure, before any arithmetic, and the sums use satAdd, so
//     no sum can wrap around and slip under a limit;
//   - uploads: filenames up to maxFilenameBytes;
//   - extraction (extract.go, extract_office.go), per file: at most
//     extractTimeout of work, also ended by the request's context;
//     at most maxExtractText bytes of text; PDF page trees at most
//     maxPDFDepth levels and maxPDFPages pages (whatever /Count claims),
//     inherited attributes looked up through at most maxPDFDepth
//     parents; zip packages at most maxZipEntries entries and
//     maxExtractXML decompressed bytes in all.
//
// maxExtractXML bounds the decompressed word/document.xml, and the
// decompressed parts read from one XLSX, PPTX or EPUB file (zip bombs).
const maxExtractXML = 256 << 20

const (
	bodyReadTimeout   = 30 * time.Second
	headerReadTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10

	// maxTokenFigure is far above any context window (the largest is
	// 256K tokens) and far below the int overflow.
	maxTokenFigure = 1 << 40

	maxFilenameBytes = 255

	extractTimeout = 10 * time.Second
	maxExtractText = 64 << 20
	maxPDFDepth    = 64
	maxPDFPages    = 10000
	maxZipEntries  = 10000
)

// satAdd adds non-negative token counts, saturating at math.MaxInt.
func satAdd(a, b int) int {
	if a < 0 {
		a = 0
	}
	if b < 0 {
		b = 0
	}
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// errExtractTimeout and errExtractTooLong end an extraction that would
// take too long or produce too much text.
var (
	errExtractTimeout = fmt.Errorf("extraction took longer than %v", extractTimeout)
	errExtractTooLong = fmt.Errorf("extracted text exceeds %d MB", maxExtractText>>20)
)

// extractCtx is the context of one extraction: the request's, bounded by
// extractTimeout.
func extractCtx(parent context.Context) (context.Context, context.CancelFunc) {
	if parent == nil {
		parent = context.Background()
	}
	return context.WithTimeoutCause(parent, extractTimeout, errExtractTimeout)
}

// ctxErr is why ctx ended, as an extraction error: the timeout, or the
// client going away.
func ctxErr(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c
	}
	return errors.New("extraction cancelled: the request ended")
}

// Formula API bounds (formulas.go, formula_tools.go): the fiber body, each
// fiber's output, and the work one call may ask for.
const (
	maxFiberBody        = 1 << 20
	maxFormulaOutput    = 1 << 20
	maxFormulaString    = 64 << 10 // a format, zone, date, key or unit argument
	maxRandomCandidates = 1000
	maxMemoryEntries    = 1000    // per organization
	maxMemoryBytes      = 1 << 20 // per organization, keys and data
	maxFetchLength      = 1000000 // fetch's max_length is below this (its schema)
)
