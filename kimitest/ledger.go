package kimitest

import (
	"math"
	"slices"
	"sync"
	"time"
)

// The billing ledger: what the emulated platform charges an account: chat
// tokens and $web_search calls (balance.go) and the explicit-caching fees
// published with the 2025 context-caching docs. Prices are USD; the ledger
// converts each charge to the account's currency (CNY: × CNYPerUSD) as it
// records it, and sums charges into rows (see Charge) rather than keeping
// each one, so that an account's ledger does not grow with its requests.
// The balance endpoint (balance.go) is the account's starting balance
// minus the charges.

// ChargeKind names what a Charge is for.
type ChargeKind string

const (
	// ChargeCacheCreation is the one-off fee for creating a context cache,
	// by its tokens.
	ChargeCacheCreation ChargeKind = "cache_creation"
	// ChargeCacheStorage is the storage fee of one ready period of a
	// cache: tokens × minutes, partial minutes rounded up.
	ChargeCacheStorage ChargeKind = "cache_storage"
	// ChargeCacheCall is the fee of one chat call that used a cache.
	ChargeCacheCall ChargeKind = "cache_call"
	// ChargeChat is the token cost of one chat completion: cache-miss
	// prompt tokens, cached prompt tokens at the cache-hit price and the
	// completion tokens actually generated (all choices).
	ChargeChat ChargeKind = "chat"
	// ChargeWebSearch is the fee of one $web_search call the model made.
	ChargeWebSearch ChargeKind = "web_search"
)

// CNYPerUSD converts the USD price tables for accounts whose Currency is
// "CNY". It is an assumption, not a published rate.
const CNYPerUSD = 7.2

// Charge is one ledger row: the sum of an account's charges of one kind
// for one model and price row (chat, web search) or one cache (cache
// fees). The ledger keeps these sums, not every charge, so that its size
// does not grow with the number of requests.
type Charge struct {
	Kind     ChargeKind
	Time     time.Time // emulated time of the row's latest charge
	Count    int       // charges summed in the row
	Amount   float64   // in Currency
	Currency string    // the account's currency: "USD" or "CNY"
	CacheID  string    // the cache concerned, for cache charges
	Tokens   int       // tokens the charges are based on (0 for call fees); chat: prompt tokens
	Minutes  int       // storage charges: billed minutes

	// Chat and web-search charges.
	Model            string // the request's model
	BilledAs         string // the price row used, e.g. "moonshot-v1-32k" for moonshot-v1-auto
	CachedTokens     int    // of Tokens, billed at the cache-hit price
	CompletionTokens int
}

// priceTable holds the explicit-caching prices.
type priceTable struct {
	currency        string
	creationPerM    float64 // per 1M tokens, once
	storagePerMMin  float64 // per 1M tokens per minute while ready
	callFee         float64 // per chat call that uses a cache
	storageRounding time.Duration
}

// cachePrices is the 2025 English (USD) context-caching price table; the
// ledger converts it for CNY accounts. The per-call fee is 0.02, the figure
// of the docs' text; the same page's table says 0.0015.
var cachePrices = priceTable{
	currency:        "USD",
	creationPerM:    1.00,
	storagePerMMin:  0.15,
	callFee:         0.02,
	storageRounding: time.Minute,
}

// ledger is an account's charges, summed per row (see Charge).
type ledger struct {
	currency string
	rate     float64 // account currency per USD
	mu       sync.Mutex
	rows     []Charge       // in the order of each row's first charge
	index    map[rowKey]int // rows by key
	total    float64        // sum of the recorded amounts
}

// rowKey names the row a charge is summed into.
type rowKey struct {
	kind                     ChargeKind
	model, billedAs, cacheID string
}

func keyOf(c *Charge) rowKey { return rowKey{c.Kind, c.Model, c.BilledAs, c.CacheID} }

func newLedger(currency string) *ledger {
	l := &ledger{currency: currency, rate: 1, index: map[rowKey]int{}}
	if currency == "CNY" {
		l.rate = CNYPerUSD
	}
	return l
}

