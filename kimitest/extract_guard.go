package kimitest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/ledongthuc/pdf"
)

// Bounds of one extraction (the values are in limits.go).

// ctxReaderAt is an extractor's view of the file: every read first checks
// that the extraction may go on, so that parsers which loop while they
// read (the PDF library, zip decompression) stop when the request ends or
// the extraction runs out of time.
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := ctxErr(c.ctx); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}

// abortExtraction ends an extraction from inside a library callback,
// which has no error return; the extractor recovers it.
type abortExtraction struct{ err error }

// abortError is an abortExtraction caught and returned as an error.
type abortError abortExtraction

func (a abortError) Error() string { return a.err.Error() }

// checkBudget panics with abortExtraction when ctx has ended or n bytes
// of text exceed maxExtractText.
func checkBudget(ctx context.Context, n int) {
	if err := ctxErr(ctx); err != nil {
		panic(abortExtraction{err})
	}
	if n > maxExtractText {
		panic(abortExtraction{errExtractTooLong})
	}
}

// pdfPages lists the page objects of the page tree in order. The library
// trusts /Count (a billion pages means a billion lookups, each walking
// the tree) and follows /Kids blindly (a node listing itself loops
// forever); this walk is bounded in depth, in pages and in nodes visited
// (a tree may list a subtree many times without a cycle). Kids that are
// neither Pages nor Page are skipped, as the library does.
func pdfPages(ctx context.Context, doc *pdf.Reader) ([]pdf.Page, error) {
	root := doc.Trailer().Key("Root").Key("Pages")
	if root.Key("Type").Name() == "Page" {
		return []pdf.Page{{V: root}}, nil
	}
	var pages []pdf.Page
	visits := 0
	var walk func(node pdf.Value, depth int) error
	walk = func(node pdf.Value, depth int) error {
		if depth > maxPDFDepth {
			return fmt.Errorf("page tree deeper than %d levels (is it cyclic?)", maxPDFDepth)
		}
		kids := node.Key("Kids")
		for i := range kids.Len() {
			if visits++; visits > 4*maxPDFPages {
				return fmt.Errorf("page tree has more than %d nodes", 4*maxPDFPages)
			}
			if err := ctxErr(ctx); err != nil {
				return err
			}
			kid := kids.Index(i)
			switch kid.Key("Type").Name() {
			case "Pages":
				if err := walk(kid, depth+1); err != nil {
					return err
				}
			case "Page":
				if len(pages) >= maxPDFPages {
					return fmt.Errorf("more than %d pages", maxPDFPages)
				}
				pages = append(pages, pdf.Page{V: kid})
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

// pdfInherited is Page.findInherited bounded to maxPDFDepth parents: the
// library follows /Parent until it finds the key, forever on a cycle.
func pdfInherited(p pdf.Page, key string) pdf.Value {
	v := p.V
	for range maxPDFDepth {
		if v.IsNull() {
			break
		}
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

// checkZipDirectory refuses a zip whose central directory lists more than
// maxZipEntries entries before archive/zip reads it: the reader keeps
// every entry in memory, and a 100 MB file can list two million. It reads
// the end-of-central-directory record (the last 22 bytes plus at most a
// 64 KiB comment) and, when its 16- and 32-bit fields are saturated, the
// zip64 record its locator points to (APPNOTE.TXT 4.3.14-4.3.15).
func checkZipDirectory(r io.ReaderAt, size int64) error {
	const eocdLen, maxComment = 22, 0xFFFF
	n := min(size, eocdLen+maxComment)
	if n < eocdLen {
		return nil // archive/zip will refuse it
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return err
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return nil
	}
	rec := buf[i:]
	entries := binary.LittleEndian.Uint16(rec[10:])
	dirSize := binary.LittleEndian.Uint32(rec[12:])
	const minHeader = 46 // a central directory header without name
	tooMany := fmt.Errorf("more than %d entries", maxZipEntries)
	if entries != 0xFFFF && int(entries) > maxZipEntries ||
		dirSize != 0xFFFFFFFF && int64(dirSize)/minHeader > maxZipEntries {
		return tooMany
	}
	if entries != 0xFFFF && dirSize != 0xFFFFFFFF {
		return nil
	}
	// The zip64 locator stands right before the record: its signature,
	// the disk, then the zip64 record's offset.
	const locLen, rec64Len = 20, 56
	locAt := size - n + int64(i) - locLen // in the file
	if locAt < 0 {
		return nil // archive/zip will refuse it
	}
	loc := make([]byte, locLen)
	if _, err := r.ReadAt(loc, locAt); err != nil || !bytes.HasPrefix(loc, []byte("PK\x06\x07")) {
		return nil
	}
	at := binary.LittleEndian.Uint64(loc[8:])
	if size < rec64Len || at > uint64(size-rec64Len) {
		return nil
	}
	rec64 := make([]byte, rec64Len)
	if _, err := r.ReadAt(rec64, int64(at)); err != nil || !bytes.HasPrefix(rec64, []byte("PK\x06\x06")) {
		return nil
	}
	entries64 := binary.LittleEndian.Uint64(rec64[32:])
	dirSize64 := binary.LittleEndian.Uint64(rec64[40:])
	if entries64 > maxZipEntries || dirSize64/minHeader > maxZipEntries {
		return tooMany
	}
	return nil
}

// openZip opens a zip within maxZipEntries entries.
func openZip(kind string, r io.ReaderAt, size int64) (*zip.Reader, error) {
	if err := checkZipDirectory(r, size); err != nil {
		return nil, fmt.Errorf("invalid %s: %v", kind, err)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("invalid %s: %v", kind, err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("invalid %s: more than %d entries", kind, maxZipEntries)
	}
	return zr, nil
}

// errPDFContentTooLarge is the failure of a PDF whose page content
// streams decompress to more than maxExtractXML bytes in all.
var errPDFContentTooLarge = fmt.Errorf("page contents exceed %d MB decompressed", maxExtractXML>>20)

// measurePDFContent takes the decompressed size of a page's content
// streams from budget, before the library interprets them: its lexer
// holds a whole token in memory, so a compressed stream of one endless
// string would otherwise grow without bound. Decompressing twice costs
// time, which the extraction deadline bounds.
func measurePDFContent(contents pdf.Value, budget *int64) error {
	measure := func(s pdf.Value) error {
		if s.Kind() != pdf.Stream {
			return nil
		}
		rc := s.Reader()
		defer rc.Close()
		n, err := io.Copy(io.Discard, io.LimitReader(rc, *budget+1))
		if *budget -= n; *budget < 0 {
			return errPDFContentTooLarge
		}
		return err
	}
	if contents.Kind() != pdf.Array {
		return measure(contents)
	}
	for i := range contents.Len() {
		if err := measure(contents.Index(i)); err != nil {
			return err
		}
	}
	return nil
}
