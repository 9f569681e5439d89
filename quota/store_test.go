package quota

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// testScale runs the stores' clocks 600 times as fast as the wall clock:
// a minute passes in 100 ms. Nothing asserts a duration of real time.
const testScale = 600

// storeSuite is what every Store must do, run against each of them with
// a store whose clock runs at testScale.
func storeSuite(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	adm := func(ticket string, tokens int) Admission {
		return Admission{Ticket: ticket, Tokens: tokens, LeaseTTL: time.Hour, TicketTTL: time.Hour}
	}
	admit := func(t *testing.T, s Store, org string, lim catalog.Limits, a Admission) Decision {
		t.Helper()
		d, err := s.Admit(ctx, org, lim, a)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	wantOK := func(t *testing.T, d Decision) {
		t.Helper()
		if !d.OK || d.Lease == "" {
			t.Fatalf("decision %+v, want admitted with a lease", d)
		}
	}
	wantWait := func(t *testing.T, d Decision, limit string, most time.Duration) {
		t.Helper()
		if d.OK || d.Limit != limit || d.Wait <= 0 || d.Wait > most {
			t.Fatalf("decision %+v, want a wait of at most %v for %s", d, most, limit)
		}
	}
	t.Run("rpm", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{RPM: 3}
		for i := range 3 {
			d := admit(t, s, "o", lim, adm(fmt.Sprint("t", i), 1))
			wantOK(t, d)
			s.Release(ctx, "o", d.Lease)
		}
		// The window is 60 s plus at most two buckets.
		wantWait(t, admit(t, s, "o", lim, adm("t3", 1)), "rpm", minute+2*minuteBucket)
		// Another organization has its own budget.
		wantOK(t, admit(t, s, "other", lim, adm("t4", 1)))
		u, err := s.Usage(ctx, "o")
		if err != nil || u.Requests != 3 || u.TokensMin != 3 || u.TokensDay != 3 || u.Waiting != 1 || u.Concurrency != 0 {
			t.Errorf("usage %+v, %v", u, err)
		}
	})
	t.Run("tpm and tpd", func(t *testing.T) {
		s := newStore(t)
		wantOK(t, admit(t, s, "o", catalog.Limits{TPM: 1000}, adm("a", 600)))
		wantWait(t, admit(t, s, "o", catalog.Limits{TPM: 1000}, adm("b", 500)), "tpm", minute+2*minuteBucket)
		s.Leave(ctx, "o", "b")
		wantOK(t, admit(t, s, "o", catalog.Limits{TPM: 1000}, adm("c", 400)))
		wantWait(t, admit(t, s, "o", catalog.Limits{TPD: 1200}, adm("d", 300)), "tpd", day+2*dayBucket)
	})
	t.Run("the window slides", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{RPM: 1}
		wantOK(t, admit(t, s, "o", lim, adm("a", 1)))
		d := admit(t, s, "o", lim, adm("b", 1))
		wantWait(t, d, "rpm", minute+2*minuteBucket)
		time.Sleep(time.Duration(float64(d.Wait)/testScale) + 20*time.Millisecond)
		wantOK(t, admit(t, s, "o", lim, adm("b", 1)))
	})
	t.Run("concurrency and release", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{Concurrency: 1}
		d := admit(t, s, "o", lim, adm("a", 1))
		wantOK(t, d)
		wantWait(t, admit(t, s, "o", lim, adm("b", 1)), "concurrency", time.Hour)
		if err := s.Release(ctx, "o", d.Lease); err != nil {
			t.Fatal(err)
		}
		wantOK(t, admit(t, s, "o", lim, adm("b", 1)))
	})
	t.Run("a lease expires unless renewed", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{Concurrency: 1}
		a := adm("a", 1)
		a.LeaseTTL = 30 * time.Second // 50 ms real
		d := admit(t, s, "o", lim, a)
		wantOK(t, d)
		for range 3 {
			time.Sleep(25 * time.Millisecond)
			if ok, err := s.Renew(ctx, "o", d.Lease, 30*time.Second); !ok || err != nil {
				t.Fatalf("renew: %v %v", ok, err)
			}
		}
		wantWait(t, admit(t, s, "o", lim, adm("b", 1)), "concurrency", time.Hour)
		time.Sleep(80 * time.Millisecond) // the worker "died"
		wantOK(t, admit(t, s, "o", lim, adm("b", 1)))
		if ok, _ := s.Renew(ctx, "o", d.Lease, time.Minute); ok {
			t.Error("an expired lease was renewed")
		}
	})
	t.Run("first come, first served", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{TPM: 1000}
		wantOK(t, admit(t, s, "o", lim, adm("a", 900)))
		// big waits for the window; small would fit now, but is behind.
		wantWait(t, admit(t, s, "o", lim, adm("big", 500)), "tpm", minute+2*minuteBucket)
		wantWait(t, admit(t, s, "o", lim, adm("small", 50)), "queue", time.Hour)
		s.Leave(ctx, "o", "big")
		wantOK(t, admit(t, s, "o", lim, adm("small", 50)))
	})
	t.Run("a dead ticket leaves the queue", func(t *testing.T) {
		s := newStore(t)
		lim := catalog.Limits{TPM: 100}
		wantOK(t, admit(t, s, "o", lim, adm("a", 100)))
		dead := adm("dead", 50)
		dead.TicketTTL = 30 * time.Second // 50 ms real, never asked again
		wantWait(t, admit(t, s, "o", lim, dead), "tpm", minute+2*minuteBucket)
		wantWait(t, admit(t, s, "o", catalog.Limits{}, adm("live", 1)), "queue", time.Hour)
		time.Sleep(80 * time.Millisecond)
		wantOK(t, admit(t, s, "o", catalog.Limits{}, adm("live", 1)))
	})
	t.Run("cooldown", func(t *testing.T) {
		s := newStore(t)
		if err := s.Cooldown(ctx, "o", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		s.Cooldown(ctx, "o", time.Second) // a shorter one does not cut it
		wantWait(t, admit(t, s, "o", catalog.Limits{}, adm("a", 1)), "cooldown", 10*time.Second)
		if u, _ := s.Usage(ctx, "o"); u.Cooldown <= time.Second {
			t.Errorf("usage %+v", u)
		}
		wantOK(t, admit(t, s, "other", catalog.Limits{}, adm("b", 1)))
	})
}

