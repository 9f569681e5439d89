package quotabench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/internal/redistest"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/quota"
)

// The quota runs: quotaRequests requests against the emulator at a
// tier's limits, both clocks at quotaScale, so that the 100 emulated
// minutes tier0 needs for 300 requests pass in 30 s. A faster clock
// would make the network's milliseconds count as emulated seconds,
// which the limiter's 1 s margin was not made for.
const (
	quotaRequests = 300
	quotaScale    = 200
	quotaTier     = "2026-tier0" // 1 at a time, 3 a minute, 500k TPM, 1.5M TPD
	quotaWorkers  = 4
)

// theoreticalMinimum is the least time the tier's RPM allows for n
// requests: the first RPM at once, then RPM more every minute.
func theoreticalMinimum(l catalog.Limits, n int) time.Duration {
	return time.Duration((n+l.RPM-1)/l.RPM-1) * time.Minute / quotaScale
}

// BenchmarkQuota reports, per run of quotaRequests requests, the wall
// time over the theoretical minimum the limits allow (x-min) and the
// 429s the server sent: our client held by a quota.Limiter (in process,
// and split over two limiters sharing a Redis), against go-openai, which
// has no limiter and no retries, with quotaWorkers workers each.
//
//	cd bench && go test -run '^$' -bench Quota -benchtime 1x ./quotabench/
func BenchmarkQuota(b *testing.B) {
	lim, _ := catalog.Tier(quotaTier)
	b.Run("client=onesdk/store=memory", func(b *testing.B) {
		for b.Loop() {
			srv, hc, count := quotaServer(b, lim)
			l := quota.New(quota.Config{Limits: lim, Clock: quota.ScaledClock(quotaScale)})
			d := runOurs(b, srv, hc, []*quota.Limiter{l})
			report(b, d, lim, count)
		}
	})
	b.Run("client=onesdk/store=redis-2-limiters", func(b *testing.B) {
		addr := redistest.Start(b)
		for i := 0; b.Loop(); i++ {
			srv, hc, count := quotaServer(b, lim)
			var ls []*quota.Limiter
			for range 2 { // two "processes": each its own connection
				c := redis.NewClient(&redis.Options{Addr: addr})
				b.Cleanup(func() { c.Close() })
				s := quota.NewRedisStore(c, quota.RedisOptions{Prefix: fmt.Sprint("bench", i), Scale: quotaScale})
				ls = append(ls, quota.New(quota.Config{Limits: lim, Store: s, Clock: quota.ScaledClock(quotaScale), Org: "bench"}))
			}
			d := runOurs(b, srv, hc, ls)
			report(b, d, lim, count)
		}
	})
	b.Run("client=go-openai", func(b *testing.B) {
		for b.Loop() {
			srv, hc, count := quotaServer(b, lim)
			cfg := goopenai.DefaultConfig(srv.Key)
			cfg.BaseURL, cfg.HTTPClient = srv.URL, hc
			c := goopenai.NewClientWithConfig(cfg)
			var failed atomic.Int32
			start := time.Now()
			parallel(quotaRequests, func(i int) {
				_, err := c.CreateChatCompletion(context.Background(), goopenai.ChatCompletionRequest{Model: "moonshot-v1-8k",
					Messages: []goopenai.ChatCompletionMessage{{Role: "user", Content: fmt.Sprint("question ", i)}}})
				if err != nil {
					failed.Add(1)
				}
			})
			report(b, time.Since(start), lim, count)
			b.ReportMetric(float64(failed.Load()), "failed")
		}
	})
}

// quotaServer is an emulator at lim on the quota clock, and an HTTP
// client for it that counts the 429s it receives.
func quotaServer(b *testing.B, lim catalog.Limits) (*kimitest.Server, *http.Client, *atomic.Int64) {
	var n atomic.Int64
	srv := kimitest.NewServer(b, kimitest.WithLimits(lim), kimitest.WithTimeScale(quotaScale))
	hc := srv.Client()
	hc.Transport = countingTransport{hc.Transport, &n}
	return srv, hc, &n
}

type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.n.Add(1)
	}
	return resp, err
}

// runOurs sends quotaRequests requests through clients held by the
// limiters (round robin), and returns the wall time.
func runOurs(b *testing.B, srv *kimitest.Server, hc *http.Client, ls []*quota.Limiter) time.Duration {
	var cs []*kimi.Client
	for _, l := range ls {
		cs = append(cs, kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: hc,
			Admitter: l.Admitter()}))
	}
	start := time.Now()
	var mu sync.Mutex
	var firstErr error
	parallel(quotaRequests, func(i int) {
		_, err := cs[i%len(cs)].Chat.Create(context.Background(), &kimi.ChatRequest{Model: "moonshot-v1-8k",
			Messages: []kimi.Message{kimi.UserMessage(fmt.Sprint("question ", i))}})
		if err != nil {
			mu.Lock()
			firstErr = errors.Join(firstErr, err)
			mu.Unlock()
		}
	})
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return time.Since(start)
}

// parallel runs f(0..n-1) on quotaWorkers goroutines.
func parallel(n int, f func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range quotaWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		})
	}
	wg.Wait()
}

func report(b *testing.B, d time.Duration, lim catalog.Limits, count *atomic.Int64) {
	b.ReportMetric(float64(d)/float64(theoreticalMinimum(lim, quotaRequests)), "x-min")
	b.ReportMetric(float64(count.Load()), "429s")
}
