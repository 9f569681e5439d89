package kimitest

import (
	"runtime"
	"testing"

	"github.com/onesdk-go/onesdk/internal/measure"
)

// A chat request leaves no state behind that grows with the number of
// requests: the ledger sums its charges and the rate limiter keeps
// nothing without limits, and only per-bucket sums of its windows with
// them. The heap retained after 200,000 requests stays within a small
// bound of the heap after 20,000.
func TestRetainedMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 400,000 requests")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector")
	}
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"limits=none", nil},
		// 1000x: the run spans hours of emulated time, so that day buckets
		// come and go as well.
		{"limits=tpm+tpd", []Option{WithLimits(hugeLimits), WithTimeScale(1000)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := benchEmulator(t, tc.opts...)
			send := func(n int) {
				for range n {
					serveSmallChat(t, e)
				}
			}
			send(20_000)
			after20k := measure.RetainedHeap()
			send(180_000)
			after200k := measure.RetainedHeap()
			grew := int64(after200k) - int64(after20k)
			t.Logf("retained heap: %d B after 20k requests, %d B after 200k (%+d B)", after20k, after200k, grew)
			runtime.KeepAlive(e)
			const bound = 2 << 20
			if grew > bound {
				t.Fatalf("retained heap grew by %d B from 20k to 200k requests, want at most %d", grew, bound)
			}
		})
	}
}
