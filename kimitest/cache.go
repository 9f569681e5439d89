package kimitest

import (
	"encoding/binary"
	"hash/fnv"
	"sync"
	"time"
)

// Automatic prefix caching (kimi-latest and the K2 families; their rules
// set AutoCache), simplified: a prompt is a sequence of blocks (the tool
// definitions, then each message). After a request, every block-aligned
// prefix longer than cacheMinTokens is remembered for cacheTTL of
// emulated time; a later request of the same account whose prompt starts
// with a remembered prefix reports that prefix's token count as
// cached_tokens. A hit refreshes the TTL. Caches are per account
// (organization) and per model.
const (
	cacheMinTokens = 256
	cacheTTL       = 5 * time.Minute
	cacheMaxItems  = 4096 // sweep expired entries beyond this
)

type prefixCache struct {
	mu      sync.Mutex
	entries map[uint64]time.Time // prefix hash -> expiry
}

func newPrefixCache() *prefixCache { return &prefixCache{entries: make(map[uint64]time.Time)} }

// cachePrefix is one block-aligned prefix of a prompt.
type cachePrefix struct {
	hash   uint64
	tokens int
}

// promptPrefixes returns the cumulative prefixes of a prompt, shortest
// first. Token counts use the same counter as prompt_tokens.
func promptPrefixes(model string, msgs []message, tools []tool) []cachePrefix {
	h := fnv.New64a()
	h.Write([]byte(model))
	tokens := tokensPerReply
	var out []cachePrefix
	if len(tools) > 0 {
		tokens = countPrompt(nil, tools)
		h.Write(mustJSON(tools))
		out = append(out, cachePrefix{h.Sum64(), tokens})
	}
	for _, m := range msgs {
		h.Write(mustJSON(m))
		var sep [8]byte
		binary.LittleEndian.PutUint64(sep[:], uint64(len(out)))
		h.Write(sep[:])
		tokens += countMessage(m)
		out = append(out, cachePrefix{h.Sum64(), tokens})
	}
	return out
}

// lookupAndStore returns the longest live cached prefix's token count and
// records all long-enough prefixes of this prompt.
func (c *prefixCache) lookupAndStore(now time.Time, prefixes []cachePrefix) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	hit := 0
	for i := len(prefixes) - 1; i >= 0; i-- {
		if exp, ok := c.entries[prefixes[i].hash]; ok && now.Before(exp) {
			hit = prefixes[i].tokens
			break
		}
	}
	if len(c.entries) > cacheMaxItems {
		for k, exp := range c.entries {
			if !now.Before(exp) {
				delete(c.entries, k)
			}
		}
	}
	for _, p := range prefixes {
		if p.tokens > cacheMinTokens {
			c.entries[p.hash] = now.Add(cacheTTL)
		}
	}
	return hit
}
