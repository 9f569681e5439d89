package kimitest

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// extractWithin runs extract and fails the test if it does not return
// within d: the inputs here made it loop forever or take minutes.
func extractWithin(t *testing.T, ctx context.Context, d time.Duration, name string, data []byte) (string, error) {
	t.Helper()
	// d only tells a hang from slow work; the race detector makes the
	// work several times slower.
	if raceEnabled {
		d *= 10
	}
	x, err := runExtract(ctx, name, data, d, func() { t.Fatalf("%s: extraction still running after %v", name, d) })
	return x.text, err
}

// runExtract runs extract on data as name and calls hung (which must not
// return normally: t.Fatal, panic) if it has not finished after d.
func runExtract(ctx context.Context, name string, data []byte, d time.Duration, hung func()) (extracted, error) {
	type result struct {
		x   extracted
		err error
	}
	done := make(chan result, 1)
	go func() {
		_, x, err := extract(ctx, name, bytes.NewReader(data), int64(len(data)))
		done <- result{x, err}
	}()
	select {
	case r := <-done:
		return r.x, r.err
	case <-time.After(d):
		hung()
		return extracted{}, nil
	}
}

const helloPage = "<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (hello) Tj ET\n\nendstream"

// helloPDF is a PDF of one "hello" page (object 3, its content object 4)
// under a page tree root (object 2) with the given /Kids, /Count and other
// entries, which the tests bend; extra objects follow from 5 on.
func helloPDF(root string, extra ...string) []byte {
	return pdfFile(append([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages " + root + " >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
		helloPage,
	}, extra...))
}

func TestExtractPDFCyclicPageTree(t *testing.T) {
	// The root lists itself among its kids.
	data := helloPDF("/Kids [2 0 R 3 0 R] /Count 2")
	_, err := extractWithin(t, context.Background(), 5*time.Second, "cycle.pdf", data)
	if err == nil || !strings.Contains(err.Error(), "page tree deeper than 64 levels") {
		t.Fatalf("err %v, want the depth bound", err)
	}
}

