package kimitest

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Fuzz targets for the code that reads what clients send: the chat
// request parser, the upload path and every extractor. The property is
// always the same: no panic, no hang, an answer in bounded time, and a
// client mistake worded in Kimi's envelope. Seed corpora are under
// testdata/fuzz/<target>; f.Add adds valid inputs to mutate from.

// fuzzExtract runs extract on data as name within a deadline shorter than
// the fuzzer's own.
func fuzzExtract(t *testing.T, name string, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A hang panics, so that the fuzzer keeps the input.
	x, err := runExtract(ctx, name, data, 8*time.Second, func() { panic("extraction still running 3 s past its deadline") })
	if err == nil && !x.same && len(x.text) > maxExtractText {
		t.Fatalf("text of %d bytes", len(x.text))
	}
}

func FuzzChatRequest(f *testing.F) {
	f.Add([]byte(`{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}]}`))
	f.Add([]byte(`{"model":"moonshot-v1-8k-vision-preview","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}}]}],"max_tokens":9223372036854775807,"n":2,"temperature":0.5,"stop":["a","b"],"tool_choice":"auto","tools":[{"type":"function","function":{"name":"get_x","parameters":{"type":"object"}}}]}`))
	f.Add([]byte(`{"model":"kimi-k2.6","messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:image/png;base64,AAAA"},{"type":"video_url","video_url":{"url":"ms://f1"}}]}],"thinking":{"type":"enabled","keep":"all"},"reasoning_effort":"high","logprobs":true,"top_logprobs":3,"max_completion_tokens":64}`))
	f.Add([]byte(webSearchTurn("9223372036854775807")))
	f.Add([]byte(`{"model":5,"messages":"x","thinking":{"type":"enabled"},"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`))
	e := New()
	f.Cleanup(func() { e.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DefaultKey)
		e.ServeHTTP(rec, req)
		checkFuzzAnswer(t, rec, body)
	})
}

// checkFuzzAnswer requires a 200 or a 4xx in Kimi's envelope, worded
// without Go's names.
func checkFuzzAnswer(t *testing.T, rec *httptest.ResponseRecorder, in []byte) {
	t.Helper()
	if rec.Code == 200 {
		return
	}
	if rec.Code >= 500 || rec.Code < 400 {
		t.Fatalf("status %d for %q: %s", rec.Code, in, rec.Body.Bytes())
	}
	var env struct {
		Error *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error == nil || env.Error.Type == "" {
		t.Fatalf("not an error envelope for %q: %s", in, rec.Body.Bytes())
	}
	// Messages may quote the request (a model name, a role), so only
	// names the input does not contain count.
	for _, goName := range []string{"Go struct", "Go value", "kimitest.", "json: ", "multipart: ", "unexpected EOF"} {
		if strings.Contains(env.Error.Message, goName) && !bytes.Contains(in, []byte(goName)) {
			t.Fatalf("message names Go (%q) for %q: %s", goName, in, env.Error.Message)
		}
	}
}

func FuzzUpload(f *testing.F) {
	mp := func(filename, purpose string, content []byte) []byte {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.SetBoundary("fuzzboundary")
		if purpose != "" {
			mw.WriteField("purpose", purpose)
		}
		w, _ := mw.CreateFormFile("file", filename)
		w.Write(content)
		mw.Close()
		return b.Bytes()
	}
	f.Add(mp("a.txt", "file-extract", []byte("hello")))
	f.Add(mp("a.pdf", "", makePDF([]string{"hi"})))
	f.Add(mp("a.html", "file-extract", []byte("<p>hi<script>x</script>")))
	f.Add(mp(strings.Repeat("n", 300), "image", []byte("x")))
	f.Add(mp("u.txt", "file-extract", []byte("\xff\xfeh\x00i\x00")))
	whole := mp("a.txt", "batch", []byte("x"))
	f.Add(whole[:len(whole)-10])
	f.Fuzz(func(t *testing.T, body []byte) {
		e := New()
		defer e.Close()
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/v1/files", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+DefaultKey)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=fuzzboundary")
		e.ServeHTTP(rec, req)
		checkFuzzAnswer(t, rec, body)
	})
}

