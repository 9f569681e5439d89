package kimitest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	// PDF text extraction. github.com/ledongthuc/pdf (a maintained fork of
	// rsc.io/pdf with text extraction, no dependencies of its own) was
	// preferred over github.com/pdfcpu/pdfcpu: pdfcpu is the better kept
	// PDF processor, but it extracts raw content streams rather than text
	// and would add seven modules (x/image, x/text, x/crypto, yaml, …) to
	// go.mod.
	"github.com/ledongthuc/pdf"
)

// Text extraction for purpose file-extract, by file extension:
//
//   - .pdf: the text of every page (github.com/ledongthuc/pdf); each text
//     object starts a new line, pages are separated by a blank line.
//     Composite (Type0) fonts with Identity-H/V encoding, as in CJK and
//     most modern PDFs, are decoded through their /ToUnicode CMap
//     (bfchar, bfrange); their text without a /ToUnicode is glyph ids and
//     is left out, and a PDF with no other text fails with "cannot
//     extract text from this PDF's fonts (Type0/Identity-H)". No OCR: a
//     PDF without text fails.
//   - .docx: the paragraphs of word/document.xml, one per line (tabs and
//     breaks kept, non-breaking hyphens as "-", soft hyphens dropped). A
//     paragraph nested in another (a text box) is a line of its own after
//     the enclosing paragraph; of the two copies Word writes of a text box
//     (mc:AlternateContent) only mc:Choice is read.
//   - .html, .htm, .xhtml: the text, with scripts, styles, comments and
//     tags removed, entities decoded, white space (no-break spaces
//     included) collapsed outside <pre> and block elements (p, div, br, li, h1–h6, tr, …) on lines of their
//     own.
//   - images (.png, .jpg, …): fail; the emulator does not OCR (and the
//     2026 docs say file-extract no longer takes images: use purpose
//     image).
//   - .xlsx: every worksheet in workbook order (xl/workbook.xml through
//     xl/_rels/workbook.xml.rels; without them the
//     xl/worksheets/sheetN.xml parts in numeric order, named SheetN): a
//     "# <sheet name>" line, then one line per row with its cells joined
//     by tabs, a blank line between sheets. Cells are placed at their
//     column (a skipped column is an empty field), trailing empty cells
//     and empty rows are left out, and tabs and line breaks inside a cell
//     become spaces. A cell is its shared string (t="s", rich-text runs
//     joined, phonetic guides dropped), its inline string (t="inlineStr"),
//     TRUE/FALSE (t="b") or else its stored value (<v>): formulas give
//     their cached result, numbers are written as stored (no number
//     formats: a date is its serial number).
//
//	# Summary
//	Region<TAB>Total
//	North<TAB>42
//
//	# Data
//	…
//
//   - .pptx: ppt/slides/slideN.xml in numeric order (slide2 before
//     slide10): the text of the a:t runs, one line per paragraph (a:p;
//     a:br breaks the line), empty paragraphs left out, a blank line
//     between slides. Speaker notes are not read.
//   - .epub: the XHTML documents of the spine (META-INF/container.xml →
//     OPF rootfile → spine order), each from its <body> through the HTML
//     converter below, a blank line between them. Items missing from the
//     manifest or the archive are skipped.
//   - .doc, .dot, .xls, .ppt (legacy binary, OLE compound files): fail
//     with "unsupported file type .doc: the emulator does not extract
//     legacy binary Office formats (the real API does)".
//   - .mobi and archives or executables: fail as not supported by the
//     emulator.
//   - anything else (.txt, .md, .csv, .json, .log, .yaml, .ini, .conf and
//     source code: .go, .py, .js, .ts, .java, .c, .cpp, .h, …, and files
//     without extension): the text as sent, when it is UTF-8 (a UTF-8 BOM
//     is dropped; UTF-16 with a BOM is decoded) without NUL bytes;
//     otherwise it fails as a binary file. UTF-8 is checked in one
//     streaming pass and the stored file is its own text (no copy).
//
// A failure leaves the file with status "error" and the reason in
// status_details; its content answers 500 "Failed to extract file: …".

