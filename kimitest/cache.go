package kimitest

import (
	"encoding/binary"
	"hash"
	"hash/fnv"
	"slices"
	"sync"
	"time"
)

// Automatic prefix caching (kimi-latest and the K2 families onwards; their
// rules set AutoCache), simplified: a prompt is its token sequence (the
// model, the tool definitions, then each message: role and name markers,
// content, reasoning, tool calls) cut into blocks of cacheBlockTokens
// tokens. After a request, the prefix ending at each whole block is
// remembered for cacheTTL of emulated time; a later request of the same
// account and model is served from the cache for the longest prefix it
// shares with an earlier one, in whole blocks: cached_tokens is that many
// blocks, never the whole prompt (the last tokens are always computed). A
// hit refreshes the TTL. Caches are per account (organization) and per
// model.
//
// prompt_cache_key (a session id, typically) scopes the cache: a request
// with a key shares the prefixes of earlier requests with that key and
// those of requests without one; a request without a key, only the latter.
// So a session's prefixes are its own, and other sessions cannot evict
// them from its scope by reusing the shared one.
const (
	// cacheBlockTokens is the cache's granularity. Moonshot does not
	// document it; an observed kimi-k3 hit of 1792 tokens is 7 blocks.
	cacheBlockTokens = 256
	// cacheMinTokens is the shortest prefix that is cached.
	cacheMinTokens = cacheBlockTokens
	cacheTTL       = 5 * time.Minute
	// cacheMaxEntries bounds the remembered prefixes of an account (a
	// 1M-token prompt has 4096); beyond, the least recently used go.
	cacheMaxEntries = 1 << 16
)

type prefixCache struct {
	mu sync.Mutex
	// scopes maps a prompt_cache_key ("" for none) to its prefixes: the
	// hash of a block-aligned prefix to its expiry.
	scopes map[string]map[uint64]time.Time
	n      int // entries across scopes
}

func newPrefixCache() *prefixCache {
	return &prefixCache{scopes: make(map[string]map[uint64]time.Time)}
}

// cachePrefix is one block-aligned prefix of a prompt.
type cachePrefix struct {
	hash   uint64
	tokens int
}

// promptPrefixes returns the prefixes of a prompt that end at a block
// boundary, shortest first. Token counts are those of prompt_tokens (the
// same counter, the same per-message overheads).
func promptPrefixes(model string, msgs []message, tools []tool) []cachePrefix {
	b := &blockHasher{h: fnv.New64a(), next: cacheBlockTokens}
	b.mark(model)
	if len(tools) > 0 {
		b.text(string(mustJSON(tools)))
	}
	for _, m := range msgs {
		b.mark(m.Role)
		b.span(m.Role+"\x00"+m.Name, tokensPerMessage+CountTokens(m.Role)+CountTokens(m.Name))
		for _, p := range m.parts {
			switch p.Type {
			case "text":
				b.text(p.Text)
			case "image_url":
				b.span(string(p.ImageURL), tokensPerImage)
			case "video_url":
				b.span(string(p.VideoURL), tokensPerVideo)
			}
		}
		if m.ReasoningContent != nil {
			b.mark("reasoning")
			b.text(*m.ReasoningContent)
		}
		for _, tc := range m.ToolCalls {
			b.mark("call")
			b.text(tc.Function.Name)
			b.mark("args")
			b.text(tc.Function.Arguments)
		}
	}
	// The reply priming (tokensPerReply) follows: no prefix covers it.
	return b.out
}

// blockHasher hashes a token sequence and records the hash at each block
// boundary. A span of several tokens that straddles a boundary is hashed
// whole before the boundary is recorded, so that a match there implies the
// span matched.
type blockHasher struct {
	h      hash.Hash64
	tokens int
	next   int // the next boundary
	out    []cachePrefix
}

// mark hashes a separator, which has no tokens of its own.
func (b *blockHasher) mark(s string) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
	b.h.Write(n[:])
	b.h.Write([]byte(s))
}

// span hashes s as n tokens.
func (b *blockHasher) span(s string, n int) {
	b.h.Write([]byte(s))
	b.tokens += n
	b.boundaries()
}

func (b *blockHasher) boundaries() {
	for b.tokens >= b.next {
		b.out = append(b.out, cachePrefix{hash: b.h.Sum64(), tokens: b.next})
		b.next += cacheBlockTokens
	}
}

// text hashes a text token by token, in runs between block boundaries.
func (b *blockHasher) text(s string) {
	start := 0
	pieceEnds(s, func(end int) bool {
		b.tokens++
		if b.tokens == b.next {
			b.h.Write([]byte(s[start:end]))
			start = end
			b.boundaries()
		}
		return true
	})
	b.h.Write([]byte(s[start:]))
}

// lookupAndStore returns the tokens of the longest live prefix the prompt
// shares with an earlier one in key's scope (see prefixCache), and
// remembers the prompt's prefixes in that scope.
func (c *prefixCache) lookupAndStore(now time.Time, key string, prefixes []cachePrefix) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	own, shared := c.scopes[key], map[uint64]time.Time(nil)
	if key != "" {
		shared = c.scopes[""]
	}
	live := func(m map[uint64]time.Time, h uint64) bool {
		exp, ok := m[h]
		return ok && now.Before(exp)
	}
	hit := 0
	for i := len(prefixes) - 1; i >= 0; i-- {
		if p := prefixes[i]; p.tokens >= cacheMinTokens && (live(own, p.hash) || live(shared, p.hash)) {
			hit = p.tokens
			break
		}
	}
	if own == nil {
		own = make(map[uint64]time.Time)
		c.scopes[key] = own
	}
	for _, p := range prefixes {
		if p.tokens < cacheMinTokens {
			continue
		}
		if _, ok := own[p.hash]; !ok {
			c.n++
		}
		own[p.hash] = now.Add(cacheTTL)
		if p.tokens <= hit && live(shared, p.hash) {
			shared[p.hash] = now.Add(cacheTTL) // used: refreshed
		}
	}
	if c.n > cacheMaxEntries {
		c.evict(now)
	}
	return hit
}

// evict drops the expired prefixes and, if that is not enough, the least
// recently used ones, down to three quarters of the bound.
func (c *prefixCache) evict(now time.Time) {
	var exps []time.Time
	for key, m := range c.scopes {
		for h, exp := range m {
			if !now.Before(exp) {
				delete(m, h)
				c.n--
			} else {
				exps = append(exps, exp)
			}
		}
		if len(m) == 0 {
			delete(c.scopes, key)
		}
	}
	target := cacheMaxEntries * 3 / 4
	if c.n <= target {
		return
	}
	slices.SortFunc(exps, func(a, b time.Time) int { return a.Compare(b) })
	cutoff := exps[len(exps)-target]
	for key, m := range c.scopes {
		for h, exp := range m {
			if exp.Before(cutoff) {
				delete(m, h)
				c.n--
			}
		}
		if len(m) == 0 {
			delete(c.scopes, key)
		}
	}
}
