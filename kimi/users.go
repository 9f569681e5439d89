package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// UserService is the account endpoint GET /users/me/balance.
type UserService struct{ c *Client }

// Balance is the account balance. Balances are per user/organization, not
// per key.
//
// The numbers are decoded exactly: the *Raw fields keep the decimal text
// the server sent (use them for money arithmetic), the float64 fields are
// that text parsed for convenience.
type Balance struct {
	// Available is cash plus voucher; at or below 0 inference is refused.
	Available float64
	// Voucher is the gift balance, never negative.
	Voucher float64
	// Cash may be negative (arrears); then Available equals Voucher.
	Cash float64

	AvailableRaw, VoucherRaw, CashRaw json.Number

	// Currency is "CNY" on api.moonshot.cn, "USD" on api.moonshot.ai,
	// Config.Currency when set, "" when unknown (another host): the
	// response does not say.
	Currency string
}

// Balance returns the account balance (GET /users/me/balance). The body
// is {"code":0,"data":{...},"scode":"0x0","status":true}; a non-zero code
// or status false in a 200 answer is returned as an *Error.
func (s *UserService) Balance(ctx context.Context, opts ...RequestOption) (*Balance, error) {
	req, err := s.c.newRequest(ctx, http.MethodGet, "users/me/balance", nil, opts)
	if err != nil {
		return nil, err
	}
	var out struct {
		Data *struct {
			Available json.RawMessage `json:"available_balance"`
			Voucher   json.RawMessage `json:"voucher_balance"`
			Cash      json.RawMessage `json:"cash_balance"`
		} `json:"data"`
	}
	resp, err := s.c.do(req, &out)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s response (request %s): %s", ErrBadResponse, req.URL.Path,
			requestID(resp.Header), fmt.Sprintf(format, args...))
	}
	if out.Data == nil {
		return nil, bad("no data object")
	}
	b := &Balance{Currency: s.c.currency}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		num  *json.Number
		val  *float64
	}{
		{"available_balance", out.Data.Available, &b.AvailableRaw, &b.Available},
		{"voucher_balance", out.Data.Voucher, &b.VoucherRaw, &b.Voucher},
		{"cash_balance", out.Data.Cash, &b.CashRaw, &b.Cash},
	} {
		n, err := decimal(f.raw)
		if err != nil {
			return nil, bad("%s: %v", f.name, err)
		}
		*f.num = n
		if n != "" {
			if *f.val, err = strconv.ParseFloat(string(n), 64); err != nil {
				return nil, bad("%s: %v", f.name, err)
			}
		}
	}
	if b.AvailableRaw == "" {
		return nil, bad("no data.available_balance")
	}
	return b, nil
}

// decimal reads a JSON number, or a string holding one, as its exact
// text; a missing field or null gives "".
func decimal(raw json.RawMessage) (json.Number, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		s = strings.TrimSpace(s)
	}
	var n json.Number
	if err := json.Unmarshal([]byte(s), &n); err != nil || s == "" || s[0] == '"' {
		return "", fmt.Errorf("%q is not a decimal number", s)
	}
	return n, nil
}

// currencyOf infers the balance currency from the base URL, as the API
// does not state it: CNY on the .cn platform, USD on the .ai one; ""
// elsewhere.
func currencyOf(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	switch {
	case host == "moonshot.cn" || strings.HasSuffix(host, ".moonshot.cn"):
		return "CNY"
	case host == "moonshot.ai" || strings.HasSuffix(host, ".moonshot.ai"):
		return "USD"
	}
	return ""
}