// fileTypes maps extensions to the file_type of the content document.
var fileTypes = map[string]string{
	".pdf":      "application/pdf",
	".docx":     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx":     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx":     "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".epub":     "application/epub+zip",
	".html":     "text/html",
	".htm":      "text/html",
	".xhtml":    "application/xhtml+xml",
	".txt":      "text/plain",
	".md":       "text/markdown",
	".markdown": "text/markdown",
	".csv":      "text/csv",
	".json":     "application/json",
	".jsonl":    "application/jsonl",
	".xml":      "application/xml",
	".yaml":     "application/yaml",
	".yml":      "application/yaml",
	".css":      "text/css",
	".js":       "text/javascript",
	".go":       "text/x-go",
	".py":       "text/x-python",
	".py3":      "text/x-python",
	".java":     "text/x-java",
	".c":        "text/x-c",
	".h":        "text/x-c",
	".cpp":      "text/x-c++",
	".cxx":      "text/x-c++",
	".cc":       "text/x-c++",
	".cs":       "text/x-csharp",
	".ts":       "text/x-typescript",
	".tsx":      "text/x-typescript",
	".php":      "text/x-php",
}

var imageExts = map[string]bool{
	".png": true, ".jpg": true, ".jpeg": true, ".jfif": true, ".pjp": true, ".pjpeg": true, ".gif": true,
	".bmp": true, ".dib": true, ".webp": true, ".ico": true, ".tif": true, ".tiff": true, ".avif": true,
	".apng": true, ".xbm": true, ".svgz": true, ".heic": true,
}

// legacyOfficeExts are the binary (OLE compound file) Office formats,
// which the real API extracts and the emulator does not.
var legacyOfficeExts = map[string]bool{".doc": true, ".dot": true, ".xls": true, ".ppt": true}

var unsupportedExts = map[string]bool{
	".mobi": true, ".zip": true, ".gz": true, ".tgz": true, ".tar": true, ".rar": true, ".7z": true,
	".exe": true, ".dll": true, ".so": true, ".bin": true, ".mp3": true, ".mp4": true, ".mov": true,
	".wav": true, ".avi": true,
}

// extracted is the text of a file: text, or, when same is set, the
// file's own bytes from offset skip on (plain UTF-8 text is not copied).
type extracted struct {
	text string
	same bool
	skip int64
}

// extract returns the file_type and text of a file, or why it failed.
// It gives up when ctx ends or after extractTimeout, and refuses text
// over maxExtractText.
func extract(ctx context.Context, filename string, file io.ReaderAt, size int64) (fileType string, x extracted, err error) {
	ctx, cancel := extractCtx(ctx)
	defer cancel()
	r := ctxReaderAt{ctx, file}
	ext := strings.ToLower(path.Ext(filename))
	fileType = fileTypes[ext]
	if fileType == "" {
		fileType = "text/plain"
	}
	switch {
	case ext == ".pdf":
		x.text, err = extractPDF(ctx, r, size)
	case ext == ".docx":
		x.text, err = extractDOCX(r, size)
	case ext == ".xlsx":
		x.text, err = extractXLSX(r, size)
	case ext == ".pptx":
		x.text, err = extractPPTX(r, size)
	case ext == ".epub":
		x.text, err = extractEPUB(r, size)
	case ext == ".html" || ext == ".htm" || ext == ".xhtml":
		var raw extracted
		if raw, err = readText(r, size, ext); err == nil && raw.same {
			var b strings.Builder
			b.Grow(int(size - raw.skip))
			_, err = io.Copy(&b, io.NewSectionReader(r, raw.skip, size-raw.skip))
			raw.text = b.String()
		}
		if err == nil {
			x.text = htmlText(raw.text)
		}
	case imageExts[ext]:
		fileType = "image/" + strings.TrimPrefix(ext, ".")
		err = fmt.Errorf("no text found in image %s: the emulator does not OCR images (use purpose image)", filename)
	case legacyOfficeExts[ext]:
		fileType = "application/octet-stream"
		err = fmt.Errorf("unsupported file type %s: the emulator does not extract legacy binary Office formats (the real API does)", ext)
	case unsupportedExts[ext]:
		fileType = "application/octet-stream"
		err = fmt.Errorf("unsupported file type %s", ext)
	default:
		x, err = readText(r, size, ext)
	}
	if cerr := ctxErr(ctx); cerr != nil {
		// Whatever the extractor made of its reads failing, the reason
		// is the deadline or the client.
		err = cerr
	}
	if err == nil && len(x.text) > maxExtractText {
		err = errExtractTooLong
	}
	if err != nil {
		return fileType, extracted{}, err
	}
	return fileType, x, nil
}

