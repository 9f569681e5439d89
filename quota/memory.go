package quota

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// MemoryStore is a Store in one process. Several Limiters sharing one
// MemoryStore behave as processes sharing a Redis. The zero value is not
// ready: use NewMemoryStore.
type MemoryStore struct {
	clock Clock
	mu    sync.Mutex
	orgs  map[string]*orgState
}

// NewMemoryStore returns an empty store on clock (nil: the wall clock).
func NewMemoryStore(clock Clock) *MemoryStore {
	if clock == nil {
		clock = WallClock()
	}
	return &MemoryStore{clock: clock, orgs: map[string]*orgState{}}
}

// orgState is one organization's state. Its rules are the reference the
// Redis script follows step by step.
type orgState struct {
	minute   map[int64][2]int // bucket start (ms) -> requests, tokens
	day      map[int64]int    // bucket start (ms) -> tokens
	leases   map[string]int64 // lease -> expiry (ms)
	queue    []ticket         // arrival order
	cooldown int64            // admit nothing before (ms)
}

type ticket struct {
	id    string
	alive int64 // expiry (ms)
}

func (s *MemoryStore) org(name string) *orgState {
	o := s.orgs[name]
	if o == nil {
		o = &orgState{minute: map[int64][2]int{}, day: map[int64]int{}, leases: map[string]int64{}}
		s.orgs[name] = o
	}
	return o
}

func ms(t time.Time) int64                    { return t.UnixMilli() }
func dur(msec int64) time.Duration            { return time.Duration(msec) * time.Millisecond }
func bucket(now int64, w time.Duration) int64 { return now - now%w.Milliseconds() }

// expire drops what no longer counts at now (see counts): old buckets,
// expired leases and dead tickets.
func (o *orgState) expire(now int64) {
	for b := range o.minute {
		if !counts(b, now, minuteBucket, minute) {
			delete(o.minute, b)
		}
	}
	for b := range o.day {
		if !counts(b, now, dayBucket, day) {
			delete(o.day, b)
		}
	}
	for l, exp := range o.leases {
		if exp <= now {
			delete(o.leases, l)
		}
	}
	o.queue = slices.DeleteFunc(o.queue, func(t ticket) bool { return t.alive <= now })
}

// waitFor returns how long until the buckets of a window have freed need
// units, or -1 if they never will; amount gives a bucket's units.
func waitFor[V any](buckets map[int64]V, amount func(V) int, width, window time.Duration, now int64, need int) int64 {
	starts := make([]int64, 0, len(buckets))
	for b := range buckets {
		starts = append(starts, b)
	}
	slices.Sort(starts)
	freed := 0
	for _, b := range starts {
		if freed += amount(buckets[b]); freed >= need {
			return freedAt(b, width, window) - now
		}
	}
	return -1
}

func (s *MemoryStore) Admit(ctx context.Context, org string, lim catalog.Limits, a Admission) (Decision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ms(s.clock.Now())
	o := s.org(org)
	o.expire(now)

	// Join or stay in the queue; only the head may be admitted.
	i := slices.IndexFunc(o.queue, func(t ticket) bool { return t.id == a.Ticket })
	if i < 0 {
		o.queue = append(o.queue, ticket{id: a.Ticket})
		i = len(o.queue) - 1
	}
	o.queue[i].alive = now + a.TicketTTL.Milliseconds()
	if i > 0 {
		return Decision{Wait: pollWait, Limit: "queue"}, nil
	}
	if o.cooldown > now {
		return Decision{Wait: dur(o.cooldown - now), Limit: "cooldown"}, nil
	}
	if lim.Concurrency > 0 && len(o.leases) >= lim.Concurrency {
		// A slot comes back at a release (not foreseeable) or when the
		// first lease expires.
		first := int64(-1)
		for _, exp := range o.leases {
			if first < 0 || exp < first {
				first = exp
			}
		}
		return Decision{Wait: min(pollWait, dur(first-now)), Limit: "concurrency"}, nil
	}
	var reqs, toks, dayToks int
	for _, v := range o.minute {
		reqs, toks = reqs+v[0], toks+v[1]
	}
	for _, v := range o.day {
		dayToks += v
	}
	first := func(v [2]int) int { return v[0] }
	second := func(v [2]int) int { return v[1] }
	same := func(v int) int { return v }
	if lim.RPM > 0 && reqs+1 > lim.RPM {
		return Decision{Wait: dur(waitFor(o.minute, first, minuteBucket, minute, now, reqs+1-lim.RPM)), Limit: "rpm"}, nil
	}
	if lim.TPM > 0 && toks+a.Tokens > lim.TPM {
		return Decision{Wait: dur(waitFor(o.minute, second, minuteBucket, minute, now, toks+a.Tokens-lim.TPM)), Limit: "tpm"}, nil
	}
	if lim.TPD > 0 && dayToks+a.Tokens > lim.TPD {
		return Decision{Wait: dur(waitFor(o.day, same, dayBucket, day, now, dayToks+a.Tokens-lim.TPD)), Limit: "tpd"}, nil
	}

	o.queue = o.queue[1:]
	mb := bucket(now, minuteBucket)
	v := o.minute[mb]
	o.minute[mb] = [2]int{v[0] + 1, v[1] + a.Tokens}
	o.day[bucket(now, dayBucket)] += a.Tokens
	lease := a.Ticket
	o.leases[lease] = now + a.LeaseTTL.Milliseconds()
	return Decision{OK: true, Lease: lease}, nil
}

func (s *MemoryStore) Leave(ctx context.Context, org, tk string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(org)
	o.queue = slices.DeleteFunc(o.queue, func(t ticket) bool { return t.id == tk })
	return nil
}

func (s *MemoryStore) Renew(ctx context.Context, org, lease string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ms(s.clock.Now())
	o := s.org(org)
	if exp, ok := o.leases[lease]; !ok || exp <= now {
		delete(o.leases, lease)
		return false, nil
	}
	o.leases[lease] = now + ttl.Milliseconds()
	return true, nil
}

func (s *MemoryStore) Release(ctx context.Context, org, lease string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.org(org).leases, lease)
	return nil
}

func (s *MemoryStore) Cooldown(ctx context.Context, org string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.org(org)
	o.cooldown = max(o.cooldown, ms(s.clock.Now())+d.Milliseconds())
	return nil
}

func (s *MemoryStore) Carry(ctx context.Context, from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from == to {
		return nil
	}
	now := ms(s.clock.Now())
	f, t := s.org(from), s.org(to)
	f.expire(now)
	for b, v := range f.minute {
		w := t.minute[b]
		t.minute[b] = [2]int{w[0] + v[0], w[1] + v[1]}
	}
	for b, v := range f.day {
		t.day[b] += v
	}
	for l, exp := range f.leases {
		t.leases[l] = exp
	}
	clear(f.leases)
	return nil
}

func (s *MemoryStore) Usage(ctx context.Context, org string) (Usage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ms(s.clock.Now())
	o := s.org(org)
	o.expire(now)
	u := Usage{Concurrency: len(o.leases), Waiting: len(o.queue)}
	for _, v := range o.minute {
		u.Requests, u.TokensMin = u.Requests+v[0], u.TokensMin+v[1]
	}
	for _, v := range o.day {
		u.TokensDay += v
	}
	if o.cooldown > now {
		u.Cooldown = dur(o.cooldown - now)
	}
	return u, nil
}
