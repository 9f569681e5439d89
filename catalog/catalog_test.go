package catalog_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/catalog"
)

func ids(ms []catalog.Model) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	date := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	for _, m := range catalog.Models() {
		id := strings.ToLower(m.ID)
		if m.ID == "" || id != m.ID || strings.ContainsAny(m.ID, "/ ") {
			t.Errorf("id %q: want a non-empty lower-case id without spaces or vendor prefix", m.ID)
		}
		if seen[id] {
			t.Errorf("id %q is listed twice", m.ID)
		}
		seen[id] = true
		if _, ok := m.Rules(); !ok {
			t.Errorf("%s: family %q has no rules", m.ID, m.Family)
		}
		switch m.Status {
		case catalog.StatusActive, catalog.StatusPreview, catalog.StatusDeprecated, catalog.StatusRetired:
		default:
			t.Errorf("%s: status %q", m.ID, m.Status)
		}
		if m.RetiresOn != "" && !date.MatchString(m.RetiresOn) {
			t.Errorf("%s: RetiresOn %q is not YYYY-MM-DD", m.ID, m.RetiresOn)
		}
		if m.Status == catalog.StatusDeprecated && m.RetiresOn == "" {
			t.Errorf("%s: deprecated without a retirement date", m.ID)
		}
		if m.Status != catalog.StatusRetired && len(m.Providers) == 0 {
			t.Errorf("%s: offered by no provider", m.ID)
		}
		if m.Status == catalog.StatusRetired && m.OfferedBy(catalog.ProviderMoonshot) {
			t.Errorf("%s: retired, yet offered by Moonshot", m.ID)
		}
		for _, p := range m.Providers {
			if p != catalog.ProviderMoonshot && p != catalog.ProviderAceData {
				t.Errorf("%s: unknown provider %q", m.ID, p)
			}
		}
		if (m.OfferedBy(catalog.ProviderMoonshot) || m.Status == catalog.StatusRetired) && (m.ContextWindow <= 0 || m.Created <= 0) {
			t.Errorf("%s: a Moonshot model needs its window and created date (GET /models lists both)", m.ID)
		}
		r, _ := m.Rules()
		if (len(r.Efforts) == 0) != (r.DefaultEffort == "") || (r.DefaultEffort != "" && !slices.Contains(r.Efforts, r.DefaultEffort)) {
			t.Errorf("%s: default effort %q not among %v", m.ID, r.DefaultEffort, r.Efforts)
		}
		if m.ExplicitCache && (!r.ExplicitCache || m.ImageInput) {
			t.Errorf("%s: ExplicitCache on a model whose family has no explicit caches, or on a vision model", m.ID)
		}
	}
}

