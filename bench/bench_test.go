package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	goopenai "github.com/sashabaranov/go-openai"

	openai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/onesdk-go/onesdk/internal/measure"
	"github.com/onesdk-go/onesdk/kimi"
)

const baseURL = "http://kimi.bench.invalid/v1"

var (
	streamBody     = RecordedStream()
	completionBody = RecordedCompletion()
	unknownBody    = RecordedCompletionUnknown()
)

func ourClient(rt http.RoundTripper) *kimi.Client {
	return kimi.NewClient(kimi.Config{
		APIKey:     "sk-bench",
		BaseURL:    baseURL,
		HTTPClient: &http.Client{Transport: rt},
		Retry:      &kimi.RetryPolicy{MaxRetries: 0},
	})
}

func goOpenAIClient(rt http.RoundTripper) *goopenai.Client {
	cfg := goopenai.DefaultConfig("sk-bench")
	cfg.BaseURL = baseURL
	cfg.HTTPClient = &http.Client{Transport: rt}
	return goopenai.NewClientWithConfig(cfg)
}

func openAIGoClient(rt http.RoundTripper) openai.Client {
	return openai.NewClient(
		option.WithAPIKey("sk-bench"),
		option.WithBaseURL(baseURL+"/"),
		option.WithHTTPClient(&http.Client{Transport: rt}),
		option.WithMaxRetries(0),
	)
}

// Each streaming function reads the whole recorded stream once and returns
// the concatenated content. All three accumulate the text, which is what a
// caller does with a stream; ours also assembles the full completion
// (reasoning, tool calls, usage) as part of Next.

func streamOurs(ctx context.Context, c *kimi.Client) (string, error) {
	s, err := c.Chat.Stream(ctx, &kimi.ChatRequest{Model: model, Messages: []kimi.Message{kimi.UserMessage("hi")}})
	if err != nil {
		return "", err
	}
	defer s.Close()
	for s.Next() {
		_ = s.Current()
	}
	return s.Message().Content, s.Err()
}

func streamGoOpenAI(ctx context.Context, c *goopenai.Client) (string, error) {
	s, err := c.CreateChatCompletionStream(ctx, goopenai.ChatCompletionRequest{
		Model:    model,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hi"}},
		Stream:   true,
	})
	if err != nil {
		return "", err
	}
	defer s.Close()
	var sb strings.Builder
	for {
		resp, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return sb.String(), nil
		}
		if err != nil {
			return "", err
		}
		if len(resp.Choices) > 0 {
			sb.WriteString(resp.Choices[0].Delta.Content)
		}
	}
}

func streamOpenAIGo(ctx context.Context, c *openai.Client) (string, error) {
	s := c.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	defer s.Close()
	var sb strings.Builder
	for s.Next() {
		chunk := s.Current()
		if len(chunk.Choices) > 0 {
			sb.WriteString(chunk.Choices[0].Delta.Content)
		}
	}
	return sb.String(), s.Err()
}

// streamFloor is the least work any client must do with the stream: one
// request through the same transport, SSE framing with a bufio.Reader, and
// the delta text cut out of each data line with bytes.Index and
// unescaped. It decodes no JSON beyond that and keeps no chunk, so it is a
// floor, not a client.
func streamFloor(ctx context.Context, hc *http.Client) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/chat/completions",
		strings.NewReader(`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}],"stream":true}`))
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 32<<10)
	var sb strings.Builder
	for {
		line, err := br.ReadSlice('\n')
		if err == io.EOF {
			return sb.String(), nil
		}
		if err != nil {
			return "", err
		}
		data, ok := bytes.CutPrefix(line, []byte("data: "))
		if !ok {
			continue
		}
		if bytes.HasPrefix(data, []byte("[DONE]")) {
			return sb.String(), nil
		}
		i := bytes.Index(data, []byte(`"content":"`))
		if i < 0 {
			continue
		}
		if !appendJSONString(&sb, data[i+len(`"content":"`):]) {
			return "", errors.New("floor: unterminated content string")
		}
	}
}

