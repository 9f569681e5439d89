package quota_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
	"github.com/onesdk-go/onesdk/quota"
)

// A client held by a Limiter at the emulator's own limits, both on a
// clock 120 times as fast as the wall clock, gets no 429: the limiter
// waits where a plain client would be refused. Streams keep their slot
// until they end.
func TestNoRateLimitErrorsAtTheLimits(t *testing.T) {
	const scale = 120
	lim, _ := catalog.Tier("free") // 1 at a time, 3 a minute, 32k TPM
	srv := kimitest.NewServer(t, kimitest.WithLimits(lim), kimitest.WithTimeScale(scale))
	l := quota.New(quota.Config{Limits: lim, Clock: quota.ScaledClock(scale)})
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client(),
		Retry: &kimi.RetryPolicy{}, Admitter: l.Admitter()}) // no retries: a 429 would surface
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 7 {
		wg.Go(func() {
			req := &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{kimi.UserMessage(fmt.Sprint("question ", i))}}
			if i%2 == 0 {
				st, err := c.Chat.Stream(context.Background(), req)
				if err == nil {
					for st.Next() {
					}
					err = st.Err()
					st.Close()
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("stream %d: %v", i, err)
				}
				return
			}
			if _, err := c.Chat.Create(context.Background(), req); err != nil {
				failed.Add(1)
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if u, err := l.Usage(context.Background()); err != nil || u.Concurrency != 0 || u.Waiting != 0 {
		t.Errorf("after the run: %+v, %v", u, err)
	}
	// The organization was learned from the responses.
	if l.Org() == "default" || l.Org() == "" {
		t.Errorf("org = %q", l.Org())
	}
}

// Waiters are served in arrival order: a large request at the head is
// not overtaken by small ones that would fit sooner.
func TestAcquireFirstComeFirstServed(t *testing.T) {
	l := quota.New(quota.Config{Limits: catalog.Limits{TPM: 1000}, Clock: quota.ScaledClock(600)})
	ctx := context.Background()
	first, err := l.Acquire(ctx, 900)
	if err != nil {
		t.Fatal(err)
	}
	first.Release()
	order := make(chan string, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		p, err := l.Acquire(ctx, 800)
		if err == nil {
			order <- "big"
			p.Release()
		}
	})
	for { // big is in the queue before small arrives
		if u, _ := l.Usage(ctx); u.Waiting == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() {
		p, err := l.Acquire(ctx, 50)
		if err == nil {
			order <- "small"
			p.Release()
		}
	})
	wg.Wait()
	close(order)
	if a, b := <-order, <-order; a != "big" || b != "small" {
		t.Errorf("admitted %s then %s, want big then small", a, b)
	}
}

func TestAcquireTooLarge(t *testing.T) {
	l := quota.New(quota.Config{Limits: catalog.Limits{TPM: 32000, TPD: 1500000}, Headroom: 0.5})
	if got := l.Limits(); got.TPM != 16000 || got.TPD != 750000 {
		t.Errorf("limits after headroom: %+v", got)
	}
	_, err := l.Acquire(context.Background(), 20000)
	if !errors.Is(err, quota.ErrTooLarge) {
		t.Fatalf("err = %v", err)
	}
	// Through the client: refused before sending, as a bad request.
	c := kimi.NewClient(kimi.Config{APIKey: "sk-x", BaseURL: "http://127.0.0.1:1/v1", Admitter: l.Admitter()})
	_, err = c.Chat.Create(context.Background(), &kimi.ChatRequest{Model: "moonshot-v1-8k",
		Messages: []kimi.Message{kimi.UserMessage("hi")}, MaxTokens: kimi.Ptr(30000)})
	if !errors.Is(err, quota.ErrTooLarge) || !errors.Is(err, kimi.ErrBadRequest) {
		t.Errorf("client: %v", err)
	}
}

// A waiter whose context ends leaves the queue at once.
func TestAcquireCancelled(t *testing.T) {
	l := quota.New(quota.Config{Limits: catalog.Limits{Concurrency: 1}})
	ctx := context.Background()
	p, err := l.Acquire(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(cctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if u, _ := l.Usage(ctx); u.Waiting != 0 || u.Concurrency != 1 {
		t.Errorf("usage %+v", u)
	}
}

// failingStore is a Store that cannot be reached.
type failingStore struct{ quota.Store }

var errDown = errors.New("connection refused")

func (failingStore) Admit(context.Context, string, catalog.Limits, quota.Admission) (quota.Decision, error) {
	return quota.Decision{}, errDown
}

func (failingStore) Release(context.Context, string, string) error { return errDown }

func (failingStore) Leave(context.Context, string, string) error { return errDown }

// lostReply is a store whose Admit runs and then loses its answer, as a
// Redis reply cut by a timeout.
type lostReply struct{ quota.Store }

func (s lostReply) Admit(ctx context.Context, org string, lim catalog.Limits, a quota.Admission) (quota.Decision, error) {
	s.Store.Admit(ctx, org, lim, a)
	return quota.Decision{}, errDown
}

// An admission whose reply was lost leaves no concurrency slot taken; a
// request that fits the limits but not the fail-open share still goes.
func TestStoreFailuresFreeAndFit(t *testing.T) {
	ctx := context.Background()
	mem := quota.NewMemoryStore(nil)
	l := quota.New(quota.Config{Limits: catalog.Limits{Concurrency: 1}, Store: lostReply{mem}})
	if _, err := l.Acquire(ctx, 1); !errors.Is(err, quota.ErrUnavailable) {
		t.Fatalf("lost reply: %v", err)
	}
	if u, _ := mem.Usage(ctx, l.Org()); u.Concurrency != 0 || u.Waiting != 0 {
		t.Errorf("after a lost reply: %+v, want no lease and no ticket", u)
	}
	open := quota.New(quota.Config{Limits: catalog.Limits{TPM: 1000}, Store: failingStore{}, FailOpen: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	p, err := open.Acquire(ctx, 800) // more than the share (500), within the limit
	if err != nil {
		t.Fatalf("fail open, 800 of 1000 TPM: %v", err)
	}
	p.Release()
}

func TestStoreDown(t *testing.T) {
	ctx := context.Background()
	closed := quota.New(quota.Config{Limits: catalog.Limits{RPM: 10}, Store: failingStore{}})
	if _, err := closed.Acquire(ctx, 1); !errors.Is(err, quota.ErrUnavailable) || !errors.Is(err, errDown) {
		t.Errorf("fail closed: %v", err)
	}
	var logged strings.Builder
	open := quota.New(quota.Config{Limits: catalog.Limits{RPM: 10}, Store: failingStore{}, FailOpen: true, FailOpenShare: 0.2, Clock: quota.ScaledClock(600),
		Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	for i := range 2 { // the local share: 2 of the 10 a minute
		p, err := open.Acquire(ctx, 1)
		if err != nil {
			t.Fatalf("fail open %d: %v", i, err)
		}
		p.Release()
	}
	if !open.Degraded() {
		t.Error("Degraded() is false while the store is down")
	}
	if n := strings.Count(logged.String(), "store unavailable"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logged.String())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := open.Acquire(short, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third admission within the share: %v", err)
	}
}

// A 429 that still arrives makes everyone wait its hint.
func TestRateLimitBecomesCooldown(t *testing.T) {
	srv := kimitest.NewServer(t, kimitest.WithRule(kimitest.Rule{Match: "busy", Error: &kimitest.RuleError{Status: 429,
		Type: "rate_limit_reached_error", Message: "Your account org<ak> request reached organization max RPM: 3, please try again after 7 seconds"}}))
	l := quota.New(quota.Config{})
	c := kimi.NewClient(kimi.Config{APIKey: srv.Key, BaseURL: srv.URL, HTTPClient: srv.Client(), Retry: &kimi.RetryPolicy{}, Admitter: l.Admitter()})
	_, err := c.Chat.Create(context.Background(), &kimi.ChatRequest{Model: "moonshot-v1-8k", Messages: []kimi.Message{kimi.UserMessage("busy")}})
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("err = %v", err)
	}
	u, _ := l.Usage(context.Background())
	if u.Cooldown <= 5*time.Second || u.Cooldown > 7*time.Second {
		t.Errorf("cooldown %v, want the 7 s hint", u.Cooldown)
	}
}
