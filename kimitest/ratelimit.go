package kimitest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limits are an account's rate limits, shared by all its keys and models
// (https://platform.moonshot.ai/docs/pricing/limits). A zero field means
// that dimension is unlimited.
type Limits struct {
	Concurrency int // requests in flight
	RPM         int // requests per minute
	TPM         int // tokens per minute (prompt + max_tokens, charged at admission)
	TPD         int // tokens per day (same charge)
}

// FreeTier returns the free tier of Moonshot's 2025 rate-limit table.
func FreeTier() Limits { return Limits{Concurrency: 1, RPM: 3, TPM: 32000, TPD: 1500000} }

// Tiers returns Moonshot's published tier tables, keyed by name: "free"
// and "tier1".."tier5" from the 2025 docs, "2026-tier0".."2026-tier5"
// from the 2026 platform.moonshot.ai docs. "unlimited" is 0. The map is
// the caller's to change.
func Tiers() map[string]Limits { return maps.Clone(tiers) }

// tiers is unexported so that no caller can change the published tables
// under other users of the package.
var tiers = map[string]Limits{
	"free":  FreeTier(),
	"tier1": {Concurrency: 50, RPM: 200, TPM: 128000, TPD: 10000000},
	"tier2": {Concurrency: 100, RPM: 500, TPM: 128000, TPD: 20000000},
	"tier3": {Concurrency: 200, RPM: 5000, TPM: 384000},
	"tier4": {Concurrency: 400, RPM: 5000, TPM: 768000},
	"tier5": {Concurrency: 1000, RPM: 10000, TPM: 2000000},

	"2026-tier0": {Concurrency: 1, RPM: 3, TPM: 500000, TPD: 1500000},
	"2026-tier1": {Concurrency: 50, RPM: 200, TPM: 2000000},
	"2026-tier2": {Concurrency: 100, RPM: 500, TPM: 3000000},
	"2026-tier3": {Concurrency: 200, RPM: 5000, TPM: 3000000},
	"2026-tier4": {Concurrency: 400, RPM: 5000, TPM: 4000000},
	"2026-tier5": {Concurrency: 1000, RPM: 10000, TPM: 5000000},
}

const (
	minuteWindow = time.Minute
	dayWindow    = 24 * time.Hour
)

// limiter enforces Limits per account over the emulated clock.
//
// Windows are sliding, not fixed: Kimi does not document which it uses, a
// sliding window never lets a client exceed a limit across a window
// boundary (a fixed window allows 2x bursts there), and it gives an exact
// "try again after" value. The minute window keeps one entry per admitted
// request; the day window aggregates entries per emulated minute to bound
// memory, and a day bucket expires 24h after its last entry, so TPD frees
// up at most a minute late, never early.
type limiter struct {
	clock *clock
	// retryAfterHeader adds a Retry-After header to 429s. Whether real Kimi
	// sends one is undocumented and unverified; the hint is always in the
	// message.
	retryAfterHeader bool

	mu       sync.Mutex
	accounts map[string]*accountUsage
}

type accountUsage struct {
	inflight int
	minute   []charge // admissions within the last minute, oldest first
	minTok   int      // sum of minute[].tokens
	day      []charge // per-minute aggregates within the last day, oldest first
	dayTok   int      // sum of day[].tokens
}

// charge is one admission (minute log) or one emulated minute's admissions
// (day log, at = time of the latest admission in that minute).
type charge struct {
	at     time.Time
	tokens int
}

func newLimiter(c *clock) *limiter {
	if c == nil {
		c = newClock(1)
	}
	return &limiter{clock: c, retryAfterHeader: true, accounts: map[string]*accountUsage{}}
}

// admit charges one request against RPM, one in-flight slot against
// Concurrency and tokens (prompt_tokens + max_tokens) against TPM and TPD.
// Dimensions are checked in the order concurrency, RPM, TPM, TPD and the
// first that trips is reported. A refused request consumes nothing.
//
// On success it returns release, to be called once the response has
// finished (further calls are no-ops). On refusal it returns a 429
// rate_limit_reached_error with the message texts of the 2026 error docs.
func (l *limiter) admit(account, orgID string, lim Limits, tokens int) (release func(), err *apiError) {
	if tokens < 0 {
		tokens = 0
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.accounts[account]
	if a == nil {
		a = &accountUsage{}
		l.accounts[account] = a
	}
	a.prune(now)

	who := "Your account " + orgID + "<" + akID(account) + "> request reached organization "
	if lim.Concurrency > 0 && a.inflight >= lim.Concurrency {
		// When a slot frees is unknowable (it depends on other responses),
		// so say 0 seconds, as live Kimi has been seen to do.
		return nil, l.refuse(who+fmt.Sprintf("max concurrency: %d, please try again after 0 seconds", lim.Concurrency), 0)
	}
	if lim.RPM > 0 && len(a.minute) >= lim.RPM {
		// Enough of the oldest admissions must age out to leave one slot.
		wait := a.minute[len(a.minute)-lim.RPM].at.Add(minuteWindow).Sub(now)
		s := l.realSeconds(wait)
		return nil, l.refuse(who+fmt.Sprintf("max RPM: %d, please try again after %d seconds", lim.RPM, s), s)
	}
	if lim.TPM > 0 && a.minTok+tokens > lim.TPM {
		// "current" includes this request, as in live reports where it
		// exceeds the limit (e.g. "current: 64001, limit: 64000").
		msg := who + fmt.Sprintf("TPM rate limit, current:%d, limit:%d", a.minTok+tokens, lim.TPM)
		return nil, l.refuse(msg, l.tokenWait(a.minute, a.minTok, tokens, lim.TPM, minuteWindow, now))
	}
	if lim.TPD > 0 && a.dayTok+tokens > lim.TPD {
		msg := who + fmt.Sprintf("TPD rate limit, current:%d, limit:%d", a.dayTok+tokens, lim.TPD)
		return nil, l.refuse(msg, l.tokenWait(a.day, a.dayTok, tokens, lim.TPD, dayWindow, now))
	}

	a.inflight++
	a.minute = append(a.minute, charge{now, tokens})
	a.minTok += tokens
	if n := len(a.day); n > 0 && a.day[n-1].at.Truncate(time.Minute).Equal(now.Truncate(time.Minute)) {
		a.day[n-1].at = now
		a.day[n-1].tokens += tokens
	} else {
		a.day = append(a.day, charge{now, tokens})
	}
	a.dayTok += tokens

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
	return a.inflight, len(a.minute), a.minTok, a.dayTok
}

// prune drops charges that have left their window.
func (a *accountUsage) prune(now time.Time) {
	i := 0
	for i < len(a.minute) && !a.minute[i].at.Add(minuteWindow).After(now) {
		a.minTok -= a.minute[i].tokens
		i++
	}
	a.minute = a.minute[i:]
	i = 0
	for i < len(a.day) && !a.day[i].at.Add(dayWindow).After(now) {
		a.dayTok -= a.day[i].tokens
		i++
	}
	a.day = a.day[i:]
}

// tokenWait returns the real seconds until enough charges leave the window
// for tokens to fit under limit, or -1 if they never can (tokens alone
// exceed the limit).
func (l *limiter) tokenWait(log []charge, used, tokens, limit int, window time.Duration, now time.Time) int {
	if tokens > limit {
		return -1
	}
	for _, c := range log {
		used -= c.tokens
		if used+tokens <= limit {
			return l.realSeconds(c.at.Add(window).Sub(now))
		}
	}
	return l.realSeconds(window) // unreachable while used is the sum of log
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
