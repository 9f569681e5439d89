package kimitest

import (
	"strings"
	"testing"
)

// orgSetup runs an emulator with organization A (keys sk-a1, sk-a2) and
// organization B (key sk-b), plus opts.
func orgSetup(t *testing.T, opts ...Option) *Server {
	t.Helper()
	return setup(t, append([]Option{WithCacheReadyDelay(0),
		WithAccount(Account{Key: "sk-a1", Keys: []string{"sk-a2"}, OrgID: "org-a", Tier: "enterprise-tier-3"}),
		WithAccount(Account{Key: "sk-b", OrgID: "org-b"})}, opts...)...)
}

// The keys of one organization count against one RPM budget; the 429
// names the organization and the calling key. Another organization keeps
// its own budget.
func TestOrgSharesRateLimits(t *testing.T) {
	srv := orgSetup(t, WithLimits(Limits{RPM: 2}))
	a1, a2, b := srv.withKey("sk-a1"), srv.withKey("sk-a2"), srv.withKey("sk-b")
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("hi"))}
	chat(t, a1, body)
	chat(t, a1, body)
	r := postChat(t, a2, body)
	typ, msg := apiErr(t, r)
	want := "Your account org-a<" + akID("sk-a2") + "> request reached organization max RPM: 2"
	if r.Status != 429 || typ != "rate_limit_reached_error" || !strings.HasPrefix(msg, want) {
		t.Fatalf("second key after the budget: %d %s %q; want 429 %q…", r.Status, typ, msg, want)
	}
	chat(t, b, body)
	chat(t, b, body)
	// Every key of the org carries the org's tier.
	for _, k := range []*Server{a1, a2} {
		if gid := ktDo(t, k, "GET", "/v1/models", nil).Header.Get("Msh-Gid"); gid != "enterprise-tier-3" {
			t.Fatalf("%s: Msh-Gid %q, want the org's enterprise-tier-3", k.Key, gid)
		}
	}
	if gid := ktDo(t, b, "GET", "/v1/models", nil).Header.Get("Msh-Gid"); gid != "enterprise-tier-5" {
		t.Fatalf("sk-b: Msh-Gid %q, want the default tier", gid)
	}
}

// A charge made with one key lowers the balance every key of the org
// sees, and the ledger is the org's; another org is not charged.
func TestOrgSharesBalance(t *testing.T) {
	srv := orgSetup(t)
	before := balance(t, srv, "sk-a2")
	c := chat(t, srv.withKey("sk-a1"), map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Charge me."))})
	after := balance(t, srv, "sk-a2")
	if !approx(after.Available, before.Available-cost(c.Usage, 0.20, 0, 2.00)) {
		t.Fatalf("sk-a2 sees %v after sk-a1's charge, want %v", after.Available, before.Available-cost(c.Usage, 0.20, 0, 2.00))
	}
	if got := balance(t, srv, "sk-a1"); got != after {
		t.Fatalf("the org's keys disagree: %+v vs %+v", got, after)
	}
	if len(srv.Emulator.Ledger("sk-a2")) != 1 || len(srv.Emulator.Ledger("sk-b")) != 0 {
		t.Fatalf("ledgers: sk-a2 %v, sk-b %v", srv.Emulator.Ledger("sk-a2"), srv.Emulator.Ledger("sk-b"))
	}
	if got := balance(t, srv, "sk-b"); got.Available != DefaultBalance {
		t.Fatalf("sk-b charged: %+v", got)
	}
}

// Files, caches and tags made with one key are the org's: every key of it
// sees and uses them, a key of another org does not.
func TestOrgSharesResources(t *testing.T) {
	srv := orgSetup(t)
	a1, a2, b := srv.withKey("sk-a1"), srv.withKey("sk-a2"), srv.withKey("sk-b")
	f := mustUpload(t, a1, "org.txt", "", []byte("shared within the org"))
	if ids := listKeys(t, a2, "/v1/files", func(f wireFile) string { return f.ID }); len(ids) != 1 || ids[0] != f.ID {
		t.Fatalf("sk-a2 lists files %v, want [%s]", ids, f.ID)
	}
	wantStatus(t, ktDo(t, a2, "GET", "/v1/files/"+f.ID+"/content", nil), 200)
	wantStatus(t, ktDo(t, b, "GET", "/v1/files/"+f.ID, nil), 404)
	if n := len(listFiles(t, b)); n != 0 {
		t.Fatalf("sk-b lists %d files of org A", n)
	}

	c := createCache(t, a1, cacheBody(map[string]any{"tags": []string{"shared"}}))
	wantStatus(t, ktDo(t, a2, "GET", "/v1/caching/"+c.ID, nil), 200)
	wantStatus(t, ktDo(t, a2, "GET", "/v1/caching/refs/tags/shared", nil), 200)
	chat(t, a2, cacheChat("tag=shared", "moonshot-v1-8k", ""))
	wantStatus(t, ktDo(t, b, "GET", "/v1/caching/"+c.ID, nil), 404)
	wantStatus(t, ktDo(t, b, "GET", "/v1/caching/refs/tags/shared", nil), 404)
	if !srv.Emulator.SetCacheError("sk-a2", c.ID, "invalid_request_error", "boom") || srv.Emulator.SetCacheError("sk-b", c.ID, "x", "y") {
		t.Fatal("SetCacheError: want found through sk-a2, not through sk-b")
	}
	wantStatus(t, ktDo(t, a2, "DELETE", "/v1/caching/"+c.ID, nil), 200)
	wantStatus(t, ktDo(t, a1, "GET", "/v1/caching/"+c.ID, nil), 404)
}

// Once one key has spent the org's balance, the other is refused too, in
// a message naming the org and the calling key.
func TestOrgSuspendedNamesCallingKey(t *testing.T) {
	srv := setup(t, WithAccount(Account{Key: "sk-p1", Keys: []string{"sk-p2"}, OrgID: "org-poor", Balance: 0.00001}))
	body := map[string]any{"model": "moonshot-v1-8k", "messages": msgs(user("Spend the org's last cent."))}
	chat(t, srv.withKey("sk-p1"), body)
	msg := "Your account org-poor<" + akID("sk-p2") + "> is suspended, please check your plan and billing details"
	wantAPIError(t, postChat(t, srv.withKey("sk-p2"), body), 429, "exceeded_current_quota_error", msg)
}
