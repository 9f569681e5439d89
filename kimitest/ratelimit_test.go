package kimitest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// limitServer is a trivial endpoint guarded by a limiter: the account comes
// from X-Account, the token charge from ?tokens=, and ?hold keeps the
// request in flight until unhold is closed.
type limitServer struct {
	*httptest.Server
	l        *limiter
	admitted chan struct{}
	unhold   chan struct{}
}

func newLimitServer(t *testing.T, l *limiter, lim Limits) *limitServer {
	t.Helper()
	s := &limitServer{l: l, admitted: make(chan struct{}, 16), unhold: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokens, _ := strconv.Atoi(r.URL.Query().Get("tokens"))
		acct := r.Header.Get("X-Account")
		release, err := l.admitAs(acct, "org-test", akID(acct), lim, tokens)
		if err != nil {
			writeError(w, err)
			return
		}
		defer release()
		if r.URL.Query().Has("hold") {
			s.admitted <- struct{}{}
			select {
			case <-s.unhold:
			case <-r.Context().Done():
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(s.Close)
	return s
}

type limitResult struct {
	status     int
	retryAfter []string
	typ, msg   string
}

// try makes one request; it is safe to use from any goroutine.
func (s *limitServer) try(account string, tokens int, hold bool) (limitResult, error) {
	u := s.URL + "/?tokens=" + strconv.Itoa(tokens)
	if hold {
		u += "&hold"
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return limitResult{}, err
	}
	req.Header.Set("X-Account", account)
	resp, err := s.Client().Do(req)
	if err != nil {
		return limitResult{}, err
	}
	defer resp.Body.Close()
	var env struct {
		Error struct{ Type, Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return limitResult{}, err
	}
	return limitResult{resp.StatusCode, resp.Header.Values("Retry-After"), env.Error.Type, env.Error.Message}, nil
}

func (s *limitServer) call(t *testing.T, account string, tokens int, hold bool) limitResult {
	t.Helper()
	r, err := s.try(account, tokens, hold)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r limitResult) wantOK(t *testing.T) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("got %d %s: %s, want 200", r.status, r.typ, r.msg)
	}
}

func (r limitResult) want429(t *testing.T, msg, retryAfter string) {
	t.Helper()
	if r.status != 429 || r.typ != "rate_limit_reached_error" || r.msg != msg {
		t.Fatalf("got %d %s %q\nwant 429 rate_limit_reached_error %q", r.status, r.typ, r.msg, msg)
	}
	var want []string
	if retryAfter != "" {
		want = []string{retryAfter}
	}
	if fmt.Sprint(r.retryAfter) != fmt.Sprint(want) {
		t.Fatalf("Retry-After = %q, want %q", r.retryAfter, want)
	}
}

// hintingLimiter is a limiter that sends Retry-After, as
// WithRetryAfterHeader asks.
func hintingLimiter(c *clock) *limiter {
	l := newLimiter(c)
	l.retryAfterHeader = true
	return l
}

func prefix(account string) string {
	return "Your account org-test<" + akID(account) + "> request reached organization "
}

func sleepEmulated(t *testing.T, c *clock, d time.Duration) {
	t.Helper()
	if err := c.Sleep(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

func TestLimiterRPM(t *testing.T) {
	t.Parallel()
	c := newClock(20) // one emulated minute per three real seconds
	s := newLimitServer(t, hintingLimiter(c), Limits{RPM: 3})
	for range 3 {
		s.call(t, "a", 10, false).wantOK(t)
	}
	// The window is 3 real seconds minus the little spent so far; rounded up.
	s.call(t, "a", 10, false).want429(t, prefix("a")+"max RPM: 3, please try again after 3 seconds", "3")
	s.call(t, "b", 10, false).wantOK(t) // accounts are independent
	if _, rpm, tpm, _ := s.l.usage("a"); rpm != 3 || tpm != 30 {
		t.Fatalf("usage after refusal: rpm=%d tpm=%d, want 3, 30", rpm, tpm)
	}
	sleepEmulated(t, c, time.Minute)
	s.call(t, "a", 10, false).wantOK(t)
}

func TestLimiterRPMRetrySecondsAreReal(t *testing.T) {
	t.Parallel()
	// At real time the wait is a whole minute: 59 or 60 seconds depending
	// on rounding of the time spent between the two requests.
	s := newLimitServer(t, hintingLimiter(newClock(1)), Limits{RPM: 1})
	s.call(t, "a", 0, false).wantOK(t)
	r := s.call(t, "a", 0, false)
	m := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix("a")) + `max RPM: 1, please try again after (59|60) seconds$`).FindStringSubmatch(r.msg)
	if r.status != 429 || m == nil {
		t.Fatalf("got %d %q", r.status, r.msg)
	}
	r.want429(t, r.msg, m[1])
}

func TestLimiterTPM(t *testing.T) {
	t.Parallel()
	c := newClock(20)
	s := newLimitServer(t, hintingLimiter(c), Limits{TPM: 1000})
	s.call(t, "a", 600, false).wantOK(t)
	s.call(t, "a", 500, false).want429(t, prefix("a")+"TPM rate limit, current:1100, limit:1000", "3")
	s.call(t, "a", 400, false).wantOK(t) // exactly at the limit; the refusal charged nothing
	if _, rpm, tpm, tpd := s.l.usage("a"); rpm != 2 || tpm != 1000 || tpd != 1000 {
		t.Fatalf("usage: rpm=%d tpm=%d tpd=%d, want 2, 1000, 1000", rpm, tpm, tpd)
	}
	// A request that can never fit: TPM message, no Retry-After since
	// waiting does not help.
	s.call(t, "big", 1001, false).want429(t, prefix("big")+"TPM rate limit, current:1001, limit:1000", "")

	sleepEmulated(t, c, time.Minute)
	s.call(t, "a", 1000, false).wantOK(t)
}

func TestLimiterTPD(t *testing.T) {
	t.Parallel()
	c := newClock(86400 / 3) // one emulated day per three real seconds
	s := newLimitServer(t, hintingLimiter(c), Limits{TPD: 1000})
	s.call(t, "a", 1000, false).wantOK(t)
	r := s.call(t, "a", 1, false)
	if n, err := strconv.Atoi(strings.Join(r.retryAfter, ",")); err != nil || n < 1 || n > 3 {
		t.Fatalf("Retry-After = %q, want 1..3 (seconds left of a 3s day)", r.retryAfter)
	}
	r.want429(t, prefix("a")+"TPD rate limit, current:1001, limit:1000", r.retryAfter[0])
	s.call(t, "a", 2000, false).want429(t, prefix("a")+"TPD rate limit, current:3000, limit:1000", "")

	// Day buckets expire 24h after their last charge (at most a minute
	// late), so step past that.
	sleepEmulated(t, c, 24*time.Hour+time.Minute)
	s.call(t, "a", 1000, false).wantOK(t)
	if _, _, _, tpd := s.l.usage("a"); tpd != 1000 {
		t.Fatalf("tpd = %d, want 1000", tpd)
	}
}

func TestLimiterConcurrency(t *testing.T) {
	t.Parallel()
	s := newLimitServer(t, hintingLimiter(newClock(1)), Limits{Concurrency: 1})
	first := make(chan limitResult, 1)
	go func() {
		r, err := s.try("a", 0, true)
		if err != nil {
			r.msg = err.Error()
		}
		first <- r
	}()
	<-s.admitted
	if in, _, _, _ := s.l.usage("a"); in != 1 {
		t.Fatalf("inflight = %d, want 1", in)
	}
	s.call(t, "a", 0, false).want429(t, prefix("a")+"max concurrency: 1, please try again after 0 seconds", "0")
	close(s.unhold)
	(<-first).wantOK(t)
	// The handler released its slot before the response completed.
	s.call(t, "a", 0, false).wantOK(t)
	if in, rpm, _, _ := s.l.usage("a"); in != 0 || rpm != 2 {
		t.Fatalf("inflight=%d rpm=%d, want 0, 2 (refusal not counted)", in, rpm)
	}
}

func TestLimiterReleaseIdempotent(t *testing.T) {
	l := newLimiter(newClock(1))
	lim := Limits{Concurrency: 2}
	r1, err := l.admitAs("a", "org", akID("a"), lim, 0)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := l.admitAs("a", "org", akID("a"), lim, 0)
	if err != nil {
		t.Fatal(err)
	}
	r1()
	r1()
	if in, _, _, _ := l.usage("a"); in != 1 {
		t.Fatalf("inflight after double release = %d, want 1", in)
	}
	if _, err := l.admitAs("a", "org", akID("a"), lim, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := l.admitAs("a", "org", akID("a"), lim, 0); err == nil {
		t.Fatal("third concurrent request admitted")
	}
	r2()
}

func TestLimiterRefusedConsumesNothing(t *testing.T) {
	l := newLimiter(newClock(1))
	lim := Limits{Concurrency: 2, RPM: 2, TPM: 100, TPD: 150}
	check := func(wantIn, wantRPM, wantTPM, wantTPD int) {
		t.Helper()
		in, rpm, tpm, tpd := l.usage("a")
		if in != wantIn || rpm != wantRPM || tpm != wantTPM || tpd != wantTPD {
			t.Fatalf("usage = %d %d %d %d, want %d %d %d %d", in, rpm, tpm, tpd, wantIn, wantRPM, wantTPM, wantTPD)
		}
	}
	release, err := l.admitAs("a", "org", akID("a"), lim, 60)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.admitAs("a", "org", akID("a"), lim, 60); err == nil || !strings.Contains(err.Message, "TPM") {
		t.Fatalf("want TPM refusal, got %v", err)
	}
	check(1, 1, 60, 60)
	if _, err := l.admitAs("a", "org", akID("a"), lim, 40); err != nil {
		t.Fatal(err)
	}
	check(2, 2, 100, 100)
	if _, err := l.admitAs("a", "org", akID("a"), lim, 0); err == nil || !strings.Contains(err.Message, "concurrency") {
		t.Fatalf("want concurrency refusal (checked first), got %v", err)
	}
	release()
	if _, err := l.admitAs("a", "org", akID("a"), lim, 0); err == nil || !strings.Contains(err.Message, "RPM") {
		t.Fatalf("want RPM refusal, got %v", err)
	}
	check(1, 2, 100, 100)
}

func TestLimiterRetryAfterSwitch(t *testing.T) {
	t.Parallel()
	// The default, as on Kimi: the wait is in the message only.
	s := newLimitServer(t, newLimiter(newClock(20)), Limits{RPM: 1})
	s.call(t, "a", 0, false).wantOK(t)
	s.call(t, "a", 0, false).want429(t, prefix("a")+"max RPM: 1, please try again after 3 seconds", "")
}

func TestLimiterParallelExactCount(t *testing.T) {
	t.Parallel()
	s := newLimitServer(t, hintingLimiter(newClock(1)), Limits{RPM: 25, TPM: 1000})
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 60 {
		wg.Go(func() {
			r, err := s.try("a", 10, false)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			counts[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[200] != 25 || counts[429] != 35 {
		t.Fatalf("statuses = %v, want 25x200 and 35x429", counts)
	}
	if in, rpm, tpm, _ := s.l.usage("a"); in != 0 || rpm != 25 || tpm != 250 {
		t.Fatalf("usage: inflight=%d rpm=%d tpm=%d", in, rpm, tpm)
	}
}

func TestLimiterAccessKeyID(t *testing.T) {
	key := "sk-0123456789abcdefSECRET"
	id := akID(key)
	if !regexp.MustCompile(`^ak-[0-9a-f]{20}$`).MatchString(id) || id != akID(key) || id == akID(key+"x") {
		t.Fatalf("akID = %q: want stable, distinct, ak-<20 hex>", id)
	}
	// Through the emulator's admission, which takes the id from the account.
	e := New(WithAccount(Account{Key: key, Limits: Limits{RPM: 1}}))
	defer e.Close()
	a := e.accounts[key]
	e.admit(a, 0)
	_, err := e.admit(a, 0)
	if err == nil || strings.Contains(err.Message, "SECRET") || !strings.Contains(err.Message, "<"+id+">") {
		t.Fatalf("message %v must name %s and not leak the key", err, id)
	}
}

func TestLimiterUnlimited(t *testing.T) {
	l := newLimiter(newClock(1))
	for range 100 {
		if _, err := l.admitAs("a", "org", akID("a"), Limits{}, 1<<30); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTiersTable checks the published tables, written here as in the docs:
// name, concurrency, RPM, TPM, TPD (0 is unlimited).
func TestTiersTable(t *testing.T) {
	const table = `
free           1     3   32000  1500000
tier1         50   200  128000 10000000
tier2        100   500  128000 20000000
tier3        200  5000  384000        0
tier4        400  5000  768000        0
tier5       1000 10000 2000000        0
2026-tier0     1     3  500000  1500000
2026-tier1    50   200 2000000        0
2026-tier2   100   500 3000000        0
2026-tier3   200  5000 3000000        0
2026-tier4   400  5000 4000000        0
2026-tier5  1000 10000 5000000        0`
	want := map[string]Limits{}
	for line := range strings.Lines(strings.TrimSpace(table)) {
		var name string
		var l Limits
		if _, err := fmt.Sscan(line, &name, &l.Concurrency, &l.RPM, &l.TPM, &l.TPD); err != nil {
			t.Fatalf("table line %q: %v", line, err)
		}
		want[name] = l
	}
	tiers := Tiers()
	if len(tiers) != len(want) {
		t.Errorf("Tiers has %d entries, want %d", len(tiers), len(want))
	}
	for name, w := range want {
		if got, ok := tiers[name]; !ok || got != w {
			t.Errorf("Tiers()[%q] = %+v, want %+v", name, got, w)
		}
	}
	if FreeTier() != want["free"] {
		t.Errorf("FreeTier() = %+v, want the 2025 free-tier values", FreeTier())
	}
	// Each call returns a copy: a caller's change does not reach others.
	tiers["free"] = Limits{}
	delete(tiers, "tier1")
	if got := Tiers(); got["free"] != want["free"] || len(got) != len(want) {
		t.Errorf("a change to one Tiers() result shows in the next: %+v", got)
	}
}

// A client that has read a stream's [DONE] may send its next request at
// once and find the concurrency slot free: the emulator frees it before
// the last event, not when the handler returns a moment later.
func TestStreamFreesItsSlotBeforeDone(t *testing.T) {
	srv := setup(t, WithLimits(Limits{Concurrency: 1}))
	body := `{"model":"moonshot-v1-8k","stream":true,"messages":[{"role":"user","content":"hi"}]}`
	for i := range 300 {
		req, _ := http.NewRequest("POST", srv.URL+"/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+srv.Key)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("round %d: %d %s", i, resp.StatusCode, b)
		}
		// Stop at [DONE], as a client does, without waiting for the end
		// of the body.
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && sc.Text() != "data: [DONE]" {
		}
		resp.Body.Close()
	}
}
