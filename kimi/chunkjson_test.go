package kimi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

var chunkSamples = []string{
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1787771120,"model":"kimi-k2.5","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1787771120,"model":"kimi-k2.5","choices":[{"index":0,"delta":{"reasoning_content":"The user"},"finish_reason":null}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1787771120,"model":"kimi-k2.5","choices":[{"index":0,"delta":{"content":"你好，世界 \"quoted\"\n\tline \u4f60\u597d \ud83d\ude00 \/ \\"},"finish_reason":null}],"usage":null}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1787771120,"model":"kimi-k2.5","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":90,"completion_tokens":50,"total_tokens":140,"cached_tokens":90,"completion_tokens_details":{"reasoning_tokens":33},"prompt_tokens_details":{"cached_tokens":90}}}]}`,
	`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1787771120,"model":"kimi-k2.5","choices":[],"usage":{"prompt_tokens":90,"completion_tokens":50,"total_tokens":140,"prompt_tokens_details":{"cached_tokens":7}}}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"get_weather:0","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"北京\"}"}}]},"finish_reason":null}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"id":"x","function":{"name":"f","arguments":"{}"}},{"index":null,"function":null}]}}]}`,
	`{"id":"c","choices":[{"index":1,"delta":{"content":"b"}},{"index":0,"delta":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-0.5,"bytes":[97],"top_logprobs":[]}]}}]}`,
	`{"id":"c","choices":[{"index":0,"delta":{"content":"x"},"logprobs":null}],"system_fingerprint":"fp_1"}`,
	` { "id" : "c" , "extra" : {"a":[1,2.5e-3,-0,true,false,null,"s\u00e9",{}],"b":{}} , "choices" : [ ] } `,
	`{"id":null,"object":null,"created":null,"model":null,"choices":null,"usage":null}`,
	`{}`,
}

// fastDecode runs only the fast path (template, then parser).
func fastDecode(cd *chunkDecoder, data []byte) (*ChatCompletionChunk, error) {
	if c := cd.fromTemplate(data); c != nil {
		return c, nil
	}
	box := new(chunkBox)
	if err := cd.parse(data, box); err != nil {
		return nil, err
	}
	return &box.chunk, nil
}

func TestChunkFastPathMatchesEncodingJSON(t *testing.T) {
	cd := new(chunkDecoder)
	for _, s := range chunkSamples {
		got, err := fastDecode(cd, []byte(s))
		if err != nil {
			t.Errorf("fast path declined a well-formed chunk: %v\n%s", err, s)
			continue
		}
		var want ChatCompletionChunk
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("mismatch for %s\nfast %+v\njson %+v", s, *got, want)
		}
	}
}

func TestChunkFallbacks(t *testing.T) {
	tests := []string{
		`{"id":"a","ID":"b","choices":[]}`,                     // case-insensitive duplicate
		`{"Id":"a"}`,                                           // case-insensitive match
		`{"id":"a","id":"b"}`,                                  // duplicate key
		`{"created":1.0}`,                                      // float into int64
		`{"created":1e3}`,                                      // exponent
		`{"choices":[{"index":99999999999999999999}]}`,         // overflow
		`{"choices":[{"delta":{"content":"\ud800"}}]}`,         // lone surrogate
		`{"choices":[{"delta":{"content":"` + "\xff" + `"}}]}`, // invalid UTF-8
		`{"choices":[null]}`,                                   // null element
		`{"choices":[{"delta":{"content":5}}]}`,                // type mismatch
		`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":{"a":1}}}]}}]}`, // object where a string belongs
		`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,           // deep nesting
		`{"id":"a"} x`, // trailing data
		`{"choices":[{"delta":{"content":"a\u0000b"}}]}`, // fine, but exercise \u0000
	}
	for _, s := range tests {
		var want ChatCompletionChunk
		wantErr := json.Unmarshal([]byte(s), &want)
		got, err := new(chunkDecoder).decode([]byte(s))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: decode err %v, encoding/json err %v", s, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(*got, want) {
			t.Errorf("%s:\ngot  %+v\nwant %+v", s, *got, want)
		}
	}
}

func TestChunkErrorObject(t *testing.T) {
	for _, s := range []string{
		`{"error":{"type":"server_error","message":"boom"}}`,
		`{"id":"x","error":{"message":"boom"}}`,
		`{"Error":{"message":"boom"}}`,
		`{"error":"boom"}`,
	} {
		if _, err := new(chunkDecoder).decode([]byte(s)); err != errErrorObject {
			t.Errorf("%s: err = %v, want errErrorObject", s, err)
		}
	}
	// A null error member is not an error.
	if _, err := new(chunkDecoder).decode([]byte(`{"id":"x","error":null,"choices":[]}`)); err != nil {
		t.Errorf("null error member: %v", err)
	}
}

func TestChunkInterning(t *testing.T) {
	cd := new(chunkDecoder)
	a, err := cd.decode([]byte(chunkSamples[0]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := cd.decode([]byte(chunkSamples[1]))
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(a.ID) != unsafe.StringData(b.ID) || unsafe.StringData(a.Model) != unsafe.StringData(b.Model) {
		t.Error("id/model strings were not reused across chunks")
	}
	c, _ := cd.decode([]byte(strings.Replace(chunkSamples[1], "chatcmpl-1", "chatcmpl-2", 1)))
	if c.ID != "chatcmpl-2" || a.ID != "chatcmpl-1" {
		t.Errorf("ids %q %q", a.ID, c.ID)
	}
}

// A stream's chunks as Kimi sends them: the role chunk, content, a tool
// call (its first fragment, then arguments), the finish and usage chunks.
const (
	benchHead    = `{"id":"chatcmpl-6a2f0b3c9d8e4f71a5b6c7d8","object":"chat.completion.chunk","created":1787771120,"model":"moonshot-v1-128k","choices":[`
	contentChunk = benchHead + `{"index":0,"delta":{"content":"这是一个 test"},"finish_reason":null}]}`
	toolChunk    = benchHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"北"}}]},"finish_reason":null}]}`
)

