package kimitest

import (
	"strings"
	"testing"
	"time"
)

type wireBalance struct {
	Available, Voucher, Cash float64
}

// balance fetches GET /v1/users/me/balance as key and checks the envelope.
func balance(t *testing.T, srv *Server, key string) wireBalance {
	t.Helper()
	r := ktDo(t, srv.withKey(key), "GET", "/v1/users/me/balance", nil)
	out := decodeOK[struct {
		Code *int `json:"code"`
		Data *struct {
			Available *float64 `json:"available_balance"`
			Voucher   *float64 `json:"voucher_balance"`
			Cash      *float64 `json:"cash_balance"`
		} `json:"data"`
		SCode  string `json:"scode"`
		Status *bool  `json:"status"`
	}](t, r)
	if out.Code == nil || *out.Code != 0 || out.SCode != "0x0" ||
		out.Status == nil || !*out.Status || out.Data == nil || out.Data.Available == nil || out.Data.Voucher == nil || out.Data.Cash == nil {
		t.Fatalf("balance: %d %s", r.Status, r.Body)
	}
	if !strings.HasPrefix(string(r.Body), `{"code":0,"data":{"available_balance":`) {
		t.Fatalf("field order: %s", r.Body)
	}
	return wireBalance{*out.Data.Available, *out.Data.Voucher, *out.Data.Cash}
}

// cost is the expected USD cost of a chat response at the given prices
// (per 1M tokens).
func cost(u wireUsage, in, hit, out float64) float64 {
	cached := 0
	if u.CachedTokens != nil {
		cached = *u.CachedTokens
	}
	return (float64(u.PromptTokens-cached)*in + float64(cached)*hit + float64(u.CompletionTokens)*out) / 1e6
}

func TestBalanceDefault(t *testing.T) {
	srv := setup(t)
	if b := balance(t, srv, srv.Key); b.Cash != DefaultBalance || b.Voucher != 0 || b.Available != DefaultBalance {
		t.Fatalf("default balance %+v", b)
	}
	wantStatus(t, ktDo(t, srv.withKey("sk-unknown"), "GET", "/v1/users/me/balance", nil), 401)
}

func TestBalanceChatCharges(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-pay", Balance: 10}))
	key := "sk-pay"
	pay := srv.withKey(key)
	want := 10.0
	check := func(step string) {
		t.Helper()
		b := balance(t, srv, key)
		if !approx(b.Cash, want) || !approx(b.Available, want) || b.Voucher != 0 {
			t.Fatalf("%s: balance %+v, want %v", step, b, want)
		}
	}
	check("start")

	c := chat(t, pay, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Tell me about the moon."))})
	want -= cost(c.Usage, 0.20, 0, 2.00)
	check("moonshot-v1-8k")

	// n=2: the prompt is billed once, every choice's completion tokens.
	c = chat(t, pay, map[string]any{"model": "moonshot-v1-128k", "n": 2, "temperature": 0.7, "messages": msgs(user("两个答案"))})
	want -= cost(c.Usage, 2.00, 0, 5.00)
	check("moonshot-v1-128k n=2")

	// The auto router bills by prompt + max_tokens.
	c = chat(t, pay, map[string]any{"model": "moonshot-v1-auto", "max_tokens": 20000, "messages": msgs(user("hi"))})
	want -= cost(c.Usage, 1.00, 0, 3.00)
	check("moonshot-v1-auto as 32k")

	// kimi-k2.5: cache hits at 0.10.
	long := strings.Repeat("The history of lunar exploration is long and detailed. ", 60)
	body := map[string]any{"model": "kimi-k2.5", "messages": msgs(map[string]any{"role": "system", "content": long}, user("Summarise."))}
	c = chat(t, pay, body)
	want -= cost(c.Usage, 0.60, 0.10, 3.00)
	check("kimi-k2.5 first")
	c = chat(t, pay, body)
	if c.Usage.CachedTokens == nil || *c.Usage.CachedTokens == 0 {
		t.Fatalf("second kimi-k2.5 call had no cache hit: %+v", c.Usage)
	}
	want -= cost(c.Usage, 0.60, 0.10, 3.00)
	check("kimi-k2.5 cached")

	c = chat(t, pay, map[string]any{"model": "kimi-k2.6", "messages": msgs(user("Write a haiku about Go."))})
	want -= cost(c.Usage, 0.95, 0.16, 4.00)
	check("k2.6")
	c = chat(t, pay, map[string]any{"model": "kimi-k3", "messages": msgs(user("Why is the sky blue?"))})
	want -= cost(c.Usage, 3.00, 0.30, 15.00)
	check("k3")
	c = chat(t, pay, map[string]any{"model": "kimi-k2.7-code-highspeed", "messages": msgs(user("Fix my loop."))})
	want -= cost(c.Usage, 1.90, 0.38, 8.00)
	check("k2.7 highspeed")

	// Streaming calls are billed the same way.
	chunks, _ := streamChat(t, pay, map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("stream it"))})
	// The ledger sums charges per kind, model and price row: the stream
	// joins the first call's row.
	l := srv.Emulator.Ledger(key)
	if first := l[0]; first.Kind != ChargeChat || first.Model != "moonshot-v1-8k" || first.BilledAs != "moonshot-v1-8k" || first.Count != 2 {
		t.Fatalf("moonshot-v1-8k row after the stream %+v", first)
	}
	want -= cost(*assemble(t, chunks)[0].usage, 0.20, 0, 2.00)
	check("stream")

	// The ledger explains every step.
	var sum float64
	rows := map[string]bool{}
	count := 0
	for _, ch := range srv.Emulator.Ledger(key) {
		if ch.Kind != ChargeChat || ch.Currency != "USD" || ch.Amount <= 0 || ch.Tokens <= 0 || ch.CompletionTokens <= 0 || ch.Count < 1 {
			t.Fatalf("charge %+v", ch)
		}
		if rows[ch.Model+"/"+ch.BilledAs] {
			t.Fatalf("two rows for %s billed as %s", ch.Model, ch.BilledAs)
		}
		sum += ch.Amount
		count += ch.Count
		rows[ch.Model+"/"+ch.BilledAs] = true
		rows[ch.BilledAs] = true
	}
	if count != 9 {
		t.Errorf("%d chat charges in the ledger, want 9", count)
	}
	for _, r := range []string{"moonshot-v1-8k", "moonshot-v1-128k", "moonshot-v1-32k", "kimi-k2.5", "kimi-k2.6", "kimi-k3", "kimi-k2.7-code-highspeed"} {
		if !rows[r] {
			t.Errorf("no charge billed as %s: %v", r, rows)
		}
	}
	if !approx(10-sum, want) {
		t.Fatalf("ledger sum %v, balance spent %v", sum, 10-want)
	}
	if av, _, _, ok := srv.Emulator.Balance(key); !ok || !approx(av, want) {
		t.Fatalf("Emulator.Balance %v %v", av, ok)
	}
}

