package kimi

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// This file is a JSON decoder specialised for Kimi's stream chunk (and, in
// completionjson.go, the non-stream response, which has the same parts). A
// stream carries thousands of small chunks and encoding/json's reflection
// costs several microseconds and ~20 allocations on each; the chunk shape
// is fixed, so a hand-written decoder does the same work in a fraction of
// that.
//
// Correctness never depends on the fast path: whenever it meets anything it
// was not written for (a type mismatch, a duplicate key, a key that only
// matches case-insensitively, invalid UTF-8, a float where an int belongs,
// deep nesting, ...) it gives up with errFallback and the chunk is decoded
// again with encoding/json. A differential fuzz test holds the two to the
// same result.
//
// Successive chunks of a stream differ in little but their text, so the
// decoder also remembers the previous chunk's bytes: a chunk that repeats
// them around a different text is decoded by copying the previous result
// (chunkTemplate), and one that only repeats the leading id/object/created/
// model members skips them (chunkHead). Both are exact byte comparisons, so
// they cannot change a result, only avoid recomputing it.

// errFallback tells decodeChunk to use encoding/json instead.
var errFallback = errors.New("kimi: chunk fast path declined")

// errErrorObject reports a top-level "error" member: an in-stream error.
var errErrorObject = errors.New("kimi: chunk is an error object")

// chunkDecoder decodes successive chunks of one stream. Every chunk it
// returns is a value of its own that no later call changes, but chunks are
// carved out of blocks (boxes, toolBoxes, arena) so that a typical chunk
// costs a fraction of an allocation; a chunk the caller keeps keeps its
// blocks alive (16 KB and 4 KB at most).
type chunkDecoder struct {
	p    jparser
	head chunkHead
	tmpl chunkTemplate

	boxes     slab[chunkBox]
	toolBoxes slab[toolChunkBox]
	arena     textArena
}

// slabBytes is the size of a slab's blocks. Large blocks cost the
// allocator less per value (measured: 16 KB against 4 KB, about 8% of the
// stream decoding time) and are what a kept chunk can hold on to.
const slabBytes = 16 << 10

// slab hands out zero values of T, allocating them a block at a time. It
// counts with an index rather than reslicing: storing a slice header on
// every call would cost a write barrier while a garbage collection runs.
type slab[T any] struct {
	block []T
	used  int
}

func (s *slab[T]) next() *T {
	if s.used == len(s.block) {
		var zero T
		s.block = make([]T, max(1, slabBytes/int(unsafe.Sizeof(zero))))
		s.used = 0
	}
	s.used++
	return &s.block[s.used-1]
}

// textArena stores the text strings of chunks back to back in shared
// blocks. Bytes are only ever added after the used ones, never changed
// once a string refers to them, so the strings are as immutable as any
// other.
type textArena struct {
	block []byte
	used  int
}

const (
	arenaBlock = 4 << 10
	arenaMax   = 512 // longer strings get an allocation of their own
)

func (a *textArena) string(b []byte) string {
	if len(b) == 0 || len(b) > arenaMax {
		return string(b)
	}
	if len(a.block)-a.used < len(b) {
		a.block = make([]byte, arenaBlock)
		a.used = 0
	}
	n := a.used
	a.used += copy(a.block[n:], b)
	return unsafe.String(&a.block[n], len(b))
}

// chunkBox lets one allocation hold a chunk and its (usually only) choice.
type chunkBox struct {
	chunk  ChatCompletionChunk
	choice [1]ChunkChoice
}

// toolChunkBox is chunkBox with room for one tool call, for the argument
// fragments that make up most of a tool-call stream.
type toolChunkBox struct {
	chunkBox
	call  [1]ToolCall
	index int
}

// decode decodes one chunk. It returns errErrorObject when data is an error
// envelope rather than a chunk; any other error is a malformed chunk.
func (cd *chunkDecoder) decode(data []byte) (*ChatCompletionChunk, error) {
	if c := cd.fromTemplate(data); c != nil {
		return c, nil
	}
	box := cd.boxes.next()
	err := cd.parse(data, box)
	if err == nil {
		return &box.chunk, nil
	}
	*box = chunkBox{} // not handed out: hold on to nothing
	if err == errErrorObject {
		return nil, err
	}
	return decodeChunkSlow(data)
}