// readText reads a text file: UTF-8 (BOM dropped) or UTF-16 with a BOM.
// UTF-8 is checked in a single streaming pass and not copied: the text is
// the file from the end of its BOM on.
func readText(r io.ReaderAt, size int64, ext string) (extracted, error) {
	var head [3]byte
	n, _ := r.ReadAt(head[:], 0)
	h := head[:n]
	var skip int64
	switch {
	case bytes.HasPrefix(h, []byte{0xEF, 0xBB, 0xBF}):
		skip = 3
	case len(h) >= 2 && size%2 == 0 && (h[0] == 0xFF && h[1] == 0xFE || h[0] == 0xFE && h[1] == 0xFF):
		text, err := decodeUTF16(io.NewSectionReader(r, 2, size-2), h[0] == 0xFF, size-2)
		if err != nil {
			return extracted{}, err
		}
		return extracted{text: text}, nil
	}
	ok, err := isText(io.NewSectionReader(r, skip, size-skip))
	if err != nil {
		return extracted{}, err
	}
	if !ok {
		if ext == "" {
			ext = "without extension"
		}
		return extracted{}, fmt.Errorf("unsupported file type %s: not a text file", ext)
	}
	return extracted{same: true, skip: skip}, nil
}

// decodeUTF16 decodes UTF-16 text of n bytes in chunks, straight into
// UTF-8: memory is the output (at most 1.5 times n) plus one chunk,
// rather than the whole input three times over.
func decodeUTF16(r io.Reader, little bool, n int64) (string, error) {
	var out strings.Builder
	out.Grow(int(min(n*3/2, maxExtractText+1)))
	buf := make([]byte, 64<<10)
	var high rune // a pending high surrogate, or 0
	var tmp [utf8.UTFMax]byte
	for {
		k, err := io.ReadFull(r, buf)
		for i := 0; i+1 < k; i += 2 {
			u := rune(buf[i])<<8 | rune(buf[i+1])
			if little {
				u = rune(buf[i]) | rune(buf[i+1])<<8
			}
			switch {
			case high != 0 && utf16.IsSurrogate(u) && u >= 0xDC00:
				u, high = utf16.DecodeRune(high, u), 0
			case high != 0:
				out.WriteRune(utf8.RuneError)
				high = 0
			}
			if u >= 0xD800 && u < 0xDC00 {
				high = u
				continue
			}
			if utf16.IsSurrogate(u) {
				u = utf8.RuneError
			}
			out.Write(tmp[:utf8.EncodeRune(tmp[:], u)])
		}
		if out.Len() > maxExtractText {
			return "", errExtractTooLong
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	if high != 0 {
		out.WriteRune(utf8.RuneError)
	}
	return out.String(), nil
}

// isText reports whether r is valid UTF-8 without NUL bytes, reading it
// in chunks (a rune may straddle two of them).
func isText(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		n, err := io.ReadFull(r, buf[carry:])
		end := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !end {
			return false, err
		}
		p := buf[:carry+n]
		cut := len(p)
		if !end {
			cut = runeCut(p)
		}
		if bytes.IndexByte(p[:cut], 0) >= 0 || !utf8.Valid(p[:cut]) {
			return false, nil
		}
		if end {
			return true, nil
		}
		carry = copy(buf, p[cut:])
	}
}

// runeCut returns the length of the longest prefix of p that does not
// end inside an incomplete UTF-8 sequence.
func runeCut(p []byte) int {
	for k := 1; k <= utf8.UTFMax && k <= len(p); k++ {
		if utf8.RuneStart(p[len(p)-k]) {
			if !utf8.FullRune(p[len(p)-k:]) {
				return len(p) - k
			}
			break
		}
	}
	return len(p)
}

// errType0 is the failure of a PDF whose text is only in composite fonts
// the emulator cannot decode.
var errType0 = errors.New("cannot extract text from this PDF's fonts (Type0/Identity-H)")

// extractPDF returns the text of every page. The library panics on some
// malformed files; that is a failed extraction, not a crash.
func extractPDF(ctx context.Context, r io.ReaderAt, size int64) (text string, err error) {
	defer func() {
		if p := recover(); p != nil {
			if a, ok := p.(abortExtraction); ok {
				err = a.err
				return
			}
			err = fmt.Errorf("invalid pdf: %v", p)
		}
	}()
	doc, err := pdf.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("invalid pdf: %v", err)
	}
	pages, err := pdfPages(ctx, doc)
	if err != nil {
		return "", fmt.Errorf("invalid pdf: %v", err)
	}
	var b strings.Builder
	fonts := map[string]*pdfFont{}
	undecodable := false
	contentBudget := int64(maxExtractXML)
	for i, p := range pages {
		fontDict := pdfInherited(p, "Resources").Key("Font")
		for _, name := range fontDict.Keys() {
			if _, ok := fonts[name]; !ok {
				fonts[name] = newPDFFont(pdf.Font{V: fontDict.Key(name)})
			}
		}
		t, skipped, err := pageText(ctx, p, fonts, b.Len(), &contentBudget)
		if err != nil {
			if a, ok := err.(abortError); ok {
				return "", a.err
			}
			return "", fmt.Errorf("invalid pdf: page %d: %v", i+1, err)
		}
		undecodable = undecodable || skipped
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(t)
		checkBudget(ctx, b.Len())
	}
	text = tidyLines(b.String())
	if text == "" {
		if undecodable {
			return "", errType0
		}
		return "", errors.New("no text found in pdf: the emulator does not OCR scanned pages")
	}
	return text, nil
}

