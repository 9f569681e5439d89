package measure

import (
	"testing"
)

var sink []byte

// A function that holds 8 MB while it runs shows a peak of at least
// that; one that allocates nothing lasting shows far less.
func TestPeakHeap(t *testing.T) {
	const size = 8 << 20
	got := PeakHeap(func() {
		sink = make([]byte, size)
		for i := range sink {
			sink[i] = byte(i)
		}
	})
	sink = nil
	if got < size {
		t.Errorf("PeakHeap with an 8 MB buffer live = %d, want >= %d", got, size)
	}
	if idle := PeakHeap(func() {}); idle >= size {
		t.Errorf("PeakHeap of nothing = %d, want < %d", idle, size)
	}
}

func TestCPU(t *testing.T) {
	c0, ok := CPU()
	if !ok {
		t.Skip("CPU time not measured on this system")
	}
	x := 0
	for i := range 50_000_000 {
		x += i ^ x
	}
	c1, _ := CPU()
	if c1 <= c0 {
		t.Errorf("CPU went from %v to %v over a busy loop (x=%d)", c0, c1, x)
	}
}
