//go:build unix

package kimitest

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used, all threads, so that
// a benchmark's figure includes the garbage collector's work.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