func TestBalanceWebSearchFee(t *testing.T) {
	srv := setup(t)
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("What happened in the news today?")),
		"tools": []any{map[string]any{"type": "builtin_function", "function": map[string]any{"name": "$web_search"}}}}
	c := chat(t, srv, body)
	if len(c.Choices[0].Message.ToolCalls) != 1 || c.Choices[0].Message.ToolCalls[0].Function.Name != "$web_search" {
		t.Fatalf("no $web_search call: %+v", c.Choices[0].Message)
	}
	l := srv.Emulator.Ledger(srv.Key)
	if len(l) != 2 || l[0].Kind != ChargeChat || l[1].Kind != ChargeWebSearch || !approx(l[1].Amount, 0.005) {
		t.Fatalf("ledger %+v", l)
	}
	if b := balance(t, srv, srv.Key); !approx(b.Cash, DefaultBalance-cost(c.Usage, 0.20, 0, 2.00)-0.005) {
		t.Fatalf("balance %+v", b)
	}
}

// Vouchers are spent first; the cash balance may then go negative.
func TestBalanceVoucherFirst(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-v", Balance: 1, Voucher: 0.00002}))
	if b := balance(t, srv, "sk-v"); b.Cash != 1 || b.Voucher != 0.00002 || !approx(b.Available, 1.00002) {
		t.Fatalf("start %+v", b)
	}
	c := chat(t, srv.withKey("sk-v"), map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Explain vouchers in detail."))})
	spent := cost(c.Usage, 0.20, 0, 2.00)
	if spent <= 0.00002 {
		t.Fatalf("the call should cost more than the voucher: %v", spent)
	}
	if b := balance(t, srv, "sk-v"); b.Voucher != 0 || !approx(b.Cash, 1-(spent-0.00002)) || !approx(b.Available, b.Cash) {
		t.Fatalf("after %v: %+v", spent, b)
	}
}

// An account that spends its balance is refused until it has money again;
// the balance endpoint and free calls keep working.
func TestBalanceQuotaRefusal(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(time.Hour),
		WithAccount(Account{Key: "sk-poor", OrgID: "org-poor", Balance: 0.00001}))
	poor := srv.withKey("sk-poor")
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Spend my last cent, please."))}
	c := chat(t, poor, body) // served: the balance was positive
	b := balance(t, srv, "sk-poor")
	if !approx(b.Cash, 0.00001-cost(c.Usage, 0.20, 0, 2.00)) || b.Cash >= 0 || b.Available != 0 || b.Voucher != 0 {
		t.Fatalf("in arrears: %+v", b)
	}
	ak := srv.Emulator.accounts["sk-poor"].akID
	msg := "Your account org-poor<" + ak + "> is suspended, please check your plan and billing details"
	wantAPIError(t, postChat(t, poor, body), 429, "exceeded_current_quota_error", msg)
	body["stream"] = true
	wantAPIError(t, postChat(t, poor, body), 429, "exceeded_current_quota_error", msg)
	wantAPIError(t, ktDo(t, poor, "POST", "/v1/caching", cacheBody(nil)), 429, "exceeded_current_quota_error", msg)
	// The paid formula too; the free ones still run.
	fiber := func(formula, name, args string) ktResp {
		return ktDo(t, poor, "POST", "/v1/formulas/moonshot/"+formula+":latest/fibers", map[string]any{"name": name, "arguments": args})
	}
	wantAPIError(t, fiber("web-search", "web_search", `{"query":"x"}`), 429, "exceeded_current_quota_error", msg)
	wantStatus(t, fiber("convert", "convert", `{"value":1,"from_unit":"m","to_unit":"cm"}`), 200)
	if n := len(srv.Emulator.Ledger("sk-poor")); n != 1 {
		t.Fatalf("refused calls were billed: %d charges", n)
	}
	delete(body, "stream")
	estimate(t, poor, body)
	mustUpload(t, poor, "still.txt", "", []byte("uploads are free"))
}

