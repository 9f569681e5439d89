package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/onesdk-go/onesdk/internal/measure"
	"github.com/onesdk-go/onesdk/kimi"
)

// BenchmarkUpload100MB uploads a 100 MB stream, generated on the fly (no
// 100 MB buffer anywhere), through kimi.FileService.Upload to a loopback
// server that discards the body, and reports the peak live heap above the
// pre-upload baseline (peak-heap-MB), sampled every 200 µs from
// runtime/metrics. The client streams the multipart body, so the figure
// must stay far below the file size (target: under 16 MB).
//
//	go test -run '^$' -bench Upload100MB -benchtime 3x
func BenchmarkUpload100MB(b *testing.B) {
	const size = kimi.MaxFileBytes
	for _, bc := range []struct {
		name string
		size int64 // what the request declares; 0: unknown (chunked)
	}{{"known-size", size}, {"unknown-size", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			var received atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, err := io.Copy(io.Discard, r.Body)
				received.Store(n)
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				io.WriteString(w, `{"id":"f1","object":"file","bytes":104857600,"filename":"big.bin","purpose":"file-extract","status":"ok","status_details":""}`)
			}))
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := kimi.NewClient(kimi.Config{APIKey: "sk-bench", BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr},
				Retry: &kimi.RetryPolicy{MaxRetries: 0}})
			ctx := context.Background()

			b.SetBytes(size)
			reportPeakHeap(b, func() error {
				_, err := c.Files.Upload(ctx, &kimi.FileUploadRequest{Filename: "big.bin", Reader: &genReader{left: size}, Size: bc.size})
				if err == nil && received.Load() < size {
					err = fmt.Errorf("server received %d bytes", received.Load())
				}
				return err
			})
		})
	}
}

// BenchmarkUpload100MBBufferedControl is the same upload the way a naive
// client does it (the multipart body built in a bytes.Buffer, then
// posted), measured the same way: it shows what the sampler reports when
// memory does grow with the file, and what streaming saves.
func BenchmarkUpload100MBBufferedControl(b *testing.B) {
	const size = kimi.MaxFileBytes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	b.SetBytes(size)
	reportPeakHeap(b, func() error {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("purpose", "file-extract")
		fw, _ := mw.CreateFormFile("file", "big.bin")
		io.Copy(fw, &genReader{left: size})
		mw.Close()
		resp, err := hc.Post(srv.URL+"/files", mw.FormDataContentType(), &buf)
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
}

// reportPeakHeap runs upload in every iteration and reports the largest
// heap growth seen during one, sampled from a fresh garbage collection.
func reportPeakHeap(b *testing.B, upload func() error) {
	b.ReportAllocs()
	var peak int64
	for b.Loop() {
		b.StopTimer()
		var err error
		peak = max(peak, measure.PeakHeap(func() {
			b.StartTimer()
			err = upload()
			b.StopTimer()
		}))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

// genReader yields left bytes of a repeating pattern without holding them.
type genReader struct {
	left int64
	off  byte
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), g.left))
	for i := range p[:n] {
		p[i] = 'a' + (g.off+byte(i))%26
	}
	g.off += byte(n % 26)
	g.left -= int64(n)
	return n, nil
}
