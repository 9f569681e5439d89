// Package quotabench measures package quota against the emulator: in a
// package of its own, so that the stream and call benchmarks' binary does
// not link the emulator, quota and Redis, whose background work would
// count in its CPU figures.
package quotabench
