package kimitest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// Limits are an account's rate limits, shared by all its keys and models
// (https://platform.moonshot.ai/docs/pricing/limits): package catalog's,
// which package quota reads too. A zero field means that dimension is
// unlimited.
type Limits = catalog.Limits

// FreeTier returns the free tier of Moonshot's 2025 rate-limit table.
func FreeTier() Limits {
	l, _ := catalog.Tier("free")
	return l
}

// Tiers returns Moonshot's published tier tables (catalog.Tiers), keyed
// by name: "free" and "tier1".."tier5" from the 2025 docs,
// "2026-tier0".."2026-tier5" from the 2026 docs. The map is the caller's
// to change.
func Tiers() map[string]Limits { return catalog.Tiers() }

const (
	minuteWindow = time.Minute
	dayWindow    = 24 * time.Hour
	// Admissions are summed per bucket of emulated time, so that an
	// account's state is bounded by window/bucket (60 and 1,440 buckets),
	// not by its request rate.
	minuteBucket = time.Second
	dayBucket    = time.Minute
)

// limiter enforces Limits per account over the emulated clock.
//
// Windows are sliding, not fixed: Kimi does not document which it uses, a
// sliding window never lets a client exceed a limit across a window
// boundary (a fixed window allows 2x bursts there), and it gives a
// "try again after" value. Each window sums admissions per bucket (a
// second of the minute, a minute of the day); a bucket expires one window
// after its latest admission, so capacity frees up at most a bucket late,
// never early. An account without limits is not tracked at all.
type limiter struct {
	clock *clock
	// retryAfterHeader adds a Retry-After header to 429s
	// (WithRetryAfterHeader). Kimi sends none; the hint is always in the
	// message.
	retryAfterHeader bool

	mu       sync.Mutex
	accounts map[string]*accountUsage
}

type accountUsage struct {
	inflight int
	minute   window
	day      window
}

// window is the admissions of the last span of emulated time, summed per
// bucket, oldest bucket first.
type window struct {
	span, bucket time.Duration
	log          []bucket
	reqs, tokens int // sums over log
}

// bucket is the admissions of one bucket of emulated time.
type bucket struct {
	slot   int64     // the bucket's index: emulated Unix time / bucket size
	last   time.Time // the latest admission in the bucket
	reqs   int
	tokens int
}

// noRelease is the release of a request that holds no limiter state.
func noRelease() {}

func newLimiter(c *clock) *limiter {
	if c == nil {
		c = newClock(1)
	}
	return &limiter{clock: c, accounts: map[string]*accountUsage{}}
}

// admitAs charges one request against RPM, one in-flight slot against
// Concurrency and tokens (prompt_tokens + max_tokens) against TPM and TPD.
// Usage is counted under account (an organization's primary key, which
// all its keys share); a refusal names ak, the access-key id of the key
// the request was made with. Dimensions are checked in the order
// concurrency, RPM, TPM, TPD and the first that trips is reported. A
// refused request consumes nothing. With no limits at all, nothing is
// recorded.
//
// On success it returns release, to be called once the response has
// finished (further calls are no-ops). On refusal it returns a 429
// rate_limit_reached_error with the message texts of the 2026 error docs.
func (l *limiter) admitAs(account, orgID, ak string, lim Limits, tokens int) (release func(), err *apiError) {
	if lim == (Limits{}) {
		return noRelease, nil
	}
	if tokens < 0 {
		tokens = 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[account]
	if a == nil {
		a = &accountUsage{
			minute: window{span: minuteWindow, bucket: minuteBucket},
			day:    window{span: dayWindow, bucket: dayBucket},
		}
		l.accounts[account] = a
	}
	a.prune(now)

	who := func() string {
		return "Your account " + orgID + "<" + ak + "> request reached organization "
	}
	if lim.Concurrency > 0 && a.inflight >= lim.Concurrency {
		// When a slot frees is unknowable (it depends on other responses),
		// so say 0 seconds, as live Kimi has been seen to do.
		return nil, l.refuse(who()+fmt.Sprintf("max concurrency: %d, please try again after 0 seconds", lim.Concurrency), 0)
	}
	if lim.RPM > 0 && a.minute.reqs >= lim.RPM {
		// Enough of the oldest admissions must age out to leave one slot.
		s := l.realSeconds(a.minute.wait(func(b bucket, reqs, _ int) bool { return reqs-b.reqs < lim.RPM }, now))
		return nil, l.refuse(who()+fmt.Sprintf("max RPM: %d, please try again after %d seconds", lim.RPM, s), s)
	}
	if lim.TPM > 0 && a.minute.tokens+tokens > lim.TPM {
		// "current" includes this request, as in live reports where it
		// exceeds the limit (e.g. "current: 64001, limit: 64000").
		msg := who() + fmt.Sprintf("TPM rate limit, current:%d, limit:%d", a.minute.tokens+tokens, lim.TPM)
		return nil, l.refuse(msg, l.tokenWait(&a.minute, tokens, lim.TPM, now))
	}
	if lim.TPD > 0 && a.day.tokens+tokens > lim.TPD {
		msg := who() + fmt.Sprintf("TPD rate limit, current:%d, limit:%d", a.day.tokens+tokens, lim.TPD)
		return nil, l.refuse(msg, l.tokenWait(&a.day, tokens, lim.TPD, now))
	}

	a.inflight++
	a.minute.add(now, tokens)
	a.day.add(now, tokens)

	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			a.inflight--
			l.mu.Unlock()
		})
	}, nil
}

