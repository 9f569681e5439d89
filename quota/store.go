package quota

import (
	"context"
	"errors"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// Store keeps the shared state of the organizations it serves: their
// usage windows, concurrency leases, cooldowns and waiting queues. Every
// method but Carry acts on one organization atomically, on the store's
// own clock (so that callers' clocks never matter). Admit is never asked
// for a request larger than the limits (the Limiter refuses those with
// ErrTooLarge); its wait for one is then meaningless. MemoryStore and RedisStore
// implement it; a Store must behave exactly as MemoryStore does, which
// the conformance tests of this package check.
type Store interface {
	// Admit admits a request for org under lim if its ticket is at the
	// head of org's queue (joining the queue if it is not in it) and
	// the request fits every limit; it then charges the request and
	// takes a concurrency lease. Otherwise it keeps the ticket in the
	// queue and says how long to wait before asking again.
	Admit(ctx context.Context, org string, lim catalog.Limits, a Admission) (Decision, error)
	// Leave takes a ticket out of org's queue (the caller gave up).
	Leave(ctx context.Context, org, ticket string) error
	// Renew extends a lease to ttl from now; false if it had expired.
	Renew(ctx context.Context, org, lease string, ttl time.Duration) (bool, error)
	// Release ends a lease.
	Release(ctx context.Context, org, lease string) error
	// Cooldown admits nothing for org until d from now (or later, if a
	// longer cooldown is in force).
	Cooldown(ctx context.Context, org string, d time.Duration) error
	// Usage reports org's current use of each dimension.
	Usage(ctx context.Context, org string) (Usage, error)
	// Carry adds what from's windows hold to to's, and moves from's live
	// leases to to: for a Limiter that learns its organization after it
	// admitted requests under a stand-in name, so that they count (from
	// keeps its windows, which then count twice, erring high). It spans
	// two organizations and need not be atomic.
	Carry(ctx context.Context, from, to string) error
}

// Admission is one request asking to be admitted.
type Admission struct {
	// Ticket identifies the request in the queue while it waits; the
	// same ticket is passed on every attempt.
	Ticket string
	// Tokens is the charge against TPM and TPD.
	Tokens int
	// LeaseTTL is how long the concurrency lease lives unless renewed,
	// so that the slot of a worker that died comes back.
	LeaseTTL time.Duration
	// TicketTTL is how long the ticket stays in the queue without a new
	// attempt, so that a waiter that died does not block the queue.
	TicketTTL time.Duration
}

// Decision is a Store's answer to an Admission.
type Decision struct {
	OK bool
	// Lease is the concurrency lease, when OK: the Admission's Ticket, so
	// that a caller whose reply was lost can still release it.
	Lease string
	// Wait is how long to wait before asking again, on the store's
	// clock; Limit names the dimension that is full ("queue" when
	// others are ahead, "cooldown" during a cooldown).
	Wait  time.Duration
	Limit string
}

// Usage is an organization's current use, on the store's clock.
type Usage struct {
	Concurrency int           // live leases
	Requests    int           // admitted in the last minute (RPM)
	TokensMin   int           // charged in the last minute (TPM)
	TokensDay   int           // charged in the last 24 h (TPD)
	Waiting     int           // tickets in the queue
	Cooldown    time.Duration // left of the cooldown, 0 when none
}

// The windows and their buckets. A bucket counts until its end plus the
// window plus one more bucket: usage errs high, never low, even against
// a server that itself counts in buckets of that width (as the emulator
// does), which may count a request up to a bucket after the window.
const (
	minute       = time.Minute
	day          = 24 * time.Hour
	minuteBucket = time.Second
	dayBucket    = time.Minute
)

// counts reports whether a bucket that starts at b (ms) of width w still
// counts at now in a window.
func counts(b, now int64, w, window time.Duration) bool {
	return b+2*w.Milliseconds()+window.Milliseconds() > now
}

// freedAt is when a bucket that starts at b stops counting.
func freedAt(b int64, w, window time.Duration) int64 {
	return b + 2*w.Milliseconds() + window.Milliseconds()
}

// ErrTooLarge is returned for a request that can never be admitted:
// more tokens than the TPM or TPD (after headroom).
var ErrTooLarge = errors.New("quota: request larger than the limit")

// ErrUnavailable wraps a Store failure (Redis unreachable) when the
// Limiter fails closed.
var ErrUnavailable = errors.New("quota: store unavailable")
