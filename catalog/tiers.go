package catalog

import "maps"

// Limits are an organization's rate limits on Kimi's platform: every key
// and project of the organization shares them, across all models. A zero
// field is no limit. Tokens are charged at admission as the prompt plus
// max_tokens (DefaultMaxTokens when the request sets none), whatever is
// generated.
type Limits struct {
	Concurrency int // requests in flight
	RPM         int // requests in any 60 s
	TPM         int // tokens in any 60 s
	TPD         int // tokens in any 24 h
}

// Tier returns a published tier's limits; ok is false for an unknown
// name. The names are those of Tiers.
func Tier(name string) (l Limits, ok bool) {
	l, ok = tiers[name]
	return l, ok
}

// Tiers returns Moonshot's published tier tables, keyed by name: "free"
// and "tier1".."tier5" from the 2025 docs, "2026-tier0".."2026-tier5"
// from the 2026 platform (https://platform.moonshot.ai/docs/pricing/limits;
// the .cn platform has the same limits at CNY thresholds). A zero
// Limits is unlimited. The map is the caller's to change.
func Tiers() map[string]Limits { return maps.Clone(tiers) }

var tiers = map[string]Limits{
	"free":  {Concurrency: 1, RPM: 3, TPM: 32000, TPD: 1500000},
	"tier1": {Concurrency: 50, RPM: 200, TPM: 128000, TPD: 10000000},
	"tier2": {Concurrency: 100, RPM: 500, TPM: 128000, TPD: 20000000},
	"tier3": {Concurrency: 200, RPM: 5000, TPM: 384000},
	"tier4": {Concurrency: 400, RPM: 5000, TPM: 768000},
	"tier5": {Concurrency: 1000, RPM: 10000, TPM: 2000000},

	"2026-tier0": {Concurrency: 1, RPM: 3, TPM: 500000, TPD: 1500000},
	"2026-tier1": {Concurrency: 50, RPM: 200, TPM: 2000000},
	"2026-tier2": {Concurrency: 100, RPM: 500, TPM: 3000000},
	"2026-tier3": {Concurrency: 200, RPM: 5000, TPM: 3000000},
	"2026-tier4": {Concurrency: 400, RPM: 5000, TPM: 4000000},
	"2026-tier5": {Concurrency: 1000, RPM: 10000, TPM: 5000000},
}
