package kimitest

import (
	"net/http"

	"github.com/onesdk-go/onesdk/catalog"
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
// Prices are package catalog's (ChatPrice), where the table and its
// sources are.

// webSearchFee is the published price of one $web_search call, USD.
const webSearchFee = 0.005

// chatPrice returns the price row of model m for a request whose prompt
// plus max_tokens (default 1024) is size.
func chatPrice(m ModelSpec, size int) catalog.Price {
	return catalog.ChatPrice(m.ID, m.Family, m.ContextLength, size)
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
	amount := p.Cost(c.prompt, cached, completion)
	a.ledger.add(Charge{Kind: ChargeChat, Time: now, Amount: amount, Tokens: c.prompt, Model: m.ID, BilledAs: p.Row,
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
