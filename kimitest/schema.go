package kimitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Moonshot validates response_format.json_schema (and tool parameters)
// against its "Moonshot Flavored JSON Schema" (MFJS), a JSON Schema subset
// (spec and validator: https://github.com/MoonshotAI/walle). A refusal is a
// 400 whose details read "At path '<path>': <reason>", the path being the
// schema keywords from the root joined by dots ("root" for the root itself,
// anyOf branches without their index). The checks below follow that
// validator's wording; the emulator is more lenient where the generator
// supports more (const, oneOf, allOf, format, definitions), and stricter
// where the platform refuses more than the validator says (the root must be
// an object schema; a nested schema must say its type).

// Bounds of the platform's validator: a schema over them is refused, which
// also keeps validating and generating from any schema cheap.
const (
	schemaMaxBytes = 15000 // compact JSON bytes
	schemaMaxDepth = 10    // nested properties, through $ref
	schemaMaxProps = 1000  // property keys across all objects
	schemaMaxAnyOf = 100
	schemaMaxEnum  = 500
	// schemaMaxValues bounds the JSON values of a parsed schema. Response
	// schemas stay far below it (they are at most schemaMaxBytes); tool
	// parameters, which are not size-checked, fall back to "any" over it.
	schemaMaxValues = 1 << 16
	// jsonMaxNesting bounds the nesting of a parsed value, so that the
	// parser's recursion stays shallow whatever a client sends.
	jsonMaxNesting = 512
)

// jsonValue is a parsed JSON value that keeps object keys in their order,
// so that an instance lists properties as the schema does, as a model
// writing it would. A repeated key keeps its first place and its last value.
type jsonValue struct {
	kind  jsonKind
	b     bool
	num   float64
	str   string // a string's value, a number's literal
	items []*jsonValue
	keys  []string
	vals  []*jsonValue
}

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// field returns the value of key in an object, nil when absent (or when v
// is not an object).
func (v *jsonValue) field(key string) *jsonValue {
	if v == nil || v.kind != jsonObject {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *jsonValue) isObject() bool { return v != nil && v.kind == jsonObject }

// fieldString returns a field's string value, "" when it is absent or not
// a string.
func (v *jsonValue) fieldString(key string) string {
	if f := v.field(key); f != nil && f.kind == jsonString {
		return f.str
	}
	return ""
}

// appendJSON appends v as compact JSON.
func (v *jsonValue) appendJSON(b []byte) []byte {
	switch v.kind {
	case jsonNull:
		return append(b, "null"...)
	case jsonBool:
		return strconv.AppendBool(b, v.b)
	case jsonNumber:
		return append(b, v.str...)
	case jsonString:
		return appendJSONString(b, v.str)
	case jsonArray:
		b = append(b, '[')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.appendJSON(b)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i, k := range v.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = v.vals[i].appendJSON(b)
	}
	return append(b, '}')
}

// String is v as compact JSON, for messages (enum values and the like).
func (v *jsonValue) String() string { return string(v.appendJSON(nil)) }

// appendJSONString appends s as a JSON string without HTML escaping, as
// the API writes them; invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// parseOrdered parses a JSON document into a jsonValue; ok is false when it
// is not valid JSON or is larger or deeper than the bounds.
func parseOrdered(data []byte) (v *jsonValue, ok bool) {
	p := jsonParser{data: data}
	v = p.value(0)
	p.space()
	if p.bad || p.pos != len(p.data) {
		return nil, false
	}
	return v, true
}

type jsonParser struct {
	data   []byte
	pos    int
	values int
	bad    bool
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) fail() *jsonValue {
	p.bad = true
	return nil
}

func (p *jsonParser) value(depth int) *jsonValue {
	p.values++
	if p.bad || depth > jsonMaxNesting || p.values > schemaMaxValues {
		return p.fail()
	}
	p.space()
	if p.pos >= len(p.data) {
		return p.fail()
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		p.pos++
		v := &jsonValue{kind: jsonArray}
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return v
		}
		for !p.bad {
			v.items = append(v.items, p.value(depth+1))
			p.space()
			if p.pos >= len(p.data) {
				return p.fail()
			}
			p.pos++
			switch p.data[p.pos-1] {
			case ']':
				return v
			case ',':
			default:
				return p.fail()
			}
		}
		return nil
	case c == '"':
		s, ok := p.string()
		if !ok {
			return p.fail()
		}
		return &jsonValue{kind: jsonString, str: s}
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.data[p.pos:], []byte(lit)) {
				p.pos += len(lit)
				if lit == "null" {
					return &jsonValue{kind: jsonNull}
				}
				return &jsonValue{kind: jsonBool, b: lit == "true"}
			}
		}
		return p.fail()
	default:
		start := p.pos
		for p.pos < len(p.data) && strings.IndexByte("+-.eE0123456789", p.data[p.pos]) >= 0 {
			p.pos++
		}
		lit := string(p.data[start:p.pos])
		f, err := strconv.ParseFloat(lit, 64)
		if ne, ok := err.(*strconv.NumError); (err != nil && !(ok && ne.Err == strconv.ErrRange)) || !json.Valid(p.data[start:p.pos]) {
			return p.fail()
		}
		return &jsonValue{kind: jsonNumber, num: f, str: lit}
	}
}

