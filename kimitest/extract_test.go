package kimitest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// makePDF builds a minimal valid PDF 1.4: one page per element of pages,
// each line of a page in its own Helvetica text object, with a correct
// xref table.
func makePDF(pages ...[]string) []byte {
	esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	n := len(pages)
	// Objects: 1 catalog, 2 pages, 3 font, then per page: page, contents.
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", "", "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"}
	var kids []string
	for i, lines := range pages {
		pageObj, contentObj := 4+2*i, 5+2*i
		kids = append(kids, fmt.Sprintf("%d 0 R", pageObj))
		var stream strings.Builder
		for j, l := range lines {
			fmt.Fprintf(&stream, "BT /F1 12 Tf 72 %d Td (%s) Tj ET\n", 720-20*j, esc.Replace(l))
		}
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R /Resources << /Font << /F1 3 0 R >> >> >>", contentObj),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", stream.Len(), stream.String()))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
	return pdfFile(objs)
}

// pdfFile writes objs as objects 1, 2, … of a PDF 1.4 file, object 1
// being the catalog, with a correct xref table.
func pdfFile(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// makeType0PDF builds a one-page PDF whose text is shown in a Type0 font
// with Identity-H encoding (2-byte CIDs) and a /ToUnicode CMap, the way
// CJK and most modern PDFs are written. No font program is embedded:
// extraction does not need one. lines are hex CID strings, one text
// object each. An empty cmap leaves /ToUnicode out.
func makeType0PDF(cmap string, lines ...string) []byte {
	var stream strings.Builder
	for j, l := range lines {
		fmt.Fprintf(&stream, "BT /F1 12 Tf 72 %d Td %s ET\n", 720-20*j, l)
	}
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", stream.Len(), stream.String()),
		"<< /Type /Font /Subtype /Type0 /BaseFont /ABCDEF+TestCJK /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /ABCDEF+TestCJK /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap),
	}
	if cmap == "" {
		objs[4] = strings.Replace(objs[4], " /ToUnicode 7 0 R", "", 1)
		objs = objs[:6]
	}
	return pdfFile(objs)
}

// toUnicodeCMap wraps bfchar/bfrange sections in a ToUnicode CMap; a
// codespace range is declared unless codespace is "".
func toUnicodeCMap(codespace, body string) string {
	cs := ""
	if codespace != "" {
		cs = "1 begincodespacerange\n" + codespace + "\nendcodespacerange\n"
	}
	return "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" + cs + body +
		"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
}

func TestExtractType0PDF(t *testing.T) {
	srv := setup(t)
	// 你好，世界 are CIDs 1-5 (bfchar and a bfrange); Привет CIDs 0x10-0x15
	// (a bfrange with an array); CIDs 0x20-0x22 a bfrange that crosses a
	// byte boundary of its destination (U+00FF, U+0100, U+0101).
	body := "3 beginbfchar\n<0001> <4F60>\n<0002> <597D>\n<0003> <FF0C>\nendbfchar\n" +
		"3 beginbfrange\n<0004> <0005> <4E16>\n" +
		"<0010> <0015> [<041F> <0440> <0438> <0432> <0435> <0442>]\n" +
		"<0020> <0022> <00FF>\nendbfrange\n"
	lines := []string{"<0001000200030004> Tj", "[<0005>] TJ", "[<00100011> -120 <0012001300140015>] TJ", "<002000210022> Tj"}
	// 世 is U+4E16 and 界 U+754C: the bfrange above makes 界 U+4E17 (丗),
	// so map it on its own.
	body = strings.Replace(body, "3 beginbfchar\n", "4 beginbfchar\n<0005> <754C>\n", 1)
	for _, c := range []struct{ name, codespace string }{
		{"cjk.pdf", "<0000> <FFFF>"},
		{"nocodespace.pdf", ""},
	} {
		pdf := makeType0PDF(toUnicodeCMap(c.codespace, body), lines...)
		want := "你好，世\n界\nПривет\nÿĀā"
		wantText(t, srv, c.name, "application/pdf", pdf, want)
	}
	// Without /ToUnicode the codes are glyph ids: an error, not garbage.
	uploadFailing(t, srv, "glyphs.pdf", makeType0PDF("", lines...), "cannot extract text from this PDF's fonts (Type0/Identity-H)")
}

// makeDOCX builds a minimal .docx whose word/document.xml is body (the
// inside of <w:body>).
func makeDOCX(t testing.TB, body string) []byte {
	t.Helper()
	return docxWithBody(body)
}

