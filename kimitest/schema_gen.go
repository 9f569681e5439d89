package kimitest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/internal/ascii"
)

// The structured answers: JSON instances of a response schema or of a
// tool's parameters, and the objects of JSON mode. Values come from the
// question where it has them (a "city" property gets the city the question
// names, a "days" property the number before "days"), else plausible
// defaults; enum, const, types, required properties, bounds and simple
// formats are always respected. The random choices are drawn from a hash
// of the request, so a request gets the same answer every time.

// Bounds of one generated instance. A schema that needs more (minItems of a
// million, required recursion many levels deep) gets the prefix that fits
// and finish_reason "length", as a model would run out of tokens.
const (
	genMaxValues  = 2000
	genMaxBytes   = 1 << 17
	genMaxNesting = 40
	// genFreeDepth is the nesting up to which the generator follows a
	// recursive schema freely; deeper, it takes the ways out (null
	// branches, empty arrays, optional properties left out).
	genFreeDepth = 4
	// genTermRounds bounds the termination analysis of a schema that was
	// not validated (tool parameters can be large): past it, a recursion
	// is taken not to end, and the generator only takes its ways out.
	genTermRounds = 64
)

// instanceGen writes one instance as JSON text.
type instanceGen struct {
	root   *jsonValue
	term   *termination
	facts  *questionFacts
	rng    *rand.Rand
	strict bool // strict mode: every property is written
	buf    []byte
	values int
	full   bool // a bound was hit: buf is a prefix of the instance
}

// schemaInstance writes an instance of the schema raw. ok is false when it
// did not fit the bounds (the text is then a prefix of it).
func schemaInstance(raw []byte, f *questionFacts, rng *rand.Rand, strict bool) (text string, ok bool) {
	root, parsed := parseOrdered(raw)
	if !parsed {
		root = &jsonValue{kind: jsonObject}
	}
	g := &instanceGen{root: root, term: newTermination(root, genTermRounds), facts: f, rng: rng, strict: strict}
	g.value(root, "", 0)
	return string(g.buf), !g.full
}

// room reports whether another value fits; once one does not, nothing more
// is written.
func (g *instanceGen) room() bool {
	if g.full || g.values >= genMaxValues || len(g.buf) >= genMaxBytes {
		g.full = true
		return false
	}
	g.values++
	return true
}

// free reports whether the generator may take optional ways at this depth.
func (g *instanceGen) free(depth int) bool {
	return depth <= genFreeDepth && g.values < genMaxValues/4
}

// value writes an instance of s; key is the property (or, for array items,
// the singular of the array's property) it is the value of.
func (g *instanceGen) value(s *jsonValue, key string, depth int) {
	if !g.room() {
		return
	}
	if depth > genMaxNesting {
		g.full = true
		return
	}
	s = g.resolve(s)
	if !s.isObject() {
		g.untyped(key, depth)
		return
	}
	if c := s.field("const"); c != nil {
		g.buf = c.appendJSON(g.buf)
		return
	}
	if e := s.field("enum"); e != nil && e.kind == jsonArray && len(e.items) > 0 {
		g.buf = g.facts.pickEnum(e.items, key).appendJSON(g.buf)
		return
	}
	if all := s.field("allOf"); all != nil && all.kind == jsonArray && len(all.items) > 0 {
		g.value(g.merge(s, all.items), key, depth)
		return
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if l := s.field(k); l != nil && l.kind == jsonArray && len(l.items) > 0 {
			g.value(g.branch(l.items, depth), key, depth)
			return
		}
	}
	typ := g.chooseType(s, key, depth)
	switch typ {
	case "object":
		g.object(s, key, depth)
	case "array":
		g.array(s, key, depth)
	case "string":
		g.buf = appendJSONString(g.buf, g.facts.stringFor(s, key, g.rng))
		if m := s.field("minLength"); m != nil && m.kind == jsonNumber && m.num > genMaxBytes {
			// Longer than an answer can be: the string is cut short.
			g.buf = g.buf[:len(g.buf)-1]
			g.full = true
		}
	case "integer", "number":
		g.buf = appendNumber(g.buf, g.facts.numberFor(s, key, typ == "integer", g.rng))
	case "boolean":
		g.buf = strconv.AppendBool(g.buf, g.facts.boolFor(key))
	case "null":
		g.buf = append(g.buf, "null"...)
	default:
		g.untyped(key, depth)
	}
}

// resolve follows $ref (a few hops, for refs to refs).
func (g *instanceGen) resolve(s *jsonValue) *jsonValue {
	for range 8 {
		r := s.fieldString("$ref")
		if r == "" {
			return s
		}
		t := resolveRef(g.root, r)
		if t == nil {
			return &jsonValue{kind: jsonObject}
		}
		s = t
	}
	return s
}

// chooseType picks one of the schema's types: the first one that is not
// null, unless the recursion must end here; a schema without a type is
// read from its keywords, else from its property name.
func (g *instanceGen) chooseType(s *jsonValue, key string, depth int) string {
	types := schemaTypes(s)
	switch {
	case len(types) == 0:
		switch {
		case s.field("properties") != nil || s.field("required") != nil || s.field("additionalProperties") != nil:
			return "object"
		case s.field("items") != nil:
			return "array"
		}
		return ""
	case len(types) == 1:
		return types[0]
	}
	if !g.free(depth) {
		// The way out: a scalar first.
		for _, t := range types {
			if t != "object" && t != "array" {
				return t
			}
		}
	}
	for _, t := range types {
		if t != "null" {
			return t
		}
	}
	return types[0]
}

// branch picks an anyOf/oneOf branch: the first that is not null and can
// end, or, when the recursion must end, the one most likely to end soon.
func (g *instanceGen) branch(brs []*jsonValue, depth int) *jsonValue {
	score := func(b *jsonValue) int {
		b = g.resolve(b)
		ts := schemaTypes(b)
		switch {
		case !g.term.terminates(b):
			return 0
		case slices.Contains(ts, "null") || b.field("const") != nil || b.field("enum") != nil:
			return 3
		case len(ts) > 0 && !slices.Contains(ts, "object") && !slices.Contains(ts, "array"):
			return 2
		}
		return 1
	}
	best, bestScore := brs[0], -1
	for _, b := range brs {
		sc := score(b)
		if g.free(depth) {
			// A value rather than null, when there is a choice.
			if sc == 3 && slices.Contains(schemaTypes(g.resolve(b)), "null") {
				sc = 1
			} else if sc > 0 {
				sc = 2
			}
		}
		if sc > bestScore {
			best, bestScore = b, sc
		}
	}
	return best
}