func (p *jsonParser) object(depth int) *jsonValue {
	p.pos++
	v := &jsonValue{kind: jsonObject}
	var index map[string]int // for large objects, to find repeated keys
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v
	}
	for !p.bad {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail()
		}
		k, ok := p.string()
		p.space()
		if !ok || p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return p.fail()
		}
		p.pos++
		val := p.value(depth + 1)
		at := -1
		if index != nil {
			if i, ok := index[k]; ok {
				at = i
			}
		} else {
			at = slices.Index(v.keys, k)
		}
		if at >= 0 {
			v.vals[at] = val
		} else {
			v.keys, v.vals = append(v.keys, k), append(v.vals, val)
			if index != nil {
				index[k] = len(v.keys) - 1
			} else if len(v.keys) == 16 {
				index = make(map[string]int, 32)
				for i, k := range v.keys {
					index[k] = i
				}
			}
		}
		p.space()
		if p.pos >= len(p.data) {
			return p.fail()
		}
		p.pos++
		switch p.data[p.pos-1] {
		case '}':
			return v
		case ',':
		default:
			return p.fail()
		}
	}
	return nil
}

// string reads a JSON string at p.pos; escapes are left to encoding/json.
func (p *jsonParser) string() (string, bool) {
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '\\':
			escaped = true
			p.pos += 2
			continue
		case c == '"':
			p.pos++
			raw := p.data[start:p.pos]
			if !escaped {
				if !utf8.Valid(raw) {
					return strings.ToValidUTF8(string(raw[1:len(raw)-1]), "\ufffd"), true
				}
				return string(raw[1 : len(raw)-1]), true
			}
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		case c < 0x20:
			return "", false
		}
		p.pos++
	}
	return "", false
}

// compactLen is the length raw would have without insignificant white
// space, counted without building it.
func compactLen(raw []byte) int {
	n, inString, escaped := 0, false, false
	for _, c := range raw {
		switch {
		case inString:
			n++
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			n++
			inString = c == '"'
		}
	}
	return n
}

// schemaPath is a position in a schema, as the keywords leading to it.
type schemaPath []string

func (p schemaPath) with(parts ...string) schemaPath {
	return append(slices.Clip(p), parts...)
}

func (p schemaPath) String() string {
	if len(p) == 0 {
		return "root"
	}
	return strings.Join(p, ".")
}

// schemaFault words a refusal as the platform does.
func schemaFault(p schemaPath, format string, args ...any) string {
	return fmt.Sprintf("At path '%s': %s", p, fmt.Sprintf(format, args...))
}

// validTypes are the MFJS types.
var validTypes = []string{"string", "number", "integer", "boolean", "null", "array", "object"}

