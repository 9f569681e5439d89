package kimitest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/internal/measure"
)

// largeChatBody is a chat request of about size bytes, compact JSON as
// clients send it: one long user message, or (image) a short question
// and an image as a data URL.
func largeChatBody(size int, image bool) []byte {
	head, tail, unit := `{"model":"moonshot-v1-8k","messages":[{"role":"user","content":"`, `"}]}`, "lorem ipsum dolor sit amet "
	if image {
		head = `{"model":"moonshot-v1-8k-vision-preview","messages":[{"role":"user","content":[{"type":"text","text":"what is it?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,`
		tail, unit = `"}}]}]}`, "QUJD"
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(head)
	b.WriteString(strings.Repeat(unit, (size-len(head)-len(tail))/len(unit)))
	b.WriteString(tail)
	return b.Bytes()
}

// A 50 MB chat body costs a small multiple of its size: it is read once
// and decoded once, and the parsed request refers to the body rather
// than copying its raw parts. The bound is on bytes allocated, which,
// unlike a sampled peak, does not depend on when the collector runs.
func TestLargeChatBodyMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory would count")
	}
	const size = 50 << 20
	for _, tc := range []struct {
		name  string
		image bool
		code  int
		want  string
	}{
		// Far over the window: a token-limit error, after the whole
		// body has been parsed and counted.
		{"text", false, http.StatusBadRequest, "token"},
		// An image costs a fixed number of tokens: the request is
		// answered, through every step of the chat path.
		{"image", true, http.StatusOK, "chat.completion"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := largeChatBody(size, tc.image)
			e := benchEmulator(t)
			req := newChatHTTPRequest(t, bytes.NewReader(body))
			rec := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			peak := measure.PeakHeap(func() { e.ServeHTTP(rec, req) })
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Fatalf("status %d: %.300s", rec.Code, rec.Body)
			}
			t.Logf("body %.1f MB: allocated %.1f MB (%.2fx), peak heap %.1f MB (%.2fx)",
				float64(size)/(1<<20), float64(alloc)/(1<<20), float64(alloc)/size, float64(peak)/(1<<20), float64(peak)/size)
			if alloc > 3*size {
				t.Fatalf("allocated %d B for a %d B body, want at most 3x", alloc, size)
			}
		})
	}
}