// parse decodes data into box with the fast path and, on success, keeps
// what the next chunk may reuse.
func (cd *chunkDecoder) parse(data []byte, box *chunkBox) error {
	p := &cd.p
	p.b, p.i = data, 0
	p.arena = &cd.arena
	defer func() { p.b = nil }() // do not pin the caller's buffer
	if err := p.chunk(box, &cd.head); err != nil {
		return err
	}
	cd.head.remember(p, &box.chunk)
	cd.tmpl.remember(p, &box.chunk)
	return nil
}

// decodeChunkSlow decodes with encoding/json and detects an error member.
func decodeChunkSlow(data []byte) (*ChatCompletionChunk, error) {
	var w struct {
		ChatCompletionChunk
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("kimi: decode stream chunk: %w", err)
	}
	if len(w.Error) > 0 && string(w.Error) != "null" {
		return nil, errErrorObject
	}
	c := w.ChatCompletionChunk
	return &c, nil
}

// jscan reads JSON tokens. Every method returns errFallback on anything
// unexpected; none of them reports a "real" syntax error because the slow
// path re-reads the input and produces the proper one.
type jscan struct {
	b       []byte
	i       int
	scratch []byte // unescaped string bytes
}

// jparser walks one chunk or response with jscan and keeps what decoding
// needs besides.
type jparser struct {
	jscan
	arena *textArena // where text strings go; nil: allocate each

	// The strings of the previous chunk (id, model, ...), which Kimi
	// repeats on every chunk, so that they are not allocated again.
	id, object, model, fingerprint string

	// While a chunk is decoded: whether only header members (headerBits)
	// have been read so far, where the last of them ends, and which they
	// were.
	headOpen bool
	headEnd  int
	headBits uint32

	// The text strings (content, reasoning_content, arguments) decoded:
	// how many, and where the last one lies.
	texts int
	text  textSpan

	// Scratch values for the completion decoder, which reads the members
	// it shares with chunks into chunk types and copies them out.
	headScratch   ChatCompletionChunk
	choiceScratch ChunkChoice
	deltaScratch  Delta
}

// textKind says which field a text string was decoded into.
type textKind uint8

const (
	textContent textKind = 1 + iota
	textReasoning
	textArguments
)

// textSpan locates a text string in the input: its bytes are b[start:end],
// between the quotes.
type textSpan struct {
	start, end int
	kind       textKind
}

func (p *jscan) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *jscan) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// null consumes a null literal if one is next.
func (p *jscan) null() bool {
	if p.peek() == 'n' && len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *jscan) end() bool { return p.peek() == 0 && p.i == len(p.b) }

// enter consumes '{' and reports whether a member follows.
func (p *jscan) enter() (bool, error) {
	if p.peek() != '{' {
		return false, errFallback
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return false, nil
	}
	return true, nil
}

// key reads a member name and its colon. The name aliases the input or the
// scratch buffer and is valid until the next string is read.
func (p *jscan) key() ([]byte, error) {
	p.ws()
	k, err := p.str()
	if err != nil {
		return nil, err
	}
	if p.peek() != ':' {
		return nil, errFallback
	}
	p.i++
	return k, nil
}

// next consumes the ',' or '}' after a member and reports whether another
// member follows.
func (p *jscan) next() (bool, error) {
	switch p.peek() {
	case ',':
		p.i++
		return true, nil
	case '}':
		p.i++
		return false, nil
	}
	return false, errFallback
}

// memberFunc decodes the value of member k into v and returns the
// member's bit, which parseMembers uses to refuse a repeated key (encoding/
// json would merge or overwrite in ways not worth imitating). A member
// that may repeat, one that is skipped, returns 0.
type memberFunc[T any] func(p *jparser, v *T, k []byte) (uint32, error)

// objectOrNull decodes an object member into *v; null leaves *v as it is.
func objectOrNull[T any](p *jparser, v *T, member func(*jparser, *T, []byte) (uint32, error)) error {
	if p.null() {
		return nil
	}
	return parseObject(p, v, member)
}

// newObject decodes an object member into a new T at *dst; null sets nil.
func newObject[T any](p *jparser, dst **T, member func(*jparser, *T, []byte) (uint32, error)) error {
	if p.null() {
		*dst = nil
		return nil
	}
	*dst = new(T)
	return parseObject(p, *dst, member)
}

// parseObject decodes an object member by member.
func parseObject[T any](p *jparser, v *T, member memberFunc[T]) error {
	more, err := p.enter()
	if !more || err != nil {
		return err
	}
	return parseMembers(p, v, member, 0)
}