// typeKeywords are the keywords that apply to one type only: next to a
// single other type they are refused ("invalid keywords"), as a sign that
// the schema does not say what its author meant.
var typeKeywords = map[string]string{
	"properties": "object", "required": "object", "additionalProperties": "object",
	"items": "array", "minItems": "array", "maxItems": "array", "uniqueItems": "array",
	"minLength": "string", "maxLength": "string", "pattern": "string",
	"minimum": "number", "maximum": "number", "exclusiveMinimum": "number", "exclusiveMaximum": "number", "multipleOf": "number",
}

// reservedNames cannot be property names: the validator would read them
// as keywords.
var reservedNames = []string{"$defs", "$ref", "anyOf", "required", "additionalProperties"}

// checkResponseSchema validates response_format.json_schema.schema. It
// returns "" when the schema is accepted, else the refusal's details.
func checkResponseSchema(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return schemaFault(nil, "schema must be a JSON object")
	}
	if compactLen(raw) > schemaMaxBytes {
		return schemaFault(nil, "schema exceeds maximum allowed size")
	}
	root, ok := parseOrdered(raw)
	if !ok && json.Valid(raw) {
		// Valid JSON the parser refused: nested past its bound.
		return schemaFault(nil, "schema depth exceeds maximum limit of %d", schemaMaxDepth)
	}
	if !ok || !root.isObject() {
		return schemaFault(nil, "schema must be a JSON object")
	}
	if !typeIs(root.field("type"), "object") {
		return schemaFault(nil, "root schema type must be object")
	}
	c := &schemaChecker{root: root}
	if d := c.node(root, nil, posRoot); d != "" {
		return d
	}
	if n := c.depth(root, map[*jsonValue]bool{}); n > schemaMaxDepth {
		return schemaFault(nil, "schema depth exceeds maximum limit of %d", schemaMaxDepth)
	}
	t := newTermination(root, -1)
	if !t.terminates(root) {
		return schemaFault(t.culprit(root, nil), "detected infinite recursion without termination condition")
	}
	return ""
}

// typeIs reports whether a type keyword's value is exactly want (or the
// one-element array of it).
func typeIs(t *jsonValue, want string) bool {
	switch {
	case t == nil:
		return false
	case t.kind == jsonString:
		return t.str == want
	case t.kind == jsonArray:
		return len(t.items) == 1 && t.items[0].kind == jsonString && t.items[0].str == want
	}
	return false
}

// schemaTypes lists a schema's types; nil when it names none (or names
// them wrongly, which the checker reports).
func schemaTypes(s *jsonValue) []string {
	t := s.field("type")
	if t == nil {
		return nil
	}
	if t.kind == jsonString {
		return []string{t.str}
	}
	var out []string
	if t.kind == jsonArray {
		for _, it := range t.items {
			if it.kind == jsonString {
				out = append(out, it.str)
			}
		}
	}
	return out
}

// schemaPos is where a subschema sits; it decides what it may omit.
type schemaPos uint8

const (
	posRoot schemaPos = iota
	posNested
	posAdditional // additionalProperties: {} means any value
	posDef
)

type schemaChecker struct {
	root      *jsonValue
	props     int
	refDepths map[*jsonValue]int // depth of each $ref target, once known
}

