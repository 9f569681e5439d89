package kimi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// clearProxyEnv unsets every variable the proxy environment reads, for
// the duration of the test.
func clearProxyEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
		t.Setenv(strings.ToLower(k), "")
	}
}

// proxyFor returns what c's proxy function answers for rawURL, as a
// string ("" for no proxy, "error: ..." for an error).
func proxyFor(t *testing.T, c *Client, rawURL string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.proxyFunc(req)
	switch {
	case err != nil:
		return "error: " + err.Error()
	case u == nil:
		return ""
	}
	return u.String()
}

// TestEnvProxyRules checks the proxy the client picks from the environment
// (read when the client is built). Loopback and localhost targets are never
// proxied, so this asks the proxy function about real host names.
func TestEnvProxyRules(t *testing.T) {
	const (
		httpsAPI = "https://api.moonshot.cn/v1/models"
		httpAPI  = "http://api.moonshot.cn/v1/models"
		proxyA   = "http://proxy-a.example:3128"
		socks    = "socks5://127.0.0.1:1080"
	)
	type check struct{ url, want string }
	tests := []struct {
		name   string
		env    map[string]string
		checks []check
	}{
		{"nothing set", nil, []check{{httpsAPI, ""}, {httpAPI, ""}}},
		{"HTTPS_PROXY", map[string]string{"HTTPS_PROXY": proxyA}, []check{{httpsAPI, proxyA}, {httpAPI, ""}}},
		{"http_proxy", map[string]string{"http_proxy": proxyA}, []check{{httpsAPI, ""}, {httpAPI, proxyA}}},
		{"no scheme means http", map[string]string{"HTTPS_PROXY": "proxy-a.example:3128"}, []check{{httpsAPI, proxyA}}},
		{"loopback and localhost go direct", map[string]string{"HTTPS_PROXY": proxyA, "HTTP_PROXY": proxyA}, []check{
			{"https://127.0.0.1:8443/v1", ""}, {"http://localhost/v1", ""}, {"http://[::1]:80/v1", ""}, {"https://10.0.0.1/v1", proxyA},
		}},
		{"NO_PROXY domain", map[string]string{"HTTPS_PROXY": proxyA, "NO_PROXY": "example.org, moonshot.cn"}, []check{
			{httpsAPI, ""}, {"https://moonshot.cn/v1", ""}, {"https://api.moonshot.ai/v1", proxyA}, {"https://notmoonshot.cn/v1", proxyA},
		}},
		{"no_proxy subdomains only", map[string]string{"HTTPS_PROXY": proxyA, "no_proxy": ".moonshot.cn"}, []check{
			{httpsAPI, ""}, {"https://moonshot.cn/v1", proxyA},
		}},
		{"NO_PROXY wildcard domain and port", map[string]string{"HTTPS_PROXY": proxyA, "NO_PROXY": "*.moonshot.cn:8443"}, []check{
			{"https://api.moonshot.cn:8443/v1", ""}, {httpsAPI, proxyA},
		}},
		{"NO_PROXY CIDR and IP", map[string]string{"HTTPS_PROXY": proxyA, "NO_PROXY": "10.0.0.0/8,192.168.1.5"}, []check{
			{"https://10.1.2.3/v1", ""}, {"https://192.168.1.5/v1", ""}, {"https://192.168.1.6/v1", proxyA}, {"https://api.10.example/v1", proxyA},
		}},
		{"NO_PROXY star", map[string]string{"HTTPS_PROXY": proxyA, "NO_PROXY": "*"}, []check{{httpsAPI, ""}}},
		{"NO_PROXY names compared as IDNA", map[string]string{"HTTPS_PROXY": proxyA, "NO_PROXY": "bücher.example,xn--mnchen-3ya.example"}, []check{
			{"https://xn--bcher-kva.example/v1", ""}, {"https://bücher.example/v1", ""}, {"https://münchen.example/v1", ""}, {"https://buecher.example/v1", proxyA},
		}},
		{"blanks around values", map[string]string{"HTTPS_PROXY": " " + proxyA + "\n", "NO_PROXY": " moonshot.ai "}, []check{
			{httpsAPI, proxyA}, {"https://api.moonshot.ai/v1", ""},
		}},
		{"ALL_PROXY for both", map[string]string{"ALL_PROXY": socks}, []check{{httpsAPI, socks}, {httpAPI, socks}}},
		{"all_proxy", map[string]string{"all_proxy": socks}, []check{{httpsAPI, socks}}},
		{"ALL_PROXY keeps NO_PROXY", map[string]string{"ALL_PROXY": socks, "NO_PROXY": "moonshot.cn"}, []check{
			{httpsAPI, ""}, {"https://api.moonshot.ai/v1", socks},
		}},
		{"ALL_PROXY only when the others are unset", map[string]string{"ALL_PROXY": socks, "HTTPS_PROXY": proxyA}, []check{
			{httpsAPI, proxyA}, {httpAPI, ""},
		}},
		{"CGI refuses HTTP_PROXY", map[string]string{"REQUEST_METHOD": "GET", "HTTP_PROXY": proxyA}, []check{
			{httpAPI, "error: kimi: refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy"},
		}},
		{"CGI allows ALL_PROXY", map[string]string{"REQUEST_METHOD": "GET", "ALL_PROXY": socks}, []check{{httpAPI, socks}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearProxyEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			c, _ := newTestClient(t, "")
			for _, ch := range tt.checks {
				if got := proxyFor(t, c, ch.url); got != ch.want {
					t.Errorf("proxy for %s = %q, want %q", ch.url, got, ch.want)
				}
			}
		})
	}

	t.Run("read when the client is built", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("HTTPS_PROXY", proxyA)
		a, _ := newTestClient(t, "")
		t.Setenv("HTTPS_PROXY", "http://proxy-b.example:3128")
		b, _ := newTestClient(t, "")
		t.Setenv("HTTPS_PROXY", "")
		if got := proxyFor(t, a, httpsAPI); got != proxyA {
			t.Errorf("first client: %q", got)
		}
		if got := proxyFor(t, b, httpsAPI); got != "http://proxy-b.example:3128" {
			t.Errorf("second client: %q", got)
		}
	})
	t.Run("SetProxy overrides and restores the environment", func(t *testing.T) {
		clearProxyEnv(t)
		t.Setenv("HTTPS_PROXY", proxyA)
		c, _ := newTestClient(t, "")
		if err := c.SetProxy(socks); err != nil {
			t.Fatal(err)
		}
		if got := proxyFor(t, c, httpsAPI); got != socks {
			t.Errorf("after SetProxy: %q", got)
		}
		c.SetProxy("")
		if got := proxyFor(t, c, httpsAPI); got != proxyA {
			t.Errorf("after SetProxy(\"\"): %q", got)
		}
	})
}