// parseMembers decodes the members from the next key to the closing '}'.
// mask holds the bits of members already read.
func parseMembers[T any](p *jparser, v *T, member memberFunc[T], mask uint32) error {
	for {
		k, err := p.key()
		if err != nil {
			return err
		}
		bit, err := member(p, v, k)
		if err != nil {
			return err
		}
		if mask&bit != 0 {
			return errFallback
		}
		mask |= bit
		if more, err := p.next(); !more || err != nil {
			return err
		}
	}
}

// parseArray decodes an array into dst[:0] element by element, in place.
// null yields nil and [] an empty, non-nil slice, as in encoding/json.
func parseArray[T any](p *jparser, dst []T, elem func(*jparser, *T) error) ([]T, error) {
	if p.null() {
		return nil, nil
	}
	if p.peek() != '[' {
		return nil, errFallback
	}
	p.i++
	list := dst[:0]
	if list == nil {
		list = []T{}
	}
	if p.peek() == ']' {
		p.i++
		return list, nil
	}
	for {
		var zero T
		list = append(list, zero)
		if err := elem(p, &list[len(list)-1]); err != nil {
			return nil, err
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return list, nil
		default:
			return nil, errFallback
		}
	}
}

// unknown skips the value of a member the fast path does not decode. A name
// that encoding/json would match case-insensitively to a known field sends
// the document to the slow path.
func (p *jscan) unknown(k []byte, known []string) error {
	if foldsToAny(k, known) {
		return errFallback
	}
	return p.skip(0)
}

// keepUnknown is unknown for a type with an Extra map: it keeps a copy of
// the value in *extra, as encoding/json would when decoding the object
// into a map of json.RawMessage (the last of repeated keys wins).
func keepUnknown[V any](p *jscan, extra *map[string]V, k []byte, known []string) error {
	if foldsToAny(k, known) {
		return errFallback
	}
	raw, err := p.rawCopy()
	if err != nil {
		return err
	}
	if *extra == nil {
		*extra = map[string]V{}
	}
	(*extra)[string(k)] = any(raw).(V) // V is json.RawMessage or any
	return nil
}

func foldsToAny(k []byte, known []string) bool {
	for _, name := range known {
		if equalFoldLoose(k, name) {
			return true
		}
	}
	return false
}