func TestFamilyRules(t *testing.T) {
	k25, ok := catalog.FamilyK25.Rules()
	if !ok || k25.Fixed != catalog.FixedAll || k25.Keep != catalog.KeepRefused || k25.TopP != 0.95 || k25.DefaultTemperature(true) != 1 || k25.DefaultTemperature(false) != 0.6 {
		t.Errorf("kimi-k2.5 rules = %+v", k25)
	}
	if !k25.Thinks("") || !k25.Thinks("enabled") || k25.Thinks("disabled") {
		t.Error("kimi-k2.5 thinks unless disabled")
	}
	th, _ := catalog.FamilyK2Thinking.Rules()
	if !th.Thinks("disabled") || th.Thinking != catalog.ThinkingForced || th.ToolCallIDs != catalog.ToolCallIDQualified {
		t.Errorf("kimi-k2-thinking rules = %+v", th)
	}
	k26, _ := catalog.FamilyK26.Rules()
	if k26.Keep != catalog.KeepOptional || k26.Fixed != catalog.FixedAll || k26.ThinkingType() != "both" {
		t.Errorf("kimi-k2.6 rules = %+v", k26)
	}
	k27, _ := catalog.FamilyK27.Rules()
	if k27.Keep != catalog.KeepAlways || k27.ThinkingType() != "only" || k27.RequiredWhileThinking || k27.ToolCallIDs != catalog.ToolCallIDUnderscore {
		t.Errorf("kimi-k2.7 rules = %+v", k27)
	}
	k3, _ := catalog.FamilyK3.Rules()
	if k3.Fixed != catalog.ParamTemperature || !k3.Fixed.Has(catalog.ParamTemperature) || k3.Fixed.Has(catalog.ParamTopP) ||
		!slices.Equal(k3.Efforts, []string{"low", "high", "max"}) || !k3.RequiredWhileThinking || !k3.Thinks("") {
		t.Errorf("kimi-k3 rules = %+v", k3)
	}
	if m, _ := catalog.Lookup("kimi-k3"); m.ContextWindow != 1048576 || m.Family != catalog.FamilyK3 {
		t.Errorf("kimi-k3 = %+v", m)
	}
	v1, _ := catalog.FamilyMoonshotV1.Rules()
	if v1.Thinks("enabled") || v1.ThinkingType() != "no" || v1.DefaultTemperature(false) != 0 || !v1.ExplicitCache || v1.AutoCache || v1.ToolCallIDs != catalog.ToolCallIDPlain {
		t.Errorf("moonshot-v1 rules = %+v", v1)
	}
	if tp, _ := catalog.FamilyThinkingPreview.Rules(); tp.Tools {
		t.Error("kimi-thinking-preview takes no tools")
	}
	if _, ok := catalog.Family("").Rules(); ok {
		t.Error(`family "" has rules`)
	}
	if catalog.ThinkingDefaultOn.String() != "default-on" || catalog.Thinking(9).String() != "Thinking(9)" {
		t.Error("Thinking.String")
	}
}

func TestLookup(t *testing.T) {
	for _, id := range []string{"kimi-k2.5", "KIMI-K2.5", "moonshotai/kimi-k2.5", " moonshot/kimi-k2.5 "} {
		m, ok := catalog.Lookup(id)
		if !ok || m.ID != "kimi-k2.5" || m.Family != catalog.FamilyK25 || m.ContextWindow != 262144 || !m.VideoInput {
			t.Errorf("Lookup(%q) = %+v, %t", id, m, ok)
		}
	}
	for _, id := range []string{"", "kimi-k9", "gpt-4o", "moonshot-v1-256k", "kimi-k2.5/"} {
		if m, ok := catalog.Lookup(id); ok {
			t.Errorf("Lookup(%q) = %+v, want unknown", id, m)
		}
	}
	if m, _ := catalog.Lookup("moonshot-v1-auto"); m.ContextWindow != 131072 {
		t.Errorf("moonshot-v1-auto window %d", m.ContextWindow)
	}
}

func TestNoSharedState(t *testing.T) {
	a := catalog.Models()
	a[0].ID = "changed"
	a[0].Providers[0] = "changed"
	m, _ := catalog.Lookup("kimi-k2.5")
	m.Providers[0] = "changed"
	ace := catalog.ForProvider("acedata")
	ace[0].Providers[0] = "changed"
	qa := catalog.DocumentQAModels()
	qa[0] = "changed"
	k3, _ := catalog.FamilyK3.Rules()
	k3.Efforts[0] = "changed"
	if again, _ := catalog.FamilyK3.Rules(); again.Efforts[0] != "low" {
		t.Error("Rules shares its Efforts")
	}
	b := catalog.Models()
	if b[0].ID == "changed" || slices.Contains(b[0].Providers, "changed") {
		t.Error("Models shares its slice")
	}
	for _, m := range b {
		if slices.Contains(m.Providers, "changed") {
			t.Errorf("%s: Providers shared", m.ID)
		}
	}
	if catalog.DocumentQAModels()[0] != "moonshot-v1-8k" {
		t.Error("DocumentQAModels shares its slice")
	}
}

