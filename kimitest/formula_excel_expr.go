package kimitest

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The expression language of excel's filter (pandas DataFrame.query) and
// add_column (DataFrame.eval): Python's operators with pandas' precedence
// (& | ~ rank with and or not), comparisons that chain, in / not in a list
// or a string, + - * / // % ** on numbers (+ joins strings), column names
// bare or in backquotes, literals 'text' "text" 12 1.5e3 True False None
// nan, and the methods .str.contains/startswith/endswith/lower/upper/
// strip/len, .isna/.isnull/.notna/.notnull and .abs. Comparing with NaN
// is false (!= true) and arithmetic carries it, as in pandas.

// xval is the value of an expression for one row.
type xval struct {
	kind byte // 'n' number, 's' string, 'b' bool, 'z' NaN or None, 'l' list
	n    float64
	s    string
	b    bool
	l    []xval
}

var xNaN = xval{kind: 'z'}

func xnum(f float64) xval {
	if math.IsNaN(f) {
		return xNaN
	}
	return xval{kind: 'n', n: f}
}

func xbool(b bool) xval { return xval{kind: 'b', b: b} }

// cell is v as a table cell ("" for NaN).
func (v xval) cell() string {
	switch v.kind {
	case 'n':
		return fmtRound(v.n)
	case 's':
		return v.s
	case 'b':
		if v.b {
			return "True"
		}
		return "False"
	}
	return ""
}

// pyType names v's type as Python's errors do.
func (v xval) pyType() string {
	switch v.kind {
	case 'n':
		return "float"
	case 's':
		return "str"
	case 'b':
		return "bool"
	case 'l':
		return "list"
	}
	return "NoneType"
}

type xexpr func(row []string) (xval, string)

type xtok struct {
	kind   byte // 'i' name, 'n' number, 's' string, 'o' operator, 0 the end
	s      string
	n      float64
	quoted bool // a `backquoted` name: never a keyword
}

func xlex(src string) ([]xtok, string) {
	var toks []xtok
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '`':
			j := strings.IndexByte(src[i+1:], '`')
			if j < 0 {
				return nil, "unterminated `name`"
			}
			toks = append(toks, xtok{kind: 'i', s: src[i+1 : i+1+j], quoted: true})
			i += j + 2
		case c == '\'' || c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && j+1 < len(src) {
					j++
				}
				b.WriteByte(src[j])
			}
			if j >= len(src) {
				return nil, "unterminated string"
			}
			toks = append(toks, xtok{kind: 's', s: b.String()})
			i = j + 1
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == '_' ||
				src[j] == 'e' || src[j] == 'E' || (src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			f, err := strconv.ParseFloat(strings.ReplaceAll(src[i:j], "_", ""), 64)
			if err != nil && !strings.Contains(err.Error(), "range") {
				return nil, fmt.Sprintf("invalid number %q", src[i:j])
			}
			toks = append(toks, xtok{kind: 'n', n: f, s: src[i:j]})
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf:
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' ||
				src[j] >= '0' && src[j] <= '9' || src[j] >= utf8.RuneSelf) {
				j++
			}
			toks = append(toks, xtok{kind: 'i', s: src[i:j]})
			i = j
		default:
			op := ""
			for _, o := range []string{"**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "<", ">", "(", ")", "[", "]", ",", ".", "&", "|", "~"} {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			switch {
			case op != "":
			case c == '=':
				op = "=" // a keyword argument's; elsewhere "use == to compare"
			default:
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, fmt.Sprintf("unexpected character %q", r)
			}
			toks = append(toks, xtok{kind: 'o', s: op})
			i += len(op)
		}
	}
	return append(toks, xtok{}), ""
}

type xparser struct {
	t     *excelTable
	toks  []xtok
	pos   int
	depth int
	// text counts the bytes string joins build, over every row the
	// expression is evaluated on: s+s+…+s on long cells would otherwise
	// cost quadratic time per row.
	text *int
}

