package kimitest

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// cacheCharges keeps the context-cache fees of a ledger (chat token
// charges are tested in balance_test.go).
func cacheCharges(l []Charge) []Charge {
	var out []Charge
	for _, c := range l {
		if strings.HasPrefix(string(c.Kind), "cache_") {
			out = append(out, c)
		}
	}
	return out
}

func TestLedgerCacheCharges(t *testing.T) {
	// 600x: a minute of emulated time passes in 0.1 s.
	srv := setup(t, WithTimeScale(600), WithCacheReadyDelay(0))
	if srv.Emulator.Ledger("sk-nobody") != nil {
		t.Fatal("ledger of an unknown key")
	}
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 60}))
	l := srv.Emulator.Ledger(srv.Key)
	if len(l) < 1 || l[0].Kind != ChargeCacheCreation || l[0].CacheID != c.ID || l[0].Tokens != c.Tokens ||
		!approx(l[0].Amount, float64(c.Tokens)/1e6) || l[0].Currency != "USD" {
		t.Fatalf("creation charge: %+v", l)
	}
	// Ready for exactly 60 s, then inactive: one minute of storage.
	waitStatus(t, srv, c.ID, "inactive")
	l = srv.Emulator.Ledger(srv.Key)
	if len(l) != 2 || l[1].Kind != ChargeCacheStorage || l[1].Minutes != 1 || !approx(l[1].Amount, float64(c.Tokens)/1e6*0.15) {
		t.Fatalf("storage after expiry: %+v", l)
	}
	// No storage accrues while inactive.
	if again := srv.Emulator.Ledger(srv.Key); len(again) != 2 || again[1].Minutes != 1 {
		t.Fatalf("storage grew while inactive: %+v", again)
	}
	// Re-enabling closes the old period (recorded) and bills the call.
	chat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=30"))
	waitStatus(t, srv, c.ID, "inactive")
	l = cacheCharges(srv.Emulator.Ledger(srv.Key))
	var kinds []string
	for _, ch := range l {
		kinds = append(kinds, string(ch.Kind))
	}
	// creation, storage (two periods, the 2nd one: 30 s → 1 minute), call:
	// one row per kind and cache, in the order of their first charge.
	if strings.Join(kinds, ",") != "cache_creation,cache_storage,cache_call" ||
		l[1].Count != 2 || l[1].Minutes != 2 || !approx(l[1].Amount, float64(c.Tokens)/1e6*0.15*2) ||
		!approx(l[2].Amount, 0.02) || l[2].CacheID != c.ID || l[2].Count != 1 {
		t.Fatalf("after re-enable: %+v", l)
	}
	// Dry runs and header-mode misses cost nothing.
	postChat(t, srv, cacheChat(c.ID, "moonshot-v1-8k", "reset_ttl=30;dry_run=1"))
	postChat(t, srv, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("x"))}, "X-Msh-Context-Cache", c.ID)
	if got := cacheCharges(srv.Emulator.Ledger(srv.Key)); len(got) != 3 || got[1].Count != 2 || got[2].Count != 1 {
		t.Fatalf("dry run or miss charged: %+v", got)
	}
}

// The ledger keeps sums, not every charge: many charges of one kind and
// model make one row, and a deleted cache's rows fold into rows without a
// CacheID, so that the ledger stays as small as the live state.
func TestLedgerAggregates(t *testing.T) {
	l := newLedger("CNY")
	for range 1000 {
		l.add(Charge{Kind: ChargeChat, Amount: 0.001, Tokens: 10, CompletionTokens: 5, Model: "m", BilledAs: "m"})
	}
	l.add(Charge{Kind: ChargeWebSearch, Amount: webSearchFee, Model: "m"})
	for _, id := range []string{"cache-a", "cache-b"} {
		l.add(creationCharge(time.Time{}, id, 1000))
		l.add(callCharge(time.Time{}, id))
	}
	rows := l.snapshot()
	if len(rows) != 6 {
		t.Fatalf("%d rows, want 6: %+v", len(rows), rows)
	}
	if r := rows[0]; r.Count != 1000 || r.Tokens != 10000 || r.CompletionTokens != 5000 || !approx(r.Amount, 1000*0.001*CNYPerUSD) || r.Currency != "CNY" {
		t.Fatalf("chat row %+v", r)
	}
	spent := l.spent()
	l.forget("cache-a")
	l.forget("cache-b")
	rows = l.snapshot()
	if len(rows) != 4 || rows[2].Kind != ChargeCacheCreation || rows[2].CacheID != "" || rows[2].Count != 2 || rows[2].Tokens != 2000 ||
		rows[3].Kind != ChargeCacheCall || rows[3].Count != 2 || !approx(rows[3].Amount, 2*cachePrices.callFee*CNYPerUSD) {
		t.Fatalf("after deleting both caches: %+v", rows)
	}
	sum := 0.0
	for _, r := range rows {
		sum += r.Amount
	}
	if !approx(sum, spent) || l.spent() != spent {
		t.Fatalf("rows sum to %v, spent %v then %v", sum, spent, l.spent())
	}
}

// Storage is billed per started minute of each ready period.
func TestLedgerStorageRoundsUp(t *testing.T) {
	srv := setup(t, WithTimeScale(600), WithCacheReadyDelay(0))
	c := createCache(t, srv, cacheBody(map[string]any{"ttl": 61}))
	waitStatus(t, srv, c.ID, "inactive")
	ktDo(t, srv, "DELETE", "/v1/caching/"+c.ID, nil)
	l := srv.Emulator.Ledger(srv.Key)
	if len(l) != 2 || l[1].Kind != ChargeCacheStorage || l[1].Minutes != 2 || !approx(l[1].Amount, float64(c.Tokens)/1e6*0.15*2) {
		t.Fatalf("61 s of storage: %+v", l)
	}
	// The deleted cache's rows are kept, folded into rows without an id.
	if l[0].CacheID != "" || l[1].CacheID != "" {
		t.Fatalf("rows of a deleted cache keep its id: %+v", l)
	}
}

// Cache creation tokens count toward TPM, as documented.
func TestCacheCreationChargesTPM(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-small", Limits: Limits{TPM: 300}}))
	small := createCache(t, srv, cacheBody(map[string]any{"messages": msgs(user("short context")), "tools": nil}))
	if _, _, tpm, tpd := srv.Emulator.limiter.usage("sk-small"); tpm != small.Tokens || tpd != small.Tokens {
		t.Fatalf("tpm %d tpd %d after creating %d tokens", tpm, tpd, small.Tokens)
	}
	r := ktDo(t, srv, "POST", "/v1/caching", cacheBody(nil))
	typ, msg := apiErr(t, r)
	big := expectedCacheTokens(t, msgs(cacheSystem), []any{cacheTool})
	if r.Status != 429 || typ != "rate_limit_reached_error" ||
		!strings.HasSuffix(msg, "request reached organization TPM rate limit, current:"+strconv.Itoa(small.Tokens+big)+", limit:300") {
		t.Fatalf("large cache: %d %s %s", r.Status, typ, msg)
	}
	if ids := listCaches(t, srv, ""); len(ids) != 1 {
		t.Fatalf("refused cache was created: %v", ids)
	}
}