func FuzzExtractPDF(f *testing.F) {
	f.Add(makePDF([]string{"hello", "world"}, []string{"page two"}))
	f.Add(makeType0PDF(toUnicodeCMap("<0000> <FFFF>", "1 beginbfchar\n<0001> <4E2D>\nendbfchar\n"), "<0001> Tj"))
	f.Add(helloPDF("/Kids [2 0 R 3 0 R] /Count 2"))
	f.Add(helloPDF("/Kids [3 0 R] /Count 1000000000"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.pdf", data) })
}

func FuzzExtractDOCX(f *testing.F) {
	f.Add(makeDOCX(f, `<w:p><w:r><w:t>hello</w:t><w:tab/><w:t>world</w:t></w:r></w:p>`))
	f.Add(makeDOCX(f, `<w:p><w:r><w:t>a</w:t><w:txbxContent><w:p><w:r><w:t>nested</w:t></w:r></w:p></w:txbxContent></w:r></w:p>`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.docx", data) })
}

func FuzzExtractXLSX(f *testing.F) {
	f.Add(makeZip(f, "xl/sharedStrings.xml", `<sst><si><t>s</t></si></sst>`,
		"xl/worksheets/sheet1.xml", xlsxSheetXML(`<row><c t="s"><v>0</v></c><c r="C1"><v>2</v></c><c t="b"><v>1</v></c></row>`)))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.xlsx", data) })
}

func FuzzExtractPPTX(f *testing.F) {
	f.Add(makeZip(f, "ppt/slides/slide1.xml", pptxSlide(pptxShape("<a:r><a:t>hello</a:t></a:r>")),
		"ppt/slides/slide2.xml", pptxSlide(pptxShape("<a:r><a:t>a</a:t></a:r><a:br/><a:r><a:t>b</a:t></a:r>"))))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.pptx", data) })
}

func FuzzExtractEPUB(f *testing.F) {
	f.Add(makeZip(f,
		"META-INF/container.xml", `<container><rootfiles><rootfile full-path="c.opf"/></rootfiles></container>`,
		"c.opf", `<package><manifest><item id="a" href="a.xhtml"/></manifest><spine><itemref idref="a"/><itemref idref="a"/></spine></package>`,
		"a.xhtml", `<html><body><p>hello</p></body></html>`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.epub", data) })
}

func FuzzHTMLText(f *testing.F) {
	f.Add([]byte(`<!DOCTYPE html><html><head><style>p{}</style></head><body><p>a &amp; b</p><pre> x  y </pre><!-- c --><script>if (a<b) {}</script></body></html>`))
	f.Add([]byte(`<p title="a>b">x<br/>y</p><![CDATA[z]]><?pi?>&#x1F600;`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzExtract(t, "f.html", data)
		if utf8.Valid(data) {
			if out := htmlText(string(data)); len(out) > 4*len(data)+16 {
				t.Fatalf("%d bytes of text from %d of HTML", len(out), len(data))
			}
		}
	})
}

func FuzzDecodeUTF16(f *testing.F) {
	f.Add([]byte("h\x00i\x00"), true)
	f.Add([]byte("\x00\xd8\x00\xdc\x00\xd8"), true)
	f.Add([]byte("\xd8\x3d\xde\x00"), false)
	f.Fuzz(func(t *testing.T, data []byte, little bool) {
		got, err := decodeUTF16(bytes.NewReader(data), little, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		u := make([]uint16, len(data)/2)
		for i := range u {
			if little {
				u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		if want := string(utf16.Decode(u)); got != want {
			t.Fatalf("decodeUTF16 = %q, utf16.Decode = %q", got, want)
		}
	})
}