// node checks the schema s at p, then its subschemas.
func (c *schemaChecker) node(s *jsonValue, p schemaPath, pos schemaPos) string {
	combinator := ""
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if s.field(k) != nil {
			combinator = k
			break
		}
	}
	typ := s.field("type")
	ref := s.field("$ref")
	if pos != posRoot && pos != posAdditional && typ == nil && combinator == "" && ref == nil && s.field("const") == nil {
		if s.field("enum") != nil {
			return schemaFault(p, "type is not defined")
		}
		return schemaFault(p, "type need to be defined explicitly")
	}
	for _, k := range []string{"$defs", "definitions", "$id"} {
		if pos != posRoot && s.field(k) != nil {
			return schemaFault(p, "keyword %s must be at root level", k)
		}
	}
	var types []string
	if typ != nil {
		switch typ.kind {
		case jsonString:
			if !slices.Contains(validTypes, typ.str) {
				return schemaFault(p, "invalid type")
			}
			types = []string{typ.str}
		case jsonArray:
			if len(typ.items) == 0 {
				return schemaFault(p, "type array cannot be empty")
			}
			for _, it := range typ.items {
				if it.kind != jsonString || !slices.Contains(validTypes, it.str) {
					return schemaFault(p, "invalid type in type array")
				}
				if slices.Contains(types, it.str) {
					return schemaFault(p.with("type"), "duplicate types in type array")
				}
				types = append(types, it.str)
			}
		default:
			return schemaFault(p, "type must be string or array of strings")
		}
		if combinator == "anyOf" || combinator == "oneOf" {
			return schemaFault(p, "when using %s, type should be defined in %s items instead of the parent schema", combinator, combinator)
		}
		if ref != nil {
			return schemaFault(p, "when using $ref, type should be defined in the referenced schema instead of the parent schema")
		}
		if len(types) == 1 {
			var wrong []string
			for _, k := range s.keys {
				if want, ok := typeKeywords[k]; ok && want != types[0] && (want != "number" || types[0] != "integer") {
					wrong = append(wrong, k)
				}
			}
			if len(wrong) > 0 {
				return schemaFault(p, "invalid keywords: %s", strings.Join(wrong, ", "))
			}
		}
	}
	if d := c.keywords(s, p, types); d != "" {
		return d
	}
	if d := c.ref(s, p); d != "" {
		return d
	}

	// Subschemas, in the validator's order: definitions first.
	for _, k := range []string{"$defs", "definitions"} {
		defs := s.field(k)
		if defs == nil {
			continue
		}
		if !defs.isObject() {
			return schemaFault(p.with(k), "%s must be an object", k)
		}
		for i, name := range defs.keys {
			switch {
			case name == "":
				return schemaFault(p.with(k), "%s property name cannot be empty", k)
			case strings.Contains(name, "/"):
				return schemaFault(p.with(k), "%s property name '%s' cannot contain '/' character", k, name)
			case !defs.vals[i].isObject():
				return schemaFault(p.with(k), "%s schema must be object: %s", k, name)
			}
			if d := c.node(defs.vals[i], p.with(k, name), posDef); d != "" {
				return d
			}
		}
	}
	if props := s.field("properties"); props != nil {
		if !props.isObject() {
			return schemaFault(p.with("properties"), "properties must be an object")
		}
		c.props += len(props.keys)
		if c.props > schemaMaxProps {
			return schemaFault(p, "total number of properties keys(%d) across all objects exceeds maximum limit of %d", c.props, schemaMaxProps)
		}
		for i, name := range props.keys {
			switch {
			case name == "":
				return schemaFault(p.with("properties"), "property name cannot be empty")
			case slices.Contains(reservedNames, name):
				return schemaFault(p.with("properties"), "property name '%s' is reserved for JSON Schema keywords", name)
			case !props.vals[i].isObject():
				return schemaFault(p.with("properties"), "property schema for '%s' must be an object", name)
			}
			if d := c.node(props.vals[i], p.with("properties", name), posNested); d != "" {
				return d
			}
		}
	}
	if items := s.field("items"); items != nil {
		if !items.isObject() {
			return schemaFault(p.with("items"), "items must be an object")
		}
		if d := c.node(items, p.with("items"), posNested); d != "" {
			return d
		}
	}
	if ap := s.field("additionalProperties"); ap != nil {
		switch {
		case ap.kind == jsonBool:
		case ap.isObject():
			if d := c.node(ap, p.with("additionalProperties"), posAdditional); d != "" {
				return d
			}
		default:
			return schemaFault(p.with("additionalProperties"), "additionalProperties must be a boolean or an object")
		}
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		list := s.field(k)
		if list == nil {
			continue
		}
		if list.kind != jsonArray {
			return schemaFault(p.with(k), "%s must be an array", k)
		}
		if len(list.items) == 0 || len(list.items) > schemaMaxAnyOf {
			return schemaFault(p.with(k), "%s must have 1-%d items", k, schemaMaxAnyOf)
		}
		for _, br := range list.items {
			if !br.isObject() {
				return schemaFault(p.with(k), "schema in %s must be an object", k)
			}
		}
		for _, br := range list.items {
			if d := c.node(br, p.with(k), posNested); d != "" {
				return d
			}
		}
	}
	return ""
}