// compile parses src against t's columns.
func (t *excelTable) compile(src string) (xexpr, string) {
	bad := func(why string) string {
		return fmt.Sprintf("ERROR: invalid expression %q: %s", truncUTF8(src, 200), why)
	}
	if strings.TrimSpace(src) == "" {
		return nil, "ERROR: the expression must not be empty"
	}
	if len(src) > excelMaxExpr {
		return nil, fmt.Sprintf("ERROR: the expression is %d bytes, more than %d", len(src), excelMaxExpr)
	}
	toks, e := xlex(src)
	if e != "" {
		return nil, bad(e)
	}
	p := &xparser{t: t, toks: toks, text: new(int)}
	ex, e := p.or()
	if e == "" && p.peek().kind != 0 {
		e = fmt.Sprintf("unexpected %q", p.peek().s)
		if p.isOp("=") {
			e = "use == to compare"
		}
	}
	if e != "" {
		if strings.HasPrefix(e, "ERROR: ") {
			return nil, e
		}
		return nil, bad(e)
	}
	return ex, ""
}

// nested parses a sub-expression, bounding the recursion.
func (p *xparser) nested(parse func() (xexpr, string)) (xexpr, string) {
	if p.depth++; p.depth > 100 {
		return nil, "nested too deeply"
	}
	defer func() { p.depth-- }()
	return parse()
}

func (p *xparser) peek() xtok { return p.toks[p.pos] }

func (p *xparser) isOp(s string) bool { t := p.peek(); return t.kind == 'o' && t.s == s }

func (p *xparser) isKw(s string) bool { t := p.peek(); return t.kind == 'i' && !t.quoted && t.s == s }

func (p *xparser) expect(op string) string {
	if !p.isOp(op) {
		if p.peek().kind == 0 {
			return fmt.Sprintf("expected %q at the end", op)
		}
		return fmt.Sprintf("expected %q, found %q", op, p.peek().s)
	}
	p.pos++
	return ""
}

func (p *xparser) or() (xexpr, string) { return p.logic(p.and, "or", "|") }

func (p *xparser) and() (xexpr, string) { return p.logic(p.not, "and", "&") }

// logic parses a run of "and" (or "or") conditions, the keyword or its
// pandas operator, between operands that next parses.
func (p *xparser) logic(next func() (xexpr, string), kw, op string) (xexpr, string) {
	l, e := next()
	for e == "" && (p.isKw(kw) || p.isOp(op)) {
		p.pos++
		var r xexpr
		if r, e = next(); e == "" {
			l = xlogic(l, r, kw == "and")
		}
	}
	return l, e
}

func truth(v xval) (bool, string) {
	switch v.kind {
	case 'b':
		return v.b, ""
	case 'z':
		return false, ""
	}
	return false, fmt.Sprintf("a condition is needed, not a %s", v.pyType())
}

// evalBoth evaluates the two operands of a binary operator.
func evalBoth(l, r xexpr, row []string) (xval, xval, string) {
	a, e := l(row)
	if e != "" {
		return a, a, e
	}
	b, e := r(row)
	return a, b, e
}

func xlogic(l, r xexpr, isAnd bool) xexpr {
	return func(row []string) (xval, string) {
		a, b, e := evalBoth(l, r, row)
		if e != "" {
			return xNaN, e
		}
		x, e := truth(a)
		if e != "" {
			return a, e
		}
		y, e := truth(b)
		if e != "" {
			return b, e
		}
		if isAnd {
			return xbool(x && y), ""
		}
		return xbool(x || y), ""
	}
}

func (p *xparser) not() (xexpr, string) {
	if p.isKw("not") || p.isOp("~") {
		p.pos++
		x, e := p.nested(p.not)
		if e != "" {
			return nil, e
		}
		return func(row []string) (xval, string) {
			v, e := x(row)
			if e != "" {
				return v, e
			}
			b, e := truth(v)
			return xbool(!b), e
		}, ""
	}
	return p.cmp()
}

func (p *xparser) cmp() (xexpr, string) {
	first, e := p.sum()
	if e != "" {
		return nil, e
	}
	operands := []xexpr{first}
	var ops []string
	for {
		t := p.peek()
		op := ""
		switch {
		case t.kind == 'o' && (t.s == "==" || t.s == "!=" || t.s == "<" || t.s == "<=" || t.s == ">" || t.s == ">="):
			op = t.s
		case p.isKw("in"):
			op = "in"
		case p.isKw("not") && p.toks[p.pos+1].kind == 'i' && p.toks[p.pos+1].s == "in":
			op = "not in"
			p.pos++
		}
		if op == "" {
			break
		}
		p.pos++
		r, e := p.sum()
		if e != "" {
			return nil, e
		}
		operands, ops = append(operands, r), append(ops, op)
	}
	if len(ops) == 0 {
		return first, ""
	}
	return func(row []string) (xval, string) {
		a, e := operands[0](row)
		if e != "" {
			return a, e
		}
		for i, op := range ops { // a < b < c is a < b and b < c
			b, e := operands[i+1](row)
			if e != "" {
				return b, e
			}
			v, e := xcompare(op, a, b)
			if e != "" || !v.b {
				return v, e
			}
			a = b
		}
		return xbool(true), ""
	}, ""
}