// appendJSONString appends the JSON string body that starts s (after its
// opening quote) to sb, unescaped, and reports whether it was terminated.
func appendJSONString(sb *strings.Builder, s []byte) bool {
	for {
		j := bytes.IndexAny(s, `"\`)
		if j < 0 {
			return false
		}
		sb.Write(s[:j])
		if s[j] == '"' {
			return true
		}
		if j+1 >= len(s) {
			return false
		}
		switch e := s[j+1]; e {
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case 'u':
			if j+6 > len(s) {
				return false
			}
			r, err := strconv.ParseUint(string(s[j+2:j+6]), 16, 32)
			if err != nil {
				return false
			}
			sb.WriteRune(rune(r)) // surrogate pairs do not occur in the recording
			s = s[j+6:]
			continue
		default: // '"', '\\', '/'
			sb.WriteByte(e)
		}
		s = s[j+2:]
	}
}

// TestSameContent checks that every client decodes the recorded stream and
// completion to the same text, so the benchmarks compare equal work.
func TestSameContent(t *testing.T) {
	ctx := context.Background()
	rt := NewReplay(streamBody, "text/event-stream")
	ours, err := streamOurs(ctx, ourClient(rt))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ours, "你好") || !strings.Contains(ours, "\n") || !strings.Contains(ours, `"quotes"`) {
		t.Fatalf("unexpected content %.100q", ours)
	}
	if !utf8.ValidString(ours) {
		t.Fatal("content is not valid UTF-8")
	}
	fl, err := streamFloor(ctx, &http.Client{Transport: rt})
	if err != nil || fl != ours {
		t.Fatalf("floor: %v, content equal: %v", err, fl == ours)
	}
	g, err := streamGoOpenAI(ctx, goOpenAIClient(rt))
	if err != nil || g != ours {
		t.Fatalf("go-openai: %v, content equal: %v", err, g == ours)
	}
	oc := openAIGoClient(rt)
	o, err := streamOpenAIGo(ctx, &oc)
	if err != nil || o != ours {
		t.Fatalf("openai-go: %v, content equal: %v", err, o == ours)
	}

	for _, body := range [][]byte{completionBody, unknownBody} {
		crt := NewReplay(body, "application/json")
		c1, err := createOurs(ctx, ourClient(crt))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := createGoOpenAI(ctx, goOpenAIClient(crt))
		if err != nil || c2 != c1 {
			t.Fatalf("go-openai: %v %q", err, c2)
		}
		occ := openAIGoClient(crt)
		c3, err := createOpenAIGo(ctx, &occ)
		if err != nil || c3 != c1 {
			t.Fatalf("openai-go: %v %q", err, c3)
		}
	}

	// The unknown field must reach Extra, or the benchmark would compare a
	// decoder that drops it with ones that skip it.
	r, err := ourClient(NewReplay(unknownBody, "application/json")).Chat.Create(ctx,
		&kimi.ChatRequest{Model: model, Messages: []kimi.Message{kimi.UserMessage("hi")}})
	if err != nil {
		t.Fatal(err)
	}
	name, value, _ := strings.Cut(UnknownField, ":")
	if got := string(r.Extra[strings.Trim(name, `"`)]); got != value || len(r.Extra) != 1 {
		t.Fatalf("Extra = %q, want %s", r.Extra, UnknownField)
	}
}

// benchStream runs one whole stream per iteration and reports per-chunk
// time, bytes and allocations. cpu-ns/chunk is the process's CPU time
// (every thread, so the garbage collector's work counts): on a shared
// machine it varies less than the elapsed time, which includes the time
// other processes had the CPU.
func benchStream(b *testing.B, run func(context.Context) (string, error)) {
	ctx := context.Background()
	if _, err := run(ctx); err != nil { // warm up pools and caches
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0, cpuOK := measure.CPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu1, _ := measure.CPU()
	runtime.ReadMemStats(&after)
	chunks := float64(b.N) * StreamChunks
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/chunks, "ns/chunk")
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Nanoseconds())/chunks, "cpu-ns/chunk")
	}
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/chunks, "B/chunk")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/chunks, "allocs/chunk")
}

func BenchmarkStream(b *testing.B) {
	rt := NewReplay(streamBody, "text/event-stream")
	b.Run("client=floor", func(b *testing.B) {
		hc := &http.Client{Transport: rt}
		benchStream(b, func(ctx context.Context) (string, error) { return streamFloor(ctx, hc) })
	})
	b.Run("client=onesdk", func(b *testing.B) {
		c := ourClient(rt)
		benchStream(b, func(ctx context.Context) (string, error) { return streamOurs(ctx, c) })
	})
	b.Run("client=go-openai", func(b *testing.B) {
		c := goOpenAIClient(rt)
		benchStream(b, func(ctx context.Context) (string, error) { return streamGoOpenAI(ctx, c) })
	})
	b.Run("client=openai-go", func(b *testing.B) {
		c := openAIGoClient(rt)
		benchStream(b, func(ctx context.Context) (string, error) { return streamOpenAIGo(ctx, &c) })
	})
}

func createOurs(ctx context.Context, c *kimi.Client) (string, error) {
	r, err := c.Chat.Create(ctx, &kimi.ChatRequest{Model: model, Messages: []kimi.Message{kimi.UserMessage("hi")}})
	if err != nil {
		return "", err
	}
	return r.Text(), nil
}

func createGoOpenAI(ctx context.Context, c *goopenai.Client) (string, error) {
	r, err := c.CreateChatCompletion(ctx, goopenai.ChatCompletionRequest{
		Model:    model,
		Messages: []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: "hi"}},
	})
	if err != nil {
		return "", err
	}
	return r.Choices[0].Message.Content, nil
}

func createOpenAIGo(ctx context.Context, c *openai.Client) (string, error) {
	r, err := c.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    model,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	if err != nil {
		return "", err
	}
	return r.Choices[0].Message.Content, nil
}

// BenchmarkCreate is one non-streaming call: request encoding, the
// in-memory round trip and response decoding. fields=unknown adds one
// top-level member no client knows (UnknownField): ours keeps it in Extra,
// the peers skip it.
func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, f func() (string, error)) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := f(); err != nil {
				b.Fatal(err)
			}
		}
	}
	bodies := []struct {
		name string
		body []byte
	}{{"known", completionBody}, {"unknown", unknownBody}}
	// The client is the second level so that one -bench pattern selects
	// every case of one client (see interleave.sh).
	b.Run("client=onesdk", func(b *testing.B) {
		for _, bc := range bodies {
			b.Run("fields="+bc.name, func(b *testing.B) {
				c := ourClient(NewReplay(bc.body, "application/json"))
				run(b, func() (string, error) { return createOurs(ctx, c) })
			})
		}
	})
	b.Run("client=go-openai", func(b *testing.B) {
		for _, bc := range bodies {
			b.Run("fields="+bc.name, func(b *testing.B) {
				c := goOpenAIClient(NewReplay(bc.body, "application/json"))
				run(b, func() (string, error) { return createGoOpenAI(ctx, c) })
			})
		}
	})
	b.Run("client=openai-go", func(b *testing.B) {
		for _, bc := range bodies {
			b.Run("fields="+bc.name, func(b *testing.B) {
				c := openAIGoClient(NewReplay(bc.body, "application/json"))
				run(b, func() (string, error) { return createOpenAIGo(ctx, &c) })
			})
		}
	})
}