// equalFoldLoose reports whether k might match name under encoding/json's
// case-insensitive rule. Any non-ASCII byte counts as a possible match (some
// Unicode letters fold to ASCII ones), which only costs a slow-path decode.
func equalFoldLoose(k []byte, name string) bool {
	if len(k) < len(name)-2 || len(k) > 3*len(name) {
		return false
	}
	if len(k) != len(name) {
		for _, c := range k {
			if c >= utf8.RuneSelf {
				return true
			}
		}
		return false
	}
	for i := range len(k) {
		a, b := k[i], name[i]
		if a >= utf8.RuneSelf {
			return true
		}
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// Member bits of the top level, shared by chunks and completions. The
// header members are the ones a chunkHead may carry over.
const (
	bitID uint32 = 1 << iota
	bitObject
	bitCreated
	bitModel
	bitFingerprint
	bitUsage
	bitChoices

	headerBits = bitID | bitObject | bitCreated | bitModel | bitFingerprint
)

// headMember decodes a top-level member that chunks and completions share
// into h; it returns 0 for any other key.
func (p *jparser) headMember(h *ChatCompletionChunk, k []byte) (uint32, error) {
	switch string(k) {
	case "id":
		return bitID, p.internStr(&h.ID, &p.id)
	case "object":
		return bitObject, p.internStr(&h.Object, &p.object)
	case "created":
		return bitCreated, p.int64(&h.Created)
	case "model":
		return bitModel, p.internStr(&h.Model, &p.model)
	case "system_fingerprint":
		return bitFingerprint, p.internStr(&h.SystemFingerprint, &p.fingerprint)
	case "usage":
		u, err := p.usage()
		h.Usage = u
		return bitUsage, err
	}
	return 0, nil
}

// The JSON names of each type's fields: an unknown key that folds to one of
// them sends the document to encoding/json. A chunk also has "error" (see
// decodeChunkSlow).
var chunkKeys = append(fieldKeys(ChatCompletionChunk{}), "error")

// chunk decodes a whole chunk. When the input starts with the bytes of
// the previous chunk's header, their values are copied instead.
func (p *jparser) chunk(box *chunkBox, head *chunkHead) error {
	p.headOpen, p.headEnd, p.headBits = true, 0, 0
	p.texts = 0
	var err error
	if mask, ok := head.apply(p, &box.chunk); ok {
		var more bool
		if more, err = p.next(); more && err == nil {
			err = parseMembers(p, box, (*jparser).chunkMember, mask)
		}
	} else {
		err = parseObject(p, box, (*jparser).chunkMember)
	}
	if err != nil {
		return err
	}
	if !p.end() {
		return errFallback // trailing data
	}
	return nil
}

func (p *jparser) chunkMember(box *chunkBox, k []byte) (uint32, error) {
	if bit, err := p.headMember(&box.chunk, k); bit != 0 {
		if p.headOpen && bit&headerBits != 0 {
			p.headEnd, p.headBits = p.i, p.headBits|bit
		} else {
			p.headOpen = false
		}
		return bit, err
	}
	p.headOpen = false
	switch string(k) {
	case "choices":
		list, err := parseArray(p, box.choice[:0], (*jparser).chunkChoice)
		box.chunk.Choices = list
		return bitChoices, err
	case "error":
		if p.null() {
			return 0, nil
		}
		return 0, errErrorObject
	}
	return 0, p.unknown(k, chunkKeys)
}

// Member bits of a choice.
const (
	bitIndex uint32 = 1 << iota
	bitFinish
	bitChoiceUsage
	bitLogprobs
	bitDelta // or message
)

// choiceMember decodes a choice member that chunks and completions share
// into ch; it returns 0 for any other key.
func (p *jparser) choiceMember(ch *ChunkChoice, k []byte) (uint32, error) {
	switch string(k) {
	case "index":
		return bitIndex, p.int(&ch.Index)
	case "finish_reason":
		return bitFinish, p.constStr(&ch.FinishReason)
	case "usage":
		u, err := p.usage()
		ch.Usage = u
		return bitChoiceUsage, err
	case "logprobs":
		raw, err := p.raw()
		ch.Logprobs = raw
		return bitLogprobs, err
	}
	return 0, nil
}

var chunkChoiceKeys = fieldKeys(ChunkChoice{})

func (p *jparser) chunkChoice(ch *ChunkChoice) error {
	return parseObject(p, ch, (*jparser).chunkChoiceMember)
}

func (p *jparser) chunkChoiceMember(ch *ChunkChoice, k []byte) (uint32, error) {
	if bit, err := p.choiceMember(ch, k); bit != 0 {
		return bit, err
	}
	if string(k) == "delta" {
		if p.null() {
			return bitDelta, nil
		}
		// Spelt out rather than through objectOrNull: this runs for every
		// chunk, and the direct call keeps the member function static.
		return bitDelta, parseObject(p, &ch.Delta, (*jparser).deltaOnlyMember)
	}
	return 0, p.unknown(k, chunkChoiceKeys)
}

// Member bits of a delta (and of a response message, which has more).
const (
	bitRole uint32 = 1 << iota
	bitContent
	bitReasoning
	bitToolCalls
	bitName
	bitPartial
	bitToolCallID
)

// deltaMember decodes a member that a stream delta and a response message
// share into d; it returns 0 for any other key.
func (p *jparser) deltaMember(d *Delta, k []byte) (uint32, error) {
	switch string(k) {
	case "role":
		var s string
		err := p.constStr(&s)
		d.Role = Role(s)
		return bitRole, err
	case "content":
		return bitContent, p.textStr(&d.Content, textContent)
	case "reasoning_content":
		return bitReasoning, p.textStr(&d.ReasoningContent, textReasoning)
	case "tool_calls":
		list, err := parseArray(p, []ToolCall(nil), (*jparser).toolCall)
		d.ToolCalls = list
		return bitToolCalls, err
	}
	return 0, nil
}

var deltaKeys = fieldKeys(Delta{})

func (p *jparser) deltaOnlyMember(d *Delta, k []byte) (uint32, error) {
	if bit, err := p.deltaMember(d, k); bit != 0 {
		return bit, err
	}
	return 0, p.unknown(k, deltaKeys)
}

var toolCallKeys = fieldKeys(ToolCall{})

func (p *jparser) toolCall(tc *ToolCall) error {
	return parseObject(p, tc, (*jparser).toolCallMember)
}

func (p *jparser) toolCallMember(tc *ToolCall, k []byte) (uint32, error) {
	switch string(k) {
	case "index":
		if p.null() {
			tc.Index = nil
			return 1, nil
		}
		n := new(int)
		tc.Index = n
		return 1, p.int(n)
	case "id":
		return 2, p.plainStr(&tc.ID)
	case "type":
		return 4, p.constStr(&tc.Type)
	case "function":
		return 8, objectOrNull(p, &tc.Function, (*jparser).functionMember)
	}
	return 0, p.unknown(k, toolCallKeys)
}

var functionKeys = fieldKeys(ToolCallFunction{})

func (p *jparser) functionMember(f *ToolCallFunction, k []byte) (uint32, error) {
	switch string(k) {
	case "name":
		return 1, p.plainStr(&f.Name)
	case "arguments":
		return 2, p.textStr(&f.Arguments, textArguments)
	}
	return 0, p.unknown(k, functionKeys)
}

var usageKeys = fieldKeys(Usage{})

func (p *jparser) usage() (*Usage, error) {
	var u *Usage
	if err := newObject(p, &u, (*jparser).usageMember); err != nil || u == nil {
		return nil, err
	}
	u.normalize() // what (*Usage).UnmarshalJSON does
	return u, nil
}

func (p *jparser) usageMember(u *Usage, k []byte) (uint32, error) {
	switch string(k) {
	case "prompt_tokens":
		return 1, p.int(&u.PromptTokens)
	case "completion_tokens":
		return 2, p.int(&u.CompletionTokens)
	case "total_tokens":
		return 4, p.int(&u.TotalTokens)
	case "cached_tokens":
		return 8, p.int(&u.CachedTokens)
	case "prompt_tokens_details":
		return 16, newObject(p, &u.PromptTokensDetails, (*jparser).promptDetailsMember)
	case "completion_tokens_details":
		return 32, newObject(p, &u.CompletionTokensDetails, (*jparser).completionDetailsMember)
	}
	return 0, p.unknown(k, usageKeys)
}

var (
	promptDetailsKeys     = fieldKeys(PromptTokensDetails{})
	completionDetailsKeys = fieldKeys(CompletionTokensDetails{})
)

func (p *jparser) promptDetailsMember(d *PromptTokensDetails, k []byte) (uint32, error) {
	if string(k) == "cached_tokens" {
		return 1, p.int(&d.CachedTokens)
	}
	return 0, p.unknown(k, promptDetailsKeys)
}

func (p *jparser) completionDetailsMember(d *CompletionTokensDetails, k []byte) (uint32, error) {
	if string(k) == "reasoning_tokens" {
		return 1, p.int(&d.ReasoningTokens)
	}
	return 0, p.unknown(k, completionDetailsKeys)
}

// str reads a string and returns its decoded bytes, aliasing the input
// when there is nothing to unescape, else the scratch buffer.
func (p *jscan) str() ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errFallback
	}
	start := p.i + 1
	j := start
	// Scan eight bytes at a time while none of them is a quote, a
	// backslash or a control byte (SWAR "has byte" tricks); bytes >= 0x80
	// pass and are checked as UTF-8 once at the end.
	var high uint64
	for j+8 <= len(p.b) {
		w := binary.LittleEndian.Uint64(p.b[j:])
		q := w ^ (swarLo * '"')
		bs := w ^ (swarLo * '\\')
		if ((q-swarLo)&^q|(bs-swarLo)&^bs|(w-swarLo*0x20)&^w)&swarHi != 0 {
			break
		}
		high |= w
		j += 8
	}
	ascii := high&swarHi == 0
	for j < len(p.b) {
		c := p.b[j]
		if strPlain[c] {
			j++
			continue
		}
		switch {
		case c == '"':
			s := p.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, errFallback // encoding/json substitutes U+FFFD
			}
			p.i = j + 1
			return s, nil
		case c == '\\':
			return p.strEscaped(start, j)
		case c < 0x20:
			return nil, errFallback
		default: // non-ASCII
			ascii = false
			j++
		}
	}
	return nil, errFallback
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// strEscaped continues str from the first backslash at j.
func (p *jscan) strEscaped(start, j int) ([]byte, error) {
	out := append(p.scratch[:0], p.b[start:j]...)
	for j < len(p.b) {
		c := p.b[j]
		switch {
		case c == '"':
			p.scratch = out
			if !utf8.Valid(out) {
				return nil, errFallback
			}
			p.i = j + 1
			return out, nil
		case c < 0x20:
			return nil, errFallback
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(p.b) {
			return nil, errFallback
		}
		switch e := p.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(p.b, j+2)
			if !ok {
				return nil, errFallback
			}
			j += 6
			if utf16.IsSurrogate(r) {
				// Only a proper high+low pair is decoded here; lone halves
				// become U+FFFD in encoding/json, left to it.
				r2, ok := rune(0), false
				if j+1 < len(p.b) && p.b[j] == '\\' && p.b[j+1] == 'u' {
					r2, ok = hex4(p.b, j+2)
				}
				r = utf16.DecodeRune(r, r2)
				if !ok || r == utf8.RuneError {
					return nil, errFallback
				}
				j += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, errFallback
		}
		j += 2
	}
	return nil, errFallback
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// strPlain marks bytes that need no attention inside a string.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strOrNull reads a string, or null, for which ok is false: null leaves
// the destination alone, as in encoding/json.
func (p *jscan) strOrNull() (b []byte, ok bool, err error) {
	if p.null() {
		return nil, false, nil
	}
	b, err = p.str()
	return b, err == nil, err
}

// plainStr decodes a string or null into a new string.
func (p *jscan) plainStr(dst *string) error {
	b, ok, err := p.strOrNull()
	if ok {
		*dst = string(b)
	}
	return err
}

// textStr is plainStr for the text fields, noting where the string lies
// so that chunkTemplate can find it.
func (p *jparser) textStr(dst *string, kind textKind) error {
	p.ws()
	start := p.i + 1
	b, ok, err := p.strOrNull()
	if !ok {
		return err
	}
	if p.arena != nil {
		*dst = p.arena.string(b)
	} else {
		*dst = string(b)
	}
	p.texts++
	p.text = textSpan{start: start, end: p.i - 1, kind: kind}
	return nil
}

// bool decodes true or false; null leaves *dst alone.
func (p *jscan) bool(dst *bool) error {
	if p.null() {
		return nil
	}
	lit := "false"
	if p.peek() == 't' {
		lit = "true"
	}
	if err := p.literal(lit); err != nil {
		return err
	}
	*dst = lit == "true"
	return nil
}

// internStr is plainStr that reuses *prev when the bytes are unchanged.
func (p *jscan) internStr(dst, prev *string) error {
	b, ok, err := p.strOrNull()
	if !ok {
		return err
	}
	if string(b) != *prev {
		*prev = string(b)
	}
	*dst = *prev
	return nil
}

// constStr is plainStr for enum-like values: known ones need no allocation.
func (p *jscan) constStr(dst *string) error {
	b, ok, err := p.strOrNull()
	if !ok {
		return err
	}
	switch string(b) {
	case "":
		*dst = ""
	case FinishStop:
		*dst = FinishStop
	case FinishLength:
		*dst = FinishLength
	case FinishToolCalls:
		*dst = FinishToolCalls
	case FinishContentFilter:
		*dst = FinishContentFilter
	case string(RoleAssistant):
		*dst = string(RoleAssistant)
	case ToolTypeFunction:
		*dst = ToolTypeFunction
	default:
		*dst = string(b)
	}
	return nil
}

// int64 decodes an integer; null leaves *dst alone. Fractions, exponents
// and anything near overflow go to the slow path, which rejects or handles
// them exactly as encoding/json does.
func (p *jscan) int64(dst *int64) error {
	if p.null() {
		return nil
	}
	i := p.i
	neg := false
	if i < len(p.b) && p.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	var n int64
	for i < len(p.b) && '0' <= p.b[i] && p.b[i] <= '9' {
		n = n*10 + int64(p.b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') {
		return errFallback
	}
	if i < len(p.b) {
		switch p.b[i] {
		case '.', 'e', 'E':
			return errFallback
		}
	}
	if neg {
		n = -n
	}
	p.i = i
	*dst = n
	return nil
}

func (p *jscan) int(dst *int) error {
	if p.null() {
		return nil
	}
	var n int64
	if err := p.int64(&n); err != nil {
		return err
	}
	if int64(int(n)) != n {
		return errFallback
	}
	*dst = int(n)
	return nil
}

// nullRaw is shared by every decoded "logprobs": null so that the common
// case does not allocate; its capacity is capped so appends copy.
var nullRaw = json.RawMessage("null")[:4:4]

// raw returns a copy of the next value's bytes, as json.RawMessage does.
func (p *jscan) raw() (json.RawMessage, error) {
	if p.null() {
		return nullRaw, nil
	}
	return p.rawCopy()
}

// rawCopy is raw without the shared null: for values a caller gets to
// keep in an Extra map.
func (p *jscan) rawCopy() (json.RawMessage, error) {
	p.ws()
	start := p.i
	if err := p.skip(0); err != nil {
		return nil, err
	}
	return append(json.RawMessage(nil), p.b[start:p.i]...), nil
}

// maxSkipDepth bounds recursion in skip; deeper documents take the slow path.
const maxSkipDepth = 64

// skip validates and skips one value of any shape. It must reject
// everything encoding/json rejects, or the fast path would accept a chunk
// the standard decoder refuses.
func (p *jscan) skip(depth int) error {
	if depth > maxSkipDepth {
		return errFallback
	}
	switch c := p.peek(); {
	case c == '"':
		return p.skipStr()
	case c == '{':
		p.i++
		if p.peek() == '}' {
			p.i++
			return nil
		}
		for {
			p.ws()
			if err := p.skipStr(); err != nil {
				return err
			}
			if p.peek() != ':' {
				return errFallback
			}
			p.i++
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case '}':
				p.i++
				return nil
			default:
				return errFallback
			}
		}
	case c == '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return nil
			default:
				return errFallback
			}
		}
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return p.skipNumber()
	}
	return errFallback
}

