package kimitest

import (
	"net/http"
	"strings"
)

// Billing of chat completions (https://platform.moonshot.ai/docs/pricing/chat)
// and GET /v1/users/me/balance (https://platform.moonshot.ai/docs/api/balance).
//
// Each chat completion charges one ChargeChat: the prompt tokens not
// served from a cache at the model's input price, the cached ones at its
// cache-hit price, and the completion tokens actually generated (every
// choice) at its output price; each $web_search call the reply makes
// charges a ChargeWebSearch of $0.005. The ledger sums them per model and
// price row (ledger.go). Dry runs, refused and failed
// requests cost nothing; token estimation is free. Context-cache fees are
// in ledger.go.
//
// Prices, USD per 1M tokens (input / cache hit / output):
//
//	moonshot-v1-8k (and -8k-vision-preview)      0.20 / 0    / 2.00   published
//	moonshot-v1-32k (and -32k-vision-preview)    1.00 / 0    / 3.00   published
//	moonshot-v1-128k (and -128k-vision-preview)  2.00 / 0    / 5.00   published
//	moonshot-v1-auto: billed as the model the router picks from
//	  prompt + max_tokens (default 1024): ≤ 8,192 → 8k, ≤ 32,768 → 32k,
//	  else 128k
//	kimi-latest: 8k / 32k / 128k tier by the same request size,
//	  0.20|1.00|2.00 / 0.15 / 2.00|3.00|5.00                           published
//	kimi-k2-0711-preview, kimi-k2-0905-preview,
//	  kimi-k2-thinking                           0.60 / 0.15 / 2.50   published (0711); the others: assumption
//	kimi-k2-turbo-preview, kimi-k2-thinking-turbo 1.15 / 0.15 / 8.00  assumption (one-api's CNY list
//	                                                                  prices turbo ~2× in, ~3.6× out)
//	kimi-k2.5                                    0.60 / 0.10 / 3.00   published (2026)
//	kimi-k2.6                                    0.95 / 0.16 / 4.00   reported, weakly (CNY list ¥6.5 / ¥1.1 / ¥27)
//	kimi-k2.7-code                               0.95 / 0.19 / 4.00   reported
//	kimi-k2.7-code-highspeed                     1.90 / 0.38 / 8.00   reported (twice -code)
//	kimi-k3                                      3.00 / 0.30 / 15.00  reported
//	kimi-thinking-preview                        30.00 / –   / 30.00  published (no caching)
//
// The K2 line, kimi-latest and kimi-thinking-preview are retired on
// Moonshot (WithRetiredModels serves them); their rows are the last
// prices. The K2 thinking models and kimi-k2-instruct-0905 (priced as K2)
// are still on Ace Data Cloud.
//
// The moonshot-v1 cache-hit price is 0: the family has no automatic
// caching, and tokens served from an explicit context cache are
// "limited-time free" (the cache's own fees are charged instead).
// A model added with WithModels is priced by its family (and "turbo" or
// "highspeed" in its id); a moonshot-v1 model by its context length.

// webSearchFee is the published price of one $web_search call, USD.
const webSearchFee = 0.005

// tokenPrice is one row of the chat price table, USD per 1M tokens.
type tokenPrice struct {
	row                     string
	input, cacheHit, output float64
}

var (
	priceV1_8k   = tokenPrice{"moonshot-v1-8k", 0.20, 0, 2.00}
	priceV1_32k  = tokenPrice{"moonshot-v1-32k", 1.00, 0, 3.00}
	priceV1_128k = tokenPrice{"moonshot-v1-128k", 2.00, 0, 5.00}
)

// v1Tier picks the 8k/32k/128k row for a request of size tokens.
func v1Tier(size int) tokenPrice {
	switch {
	case size <= 8192:
		return priceV1_8k
	case size <= 32768:
		return priceV1_32k
	}
	return priceV1_128k
}

// chatPrice returns the price row of model m for a request whose prompt
// plus max_tokens (default 1024) is size.
func chatPrice(m ModelSpec, size int) tokenPrice {
	turbo := strings.Contains(m.ID, "turbo")
	switch m.Family {
	case FamilyMoonshotV1:
		if strings.HasSuffix(m.ID, "-auto") {
			return v1Tier(size)
		}
		return v1Tier(m.ContextLength)
	case FamilyKimiLatest:
		p := v1Tier(size)
		p.row = "kimi-latest-" + strings.TrimPrefix(p.row, "moonshot-v1-")
		p.cacheHit = 0.15
		return p
	case FamilyK2, FamilyK2Thinking:
		if turbo {
			return tokenPrice{"kimi-k2-turbo", 1.15, 0.15, 8.00}
		}
		return tokenPrice{"kimi-k2", 0.60, 0.15, 2.50}
	case FamilyK25:
		return tokenPrice{"kimi-k2.5", 0.60, 0.10, 3.00}
	case FamilyK26:
		return tokenPrice{"kimi-k2.6", 0.95, 0.16, 4.00}
	case FamilyK27:
		if strings.Contains(m.ID, "highspeed") {
			return tokenPrice{"kimi-k2.7-code-highspeed", 1.90, 0.38, 8.00}
		}
		return tokenPrice{"kimi-k2.7-code", 0.95, 0.19, 4.00}
	case FamilyK3:
		return tokenPrice{"kimi-k3", 3.00, 0.30, 15.00}
	case FamilyThinkingPreview:
		return tokenPrice{"kimi-thinking-preview", 30, 30, 30}
	}
	return v1Tier(m.ContextLength)
}

