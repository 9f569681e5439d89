package quota

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/internal/redistest"
)

// newRedisClient is a client of the server at addr, closed when the test
// ends.
func newRedisClient(tb testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr})
	tb.Cleanup(func() { c.Close() })
	return c
}

func TestRedisStore(t *testing.T) {
	c := newRedisClient(t, redistest.Start(t))
	storeSuite(t, func(t *testing.T) Store {
		// Each subtest has keys of its own.
		return NewRedisStore(c, RedisOptions{Prefix: "test:" + t.Name(), Scale: testScale})
	})
}

// The script touches only keys of one slot: a one-node Redis Cluster
// refuses anything else (CROSSSLOT).
func TestRedisStoreCluster(t *testing.T) {
	addr := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	ctx := context.Background()
	admin := newRedisClient(t, addr)
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ready: %q %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}})
	t.Cleanup(func() { c.Close() })
	storeSuite(t, func(t *testing.T) Store {
		return NewRedisStore(c, RedisOptions{Prefix: "test:" + t.Name(), Scale: testScale})
	})
	// Two organizations are two slots.
	carrySuite(t, NewRedisStore(c, RedisOptions{Prefix: "test:carry", Scale: testScale}))
}

func TestRedisStoreCarry(t *testing.T) {
	c := newRedisClient(t, redistest.Start(t))
	carrySuite(t, NewRedisStore(c, RedisOptions{Scale: testScale}))

	// Organizations first used at different times have scaled clocks
	// apart: what is carried keeps counting as long, on the new clock.
	ctx := context.Background()
	s := NewRedisStore(c, RedisOptions{Prefix: "shifted", Scale: testScale})
	if err := s.Cooldown(ctx, "to", 0); err != nil { // its epoch, 30 s of store time before from's
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	lim := catalog.Limits{RPM: 1}
	start := time.Now()
	d, err := s.Admit(ctx, "from", lim, Admission{Ticket: "a", LeaseTTL: time.Hour, TicketTTL: time.Hour})
	if err != nil || !d.OK {
		t.Fatal(d, err)
	}
	if err := s.Carry(ctx, "from", "to"); err != nil {
		t.Fatal(err)
	}
	span := dur(freedAt(0, minuteBucket, minute))
	w, err := s.Admit(ctx, "to", lim, Admission{Ticket: "b", LeaseTTL: time.Hour, TicketTTL: time.Hour})
	// Less the store time that passed since the admission (a slow
	// machine's ms are seconds here), and a bucket.
	least := span - minuteBucket - time.Duration(float64(time.Since(start))*testScale)
	if err != nil || w.Limit != "rpm" || w.Wait < least || w.Wait > span+minuteBucket {
		t.Errorf("after the carry: %+v %v, want a wait within [%v, %v]", w, err, least, span+minuteBucket)
	}
	if ok, err := s.Renew(ctx, "to", d.Lease, time.Hour); !ok || err != nil {
		t.Errorf("the carried lease: %v %v", ok, err)
	}
	if u, _ := s.Usage(ctx, "from"); u.Concurrency != 0 || u.Requests != 1 {
		t.Errorf("what carry left: %+v", u)
	}

	// Nothing to carry makes nothing.
	if err := s.Carry(ctx, "nobody", "new"); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, s.keys("new")...).Result(); n != 0 {
		t.Errorf("carrying nothing made %d keys", n)
	}
}

