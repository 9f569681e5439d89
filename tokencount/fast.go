package tokencount

import (
	"iter"
	"math"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tiktoken-go/tokenizer/codec"
)

// This file splits text into o200k tokens without tiktoken-go's
// pre-tokenising regular expression, which dominates its cost. The split
// is a hand-written matcher with the semantics tiktoken-go's regexp2
// code gives the o200k pattern (two quirks included: clsDEL, and the
// whitespace case of piece):
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// and each piece is merged with tiktoken's byte-pair algorithm over the
// same ranks. TestFastMatchesRegexp, TestFastAllRunes and FuzzFastSplit
// check both against tiktoken-go.

// Character classes of the pattern, as bits. regexp2 takes \p{..} from
// Go's unicode.Categories and \s from unicode.IsSpace.
const (
	clsL   = 1 << iota // \p{L}
	clsN               // \p{N}
	clsS               // \s
	clsU               // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
	clsW               // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
	clsHan             // unicode.Han, for the calibration
	clsDEL             // U+007F, which regexp2 matches with none of the pattern's sets
)

// clsNotOther are the classes outside [^\s\p{L}\p{N}] and outside
// [^\r\n\p{L}\p{N}] (but for \r and \n). tiktoken-go runs the pattern as
// regexp2 generated code (codec/regexp.gen.go), whose ASCII bitmaps for
// these two sets leave out U+007F (DEL), though DEL is not \s: it is left
// out of every token and ends the run it interrupts.
const clsNotOther = clsL | clsN | clsS | clsDEL

// classify computes the class bits of r from the unicode package; the
// table built by newFast caches it for the Basic Multilingual Plane.
func classify(r rune) uint8 {
	var c uint8
	if unicode.IsLetter(r) {
		c |= clsL
	}
	if unicode.IsNumber(r) {
		c |= clsN
	}
	if unicode.IsSpace(r) {
		c |= clsS
	}
	if unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsU
	}
	if unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clsW
	}
	if unicode.Is(unicode.Han, r) {
		c |= clsHan
	}
	if r == 0x7f {
		c |= clsDEL
	}
	return c
}

// o200kRegularTokens is the number of ordinary (mergeable) o200k tokens:
// ids 0..199997. The special tokens start at 199999 (<|endoftext|>).
const o200kRegularTokens = 199998

// fastSplitter holds what the hand-written split needs: class bits of
// every BMP rune and the rank of every o200k token (its id).
type fastSplitter struct {
	bmp   [1 << 16]uint8
	ranks map[string]uint32
	// pairs holds the rank of every two-byte token, indexed by its
	// bytes, or noRank: a merge starts by ranking every byte pair of its
	// piece, and an array is much cheaper than the map for that.
	pairs [1 << 16]uint32
}

// fast builds the splitter once, on first use. It is nil if the ranks
// read back from tiktoken-go do not look like o200k; split then falls
// back to tiktoken-go's own Encode.
var fast = sync.OnceValue(newFast)

func newFast() *fastSplitter {
	f := &fastSplitter{}
	// Walking the ranges is much cheaper than classifying each of the
	// 65,536 runes. TestClassTable checks the two agree.
	set := func(bit uint8, tabs ...*unicode.RangeTable) {
		for _, t := range tabs {
			for _, r := range t.R16 {
				for c := uint32(r.Lo); c <= uint32(r.Hi); c += uint32(r.Stride) {
					f.bmp[c] |= bit
				}
			}
			for _, r := range t.R32 {
				for c := r.Lo; c <= r.Hi && c < 1<<16; c += r.Stride {
					f.bmp[c] |= bit
				}
			}
		}
	}
	set(clsL, unicode.L)
	set(clsN, unicode.N)
	set(clsS, unicode.White_Space) // what unicode.IsSpace tests
	set(clsU, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M)
	set(clsW, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M)
	set(clsHan, unicode.Han)
	f.bmp[0x7f] |= clsDEL

	// The vocabulary is unexported, but an o200k token's rank is its id
	// and Decode returns its bytes. The bytes go into one buffer, so the
	// map's keys are slices of a single allocation. A throwaway codec
	// keeps Decode's reverse table from outliving this build; its default
	// error mode returns byte tokens unchanged (were they replaced, keys
	// would collide and the length check below would fail).
	c := codec.NewO200kBase()
	buf := make([]byte, 0, 1<<21)
	ends := make([]uint32, o200kRegularTokens)
	id := make([]uint, 1)
	for i := range ends {
		id[0] = uint(i)
		tok, err := c.Decode(id)
		if err != nil || tok == "" {
			return nil
		}
		buf = append(buf, tok...)
		ends[i] = uint32(len(buf))
	}
	all := string(buf)
	f.ranks = make(map[string]uint32, len(ends))
	for i := range f.pairs {
		f.pairs[i] = noRank
	}
	start := uint32(0)
	for i, end := range ends {
		tok := all[start:end]
		f.ranks[tok] = uint32(i)
		if len(tok) == 2 {
			f.pairs[int(tok[0])<<8|int(tok[1])] = uint32(i)
		}
		start = end
	}
	if len(f.ranks) != o200kRegularTokens {
		return nil
	}
	return f
}