// convert turns a charge priced in USD into the account's currency.
func (l *ledger) convert(c Charge) Charge {
	c.Amount *= l.rate
	c.Currency = l.currency
	return c
}

// add records a charge priced in USD.
func (l *ledger) add(c Charge) {
	c = l.convert(c)
	l.mu.Lock()
	if i, ok := l.index[keyOf(&c)]; ok {
		l.rows[i].sum(&c)
	} else {
		c.Count = 1
		l.index[keyOf(&c)] = len(l.rows)
		l.rows = append(l.rows, c)
	}
	l.total += c.Amount
	l.mu.Unlock()
}

// sum adds charge c, of the same row, to r.
func (r *Charge) sum(c *Charge) {
	if c.Time.After(r.Time) {
		r.Time = c.Time
	}
	r.Count += max(c.Count, 1)
	r.Amount += c.Amount
	r.Tokens += c.Tokens
	r.Minutes += c.Minutes
	r.CachedTokens += c.CachedTokens
	r.CompletionTokens += c.CompletionTokens
}

// forget folds the rows of a deleted cache into its kinds' rows with no
// CacheID, so that rows are bounded by the live caches, not by every cache
// ever created. Amounts and order are kept.
func (l *ledger) forget(cacheID string) {
	if cacheID == "" {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	rows := l.rows[:0]
	clear(l.index)
	for _, r := range l.rows {
		if r.CacheID == cacheID {
			r.CacheID = ""
		}
		if i, ok := l.index[keyOf(&r)]; ok {
			rows[i].sum(&r)
			continue
		}
		l.index[keyOf(&r)] = len(rows)
		rows = append(rows, r)
	}
	clear(l.rows[len(rows):])
	l.rows = rows
}

func (l *ledger) spent() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

func (l *ledger) snapshot() []Charge {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Charge(nil), l.rows...)
}

func creationCharge(at time.Time, id string, tokens int) Charge {
	return Charge{Kind: ChargeCacheCreation, Time: at, Amount: float64(tokens) / 1e6 * cachePrices.creationPerM,
		Currency: cachePrices.currency, CacheID: id, Tokens: tokens}
}

func callCharge(at time.Time, id string) Charge {
	return Charge{Kind: ChargeCacheCall, Time: at, Amount: cachePrices.callFee, Currency: cachePrices.currency, CacheID: id}
}

// storageCharge bills a ready span of a cache; ok is false when the span
// is empty.
func storageCharge(at time.Time, id string, tokens int, span time.Duration) (Charge, bool) {
	if span <= 0 {
		return Charge{}, false
	}
	minutes := int(math.Ceil(float64(span) / float64(cachePrices.storageRounding)))
	return Charge{Kind: ChargeCacheStorage, Time: at, Amount: float64(tokens) / 1e6 * cachePrices.storagePerMMin * float64(minutes),
		Currency: cachePrices.currency, CacheID: id, Tokens: tokens, Minutes: minutes}, true
}

// Ledger returns the charges of the account with the given key, one row
// per kind and model, price row or cache (see Charge), in the order of
// each row's first charge. The storage accrued so far by each cache's
// current ready period is included (computed at call time; it becomes a
// recorded charge when the period ends by an update, a re-enabling
// reset_ttl or a deletion). It returns nil for an unknown key.
func (e *Emulator) Ledger(key string) []Charge {
	a := e.accounts[key]
	if a == nil {
		return nil
	}
	now := e.clock.Now()
	a.caches.mu.Lock()
	open := a.caches.openStorage(now)
	out := a.ledger.snapshot()
	a.caches.mu.Unlock()
	for _, c := range open {
		c = a.ledger.convert(c)
		c.Count = 1
		// Few caches are open at a time: a linear search will do.
		i := slices.IndexFunc(out, func(r Charge) bool { return keyOf(&r) == keyOf(&c) })
		if i < 0 {
			out = append(out, c)
		} else {
			out[i].sum(&c)
		}
	}
	return out
}
