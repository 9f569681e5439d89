package quota

import (
	"context"
	"time"
)

// Clock is the time the limits are counted in. A scaled clock runs
// faster than the wall clock, as kimitest's time scale does, so that a
// pipeline can be run against the emulator at its speed: with both at
// scale 60, a minute's RPM passes in a second.
type Clock interface {
	Now() time.Time
	// Sleep waits d of this clock's time, or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
	// Scale is how many of this clock's seconds pass per real second.
	Scale() float64
}

// WallClock returns the real clock.
func WallClock() Clock { return scaled{scale: 1} }

// ScaledClock returns a clock that starts now and runs scale times as
// fast as the wall clock (scale <= 0 is 1).
func ScaledClock(scale float64) Clock {
	if scale <= 0 {
		scale = 1
	}
	return scaled{start: time.Now(), scale: scale}
}

type scaled struct {
	start time.Time
	scale float64
}

func (c scaled) Now() time.Time {
	if c.scale == 1 {
		return time.Now()
	}
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.scale))
}

func (c scaled) Scale() float64 { return c.scale }

func (c scaled) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(time.Duration(float64(d) / c.scale))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
