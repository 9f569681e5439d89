package catalog

import "strings"

// ChatPrice's table: USD per 1M tokens (input / cache hit / output), from
// https://platform.moonshot.ai/docs/pricing/chat where published.
//
//	moonshot-v1-8k (and -8k-vision-preview)      0.20 / 0    / 2.00   published
//	moonshot-v1-32k (and -32k-vision-preview)    1.00 / 0    / 3.00   published
//	moonshot-v1-128k (and -128k-vision-preview)  2.00 / 0    / 5.00   published
//	moonshot-v1-auto: billed as the model the router picks from
//	  prompt + max_tokens (default 1024): ≤ 8,192 → 8k, ≤ 32,768 → 32k,
//	  else 128k
//	kimi-latest: 8k / 32k / 128k tier by the same request size,
//	  0.20|1.00|2.00 / 0.15 / 2.00|3.00|5.00                           published
//	kimi-k2-0711-preview, kimi-k2-0905-preview,
//	  kimi-k2-thinking                           0.60 / 0.15 / 2.50   published (0711); the others: assumption
//	kimi-k2-turbo-preview, kimi-k2-thinking-turbo 1.15 / 0.15 / 8.00  assumption (one-api's CNY list
//	                                                                  prices turbo ~2× in, ~3.6× out)
//	kimi-k2.5                                    0.60 / 0.10 / 3.00   published (2026)
//	kimi-k2.6                                    0.95 / 0.16 / 4.00   reported, weakly (CNY list ¥6.5 / ¥1.1 / ¥27)
//	kimi-k2.7-code                               0.95 / 0.19 / 4.00   reported
//	kimi-k2.7-code-highspeed                     1.90 / 0.38 / 8.00   reported (twice -code)
//	kimi-k3                                      3.00 / 0.30 / 15.00  reported
//	kimi-thinking-preview                        30.00 / –   / 30.00  published (no caching)
//
// The K2 line, kimi-latest and kimi-thinking-preview are retired on
// Moonshot (WithRetiredModels serves them); their rows are the last
// prices. The K2 thinking models and kimi-k2-instruct-0905 (priced as K2)
// are still on Ace Data Cloud.
//
// The moonshot-v1 cache-hit price is 0: the family has no automatic
// caching, and tokens served from an explicit context cache are
// "limited-time free" (the cache's own fees are charged instead).
// A model added with WithModels is priced by its family (and "turbo" or
// "highspeed" in its id); a moonshot-v1 model by its context length.

// Price is one row of the chat price table, USD per 1M tokens; Row names
// the row (the model, or the size tier it is billed as).
type Price struct {
	Row                     string
	Input, CacheHit, Output float64
}

// Cost is the USD price of a completion: the prompt tokens not served from
// a cache at Input, the cached ones at CacheHit, the generated ones at
// Output.
func (p Price) Cost(prompt, cached, completion int) float64 {
	cached = min(cached, prompt)
	return (float64(prompt-cached)*p.Input + float64(cached)*p.CacheHit + float64(completion)*p.Output) / 1e6
}

var (
	priceV1_8k   = Price{"moonshot-v1-8k", 0.20, 0, 2.00}
	priceV1_32k  = Price{"moonshot-v1-32k", 1.00, 0, 3.00}
	priceV1_128k = Price{"moonshot-v1-128k", 2.00, 0, 5.00}
)

// v1Tier picks the 8k/32k/128k row for a request of size tokens.
func v1Tier(size int) Price {
	switch {
	case size <= 8192:
		return priceV1_8k
	case size <= 32768:
		return priceV1_32k
	}
	return priceV1_128k
}

// ChatPrice returns the price row of a chat request to model id of
// family f and context window window, whose prompt plus max_tokens
// (default 1024) is size (the auto router and kimi-latest bill by it). A
// model the table lacks is priced by its family ("turbo" or "highspeed"
// in its id counting), a moonshot-v1 one by its window.
func ChatPrice(id string, f Family, window, size int) Price {
	switch f {
	case FamilyMoonshotV1:
		if strings.HasSuffix(id, "-auto") {
			return v1Tier(size)
		}
		return v1Tier(window)
	case FamilyKimiLatest:
		p := v1Tier(size)
		p.Row = "kimi-latest-" + strings.TrimPrefix(p.Row, "moonshot-v1-")
		p.CacheHit = 0.15
		return p
	case FamilyK2, FamilyK2Thinking:
		if strings.Contains(id, "turbo") {
			return Price{"kimi-k2-turbo", 1.15, 0.15, 8.00}
		}
		return Price{"kimi-k2", 0.60, 0.15, 2.50}
	case FamilyK25:
		return Price{"kimi-k2.5", 0.60, 0.10, 3.00}
	case FamilyK26:
		return Price{"kimi-k2.6", 0.95, 0.16, 4.00}
	case FamilyK27:
		if strings.Contains(id, "highspeed") {
			return Price{"kimi-k2.7-code-highspeed", 1.90, 0.38, 8.00}
		}
		return Price{"kimi-k2.7-code", 0.95, 0.19, 4.00}
	case FamilyK3:
		return Price{"kimi-k3", 3.00, 0.30, 15.00}
	case FamilyThinkingPreview:
		return Price{"kimi-thinking-preview", 30, 30, 30}
	}
	return v1Tier(window)
}

// ModelPrice is ChatPrice for a catalogue model id (any case), for a
// request of size tokens; ok is false for a model the table lacks.
func ModelPrice(id string, size int) (p Price, ok bool) {
	m, ok := Lookup(id)
	if !ok {
		return Price{}, false
	}
	return ChatPrice(m.ID, m.Family, m.ContextWindow, size), true
}