func (p *jscan) literal(s string) error {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return nil
	}
	return errFallback
}

// skipStr checks string syntax (escapes, no control bytes) without decoding.
func (p *jscan) skipStr() error {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return errFallback
	}
	j := p.i + 1
	for j < len(p.b) {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return nil
		case c < 0x20:
			return errFallback
		case c == '\\':
			if j+1 >= len(p.b) {
				return errFallback
			}
			switch p.b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(p.b, j+2); !ok {
					return errFallback
				}
				j += 6
			default:
				return errFallback
			}
		default:
			j++
		}
	}
	return errFallback
}

// skipNumber checks the JSON number grammar.
func (p *jscan) skipNumber() error {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		s := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - s
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return errFallback
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return errFallback
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return errFallback
		}
	}
	p.i = i
	return nil
}

// chunkHead is the opening of the previous chunk up to the end of its
// header members (those in headerBits, in any order, before any other
// member), with their decoded values.
type chunkHead struct {
	bytes                          []byte
	bits                           uint32
	id, object, model, fingerprint string
	created                        int64
}

// apply copies the header into c and moves p past it when the input
// starts with the same bytes. It returns the bits of the members skipped.
func (h *chunkHead) apply(p *jparser, c *ChatCompletionChunk) (uint32, bool) {
	n := len(h.bytes)
	if n == 0 || len(p.b) <= n || !bytes.HasPrefix(p.b, h.bytes) {
		return 0, false
	}
	// The last value must end where it ended before: "created":17 is a
	// prefix of "created":178.
	switch p.b[n] {
	case ',', '}', ' ', '\t', '\n', '\r':
	default:
		return 0, false
	}
	c.ID, c.Object, c.Created, c.Model, c.SystemFingerprint = h.id, h.object, h.created, h.model, h.fingerprint
	p.i = n
	p.headEnd, p.headBits = n, h.bits
	return h.bits, true
}