// keywords checks the values of the validation keywords of s.
func (c *schemaChecker) keywords(s *jsonValue, p schemaPath, types []string) string {
	if req := s.field("required"); req != nil {
		if req.kind != jsonArray {
			return schemaFault(p.with("required"), "required must be an array")
		}
		props := s.field("properties")
		var seen []string
		for _, it := range req.items {
			if it.kind != jsonString {
				return schemaFault(p.with("required"), "items in required array must be strings")
			}
			if slices.Contains(seen, it.str) {
				return schemaFault(p.with("required"), "duplicate items in required array: %s", it.str)
			}
			seen = append(seen, it.str)
			if props.field(it.str) == nil {
				return schemaFault(p.with("required"), "required property '%s' is not defined in properties", it.str)
			}
		}
	}
	if e := s.field("enum"); e != nil {
		if e.kind != jsonArray {
			return schemaFault(p.with("enum"), "enum must be an array")
		}
		if len(e.items) == 0 {
			return schemaFault(p.with("enum"), "enum array cannot be empty")
		}
		if len(e.items) > schemaMaxEnum {
			return schemaFault(p.with("enum"), "enum array cannot have more than %d items", schemaMaxEnum)
		}
		if types != nil {
			for _, v := range e.items {
				if !valueHasType(v, types) {
					return schemaFault(p.with("enum"), "enum value (%s) does not match any type in [%s]", v, strings.Join(types, " "))
				}
			}
		}
	}
	if v := s.field("const"); v != nil && types != nil && !valueHasType(v, types) {
		return schemaFault(p.with("const"), "const value (%s) does not match any type in [%s]", v, strings.Join(types, " "))
	}
	integer := slices.Contains(types, "integer") && !slices.Contains(types, "number")
	for _, pair := range [][2]string{{"minLength", "maxLength"}, {"minItems", "maxItems"}} {
		var bounds [2]float64
		for i, k := range pair {
			v := s.field(k)
			if v == nil {
				bounds[i] = math.NaN()
				continue
			}
			switch {
			case v.kind != jsonNumber || v.num != math.Trunc(v.num):
				return schemaFault(p, "%s must be an integer", k)
			case v.num < 0:
				return schemaFault(p, "%s must be non-negative", k)
			}
			bounds[i] = v.num
		}
		if bounds[0] > bounds[1] {
			return schemaFault(p.with(pair[0]), "%s (%v) cannot be greater than %s (%v)", pair[0], bounds[0], pair[1], bounds[1])
		}
	}
	for _, k := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf"} {
		v := s.field(k)
		if v == nil {
			continue
		}
		switch {
		case v.kind != jsonNumber:
			return schemaFault(p, "%s must be a number", k)
		case math.IsInf(v.num, 0):
			return schemaFault(p, "invalid number: NaN or Infinity not allowed")
		case integer && v.num != math.Trunc(v.num):
			return schemaFault(p, "%s must be an integer", k)
		case k == "multipleOf" && v.num <= 0:
			return schemaFault(p, "multipleOf must be greater than 0")
		}
	}
	// No instance could satisfy an empty range: the validator compares
	// minimum with maximum; exclusive bounds and multipleOf narrow it.
	r := rangeOf(s)
	if r.empty(integer) {
		return schemaFault(p, "minimum (%v) cannot be greater than maximum (%v)", r.lo, r.hi)
	}
	if m := r.multipleOf; m > 0 && !math.IsInf(r.lo, 0) && !math.IsInf(r.hi, 0) {
		if _, ok := r.pick(r.lo, integer); !ok {
			return schemaFault(p, "no multiple of %v lies between minimum (%v) and maximum (%v)", m, r.lo, r.hi)
		}
	}
	for _, k := range []string{"description", "title", "pattern", "format"} {
		if v := s.field(k); v != nil && v.kind != jsonString {
			return schemaFault(p.with(k), "%s must be a string", k)
		}
	}
	return ""
}

