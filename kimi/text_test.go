package kimi

import (
	"regexp"
	"strings"
	"testing"
)

// The regular expressions the hand-written scans in text.go replace.
var (
	reFunctionName = regexp.MustCompile(functionNamePattern)
	reRetryHint    = regexp.MustCompile(`(?i)try again (?:after|in) (\d+) ?(?:seconds?|s\b)`)
	reHTMLTitle    = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	reHTMLDrop     = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	reHTMLTag      = regexp.MustCompile(`(?s)<[^>]*>`)
)

// unicodeFolds holds the two non-ASCII letters that (?i) folds onto the
// ASCII letters of the patterns (ſ is s, K is k): the scans fold ASCII
// only, on purpose, so inputs with them are not compared.
const unicodeFolds = "ſK"

func checkTextScans(t *testing.T, s string) {
	t.Helper()
	if got, want := validFunctionName(s), reFunctionName.MatchString(s); got != want {
		t.Errorf("validFunctionName(%q) = %t, regexp %t", s, got, want)
	}
	if strings.ContainsAny(s, unicodeFolds) {
		return
	}
	digits, ok := retryHintSeconds(s)
	if m := reRetryHint.FindStringSubmatch(s); (m != nil) != ok || ok && m[1] != digits {
		t.Errorf("retryHintSeconds(%q) = %q, %t; regexp %q", s, digits, ok, m)
	}
	title, ok := htmlTitle(s)
	if m := reHTMLTitle.FindStringSubmatch(s); (m != nil) != ok || ok && m[1] != title {
		t.Errorf("htmlTitle(%q) = %q, %t; regexp %q", s, title, ok, m)
	}
	if got, want := htmlText(s), reHTMLTag.ReplaceAllString(reHTMLDrop.ReplaceAllString(s, " "), " "); got != want {
		t.Errorf("htmlText(%q) = %q, regexp %q", s, got, want)
	}
}

var textScanSamples = []string{
	"", "abc", "ab", "_ab", "9ab", "a-b_c9", "get_weather", strings.Repeat("a", 64), strings.Repeat("a", 65), "a b",
	"Please try again after 3 seconds", "TRY AGAIN IN 10 S.", "try again after 5s", "try again after 7 second",
	"try again after 7 sec", "try again in 12x", "try again after  4 seconds", "try again later, try again after 2 seconds",
	"try again after -1 seconds", "try again in 3 sa", "try again in 3 s_",
	"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
	"<TITLE lang=en>Busy</Title>", "<title>unclosed", "<titles>x</title>", "<title", "no tags here",
	"<p>a<script>var x = '<b>';</script>b<style>p{}</style>c</p>", "<script>never closed", "a < b > c",
	"<SCRIPT src=x></SCRIPT>after", "<script>x</style>y", "<b <script>x</script>>", "<<<>>>", "<style>a</script></style>b",
}

func TestTextScansMatchRegexps(t *testing.T) {
	for _, s := range textScanSamples {
		checkTextScans(t, s)
	}
}

func FuzzTextScans(f *testing.F) {
	for _, s := range textScanSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkTextScans(t, s) })
}