// makeZip builds a zip archive with the files in the given order (name,
// content pairs).
func makeZip(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.Create(files[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// wantText uploads data as name for file-extract and checks that
// extraction succeeded with fileType and the text want.
func wantText(t *testing.T, srv *Server, name, fileType string, data []byte, want string) {
	t.Helper()
	f := mustUpload(t, srv, name, "file-extract", data)
	if f.Status != "ok" || *f.StatusDetails != "" {
		t.Errorf("%s: status %q details %q", name, f.Status, *f.StatusDetails)
		return
	}
	got := fileContent(t, srv, f.ID)
	if *got.FileType != fileType || *got.Filename != name {
		t.Errorf("%s: file_type %q filename %q, want %q %q", name, *got.FileType, *got.Filename, fileType, name)
	}
	if *got.Content != want {
		t.Errorf("%s: content %q\nwant    %q", name, *got.Content, want)
	}
}

// uploadFailing uploads data as name for file-extract and checks that
// extraction failed, with detail as the status details ("" for any
// "invalid …" detail), and that the content is the documented 500. It
// reports whether all was as wanted.
func uploadFailing(t *testing.T, srv *Server, name string, data []byte, detail string) (wireFile, bool) {
	t.Helper()
	f := mustUpload(t, srv, name, "file-extract", data)
	if f.Status != "error" || f.StatusDetails == nil || (detail != "" && *f.StatusDetails != detail) ||
		(detail == "" && !strings.HasPrefix(*f.StatusDetails, "invalid ")) {
		t.Errorf("%s: status %q details %v, want error %q", name, f.Status, f.StatusDetails, detail)
		return f, false
	}
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/files/"+f.ID+"/content", nil), 500, "server_error",
		"Failed to extract file: "+*f.StatusDetails)
	return f, true
}

func TestExtractFormats(t *testing.T) {
	srv := setup(t)
	docx := makeDOCX(t, `<w:p><w:r><w:t>Quarterly report</w:t></w:r></w:p>`+
		`<w:p><w:r><w:t xml:space="preserve">Revenue </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>grew</w:t></w:r><w:r><w:tab/><w:t>12%</w:t></w:r></w:p>`+
		`<w:p/>`+
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>cell &amp; one</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`+
		`<w:p><w:r><w:t>第二段</w:t><w:br/><w:t>next line</w:t></w:r><w:r><w:delText>deleted</w:delText></w:r></w:p>`+
		`<w:sectPr/>`)
	html := `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Fish &amp; Chips</title>
<style>body { color: red; } p > a { x: "</p>" }</style>
<script type="text/javascript">if (a < b && c > d) { document.write("<p>no</p>"); }</script></head>
<body>
<!-- a comment <p>hidden</p> -->
<h1>Menu</h1>
<p>Cod   &amp; <b>chips</b>, &lt;hot&gt; &eacute;t&eacute; &#x4e2d;&#25991;</p>
<div title="a > b">Price: <i>5</i> &euro;</div>
<ul><li>one</li><li>two<br>three</li></ul>
<pre>  indented
    code</pre>
<SCRIPT>alert("x")</SCRIPT>
</body></html>`
	cases := []struct {
		name, fileType string
		data           []byte
		want           string
	}{
		{"a.txt", "text/plain", []byte("plain text\nsecond line\n"), "plain text\nsecond line\n"},
		{"README.md", "text/markdown", []byte("# Title\n\n- item *one*\n"), "# Title\n\n- item *one*\n"},
		{"data.csv", "text/csv", []byte("name,qty\napple,3\n梨,5\n"), "name,qty\napple,3\n梨,5\n"},
		{"cfg.json", "application/json", []byte(`{"a": [1, 2], "b": "<tag>"}`), `{"a": [1, 2], "b": "<tag>"}`},
		{"main.go", "text/x-go", []byte("package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n"), "package main\n\nfunc main() {\n\tprintln(\"hi\")\n}\n"},
		{"app.log", "text/plain", []byte("2026-01-01 INFO started\n"), "2026-01-01 INFO started\n"},
		{"c.yaml", "application/yaml", []byte("a: 1\nb: [x, y]\n"), "a: 1\nb: [x, y]\n"},
		{"Makefile", "text/plain", []byte("all:\n\tgo test ./...\n"), "all:\n\tgo test ./...\n"},
		{"bom.txt", "text/plain", []byte("\xEF\xBB\xBFwith bom"), "with bom"},
		{"utf16.txt", "text/plain", []byte{0xFF, 0xFE, 'h', 0, 'i', 0, 0x2D, 0x4E}, "hi中"},
		{"page.html", "text/html", []byte(html),
			"Fish & Chips\nMenu\nCod & chips, <hot> été 中文\nPrice: 5 €\none\ntwo\nthree\n  indented\n    code"},
		{"paper.pdf", "application/pdf", makePDF([]string{"Hello PDF (draft)", "Second line"}, []string{"Page two"}),
			"Hello PDF (draft)\nSecond line\n\nPage two"},
		{"report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx,
			"Quarterly report\nRevenue grew\t12%\n\ncell & one\n第二段\nnext line"},
	}
	for _, c := range cases {
		wantText(t, srv, c.name, c.fileType, c.data, c.want)
	}
}

// A Word-style document: a text box (written twice, mc:Choice and
// mc:Fallback) anchored inside a paragraph with text of its own, tab
// stops in the paragraph properties, a tab, hyphens and a symbol.
func TestExtractDOCXWord(t *testing.T) {
	srv := setup(t)
	box := `<w:txbxContent><w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:t>Boxed text</w:t></w:r></w:p></w:txbxContent>`
	docx := makeDOCX(t, `<w:p><w:r><w:t xml:space="preserve">Before box </w:t></w:r>`+
		`<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">`+
		`<mc:Choice xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" Requires="wps"><w:drawing><wps:wsp><wps:txbx>`+box+`</wps:txbx></wps:wsp></w:drawing></mc:Choice>`+
		`<mc:Fallback><w:pict xmlns:v="urn:schemas-microsoft-com:vml"><v:shape><v:textbox>`+box+`</v:textbox></v:shape></w:pict></mc:Fallback>`+
		`</mc:AlternateContent></w:r><w:r><w:t>After box</w:t></w:r></w:p>`+
		`<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs><w:rPr><w:b/></w:rPr></w:pPr>`+
		`<w:r><w:t>tabbed</w:t><w:tab/><w:t>non</w:t><w:noBreakHyphen/><w:t>breaking hy</w:t><w:softHyphen/><w:t>phen</w:t></w:r></w:p>`+
		`<w:p><w:r><w:t>5 </w:t><w:sym w:font="Symbol" w:char="F0B4"/><w:sym w:font="Cambria Math" w:char="00D7"/><w:t xml:space="preserve"> 3</w:t><w:cr/><w:t>end</w:t></w:r></w:p>`)
	want := "Before box After box\nBoxed text\ntabbed\tnon-breaking hyphen\n5 × 3\nend"
	wantText(t, srv, "word.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx, want)
}

// Files that cannot be extracted upload fine with status "error"; their
// content is the documented 500 "Failed to extract file: …".
func TestExtractFailures(t *testing.T) {
	srv := setup(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
	cases := []struct {
		name   string
		data   []byte
		detail string
	}{
		{"tool.exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), "unsupported file type .exe"},
		{"archive.zip", makeDOCX(t, ""), "unsupported file type .zip"},
		{"blob.txt", []byte("text\x00with NUL"), "unsupported file type .txt: not a text file"},
		{"latin1", []byte("caf\xe9"), "unsupported file type without extension: not a text file"},
		{"photo.png", png, "no text found in image photo.png: the emulator does not OCR images (use purpose image)"},
		{"broken.pdf", []byte("%PDF-1.4\nnot really"), ""},
		{"scan.pdf", makePDF(nil), "no text found in pdf: the emulator does not OCR scanned pages"},
		{"broken.docx", []byte("PK not a zip"), ""},
		{"nodoc.docx", makeZip(t, "word/other.xml", "<x/>"), "invalid docx: word/document.xml is missing"},
		{"book.mobi", []byte("BOOKMOBI"), "unsupported file type .mobi"},
	}
	for _, c := range cases {
		if f, ok := uploadFailing(t, srv, c.name, c.data, c.detail); ok {
			// Still listed, still counted, deletable.
			wantStatus(t, ktDo(t, srv, "DELETE", "/v1/files/"+f.ID, nil), 200)
		}
	}
}

// The HTML converter on its own: edge cases of the tag scanner.
func TestHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		"a<b>b</b>c":                         "abc",
		"a <b>b</b> c":                       "a b c",
		"1 < 2 and 3 > 2":                    "1 < 2 and 3 > 2",
		"<p>x<!-- unterminated":              "x",
		"<p a='>'>quoted</p>":                "quoted",
		"<![CDATA[<raw> & text]]>":           "<raw> & text",
		"<script>never</script>after":        "after",
		"<style>never":                       "",
		"<p>one</p><p>two</p>":               "one\ntwo",
		"&nbsp;&amp;&copy;&#169;&bogus;":     "&©©&bogus;",
		"<td>a</td><td>b</td>":               "a\nb",
		"<pre>\n  x\n\n  y</pre>":            "  x\n  y",
		"<P>upper</P><BR/>case":              "upper\ncase",
		"<?xml version='1.0'?><p>pi</p>":     "pi",
		"<p>text</p><noscript>ns</noscript>": "text",
	} {
		if got := htmlText(in); got != want {
			t.Errorf("htmlText(%q) = %q, want %q", in, got, want)
		}
	}
}