// remember keeps the header of the chunk p has just decoded into c.
func (h *chunkHead) remember(p *jparser, c *ChatCompletionChunk) {
	if bytes.Equal(h.bytes, p.b[:p.headEnd]) {
		return
	}
	h.bytes = append(h.bytes[:0], p.b[:p.headEnd]...)
	*h = chunkHead{bytes: h.bytes, bits: p.headBits}
	if h.bits&bitID != 0 {
		h.id = c.ID
	}
	if h.bits&bitObject != 0 {
		h.object = c.Object
	}
	if h.bits&bitCreated != 0 {
		h.created = c.Created
	}
	if h.bits&bitModel != 0 {
		h.model = c.Model
	}
	if h.bits&bitFingerprint != 0 {
		h.fingerprint = c.SystemFingerprint
	}
}

// chunkTemplate is the previous chunk when it had one choice and exactly
// one text string (its content, its reasoning or the arguments of its only
// tool call): its bytes before and after that string, and its decoded
// value without the text. Most chunks of a stream are the previous one
// with another text.
type chunkTemplate struct {
	buf   []byte // the bytes up to the text's opening quote, then from its closing quote
	split int    // where the second part of buf starts; 0 when there is no template
	kind  textKind

	chunk    ChatCompletionChunk // Choices nil
	choice   ChunkChoice         // text and ToolCalls cleared
	call     ToolCall            // textArguments: Arguments and Index cleared
	index    int
	hasIndex bool
}