func xequal(a, b xval) bool {
	if a.kind == 'b' && b.kind == 'n' || a.kind == 'n' && b.kind == 'b' {
		return a.asNum() == b.asNum()
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case 'n':
		return a.n == b.n
	case 's':
		return a.s == b.s
	case 'b':
		return a.b == b.b
	}
	return false
}

func (v xval) asNum() float64 {
	if v.kind == 'b' {
		if v.b {
			return 1
		}
		return 0
	}
	return v.n
}

func xcompare(op string, a, b xval) (xval, string) {
	switch op {
	case "in", "not in":
		var in bool
		switch {
		case b.kind == 'l':
			for _, x := range b.l {
				in = in || xequal(a, x)
			}
		case b.kind == 's' && a.kind == 's':
			in = strings.Contains(b.s, a.s)
		case a.kind == 'z' || b.kind == 'z':
		default:
			return xNaN, fmt.Sprintf("argument of type '%s' is not iterable", b.pyType())
		}
		return xbool(in == (op == "in")), ""
	case "==":
		return xbool(xequal(a, b)), ""
	case "!=":
		return xbool(!xequal(a, b)), ""
	}
	if a.kind == 'z' || b.kind == 'z' {
		return xbool(false), ""
	}
	var c int
	switch {
	case (a.kind == 'n' || a.kind == 'b') && (b.kind == 'n' || b.kind == 'b'):
		x, y := a.asNum(), b.asNum()
		c = map[bool]int{true: -1, false: 0}[x < y] + map[bool]int{true: 1, false: 0}[x > y]
	case a.kind == 's' && b.kind == 's':
		c = strings.Compare(a.s, b.s)
	default:
		return xNaN, fmt.Sprintf("'%s' not supported between instances of '%s' and '%s'", op, a.pyType(), b.pyType())
	}
	switch op {
	case "<":
		return xbool(c < 0), ""
	case "<=":
		return xbool(c <= 0), ""
	case ">":
		return xbool(c > 0), ""
	}
	return xbool(c >= 0), ""
}

func (p *xparser) sum() (xexpr, string) { return p.arith(p.term, "+", "-") }

func (p *xparser) term() (xexpr, string) { return p.arith(p.unary, "*", "/", "//", "%") }

// arith parses a left-associative run of one precedence level's
// operators between operands that next parses.
func (p *xparser) arith(next func() (xexpr, string), ops ...string) (xexpr, string) {
	l, e := next()
	for e == "" && slices.ContainsFunc(ops, p.isOp) {
		op := p.peek().s
		p.pos++
		var r xexpr
		if r, e = next(); e == "" {
			l = xarith(op, l, r, p.text)
		}
	}
	return l, e
}

func (p *xparser) unary() (xexpr, string) {
	if p.isOp("-") || p.isOp("+") {
		neg := p.peek().s == "-"
		p.pos++
		x, e := p.nested(p.unary)
		if e != "" {
			return nil, e
		}
		return func(row []string) (xval, string) {
			v, e := x(row)
			switch {
			case e != "" || v.kind == 'z':
				return v, e
			case v.kind != 'n' && v.kind != 'b':
				return xNaN, fmt.Sprintf("bad operand type for unary -: '%s'", v.pyType())
			case neg:
				return xnum(-v.asNum()), ""
			}
			return xnum(v.asNum()), ""
		}, ""
	}
	return p.power()
}

func (p *xparser) power() (xexpr, string) {
	base, e := p.postfix()
	if e != "" || !p.isOp("**") {
		return base, e
	}
	p.pos++
	exp, e := p.nested(p.unary) // right-associative, and binds tighter than a unary minus on its left
	if e != "" {
		return nil, e
	}
	return xarith("**", base, exp, p.text), ""
}

