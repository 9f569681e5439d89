package onesdk

import (
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/onesdk-go/onesdk/catalog"
	"github.com/onesdk-go/onesdk/kimi"
)

// feature is a group of endpoints a provider may lack.
type feature int

const (
	featModels   feature = iota // GET /models
	featCaching                 // context caches and tags (/caching)
	featPlatform                // files, token estimation, balance
	featBatches                 // server-side batches (/batches)
	featFormulas                // official tools (/formulas)
)

func (f feature) String() string {
	return [...]string{"models endpoint", "context caching or tags", "files, token estimation or balance endpoints", "batch API", "official tools (formulas)"}[f]
}

// provider describes one backend that speaks Kimi's API.
type provider struct {
	name     string
	aliases  []string
	catalog  string // its name in package catalog
	keyEnv   string
	urlEnv   string
	baseURL  func(region string) string
	features []feature
}

// Regions are Moonshot's platforms as Config.Region names them: "cn"
// (api.moonshot.cn, the default) and "ai" (api.moonshot.ai).
func Regions() []string { return []string{"cn", "ai"} }

// providers is the table New reads; every fact about a provider is here.
var providers = []*provider{
	{
		name: "kimi", aliases: []string{"moonshot"}, catalog: catalog.ProviderMoonshot, keyEnv: "MOONSHOT_API_KEY", urlEnv: "MOONSHOT_BASE_URL",
		baseURL: func(region string) string {
			if strings.EqualFold(region, "ai") {
				return kimi.BaseURLAI
			}
			return kimi.BaseURLCN
		},
		features: []feature{featModels, featCaching, featPlatform, featBatches, featFormulas},
	},
	{
		// Ace Data Cloud resells Kimi's chat completions at
		// <host>/kimi/chat/completions, with no other endpoint: its model
		// list comes from the catalogue.
		name: "acedata", aliases: []string{"ace", "acedatacloud"}, catalog: catalog.ProviderAceData, keyEnv: "ACEDATA_API_TOKEN", urlEnv: "ACEDATA_BASE_URL",
		baseURL: func(string) string { return "https://api.acedata.cloud/kimi" },
	},
}

// Providers lists the provider names New accepts (aliases excluded).
func Providers() []string {
	var names []string
	for _, p := range providers {
		names = append(names, p.name)
	}
	slices.Sort(names)
	return names
}

// ProviderInfo is what New knows of a provider before it has a key.
type ProviderInfo struct {
	Name    string // the provider's name, as SDK.Provider reports it
	KeyEnv  string // the environment variable New reads the key from
	URLEnv  string // the environment variable New reads the base URL from
	Catalog string // the provider's name in package catalog
}

// LookupProvider returns the provider New would use for name (its name
// or an alias, in any case); ok is false for an unknown provider.
func LookupProvider(name string) (info ProviderInfo, ok bool) {
	p := findProvider(name)
	if p == nil {
		return ProviderInfo{}, false
	}
	return ProviderInfo{Name: p.name, KeyEnv: p.keyEnv, URLEnv: p.urlEnv, Catalog: p.catalog}, true
}

func findProvider(name string) *provider {
	n := strings.ToLower(strings.TrimSpace(name))
	for _, p := range providers {
		if p.name == n || slices.Contains(p.aliases, n) {
			return p
		}
	}
	return nil
}

func (p *provider) has(f feature) bool { return slices.Contains(p.features, f) }

// catalogue lists the catalogue's models that the provider offers.
func (p *provider) catalogue() []Model {
	var out []Model
	for _, m := range catalog.ForProvider(p.catalog) {
		out = append(out, p.model(m))
	}
	return out
}

// model is a catalogue entry as the provider's model list shows it.
func (p *provider) model(m catalog.Model) Model {
	r, _ := m.Rules()
	return Model{ID: m.ID, Object: "model", Created: m.Created, OwnedBy: p.name,
		ContextLength: m.ContextWindow, SupportsImageIn: m.ImageInput, SupportsVideoIn: m.VideoInput,
		SupportsReasoning: r.Thinking != catalog.ThinkingNone}
}

// gated runs call when the provider has feature f, and otherwise returns
// an ErrUnsupported error without a request.
func gated[T any](s *SDK, f feature, call func() (T, error)) (T, error) {
	if !s.p.has(f) {
		var zero T
		return zero, s.unsupported(f)
	}
	return call()
}

func (s *SDK) unsupported(f feature) error {
	return kimi.WithKind(fmt.Errorf("onesdk: provider %s has no %s (provider kimi has)", s.p.name, f), ErrUnsupported)
}

// page is gated for a list call: it returns the page's items.
func page[L, T any](s *SDK, f feature, list func() (*L, error), items func(*L) []T) ([]T, error) {
	l, err := gated(s, f, list)
	if err != nil {
		return nil, err
	}
	return items(l), nil
}

// every is gated for an iterator: without the feature it yields the
// ErrUnsupported error once.
func every[T any](s *SDK, f feature, all func() iter.Seq2[*T, error]) iter.Seq2[*T, error] {
	if !s.p.has(f) {
		err := s.unsupported(f)
		return func(yield func(*T, error) bool) { yield(nil, err) }
	}
	return all()
}