// pdfFont is a page font. Composite (Type0) fonts with a 2-byte
// Identity encoding are decoded through their /ToUnicode CMap here (the
// library's CMap reader loses codes without a codespace range and
// bfranges whose destination crosses a byte boundary); other fonts use
// the library's decoding.
type pdfFont struct {
	lib *pdf.Font
	// Identity-H/V fonts: cmap is the ToUnicode map, nil when there is
	// none (the codes are glyph ids: no text can be recovered).
	identity bool
	cmap     *toUnicode
}

func newPDFFont(f pdf.Font) *pdfFont {
	pf := &pdfFont{lib: &f}
	enc := f.V.Key("Encoding")
	if f.V.Key("Subtype").Name() == "Type0" && enc.Kind() == pdf.Name && (enc.Name() == "Identity-H" || enc.Name() == "Identity-V") {
		pf.identity = true
		if tu := f.V.Key("ToUnicode"); tu.Kind() == pdf.Stream {
			pf.cmap = readToUnicode(tu, f.V)
		}
	}
	return pf
}

// decode returns the text of a shown string; ok is false when the font
// cannot be decoded.
func (f *pdfFont) decode(raw string) (text string, ok bool) {
	if !f.identity {
		var b strings.Builder
		for _, r := range f.lib.Encoder().Decode(raw) {
			b.WriteRune(r)
		}
		return b.String(), true
	}
	if f.cmap == nil {
		return "", false
	}
	var b strings.Builder
	for i := 0; i+1 < len(raw); i += 2 {
		b.WriteString(f.cmap.lookup(uint32(raw[i])<<8 | uint32(raw[i+1])))
	}
	return b.String(), true
}

// pageText is the library's Page.GetPlainText (a line per text object)
// with pdfFont decoding; skipped reports text shown in a font that cannot
// be decoded, which is left out.
// before is the length of the text of the pages before, for the
// output cap; contentBudget is what is left of the decompressed size
// allowed to all content streams.
func pageText(ctx context.Context, p pdf.Page, fonts map[string]*pdfFont, before int, contentBudget *int64) (text string, skipped bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			if a, ok := r.(abortExtraction); ok {
				text, err = "", abortError(a)
				return
			}
			text, err = "", fmt.Errorf("%v", r)
		}
	}()
	if p.V.Key("Contents").Kind() == pdf.Null {
		return "", false, nil
	}
	if err := measurePDFContent(p.V.Key("Contents"), contentBudget); err != nil {
		if err == errPDFContentTooLarge {
			return "", false, abortError{err}
		}
		return "", false, fmt.Errorf("malformed PDF: %v", err)
	}
	var b strings.Builder
	var font *pdfFont
	show := func(raw string) {
		if font == nil {
			b.WriteString(raw)
			return
		}
		t, ok := font.decode(raw)
		if !ok {
			skipped = true
		}
		b.WriteString(t)
	}
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		checkBudget(ctx, before+b.Len())
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "BT":
			b.WriteByte('\n')
		case "T*":
			show("\n")
		case "Tf":
			if len(args) != 2 {
				panic("bad TL")
			}
			font = fonts[args[0].Name()]
		case "Tj", "'", "\"":
			if len(args) == 0 {
				panic("bad " + op + " operator")
			}
			show(args[len(args)-1].RawString())
		case "TJ":
			if len(args) == 0 {
				panic("bad TJ operator")
			}
			v := args[0]
			for i := 0; i < v.Len(); i++ {
				if x := v.Index(i); x.Kind() == pdf.String {
					show(x.RawString())
				}
			}
		}
	})
	return b.String(), skipped, nil
}