func TestForProvider(t *testing.T) {
	// Ace Data Cloud's Kimi endpoint: the four models of its docs, and
	// kimi-k3 of its newest guide.
	wantAce := []string{"kimi-k2.5", "kimi-k2-thinking-turbo", "kimi-k2-thinking", "kimi-k2-instruct-0905", "kimi-k3"}
	for _, name := range []string{"acedata", "AceData"} {
		got := ids(catalog.ForProvider(name))
		if !sameSet(got, wantAce) {
			t.Errorf("ForProvider(%q) = %v, want %v", name, got, wantAce)
		}
	}
	moon := ids(catalog.ForProvider("moonshot"))
	wantMoon := []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto",
		"moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview",
		"kimi-k2.5", "kimi-k2.6", "kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"}
	if !slices.Equal(moon, wantMoon) {
		t.Errorf("ForProvider(moonshot) = %v, want %v", moon, wantMoon)
	}
	// The K2 line retired on 2026-05-25: no longer on Moonshot, two of
	// its models still on Ace.
	for _, m := range catalog.Retired() {
		if strings.HasPrefix(m.ID, "kimi-k2-") && m.RetiresOn != "2026-05-25" {
			t.Errorf("%s retired on %q", m.ID, m.RetiresOn)
		}
	}
	if n := len(catalog.Retired()); n != 7 {
		t.Errorf("%d retired models, want 7", n)
	}
	if got := catalog.ForProvider("kimi"); got != nil { // the facade's alias, not the catalogue's
		t.Errorf("ForProvider(kimi) = %v, want none", got)
	}
	if got := catalog.ForProvider("openai"); got != nil {
		t.Errorf("unknown provider: %v", got)
	}
}

