//go:build !race

package kimitest

// raceEnabled reports whether the race detector is on, for tests too slow
// to run under it.
const raceEnabled = false