// toUnicode is a /ToUnicode CMap (bfchar and bfrange; codes as numbers,
// so that a code written with fewer bytes than the font's still maps).
type toUnicode struct {
	chars  map[uint32]string
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi uint32
	dst    []rune   // first destination, incremented along the range
	arr    []string // or one destination per code
}

func cmapCode(v pdf.Value) (uint32, bool) {
	s := v.RawString()
	if v.Kind() != pdf.String || len(s) == 0 || len(s) > 4 {
		return 0, false
	}
	var c uint32
	for i := 0; i < len(s); i++ {
		c = c<<8 | uint32(s[i])
	}
	return c, true
}

// utf16BE decodes a CMap destination (UTF-16BE).
func utf16BE(s string) []rune {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return utf16.Decode(u)
}

// readToUnicode reads a /ToUnicode CMap; nil when it is malformed. scratch
// is a dictionary standing for the CIDInit procedure set that the CMap
// opens ("/CIDInit /ProcSet findresource begin"; the package cannot make
// one): the CMap's own definitions go to the dictionary it creates next.
func readToUnicode(v, scratch pdf.Value) (m *toUnicode) {
	defer func() {
		if recover() != nil {
			m = nil
		}
	}()
	m = &toUnicode{chars: map[uint32]string{}}
	n := -1
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		switch op {
		case "beginbfchar", "beginbfrange":
			n = int(stk.Pop().Int64())
		case "endbfchar":
			for ; n > 0 && stk.Len() >= 2; n-- {
				dst, src := stk.Pop(), stk.Pop()
				if c, ok := cmapCode(src); ok && dst.Kind() == pdf.String {
					m.chars[c] = string(utf16BE(dst.RawString()))
				}
			}
		case "endbfrange":
			for ; n > 0 && stk.Len() >= 3; n-- {
				dst, hiV, loV := stk.Pop(), stk.Pop(), stk.Pop()
				lo, ok1 := cmapCode(loV)
				hi, ok2 := cmapCode(hiV)
				if !ok1 || !ok2 || hi < lo {
					continue
				}
				r := cmapRange{lo: lo, hi: hi}
				switch dst.Kind() {
				case pdf.String:
					r.dst = utf16BE(dst.RawString())
				case pdf.Array:
					for i := 0; i < dst.Len(); i++ {
						r.arr = append(r.arr, string(utf16BE(dst.Index(i).RawString())))
					}
				}
				m.ranges = append(m.ranges, r)
			}
		case "findresource":
			stk.Pop()
			stk.Pop()
			stk.Push(scratch)
		case "defineresource":
			stk.Pop()
			stk.Pop()
			stk.Pop()
			stk.Push(scratch)
		}
	})
	return m
}

// lookup returns the text of a code (U+FFFD when the CMap has none).
func (m *toUnicode) lookup(c uint32) string {
	if t, ok := m.chars[c]; ok {
		return t
	}
	for _, r := range m.ranges {
		if c < r.lo || c > r.hi {
			continue
		}
		off := c - r.lo
		if r.arr != nil {
			if int(off) < len(r.arr) {
				return r.arr[off]
			}
			break
		}
		if len(r.dst) == 0 {
			break
		}
		d := slices.Clone(r.dst)
		d[len(d)-1] += rune(off)
		return string(d)
	}
	return "\uFFFD"
}

