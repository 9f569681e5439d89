package kimi

import (
	"strconv"
	"strings"

	"github.com/onesdk-go/onesdk/internal/ascii"
)

// The few text scans the client needs, written out rather than with
// package regexp, which would add a quarter of a megabyte to every program
// that links the client. A differential fuzz test holds each to the
// regular expression it replaces (text_test.go).

// functionNamePattern is the rule Kimi documents for tool function names.
const functionNamePattern = `^[a-zA-Z_][a-zA-Z0-9-_]{2,63}$`

// validFunctionName reports whether name matches functionNamePattern.
func validFunctionName(name string) bool {
	if len(name) < 3 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case (c >= '0' && c <= '9' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// retryHintSeconds finds Kimi's "try again after N seconds" (also "in N
// s", any case) in a message and returns N's digits.
func retryHintSeconds(message string) (string, bool) {
	m := ascii.Lower(message)
	for from := 0; ; {
		i := strings.Index(m[from:], "try again ")
		if i < 0 {
			return "", false
		}
		from += i + len("try again ")
		rest := m[from:]
		switch {
		case strings.HasPrefix(rest, "after "):
			rest = rest[len("after "):]
		case strings.HasPrefix(rest, "in "):
			rest = rest[len("in "):]
		default:
			continue
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 {
			continue
		}
		digits, unit := rest[:n], strings.TrimPrefix(rest[n:], " ")
		if strings.HasPrefix(unit, "second") || strings.HasPrefix(unit, "s") && (len(unit) == 1 || !ascii.IsWordByte(unit[1])) {
			return digits, true
		}
	}
}

// parseRetryHint is retryHintSeconds as a number.
func parseRetryHint(message string) (int64, bool) {
	digits, ok := retryHintSeconds(message)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil
}

// htmlTitle returns the text of the first <title> element, if any: from
// the '>' that ends the first "<title" to the next "</title>".
func htmlTitle(s string) (string, bool) {
	l := ascii.Lower(s)
	open := strings.Index(l, "<title")
	if open < 0 {
		return "", false
	}
	gt := strings.IndexByte(l[open:], '>')
	if gt < 0 {
		return "", false
	}
	start := open + gt + 1
	end := strings.Index(l[start:], "</title>")
	if end < 0 {
		return "", false
	}
	return s[start : start+end], true
}

// htmlText drops <script> and <style> elements, then replaces every tag
// with a space.
func htmlText(s string) string {
	return replaceTags(dropScripts(s))
}

// dropScripts replaces each <script> or <style> element (from its start
// tag to the first "</script>" or "</style>" after it) with a space.
func dropScripts(s string) string {
	l := ascii.Lower(s)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '<' || !(strings.HasPrefix(l[i+1:], "script") || strings.HasPrefix(l[i+1:], "style")) {
			continue
		}
		gt := strings.IndexByte(l[i:], '>')
		if gt < 0 {
			break // no element can close from here on
		}
		body := i + gt + 1
		end := -1
		for _, closing := range []string{"</script>", "</style>"} {
			if c := strings.Index(l[body:], closing); c >= 0 && (end < 0 || body+c+len(closing) < end) {
				end = body + c + len(closing)
			}
		}
		if end < 0 {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteByte(' ')
		last, i = end, end-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// replaceTags replaces every "<...>" with a space; a "<" with no ">"
// after it is text.
func replaceTags(s string) string {
	var b strings.Builder
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			break
		}
		b.WriteString(s[:lt])
		b.WriteByte(' ')
		s = s[lt+gt+1:]
	}
	b.WriteString(s)
	return b.String()
}