// Every key of an organization carries its hash tag, and all of them
// expire together, when nothing in them counts any more.
func TestRedisStoreKeys(t *testing.T) {
	ctx := context.Background()
	c := newRedisClient(t, redistest.Start(t))
	s := NewRedisStore(c, RedisOptions{Scale: testScale})
	lim := catalog.Limits{RPM: 1}
	if d, err := s.Admit(ctx, "org-1", lim, Admission{Ticket: "a", Tokens: 5, LeaseTTL: time.Hour, TicketTTL: time.Minute}); err != nil || !d.OK {
		t.Fatal(d, err)
	}
	// A second ticket waits, so that the queue's keys exist too.
	if d, err := s.Admit(ctx, "org-1", lim, Admission{Ticket: "b", Tokens: 5, LeaseTTL: time.Hour, TicketTTL: time.Minute}); err != nil || d.Limit != "rpm" {
		t.Fatal(d, err)
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := s.keys("org-1")
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	// As long as a day's bucket counts, in store time, plus the idle
	// margin.
	span := time.Duration(freedAt(0, dayBucket, day)) * time.Millisecond
	most := time.Duration(float64(span)/testScale) + redisIdleMargin + time.Second
	least := time.Duration(float64(span)/testScale) + redisIdleMargin - 10*time.Second
	for _, k := range keys {
		if !strings.HasPrefix(k, "onesdk:quota:{org-1}:") {
			t.Errorf("key %q: not under the default prefix with the org's hash tag", k)
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil || ttl < least || ttl > most {
			t.Errorf("key %q expires in %v (%v), want within [%v, %v]", k, ttl, err, least, most)
		}
	}
	// A lease longer than a day keeps the keys for as long.
	if d, err := s.Admit(ctx, "org-2", catalog.Limits{}, Admission{Ticket: "a", LeaseTTL: 10 * day, TicketTTL: time.Minute}); err != nil || !d.OK {
		t.Fatal(d, err)
	}
	for _, k := range s.keys("org-2") {
		if ttl, _ := c.PTTL(ctx, k).Result(); ttl > 0 && ttl < time.Duration(float64(10*day)/testScale) {
			t.Errorf("key %q expires in %v, before the lease", k, ttl)
		}
	}
}

// A crowd of waiters that die at once leaves the queue at once.
func TestRedisStoreManyDeadTickets(t *testing.T) {
	ctx := context.Background()
	c := newRedisClient(t, redistest.Start(t))
	s := NewRedisStore(c, RedisOptions{Scale: testScale})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Pipelined, as many processes would ask at once.
	const n = 2500
	pipe := c.Pipeline()
	for i := range n {
		args := append([]any{"admit"}, s.args...)
		args = append(args, fmt.Sprint("t", i), 1, time.Hour.Milliseconds(), (5 * time.Minute).Milliseconds(), 1, 0, 0, 0)
		redisScript.Run(ctx, pipe, s.keys("o"), args...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// More than one slice of them (a slow machine may have lost some).
	if u, err := s.Usage(ctx, "o"); err != nil || u.Waiting <= 1000 || u.Concurrency != 1 {
		t.Fatalf("usage %+v, %v; want over 1000 waiting", u, err)
	}
	time.Sleep(600 * time.Millisecond) // 6 min of store time: the tickets die
	d, err := s.Admit(ctx, "o", catalog.Limits{}, Admission{Ticket: "live", LeaseTTL: time.Hour, TicketTTL: time.Hour})
	if err != nil || !d.OK {
		t.Fatalf("%+v %v", d, err)
	}
	if u, err := s.Usage(ctx, "o"); err != nil || u.Waiting != 0 {
		t.Errorf("usage %+v, %v; want none waiting", u, err)
	}
}

// At scale 1 the store's time is Redis's own: a full RPM waits a minute.
func TestRedisStoreRealTime(t *testing.T) {
	ctx := context.Background()
	s := NewRedisStore(newRedisClient(t, redistest.Start(t)), RedisOptions{})
	lim := catalog.Limits{RPM: 1}
	if d, err := s.Admit(ctx, "o", lim, Admission{Ticket: "a", LeaseTTL: time.Minute, TicketTTL: time.Minute}); err != nil || !d.OK {
		t.Fatal(d, err)
	}
	d, err := s.Admit(ctx, "o", lim, Admission{Ticket: "b", LeaseTTL: time.Minute, TicketTTL: time.Minute})
	if err != nil || d.Limit != "rpm" || d.Wait < minute-time.Second || d.Wait > dur(freedAt(0, minuteBucket, minute)) {
		t.Fatalf("decision %+v, %v: want a wait of a minute for rpm", d, err)
	}
}

// RedisStore makes the same decisions as MemoryStore over a random run of
// operations (carries to a second organization among them) too quick for anything to expire (at scale 1 both clocks are
// the wall clock, so only the waits may differ, by a bucket at most).
func TestRedisStoreLikeMemory(t *testing.T) {
	ctx := context.Background()
	rs := NewRedisStore(newRedisClient(t, redistest.Start(t)), RedisOptions{})
	ms := NewMemoryStore(nil)
	limits := []catalog.Limits{
		{Concurrency: 3, RPM: 40, TPM: 6000, TPD: 12000},
		{RPM: 60, TPM: 4000},
		{Concurrency: 4, TPD: 8000},
		{},
	}
	r := rand.New(rand.NewPCG(1, 2))
	type held struct{ mem, red string }
	var leases []held
	stats := map[string]int{} // decisions by limit ("" when admitted)
	defer func() { t.Log(stats) }()
	check := func(i int, op string) {
		t.Helper()
		for _, org := range []string{"o", "p"} {
			um, _ := ms.Usage(ctx, org)
			ur, err := rs.Usage(ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			if ur != um {
				t.Fatalf("op %d (%s): usage of %s %+v, memory's %+v", i, op, org, ur, um)
			}
		}
	}
	for i := range 600 {
		switch n := r.IntN(20); {
		case n < 10:
			lim := limits[r.IntN(len(limits))]
			a := Admission{Ticket: fmt.Sprint("t", r.IntN(4)), Tokens: r.IntN(400), LeaseTTL: time.Hour, TicketTTL: time.Hour}
			dm, _ := ms.Admit(ctx, "o", lim, a)
			dr, err := rs.Admit(ctx, "o", lim, a)
			if err != nil {
				t.Fatal(err)
			}
			// The clocks may fall either side of a bucket's boundary.
			slack := minuteBucket + 100*time.Millisecond
			if dm.Limit == "tpd" {
				slack = dayBucket + 100*time.Millisecond
			}
			if diff := dr.Wait - dm.Wait; dr.OK != dm.OK || dr.Limit != dm.Limit || diff < -slack || diff > slack {
				t.Fatalf("op %d: admit %+v under %+v: %+v, memory's %+v", i, a, lim, dr, dm)
			}
			if dr.OK {
				if dr.Lease != a.Ticket {
					t.Errorf("lease %q is not of ticket %q", dr.Lease, a.Ticket)
				}
				leases = append(leases, held{dm.Lease, dr.Lease})
			}
			stats[dr.Limit]++
			check(i, "admit")
		case n < 15 && len(leases) > 0:
			j := r.IntN(len(leases))
			ms.Release(ctx, "o", leases[j].mem)
			if err := rs.Release(ctx, "o", leases[j].red); err != nil {
				t.Fatal(err)
			}
			leases = slices.Delete(leases, j, j+1)
			check(i, "release")
		case n < 18:
			tk := fmt.Sprint("t", r.IntN(4))
			ms.Leave(ctx, "o", tk)
			if err := rs.Leave(ctx, "o", tk); err != nil {
				t.Fatal(err)
			}
			check(i, "leave")
		case n == 19:
			ms.Carry(ctx, "o", "p")
			if err := rs.Carry(ctx, "o", "p"); err != nil {
				t.Fatal(err)
			}
			check(i, "carry")
		case len(leases) > 0:
			j := r.IntN(len(leases))
			okm, _ := ms.Renew(ctx, "o", leases[j].mem, time.Hour)
			okr, err := rs.Renew(ctx, "o", leases[j].red, time.Hour)
			if err != nil || okm != okr {
				t.Fatalf("op %d: renew %v %v, memory's %v", i, okr, err, okm)
			}
			check(i, "renew")
		}
	}
	// A cooldown stops everything, a shorter one does not cut it.
	for _, d := range []time.Duration{time.Hour, time.Minute} {
		ms.Cooldown(ctx, "o", d)
		if err := rs.Cooldown(ctx, "o", d); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []Store{ms, rs} {
		for i := range 4 {
			if err := s.Leave(ctx, "o", fmt.Sprint("t", i)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := s.Admit(ctx, "o", catalog.Limits{}, Admission{Ticket: "t0", LeaseTTL: time.Hour, TicketTTL: time.Hour})
		u, _ := s.Usage(ctx, "o")
		if err != nil || d.Limit != "cooldown" || d.Wait < time.Hour-time.Second || d.Wait > time.Hour ||
			u.Cooldown < time.Hour-time.Second || u.Cooldown > time.Hour {
			t.Errorf("%T under a cooldown: %+v %v, usage %+v", s, d, err, u)
		}
	}

	// Renewing or releasing what is not there is no error.
	if ok, err := rs.Renew(ctx, "o", "nope", time.Hour); ok || err != nil {
		t.Errorf("renew of an unknown lease: %v %v", ok, err)
	}
	if ok, err := rs.Renew(ctx, "nobody", "nope", time.Hour); ok || err != nil {
		t.Errorf("renew in an unknown org: %v %v", ok, err)
	}
	if u, err := rs.Usage(ctx, "nobody"); u != (Usage{}) || err != nil {
		t.Errorf("usage of an unknown org: %+v %v", u, err)
	}
}

// commandCounter counts the commands a client sends, by name.
type commandCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *commandCounter) add(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		h.n[c.Name()]++
	}
}

func (h *commandCounter) take() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.n
	h.n = map[string]int{}
	return n
}

func (h *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd)
		return next(ctx, cmd)
	}
}

func (h *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.add(cmds...)
		return next(ctx, cmds)
	}
}

// An admission is one round trip: one EVALSHA, admitted or not; a server
// that lost the script gets it once by EVAL.
func TestRedisAdmitOneRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newRedisClient(t, redistest.Start(t))
	h := &commandCounter{n: map[string]int{}}
	c.AddHook(h)
	s := NewRedisStore(c, RedisOptions{Scale: testScale})
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	h.take()
	lim := catalog.Limits{Concurrency: 2}
	for i := range 5 {
		if _, err := s.Admit(ctx, "o", lim, Admission{Ticket: fmt.Sprint(i), LeaseTTL: time.Hour, TicketTTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.take(); len(n) != 1 || n["evalsha"] != 5 {
		t.Errorf("5 admissions sent %v, want 5 evalsha", n)
	}

	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	h.take()
	for i := range 2 {
		if _, err := s.Admit(ctx, "o", lim, Admission{Ticket: fmt.Sprint(i), LeaseTTL: time.Hour, TicketTTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	if n := h.take(); len(n) != 2 || n["evalsha"] != 2 || n["eval"] != 1 {
		t.Errorf("2 admissions after SCRIPT FLUSH sent %v, want 2 evalsha and 1 eval", n)
	}
}

// Two Limiters, as two processes on clients of their own, share one
// budget: together they never exceed it.
func TestRedisSharedBudget(t *testing.T) {
	const scale = 60 // a minute in a second: slow enough to time on a busy machine
	const rpm, conc = 6, 2
	addr := redistest.Start(t)
	lim := catalog.Limits{RPM: rpm, Concurrency: conc}
	limiters := make([]*Limiter, 2)
	for i := range limiters {
		limiters[i] = New(Config{
			Limits: lim, Org: "shared",
			Store: NewRedisStore(newRedisClient(t, addr), RedisOptions{Scale: scale}),
			Clock: ScaledClock(scale),
		})
	}

	var (
		mu       sync.Mutex
		admitted []time.Time // real time
		per      [2]int
		inFlight atomic.Int32
		most     atomic.Int32
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	for w := range 6 {
		wg.Go(func() {
			l := limiters[w%2]
			for {
				p, err := l.Acquire(ctx, 1)
				if err != nil {
					if ctx.Err() == nil {
						t.Errorf("acquire: %v", err)
					}
					return
				}
				n := inFlight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				mu.Lock()
				admitted = append(admitted, time.Now())
				per[w%2]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				inFlight.Add(-1) // before the store frees the slot
				p.Release()
			}
		})
	}
	wg.Wait()

	if m := most.Load(); m > conc {
		t.Errorf("%d requests at once, want at most %d", m, conc)
	}
	// The store's window is a minute of its time, a second here; the
	// check allows a tenth of it between Redis's admission and its
	// recording here.
	window := time.Duration(float64(minute) / scale * 0.9)
	for i, at := range admitted {
		n := 0
		for _, b := range admitted[i:] {
			if b.Sub(at) < window {
				n++
			}
		}
		if n > rpm {
			t.Errorf("%d admissions within %v of admission %d, want at most %d", n, window, i, rpm)
		}
	}
	// In 2.5 minutes of store time, the budget of at least two.
	if len(admitted) < 2*rpm || per[0] == 0 || per[1] == 0 {
		t.Errorf("admitted %d (%d and %d), want at least %d, from both", len(admitted), per[0], per[1], 2*rpm)
	}
}

// An unreachable Redis: Admit returns the client's error as is; a Limiter
// fails closed with ErrUnavailable, or open on its local share.
func TestRedisUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{
		Addr: addr, DialTimeout: 100 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond,
		MaxRetries: -1, DialerRetries: 1,
	})
	t.Cleanup(func() { c.Close() })
	store := NewRedisStore(c, RedisOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err = store.Admit(ctx, "o", catalog.Limits{}, Admission{Ticket: "a", LeaseTTL: time.Minute, TicketTTL: time.Minute})
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Admit: %v, want the dial's error", err)
	}

	start := time.Now()
	closed := New(Config{Limits: catalog.Limits{RPM: 10}, Store: store})
	if p, err := closed.Acquire(ctx, 1); !errors.Is(err, ErrUnavailable) || p != nil {
		t.Errorf("fail closed: %v, %v; want ErrUnavailable", p, err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("failing closed took %v", took)
	}

	open := New(Config{Limits: catalog.Limits{RPM: 10}, Store: store, FailOpen: true})
	p, err := open.Acquire(ctx, 1)
	if err != nil || p == nil {
		t.Fatalf("fail open: %v, %v; want a local permit", p, err)
	}
	if !open.Degraded() {
		t.Error("not Degraded while the store fails")
	}
	p.Release()
}

func BenchmarkRedisAdmit(b *testing.B) {
	s := NewRedisStore(newRedisClient(b, redistest.Start(b)), RedisOptions{})
	if err := s.Ping(context.Background()); err != nil {
		b.Fatal(err)
	}
	benchmarkAdmit(b, s)
}

func BenchmarkMemoryAdmit(b *testing.B) {
	benchmarkAdmit(b, NewMemoryStore(nil))
}

// benchmarkAdmit is one admission and its release per op, under limits
// that admit them all.
func benchmarkAdmit(b *testing.B, s Store) {
	ctx := context.Background()
	lim := catalog.Limits{Concurrency: 100, RPM: 1 << 40, TPM: 1 << 50, TPD: 1 << 60}
	i := 0
	for b.Loop() {
		i++
		d, err := s.Admit(ctx, "o", lim, Admission{Ticket: fmt.Sprint(i), Tokens: 100, LeaseTTL: time.Minute, TicketTTL: time.Minute})
		if err != nil || !d.OK {
			b.Fatal(d, err)
		}
		if err := s.Release(ctx, "o", d.Lease); err != nil {
			b.Fatal(err)
		}
	}
}