func xarith(op string, l, r xexpr, text *int) xexpr {
	return func(row []string) (xval, string) {
		a, b, e := evalBoth(l, r, row)
		if e != "" {
			return xNaN, e
		}
		if a.kind == 's' && b.kind == 's' && op == "+" {
			if *text += len(a.s) + len(b.s); *text > excelMaxText {
				return xNaN, fmt.Sprintf("the expression joins more than %d bytes of text", excelMaxText)
			}
			return xval{kind: 's', s: a.s + b.s}, ""
		}
		if a.kind == 'z' || b.kind == 'z' {
			return xNaN, ""
		}
		if (a.kind != 'n' && a.kind != 'b') || (b.kind != 'n' && b.kind != 'b') {
			return xNaN, fmt.Sprintf("unsupported operand type(s) for %s: '%s' and '%s'", op, a.pyType(), b.pyType())
		}
		x, y := a.asNum(), b.asNum()
		switch op {
		case "+":
			return xnum(x + y), ""
		case "-":
			return xnum(x - y), ""
		case "*":
			return xnum(x * y), ""
		case "/":
			return xnum(x / y), "" // ±inf, or NaN for 0/0, as pandas
		case "//":
			return xnum(math.Floor(x / y)), ""
		case "%":
			if y == 0 {
				return xNaN, ""
			}
			m := math.Mod(x, y)
			if m != 0 && (m < 0) != (y < 0) {
				m += y // Python's sign follows the divisor
			}
			return xnum(m), ""
		}
		return xnum(math.Pow(x, y)), ""
	}
}

func (p *xparser) postfix() (xexpr, string) {
	x, e := p.atom()
	for e == "" && p.isOp(".") {
		p.pos++
		name := p.peek()
		if name.kind != 'i' {
			return nil, "expected a method after \".\""
		}
		p.pos++
		str := false
		if name.s == "str" {
			if e = p.expect("."); e != "" {
				return nil, e
			}
			if name = p.peek(); name.kind != 'i' {
				return nil, "expected a method after \".str.\""
			}
			p.pos++
			str = true
		}
		var args []xtok
		named := map[string]xtok{}
		if e = p.expect("("); e != "" {
			return nil, e
		}
		for !p.isOp(")") {
			t := p.peek()
			key := ""
			if t.kind == 'i' && p.toks[p.pos+1].kind == 'o' && p.toks[p.pos+1].s == "=" {
				key = t.s
			}
			if t.kind == 'i' && !t.quoted && p.toks[p.pos+1].kind == 'o' && p.toks[p.pos+1].s == "==" {
				return nil, "use name=value for a keyword argument"
			}
			if key != "" {
				p.pos += 2
				t = p.peek()
			}
			if t.kind != 's' && t.kind != 'n' && !(t.kind == 'i' && (t.s == "True" || t.s == "False")) {
				return nil, "method arguments must be literals"
			}
			p.pos++
			if key != "" {
				named[key] = t
			} else {
				args = append(args, t)
			}
			if !p.isOp(",") {
				break
			}
			p.pos++
		}
		if e = p.expect(")"); e != "" {
			return nil, e
		}
		if x, e = xmethod(x, str, name.s, args, named); e != "" {
			return nil, e
		}
	}
	return x, e
}