// merge combines allOf branches that describe objects into one schema;
// otherwise the first branch stands for all.
func (g *instanceGen) merge(parent *jsonValue, brs []*jsonValue) *jsonValue {
	out := &jsonValue{kind: jsonObject}
	props := &jsonValue{kind: jsonObject}
	req := &jsonValue{kind: jsonArray}
	objects := 0
	for _, b := range append([]*jsonValue{parent}, brs...) {
		b = g.resolve(b)
		if !b.isObject() {
			continue
		}
		if p := b.field("properties"); p.isObject() {
			objects++
			for i, k := range p.keys {
				if props.field(k) == nil {
					props.keys, props.vals = append(props.keys, k), append(props.vals, p.vals[i])
				}
			}
		}
		if r := b.field("required"); r != nil && r.kind == jsonArray {
			req.items = append(req.items, r.items...)
		}
	}
	if objects == 0 {
		return brs[0]
	}
	out.keys = []string{"type", "properties", "required"}
	out.vals = []*jsonValue{{kind: jsonString, str: "object"}, props, req}
	return out
}

// untyped writes a value for a schema that says nothing of it, shaped by
// the property name.
func (g *instanceGen) untyped(key string, depth int) {
	switch keyKind(key) {
	case "integer":
		g.buf = appendNumber(g.buf, g.facts.numberFor(nil, key, true, g.rng))
	case "number":
		g.buf = appendNumber(g.buf, g.facts.numberFor(nil, key, false, g.rng))
	case "boolean":
		g.buf = strconv.AppendBool(g.buf, g.facts.boolFor(key))
	case "array":
		if depth < genMaxNesting {
			g.array(&jsonValue{kind: jsonObject}, key, depth)
			return
		}
		g.buf = append(g.buf, "[]"...)
	default:
		g.buf = appendJSONString(g.buf, g.facts.stringFor(nil, key, g.rng))
	}
}

