package kimitest

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"sort"
)

// pyRandom is CPython's random.Random: the Mersenne Twister seeded as
// random.seed(int) seeds it, so that a seeded random_choice picks what the
// live tool (Python) picks: seed 42, count 2 from apple, banana, cherry,
// durian is "apple, durian" there and here.
type pyRandom struct {
	mt  [624]uint32
	idx int
}

func newPyRandom(seed uint64) *pyRandom {
	r := &pyRandom{}
	key := []uint32{uint32(seed)}
	if hi := uint32(seed >> 32); hi != 0 {
		key = append(key, hi)
	}
	r.initGenrand(19650218)
	i, j := 1, 0
	for k := max(624, len(key)); k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k := 623; k > 0; k-- {
		r.mt[i] = (r.mt[i] ^ ((r.mt[i-1] ^ (r.mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			r.mt[0] = r.mt[623]
			i = 1
		}
	}
	r.mt[0] = 0x80000000
	return r
}

func (r *pyRandom) initGenrand(s uint32) {
	r.mt[0] = s
	for i := 1; i < 624; i++ {
		r.mt[i] = 1812433253*(r.mt[i-1]^(r.mt[i-1]>>30)) + uint32(i)
	}
	r.idx = 624
}

func (r *pyRandom) uint32() uint32 {
	if r.idx >= 624 {
		for k := range 624 {
			y := r.mt[k]&0x80000000 | r.mt[(k+1)%624]&0x7fffffff
			v := r.mt[(k+397)%624] ^ y>>1
			if y&1 != 0 {
				v ^= 0x9908b0df
			}
			r.mt[k] = v
		}
		r.idx = 0
	}
	y := r.mt[r.idx]
	r.idx++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	return y ^ y>>18
}

// random is random.random(): 53 random bits in [0, 1).
func (r *pyRandom) random() float64 {
	a, b := r.uint32()>>5, r.uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// below is random._randbelow(n) for 0 < n < 2^32: getrandbits of n's
// bit length until the value is below n.
func (r *pyRandom) below(n int) int {
	k := bits.Len(uint(n))
	for {
		v := int(r.uint32() >> (32 - k))
		if v < n {
			return v
		}
	}
}

// sample is random.sample(range(n), k) for the small pools a tool sees
// (n at most 21, or 21 + 4^ceil(log4(3k)) for k > 5).
func (r *pyRandom) sample(n, k int) []int {
	setsize := 21
	if k > 5 {
		p := 1
		for p < 3*k {
			p *= 4
		}
		setsize += p
	}
	out := make([]int, k)
	if n <= setsize {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := range k {
			j := r.below(n - i)
			out[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return out
	}
	seen := map[int]bool{}
	for i := range k {
		j := r.below(n)
		for seen[j] {
			j = r.below(n)
		}
		seen[j] = true
		out[i] = j
	}
	return out
}

// choice is one pick of random.choices(range(n), weights): floor of
// random() × n without weights, else bisect_right of the cumulative
// weights.
func (r *pyRandom) choice(n int, cum []float64) int {
	if cum == nil {
		return int(r.random() * float64(n))
	}
	x := r.random() * cum[len(cum)-1]
	return min(sort.Search(n-1, func(i int) bool { return cum[i] > x }), n-1)
}

// pyJSON encodes v as Python's json.dumps(v, ensure_ascii=False) does:
// ", " and ": " between items, non-ASCII text as is.
func pyJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return pySpacing(bytes.TrimSpace(b.Bytes()))
}

// pySpacing respaces compact JSON as json.dumps separates items.
func pySpacing(compact []byte) string {
	var out bytes.Buffer
	inStr, esc := false, false
	for _, c := range compact {
		out.WriteByte(c)
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ',' || c == ':'):
			out.WriteByte(' ')
		}
	}
	return out.String()
}
