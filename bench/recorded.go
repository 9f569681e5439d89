// Package bench compares the onesdk Kimi client with go-openai and
// openai-go on the same recorded Kimi responses, served from memory so that
// only client-side cost (HTTP plumbing, SSE parsing, JSON decoding) is
// measured. See BENCHMARKS.md at the repository root.
package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// StreamChunks is the number of data events (chunks) in the recorded
// stream, not counting [DONE].
const StreamChunks = 2000

const (
	// The stream was recorded in 2025, from a model since retired; it
	// stays as recorded so that the figures compare across releases.
	model     = "kimi-k2-turbo-preview"
	chunkHead = `{"id":"chatcmpl-6a2f0b3c9d8e4f71a5b6c7d8","object":"chat.completion.chunk","created":1787771120,"model":"` + model + `","choices":[`
)

// pieces are the tokens the content deltas are made of: mixed Chinese and
// English, punctuation, a newline and a character that needs escaping.
var pieces = []string{
	"你好", "，", "我是", "Kimi", "。", " The", " answer", " is", " 42", "：",
	"上海", "的", "天气", " today", " is", " sunny", "，", "气温", " 25", "°C",
	"\\n", "“", "引用", "”", " and", " \\\"quotes\\\"", " 模型", "推理", " fast", "！",
}

// RecordedStream returns a deterministic 2,000-chunk Kimi stream in wire
// form: a role chunk, content deltas of one to three tokens, the final
// chunk with per-choice usage, the include_usage trailer and [DONE].
func RecordedStream() []byte {
	var b bytes.Buffer
	event := func(payload string) { b.WriteString("data: " + payload + "\n\n") }
	event(chunkHead + `{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	seed := uint32(1)
	next := func() int { // a fixed LCG: the same stream on every run
		seed = seed*1664525 + 1013904223
		return int(seed >> 16)
	}
	completion := 0
	for range StreamChunks - 3 {
		var s strings.Builder
		n := 1 + next()%3
		for range n {
			s.WriteString(pieces[next()%len(pieces)])
		}
		completion += n
		event(chunkHead + `{"index":0,"delta":{"content":"` + s.String() + `"},"finish_reason":null}]}`)
	}
	usage := fmt.Sprintf(`{"prompt_tokens":1024,"completion_tokens":%d,"total_tokens":%d,"cached_tokens":512,"prompt_tokens_details":{"cached_tokens":512}}`,
		completion, 1024+completion)
	event(chunkHead + `{"index":0,"delta":{},"finish_reason":"stop","usage":` + usage + `}]}`)
	event(chunkHead + `],"usage":` + usage + `}`)
	event("[DONE]")
	return b.Bytes()
}

// RecordedCompletion is a non-stream response body of realistic size.
func RecordedCompletion() []byte {
	return []byte(`{"id":"chatcmpl-6a2f0b3c9d8e4f71a5b6c7d8","object":"chat.completion","created":1787771120,"model":"` + model + `",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"你好，我是 Kimi。The answer is 42：上海的天气 today is sunny，气温 25°C。\n我可以帮你查询更多信息，比如 \"forecast\" 或者空气质量。Let me know if you need anything else!"},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":1024,"completion_tokens":64,"total_tokens":1088,"cached_tokens":512,"prompt_tokens_details":{"cached_tokens":512}}}`)
}

// UnknownField is a top-level member that no client knows: a vendor field
// added after the clients were written.
const UnknownField = `"moonshot_meta":{"region":"cn-shanghai","queue_ms":12}`

// RecordedCompletionUnknown is RecordedCompletion with UnknownField added
// at the end of the top-level object.
func RecordedCompletionUnknown() []byte {
	b := RecordedCompletion()
	return append(append(b[:len(b)-1:len(b)-1], ","+UnknownField...), '}')
}

// Replay is an http.RoundTripper that answers every request with Body,
// without any network. The stream is handed out one SSE event per Read,
// as a server that flushes every event would deliver it.
type Replay struct {
	Body        []byte
	ContentType string
	bounds      []int // end offsets of the events
}

// NewReplay returns a Replay serving body with the given content type.
func NewReplay(body []byte, contentType string) *Replay {
	r := &Replay{Body: body, ContentType: contentType}
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte("\n\n"))
		if j < 0 {
			break
		}
		i += j + 2
		r.bounds = append(r.bounds, i)
	}
	if n := len(body); len(r.bounds) == 0 || r.bounds[len(r.bounds)-1] != n {
		r.bounds = append(r.bounds, n)
	}
	return r
}

// RoundTrip implements http.RoundTripper.
func (r *Replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		Status: "200 OK", StatusCode: 200,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {r.ContentType},
			"Msh-Request-Id": {"bench-request"},
		},
		Body:          &eventReader{r: r},
		ContentLength: -1,
		Request:       req,
	}, nil
}

// eventReader returns at most one event per Read.
type eventReader struct {
	r   *Replay
	off int
	ev  int
}

func (e *eventReader) Read(p []byte) (int, error) {
	if e.off >= len(e.r.Body) {
		return 0, io.EOF
	}
	end := e.r.bounds[e.ev]
	n := copy(p, e.r.Body[e.off:end])
	e.off += n
	if e.off == end {
		e.ev++
	}
	return n, nil
}

func (e *eventReader) Close() error { return nil }
