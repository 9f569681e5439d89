//go:build unix

package measure

import (
	"syscall"
	"time"
)

// CPU returns the CPU time, user and system, the process has used so far
// in all its threads; false where it cannot be read.
func CPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