// object writes the required properties (all of them when none is
// required or in strict mode), and the optional ones the question speaks
// of; an object described only by additionalProperties gets one entry.
func (g *instanceGen) object(s *jsonValue, key string, depth int) {
	props := s.field("properties")
	if !props.isObject() {
		props = nil
	}
	var required []string
	if r := s.field("required"); r != nil && r.kind == jsonArray {
		for _, it := range r.items {
			if it.kind == jsonString && !slices.Contains(required, it.str) {
				required = append(required, it.str)
			}
		}
	}
	var keys []string
	if props != nil {
		for i, k := range props.keys {
			switch {
			case slices.Contains(required, k):
			case !g.free(depth):
				continue
			case len(required) == 0 || g.strict || g.facts.speaksOf(k, g.resolve(props.vals[i])):
			default:
				continue
			}
			keys = append(keys, k)
		}
	}
	for _, k := range required {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	g.buf = append(g.buf, '{')
	n := 0
	write := func(k string, ps *jsonValue) {
		if g.full {
			return
		}
		if n > 0 {
			g.buf = append(g.buf, ',')
		}
		n++
		g.buf = appendJSONString(g.buf, k)
		g.buf = append(g.buf, ':')
		g.value(ps, k, depth+1)
	}
	for _, k := range keys {
		write(k, props.field(k))
	}
	if ap := s.field("additionalProperties"); n == 0 && ap.isObject() && g.free(depth) {
		write(g.facts.entryKey(key), ap)
	}
	if !g.full {
		g.buf = append(g.buf, '}')
	}
}

// array writes as many items as the question asks for ("three cities"),
// else one, within minItems and maxItems; string items differ from each
// other.
func (g *instanceGen) array(s *jsonValue, key string, depth int) {
	lo := minItems(s)
	hi := math.MaxInt
	if v := s.field("maxItems"); v != nil && v.kind == jsonNumber && v.num >= 0 {
		hi = int(min(v.num, math.MaxInt32))
	}
	n := lo
	if g.free(depth) {
		n = max(lo, min(hi, g.facts.countFor(key, 1)))
	}
	item := s.field("items")
	var tuple []*jsonValue
	if item != nil && item.kind == jsonArray {
		// A tuple form, which only unvalidated tool parameters can have.
		tuple, item = item.items, nil
	}
	if pi := s.field("prefixItems"); pi != nil && pi.kind == jsonArray {
		tuple = pi.items
	}
	n = max(n, min(len(tuple), hi))
	elem := singular(key)
	g.buf = append(g.buf, '[')
	var seen []string
	for i := 0; i < n && !g.full; i++ {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		is := item
		if i < len(tuple) {
			is = tuple[i]
		}
		start := len(g.buf)
		g.facts.avoid = seen
		g.value(is, elem, depth+1)
		g.facts.avoid = nil
		seen = append(seen, string(g.buf[start:]))
	}
	if !g.full {
		g.buf = append(g.buf, ']')
	}
}

func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	if math.Abs(v) < 1e15 && math.Abs(v) > 1e-6 {
		return strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// jsonObjectAnswer is the content of a JSON-mode reply: an object whose
// keys are the fields the question asks for ("Return name and age as
// JSON"), else the topic and a short answer.
func jsonObjectAnswer(f *questionFacts, rng *rand.Rand, answer string) string {
	fields := f.fieldList()
	if len(fields) == 0 {
		return marshalNoEscape(map[string]any{"topic": f.topic, "answer": answer})
	}
	g := &instanceGen{root: &jsonValue{kind: jsonObject}, facts: f, rng: rng}
	g.term = newTermination(g.root, genTermRounds)
	g.buf = append(g.buf, '{')
	for i, k := range fields {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		g.buf = appendJSONString(g.buf, k)
		g.buf = append(g.buf, ':')
		g.values++
		g.untyped(k, 1)
	}
	return string(append(g.buf, '}'))
}

// toolArguments are the arguments of a call of a function whose parameters
// are the schema raw: always an object, so that a client can decode them.
// ok is false when they did not fit the bounds: a model's arguments would
// be cut short too, so the text is then a prefix of the object.
func toolArguments(raw json.RawMessage, f *questionFacts, rng *rand.Rand) (args string, ok bool) {
	var root *jsonValue
	if len(raw) > 0 {
		root, _ = parseOrdered(raw)
	}
	if !root.isObject() || !(typeIs(root.field("type"), "object") || root.field("properties") != nil) {
		return "{}", true
	}
	g := &instanceGen{root: root, term: newTermination(root, genTermRounds), facts: f, rng: rng}
	g.room()
	g.object(root, "", 0)
	return string(g.buf), !g.full
}

// questionFacts are what the question offers to fill values with.
type questionFacts struct {
	text   string // the question (its last part when very long)
	lower  string // text with ASCII letters lowered: its offsets are text's
	query  string // the question without instructions about tools or format
	topic  string
	zh     bool
	places []string // capitalised names after "in", "to"… and known cities
	names  []string // other capitalised names, people first
	nums   []numFact
	emails []string
	urls   []string
	dates  []string
	times  []string // date-times
	words  []string // content words, for keywords and tags
	answer string   // a sentence for free-text fields
	avoid  []string // values already given to sibling array items (JSON)
}

type numFact struct {
	v          float64
	start, end int // byte offsets in text
}

// questionFactsMax bounds the text analysed: a question's last 8 KB say
// what it asks for; a document before them would only cost time.
const questionFactsMax = 8 << 10

var (
	emailRE    = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	urlRE      = regexp.MustCompile(`https?://[^\s"'<>()\[\]{}]+`)
	dateTimeRE = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?`)
	dateRE     = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	numRE      = regexp.MustCompile(`-?\d+(?:[.,]\d+)?`)
	wordRE     = regexp.MustCompile(`[\p{L}\p{M}][\p{L}\p{M}'’-]*`)
	// instructionRE matches the sentences that tell the model how to
	// answer rather than what about.
	instructionRE = regexp.MustCompile(`(?i)^(?:please\s+)?(?:use|call|invoke|respond|reply|answer|format|output)\b|\bjson\b|\bthe\s+\w+\s+tool\b`)
	sentenceRE    = regexp.MustCompile(`[^.?!。？！\n]+[.?!。？！\n]*`)
)

// placeWords come right before a place name; after the weak ones, a name
// may as well be a person's ("an email to Bob").
var (
	placeWords     = []string{"in", "at", "near", "around", "visit", "visiting"}
	weakPlaceWords = []string{"to", "from", "for", "of"}
)

// sentenceStarters are capitalised words that are not names.
var sentenceStarters = strings.Fields(`I I'm I’m Im What What's What’s Whats How Why When Where Who Whom Whose Which Tell Give Return
	Use Using Please Can Could Would Should Will Shall May Might Must Is Are Am Was Were Do Does Did Have Has Had My Our Your The A An This That
	These Those Show List Find Get Make Create Write Describe Explain Summarize Summarise Extract Send Book Call Check Let Let's Hi Hello Hey
	And Or But If In On At For From To With Also Then Now Today Tomorrow Yesterday Yes No Ok OK Okay Thanks Thank JSON API Answer Provide
	Output Generate Convert Translate Search Look Compare Calculate Compute Set Add Remove Delete Update Schedule Remind Order Buy Play Open
	Please Name Age It Its There Here Weather Note Dear Sir Madam Mr Mrs Ms Dr About Of As By Not All Any Each Every Some One Two Three
	Contact Email Mail Meet Visit Ask Reply Forward Help Plan Fly Go Take Bring Read Review Draft Fill Parse Format Pick Choose Rate Rank
	Sort Filter Count Classify Identify Suggest Recommend Invite Notify Cancel Confirm Reserve Move Copy Save Store Fetch Query Run`)

var starterSet = func() map[string]bool {
	m := make(map[string]bool, 2*len(sentenceStarters))
	for _, w := range sentenceStarters {
		m[w], m[strings.ToLower(w)] = true, true
	}
	return m
}()

// knownCities are recognised wherever they stand (also at the start of a
// sentence, where capitals prove nothing).
var knownCities = spaced(`Beijing Shanghai Shenzhen Guangzhou Hangzhou Chengdu Nanjing Wuhan Xi'an Chongqing Tianjin Suzhou Hong_Kong New_York Los_Angeles San_Francisco
	Taipei Singapore Tokyo Osaka Seoul Paris London Berlin Madrid Rome Milan Vienna Amsterdam Brussels Zurich Geneva Prague Warsaw Moscow
	Istanbul Dubai Cairo Lagos Nairobi Sydney Melbourne Auckland Toronto Vancouver Montreal Chicago Boston Seattle Austin Denver Miami
	Dallas Houston Atlanta Mumbai Delhi Bangalore Bangkok Hanoi Jakarta Manila Lisbon Dublin Oslo Stockholm Copenhagen Helsinki Athens`)

// spaced splits a list of words, "_" standing for a space in one.
func spaced(list string) []string {
	out := strings.Fields(list)
	for i, w := range out {
		out[i] = strings.ReplaceAll(w, "_", " ")
	}
	return out
}

var zhCities = []string{"北京", "上海", "深圳", "广州", "杭州", "成都", "南京", "武汉", "西安", "重庆", "天津", "苏州", "香港", "台北", "长沙", "青岛", "厦门", "郑州", "沈阳", "大连", "昆明", "哈尔滨", "东京", "巴黎", "伦敦", "纽约"}

var countries = strings.Fields(`China France Germany Japan Korea India Brazil Canada Mexico Italy Spain Russia Australia Egypt Kenya
	Nigeria Turkey Thailand Vietnam Indonesia Singapore Switzerland Sweden Norway Denmark Finland Poland Portugal Greece Ireland Netherlands Belgium Austria USA UK`)

// cityCountry gives the country of a few known cities, for a "country"
// next to a "city".
var cityCountry = map[string]string{
	"Beijing": "China", "Shanghai": "China", "Shenzhen": "China", "Guangzhou": "China", "Hangzhou": "China", "Chengdu": "China",
	"Paris": "France", "London": "UK", "Berlin": "Germany", "Madrid": "Spain", "Rome": "Italy", "Milan": "Italy", "Tokyo": "Japan",
	"Osaka": "Japan", "Seoul": "Korea", "Sydney": "Australia", "Melbourne": "Australia", "Toronto": "Canada", "Vancouver": "Canada",
	"New York": "USA", "Chicago": "USA", "Boston": "USA", "Seattle": "USA", "Mumbai": "India", "Delhi": "India", "Moscow": "Russia",
	"北京": "中国", "上海": "中国", "深圳": "中国", "广州": "中国", "杭州": "中国", "成都": "中国", "东京": "日本", "巴黎": "法国", "伦敦": "英国", "纽约": "美国",
}

var zhCountries = []string{"中国", "美国", "日本", "韩国", "法国", "德国", "英国", "俄罗斯", "印度", "巴西", "加拿大", "澳大利亚", "意大利", "西班牙"}

var numberWords = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"a couple of": 2, "a few": 3, "several": 3, "一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

var colorWords = []string{"red", "orange", "yellow", "green", "blue", "purple", "pink", "black", "white", "gray", "grey", "brown"}

// newQuestionFacts reads the question; tools are the request's function
// names, which are never values.
func newQuestionFacts(question string, zh bool, answer string, tools []tool) *questionFacts {
	if len(question) > questionFactsMax {
		cut := len(question) - questionFactsMax
		for cut < len(question) && !utf8.RuneStart(question[cut]) {
			cut++
		}
		question = question[cut:]
	}
	f := &questionFacts{text: question, lower: ascii.Lower(question), zh: zh, answer: answer}
	var toolNames []string
	for _, t := range tools {
		toolNames = append(toolNames, strings.ToLower(t.Function.Name))
	}

	// What the question is about: its sentences that are not instructions.
	var kept []string
	for _, s := range sentenceRE.FindAllString(question, -1) {
		if t := strings.TrimSpace(s); t != "" && !instructionRE.MatchString(t) && !mentionsAny(strings.ToLower(t), toolNames) {
			kept = append(kept, t)
		}
	}
	f.query = strings.TrimSpace(strings.Join(kept, " "))
	if f.query == "" {
		f.query = strings.TrimSpace(question)
	}
	f.query = strings.TrimRightFunc(f.query, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	if utf8.RuneCountInString(f.query) > 200 {
		f.query = string([]rune(f.query)[:200])
	}
	f.topic = topicOf(f.query, zh)

	f.emails = emailRE.FindAllString(question, 8)
	for _, u := range urlRE.FindAllString(question, 8) {
		f.urls = append(f.urls, strings.TrimRightFunc(u, func(r rune) bool { return strings.ContainsRune(".,;:!?", r) }))
	}
	f.times = dateTimeRE.FindAllString(question, 8)
	f.dates = dateRE.FindAllString(question, 8)
	for _, m := range numRE.FindAllStringIndex(question, 64) {
		// Digits inside a date, an e-mail or a word are not quantities.
		if m[0] > 0 && (ascii.IsWordByte(question[m[0]-1]) || strings.IndexByte(".-", question[m[0]-1]) >= 0 && m[0] > 1 && isDigit(question[m[0]-2])) {
			continue
		}
		if m[1] < len(question) && (ascii.IsWordByte(question[m[1]]) || question[m[1]] == '-' || question[m[1]] == '@') {
			continue
		}
		v, err := strconv.ParseFloat(strings.Replace(question[m[0]:m[1]], ",", ".", 1), 64)
		if err == nil {
			f.nums = append(f.nums, numFact{v: v, start: m[0], end: m[1]})
		}
	}
	f.readNames(toolNames)
	// Keywords: the query's words, but not those of an address or a
	// person's name.
	plain := urlRE.ReplaceAllString(emailRE.ReplaceAllString(f.query, " "), " ")
	var nameWords []string
	for _, n := range f.names {
		if !slices.Contains(f.places, n) {
			nameWords = append(nameWords, strings.Fields(strings.ToLower(n))...)
		}
	}
	for _, w := range wordRE.FindAllString(plain, 64) {
		lw := strings.ToLower(w)
		if slices.Contains(nameWords, lw) {
			continue
		}
		if _, number := numberWords[lw]; len(lw) >= 4 && !number && lw != "json" && !stopwords[lw] && !starterSet[lw] && !slices.Contains(f.words, lw) && classify([]rune(lw)[0]) != classCJK {
			f.words = append(f.words, lw)
		}
	}
	return f
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func mentionsAny(s string, names []string) bool {
	for _, n := range names {
		if n != "" && (strings.Contains(s, n) || strings.Contains(s, strings.ReplaceAll(n, "_", " "))) {
			return true
		}
	}
	return false
}

// readNames collects the capitalised names of the question (runs of
// capitalised words, as "New York" or "Li Lei"), places apart from the
// others, and the Chinese cities and names it contains.
func (f *questionFacts) readNames(toolNames []string) {
	q := f.text
	type tok struct {
		w          string
		start, end int
	}
	var toks []tok
	for _, m := range wordRE.FindAllStringIndex(q, 256) {
		toks = append(toks, tok{q[m[0]:m[1]], m[0], m[1]})
	}
	starters := starterSet
	sentenceStart := func(pos int) bool {
		for i := pos - 1; i >= 0; i-- {
			switch c := q[i]; {
			case c == ' ' || c == '\t' || c == '"' || c == '\'' || c == '(':
				continue
			case c == '.' || c == '?' || c == '!' || c == '\n' || c == ':':
				return true
			default:
				return false
			}
		}
		return true
	}
	capital := func(w string) bool {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsUpper(r)
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !capital(t.w) || starters[t.w] || slices.Contains(toolNames, strings.ToLower(t.w)) {
			continue
		}
		known := slices.Contains(knownCities, t.w) || slices.Contains(countries, t.w)
		if sentenceStart(t.start) && !known && !(i+1 < len(toks) && capital(toks[i+1].w) && !starters[toks[i+1].w]) {
			continue
		}
		j := i + 1
		for j < len(toks) && j-i < 4 && capital(toks[j].w) && !starters[toks[j].w] && strings.TrimSpace(q[toks[j-1].end:toks[j].start]) == "" {
			j++
		}
		name := q[t.start:toks[j-1].end]
		prev := ""
		if i > 0 {
			prev = strings.ToLower(toks[i-1].w)
		}
		place := slices.Contains(placeWords, prev) || known || slices.Contains(knownCities, name)
		if place || slices.Contains(weakPlaceWords, prev) {
			if !slices.Contains(f.places, name) {
				f.places = append(f.places, name)
			}
		}
		if !place && !slices.Contains(f.names, name) {
			if slices.Contains([]string{"named", "called", "am", "is", "i'm", "i’m"}, prev) {
				f.names = append([]string{name}, f.names...)
			} else {
				f.names = append(f.names, name)
			}
		}
		i = j - 1
	}
	// Known cities anywhere, in any case, after the capitalised ones.
	for _, c := range knownCities {
		if i := strings.Index(f.lower, strings.ToLower(c)); i >= 0 && wholeWordAt(f.lower, i, len(c)) && !containsFold(f.places, c) {
			f.places = append(f.places, c)
		}
	}
	for _, c := range zhCities {
		if strings.Contains(q, c) && !slices.Contains(f.places, c) {
			f.places = append(f.places, c)
		}
	}
	for _, marker := range []string{"我叫", "名字是", "名叫", "叫做"} {
		if i := strings.Index(q, marker); i >= 0 {
			rest := []rune(q[i+len(marker):])
			n := 0
			for n < len(rest) && n < 3 && classify(rest[n]) == classCJK {
				n++
			}
			if n >= 2 {
				f.names = append([]string{string(rest[:n])}, f.names...)
			}
		}
	}
}

func wholeWordAt(s string, i, n int) bool {
	before := i == 0 || !ascii.IsWordByte(s[i-1])
	after := i+n >= len(s) || !ascii.IsWordByte(s[i+n])
	return before && after
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// keyWords splits a property name into lower-case words: "firstName",
// "first_name" and "first-name" all give [first name].
func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range key {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '.':
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return words
}

// keyClasses name the kinds of value property names call for. The first
// class with a word of the key wins; Chinese keys match as substrings.
var keyClasses = []struct {
	class string
	words []string
}{
	{"email", []string{"email", "mail", "邮箱", "邮件"}},
	{"url", []string{"url", "uri", "link", "website", "homepage", "href", "site", "网址", "链接"}},
	{"phone", []string{"phone", "tel", "telephone", "mobile", "电话", "手机"}},
	{"datetime", []string{"datetime", "timestamp", "time", "at", "时间"}},
	{"date", []string{"date", "birthday", "dob", "deadline", "日期", "生日"}},
	{"country", []string{"country", "nation", "国家"}},
	{"place", []string{"city", "town", "location", "place", "destination", "origin", "from", "region", "area", "address", "where", "城市", "地点", "位置", "目的地", "地址"}},
	{"language", []string{"language", "lang", "locale", "语言"}},
	{"firstname", []string{"first", "given", "forename"}},
	{"lastname", []string{"last", "family", "surname"}},
	{"person", []string{"name", "author", "person", "user", "username", "customer", "owner", "recipient", "sender", "assignee", "姓名", "名字", "作者", "用户"}},
	{"age", []string{"age", "年龄"}},
	{"year", []string{"year", "年份"}},
	{"count", []string{"count", "number", "num", "quantity", "qty", "total", "days", "day", "nights", "hours", "minutes", "limit", "size", "top", "k", "n", "people", "guests", "adults", "children", "page", "rank", "level", "max", "min", "数量", "天数", "人数"}},
	{"measure", []string{"price", "cost", "amount", "score", "rating", "temperature", "temp", "percent", "percentage", "ratio", "rate", "lat", "latitude", "lon", "lng", "longitude", "weight", "height", "width", "length", "distance", "confidence", "probability", "价格", "温度", "分数"}},
	{"boolean", []string{"is", "has", "can", "should", "enable", "enabled", "allow", "allowed", "include", "ok", "success", "valid", "done", "available", "active", "required", "verified", "confirmed", "是否"}},
	{"query", []string{"query", "q", "search", "keyword", "question", "prompt", "input", "term", "terms", "查询", "问题", "关键词"}},
	{"title", []string{"title", "headline", "heading", "subject", "topic", "标题", "主题"}},
	{"text", []string{"summary", "answer", "description", "content", "reply", "response", "explanation", "reason", "reasoning", "details", "message", "body", "comment", "note", "notes", "result", "output", "analysis", "conclusion", "overview", "text", "摘要", "总结", "回答", "描述", "内容", "原因", "说明"}},
	{"id", []string{"id", "uuid", "identifier", "编号"}},
	{"color", []string{"color", "colour", "颜色"}},
	{"keyword", []string{"tag", "label", "keyword", "category", "genre", "idea", "option", "suggestion", "标签", "类别"}},
	{"list", []string{"tags", "keywords", "items", "steps", "ingredients", "skills", "list", "examples", "points", "ideas", "topics", "options", "names", "cities", "colors", "languages", "suggestions", "标签", "列表", "步骤"}},
}

// keyClass classifies a property name.
func keyClass(key string) string {
	words := keyWords(key)
	if len(words) == 1 && words[0] == "to" {
		// A destination or a recipient: stringFor decides by the question.
		return "to"
	}
	for _, kc := range keyClasses {
		for _, w := range kc.words {
			if w[0] >= utf8.RuneSelf {
				if strings.Contains(key, w) {
					return kc.class
				}
				continue
			}
			switch {
			case kc.class == "boolean":
				// Only a leading is/has… or the whole name.
				if len(words) > 0 && (words[0] == w || len(words) == 1 && words[0] == w) {
					return kc.class
				}
			case kc.class == "datetime" && w == "at":
				if len(words) > 1 && words[len(words)-1] == "at" {
					return kc.class
				}
			case kc.class == "list" || kc.class == "firstname" || kc.class == "lastname":
				if slices.Contains(words, w) && (kc.class == "list" || slices.Contains(words, "name")) {
					return kc.class
				}
			case slices.Contains(words, w):
				return kc.class
			}
		}
	}
	return ""
}

// keyKind is the JSON type a property name suggests when its schema says
// none.
func keyKind(key string) string {
	switch keyClass(key) {
	case "age", "year", "count":
		return "integer"
	case "measure":
		return "number"
	case "boolean":
		return "boolean"
	case "list":
		return "array"
	}
	return "string"
}

// singular is the item name of a list property: "cities" → "city".
func singular(key string) string {
	switch {
	case strings.HasSuffix(key, "ies") && len(key) > 4:
		return key[:len(key)-3] + "y"
	case strings.HasSuffix(key, "sses") || strings.HasSuffix(key, "shes") || strings.HasSuffix(key, "ches") || strings.HasSuffix(key, "xes"):
		return key[:len(key)-2]
	case strings.HasSuffix(key, "s") && !strings.HasSuffix(key, "ss") && len(key) > 2:
		return key[:len(key)-1]
	}
	return key
}

// mentioned reports whether the question names the property (as a whole
// word, "_" read as a space).
func (f *questionFacts) mentioned(key string) bool {
	k := strings.ToLower(strings.Join(keyWords(key), " "))
	if k == "" {
		return false
	}
	if k[0] >= utf8.RuneSelf {
		return strings.Contains(f.text, key)
	}
	for i := 0; ; {
		j := strings.Index(f.lower[i:], k)
		if j < 0 {
			return false
		}
		if wholeWordAt(f.lower, i+j, len(k)) {
			return true
		}
		i += j + 1
	}
}

// speaksOf reports whether the question gives a value for an optional
// property: it names the property, or one of its enum values.
func (f *questionFacts) speaksOf(key string, s *jsonValue) bool {
	if f.mentioned(key) {
		return true
	}
	if e := s.field("enum"); e != nil && e.kind == jsonArray {
		for _, v := range e.items {
			if v.kind == jsonString && len(v.str) >= 3 && f.mentioned(v.str) {
				return true
			}
		}
	}
	return false
}

// pickEnum is the enum value the question names, else the first one.
func (f *questionFacts) pickEnum(vals []*jsonValue, key string) *jsonValue {
	for _, v := range vals {
		switch v.kind {
		case jsonString:
			if len(v.str) >= 2 && f.mentioned(v.str) {
				return v
			}
		case jsonNumber:
			if n, ok := f.numberNear(key); ok && n == v.num {
				return v
			}
		}
	}
	return vals[0]
}

// pair is the value the question gives a property as "key: value",
// "key = value" or "key is value" (Chinese: "键：值", "键是值").
func (f *questionFacts) pair(key string) (string, bool) {
	words := keyWords(key)
	if len(words) == 0 {
		return "", false
	}
	k := strings.Join(words, " ")
	for i := 0; ; {
		j := strings.Index(f.lower[i:], k)
		if j < 0 {
			return "", false
		}
		at := i + j
		i = at + 1
		if !wholeWordAt(f.lower, at, len(k)) && k[0] < utf8.RuneSelf {
			continue
		}
		rest := f.text[at+len(k):]
		trimmed := strings.TrimLeft(rest, " \t")
		var sep string
		for _, s := range []string{":", "：", "=", "is ", "are ", "was ", "是", "为"} {
			if strings.HasPrefix(strings.ToLower(trimmed), s) {
				sep = s
				break
			}
		}
		if sep == "" {
			continue
		}
		v := strings.TrimSpace(trimmed[len(sep):])
		if q := strings.IndexAny(v, "\"'“"); q == 0 {
			if end := strings.IndexAny(v[1:], "\"'”"); end >= 0 {
				return v[1 : 1+end], true
			}
		}
		end := len(v)
		if e := strings.IndexAny(v, ",;.?!\n，。；？！、"); e >= 0 {
			end = e
		}
		v = v[:end]
		for _, stop := range []string{" and ", " but ", " with ", " who ", " which ", " so ", " because ", "和", "，"} {
			if e := strings.Index(v, stop); e >= 0 {
				v = v[:e]
			}
		}
		if ws := strings.Fields(v); len(ws) > 0 && len(ws) <= 6 {
			return strings.Join(ws, " "), true
		}
	}
}

// numberNear is the number the question ties to the property: "3 days",
// "age 30", "30 years old", "age: 30", "3天"…
func (f *questionFacts) numberNear(key string) (float64, bool) {
	words := keyWords(key)
	if v, ok := f.pair(key); ok {
		if n, err := strconv.ParseFloat(strings.TrimRight(strings.Fields(v)[0], "%°"), 64); err == nil {
			return n, true
		}
	}
	if len(words) == 0 {
		return 0, false
	}
	last := words[len(words)-1]
	names := []string{last, singular(last), last + "s"}
	switch keyClass(key) {
	case "age":
		names = append(names, "years old", "year old", "yrs old", "岁")
	case "count":
		names = append(names, "天", "人", "个")
	case "measure":
		names = append(names, "°", "degrees", "%", "percent", "元", "dollars", "usd")
	}
	for _, n := range f.nums {
		after := strings.ToLower(strings.TrimLeft(f.text[n.end:], " \t"))
		for _, w := range names {
			if strings.HasPrefix(after, w) && (len(after) == len(w) || !ascii.IsWordByte(after[len(w)]) || w[0] >= utf8.RuneSelf) {
				return n.v, true
			}
		}
		// "age 30", "for 30 days"'s "days" is handled above.
		before := strings.ToLower(strings.TrimRight(f.text[:n.start], " \t"))
		for _, link := range []string{":", "=", " of", " is", " at"} {
			before = strings.TrimRight(strings.TrimSuffix(before, link), " \t")
		}
		for _, w := range names[:2] {
			if strings.HasSuffix(before, w) && wholeWordAt(before, len(before)-len(w), len(w)) {
				return n.v, true
			}
		}
	}
	if keyClass(key) == "age" {
		for _, p := range []string{"i am ", "i'm ", "aged ", "我今年"} {
			if i := strings.Index(f.lower, p); i >= 0 {
				for _, n := range f.nums {
					if n.start == i+len(p) {
						return n.v, true
					}
				}
			}
		}
	}
	return 0, false
}

// countFor is how many items the question asks for in a list property:
// "three cities", "5 tags", "列出三个城市"; else def.
func (f *questionFacts) countFor(key string, def int) int {
	item := singular(strings.ToLower(key))
	for _, n := range f.nums {
		after := strings.ToLower(strings.TrimLeft(f.text[n.end:], " \t"))
		if n.v >= 1 && n.v <= 20 && n.v == math.Trunc(n.v) && item != "" && (strings.HasPrefix(after, item) || strings.HasPrefix(after, key)) {
			return int(n.v)
		}
	}
	for w, n := range sortedNumberWords() {
		for _, target := range []string{w + " " + strings.ToLower(key), w + " " + item} {
			if strings.Contains(f.lower, target) {
				return n
			}
		}
	}
	if keyClass(key) == "list" && len(f.words) > 1 {
		return min(3, len(f.words))
	}
	return def
}

// sortedNumberWords yields the number words in a fixed order, longest
// first ("a few" before "a").
func sortedNumberWords() func(yield func(string, int) bool) {
	return func(yield func(string, int) bool) {
		ws := make([]string, 0, len(numberWords))
		for w := range numberWords {
			ws = append(ws, w)
		}
		slices.SortFunc(ws, func(a, b string) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return strings.Compare(a, b)
		})
		for _, w := range ws {
			if !yield(w, numberWords[w]) {
				return
			}
		}
	}
}

// place is the first place the question names that is not taken yet.
func (f *questionFacts) place(fallback string) string {
	return f.first(f.places, fallback)
}

func (f *questionFacts) first(list []string, fallback string) string {
	for _, v := range list {
		if !f.taken(v) {
			return v
		}
	}
	return fallback
}

// taken reports whether a sibling array item already has the value v.
func (f *questionFacts) taken(v string) bool {
	if len(f.avoid) == 0 {
		return false
	}
	q := string(appendJSONString(nil, v))
	return slices.Contains(f.avoid, q)
}

func (f *questionFacts) person() string {
	if n := f.first(f.names, ""); n != "" {
		return n
	}
	if f.zh {
		return "李雷"
	}
	return "Alex Chen"
}

// stringFor is a string for the property key of schema s (nil: no schema):
// the question's own value when it has one, else one of the property's
// kind, within the length bounds and in the asked format.
func (f *questionFacts) stringFor(s *jsonValue, key string, rng *rand.Rand) string {
	v := f.rawString(s, key, rng)
	if f.taken(v) {
		// Array items differ: the next word of the question, or a number.
		if w := f.first(f.words, ""); w != "" && s.fieldString("format") == "" {
			v = w
		} else {
			v = fmt.Sprintf("%s %d", v, len(f.avoid)+1)
		}
	}
	minLen, maxLen := 0, -1
	if m := s.field("minLength"); m != nil && m.kind == jsonNumber && m.num > 0 {
		minLen = int(min(m.num, genMaxBytes))
	}
	if m := s.field("maxLength"); m != nil && m.kind == jsonNumber && m.num >= 0 {
		maxLen = int(min(m.num, genMaxBytes))
	}
	n := utf8.RuneCountInString(v)
	if n < minLen {
		// Padded with the words of the question, as a longer answer.
		fill := f.query
		if fill == "" {
			fill = "value"
		}
		var b strings.Builder
		b.WriteString(v)
		for fillRunes := utf8.RuneCountInString(fill); n < minLen; n += fillRunes {
			if b.Len() > 0 {
				b.WriteByte(' ')
				n++
			}
			b.WriteString(fill)
		}
		v = b.String()
	}
	if maxLen >= 0 && n > maxLen {
		v = strings.TrimRightFunc(string([]rune(v)[:maxLen]), unicode.IsSpace)
		for utf8.RuneCountInString(v) < minLen {
			v += "x"
		}
	}
	return v
}

// dateFor is a date the question gives, else a fixed one in 2026.
func (f *questionFacts) dateFor(rng *rand.Rand) string {
	if len(f.dates) > 0 {
		return f.dates[0]
	}
	return fmt.Sprintf("2026-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28))
}

func (f *questionFacts) rawString(s *jsonValue, key string, rng *rand.Rand) string {
	class := keyClass(key)
	switch s.fieldString("format") {
	case "date":
		return f.dateFor(rng)
	case "date-time":
		if len(f.times) > 0 && strings.ContainsAny(f.times[0][10:], "Z+-") {
			return strings.Replace(f.times[0], " ", "T", 1)
		}
		return f.dateFor(rng) + fmt.Sprintf("T%02d:00:00Z", 8+rng.IntN(10))
	case "time":
		return fmt.Sprintf("%02d:%02d:00", 8+rng.IntN(10), 15*rng.IntN(4))
	case "email", "idn-email":
		return f.email()
	case "uri", "url", "iri", "uri-reference", "iri-reference":
		return f.url()
	case "hostname", "idn-hostname":
		return "example.com"
	case "ipv4":
		return fmt.Sprintf("192.0.2.%d", 1+rng.IntN(254))
	case "ipv6":
		return fmt.Sprintf("2001:db8::%x", 1+rng.IntN(0xfffe))
	case "uuid":
		return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), 0x8000|rng.IntN(1<<14), rng.Uint64()&(1<<48-1))
	}
	if v, ok := f.pair(key); ok && class != "text" && class != "query" {
		return v
	}
	switch class {
	case "email":
		return f.email()
	case "url":
		return f.url()
	case "phone":
		return "+1-202-555-0143"
	case "date":
		return f.dateFor(rng)
	case "datetime":
		return f.dateFor(rng) + "T09:00:00Z"
	case "place":
		def := "Beijing"
		if f.zh {
			def = "北京"
		}
		if w := keyWords(key); slices.Contains(w, "destination") && len(f.places) > 1 {
			rev := slices.Clone(f.places)
			slices.Reverse(rev)
			return f.first(rev, def)
		}
		return f.place(def)
	case "country":
		for _, c := range append(slices.Clone(countries), zhCountries...) {
			if strings.Contains(f.text, c) && !f.taken(c) {
				return c
			}
		}
		for _, p := range f.places {
			if c, ok := cityCountry[p]; ok && !f.taken(c) {
				return c
			}
		}
		if f.zh {
			return "中国"
		}
		return "China"
	case "language":
		code := slices.Contains(keyWords(key), "lang") || slices.Contains(keyWords(key), "locale")
		switch {
		case code && f.zh:
			return "zh"
		case code:
			return "en"
		case f.zh:
			return "中文"
		}
		return "English"
	case "firstname":
		return strings.Fields(f.person())[0]
	case "lastname":
		ws := strings.Fields(f.person())
		return ws[len(ws)-1]
	case "person":
		return f.person()
	case "to":
		// The last place of "from A to B"; else whom "to" names.
		if len(f.places) > 0 {
			return f.places[len(f.places)-1]
		}
		return f.person()
	case "query":
		return f.query
	case "title":
		if n := f.first(f.names, ""); n != "" {
			return n
		}
		t := f.topic
		if !f.zh && t != "" {
			r, n := utf8.DecodeRuneInString(t)
			t = string(unicode.ToUpper(r)) + t[n:]
		}
		return t
	case "text":
		return f.answer
	case "id":
		return fmt.Sprintf("id-%06x", rng.IntN(1<<24))
	case "color":
		for _, c := range colorWords {
			if f.mentioned(c) && !f.taken(c) {
				return c
			}
		}
		return f.first([]string{"blue", "green", "red", "yellow", "purple", "orange"}, "blue")
	case "keyword":
		return f.first(f.words, f.topic)
	}
	// Anything else: the thing the question is most about — a name it
	// gives, else one of its words, else its topic.
	if v := f.first(f.places, ""); v != "" && len(f.names) == 0 {
		return v
	}
	if v := f.first(f.names, ""); v != "" {
		return v
	}
	if v := f.first(f.words, ""); v != "" && class == "list" {
		return v
	}
	return f.topic
}

func (f *questionFacts) email() string {
	if len(f.emails) > 0 {
		return f.emails[0]
	}
	local := strings.ToLower(strings.Join(strings.Fields(f.person()), "."))
	if !isASCIIWord(local) {
		local = "user"
	}
	return local + "@example.com"
}

func isASCIIWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.') {
			return false
		}
	}
	return true
}

func (f *questionFacts) url() string {
	if len(f.urls) > 0 {
		return f.urls[0]
	}
	slug := strings.Join(f.words[:min(3, len(f.words))], "-")
	if !isASCIIWord(strings.ReplaceAll(slug, "-", "")) {
		slug = ""
	}
	return "https://example.com/" + slug
}

// numberFor is a number for the property key of schema s (nil: none): the
// question's when it ties one to the property, else a plausible one for its
// kind, within the schema's range.
func (f *questionFacts) numberFor(s *jsonValue, key string, integer bool, rng *rand.Rand) float64 {
	r := rangeOf(s)
	want, ok := f.numberNear(key)
	if !ok {
		switch keyClass(key) {
		case "age":
			want = 30
		case "year":
			want = 2026
		case "count":
			want = 1
			if slices.Contains(keyWords(key), "limit") || slices.Contains(keyWords(key), "top") {
				want = 10
			}
		case "measure":
			want = float64(10+rng.IntN(90)) / 2
			if w := keyWords(key); slices.Contains(w, "rating") || slices.Contains(w, "score") {
				want = 4.5
			}
		default:
			want = float64(1 + rng.IntN(9))
			if !integer {
				want = float64(1+rng.IntN(90)) / 10
			}
		}
		if !math.IsInf(r.lo, 0) && !math.IsInf(r.hi, 0) && !r.holds(want, integer) {
			want = r.lo + (r.hi-r.lo)/2
		}
	}
	if integer {
		want = math.Round(want)
	}
	v, _ := r.pick(want, integer)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// boolFor is false when the question says "not <key>" or "no <key>",
// "<key>: false"; else true.
func (f *questionFacts) boolFor(key string) bool {
	if v, ok := f.pair(key); ok {
		switch strings.ToLower(v) {
		case "false", "no", "off", "0", "否":
			return false
		}
		return true
	}
	k := strings.Join(keyWords(key), " ")
	for _, neg := range []string{"not ", "no ", "without ", "don't ", "不"} {
		if k != "" && strings.Contains(f.lower, neg+k) {
			return false
		}
	}
	return true
}

// entryKey names the one entry of a map-like object: the object's item
// name, or a word of the question.
func (f *questionFacts) entryKey(key string) string {
	if w := f.first(f.words, ""); w != "" {
		return w
	}
	if key != "" {
		return singular(key)
	}
	return "key"
}

var (
	// fieldListRE finds where a question lists the fields it wants, in
	// order of trust: "fields a, b", "with a and b", "return a and b".
	fieldListREs = []*regexp.Regexp{
		regexp.MustCompile(`(?i)\b(?:fields?|keys?|properties|attributes|columns)\s*(?:named|called|of|:)?\s+(.+?)(?:\s+(?:as|in|into|using|formatted|from|for|about|on)\b|[.?!;\n]|$)`),
		regexp.MustCompile(`(?i)\b(?:with|containing|including|include|includes)\s+(?:the\s+|their\s+|its\s+|his\s+|her\s+)?(.+?)(?:\s+(?:as|in|into|using|formatted|from|for|about|on|of)\b|[.?!;\n]|$)`),
		regexp.MustCompile(`(?i)\b(?:return|give\s+me|list|extract|provide|output|show|generate|get|send\s+me)\s+(.+?)(?:\s+(?:as|in|into|using|formatted|from|for|about|on|of)\b|[.?!;\n]|$)`),
		regexp.MustCompile(`(?:字段|键|属性)[：:]?\s*(.+?)(?:[。？！?!.]|的|$)`),
		regexp.MustCompile(`(?:返回|给出|提取|输出|列出|包含|给我)(.+?)(?:的?(?:JSON|json|字段|信息|数据)|[。？！?!.，,]|$)`),
	}
	fieldSplitRE = regexp.MustCompile(`\s*(?:,|\band\b|&|/|、|和|及|以及|与|，)\s*`)
	// fieldNoise are words of a field list that name no field.
	fieldNoise = strings.Fields(`the a an their its his her my your our each every json object objects format formatted field fields key keys
		value values property properties with only me us it this that all some following data info information details in as about
		one two three four five six seven eight nine ten few several 以 用 格式 一个 对象`)
)

// fieldList reads the fields a JSON-mode question asks for, as keys:
// "full name" → "full_name". None when it names none.
func (f *questionFacts) fieldList() []string {
	for _, re := range fieldListREs {
		for _, m := range re.FindAllStringSubmatch(f.text, 4) {
			var out []string
			ok := true
			for _, item := range fieldSplitRE.Split(m[1], -1) {
				var ws []string
				for _, w := range strings.Fields(item) {
					if lw := strings.ToLower(strings.Trim(w, "\"'`“”‘’()")); lw != "" && !slices.Contains(fieldNoise, lw) && strings.Trim(lw, "0123456789.") != "" {
						ws = append(ws, lw)
					}
				}
				if len(ws) == 0 {
					continue
				}
				if len(ws) > 3 {
					ok = false
					break
				}
				k := strings.Join(ws, "_")
				if strings.Trim(k, "_") == "" {
					continue
				}
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
			if ok && len(out) > 0 && len(out) <= 20 {
				return out
			}
		}
	}
	return nil
}