var streamSamples = []string{
	benchHead + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":"你好"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":"，\"世界\"\n"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":""},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"reasoning_content":"think"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"reasoning_content":"ing"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"id":"get_weather:0","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`,
	toolChunk,
	benchHead + `{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"京\"}"}}]},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"tool_calls":[{"index":1,"id":"b:1","type":"function","function":{"name":"b","arguments":""}}]},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{},"finish_reason":"tool_calls","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}]}`,
	benchHead + `],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`,
	// Two choices interleaved: the template misses, the header still matches.
	benchHead + `{"index":1,"delta":{"content":"b"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":"a"},"finish_reason":null}]}`,
	// Same bytes around the text, but the text is not one string.
	benchHead + `{"index":0,"delta":{"content":"x"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":"x","content":"y"},"finish_reason":null}]}`,
	benchHead + `{"index":0,"delta":{"content":"x"},"finish_reason":null}],"choices":[{"index":0,"delta":{"content":"y"},"finish_reason":null}]}`,
	// A header that is a prefix of the next one's: created goes on.
	`{"id":"c","created":17,"choices":[]}`,
	`{"id":"c","created":178,"choices":[]}`,
	`{"id":"c","created":178 ,"choices":[{"delta":{"content":"q"}}]}`,
	`{"id":"d","created":178,"choices":[{"delta":{"content":"q"}}]}`,
}

// TestChunkSequence decodes a stream's chunks with one decoder, so that
// later ones go through the template and the header, and checks every
// chunk against encoding/json once all are decoded: a chunk must not
// change when later ones are decoded.
func TestChunkSequence(t *testing.T) {
	cd := new(chunkDecoder)
	var got []*ChatCompletionChunk
	for range 2 {
		for _, s := range streamSamples {
			c, err := cd.decode([]byte(s))
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			got = append(got, c)
		}
	}
	for i, c := range got {
		s := streamSamples[i%len(streamSamples)]
		var want ChatCompletionChunk
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*c, want) {
			t.Errorf("chunk %d %s\ngot  %+v\nwant %+v", i, s, *c, want)
		}
	}
}

// TestChunkTemplateUsed checks that chunks repeating the previous one
// around a new text take the template path.
func TestChunkTemplateUsed(t *testing.T) {
	for _, tc := range []struct{ data, text string }{
		{contentChunk, `"这是一个 test"`}, {toolChunk, `"{\"city\": \"北"`}, {streamSamples[5], `"ing"`},
	} {
		cd := new(chunkDecoder)
		if _, err := cd.decode([]byte(tc.data)); err != nil {
			t.Fatal(err)
		}
		other := strings.Replace(tc.data, tc.text, `"more \"text\""`, 1)
		if other == tc.data {
			t.Fatalf("%s not in %s", tc.text, tc.data)
		}
		if c := cd.fromTemplate([]byte(other)); c == nil {
			t.Errorf("template not used for %s", other)
		}
	}
}

// TestChunkTemplateFields fails when a type of a chunk gains a field:
// chunkTemplate.remember and fill copy field by field and must learn it.
func TestChunkTemplateFields(t *testing.T) {
	for _, tc := range []struct {
		v any
		n int
	}{{ChatCompletionChunk{}, 7}, {ChunkChoice{}, 5}, {Delta{}, 4}, {ToolCall{}, 4}, {ToolCallFunction{}, 2}} {
		if got := reflect.TypeOf(tc.v).NumField(); got != tc.n {
			t.Errorf("%T has %d fields, was %d: update chunkTemplate", tc.v, got, tc.n)
		}
	}
}