func TestExtractPDFWideTree(t *testing.T) {
	// No cycle, but each node lists its child twice: 2^40 leaves.
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>"}
	const levels = 40
	for i := range levels {
		objs = append(objs, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 1000 >>", i+3, i+3))
	}
	objs = append(objs, "<< /Type /Page /Contents "+fmt.Sprint(levels+3)+" 0 R >>", helloPage)
	_, err := extractWithin(t, context.Background(), 5*time.Second, "wide.pdf", pdfFile(objs))
	if err == nil || !strings.Contains(err.Error(), "more than 10000 pages") && !strings.Contains(err.Error(), "nodes") {
		t.Fatalf("err %v, want the page or node bound", err)
	}
}

func TestExtractPDFBillionPages(t *testing.T) {
	// /Count claims a billion pages; the tree has one.
	data := helloPDF("/Kids [3 0 R] /Count 1000000000")
	text, err := extractWithin(t, context.Background(), 5*time.Second, "billion.pdf", data)
	if err != nil || text != "hello" {
		t.Fatalf("text %q, err %v", text, err)
	}
}

func TestExtractPDFParentCycle(t *testing.T) {
	// Resources are inherited through /Parent, which loops here.
	data := helloPDF("/Kids [3 0 R] /Count 1 /Parent 5 0 R", "<< /Type /Pages /Parent 2 0 R >>")
	text, err := extractWithin(t, context.Background(), 5*time.Second, "parents.pdf", data)
	if err != nil || text != "hello" {
		t.Fatalf("text %q, err %v", text, err)
	}
}

func TestExtractStopsWithContext(t *testing.T) {
	var big strings.Builder
	for big.Len() < 8<<20 {
		big.WriteString(`<w:p><w:r><w:t>some words in a paragraph</w:t></w:r></w:p>`)
	}
	docx := makeDOCX(t, big.String())
	pdfPages := make([][]string, 2000)
	for i := range pdfPages {
		pdfPages[i] = []string{"page text"}
	}
	files := map[string][]byte{
		"big.docx": docx,
		"big.pdf":  makePDF(pdfPages...),
		"big.xlsx": makeZip(t, "xl/worksheets/sheet1.xml", xlsxSheetXML(strings.Repeat(`<row><c><v>1</v></c></row>`, 200000))),
	}
	for name, data := range files {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := extractWithin(t, ctx, 5*time.Second, name, data); err == nil || !strings.Contains(err.Error(), "cancelled") {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
		start := time.Now()
		_, err := extractWithin(t, ctx, 5*time.Second, name, data)
		cancel()
		// A generous bound: this tells "stopped at its deadline" from
		// "ran to the end", not a speed.
		slack := time.Second
		if raceEnabled {
			slack *= 10
		}
		if err == nil && time.Since(start) > 20*time.Millisecond+slack {
			t.Errorf("%s: ran %v past its deadline", name, time.Since(start))
		}
	}
}

func TestExtractXLSXAmplification(t *testing.T) {
	// One 1 MB shared string, repeated by 100 cells: 100 MB of text from
	// a file of a few KB.
	shared := `<sst><si><t>` + strings.Repeat("x", 1<<20) + `</t></si></sst>`
	row := `<row>` + strings.Repeat(`<c t="s"><v>0</v></c>`, 100) + `</row>`
	data := makeZip(t, "xl/sharedStrings.xml", shared, "xl/worksheets/sheet1.xml", xlsxSheetXML(row))
	_, err := extractWithin(t, context.Background(), 10*time.Second, "amp.xlsx", data)
	if err == nil || !strings.Contains(err.Error(), "extracted text exceeds 64 MB") {
		t.Fatalf("err %v, want the text cap", err)
	}
	// A cell far to the right is padded with tabs: bounded by the column
	// limit, and by the text cap over many rows.
	row = `<row><c r="XFD1"><v>1</v></c></row>`
	data = makeZip(t, "xl/worksheets/sheet1.xml", xlsxSheetXML(strings.Repeat(row, 5000)))
	_, err = extractWithin(t, context.Background(), 10*time.Second, "wide.xlsx", data)
	// The race detector slows the padding enough for the extractor's time
	// bound to trip first on a loaded machine; either bound stops it.
	timeBound := raceEnabled && errors.Is(err, errExtractTimeout)
	if err == nil || !strings.Contains(err.Error(), "exceeds") && !timeBound {
		t.Fatalf("wide rows: %v, want the text cap", err)
	}
}

func TestExtractZipEntryCap(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range maxZipEntries + 1 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprint(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	for _, ext := range []string{".docx", ".xlsx", ".pptx", ".epub"} {
		_, err := extractWithin(t, context.Background(), 5*time.Second, "many"+ext, buf.Bytes())
		if err == nil || !strings.Contains(err.Error(), "more than 10000 entries") {
			t.Errorf("%s: %v, want the entry cap", ext, err)
		}
	}
}

// A zip64 directory (here 70,000 entries, past the 16-bit count) is
// counted from its zip64 record before archive/zip reads a single entry.
func TestZip64DirectoryCountedFirst(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range 70000 {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: strconv.Itoa(i), Method: zip.Store}); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	data := buf.Bytes()
	if !bytes.Contains(data[len(data)-200:], []byte("PK\x06\x06")) {
		t.Fatal("the writer made no zip64 record")
	}
	if err := checkZipDirectory(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "more than 10000 entries") {
		t.Errorf("zip64 directory: %v, want the entry cap before opening", err)
	}
}

func TestExtractZipBomb(t *testing.T) {
	// 300 MB of one repeated paragraph in well under 1 MB, stopped by the
	// decompressed budget or the deadline, whichever comes first.
	head := `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`
	data := zipBomb(t, "word/document.xml", head, bytes.Repeat([]byte(`<w:p/>`), 1<<20), 50)
	if len(data) > 2<<20 {
		t.Fatalf("bomb is %d bytes", len(data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := extractWithin(t, ctx, 5*time.Second, "bomb.docx", data); err == nil {
		t.Fatal("zip bomb extracted")
	}
	// The construction makes a valid zip.
	small := zipBomb(t, "a", "head", []byte("chunk"), 3)
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || string(got) != "headchunkchunkchunk" {
		t.Fatalf("small bomb: %q, %v", got, err)
	}
}

// zipBomb builds a zip whose one entry is head then chunk repeated n
// times, without compressing all of it: chunk is deflated once into a
// byte-aligned block (Flush), which is repeated.
func zipBomb(t *testing.T, name, head string, chunk []byte, n int) []byte {
	t.Helper()
	block := func(p []byte) []byte {
		var b bytes.Buffer
		fw, _ := flate.NewWriter(&b, flate.BestCompression)
		fw.Write(p)
		fw.Flush()
		return b.Bytes()
	}
	var raw bytes.Buffer
	raw.Write(block([]byte(head)))
	c := block(chunk)
	crc := crc32.Update(0, crc32.IEEETable, []byte(head))
	for range n {
		raw.Write(c)
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	raw.Write([]byte{0x03, 0x00}) // an empty final block
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	size := uint64(len(head) + n*len(chunk))
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(raw.Len()), UncompressedSize64: size})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw.Bytes())
	zw.Close()
	return buf.Bytes()
}

func TestDecodeUTF16(t *testing.T) {
	for _, s := range []string{"", "héllo", "日本語", "😀 emoji", "a\U0010FFFFb"} {
		for _, little := range []bool{true, false} {
			var b []byte
			for _, u := range utf16Encode(s) {
				if little {
					b = append(b, byte(u), byte(u>>8))
				} else {
					b = append(b, byte(u>>8), byte(u))
				}
			}
			got, err := decodeUTF16(bytes.NewReader(b), little, int64(len(b)))
			if err != nil || got != s {
				t.Errorf("%q little=%v: %q, %v", s, little, got, err)
			}
		}
	}
	// Unpaired surrogates become U+FFFD, as utf16.Decode does.
	got, _ := decodeUTF16(bytes.NewReader([]byte{0x00, 0xD8, 'a', 0, 0x00, 0xDC}), true, 6)
	if got != "\uFFFDa\uFFFD" {
		t.Errorf("unpaired: %q", got)
	}
}

func utf16Encode(s string) []uint16 { return utf16.Encode([]rune(s)) }

// Markup without text (a lone '<' per byte, tags only) costs memory in
// proportion to the text, not one segment per byte of markup.
func TestHTMLTextMemory(t *testing.T) {
	for _, unit := range []string{"<", "</", "<p>x"} {
		in := strings.Repeat(unit, (1<<20)/len(unit))
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		htmlText(in)
		runtime.ReadMemStats(&m1)
		if got := m1.TotalAlloc - m0.TotalAlloc; got > 16*uint64(len(in)) {
			t.Errorf("%q×%d: %d bytes allocated for %d of input", unit, len(in)/len(unit), got, len(in))
		}
	}
}

func TestExtractPDFContentBomb(t *testing.T) {
	// One page whose content stream is a string literal that inflates to
	// 300 MB: the library's lexer would hold it whole.
	var raw bytes.Buffer
	fw, _ := flate.NewWriter(&raw, flate.BestCompression)
	fw.Write([]byte("BT /F1 12 Tf ("))
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for range 300 {
		fw.Write(chunk)
	}
	fw.Write([]byte(") Tj ET"))
	fw.Close()
	var z bytes.Buffer
	z.Write([]byte{0x78, 0x9c}) // zlib header; the checksum is never reached
	z.Write(raw.Bytes())
	data := pdfFile([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.Bytes()),
	})
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := extractWithin(t, context.Background(), 10*time.Second, "bomb.pdf", data)
	runtime.ReadMemStats(&m1)
	if err == nil || !strings.Contains(err.Error(), "page contents exceed 256 MB") {
		t.Fatalf("err %v, want the content bound", err)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > 64<<20 {
		t.Errorf("%d MB allocated", got>>20)
	}
}