// fromTemplate decodes data from the template when data is the template's
// bytes around one JSON string, and returns nil otherwise. Parsing such
// data would take the same steps as for the template, so the result is
// the template with that string as its text.
func (cd *chunkDecoder) fromTemplate(data []byte) *ChatCompletionChunk {
	t, p := &cd.tmpl, &cd.p
	if t.split == 0 || len(data) < len(t.buf) {
		return nil
	}
	pre, suf := t.buf[:t.split], t.buf[t.split:]
	if !bytes.HasPrefix(data, pre) || !bytes.HasSuffix(data, suf) {
		return nil
	}
	// A scanner on the stack: pointers stored in cd, on the heap, cost a
	// write barrier while a garbage collection runs.
	sc := jscan{b: data, i: t.split - 1, scratch: p.scratch} // at the opening quote
	s, err := sc.str()
	if cap(sc.scratch) != cap(p.scratch) {
		p.scratch = sc.scratch[:0] // grown: keep it
	}
	if err != nil || sc.i != len(data)-len(suf)+1 {
		return nil // not one string: a quote inside the text closed it
	}
	var box *chunkBox
	var text *string
	if t.kind == textArguments {
		tb := cd.toolBoxes.next()
		box = &tb.chunkBox
		t.fill(box)
		tc := &tb.call[0]
		if t.hasIndex {
			tb.index = t.index
			tc.Index = &tb.index
		}
		setStr(&tc.ID, t.call.ID)
		setStr(&tc.Type, t.call.Type)
		setStr(&tc.Function.Name, t.call.Function.Name)
		box.choice[0].Delta.ToolCalls = tb.call[:]
		text = &tc.Function.Arguments
	} else {
		box = cd.boxes.next()
		t.fill(box)
		text = &box.choice[0].Delta.Content
		if t.kind == textReasoning {
			text = &box.choice[0].Delta.ReasoningContent
		}
	}
	*text = cd.arena.string(s)
	return &box.chunk
}

