package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

type ev struct {
	Type, Data, ID string
}

// collect decodes everything from r and returns the events and the error.
func collect(r io.Reader, max int) ([]ev, error) {
	d := NewDecoder(r)
	if max > 0 {
		d.SetMaxSize(max)
	}
	var out []ev
	for d.Next() {
		e := d.Event()
		out = append(out, ev{e.Type, string(e.Data), e.ID})
	}
	return out, d.Err()
}

func TestDecoderTable(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []ev
	}{
		{"lf", "data: a\n\ndata: b\n\n", []ev{{"message", "a", ""}, {"message", "b", ""}}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []ev{{"message", "a", ""}, {"message", "b", ""}}},
		{"cr", "data: a\r\rdata: b\r\r", []ev{{"message", "a", ""}, {"message", "b", ""}}},
		{"mixed endings", "data: a\r\n\rdata: b\n\r\n", []ev{{"message", "a", ""}, {"message", "b", ""}}},
		{"no space", "data:a\n\n", []ev{{"message", "a", ""}}},
		{"two spaces keep one", "data:  a\n\n", []ev{{"message", " a", ""}}},
		{"multi-line data", "data: a\ndata: b\ndata:\n\n", []ev{{"message", "a\nb\n", ""}}},
		{"empty data", "data\n\n", []ev{{"message", "", ""}}},
		{"comments", ": ping\n:\n: x\ndata: a\n: y\n\n", []ev{{"message", "a", ""}}},
		{"event name", "event: error\ndata: {\"e\":1}\n\ndata: next\n\n",
			[]ev{{"error", `{"e":1}`, ""}, {"message", "next", ""}}},
		{"event without data is dropped", "event: error\n\ndata: x\n\n", []ev{{"message", "x", ""}}},
		{"empty event name", "event: x\ndata: a\n\nevent:\ndata: b\n\n", []ev{{"x", "a", ""}, {"message", "b", ""}}},
		{"id persists", "id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
			[]ev{{"message", "a", "7"}, {"message", "b", "7"}, {"message", "c", ""}}},
		{"id with NUL ignored", "id: a\x00b\ndata: a\n\n", []ev{{"message", "a", ""}}},
		{"retry and unknown ignored", "retry: 10\nfoo: bar\nfoo\ndata: a\n\n", []ev{{"message", "a", ""}}},
		{"final event without blank line", "data: a\n\ndata: [DONE]", []ev{{"message", "a", ""}, {"message", "[DONE]", ""}}},
		{"final event with one newline", "data: [DONE]\n", []ev{{"message", "[DONE]", ""}}},
		{"blank lines only", "\n\n\r\n", nil},
		{"empty", "", nil},
		{"colon in value", "data: a:b: c\n\n", []ev{{"message", "a:b: c", ""}}},
		{"utf8", "data: 你好, world\n\n", []ev{{"message", "你好, world", ""}}},
	}
	for _, tt := range tests {
		for _, split := range []string{"whole", "onebyte", "half"} {
			t.Run(tt.name+"/"+split, func(t *testing.T) {
				var r io.Reader = strings.NewReader(tt.in)
				switch split {
				case "onebyte":
					r = iotest.OneByteReader(r)
				case "half":
					r = iotest.HalfReader(r)
				}
				got, err := collect(r, 0)
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("got  %q\nwant %q", got, tt.want)
				}
			})
		}
	}
}

func TestDecoderKeepAlives(t *testing.T) {
	in := strings.Repeat(": keep-alive\n\n", 500) + "data: x\n\n" + strings.Repeat(":\r\n", 500) + "data: y\n\n"
	got, err := collect(strings.NewReader(in), 0)
	if err != nil || len(got) != 2 || got[0].Data != "x" || got[1].Data != "y" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestDecoderLongLine(t *testing.T) {
	const n = 40 << 20
	payload := bytes.Repeat([]byte("ab"), n/2)
	in := io.MultiReader(strings.NewReader("data: first\n\ndata: "), bytes.NewReader(payload), strings.NewReader("\n\ndata: last\n\n"))
	d := NewDecoder(in)
	var sizes []int
	for d.Next() {
		sizes = append(sizes, len(d.Event().Data))
		if len(d.Event().Data) == n && !bytes.Equal(d.Event().Data, payload) {
			t.Fatal("long event data corrupted")
		}
	}
	if d.Err() != nil {
		t.Fatal(d.Err())
	}
	if fmt.Sprint(sizes) != fmt.Sprint([]int{5, n, 4}) {
		t.Fatalf("event sizes %v", sizes)
	}
}

func TestDecoderMaxSize(t *testing.T) {
	tests := []struct {
		name, in string
		events   int
	}{
		{"line", "data: ok\n\ndata: " + strings.Repeat("x", 100) + "\n\n", 1},
		{"unterminated line", "data: ok\n\ndata: " + strings.Repeat("x", 100), 1},
		{"joined data", "data: ok\n\n" + strings.Repeat("data: 0123456789\n", 10) + "\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(strings.NewReader(tt.in), 64)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if len(got) != tt.events {
				t.Fatalf("got %d events before the error, want %d", len(got), tt.events)
			}
		})
	}
	// Exactly max bytes is allowed.
	got, err := collect(strings.NewReader("data:"+strings.Repeat("x", 59)+"\n\n"), 64)
	if err != nil || len(got) != 1 {
		t.Fatalf("line of exactly max: %v, %v", got, err)
	}
}

func TestDecoderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: partial"), iotest.ErrReader(boom))
	got, err := collect(r, 0)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	// The partial event must not be dispatched: the connection was cut.
	if len(got) != 1 || got[0].Data != "a" {
		t.Fatalf("got %q", got)
	}
}

func TestDecoderZeroAllocs(t *testing.T) {
	chunk := []byte(": ping\r\nevent: message\r\nid: 42\r\ndata: {\"id\":\"x\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\r\n\r\n")
	r := &loopReader{data: chunk}
	d := NewDecoder(r)
	for range 100 { // warm up the buffers
		if !d.Next() {
			t.Fatal(d.Err())
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if !d.Next() {
			t.Fatal(d.Err())
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per event, want 0", allocs)
	}
}

// loopReader serves data endlessly, one copy per Read.
type loopReader struct{ data []byte }

func (r *loopReader) Read(p []byte) (int, error) { return copy(p, r.data), nil }

func BenchmarkDecoder(b *testing.B) {
	chunk := []byte(`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"kimi-k2.5","choices":[{"index":0,"delta":{"content":"hello"},"finish_reason":null}]}` + "\n\n")
	d := NewDecoder(&loopReader{data: chunk})
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		if !d.Next() {
			b.Fatal(d.Err())
		}
	}
}

// reference is a deliberately naive decoder used as the fuzz oracle.
func reference(in string, max int) ([]ev, bool) {
	in = strings.ReplaceAll(in, "\r\n", "\n")
	in = strings.ReplaceAll(in, "\r", "\n")
	lines := strings.Split(in, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var out []ev
	var data []string
	typ, id := "", ""
	hasData := false
	for _, l := range lines {
		if len(l) > max {
			return out, false
		}
		if l == "" {
			if hasData {
				t := typ
				if t == "" {
					t = "message"
				}
				out = append(out, ev{t, strings.Join(data, "\n"), id})
			}
			data, typ, hasData = nil, "", false
			continue
		}
		if l[0] == ':' {
			continue
		}
		name, value, found := strings.Cut(l, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch name {
		case "data":
			data = append(data, value)
			hasData = true
			if len(strings.Join(data, "\n")) > max {
				return out, false
			}
		case "event":
			typ = value
		case "id":
			if !strings.Contains(value, "\x00") {
				id = value
			}
		}
	}
	if hasData {
		t := typ
		if t == "" {
			t = "message"
		}
		out = append(out, ev{t, strings.Join(data, "\n"), id})
	}
	return out, true
}

// chunkReader returns the input in pieces whose sizes cycle through sizes.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1 + int(r.sizes[r.i%len(r.sizes)])%64
	r.i++
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func FuzzDecoder(f *testing.F) {
	f.Add("data: a\r\n\r\ndata:b\rdata: c\n\n: x\nevent: error\ndata: e\n\ndata: [DONE]", []byte{3, 1})
	f.Add("id: 1\ndata\n\ndata:  x\r\r", []byte{0})
	f.Add(strings.Repeat("data: 0123456789\n", 8)+"\n", []byte{7})
	f.Fuzz(func(t *testing.T, in string, sizes []byte) {
		if len(sizes) == 0 {
			sizes = []byte{255}
		}
		for _, max := range []int{DefaultMaxSize, 48} {
			want, ok := reference(in, max)
			got, err := collect(&chunkReader{data: []byte(in), sizes: sizes}, max)
			if ok != (err == nil) {
				t.Fatalf("max %d: err = %v, reference ok = %v", max, err, ok)
			}
			if err != nil && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Fatalf("max %d:\ngot  %q\nwant %q", max, got, want)
			}
		}
	})
}