// class returns the class bits and width of the rune at s[i:]; i must be
// in range.
func (f *fastSplitter) class(s string, i int) (uint8, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return f.bmp[b], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	if r < 1<<16 {
		return f.bmp[r], n
	}
	return classify(r), n
}

// split counts the o200k tokens of valid UTF-8 s that overlap a Han
// character and those that do not, as the Encode-based splitEncode does.
func (f *fastSplitter) split(s string) (han, other int) {
	var scratch mergeScratch
	for i, end := range f.pieces(s) {
		piece := s[i:end]
		hasHan := f.hasHan(s, i, end)
		if _, ok := f.ranks[piece]; ok {
			if hasHan {
				han++
			} else {
				other++
			}
		} else {
			bounds := f.merge(piece, &scratch)
			if !hasHan {
				other += len(bounds) - 1
			} else {
				for k := 0; k+1 < len(bounds); k++ {
					if spanHasHan(s, i+int(bounds[k]), i+int(bounds[k+1])) {
						han++
					} else {
						other++
					}
				}
			}
		}
	}
	return han, other
}

// pieces yields the start and end of each pre-token of valid UTF-8 s, in
// order; a piece that is one whole token and one that merging splits
// further are told apart by the caller.
func (f *fastSplitter) pieces(s string) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for i := 0; i < len(s); {
			end := f.piece(s, i)
			if end <= i {
				// No alternative matches (only U+007F, see clsDEL): the
				// regexp skips the character without a token.
				_, n := utf8.DecodeRuneInString(s[i:])
				i += n
				continue
			}
			if !yield(i, end) {
				return
			}
			i = end
		}
	}
}