// chargeChat records the cost of a generated completion.
func (e *Emulator) chargeChat(a *account, m ModelSpec, size int, c *completion) {
	now := e.clock.Now()
	cached := 0
	if c.cached != nil {
		cached = min(*c.cached, c.prompt)
	}
	completion, searches := 0, 0
	for _, ch := range c.choices {
		completion += ch.CompletionTokens
		for _, tc := range ch.ToolCalls {
			if tc.Name == "$web_search" {
				searches++
			}
		}
	}
	p := chatPrice(m, size)
	amount := (float64(c.prompt-cached)*p.input + float64(cached)*p.cacheHit + float64(completion)*p.output) / 1e6
	a.ledger.add(Charge{Kind: ChargeChat, Time: now, Amount: amount, Tokens: c.prompt, Model: m.ID, BilledAs: p.row,
		CachedTokens: cached, CompletionTokens: completion})
	for range searches {
		a.ledger.add(Charge{Kind: ChargeWebSearch, Time: now, Amount: webSearchFee, Model: m.ID})
	}
}

// balances returns the account's cash, voucher and available balance now:
// the starting balances minus every charge, vouchers spent first (as
// documented, cash may go negative; available = voucher + cash when cash > 0).
func (e *Emulator) balances(a *account) (cash, voucher, available float64) {
	spent := a.ledger.spent() + e.openStorage(a)
	voucher, cash = a.Voucher, a.Balance
	fromVoucher := min(spent, voucher)
	voucher -= fromVoucher
	cash -= spent - fromVoucher
	return cash, voucher, voucher + max(cash, 0)
}

// openStorage is the storage accrued by the account's caches' current
// ready periods, not yet recorded, in the account's currency.
func (e *Emulator) openStorage(a *account) float64 {
	now := e.clock.Now()
	a.caches.mu.Lock()
	open := a.caches.openStorage(now)
	a.caches.mu.Unlock()
	sum := 0.0
	for _, c := range open {
		sum += a.ledger.convert(c).Amount
	}
	return sum
}

// quotaError refuses inference while the available balance is ≤ 0
// (429 exceeded_current_quota_error, 2026 wording).
func (e *Emulator) quotaError(a *account) *apiError {
	if _, _, avail := e.balances(a); avail <= 0 {
		return errSuspended(a.OrgID, a.akID)
	}
	return nil
}

// Balance returns the available, voucher and cash balances of the
// account with the given key, as GET /v1/users/me/balance reports them;
// ok is false for an unknown key.
func (e *Emulator) Balance(key string) (available, voucher, cash float64, ok bool) {
	a := e.accounts[key]
	if a == nil {
		return 0, 0, 0, false
	}
	cash, voucher, available = e.balances(a)
	return available, voucher, cash, true
}

// isUser reports whether id is the user id of one of the accounts.
func (e *Emulator) isUser(id string) bool {
	for _, a := range e.accounts {
		if a.UserID == id {
			return true
		}
	}
	return false
}

type balanceJSON struct {
	Code int `json:"code"`
	Data struct {
		Available float64 `json:"available_balance"`
		Voucher   float64 `json:"voucher_balance"`
		Cash      float64 `json:"cash_balance"`
	} `json:"data"`
	SCode  string `json:"scode"`
	Status bool   `json:"status"`
}

// handleBalance serves GET /v1/users/{user}/balance, where user is "me"
// (what clients send) or the caller's own user id (Msh-Uid). Another
// account's user id is refused with 403 "You are not allowed to get other
// user info", any other id with 404 "Users {id} not found" (both
// documented). Amounts are in the account's currency and not rounded.
func (e *Emulator) handleBalance(w http.ResponseWriter, r *http.Request, a *account) {
	if user := r.PathValue("user"); user != "me" && user != a.UserID {
		if e.isUser(user) {
			writeError(w, &apiError{Status: http.StatusForbidden, Type: "permission_denied_error", Message: "You are not allowed to get other user info"})
		} else {
			writeError(w, &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error", Message: "Users " + user + " not found"})
		}
		return
	}
	var out balanceJSON
	out.Data.Cash, out.Data.Voucher, out.Data.Available = e.balances(a)
	out.SCode, out.Status = "0x0", true
	writeJSON(w, http.StatusOK, out)
}
