// Package measure reads what a benchmark reports besides time: the CPU
// the whole process used (the garbage collector's threads included) and
// the live heap, sampled while a function runs. The emulator's and the
// client's benchmarks share it, so that their figures mean the same.
package measure

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// heapObjects is live and not yet swept heap objects: unlike
// runtime.MemStats it can be read without stopping the world, so it can
// be polled while the code under measure runs.
const heapObjects = "/memory/classes/heap/objects:bytes"

// LiveHeap returns the bytes of live and not yet swept heap objects.
func LiveHeap() int64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// PeakHeap collects garbage, runs fn while sampling the heap every
// 200 µs, and returns the largest excess over the heap before fn seen
// during it or right after it.
func PeakHeap(fn func()) int64 {
	runtime.GC()
	base := LiveHeap()
	var peak atomic.Int64
	note := func() {
		if d := LiveHeap() - base; d > peak.Load() {
			peak.Store(d)
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			note()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	note()
	return peak.Load()
}

// RetainedHeap returns the live heap after two full collections (the
// second frees what finalizers of the first released).
func RetainedHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
