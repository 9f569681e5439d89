package kimitest

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Extraction of the zip-based formats other than DOCX: XLSX, PPTX and
// EPUB (the layouts are described in extract.go).

const (
	drawingML = "http://schemas.openxmlformats.org/drawingml/2006/main"
	// xlsxMaxCol is the last column of a worksheet (XFD): a cell reference
	// past it is treated as unreadable rather than padded to.
	xlsxMaxCol = 16384
)

var errPartsTooLarge = fmt.Errorf("decompressed parts exceed %d MB", maxExtractXML>>20)

// zipPackage is an OOXML or EPUB container. All the parts read from one
// file share a budget of maxExtractXML decompressed bytes (zip bombs).
type zipPackage struct {
	kind   string // "xlsx", "pptx", "epub": for error texts
	files  map[string]*zip.File
	budget int64
	// textLeft is what is left of maxExtractText: a cell can repeat a
	// long shared string, or sit thousands of columns to the right, so
	// the text can be far larger than the decompressed parts.
	textLeft int
}

// spend takes n bytes of output from the text budget.
func (p *zipPackage) spend(n int) error {
	if p.textLeft -= n; p.textLeft < 0 {
		return errExtractTooLong
	}
	return nil
}

func openZipPackage(kind string, r io.ReaderAt, size int64) (*zipPackage, error) {
	zr, err := openZip(kind, r, size)
	if err != nil {
		return nil, err
	}
	p := &zipPackage{kind: kind, files: map[string]*zip.File{}, budget: maxExtractXML, textLeft: maxExtractText}
	for _, f := range zr.File {
		if _, dup := p.files[f.Name]; !dup {
			p.files[f.Name] = f
		}
	}
	return p, nil
}

func (p *zipPackage) has(name string) bool { return p.files[name] != nil }

func (p *zipPackage) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid "+p.kind+": "+format, args...)
}

// budgetReader reads until the package's budget is spent.
type budgetReader struct {
	r    io.Reader
	left *int64
}

func (b budgetReader) Read(q []byte) (int, error) {
	if int64(len(q)) > *b.left+1 {
		q = q[:*b.left+1]
	}
	n, err := b.r.Read(q)
	*b.left -= int64(n)
	if *b.left < 0 {
		return 0, errPartsTooLarge
	}
	return n, err
}