func xmethod(x xexpr, str bool, name string, args []xtok, named map[string]xtok) (xexpr, string) {
	flag := func(k string, def bool) bool {
		if t, ok := named[k]; ok {
			return t.s == "True"
		}
		return def
	}
	if !str {
		switch name {
		case "isna", "isnull", "notna", "notnull":
			want := name == "isna" || name == "isnull"
			return func(row []string) (xval, string) {
				v, e := x(row)
				return xbool((v.kind == 'z') == want), e
			}, ""
		case "abs":
			return func(row []string) (xval, string) {
				v, e := x(row)
				if e != "" || v.kind == 'z' {
					return v, e
				}
				if v.kind != 'n' {
					return xNaN, fmt.Sprintf("bad operand type for abs(): '%s'", v.pyType())
				}
				return xnum(math.Abs(v.n)), ""
			}, ""
		}
		return nil, fmt.Sprintf("unsupported method %q (use .str.contains, .str.startswith, .str.endswith, .str.lower, .str.upper, .str.strip, .str.len, .isna, .notna or .abs)", name)
	}
	arg := ""
	if len(args) > 0 {
		arg = args[0].s
	} else if t, ok := named["pat"]; ok {
		arg = t.s
	}
	var test func(s string) xval
	switch name {
	case "contains":
		if len(args) == 0 && named["pat"].kind == 0 {
			return nil, "str.contains needs a pattern"
		}
		ignoreCase := !flag("case", true)
		if flag("regex", true) {
			pat := arg
			if ignoreCase {
				pat = "(?i)" + pat
			}
			re, err := regexp.Compile(pat)
			if err != nil {
				return nil, "bad pattern: " + err.Error()
			}
			test = func(s string) xval { return xbool(re.MatchString(s)) }
		} else {
			test = func(s string) xval {
				if ignoreCase {
					return xbool(strings.Contains(strings.ToLower(s), strings.ToLower(arg)))
				}
				return xbool(strings.Contains(s, arg))
			}
		}
	case "startswith":
		test = func(s string) xval { return xbool(strings.HasPrefix(s, arg)) }
	case "endswith":
		test = func(s string) xval { return xbool(strings.HasSuffix(s, arg)) }
	case "lower":
		test = func(s string) xval { return xval{kind: 's', s: strings.ToLower(s)} }
	case "upper":
		test = func(s string) xval { return xval{kind: 's', s: strings.ToUpper(s)} }
	case "strip":
		test = func(s string) xval { return xval{kind: 's', s: strings.TrimSpace(s)} }
	case "len":
		test = func(s string) xval { return xnum(float64(utf8.RuneCountInString(s))) }
	default:
		return nil, fmt.Sprintf("unsupported method .str.%s", name)
	}
	na, hasNA := named["na"]
	return func(row []string) (xval, string) {
		v, e := x(row)
		switch {
		case e != "":
			return v, e
		case v.kind == 'z':
			if hasNA {
				return xbool(na.s == "True"), ""
			}
			return xNaN, ""
		case v.kind != 's':
			return xNaN, "Can only use .str accessor with string values!"
		}
		return test(v.s), ""
	}, ""
}

func (p *xparser) atom() (xexpr, string) {
	t := p.peek()
	switch {
	case t.kind == 'n':
		p.pos++
		v := xnum(t.n)
		return func([]string) (xval, string) { return v, "" }, ""
	case t.kind == 's':
		p.pos++
		v := xval{kind: 's', s: t.s}
		return func([]string) (xval, string) { return v, "" }, ""
	case t.kind == 'i':
		p.pos++
		if !t.quoted {
			var v xval
			switch t.s {
			case "True", "False":
				v = xbool(t.s == "True")
			case "None", "nan", "NaN":
				v = xNaN
			case "and", "or", "not", "in":
				return nil, fmt.Sprintf("unexpected %q", t.s)
			default:
				return p.column(t.s)
			}
			return func([]string) (xval, string) { return v, "" }, ""
		}
		return p.column(t.s)
	case p.isOp("("):
		p.pos++
		return p.nested(func() (xexpr, string) {
			x, e := p.or()
			if e != "" {
				return nil, e
			}
			return x, p.expect(")")
		})
	case p.isOp("["):
		p.pos++
		return p.nested(p.list)
	case t.kind == 0:
		return nil, "unexpected end"
	}
	return nil, fmt.Sprintf("unexpected %q", t.s)
}

// list parses the items of a [list] after its "[".
func (p *xparser) list() (xexpr, string) {
	var items []xexpr
	for !p.isOp("]") {
		x, e := p.or()
		if e != "" {
			return nil, e
		}
		items = append(items, x)
		if !p.isOp(",") {
			break
		}
		p.pos++
	}
	if e := p.expect("]"); e != "" {
		return nil, e
	}
	return func(row []string) (xval, string) {
		l := xval{kind: 'l', l: make([]xval, len(items))}
		for i, x := range items {
			v, e := x(row)
			if e != "" {
				return v, e
			}
			l.l[i] = v
		}
		return l, ""
	}, ""
}

func (p *xparser) column(name string) (xexpr, string) {
	i := -1
	for k, h := range p.t.header {
		if h == name {
			i = k
			break
		}
	}
	if i < 0 {
		return nil, fmt.Sprintf("ERROR: name %q is not defined (columns: %s)", name, strings.Join(p.t.header, ", "))
	}
	kind := p.t.colKind(i)
	return func(row []string) (xval, string) {
		c := row[i]
		switch {
		case c == "":
			return xNaN, ""
		case numericKind(kind):
			v, _ := num(c)
			return xnum(v), ""
		case kind == 'b':
			b, _ := pyBool(c)
			return xbool(b), ""
		}
		return xval{kind: 's', s: c}, ""
	}, ""
}
