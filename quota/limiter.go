package quota

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// Config configures a Limiter. The zero value admits everything (no
// limits) in process.
type Config struct {
	// Limits are the organization's (catalog.Tier gives the published
	// tiers); a zero field is no limit.
	Limits catalog.Limits
	// Headroom is the share of each limit the Limiter uses, in (0, 1]:
	// 0.9 leaves a tenth for other software on the account. 0 means 1.
	Headroom float64
	// Org is the organization whose limits these are, the key of the
	// shared state: every Limiter with the same Store and Org shares one
	// budget. "" uses "default" until SetOrg learns it (the Admitter
	// reads it from the Msh-Org-Id header of a response). Set it when
	// several processes share a store: until each has learned the name,
	// their first requests count under different names.
	Org string
	// Store holds the shared state; nil is a new MemoryStore on Clock.
	Store Store
	// Clock is the time the Limiter sleeps in; nil is the wall clock. It
	// must run at the Store's pace (a MemoryStore's clock, or the scale a
	// RedisStore was given).
	Clock Clock
	// LeaseTTL is the life of a concurrency lease without renewal, so
	// that the slot of a worker that died comes back; a Permit renews its
	// lease every third of it while held. 0 means 30 s.
	LeaseTTL time.Duration
	// DefaultCooldown is the cooldown after a 429 whose message carries
	// no wait (the TPM and TPD refusals); 0 means 5 s.
	DefaultCooldown time.Duration
	// FailOpen chooses what Acquire does when the Store fails (Redis
	// unreachable): false (the default) returns ErrUnavailable; true
	// falls back to a limiter in this process with FailOpenShare of the
	// limits (0 means a half; a request larger than the share waits for
	// all of it), logs a warning on Logger each time it starts doing so,
	// and reports it in Degraded.
	FailOpen      bool
	FailOpenShare float64
	// Logger receives that warning; nil is slog.Default().
	Logger *slog.Logger
}

// Limiter admits the requests of one organization within its limits.
// It is safe for concurrent use.
type Limiter struct {
	cfg   Config
	lim   catalog.Limits // after headroom
	store Store
	clock Clock

	mu  sync.Mutex
	org string

	fallback     *Limiter // FailOpen: the local share, made on first failure
	fallbackOnce sync.Once
	degraded     sync.Map // set while the store fails
}

// New returns a Limiter for cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{cfg: cfg, store: cfg.Store, clock: cfg.Clock, org: cfg.Org}
	if l.clock == nil {
		l.clock = WallClock()
	}
	if l.store == nil {
		l.store = NewMemoryStore(l.clock)
	}
	if l.org == "" {
		l.org = "default"
	}
	if l.cfg.LeaseTTL <= 0 {
		l.cfg.LeaseTTL = 30 * time.Second
	}
	if l.cfg.DefaultCooldown <= 0 {
		l.cfg.DefaultCooldown = 5 * time.Second
	}
	l.lim = share(cfg.Limits, cfg.Headroom)
	return l
}

// share is l scaled by f (0 or above 1 means 1), each non-zero limit kept
// at 1 or more.
func share(l catalog.Limits, f float64) catalog.Limits {
	if f <= 0 || f >= 1 {
		return l
	}
	s := func(n int) int {
		if n == 0 {
			return 0
		}
		return max(1, int(math.Floor(float64(n)*f)))
	}
	return catalog.Limits{Concurrency: s(l.Concurrency), RPM: s(l.RPM), TPM: s(l.TPM), TPD: s(l.TPD)}
}

// Limits returns the limits in force, after headroom.
func (l *Limiter) Limits() catalog.Limits { return l.lim }

// Org returns the organization the Limiter counts for.
func (l *Limiter) Org() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.org
}

// SetOrg sets the organization, once known. What was admitted under the
// previous name is carried over (Store.Carry), so that it counts against
// the organization's limits.
func (l *Limiter) SetOrg(org string) {
	l.mu.Lock()
	old := l.org
	if org == "" || org == old {
		l.mu.Unlock()
		return
	}
	l.org = org
	l.mu.Unlock()
	// Outside the lock: a slow or unreachable store must not hold up
	// Org, and so every Acquire. A failed carry only means the requests
	// admitted under the stand-in name count there alone.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l.store.Carry(ctx, old, org)
}

// Degraded reports whether the last call to the Store failed and the
// Limiter fell back to its local share (FailOpen).
func (l *Limiter) Degraded() bool {
	_, ok := l.degraded.Load(true)
	return ok
}

// Permit is an admitted request. Release it when the request is over
// (for a stream, when the stream ends); it is safe to call twice.
type Permit struct {
	l     *Limiter
	org   string
	lease string
	stop  chan struct{}
	once  sync.Once
	local *Permit // FailOpen: the fallback's permit
}

// Release ends the permit's concurrency hold.
func (p *Permit) Release() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		if p.local != nil {
			p.local.Release()
			return
		}
		close(p.stop)
		// Not the caller's context: a cancelled request still frees its
		// slot, under the organization it was carried to if it was.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p.l.store.Release(ctx, p.org, p.lease)
		if org := p.l.Org(); org != p.org {
			p.l.store.Release(ctx, org, p.lease)
		}
	})
}