func TestMemoryStore(t *testing.T) {
	storeSuite(t, func(t *testing.T) Store { return NewMemoryStore(ScaledClock(testScale)) })
}

// carrySuite: what was admitted under a stand-in name counts once carried.
func carrySuite(t *testing.T, s Store) {
	ctx := context.Background()
	lim := catalog.Limits{RPM: 2, Concurrency: 2}
	a := Admission{Ticket: "a", Tokens: 10, LeaseTTL: time.Hour, TicketTTL: time.Hour}
	d, err := s.Admit(ctx, "default", lim, a)
	if err != nil || !d.OK {
		t.Fatalf("%+v %v", d, err)
	}
	if err := s.Carry(ctx, "default", "org-1"); err != nil {
		t.Fatal(err)
	}
	u, err := s.Usage(ctx, "org-1")
	if err != nil || u.Requests != 1 || u.TokensMin != 10 || u.TokensDay != 10 || u.Concurrency != 1 {
		t.Errorf("carried usage %+v, %v", u, err)
	}
	if err := s.Release(ctx, "org-1", d.Lease); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Usage(ctx, "org-1"); u.Concurrency != 0 {
		t.Errorf("lease not released under the new name: %+v", u)
	}
}

func TestMemoryStoreCarry(t *testing.T) { carrySuite(t, NewMemoryStore(ScaledClock(testScale))) }
