package kimitest

import (
	"bytes"
	"strings"
	"testing"
)

const (
	xmlHead = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	ssmlNS  = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	relNS   = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
)

func xlsxSheetXML(rows string) string {
	return xmlHead + `<worksheet ` + ssmlNS + `><sheetData>` + rows + `</sheetData></worksheet>`
}

func TestExtractXLSX(t *testing.T) {
	srv := setup(t)
	shared := xmlHead + `<sst ` + ssmlNS + ` count="5" uniqueCount="5">` +
		`<si><t>Region</t></si>` +
		`<si><t>Total</t></si>` +
		`<si><r><t xml:space="preserve">North </t></r><r><rPr><b/></rPr><t>&amp; East</t></r></si>` +
		`<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/></si>` +
		`<si><t>two
lines</t></si>` +
		`</sst>`
	// Workbook order: Summary (sheet2.xml) before Data (sheet1.xml).
	workbook := xmlHead + `<workbook ` + ssmlNS + ` ` + relNS + `><sheets>` +
		`<sheet name="Summary" sheetId="2" r:id="rId7"/><sheet name="Data" sheetId="1" r:id="rId3"/>` +
		`</sheets></workbook>`
	rels := xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>` +
		`<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`</Relationships>`
	data := xlsxSheetXML(
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>` +
			`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>42.5</v></c><c r="D2" t="inlineStr"><is><t>inline</t></is></c></row>` +
			`<row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3" t="str"><f>UPPER("x")</f><v>X</v></c><c r="C3" t="b"><v>1</v></c><c r="D3" s="1"/></row>` +
			`<row r="4"><c r="A4" s="1"/></row>` +
			`<row r="6"><c r="B6" t="s"><v>4</v></c><c r="C6"><f>B2*2</f><v>85</v></c></row>`)
	summary := xlsxSheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><r><t>rich </t></r><r><t>inline</t></r></is></c><c r="B1"><v>-3E-2</v></c></row>`)
	xlsx := makeZip(t,
		"[Content_Types].xml", xmlHead+`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"xl/workbook.xml", workbook,
		"xl/_rels/workbook.xml.rels", rels,
		"xl/worksheets/sheet1.xml", data,
		"xl/worksheets/sheet2.xml", summary,
		"xl/sharedStrings.xml", shared)
	const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	want := "# Summary\nrich inline\t-3E-2\n\n# Data\nRegion\tTotal\nNorth & East\t42.5\t\tinline\n東京\tX\tTRUE\n\ttwo lines\t85"
	wantText(t, srv, "book.xlsx", xlsxType, xlsx, want)

	// Without workbook relationships: sheetN parts in numeric order,
	// named after the workbook's sheets (as many), else SheetN.
	bare := makeZip(t,
		"xl/worksheets/sheet10.xml", xlsxSheetXML(`<row><c t="inlineStr"><is><t>ten</t></is></c></row>`),
		"xl/worksheets/sheet2.xml", xlsxSheetXML(`<row><c><v>2</v></c><c><v>2b</v></c></row>`),
		"xl/worksheets/sheet1.xml", xlsxSheetXML(`<row><c><v>1</v></c></row>`))
	wantText(t, srv, "bare.xlsx", xlsxType, bare, "# Sheet1\n1\n\n# Sheet2\n2\t2b\n\n# Sheet10\nten")
	named := makeZip(t,
		"xl/workbook.xml", xmlHead+`<workbook `+ssmlNS+`><sheets><sheet name="First" sheetId="1"/><sheet name="Empty" sheetId="2"/></sheets></workbook>`,
		"xl/worksheets/sheet2.xml", xlsxSheetXML(``),
		"xl/worksheets/sheet1.xml", xlsxSheetXML(`<row><c><v>1</v></c></row>`))
	wantText(t, srv, "named.xlsx", xlsxType, named, "# First\n1\n\n# Empty")
}

func pptxSlide(body string) string {
	return xmlHead + `<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree>` +
		body + `</p:spTree></p:cSld></p:sld>`
}

func pptxShape(paras ...string) string {
	s := `<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title 1"/></p:nvSpPr><p:txBody><a:bodyPr/><a:lstStyle/>`
	for _, p := range paras {
		s += `<a:p>` + p + `</a:p>`
	}
	return s + `</p:txBody></p:sp>`
}

func TestExtractPPTX(t *testing.T) {
	srv := setup(t)
	// Zip order slide10, slide1, slide2 and lexical order slide1,
	// slide10, slide2: the text must come in numeric order.
	pptx := makeZip(t,
		"ppt/presentation.xml", xmlHead+`<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>`,
		"ppt/slides/slide10.xml", pptxSlide(pptxShape(`<a:r><a:t>Ten</a:t></a:r>`)),
		"ppt/slides/slide1.xml", pptxSlide(pptxShape(
			`<a:r><a:rPr lang="en-US" b="1"/><a:t>Quarterly </a:t></a:r><a:r><a:t>review</a:t></a:r><a:endParaRPr lang="en-US"/>`,
			`<a:endParaRPr lang="en-US"/>`,
			`<a:r><a:t>Growth &amp; risks</a:t></a:r><a:br/><a:r><a:t>second line</a:t></a:r>`)+
			pptxShape(`<a:fld id="{1}" type="slidenum"><a:t>1</a:t></a:fld>`)),
		"ppt/slides/slide2.xml", pptxSlide(`<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr h="1">`+
			`<a:tc><a:txBody><a:p><a:r><a:t>cell 1</a:t></a:r></a:p></a:txBody></a:tc>`+
			`<a:tc><a:txBody><a:p><a:r><a:t>第二</a:t></a:r></a:p></a:txBody></a:tc>`+
			`</a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>`),
		"ppt/notesSlides/notesSlide1.xml", pptxSlide(pptxShape(`<a:r><a:t>speaker notes</a:t></a:r>`)),
		"ppt/slides/_rels/slide1.xml.rels", `<Relationships/>`)
	want := "Quarterly review\nGrowth & risks\nsecond line\n1\n\ncell 1\n第二\n\nTen"
	wantText(t, srv, "deck.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", pptx, want)
}