func TestChunkDecodeAllocs(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		full bool // skip the template
		max  float64
	}{
		// Boxes and text come from blocks: 1/16 of an allocation and less.
		{"content", contentChunk, false, 0.1},
		{"content/no template", contentChunk, true, 0.1},
		{"tool arguments", toolChunk, false, 0.1},
		// The tool call and its index.
		{"tool arguments/no template", toolChunk, true, 2.1},
	} {
		cd := new(chunkDecoder)
		data := []byte(tc.data)
		cd.decode(data)
		allocs := testing.AllocsPerRun(1000, func() {
			if tc.full {
				cd.tmpl.split = 0
			}
			if _, err := cd.decode(data); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > tc.max {
			t.Errorf("%s: %v allocs per chunk, want <= %v", tc.name, allocs, tc.max)
		}
	}
}

func BenchmarkChunkDecode(b *testing.B) {
	for _, bc := range []struct{ name, data string }{{"content", contentChunk}, {"tool", toolChunk}} {
		data := []byte(bc.data)
		b.Run(bc.name+"/fast", func(b *testing.B) {
			cd := new(chunkDecoder)
			b.ReportAllocs()
			for b.Loop() {
				cd.decode(data)
			}
		})
		b.Run(bc.name+"/no-template", func(b *testing.B) {
			cd := new(chunkDecoder)
			b.ReportAllocs()
			for b.Loop() {
				cd.tmpl.split = 0
				cd.decode(data)
			}
		})
		b.Run(bc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var c ChatCompletionChunk
				json.Unmarshal(data, &c)
			}
		})
	}
}

// FuzzChunkDecode is the differential test: whenever the fast path accepts
// an input, encoding/json must accept it too and produce the same chunk.
func FuzzChunkDecode(f *testing.F) {
	for _, s := range chunkSamples {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"error":{"message":"x"}}`))
	f.Add([]byte(`{"choices":[{"delta":{"content":"\ud83d\ude00\u00e9\""}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cd := new(chunkDecoder)
		for range 2 { // twice: the second run goes through the interned strings
			fast, ferr := fastDecode(cd, data)
			var want ChatCompletionChunk
			jerr := json.Unmarshal(data, &want)
			if ferr == nil {
				if jerr != nil {
					t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", jerr, data)
				}
				if !reflect.DeepEqual(*fast, want) {
					t.Fatalf("mismatch for %q\nfast %#v\njson %#v", data, *fast, want)
				}
			}
			got, err := cd.decode(data)
			if err == nil && jerr == nil && !reflect.DeepEqual(*got, want) {
				t.Fatalf("decode mismatch for %q", data)
			}
			if err == nil && jerr != nil {
				t.Fatalf("decode accepted what encoding/json rejects: %q", data)
			}
		}
	})
}

// FuzzChunkSequence decodes two chunks with one decoder: the second may
// reuse the first one's header or template, and must still decode as
// encoding/json decodes it alone. The first chunk must not change.
func FuzzChunkSequence(f *testing.F) {
	for i := range streamSamples[1:] {
		f.Add([]byte(streamSamples[i]), []byte(streamSamples[i+1]))
	}
	f.Add([]byte(contentChunk), []byte(contentChunk))
	f.Add([]byte(toolChunk), []byte(strings.Replace(toolChunk, "北", `\u4eac\"}`, 1)))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		cd := new(chunkDecoder)
		first, ferr := fastDecode(cd, a)
		var firstWant ChatCompletionChunk
		if ferr == nil && json.Unmarshal(a, &firstWant) != nil {
			t.Fatalf("fast path accepted what encoding/json rejects: %q", a)
		}
		second, serr := fastDecode(cd, b)
		if serr == nil {
			var want ChatCompletionChunk
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("fast path accepted what encoding/json rejects (%v): %q after %q", err, b, a)
			}
			if !reflect.DeepEqual(*second, want) {
				t.Fatalf("mismatch for %q after %q\nfast %#v\njson %#v", b, a, *second, want)
			}
		}
		if ferr == nil && !reflect.DeepEqual(*first, firstWant) {
			t.Fatalf("first chunk %q changed after decoding %q", a, b)
		}
	})
}

func TestOnlyKnownKeys(t *testing.T) {
	known := map[string]bool{"id": true, "choices": true}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{`{"id":"x","choices":[{"a":{"b":[1,2,"}"]}}]}`, true},
		{`{"id":"x","extra":1}`, false},
		{`{"i\u0064":"x"}`, true},
		{`{"id":"x",}`, false},
		{`[1]`, false},
		{`{"id":"x"`, false},
	} {
		if got := onlyKnownKeys([]byte(tc.in), known); got != tc.want {
			t.Errorf("onlyKnownKeys(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
	msg := []byte(`{"role":"assistant","content":"hi","vendor_field":{"x":1}}`)
	var m Message
	if err := json.Unmarshal(msg, &m); err != nil || m.Extra["vendor_field"] == nil {
		t.Fatalf("unknown message field lost: %v %+v", err, m)
	}
	if err := json.Unmarshal([]byte(`{"role":"assistant","content":"hi"}`), &m); err != nil || m.Extra != nil {
		t.Fatalf("want no Extra, got %v %+v", err, m.Extra)
	}
}
