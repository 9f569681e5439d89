package kimi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
)

const specBalance = `{"code":0,"data":{"available_balance":49.58894,"voucher_balance":46.58893,"cash_balance":3.00001},"scode":"0x0","status":true}`

func TestBalanceCurrencyByRegion(t *testing.T) {
	tests := []struct{ base, config, want string }{
		{kimi.BaseURLCN, "", "CNY"},
		{kimi.BaseURLAI, "", "USD"},
		{"https://api-sg.moonshot.ai/v1", "", "USD"},
		{"https://API.Moonshot.CN", "", "CNY"},
		{"https://gateway.example.com/kimi", "", ""},
		{"https://gateway.example.com/kimi", "EUR", "EUR"},
		{kimi.BaseURLCN, "USD", "USD"}, // the configuration wins
		{"https://moonshot.cn.evil.example/v1", "", ""},
	}
	srv := kimi.NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/users/me/balance" && r.URL.Path != "/kimi/users/me/balance" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, specBalance)
	})
	// The clients believe they talk to tt.base; every request reaches srv.
	u, _ := url.Parse(srv.URL)
	toSrv := &http.Client{Transport: kimi.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
		return srv.Client().Transport.RoundTrip(r)
	})}
	for _, tt := range tests {
		c := kimi.NewClient(kimi.Config{APIKey: "sk-test", BaseURL: tt.base, Currency: tt.config, HTTPClient: toSrv, Retry: &kimi.RetryPolicy{}})
		before := srv.Hits.Load()
		b, err := c.Users.Balance(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", tt.base, err)
		}
		if b.Currency != tt.want {
			t.Errorf("%s (config %q): currency %q, want %q", tt.base, tt.config, b.Currency, tt.want)
		}
		if b.Available != 49.58894 || b.Voucher != 46.58893 || b.Cash != 3.00001 ||
			b.AvailableRaw != "49.58894" || b.VoucherRaw != "46.58893" || b.CashRaw != "3.00001" {
			t.Errorf("%s: balance %+v", tt.base, b)
		}
		if n := srv.Hits.Load() - before; n != 1 {
			t.Errorf("%s: %d requests", tt.base, n)
		}
	}
}

func TestBalanceDecoding(t *testing.T) {
	tests := []struct {
		name, body string
		check      func(*kimi.Balance) bool
		errText    string
	}{
		{"exact decimals kept", `{"code":0,"data":{"available_balance":0.1000000000000000055511151231257827,"voucher_balance":0,"cash_balance":-12345678901234567.25},"scode":"0x0","status":true}`,
			func(b *kimi.Balance) bool {
				return b.AvailableRaw == "0.1000000000000000055511151231257827" && b.CashRaw == "-12345678901234567.25" &&
					b.Cash == -12345678901234567.25 && b.Available == 0.1
			}, ""},
		{"no gateway siblings", `{"data":{"available_balance":1,"voucher_balance":0.5,"cash_balance":0.5}}`,
			func(b *kimi.Balance) bool { return b.Available == 1 && b.Voucher == 0.5 }, ""},
		{"numbers as strings", `{"data":{"available_balance":"7.50","voucher_balance":"0","cash_balance":"7.50"}}`,
			func(b *kimi.Balance) bool { return b.AvailableRaw == "7.50" && b.Available == 7.5 }, ""},
		{"not a number", `{"data":{"available_balance":"lots","voucher_balance":0,"cash_balance":0}}`, nil,
			`available_balance: "lots" is not a decimal number`},
		{"no data", `{"code":0,"scode":"0x0","status":true}`, nil, "no data object"},
		{"no available", `{"data":{"cash_balance":1}}`, nil, "no data.available_balance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			b, err := c.Users.Balance(context.Background())
			if tt.errText != "" {
				if !errors.Is(err, kimi.ErrBadResponse) || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want ErrBadResponse with %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(b) {
				t.Errorf("balance = %+v", b)
			}
		})
	}
}

func TestBalanceErrors(t *testing.T) {
	c, _ := loopback(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(403)
		io.WriteString(w, `{"error":{"type":"permission_denied_error","message":"You are not allowed to get other user info"}}`)
	})
	_, err := c.Users.Balance(context.Background())
	var e *kimi.Error
	if !errors.As(err, &e) || e.StatusCode != 403 || e.Type != kimi.ErrTypePermissionDenied || e.Message != "You are not allowed to get other user info" {
		t.Errorf("403: %v", err)
	}
	// A gateway failure inside a 200.
	c, _ = loopback(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":5,"error":"user.not_found","message":"Users u1 not found","scode":"0x5","status":false}`)
	})
	_, err = c.Users.Balance(context.Background())
	if !errors.As(err, &e) || e.StatusCode != 200 || e.Code != "user.not_found" || e.Message != "Users u1 not found" {
		t.Errorf("200 with error: %v", err)
	}
}

func TestEstimateResponseShapes(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
		errText    string
	}{
		{"documented", `{"data":{"total_tokens":80}}`, 80, ""},
		{"gateway siblings", `{"code":0,"data":{"total_tokens":12},"scode":"0x0","status":true}`, 12, ""},
		{"null error sibling", `{"data":{"total_tokens":3},"error":null}`, 3, ""},
		{"error field in a 200", `{"error":{"type":"invalid_request_error","message":"Invalid request: messages too long"}}`, 0, "Invalid request: messages too long"},
		{"status false", `{"code":1,"message":"busy","status":false}`, 0, "busy"},
		{"no total", `{"data":{}}`, 0, "no data.total_tokens"},
		{"fraction", `{"data":{"total_tokens":1.5}}`, 0, "is not a count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := loopback(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			n, err := c.Tokenizers.Estimate(context.Background(), "moonshot-v1-8k", []kimi.Message{kimi.UserMessage("hi")})
			r, b := srv.Last()
			got := r.Method + " " + r.URL.Path + " " + string(b)
			want := `POST /v1/tokenizers/estimate-token-count {"model":"moonshot-v1-8k","messages":[{"role":"user","content":"hi"}]}`
			if got != want {
				t.Errorf("request = %s\nwant      %s", got, want)
			}
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil || n != tt.want {
				t.Errorf("n = %d, err = %v; want %d", n, err, tt.want)
			}
		})
	}
}