func TestProviderRules(t *testing.T) {
	if r := catalog.RulesFor("moonshot"); r.MaxTokensField != "max_completion_tokens" || r.IgnoresFixedSampling {
		t.Errorf("moonshot: %+v", r)
	}
	if r := catalog.RulesFor("AceData"); r.MaxTokensField != "max_tokens" || !r.IgnoresFixedSampling {
		t.Errorf("acedata: %+v", r)
	}
	for _, p := range []string{catalog.ProviderMoonshot, catalog.ProviderAceData} {
		d := catalog.RulesFor(p).DefaultModel
		if m, ok := catalog.Lookup(d); !ok || !m.OfferedBy(p) || m.Status != catalog.StatusActive {
			t.Errorf("%s: default model %q is not an active model it offers", p, d)
		}
	}
	// Moonshot's cache model can hold a cache; Ace Data Cloud has none.
	if d := catalog.RulesFor(catalog.ProviderMoonshot).DefaultCacheModel; catalog.CacheRefusal(d) != "" || d == "" {
		t.Errorf("moonshot: default cache model %q cannot use a cache", d)
	}
	if d := catalog.RulesFor(catalog.ProviderAceData).DefaultCacheModel; d != "" {
		t.Errorf("acedata: default cache model %q, want none", d)
	}
	if catalog.RulesFor("") != catalog.RulesFor("moonshot") {
		t.Error("an unknown provider does not get Moonshot's rules")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestCacheFamily(t *testing.T) {
	for _, model := range []string{"", "moonshot-v1", "Moonshot-V1", "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto", "moonshot/moonshot-v1-128k"} {
		fam, ok := catalog.CacheFamily(model)
		if !ok || fam != "moonshot-v1" {
			t.Errorf("CacheFamily(%q) = %q, %t; want moonshot-v1", model, fam, ok)
		}
		if r := catalog.CacheRefusal(model); r != "" {
			t.Errorf("CacheRefusal(%q) = %q", model, r)
		}
	}
	for model, reason := range map[string]string{
		"moonshot-v1-8k-vision-preview": "use it with moonshot-v1-8k-vision-preview",
		"kimi-k2.5":                     "caches prompt prefixes automatically",
		"kimi-thinking-preview":         "only the moonshot-v1 family",
		"kimi-k2":                       "only the moonshot-v1 family",
		"moonshot-v1-256k":              "moonshot-v1-8k, moonshot-v1-32k, moonshot-v1-128k, moonshot-v1-auto",
	} {
		if fam, ok := catalog.CacheFamily(model); ok || fam != "" {
			t.Errorf("CacheFamily(%q) = %q, %t; want refused", model, fam, ok)
		}
		if r := catalog.CacheRefusal(model); !strings.Contains(r, reason) {
			t.Errorf("CacheRefusal(%q) = %q, want it to say %q", model, r, reason)
		}
	}
}

func TestCurrent(t *testing.T) {
	forced := catalog.Current(func(_ catalog.Model, r catalog.Rules) bool { return r.Thinking == catalog.ThinkingForced })
	if !slices.Equal(forced, []string{"kimi-k2.7-code", "kimi-k2.7-code-highspeed", "kimi-k3"}) {
		t.Errorf("always-thinking models %v", forced)
	}
	all := catalog.Current(func(catalog.Model, catalog.Rules) bool { return true })
	for _, id := range all {
		if m, _ := catalog.Lookup(id); m.Status == catalog.StatusRetired {
			t.Errorf("Current lists the retired %s", id)
		}
	}
	if len(all)+len(catalog.Retired()) != len(catalog.Models()) {
		t.Errorf("%d current and %d retired of %d models", len(all), len(catalog.Retired()), len(catalog.Models()))
	}
}

func TestDocumentQAModels(t *testing.T) {
	got := catalog.DocumentQAModels()
	if !slices.Equal(got, []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"}) {
		t.Fatalf("DocumentQAModels = %v", got)
	}
	prev := 0
	for _, id := range got {
		m, ok := catalog.Lookup(id)
		if !ok || m.ContextWindow <= prev || m.Status == catalog.StatusRetired {
			t.Errorf("%s: not a usable model with a window above %d", id, prev)
		}
		prev = m.ContextWindow
	}
}

// The Batch API's models are current Moonshot models with a price, so a
// batch can be billed.
func TestBatchModels(t *testing.T) {
	got := catalog.BatchModels()
	if !slices.Equal(got, []string{"kimi-k2.5", "kimi-k2.6"}) {
		t.Fatalf("BatchModels = %v", got)
	}
	for _, id := range got {
		m, ok := catalog.Lookup(id)
		if _, priced := catalog.ModelPrice(id, 1000); !ok || m.Status != catalog.StatusActive || !m.OfferedBy(catalog.ProviderMoonshot) || !priced {
			t.Errorf("%s: not an active, priced Moonshot model", id)
		}
	}
}

func TestPrices(t *testing.T) {
	for _, tc := range []struct {
		id   string
		size int
		row  string
	}{
		{"moonshot-v1-32k", 100, "moonshot-v1-32k"},
		{"moonshot-v1-auto", 9000, "moonshot-v1-32k"},
		{"kimi-k2.6", 10, "kimi-k2.6"},
		{"kimi-k2.7-code-highspeed", 10, "kimi-k2.7-code-highspeed"},
		{"kimi-k3", 10, "kimi-k3"},
		{"kimi-k2-thinking-turbo", 10, "kimi-k2-turbo"},
	} {
		if p, ok := catalog.ModelPrice(tc.id, tc.size); !ok || p.Row != tc.row || p.Output <= 0 {
			t.Errorf("ModelPrice(%s, %d) = %+v, %v", tc.id, tc.size, p, ok)
		}
	}
	if _, ok := catalog.ModelPrice("gpt-4o", 1); ok {
		t.Error("a model the table lacks has a price")
	}
	k3, _ := catalog.ModelPrice("kimi-k3", 1)
	// 1M prompt tokens, half of them cached, and 1M generated.
	if got := k3.Cost(1_000_000, 500_000, 1_000_000); got != 1.5+0.15+15 {
		t.Errorf("kimi-k3 cost = %v", got)
	}
}