// answeringProxy is an HTTP forward proxy that answers every proxied
// request itself (so the target host never needs to resolve), and the
// hosts asked of it.
func answeringProxy(t *testing.T) (*Loopback, func() []string) {
	p := NewLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.IsAbs() {
			http.Error(w, "not a proxy request", http.StatusBadRequest)
			return
		}
		ok200(w, r)
	})
	return p, func() []string {
		var hosts []string
		for _, r := range p.Requests() {
			hosts = append(hosts, r.URL.Host)
		}
		return hosts
	}
}

// fixedSocks5 is a SOCKS5 server that connects every request to upstream,
// whatever host it names, and records the names.
func fixedSocks5(t *testing.T, upstream string) (string, func() []string) {
	return socks5Server(t, func(string) (net.Conn, error) { return net.Dial("tcp", upstream) })
}

// TestEnvProxyRequests sends real requests for a made-up host name through
// the proxies the environment names.
func TestEnvProxyRequests(t *testing.T) {
	const base = "http://api.kimi.invalid/v1"
	ctx := context.Background()

	t.Run("HTTP_PROXY", func(t *testing.T) {
		clearProxyEnv(t)
		p, hosts := answeringProxy(t)
		t.Setenv("HTTP_PROXY", p.URL)
		c, _ := newTestClient(t, base)
		if _, err := c.Models.List(ctx); err != nil {
			t.Fatal(err)
		}
		if h := hosts(); len(h) != 1 || h[0] != "api.kimi.invalid" {
			t.Errorf("proxy saw %q, want one request for api.kimi.invalid", h)
		}
	})
	t.Run("NO_PROXY bypasses it", func(t *testing.T) {
		clearProxyEnv(t)
		p, hosts := answeringProxy(t)
		target := NewLoopback(t, ok200)
		t.Setenv("HTTP_PROXY", p.URL)
		t.Setenv("NO_PROXY", "kimi.invalid")
		c, _ := newTestClient(t, base)
		// A direct connection to the made-up host lands on target.
		var dialed atomic.Value
		tr := c.hc.Load().Transport.(*http.Transport)
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed.Store(addr)
			if strings.HasSuffix(addr, ".invalid:80") {
				addr = target.Listener.Addr().String()
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		if _, err := c.Models.List(ctx); err != nil {
			t.Fatal(err)
		}
		if h := hosts(); len(h) != 0 {
			t.Errorf("proxy saw %q; NO_PROXY should have bypassed it", h)
		}
		if target.Hits.Load() != 1 || dialed.Load() != "api.kimi.invalid:80" {
			t.Errorf("direct request: %d hits, dialed %v", target.Hits.Load(), dialed.Load())
		}
	})
	t.Run("ALL_PROXY socks5", func(t *testing.T) {
		clearProxyEnv(t)
		target := NewLoopback(t, ok200)
		sp, hosts := fixedSocks5(t, target.Listener.Addr().String())
		t.Setenv("ALL_PROXY", "socks5://"+sp)
		c, _ := newTestClient(t, base)
		if _, err := c.Models.List(ctx); err != nil {
			t.Fatal(err)
		}
		if h := hosts(); len(h) != 1 || h[0] != "api.kimi.invalid:80" {
			t.Errorf("socks proxy saw %q, want one connection to api.kimi.invalid:80", h)
		}
		if target.Hits.Load() != 1 {
			t.Errorf("target hits = %d", target.Hits.Load())
		}
	})
}
