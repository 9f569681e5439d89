package kimi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// When the deadline fires during a status read, WaitReady returns the
// cache as last seen along with the timeout, not nil.
func TestWaitReadyDeadlineDuringRead(t *testing.T) {
	// The cache stays pending for a long (emulated) while, so WaitReady
	// polls until the deadline.
	c, _, rec := setup(t, kimitest.WithCacheReadyDelay(time.Hour))
	ctx := context.Background()
	cache, err := c.Caches.Create(ctx, &kimi.CacheCreateRequest{Messages: []kimi.Message{kimi.SystemMessage("a manual")}})
	if err != nil {
		t.Fatal(err)
	}
	// The second and later status reads hang until their request ends, so
	// that the deadline fires during one.
	path := "/v1/caching/" + cache.ID
	rec.through(func(next http.RoundTripper) http.RoundTripper {
		return kimi.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && rec.count(http.MethodGet, path) > 1 {
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return next.RoundTrip(r)
		})
	})
	// The first poll waits at most 200 ms before the second read; the
	// deadline falls inside that read.
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	got, err := c.Caches.WaitReady(wctx, cache.ID)
	if !errors.Is(err, kimi.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if got == nil || got.ID != cache.ID || got.Status != kimi.CacheStatusPending {
		t.Fatalf("cache = %+v, want the pending cache as last seen", got)
	}
	if n := rec.count(http.MethodGet, path); n < 2 {
		t.Fatalf("%d status reads, want the deadline to fire during the second", n)
	}
}