// fill copies the template into the zero box. Only fields that are set
// are written: copying whole structs would run the GC's write barrier over
// every pointer in them, which costs more than the rest of the decoding
// while a collection is running.
func (t *chunkTemplate) fill(box *chunkBox) {
	c, ch := &box.chunk, &box.choice[0]
	setStr(&c.ID, t.chunk.ID)
	setStr(&c.Object, t.chunk.Object)
	c.Created = t.chunk.Created
	setStr(&c.Model, t.chunk.Model)
	setStr(&c.SystemFingerprint, t.chunk.SystemFingerprint)
	c.Choices = box.choice[:]
	ch.Index = t.choice.Index
	setStr((*string)(&ch.Delta.Role), string(t.choice.Delta.Role))
	setStr(&ch.Delta.Content, t.choice.Delta.Content)
	setStr(&ch.Delta.ReasoningContent, t.choice.Delta.ReasoningContent)
	if t.choice.Delta.ToolCalls != nil {
		ch.Delta.ToolCalls = t.choice.Delta.ToolCalls // empty
	}
	setStr(&ch.FinishReason, t.choice.FinishReason)
	if t.choice.Logprobs != nil {
		ch.Logprobs = nullRaw
	}
}

func setStr(dst *string, s string) {
	if s != "" {
		*dst = s
	}
}

// remember makes the chunk p has just decoded into c the template, if it
// has the shape of one; else there is no template.
func (t *chunkTemplate) remember(p *jparser, c *ChatCompletionChunk) {
	t.split = 0
	if p.texts != 1 || len(c.Choices) != 1 || c.Usage != nil {
		return
	}
	ch := &c.Choices[0]
	// Pointers and byte slices would be shared between chunks; only the
	// immutable nullRaw may be.
	if ch.Usage != nil || (ch.Logprobs != nil && string(ch.Logprobs) != "null") {
		return
	}
	tool := p.text.kind == textArguments
	if n := len(ch.Delta.ToolCalls); (tool && n != 1) || (!tool && n != 0) {
		return
	}
	t.buf = append(append(t.buf[:0], p.b[:p.text.start]...), p.b[p.text.end:]...)
	t.split = p.text.start
	t.kind = p.text.kind
	t.chunk = *c
	t.chunk.Choices = nil
	t.choice = *ch
	switch t.kind {
	case textContent:
		t.choice.Delta.Content = ""
	case textReasoning:
		t.choice.Delta.ReasoningContent = ""
	case textArguments:
		t.call = ch.Delta.ToolCalls[0]
		t.call.Function.Arguments = ""
		t.hasIndex = t.call.Index != nil
		if t.hasIndex {
			t.index = *t.call.Index
		}
		t.call.Index = nil
		t.choice.Delta.ToolCalls = nil
	}
}