// open opens a part for reading within the budget.
func (p *zipPackage) open(name string) (io.ReadCloser, error) {
	f := p.files[name]
	if f == nil {
		return nil, p.errorf("%s is missing", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, p.errorf("%s: %v", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{budgetReader{rc, &p.budget}, rc}, nil
}

// read returns the whole of a part.
func (p *zipPackage) read(name string) ([]byte, error) {
	rc, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, p.errorf("%s: %v", name, err)
	}
	return b, nil
}

// walk calls fn with each token of an XML part; the mc:Fallback copies of
// mc:AlternateContent are skipped (the mc:Choice is read). fn may call
// dec.Skip.
func (p *zipPackage) walk(name string, fn func(dec *xml.Decoder, tok xml.Token) error) error {
	rc, err := p.open(name)
	if err != nil {
		return err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err == nil {
			if s, ok := tok.(xml.StartElement); ok && s.Name.Space == markupCompat && s.Name.Local == "Fallback" {
				err = dec.Skip()
			} else {
				err = fn(dec, tok)
			}
		}
		if err != nil {
			return p.errorf("%s: %v", name, err)
		}
	}
}

// numbered returns the N of the parts named prefix+N+suffix, in numeric
// order (slide2 before slide10).
func (p *zipPackage) numbered(prefix, suffix string) []int {
	var ns []int
	for name := range p.files {
		digits, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if digits, ok = strings.CutSuffix(digits, suffix); !ok || digits == "" || strings.Trim(digits, "0123456789") != "" {
			continue
		}
		if n, err := strconv.Atoi(digits); err == nil && strconv.Itoa(n) == digits {
			ns = append(ns, n)
		}
	}
	slices.Sort(ns)
	return ns
}

// resolvePart resolves a relationship target or an href (a relative URI)
// against the folder of the part that holds it.
func resolvePart(dir, target string) string {
	target, _, _ = strings.Cut(target, "#")
	if u, err := url.PathUnescape(target); err == nil {
		target = u
	}
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return path.Join(dir, target)
}

func attr(s xml.StartElement, local string) string {
	for _, a := range s.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// relationships reads an OPC .rels part: Id → target part, and the
// targets by relationship type (the last URI segment, "worksheet", …).
// External targets are left out.
func (p *zipPackage) relationships(rels, dir string) (byID map[string]string, byType map[string]string, err error) {
	byID, byType = map[string]string{}, map[string]string{}
	if !p.has(rels) {
		return byID, byType, nil
	}
	err = p.walk(rels, func(_ *xml.Decoder, tok xml.Token) error {
		s, ok := tok.(xml.StartElement)
		if !ok || s.Name.Local != "Relationship" || attr(s, "TargetMode") == "External" {
			return nil
		}
		target := resolvePart(dir, attr(s, "Target"))
		byID[attr(s, "Id")] = target
		typ := attr(s, "Type")
		byType[typ[strings.LastIndexByte(typ, '/')+1:]] = target
		return nil
	})
	return byID, byType, err
}

type xlsxSheet struct{ name, part string }

// extractXLSX returns the rows of every worksheet, in workbook order,
// each sheet under a "# name" line.
func extractXLSX(r io.ReaderAt, size int64) (string, error) {
	sheets, err := xlsxWorkbook(r, size)
	if err != nil {
		return "", err
	}
	var out []string
	for i, s := range sheets {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, "# "+s.name)
		out = append(out, s.rows...)
	}
	return strings.Join(out, "\n"), nil
}

// xlsxSheetRows is one worksheet: its rows, cells joined by tabs (tabs
// and line breaks inside a cell are spaces).
type xlsxSheetRows struct {
	name string
	rows []string
}

// xlsxWorkbook reads every worksheet, in workbook order.
func xlsxWorkbook(r io.ReaderAt, size int64) ([]xlsxSheetRows, error) {
	p, err := openZipPackage("xlsx", r, size)
	if err != nil {
		return nil, err
	}
	relsByID, relsByType, err := p.relationships("xl/_rels/workbook.xml.rels", "xl")
	if err != nil {
		return nil, err
	}
	sheets, err := p.xlsxSheets(relsByID)
	if err != nil {
		return nil, err
	}
	if len(sheets) == 0 && !p.has("xl/workbook.xml") {
		return nil, p.errorf("xl/workbook.xml is missing")
	}
	sharedPart := relsByType["sharedStrings"]
	if sharedPart == "" {
		sharedPart = "xl/sharedStrings.xml"
	}
	var shared []string
	if p.has(sharedPart) {
		if shared, err = p.xlsxSharedStrings(sharedPart); err != nil {
			return nil, err
		}
	}
	out := make([]xlsxSheetRows, 0, len(sheets))
	for _, s := range sheets {
		rows, err := p.xlsxRows(s.part, shared)
		if err != nil {
			return nil, err
		}
		out = append(out, xlsxSheetRows{s.name, rows})
	}
	return out, nil
}

// xlsxSheets lists the worksheets: those of xl/workbook.xml through its
// relationships, else the xl/worksheets/sheetN.xml parts in numeric order
// (named after the workbook's sheets when there are as many, else SheetN).
func (p *zipPackage) xlsxSheets(rels map[string]string) ([]xlsxSheet, error) {
	var names, ids []string
	if p.has("xl/workbook.xml") {
		err := p.walk("xl/workbook.xml", func(dec *xml.Decoder, tok xml.Token) error {
			if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "sheet" {
				id := ""
				for _, a := range s.Attr {
					if a.Name.Local == "id" && a.Name.Space != "" {
						id = a.Value
					}
				}
				names, ids = append(names, attr(s, "name")), append(ids, id)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var sheets []xlsxSheet
	for i, id := range ids {
		if part := rels[id]; id != "" && p.has(part) {
			sheets = append(sheets, xlsxSheet{names[i], part})
		}
	}
	if len(sheets) > 0 {
		return sheets, nil
	}
	nums := p.numbered("xl/worksheets/sheet", ".xml")
	for i, n := range nums {
		name := "Sheet" + strconv.Itoa(n)
		if len(names) == len(nums) {
			name = names[i]
		}
		sheets = append(sheets, xlsxSheet{name, "xl/worksheets/sheet" + strconv.Itoa(n) + ".xml"})
	}
	return sheets, nil
}

// xlsxSharedStrings reads the shared string table: the text of each si,
// plain (t) or rich (the t of its runs r); phonetic guides (rPh) are left
// out.
func (p *zipPackage) xlsxSharedStrings(part string) ([]string, error) {
	var (
		out       []string
		cur       strings.Builder
		inSI, inT bool
	)
	err := p.walk(part, func(dec *xml.Decoder, tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "t":
				inT = inSI
			case "rPh", "phoneticPr":
				return dec.Skip()
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				inSI = false
				out = append(out, cur.String())
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT {
				cur.Write(t)
			}
		}
		return nil
	})
	return out, err
}

// xlsxColumn returns the 1-based column of a cell reference ("C7" → 3);
// 0 when ref has no valid column.
func xlsxColumn(ref string) int {
	col := 0
	for i := 0; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a'+1)
		if col > xlsxMaxCol {
			return 0
		}
	}
	return col
}

var cellSpace = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// xlsxRows returns the rows of a worksheet, cells joined by tabs.
func (p *zipPackage) xlsxRows(part string, shared []string) ([]string, error) {
	var (
		lines     []string
		cells     []string
		col       int    // column of the current cell
		typ       string // its t attribute
		v, is     strings.Builder
		inV, inIs bool
		inT       bool
	)
	err := p.walk(part, func(dec *xml.Decoder, tok xml.Token) error {
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				cells = cells[:0]
			case "c":
				if col = xlsxColumn(attr(t, "r")); col == 0 {
					col = len(cells) + 1
				}
				typ = attr(t, "t")
				v.Reset()
				is.Reset()
			case "v":
				inV = true
			case "is":
				inIs = true
			case "t":
				inT = inIs
			case "f", "rPh", "phoneticPr", "extLst":
				return dec.Skip()
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v":
				inV = false
			case "is":
				inIs = false
			case "t":
				inT = false
			case "c":
				val := v.String()
				switch typ {
				case "s":
					val = ""
					if i, err := strconv.Atoi(strings.TrimSpace(v.String())); err == nil && i >= 0 && i < len(shared) {
						val = shared[i]
					}
				case "inlineStr":
					val = is.String()
				case "b":
					switch strings.TrimSpace(val) {
					case "1":
						val = "TRUE"
					case "0":
						val = "FALSE"
					}
				}
				// One byte per cell for its tab.
				if err := p.spend(len(val) + max(col-len(cells), 1)); err != nil {
					return err
				}
				if n := len(cells); col > n {
					// Grow at once: a cell far to the right (column
					// XFD) would otherwise cost an append per column.
					cells = slices.Grow(cells, col-n)[:col]
					clear(cells[n:])
				}
				cells[col-1] = cellSpace.Replace(val)
			case "row":
				n := len(cells)
				for n > 0 && strings.TrimSpace(cells[n-1]) == "" {
					n--
				}
				if n > 0 {
					lines = append(lines, strings.Join(cells[:n], "\t"))
				}
			}
		case xml.CharData:
			switch {
			case inT:
				is.Write(t)
			case inV:
				v.Write(t)
			}
		}
		return nil
	})
	return lines, err
}

// extractPPTX returns the text of ppt/slides/slideN.xml in numeric order:
// a line per paragraph (a:p), a blank line between slides.
func extractPPTX(r io.ReaderAt, size int64) (string, error) {
	p, err := openZipPackage("pptx", r, size)
	if err != nil {
		return "", err
	}
	nums := p.numbered("ppt/slides/slide", ".xml")
	if len(nums) == 0 && !p.has("ppt/presentation.xml") {
		return "", p.errorf("ppt/presentation.xml is missing")
	}
	var slides []string
	for _, n := range nums {
		var (
			lines []string
			para  strings.Builder
			inT   bool
		)
		err := p.walk("ppt/slides/slide"+strconv.Itoa(n)+".xml", func(dec *xml.Decoder, tok xml.Token) error {
			switch t := tok.(type) {
			case xml.StartElement:
				if t.Name.Space != drawingML {
					return nil
				}
				switch t.Name.Local {
				case "p":
					para.Reset()
				case "t":
					inT = true
				case "br":
					para.WriteByte('\n')
				}
			case xml.EndElement:
				if t.Name.Space != drawingML {
					return nil
				}
				switch t.Name.Local {
				case "p":
					if l := strings.TrimRight(para.String(), " \t\r\n"); strings.TrimSpace(l) != "" {
						lines = append(lines, l)
					}
				case "t":
					inT = false
				}
			case xml.CharData:
				if inT {
					para.Write(t)
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if len(lines) > 0 {
			slides = append(slides, strings.Join(lines, "\n"))
		}
	}
	return strings.Join(slides, "\n\n"), nil
}

// extractEPUB returns the text of the XHTML documents of the spine, in
// spine order, a blank line between them.
func extractEPUB(r io.ReaderAt, size int64) (string, error) {
	p, err := openZipPackage("epub", r, size)
	if err != nil {
		return "", err
	}
	// The first OPF rootfile, else the first rootfile.
	opf, isOPF := "", false
	err = p.walk("META-INF/container.xml", func(_ *xml.Decoder, tok xml.Token) error {
		if s, ok := tok.(xml.StartElement); ok && s.Name.Local == "rootfile" && !isOPF {
			if attr(s, "media-type") == "application/oebps-package+xml" {
				opf, isOPF = attr(s, "full-path"), true
			} else if opf == "" {
				opf = attr(s, "full-path")
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if opf == "" {
		return "", p.errorf("META-INF/container.xml names no rootfile")
	}
	opf = resolvePart(".", opf)
	type item struct{ href, mediaType string }
	manifest := map[string]item{}
	var spine []string
	err = p.walk(opf, func(_ *xml.Decoder, tok xml.Token) error {
		if s, ok := tok.(xml.StartElement); ok {
			switch s.Name.Local {
			case "item":
				manifest[attr(s, "id")] = item{attr(s, "href"), attr(s, "media-type")}
			case "itemref":
				spine = append(spine, attr(s, "idref"))
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	dir := path.Dir(opf)
	var chapters []string
	for _, id := range spine {
		it, ok := manifest[id]
		if !ok {
			continue
		}
		ext := strings.ToLower(path.Ext(it.href))
		if it.mediaType != "application/xhtml+xml" && it.mediaType != "text/html" && ext != ".xhtml" && ext != ".html" && ext != ".htm" {
			continue
		}
		part := resolvePart(dir, it.href)
		if !p.has(part) {
			continue
		}
		b, err := p.read(part)
		if err != nil {
			return "", err
		}
		src := string(b)
		// The body only: the head's title is the book's, repeated in
		// every chapter.
		if i := indexFold(src, "<body"); i >= 0 {
			src = src[i:]
		}
		if t := htmlText(src); t != "" {
			chapters = append(chapters, t)
		}
	}
	return strings.Join(chapters, "\n\n"), nil
}
