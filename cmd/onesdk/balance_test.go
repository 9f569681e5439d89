package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimitest"
)

// serverBalance is the balance body exactly as the emulator sends it.
func serverBalance(t *testing.T, srv *kimitest.Server, key string) map[string]json.RawMessage {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/users/me/balance", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET balance: %d %s (%v)", resp.StatusCode, body, err)
	}
	var doc struct{ Data map[string]json.RawMessage }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Data
}

// balance shows the amounts of the account, which a chat lowers; other
// providers have no balance.
func TestBalanceCommand(t *testing.T) {
	e := setup(t, kimitest.WithAccount(kimitest.Account{Key: "sk-balance-cli", Balance: 25.5, Voucher: 4.5}))
	r := e.run(t, "balance").mustOK(t)
	for _, want := range []string{"available:  30", "voucher:   4.5", "cash:  25.5"} {
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), "  "), strings.Join(strings.Fields(want), "  ")) {
			t.Errorf("balance output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = e.run(t, "--json", "balance").mustOK(t)
	if before := decodeOne[map[string]any](t, []byte(r.stdout)); before["available"] != 30.0 || before["voucher"] != 4.5 || before["cash"] != 25.5 {
		t.Fatalf("balance --json = %s", r.stdout)
	}
	e.run(t, "chat", "--model", "moonshot-v1-8k", "Tell me a long story about the sea.").mustOK(t)
	after := decodeOne[map[string]any](t, []byte(e.run(t, "--json", "balance").mustOK(t).stdout))
	if a, ok := after["available"].(float64); !ok || a >= 30 || a <= 0 {
		t.Errorf("available after a chat = %v, want below 30", after["available"])
	}

	// Offline: the emulator's account, in USD.
	r = cli(t, "", "--offline", "--json", "balance").mustOK(t)
	if offline := decodeOne[map[string]any](t, []byte(r.stdout)); offline["currency"] != "USD" {
		t.Errorf("--offline balance = %s", r.stdout)
	}
	e.acedata(t, "balance").wantError(t, exitUsage, "onesdk: not supported", "use --provider kimi")
}

// The amounts are printed as the server wrote them, with all their digits,
// in the table and in --json (as JSON numbers).
func TestBalanceExactDecimals(t *testing.T) {
	e := setup(t, kimitest.WithAccount(kimitest.Account{Key: "sk-balance-exact", Balance: 25.5, Voucher: 4.5}))
	// A chat bills a fraction of a cent: the balance gets many decimals.
	e.run(t, "chat", "--model", "moonshot-v1-8k", "Tell me a long story about the sea.").mustOK(t)
	want := serverBalance(t, e.srv, e.key)

	r := e.run(t, "--json", "balance").mustOK(t)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.UseNumber()
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("balance --json = %s (%v)", r.stdout, err)
	}
	table := e.run(t, "balance").mustOK(t).stdout
	for field, name := range map[string]string{"available_balance": "available", "voucher_balance": "voucher", "cash_balance": "cash"} {
		raw := string(bytes.TrimSpace(want[field]))
		if n, ok := got[name].(json.Number); !ok || string(n) != raw {
			t.Errorf("--json %s = %#v, the server sent %s", name, got[name], raw)
		}
		if !strings.Contains(table, " "+raw+" ") {
			t.Errorf("table lacks %s %s:\n%s", name, raw, table)
		}
	}

	// Decimals that float64 would round (the emulator's always survive
	// it), from a server that sends them.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"code":0,"data":{"available_balance":1234567890.123456789,"voucher_balance":0.10000000000000000001,"cash_balance":1234567890.02345678899999999},"scode":"0x0","status":true}`)
	}))
	defer srv.Close()
	base := []string{"--base-url", srv.URL + "/v1", "--api-key", "sk-exact"}
	r = cli(t, "", append(base, "--json", "balance")...).mustOK(t)
	for _, want := range []string{`"available": 1234567890.123456789,`, `"voucher": 0.10000000000000000001`, `"cash": 1234567890.02345678899999999,`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("balance --json lacks %s:\n%s", want, r.stdout)
		}
	}
	table = cli(t, "", append(base, "balance")...).mustOK(t).stdout
	for _, want := range []string{"available:  1234567890.123456789  -", "voucher:  0.10000000000000000001  -", "cash:  1234567890.02345678899999999  -"} {
		if !strings.Contains(strings.Join(strings.Fields(table), "  "), want) {
			t.Errorf("balance table lacks %q:\n%s", want, table)
		}
	}
}

// Kimi does not say the currency; through a loopback base URL it is
// unknown unless --currency gives it.
func TestBalanceCurrencyFlag(t *testing.T) {
	e := setup(t)
	currency := func(out string) string {
		c := decodeOne[struct{ Currency *string }](t, []byte(out)).Currency
		if c == nil {
			t.Fatalf("balance --json = %s, no currency", out)
		}
		return *c
	}
	if c := currency(e.run(t, "--json", "balance").mustOK(t).stdout); c != "" {
		t.Errorf("currency through a loopback URL = %q, want \"\"", c)
	}
	if out := e.run(t, "balance").mustOK(t).stdout; !strings.Contains(out, " -") || strings.Contains(out, "USD") {
		t.Errorf("balance table without --currency:\n%s", out)
	}
	for _, flag := range []string{"USD", "cny"} {
		want := strings.ToUpper(flag)
		if c := currency(e.run(t, "--json", "balance", "--currency", flag).mustOK(t).stdout); c != want {
			t.Errorf("--currency %s: currency %q", flag, c)
		}
		out := e.run(t, "balance", "--currency", flag).mustOK(t).stdout
		if strings.Count(out, want) != 3 {
			t.Errorf("balance --currency %s table:\n%s", flag, out)
		}
	}
	// --currency overrides what --offline assumes.
	if c := currency(cli(t, "", "--offline", "--json", "balance", "--currency", "CNY").mustOK(t).stdout); c != "CNY" {
		t.Errorf("--offline --currency CNY: currency %q", c)
	}
	e.run(t, "balance", "--currency", "EUR").wantUsage(t, "--currency")
}