// tidyLines trims trailing spaces of each line, drops blank lines at the
// ends and squeezes runs of blank lines to one.
func tidyLines(s string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

const (
	wordML       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	markupCompat = "http://schemas.openxmlformats.org/markup-compatibility/2006"
)

// extractDOCX returns the paragraphs of word/document.xml, one per line.
func extractDOCX(r io.ReaderAt, size int64) (string, error) {
	zr, err := openZip("docx", r, size)
	if err != nil {
		return "", err
	}
	var doc *zip.File
	for _, f := range zr.File {
		if f.Name == "word/document.xml" {
			doc = f
		}
	}
	if doc == nil {
		return "", errors.New("invalid docx: word/document.xml is missing")
	}
	rc, err := doc.Open()
	if err != nil {
		return "", fmt.Errorf("invalid docx: %v", err)
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, maxExtractXML))
	// Paragraphs nest (a text box's w:txbxContent sits in a run of its
	// anchor paragraph), so each open paragraph has its own buffer. A
	// nested paragraph is a line of its own, after its enclosing one.
	type para struct {
		text   strings.Builder
		nested []string // lines of the paragraphs nested in this one
	}
	var (
		lines  []string
		stack  []*para
		inText bool
	)
	write := func(s string) {
		if len(stack) > 0 {
			stack[len(stack)-1].text.WriteString(s)
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("invalid docx: word/document.xml: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == markupCompat && t.Name.Local == "Fallback" {
				// Word writes text boxes (and other new content) twice:
				// mc:Choice and an older mc:Fallback copy. Read the Choice.
				if err := dec.Skip(); err != nil {
					return "", fmt.Errorf("invalid docx: word/document.xml: %v", err)
				}
				continue
			}
			if t.Name.Space != wordML {
				continue
			}
			switch t.Name.Local {
			case "pPr", "rPr", "del", "moveFrom", "instrText", "delInstrText":
				// Properties (w:tabs holds tab stops, not tabs) and
				// deleted text.
				if err := dec.Skip(); err != nil {
					return "", fmt.Errorf("invalid docx: word/document.xml: %v", err)
				}
			case "p":
				stack = append(stack, &para{})
			case "t":
				inText = true
			case "tab", "ptab":
				write("\t")
			case "br", "cr":
				write("\n")
			case "noBreakHyphen":
				write("-")
			case "softHyphen":
				// An optional hyphen: not part of the text.
			case "sym":
				// A symbol-font character; Symbol and Wingdings codes
				// (private use, F0xx) have no Unicode meaning.
				for _, a := range t.Attr {
					if a.Name.Local != "char" {
						continue
					}
					if c, err := strconv.ParseUint(a.Value, 16, 32); err == nil && !unicode.Is(unicode.Co, rune(c)) && utf8.ValidRune(rune(c)) && c >= 0x20 {
						write(string(rune(c)))
					}
				}
			}
		case xml.EndElement:
			if t.Name.Space != wordML {
				continue
			}
			switch t.Name.Local {
			case "p":
				if len(stack) == 0 {
					continue
				}
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				ls := append([]string{p.text.String()}, p.nested...)
				if len(stack) > 0 {
					outer := stack[len(stack)-1]
					outer.nested = append(outer.nested, ls...)
				} else {
					lines = append(lines, ls...)
				}
			case "t":
				inText = false
			}
		case xml.CharData:
			if inText {
				write(string(t))
			}
		}
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n"), nil
}

// htmlBlocks are the elements that start and end a line.
var htmlBlocks = map[string]bool{
	"address": true, "article": true, "aside": true, "blockquote": true, "br": true, "caption": true,
	"dd": true, "details": true, "div": true, "dl": true, "dt": true, "fieldset": true, "figcaption": true,
	"figure": true, "footer": true, "form": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true,
	"h6": true, "header": true, "hr": true, "li": true, "main": true, "nav": true, "ol": true, "p": true,
	"pre": true, "section": true, "summary": true, "table": true, "tbody": true, "td": true, "tfoot": true,
	"th": true, "thead": true, "title": true, "tr": true, "ul": true, "body": true, "html": true, "head": true,
}

// htmlSkip are the elements whose content is not text.
var htmlSkip = map[string]bool{"script": true, "style": true, "noscript": true, "template": true, "svg": true, "math": true, "object": true}

// htmlText is a small HTML-to-text converter (the module does not depend
// on golang.org/x/net/html). It understands comments, doctype and
// processing instructions, CDATA, quoted attribute values containing '>',
// raw-text elements (script, style) and entities (html.UnescapeString).
func htmlText(src string) string {
	// One pass: text segments and block boundaries are rendered as they
	// are found, straight into the output, so that memory stays the size
	// of the text whatever the markup (a file of nothing but tags or
	// lone '<' would otherwise cost a segment per byte).
	var out strings.Builder
	var line strings.Builder
	linePre := false // the current line is preformatted: keep its indentation
	endLine := func() {
		l := strings.TrimSpace(line.String())
		if linePre {
			l = strings.TrimRight(line.String(), " \t\r")
		}
		line.Reset()
		linePre = false
		if strings.TrimSpace(l) != "" {
			if out.Len() > 0 {
				out.WriteByte('\n')
			}
			out.WriteString(l)
		}
	}
	// Render: blocks are line breaks; inline text is collapsed.
	emit := func(s htmlSeg) {
		if s.block {
			endLine()
			return
		}
		t := html.UnescapeString(s.text)
		if s.pre {
			linePre = true
			for k, p := range strings.Split(t, "\n") {
				if k > 0 {
					// Keep the pre's lines, indentation included.
					endLine()
					linePre = true
				}
				line.WriteString(p)
			}
			return
		}
		collapsed := strings.Join(strings.Fields(t), " ")
		if collapsed == "" {
			if t != "" && line.Len() > 0 {
				line.WriteByte(' ')
			}
			return
		}
		if startsSpace(t) && line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(collapsed)
		if endsSpace(t) {
			line.WriteByte(' ')
		}
	}
	// Text is gathered into runs of the source (a lone '<' is text too)
	// and emitted when markup interrupts it.
	pre := 0       // depth of <pre>
	runStart := -1 // start of the pending text run in src, or -1
	runEnd := 0    // its end
	flush := func() {
		if runStart >= 0 {
			emit(htmlSeg{text: src[runStart:runEnd], pre: pre > 0})
			runStart = -1
		}
	}
	addText := func(from, to int) {
		if runStart < 0 || runEnd != from {
			flush()
			runStart = from
		}
		runEnd = to
	}
	i := 0
	for i < len(src) {
		lt := strings.IndexByte(src[i:], '<')
		if lt < 0 {
			addText(i, len(src))
			break
		}
		if lt > 0 {
			addText(i, i+lt)
		}
		i += lt
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			flush()
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				i = len(src)
			} else {
				i += 4 + end + 3
			}
			continue
		case strings.HasPrefix(rest, "<![CDATA["):
			flush()
			end := strings.Index(rest, "]]>")
			if end < 0 {
				end = len(rest)
			}
			emit(htmlSeg{text: html.EscapeString(rest[9:end]), pre: pre > 0})
			i += min(end+3, len(rest))
			continue
		case strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, "<?"):
			flush()
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				i = len(src)
			} else {
				i += end + 1
			}
			continue
		}
		name, closing, n := parseTag(rest)
		if n == 0 {
			// A lone '<' is text (which unescaping leaves alone).
			addText(i, i+1)
			i++
			continue
		}
		flush()
		i += n
		if htmlSkip[name] && !closing {
			// Raw text up to the matching close tag.
			end := indexFold(src[i:], "</"+name)
			if end < 0 {
				i = len(src)
			} else {
				i += end
				if gt := strings.IndexByte(src[i:], '>'); gt >= 0 {
					i += gt + 1
				} else {
					i = len(src)
				}
			}
			continue
		}
		if name == "pre" {
			if closing {
				pre = max(pre-1, 0)
			} else {
				pre++
			}
		}
		if htmlBlocks[name] {
			emit(htmlSeg{block: true})
		}
	}
	flush()
	endLine()
	return out.String()
}

type htmlSeg struct {
	text  string
	block bool
	pre   bool
}

func startsSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f'
}

func endsSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r == ' ' || r == '\n' || r == '\t' || r == '\r' || r == '\f'
}

// parseTag reads a tag at the start of s ("<name …>" or "</name>"),
// honouring quoted attribute values. n is 0 when s does not start a tag.
func parseTag(s string) (name string, closing bool, n int) {
	i := 1
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > start && (s[i] >= '0' && s[i] <= '9' || s[i] == '-' || s[i] == ':')) {
		i++
	}
	if i == start {
		return "", false, 0
	}
	name = strings.ToLower(s[start:i])
	var quote byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, closing, i + 1
		}
	}
	return name, closing, len(s)
}

// indexFold is strings.Index, ASCII case-insensitively.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}