func TestExtractEPUB(t *testing.T) {
	srv := setup(t)
	chapter := func(title, body string) string {
		return xmlHead + `<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml"><head><title>` + title +
			`</title><style>p { margin: 0 }</style></head><body>` + body + `</body></html>`
	}
	// File order: chapter one, then two; spine order: two, then one.
	epub := makeZip(t,
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", xmlHead+`<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>`+
			`<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
		"OEBPS/content.opf", xmlHead+`<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">`+
			`<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Book</dc:title></metadata><manifest>`+
			`<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>`+
			`<item id="c1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/>`+
			`<item id="c2" href="text/ch2.xhtml#start" media-type="application/xhtml+xml"/>`+
			`<item id="css" href="style.css" media-type="text/css"/>`+
			`<item id="img" href="cover.png" media-type="image/png"/>`+
			`</manifest><spine><itemref idref="c2"/><itemref idref="img"/><itemref idref="missing"/><itemref idref="c1"/></spine></package>`,
		"OEBPS/nav.xhtml", chapter("Book", `<nav><ol><li>Contents</li></ol></nav>`),
		"OEBPS/text/chapter 1.xhtml", chapter("Book", `<h1>Chapter One</h1><p>It was a dark &amp; stormy night.</p>`),
		"OEBPS/text/ch2.xhtml", chapter("Book", `<h1>Chapter Two</h1><p>Morning   came.</p><p>第二章</p>`),
		"OEBPS/style.css", `p { margin: 0 }`,
		"OEBPS/cover.png", "\x89PNG")
	want := "Chapter Two\nMorning came.\n第二章\n\nChapter One\nIt was a dark & stormy night."
	wantText(t, srv, "book.epub", "application/epub+zip", epub, want)
}

// Legacy binary Office files and broken XLSX, PPTX and EPUB files fail
// with status "error".
func TestExtractOfficeFailures(t *testing.T) {
	srv := setup(t)
	ole := []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00")
	legacy := "the emulator does not extract legacy binary Office formats (the real API does)"
	cases := []struct{ name, detail string }{
		{"old.doc", "unsupported file type .doc: " + legacy},
		{"old.dot", "unsupported file type .dot: " + legacy},
		{"old.xls", "unsupported file type .xls: " + legacy},
		{"old.ppt", "unsupported file type .ppt: " + legacy},
		{"noworkbook.xlsx", "invalid xlsx: xl/workbook.xml is missing"},
		{"badsheet.xlsx", "invalid xlsx: xl/worksheets/sheet1.xml: XML syntax error on line 1: unexpected EOF"},
		{"noslides.pptx", "invalid pptx: ppt/presentation.xml is missing"},
		{"nocontainer.epub", "invalid epub: META-INF/container.xml is missing"},
		{"norootfile.epub", "invalid epub: META-INF/container.xml names no rootfile"},
		{"noopf.epub", "invalid epub: OEBPS/content.opf is missing"},
		{"notzip.xlsx", ""},
		{"notzip.pptx", ""},
		{"notzip.epub", ""},
	}
	data := map[string][]byte{
		"noworkbook.xlsx":  makeZip(t, "docProps/app.xml", "<x/>"),
		"badsheet.xlsx":    makeZip(t, "xl/worksheets/sheet1.xml", "<worksheet><sheetData>"),
		"noslides.pptx":    makeZip(t, "ppt/slides/slideA.xml", "<x/>"),
		"nocontainer.epub": makeZip(t, "mimetype", "application/epub+zip"),
		"norootfile.epub":  makeZip(t, "META-INF/container.xml", "<container><rootfiles/></container>"),
		"noopf.epub":       makeZip(t, "META-INF/container.xml", `<container><rootfiles><rootfile full-path="OEBPS/content.opf"/></rootfiles></container>`),
	}
	for _, c := range cases {
		d, ok := data[c.name]
		if !ok {
			d = ole
		}
		uploadFailing(t, srv, c.name, d, c.detail)
	}
}

// The parts read from one file share a budget of decompressed bytes.
func TestZipPackageBudget(t *testing.T) {
	big := xlsxSheetXML(strings.Repeat(`<row><c><v>1</v></c></row>`, 400)) // > 10,000 bytes
	data := makeZip(t, "xl/worksheets/sheet1.xml", big, "xl/worksheets/sheet2.xml", big)
	p, err := openZipPackage("xlsx", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	p.budget = int64(len(big)) + 100
	if rows, err := p.xlsxRows("xl/worksheets/sheet1.xml", nil); err != nil || len(rows) != 400 {
		t.Fatalf("first part: %d rows, %v", len(rows), err)
	}
	_, err = p.xlsxRows("xl/worksheets/sheet2.xml", nil)
	if want := "invalid xlsx: xl/worksheets/sheet2.xml: decompressed parts exceed 256 MB"; err == nil || err.Error() != want {
		t.Errorf("second part: %v, want %q", err, want)
	}
	// Exactly the budget is fine.
	p.budget = int64(len(big))
	if _, err := p.read("xl/worksheets/sheet1.xml"); err != nil {
		t.Errorf("exact budget: %v", err)
	}
}