// ref checks the $ref of s: a string naming the root ("#") or an entry of
// the root's $defs (or definitions).
func (c *schemaChecker) ref(s *jsonValue, p schemaPath) string {
	r := s.field("$ref")
	if r == nil {
		return ""
	}
	if r.kind != jsonString {
		return schemaFault(p.with("$ref"), "$ref must be a string")
	}
	if r.str == "#" {
		return ""
	}
	container := ""
	for _, k := range []string{"$defs", "definitions"} {
		if strings.HasPrefix(r.str, "#/"+k+"/") {
			container = k
		}
	}
	switch {
	case container == "":
		return schemaFault(p.with("$ref"), "references must start with #/$defs/")
	case strings.TrimPrefix(r.str, "#/"+container+"/") == "":
		return schemaFault(p.with("$ref"), "definition name cannot be empty")
	case c.root.field(container) == nil:
		return schemaFault(p.with("$ref"), "%s not found for reference: %s", container, r.str)
	case resolveRef(c.root, r.str) == nil:
		return schemaFault(p.with("$ref"), "invalid $ref path: %s", r.str)
	}
	for _, k := range s.keys {
		if k != "$ref" && k != "description" && k != "title" && k != "default" {
			return schemaFault(p, "keyword '%s' is not allowed at the same level as $ref", k)
		}
	}
	return ""
}

// depth is the nesting of properties below s, through $ref (a definition
// counted once on each path, so that recursion adds nothing).
func (c *schemaChecker) depth(s *jsonValue, onPath map[*jsonValue]bool) int {
	if !s.isObject() || onPath[s] {
		return 0
	}
	onPath[s] = true
	defer delete(onPath, s)
	d := 0
	if props := s.field("properties"); props.isObject() {
		for _, ps := range props.vals {
			d = max(d, 1+c.depth(ps, onPath))
		}
		d = max(d, 1)
	}
	for _, k := range []string{"items", "additionalProperties"} {
		d = max(d, c.depth(s.field(k), onPath))
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if l := s.field(k); l != nil && l.kind == jsonArray {
			for _, br := range l.items {
				d = max(d, c.depth(br, onPath))
			}
		}
	}
	if r := s.fieldString("$ref"); r != "" {
		// Each target is measured once: definitions that refer to one
		// another many times cost no more than once each.
		t := resolveRef(c.root, r)
		n, ok := c.refDepths[t]
		if !ok && !onPath[t] {
			n = c.depth(t, onPath)
			if c.refDepths == nil {
				c.refDepths = map[*jsonValue]int{}
			}
			c.refDepths[t] = n
		}
		d = max(d, n)
	}
	return d
}

// valueHasType reports whether v is an instance of one of types.
func valueHasType(v *jsonValue, types []string) bool {
	for _, t := range types {
		switch {
		case t == "null" && v.kind == jsonNull,
			t == "boolean" && v.kind == jsonBool,
			t == "string" && v.kind == jsonString,
			t == "number" && v.kind == jsonNumber,
			t == "integer" && v.kind == jsonNumber && v.num == math.Trunc(v.num),
			t == "array" && v.kind == jsonArray,
			t == "object" && v.kind == jsonObject:
			return true
		}
	}
	return false
}

// resolveRef finds the schema a $ref names: "#", "#/$defs/<name>",
// "#/definitions/<name>", or any JSON pointer into the document (tool
// parameters are not validated, and some use them). nil when it names
// nothing, or not a schema.
func resolveRef(root *jsonValue, ref string) *jsonValue {
	if ref == "#" {
		return root
	}
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	cur := root
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch {
		case cur == nil:
			return nil
		case cur.kind == jsonObject:
			cur = cur.field(tok)
		case cur.kind == jsonArray:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(cur.items) {
				return nil
			}
			cur = cur.items[i]
		default:
			return nil
		}
	}
	if !cur.isObject() {
		return nil
	}
	return cur
}