// Context-cache fees come off the balance too, in the account's currency.
func TestBalanceCacheAndCurrency(t *testing.T) {
	srv := setup(t, WithCacheReadyDelay(time.Hour), // pending: no storage accrues
		WithAccount(Account{Key: "sk-cny", Balance: 100, Currency: "CNY"}))
	cny := srv.withKey("sk-cny")
	cc := createCache(t, cny, cacheBody(nil))
	creation := float64(cc.Tokens) / 1e6 * 1.00 * CNYPerUSD
	if b := balance(t, srv, "sk-cny"); !approx(b.Cash, 100-creation) {
		t.Fatalf("after cache creation: %+v, want %v", b, 100-creation)
	}
	c := chat(t, cny, map[string]any{"model": "moonshot-v1-32k", "messages": msgs(user("价格是多少？"))})
	want := 100 - creation - cost(c.Usage, 1.00, 0, 3.00)*CNYPerUSD
	if b := balance(t, srv, "sk-cny"); !approx(b.Cash, want) {
		t.Fatalf("after chat: %+v, want %v", b, want)
	}
	for _, ch := range srv.Emulator.Ledger("sk-cny") {
		if ch.Currency != "CNY" {
			t.Fatalf("charge in %s: %+v", ch.Currency, ch)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New accepted currency EUR")
		}
	}()
	New(WithAccount(Account{Key: "sk-eur", Currency: "EUR"}))
}

// The retired models keep their last prices when WithRetiredModels serves
// them: kimi-latest tiered by request size, the K2 line flat.
func TestBalanceRetiredPrices(t *testing.T) {
	srv := setup(t, WithRetiredModels(), WithAccount(Account{Key: "sk-old", Balance: 10}))
	old := srv.withKey("sk-old")
	want := 10.0
	for _, c := range []struct {
		body        map[string]any
		in, hit, op float64
	}{
		{map[string]any{"model": "kimi-latest", "messages": msgs(user("hi"))}, 0.20, 0.15, 2.00},
		{map[string]any{"model": "kimi-latest", "max_tokens": 9000, "messages": msgs(user("hi"))}, 1.00, 0.15, 3.00},
		{map[string]any{"model": "kimi-k2-0711-preview", "messages": msgs(user("hi"))}, 0.60, 0.15, 2.50},
		{map[string]any{"model": "kimi-k2-thinking-turbo", "messages": msgs(user("hi"))}, 1.15, 0.15, 8.00},
		{map[string]any{"model": "kimi-thinking-preview", "messages": msgs(user("hi"))}, 30, 30, 30},
	} {
		r := chat(t, old, c.body)
		want -= cost(r.Usage, c.in, c.hit, c.op)
		if b := balance(t, srv, "sk-old"); !approx(b.Cash, want) {
			t.Fatalf("%v: balance %+v, want %v", c.body["model"], b, want)
		}
	}
}

// The balance is the caller's own: "me" or its own user id. Another
// account's user id is refused, an unknown one not found.
func TestBalanceOtherUser(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-a", UserID: "cn0aaaaaaaaaaaaaaaaa"}), WithAccount(Account{Key: "sk-b", UserID: "cn0bbbbbbbbbbbbbbbbb"}))
	wantStatus(t, ktDo(t, srv, "GET", "/v1/users/cn0aaaaaaaaaaaaaaaaa/balance", nil), 200)
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/users/cn0bbbbbbbbbbbbbbbbb/balance", nil), 403,
		"permission_denied_error", "You are not allowed to get other user info")
	wantAPIError(t, ktDo(t, srv, "GET", "/v1/users/cn0zzzzzzzzzzzzzzzzz/balance", nil), 404,
		"resource_not_found_error", "Users cn0zzzzzzzzzzzzzzzzz not found")
	wantStatus(t, ktDo(t, srv.withKey("sk-b"), "GET", "/v1/users/cn0bbbbbbbbbbbbbbbbb/balance", nil), 200)
	wantStatus(t, ktDo(t, srv, "GET", "/v1/users/cn0bbbbbbbbbbbbbbbbb/balance", nil, "Authorization", "Bearer sk-nope"), 401)
}
