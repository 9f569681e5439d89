package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"

	openai "github.com/openai/openai-go/v3"

	"github.com/onesdk-go/onesdk/internal/measure"
	"github.com/onesdk-go/onesdk/kimi"
)

// Reading a batch's output file: download it and decode every line's
// completion. The file is batchLines lines in OpenAI's batch shape, each
// holding RecordedCompletion; the transport replays it without network.
// onesdk reads it with BatchService.Results and BatchResult.Completion;
// neither peer has a reader for result files, so each is given the loop
// its documentation leads to: download with its file-content call,
// bufio.Scanner with a buffer large enough for a line, json.Unmarshal into
// a struct around its own completion type.

const batchLines = 2000

var batchOutput = func() []byte {
	var b bytes.Buffer
	for i := range batchLines {
		fmt.Fprintf(&b, `{"id":"batch_req_%024d","custom_id":"req-%05d","response":{"status_code":200,"request_id":"r%d","body":%s},"error":null}`+"\n",
			i, i, i, RecordedCompletion())
	}
	return b.Bytes()
}()

// Each reader returns the number of lines and the total content length,
// so TestSameBatchResults can check they did the same work.

func batchOurs(ctx context.Context, c *kimi.Client) (int, int, error) {
	n, size := 0, 0
	for r, err := range c.Batches.Results(ctx, &kimi.Batch{OutputFileID: "file-out"}) {
		if err != nil {
			return n, size, err
		}
		resp, err := r.Completion()
		if err != nil {
			return n, size, err
		}
		n++
		size += len(resp.Choices[0].Message.Content)
	}
	return n, size, nil
}

// peerLines is the peers' loop: a Scanner whose buffer fits a line of
// up to kimi.MaxBatchLineBytes, json.Unmarshal of each line into a struct
// around the peer's completion type C, and the content's length summed.
func peerLines[C any](r io.Reader, content func(*C) string) (int, int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), kimi.MaxBatchLineBytes)
	n, size := 0, 0
	for sc.Scan() {
		var l struct {
			CustomID string `json:"custom_id"`
			Response struct {
				StatusCode int `json:"status_code"`
				Body       C   `json:"body"`
			} `json:"response"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return n, size, err
		}
		n++
		size += len(content(&l.Response.Body))
	}
	return n, size, sc.Err()
}

func batchOpenAIGo(ctx context.Context, c *openai.Client) (int, int, error) {
	resp, err := c.Files.Content(ctx, "file-out")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	return peerLines(resp.Body, func(cc *openai.ChatCompletion) string { return cc.Choices[0].Message.Content })
}

func batchGoOpenAI(ctx context.Context, c *goopenai.Client) (int, int, error) {
	raw, err := c.GetFileContent(ctx, "file-out")
	if err != nil {
		return 0, 0, err
	}
	defer raw.Close()
	return peerLines(raw, func(cc *goopenai.ChatCompletionResponse) string { return cc.Choices[0].Message.Content })
}

func batchReplay() *Replay { return NewReplay(batchOutput, "application/octet-stream") }

func TestSameBatchResults(t *testing.T) {
	ctx := context.Background()
	want := batchLines * len(`你好，我是 Kimi。The answer is 42：上海的天气 today is sunny，气温 25°C。`+"\n"+`我可以帮你查询更多信息，比如 "forecast" 或者空气质量。Let me know if you need anything else!`)
	oa := openAIGoClient(batchReplay())
	for name, read := range map[string]func() (int, int, error){
		"onesdk":    func() (int, int, error) { return batchOurs(ctx, ourClient(batchReplay())) },
		"openai-go": func() (int, int, error) { return batchOpenAIGo(ctx, &oa) },
		"go-openai": func() (int, int, error) { return batchGoOpenAI(ctx, goOpenAIClient(batchReplay())) },
	} {
		n, size, err := read()
		if err != nil || n != batchLines || size != want {
			t.Errorf("%s: %d lines, %d content bytes, %v; want %d, %d", name, n, size, err, batchLines, want)
		}
	}
}

// benchBatch reports per-line time, allocation and the peak heap of one
// whole read (measured once, outside the timed loop).
func benchBatch(b *testing.B, read func() (int, int, error)) {
	b.SetBytes(int64(len(batchOutput)))
	peak := measure.PeakHeap(func() {
		if _, _, err := read(); err != nil {
			b.Fatal(err)
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := read(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	lines := float64(b.N) * batchLines
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/lines, "ns/line")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/lines, "B/line")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/lines, "allocs/line")
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}

func BenchmarkBatchResults(b *testing.B) {
	ctx := context.Background()
	b.Run("client=onesdk", func(b *testing.B) {
		c := ourClient(batchReplay())
		benchBatch(b, func() (int, int, error) { return batchOurs(ctx, c) })
	})
	b.Run("client=go-openai", func(b *testing.B) {
		c := goOpenAIClient(batchReplay())
		benchBatch(b, func() (int, int, error) { return batchGoOpenAI(ctx, c) })
	})
	b.Run("client=openai-go", func(b *testing.B) {
		c := openAIGoClient(batchReplay())
		benchBatch(b, func() (int, int, error) { return batchOpenAIGo(ctx, &c) })
	})
}
