package kimi_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
)

func TestCacheMessageGrammar(t *testing.T) {
	for _, tc := range []struct {
		ref  kimi.CacheRef
		want string
	}{
		{kimi.CacheRef{CacheID: "cache-essqmysd6h1111dauub1"}, "cache_id=cache-essqmysd6h1111dauub1"},
		{kimi.CacheRef{Tag: "moonshot_knowledge_0002", ResetTTL: time.Hour}, "tag=moonshot_knowledge_0002;reset_ttl=3600"},
		{kimi.CacheRef{CacheID: "cache-1", ResetTTL: 10 * time.Second, DryRun: true}, "cache_id=cache-1;reset_ttl=10;dry_run=1"},
		{kimi.CacheRef{Tag: "a", DryRun: true}, "tag=a;dry_run=1"},
	} {
		m := kimi.CacheMessage(tc.ref)
		if m.Role != kimi.RoleCache || m.Content != tc.want {
			t.Errorf("CacheMessage(%+v) = %+v, want content %q", tc.ref, m, tc.want)
		}
		back, err := kimi.ParseCacheRef(m.Content)
		if err != nil || back != tc.ref {
			t.Errorf("ParseCacheRef(%q) = %+v, %v", m.Content, back, err)
		}
	}
	for _, bad := range []string{"", "cache_id=", "tag=a;", ";tag=a", "tag=a;tag=b", "tag=a;cache_id=c",
		"reset_ttl=5", "tag=a;reset_ttl=x", "tag=a;reset_ttl=-1", "tag=a;dry_run=yes", "tag=a;color=red", "cache_id=a b", "tag"} {
		var ve *kimi.ValidationError
		if _, err := kimi.ParseCacheRef(bad); !errors.As(err, &ve) {
			t.Errorf("ParseCacheRef(%q) = %v, want a *ValidationError", bad, err)
		}
	}
}

func TestCacheHeaders(t *testing.T) {
	h := kimi.CacheHeaders(kimi.CacheRef{CacheID: "cache-1", ResetTTL: time.Minute, DryRun: true})
	if h.Get("X-Msh-Context-Cache") != "cache-1" || h.Get("X-Msh-Context-Cache-Reset-TTL") != "60" || h.Get("X-Msh-Context-Cache-DryRun") != "1" {
		t.Errorf("headers = %v", h)
	}
	h = kimi.CacheHeaders(kimi.CacheRef{CacheID: "cache-1"})
	if len(h) != 1 {
		t.Errorf("unset fields sent: %v", h)
	}
}

func TestCacheInfo(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	hdr := func(kv ...string) http.Header {
		h := http.Header{"Date": {date.Format(http.TimeFormat)}}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for name, tc := range map[string]struct {
		h      http.Header
		cached int
		want   kimi.CacheInfo
	}{
		"exp (docs)": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Saved", "4700", "Msh-Context-Cache-Token-Exp", "1772370000"), 0,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 4700, ExpiresAt: time.Unix(1772370000, 0), Hit: true}},
		"ttl (cookbook), seconds left": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Saved", "10", "Msh-Context-Cache-Token-Ttl", "3600"), 0,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 10, ExpiresAt: date.Add(time.Hour), Hit: true}},
		"ttl holding a unix time": {hdr("Msh-Context-Cache-Id", "cache-1", "Msh-Context-Cache-Token-Ttl", "1772370000"), 7,
			kimi.CacheInfo{ID: "cache-1", TokensSaved: 7, ExpiresAt: time.Unix(1772370000, 0), Hit: true}},
		"automatic caching": {hdr("Msh-Context-Cache-Token-Saved", "512"), 512, kimi.CacheInfo{TokensSaved: 512, Hit: true}},
		"usage only":        {hdr(), 300, kimi.CacheInfo{TokensSaved: 300, Hit: true}},
		"none":              {hdr("Msh-Context-Cache-Token-Saved", "0"), 0, kimi.CacheInfo{}},
		"garbage":           {hdr("Msh-Context-Cache-Token-Saved", "x", "Msh-Context-Cache-Token-Exp", "soon"), 0, kimi.CacheInfo{}},
	} {
		cc := &kimi.ChatCompletion{Header: tc.h, Usage: &kimi.Usage{CachedTokens: tc.cached}}
		got := cc.CacheInfo()
		if got.ID != tc.want.ID || got.TokensSaved != tc.want.TokensSaved || !got.ExpiresAt.Equal(tc.want.ExpiresAt) || got.Hit != tc.want.Hit {
			t.Errorf("%s: CacheInfo = %+v, want %+v", name, got, tc.want)
		}
	}
	if info := (&kimi.ChatCompletion{}).CacheInfo(); info != (kimi.CacheInfo{}) {
		t.Errorf("empty completion: %+v", info)
	}
}