// piece returns the end of the pre-token starting at s[i], trying the
// pattern's alternatives in order as regexp2 does.
func (f *fastSplitter) piece(s string, i int) int {
	c0, n0 := f.class(s, i)
	b0 := s[i]
	// [^\r\n\p{L}\p{N}]? can take the first character.
	prefix := c0&(clsL|clsN|clsDEL) == 0 && b0 != '\r' && b0 != '\n'
	if c0&(clsU|clsW) != 0 || prefix {
		// Alternative 1, with the optional prefix, then without it.
		if prefix {
			if e := f.word1(s, i+n0); e >= 0 {
				return e
			}
		}
		if e := f.word1(s, i); e >= 0 {
			return e
		}
		// Alternative 2, likewise.
		if prefix {
			if e := f.word2(s, i+n0); e >= 0 {
				return e
			}
		}
		if e := f.word2(s, i); e >= 0 {
			return e
		}
	}
	// \p{N}{1,3}
	if c0&clsN != 0 {
		e := i + n0
		for k := 1; k < 3 && e < len(s); k++ {
			c, n := f.class(s, e)
			if c&clsN == 0 {
				break
			}
			e += n
		}
		return e
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
	j := i
	if b0 == ' ' && i+1 < len(s) {
		if c, _ := f.class(s, i+1); c&clsNotOther == 0 {
			j = i + 1
		}
	}
	if c, _ := f.class(s, j); c&clsNotOther == 0 {
		e := j
		for e < len(s) {
			c, n := f.class(s, e)
			if c&clsNotOther != 0 {
				break
			}
			e += n
		}
		for e < len(s) && (s[e] == '\r' || s[e] == '\n' || s[e] == '/') {
			e++
		}
		return e
	}
	if c0&clsS == 0 {
		return i
	}
	// Whitespace. regexp2's generated code backtracks \s* in \s*[\r\n]+
	// straight to the first \r or \n of the run, so the piece ends after
	// the first run of \r and \n, as [^\S\r\n]*[\r\n]+ would, not after
	// the whitespace's last \r or \n: tiktoken-go's tokens follow it.
	e := i
	for e < len(s) && s[e] != '\r' && s[e] != '\n' {
		c, n := f.class(s, e)
		if c&clsS == 0 {
			break
		}
		e += n
	}
	if e < len(s) && (s[e] == '\r' || s[e] == '\n') {
		for e < len(s) && (s[e] == '\r' || s[e] == '\n') {
			e++
		}
		return e
	}
	// \s+(?!\S) leaves the run's last character to a following
	// non-space; \s+ takes a single one. The run has no \r or \n here.
	last, runes := i, 0
	for e = i; e < len(s); runes++ {
		c, n := f.class(s, e)
		if c&clsS == 0 {
			break
		}
		last = e
		e += n
	}
	if e == len(s) || runes == 1 {
		return e
	}
	return last
}

// word1 matches `[U]*[W]+(?i:'s|…)?` at s[j:] (U and W being the two
// letter classes of the pattern) and returns its end, or -1. U* gives
// back characters until W+ can start.
func (f *fastSplitter) word1(s string, j int) int {
	e, lastW := j, -1
	for e < len(s) {
		c, n := f.class(s, e)
		if c&clsU == 0 {
			if c&clsW != 0 {
				lastW = e
			}
			break
		}
		if c&clsW != 0 {
			lastW = e
		}
		e += n
	}
	if lastW < 0 {
		return -1
	}
	return f.contraction(s, f.run(s, lastW, clsW))
}

// word2 matches `[U]+[W]*(?i:'s|…)?` at s[j:] and returns its end, or -1.
func (f *fastSplitter) word2(s string, j int) int {
	e := f.run(s, j, clsU)
	if e == j {
		return -1
	}
	return f.contraction(s, f.run(s, e, clsW))
}

// run returns the end of the run of characters with class bit at s[j:].
func (f *fastSplitter) run(s string, j int, bit uint8) int {
	for j < len(s) {
		c, n := f.class(s, j)
		if c&bit == 0 {
			break
		}
		j += n
	}
	return j
}

// contraction extends e over an optional (?i:'s|'t|'re|'ve|'m|'ll|'d).
// regexp2 matches it case-insensitively through unicode.SimpleFold, so
// 's also matches ſ (U+017F).
func (f *fastSplitter) contraction(s string, e int) int {
	if e+1 >= len(s) || s[e] != '\'' {
		return e
	}
	lower := func(k int) byte {
		if k < len(s) {
			return s[k] | 0x20
		}
		return 0
	}
	switch lower(e + 1) {
	case 's', 't', 'm', 'd':
		return e + 2
	case 'r', 'v':
		if lower(e+2) == 'e' {
			return e + 3
		}
	case 'l':
		if lower(e+2) == 'l' {
			return e + 3
		}
	}
	if len(s) >= e+3 && s[e+1:e+3] == "ſ" {
		return e + 3
	}
	return e
}

// hasHan reports whether s[i:e] holds a Han character.
func (f *fastSplitter) hasHan(s string, i, e int) bool {
	for i < e {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		c, n := f.class(s, i)
		if c&clsHan != 0 {
			return true
		}
		i += n
	}
	return false
}

// mergeScratch is reused across the pieces of one text.
type mergeScratch struct {
	bounds [128]int32
	ranks  [128]uint32
	nodes  []mergeNode
	heap   mergeHeap
}

const noRank = math.MaxUint32

// rank returns the rank of piece, or noRank.
func (f *fastSplitter) rank(piece string) uint32 {
	if r, ok := f.ranks[piece]; ok {
		return r
	}
	return noRank
}

// merge returns the part boundaries byte-pair encoding gives piece:
// repeatedly merge the adjacent pair whose concatenation has the lowest
// rank, the leftmost of equals. Short pieces use a linear scan per merge,
// long ones a heap (O(n log n)); both give tiktoken's parts.
func (f *fastSplitter) merge(piece string, sc *mergeScratch) []int32 {
	n := len(piece)
	if n+1 > len(sc.bounds) {
		return f.mergeHeap(piece, sc)
	}
	bounds := sc.bounds[:n+1]
	ranks := sc.ranks[:n+1]
	for i := range bounds {
		bounds[i] = int32(i)
		ranks[i] = noRank
	}
	for i := 0; i+2 <= n; i++ {
		ranks[i] = f.pairs[int(piece[i])<<8|int(piece[i+1])]
	}
	for len(bounds) > 1 {
		minRank, minIndex := uint32(noRank), 0
		for i, r := range ranks[:len(bounds)-1] {
			if r < minRank {
				minRank, minIndex = r, i
			}
		}
		if minRank == noRank {
			break
		}
		// Merge parts minIndex and minIndex+1, then re-rank the pairs
		// either side of the new part.
		i := minIndex
		if i+3 < len(bounds) {
			ranks[i] = f.rank(piece[bounds[i]:bounds[i+3]])
		} else {
			ranks[i] = noRank
		}
		if i > 0 {
			ranks[i-1] = f.rank(piece[bounds[i-1]:bounds[i+2]])
		}
		copy(bounds[i+1:], bounds[i+2:])
		copy(ranks[i+1:], ranks[i+2:])
		bounds = bounds[:len(bounds)-1]
		ranks = ranks[:len(ranks)-1]
	}
	return bounds
}

// mergeNode is a part boundary in mergeHeap's doubly linked list; rank is
// that of the token this part and the next one merge into.
type mergeNode struct {
	prev, next int32
	rank       uint32
}

type mergeCandidate struct {
	rank   uint32
	offset int32
}

// mergeHeap is a min-heap of candidates by rank, then offset, so that the
// leftmost of equal ranks merges first.
type mergeHeap []mergeCandidate

func (h mergeHeap) less(a, b int) bool {
	if h[a].rank != h[b].rank {
		return h[a].rank < h[b].rank
	}
	return h[a].offset < h[b].offset
}

func (h *mergeHeap) push(c mergeCandidate) {
	*h = append(*h, c)
	for i := len(*h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		(*h)[i], (*h)[p] = (*h)[p], (*h)[i]
		i = p
	}
}

func (h *mergeHeap) pop() mergeCandidate {
	old := *h
	top := old[0]
	last := len(old) - 1
	old[0] = old[last]
	*h = old[:last]
	h.down(0)
	return top
}

func (h mergeHeap) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if r := c + 1; r < len(h) && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// mergeHeap is merge for long pieces.
func (f *fastSplitter) mergeHeap(piece string, sc *mergeScratch) []int32 {
	n := int32(len(piece))
	nodes := sc.nodes[:0]
	for i := int32(0); i <= n; i++ {
		nodes = append(nodes, mergeNode{prev: i - 1, next: i + 1, rank: noRank})
	}
	nodes[n].next = -1
	sc.nodes = nodes
	rankOf := func(i int32) uint32 {
		j := nodes[i].next
		if j < 0 {
			return noRank
		}
		k := nodes[j].next
		if k < 0 {
			return noRank
		}
		return f.rank(piece[i:k])
	}
	h := sc.heap[:0]
	for i := int32(0); i+2 <= n; i++ {
		if r := rankOf(i); r != noRank {
			nodes[i].rank = r
			h = append(h, mergeCandidate{r, i})
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	for len(h) > 0 {
		top := h.pop()
		i := top.offset
		if nodes[i].rank != top.rank {
			continue // stale: the pair changed since it was pushed
		}
		j := nodes[i].next
		k := nodes[j].next
		nodes[j].rank = noRank
		nodes[i].next = k
		if k >= 0 {
			nodes[k].prev = i
		}
		for _, b := range [2]int32{i, nodes[i].prev} {
			if b < 0 {
				continue
			}
			nodes[b].rank = rankOf(b)
			if nodes[b].rank != noRank {
				h.push(mergeCandidate{nodes[b].rank, b})
			}
		}
	}
	sc.heap = h
	bounds := make([]int32, 0, 16)
	for i := int32(0); i >= 0; i = nodes[i].next {
		bounds = append(bounds, i)
	}
	return bounds
}