// termination tells which schemas have a finite instance, given the
// recursion $ref allows: a schema terminates when some choice (a scalar
// type, an anyOf branch, an array with no minimum, an object whose required
// properties all terminate) reaches no schema that does not. The generator
// uses it to pick the ways out of a recursion.
type termination struct {
	root   *jsonValue
	known  map[*jsonValue]bool // $ref targets found to terminate
	target []*jsonValue
}

// newTermination analyses root in at most rounds rounds (-1: as many as
// it takes, one per $ref target at most).
func newTermination(root *jsonValue, rounds int) *termination {
	t := &termination{root: root, known: map[*jsonValue]bool{}}
	var collect func(s *jsonValue, depth int)
	seen := map[*jsonValue]bool{}
	collect = func(s *jsonValue, depth int) {
		if s == nil || depth > jsonMaxNesting {
			return
		}
		switch s.kind {
		case jsonObject:
			if r := s.fieldString("$ref"); r != "" {
				if tg := resolveRef(root, r); tg != nil && !seen[tg] {
					seen[tg] = true
					t.target = append(t.target, tg)
				}
			}
			for _, v := range s.vals {
				collect(v, depth+1)
			}
		case jsonArray:
			for _, v := range s.items {
				collect(v, depth+1)
			}
		}
	}
	collect(root, 0)
	// A least fixpoint: every target starts as not terminating and is
	// promoted while some can be; each round promotes one at least, or
	// ends.
	if rounds < 0 || rounds > len(t.target)+1 {
		rounds = len(t.target) + 1
	}
	for range rounds {
		changed := false
		for _, tg := range t.target {
			if !t.known[tg] && t.eval(tg, 0) {
				t.known[tg] = true
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	return t
}

// terminates reports whether s has a finite instance.
func (t *termination) terminates(s *jsonValue) bool { return t.eval(s, 0) }

func (t *termination) eval(s *jsonValue, depth int) bool {
	if !s.isObject() || depth > jsonMaxNesting {
		return true // not a schema (or beyond reason): anything goes
	}
	if s.field("const") != nil || s.field("enum") != nil {
		return true
	}
	if r := s.fieldString("$ref"); r != "" {
		if tg := resolveRef(t.root, r); tg != nil {
			return t.known[tg]
		}
		return true
	}
	if l := s.field("allOf"); l != nil && l.kind == jsonArray {
		for _, br := range l.items {
			if !t.eval(br, depth+1) {
				return false
			}
		}
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if l := s.field(k); l != nil && l.kind == jsonArray && len(l.items) > 0 {
			for _, br := range l.items {
				if t.eval(br, depth+1) {
					return true
				}
			}
			return false
		}
	}
	types := schemaTypes(s)
	if types == nil {
		if s.field("properties") == nil && s.field("required") == nil {
			return true
		}
		types = []string{"object"}
	}
	for _, typ := range types {
		switch typ {
		case "array":
			if minItems(s) == 0 || t.eval(s.field("items"), depth+1) {
				return true
			}
		case "object":
			if t.requiredTerminate(s, depth) {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func (t *termination) requiredTerminate(s *jsonValue, depth int) bool {
	props := s.field("properties")
	req := s.field("required")
	if req == nil || req.kind != jsonArray {
		return true
	}
	for _, r := range req.items {
		if r.kind == jsonString && !t.eval(props.field(r.str), depth+1) {
			return false
		}
	}
	return true
}

// culprit is the path of the $ref (or schema) that keeps s from
// terminating, following the required way down.
func (t *termination) culprit(s *jsonValue, p schemaPath) schemaPath {
	for depth := 0; depth <= jsonMaxNesting && s.isObject(); depth++ {
		if s.fieldString("$ref") != "" {
			return p
		}
		next, step := (*jsonValue)(nil), schemaPath(nil)
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if l := s.field(k); next == nil && l != nil && l.kind == jsonArray {
				for _, br := range l.items {
					if !t.eval(br, 0) {
						next, step = br, schemaPath{k}
						break
					}
				}
			}
		}
		if next == nil {
			if props, req := s.field("properties"), s.field("required"); req != nil && req.kind == jsonArray {
				for _, r := range req.items {
					if ps := props.field(r.str); r.kind == jsonString && ps != nil && !t.eval(ps, 0) {
						next, step = ps, schemaPath{"properties", r.str}
						break
					}
				}
			}
		}
		if next == nil {
			if it := s.field("items"); it.isObject() && !t.eval(it, 0) {
				next, step = it, schemaPath{"items"}
			}
		}
		if next == nil {
			return p
		}
		s, p = next, p.with(step...)
	}
	return p
}

// minItems is an array schema's minItems, 0 when absent or not a count.
func minItems(s *jsonValue) int {
	if v := s.field("minItems"); v != nil && v.kind == jsonNumber && v.num > 0 {
		return int(min(v.num, 1<<30))
	}
	return 0
}

// numRange is the range the number keywords of a schema allow.
type numRange struct {
	lo, hi     float64
	loEx, hiEx bool    // the bound itself is excluded
	multipleOf float64 // 0 when none
}

func rangeOf(s *jsonValue) numRange {
	r := numRange{lo: math.Inf(-1), hi: math.Inf(1)}
	num := func(k string) (float64, bool) {
		v := s.field(k)
		if v == nil || v.kind != jsonNumber || math.IsInf(v.num, 0) {
			return 0, false
		}
		return v.num, true
	}
	if v, ok := num("minimum"); ok {
		r.lo = v
	}
	if v, ok := num("exclusiveMinimum"); ok && v >= r.lo {
		r.lo, r.loEx = v, true
	}
	if v, ok := num("maximum"); ok {
		r.hi = v
	}
	if v, ok := num("exclusiveMaximum"); ok && v <= r.hi {
		r.hi, r.hiEx = v, true
	}
	if v, ok := num("multipleOf"); ok && v > 0 {
		r.multipleOf = v
	}
	return r
}

// intBounds are the smallest and largest integers in r.
func (r numRange) intBounds() (lo, hi float64) {
	lo, hi = math.Ceil(r.lo), math.Floor(r.hi)
	if r.loEx && lo == r.lo {
		lo++
	}
	if r.hiEx && hi == r.hi {
		hi--
	}
	return lo, hi
}

func (r numRange) empty(integer bool) bool {
	if integer {
		lo, hi := r.intBounds()
		return lo > hi
	}
	return r.lo > r.hi || (r.lo == r.hi && (r.loEx || r.hiEx))
}

// pick returns the value of r nearest to want (an integer when integer is
// set, a multiple of multipleOf when there is one); ok is false when r
// holds none.
func (r numRange) pick(want float64, integer bool) (float64, bool) {
	lo, hi := r.lo, r.hi
	if integer {
		lo, hi = r.intBounds()
	}
	if math.IsNaN(want) || math.IsInf(want, 0) {
		want = 0
	}
	v := min(max(want, lo), hi)
	if integer {
		v = math.Round(v)
	}
	if m := r.multipleOf; m > 0 {
		k := math.Round(v / m)
		for _, c := range []float64{k, k + 1, k - 1, math.Ceil(lo / m), math.Floor(hi / m)} {
			if x := c * m; r.holds(x, integer) {
				return x, true
			}
		}
		return v, false
	}
	if !r.holds(v, integer) {
		// An excluded bound: step inside.
		switch {
		case integer:
			return v, false
		case v <= r.lo:
			v = r.lo + max(1, math.Abs(r.lo))*1e-9
			if !math.IsInf(r.hi, 0) {
				v = r.lo + (r.hi-r.lo)/2
			}
		default:
			v = r.hi - max(1, math.Abs(r.hi))*1e-9
			if !math.IsInf(r.lo, 0) {
				v = r.lo + (r.hi-r.lo)/2
			}
		}
	}
	return v, r.holds(v, integer)
}

// holds reports whether x is in r.
func (r numRange) holds(x float64, integer bool) bool {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0),
		x < r.lo || (r.loEx && x == r.lo),
		x > r.hi || (r.hiEx && x == r.hi),
		integer && x != math.Trunc(x):
		return false
	case r.multipleOf > 0:
		q := x / r.multipleOf
		return math.Abs(q-math.Round(q)) < 1e-9
	}
	return true
}