// usage reports an account's current consumption, for tests and
// introspection.
func (l *limiter) usage(account string) (inflight, rpm, tpm, tpd int) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[account]
	if a == nil {
		return 0, 0, 0, 0
	}
	a.prune(now)
	return a.inflight, a.minute.reqs, a.minute.tokens, a.day.tokens
}

// prune drops buckets that have left their window.
func (a *accountUsage) prune(now time.Time) {
	a.minute.prune(now)
	a.day.prune(now)
}

// add records one admission of tokens at now.
func (w *window) add(now time.Time, tokens int) {
	slot := now.UnixNano() / int64(w.bucket)
	if n := len(w.log); n > 0 && w.log[n-1].slot == slot {
		b := &w.log[n-1]
		b.last = now
		b.reqs++
		b.tokens += tokens
	} else {
		w.log = append(w.log, bucket{slot: slot, last: now, reqs: 1, tokens: tokens})
	}
	w.reqs++
	w.tokens += tokens
}

func (w *window) prune(now time.Time) {
	i := 0
	for i < len(w.log) && !w.log[i].last.Add(w.span).After(now) {
		w.reqs -= w.log[i].reqs
		w.tokens -= w.log[i].tokens
		i++
	}
	if i == len(w.log) {
		w.log = w.log[:0] // reuse the array
	} else {
		w.log = w.log[i:]
	}
}

// wait returns the emulated time until the oldest buckets up to the first
// for which enough(b, reqs, tokens) holds have left the window; reqs and
// tokens are the sums still in the window before b leaves it.
func (w *window) wait(enough func(b bucket, reqs, tokens int) bool, now time.Time) time.Duration {
	reqs, tokens := w.reqs, w.tokens
	for _, b := range w.log {
		if enough(b, reqs, tokens) {
			return b.last.Add(w.span).Sub(now)
		}
		reqs -= b.reqs
		tokens -= b.tokens
	}
	return w.span // unreachable while enough holds for an empty window
}

// tokenWait returns the real seconds until enough buckets leave the window
// for tokens to fit under limit, or -1 if they never can (tokens alone
// exceed the limit).
func (l *limiter) tokenWait(w *window, tokens, limit int, now time.Time) int {
	if tokens > limit {
		return -1
	}
	return l.realSeconds(w.wait(func(b bucket, _, used int) bool { return used-b.tokens+tokens <= limit }, now))
}

// realSeconds converts an emulated wait into whole real seconds, rounded up
// and at least 1, since that is what a client has to sleep.
func (l *limiter) realSeconds(wait time.Duration) int {
	s := math.Ceil(l.clock.Real(wait).Seconds())
	if s < 1 {
		return 1
	}
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}

// refuse builds the 429. retryAfter < 0 means retrying cannot help, so no
// Retry-After header is sent.
func (l *limiter) refuse(msg string, retryAfter int) *apiError {
	e := &apiError{Status: http.StatusTooManyRequests, Type: "rate_limit_reached_error", Message: msg}
	if l.retryAfterHeader && retryAfter >= 0 {
		e.Header = http.Header{"Retry-After": {strconv.Itoa(retryAfter)}}
	}
	return e
}

// akID derives the stable, non-secret access-key id shown in rate-limit
// messages. account may be the API key itself, so only a truncated hash of
// it is ever shown.
func akID(account string) string {
	sum := sha256.Sum256([]byte("kimitest-ak\x00" + account))
	return "ak-" + hex.EncodeToString(sum[:10])
}