// maxPoll bounds a wait between attempts in real time, so that a waiter
// notices a release or a freed queue head soon; minPoll keeps a waiter
// from spinning on a fast clock.
const (
	pollWait = 250 * time.Millisecond // clock time, behind others or at full concurrency
	maxPoll  = 250 * time.Millisecond
	minPoll  = 2 * time.Millisecond
)

// Acquire waits until a request charging tokens (its prompt estimate
// plus max_tokens, or the model's default) fits every limit, in
// arrival order with every other user of the Store, and returns its
// Permit. It fails at once with ErrTooLarge if it can never fit, and
// with ctx's error if ctx ends first.
func (l *Limiter) Acquire(ctx context.Context, tokens int) (*Permit, error) {
	if tokens < 0 {
		tokens = 0
	}
	if l.lim.TPM > 0 && tokens > l.lim.TPM || l.lim.TPD > 0 && tokens > l.lim.TPD {
		return nil, fmt.Errorf("%w: %d tokens, but the TPM is %d and the TPD %d (after headroom; 0 is no limit)",
			ErrTooLarge, tokens, l.lim.TPM, l.lim.TPD)
	}
	org := l.Org()
	a := Admission{Ticket: newID(), Tokens: tokens, LeaseTTL: l.cfg.LeaseTTL, TicketTTL: l.ticketTTL()}
	for {
		if now := l.Org(); now != org {
			// The organization was learned while this request waited:
			// it queues there, so that it is counted there.
			l.store.Leave(ctx, org, a.Ticket)
			org = now
		}
		d, err := l.store.Admit(ctx, org, l.lim, a)
		if err != nil {
			// The store may have admitted the request and lost the
			// reply: free its lease (named after the ticket) and its
			// place in the queue, best effort. Its charge stays, erring
			// high.
			l.abandon(org, a.Ticket)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return l.failed(ctx, tokens, err)
		}
		l.degraded.Delete(true)
		if d.OK {
			p := &Permit{l: l, org: org, lease: d.Lease, stop: make(chan struct{})}
			go p.renew(l.cfg.LeaseTTL)
			return p, nil
		}
		if err := l.sleep(ctx, d.Wait); err != nil {
			leaveCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			l.store.Leave(leaveCtx, org, a.Ticket)
			cancel()
			return nil, err
		}
	}
}

// abandon releases whatever an admission of ticket may hold after an
// Admit whose outcome is unknown.
func (l *Limiter) abandon(org, ticket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.store.Release(ctx, org, ticket)
	l.store.Leave(ctx, org, ticket)
}

// ticketTTL keeps a waiting ticket alive across a few polls.
func (l *Limiter) ticketTTL() time.Duration {
	return time.Duration(float64(10*maxPoll) * l.clock.Scale())
}

// sleep waits d of clock time, bounded in real time by minPoll and
// maxPoll.
func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
	s := l.clock.Scale()
	real := time.Duration(float64(d) / s)
	real = min(max(real, minPoll), maxPoll)
	return l.clock.Sleep(ctx, time.Duration(float64(real)*s))
}

// renew keeps the lease alive while the permit is held.
func (p *Permit) renew(ttl time.Duration) {
	every := time.Duration(float64(ttl/3) / p.l.clock.Scale())
	t := time.NewTicker(max(every, minPoll))
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if ok, _ := p.l.store.Renew(ctx, p.org, p.lease, ttl); !ok {
				p.l.store.Renew(ctx, p.l.Org(), p.lease, ttl) // carried over
			}
			cancel()
		}
	}
}

// failed handles a Store failure: ErrUnavailable, or with FailOpen the
// local share of the limits.
func (l *Limiter) failed(ctx context.Context, tokens int, err error) (*Permit, error) {
	if !l.cfg.FailOpen {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if _, was := l.degraded.Swap(true, true); !was {
		log := l.cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("quota: store unavailable; admitting on this process's share of the limits",
			"org", l.Org(), "share", l.cfg.FailOpenShare, "error", err)
	}
	l.fallbackOnce.Do(func() {
		f := l.cfg.FailOpenShare
		if f <= 0 || f > 1 {
			f = 0.5
		}
		l.fallback = New(Config{Limits: share(l.lim, f), Clock: l.clock, LeaseTTL: l.cfg.LeaseTTL})
	})
	// A request that fits the limits but not this share of them waits
	// for the whole share instead of failing as too large.
	sh := l.fallback.lim
	if sh.TPM > 0 {
		tokens = min(tokens, sh.TPM)
	}
	if sh.TPD > 0 {
		tokens = min(tokens, sh.TPD)
	}
	p, err := l.fallback.Acquire(ctx, tokens)
	if err != nil {
		return nil, err
	}
	return &Permit{l: l, local: p}, nil
}

// Cooldown makes every user of the Store wait d (a 429's hint) before
// the next admission; d <= 0 is DefaultCooldown.
func (l *Limiter) Cooldown(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		d = l.cfg.DefaultCooldown
	}
	return l.store.Cooldown(ctx, l.Org(), d)
}

// Usage reports the organization's current use.
func (l *Limiter) Usage(ctx context.Context) (Usage, error) { return l.store.Usage(ctx, l.Org()) }

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
