package kimitest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The chat model and the official tools: when a request declares a
// formula's function (by its platform name) and the question asks for
// what it does, the model calls it with arguments read from the question,
// as Kimi's models do; formulaArguments is that reading. A question it
// cannot read leaves the generic argument filler in charge.

var (
	convertRE   = regexp.MustCompile(`(?i)(-?\d+(?:\.\d+)?)\s*(°?\s?[a-z°][a-z°/^0-9]*)\s+(?:to|in|into|as)\s+(°?\s?[a-z°][a-z°/^0-9]*)`)
	quotedRE    = regexp.MustCompile("[\"'“‘`]([^\"'”’`]+)[\"'”’`]")
	fetchURLRE  = regexp.MustCompile(`https?://[^\s"'<>]+`)
	b64RE       = regexp.MustCompile(`[A-Za-z0-9+/]{4,}={0,2}`)
	isoDateRE   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	daysRE      = regexp.MustCompile(`(\d+)\s*(?:days?|天)`)
	excelFileRE = regexp.MustCompile(`\b(?:file[-_][0-9A-Za-z_-]{4,}|[0-9a-z]{20})\b`)
)

var (
	rememberRE = regexp.MustCompile(`(?i)remember (?:that )?(?:my )?(.+?) (?:is|are) (.+)|记住(?:我的)?(.+?)是(.+)`)
	recallRE   = regexp.MustCompile(`(?i)(?:what is|what's|recall) my (.+?)\s*\??$|我的(.+?)是什么`)
	// searchLeadRE is the request around a web search's query.
	searchLeadRE = regexp.MustCompile(`(?i)^(?:please\s+)?(?:search(?:\s+the\s+web)?(?:\s+for)?|look\s+up|帮我)?\s*(?:搜索一下|搜索|查一下|搜一下)?[\s:：,，]*`)
)

// searchQuery is what the model searches for: the question without the
// request around it ("Search the web for X" searches X).
func searchQuery(question string) string {
	q := strings.TrimSpace(question)
	if rest := strings.TrimSpace(searchLeadRE.ReplaceAllString(q, "")); rest != "" {
		return rest
	}
	return q
}

// matchedPair returns the first two non-empty groups of an alternation match.
func matchedPair(m []string) (string, string) {
	var out []string
	for _, g := range m[1:] {
		if g != "" {
			out = append(out, g)
		}
	}
	out = append(out, "", "")
	return out[0], out[1]
}

// memoryKey is the key the model files a fact under: "favourite colour"
// is "favourite_colour".
func memoryKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), "_")
}

// formulaWanted reports whether the question asks for what the formula
// function does, beyond naming it (which mentions already catches).
func formulaWanted(name, question string) bool {
	q := strings.ToLower(question)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(q, w) {
				return true
			}
		}
		return false
	}
	if fn := excelName(name); fn != "" {
		choice, _ := excelChoice(question)
		return fn == choice && excelFileRE.MatchString(question)
	}
	switch name {
	case "web_search":
		return has("search", "look up", "latest", "news", "today", "搜索", "查一下", "最新", "新闻")
	case "convert":
		return convertRE.MatchString(question) || has("换算", "转换")
	case "base64_encode":
		return has("base64") && has("encode", "编码")
	case "base64_decode":
		return has("base64") && has("decode", "解码")
	case "fetch":
		return fetchURLRE.MatchString(question)
	case "date":
		return has("what time", "what date", "days between", "days after", "days before", "几点", "日期", "天后", "天前", "多少天", "几天", "星期几")
	case "random_choice":
		return has("pick", "choose", "random", "随机", "选一个")
	case "memory":
		return has("remember", "recall", "记住", "记得") || recallRE.MatchString(question)
	case "mew_generator":
		return has("cat", "meow", "猫")
	case "rethink":
		return has("think it over", "rethink", "反思")
	}
	return false
}

// formulaFunction reports whether name is a formula function as a chat
// declares it: those the model picks by what the question asks
// (formulaWanted) or by name, not by words of their descriptions.
func formulaFunction(name string) bool {
	if excelName(name) != "" {
		return true
	}
	for _, f := range formulas() {
		if _, ok := f.fns[name]; ok {
			return true
		}
	}
	return false
}

// excelChoice is the one excel function the model calls for a question
// about a file, with its arguments besides file_id: a sum or the counts
// of a "quoted" column, the row count, statistics, the sheets, else the
// file's summary.
func excelChoice(question string) (string, map[string]any) {
	q := strings.ToLower(question)
	words := strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	// English words match whole ("sum" is not in "summary"), Chinese ones
	// anywhere.
	has := func(keys ...string) bool {
		return slices.ContainsFunc(keys, func(k string) bool {
			if k[0] < utf8.RuneSelf && !strings.Contains(k, " ") {
				return slices.ContainsFunc(words, func(w string) bool { return w == k || w == k+"s" })
			}
			return strings.Contains(q, k)
		})
	}
	col := ""
	if m := quotedRE.FindStringSubmatch(question); m != nil {
		col = m[1]
	}
	switch {
	case col != "" && has("sum", "total", "合计", "总和", "总计"):
		return "sum", map[string]any{"column": col}
	case col != "" && has("each", "value count", "distribution", "分布", "各"):
		return "value_counts", map[string]any{"column": col}
	case has("how many rows", "count the rows", "row count", "多少行"):
		return "count", nil
	case has("describe", "statistic", "statistics", "summary", "统计"):
		return "describe", nil
	case has("sheets", "工作表"):
		return "list_sheets", nil
	}
	return "read_file", nil
}

// excelName is the excel function a declared name stands for ("sum" for
// excel_sum), "" for another tool.
func excelName(name string) string {
	if fn, ok := strings.CutPrefix(name, "excel_"); ok {
		return fn
	}
	return ""
}

// formulaArguments reads a formula function's arguments from the
// question; ok is false when the function is not a formula's or the
// question does not give them.
func formulaArguments(name, question string) (string, bool) {
	obj := map[string]any{}
	switch name {
	case "web_search":
		obj["query"] = searchQuery(question)
	case "convert":
		m := convertRE.FindStringSubmatch(question)
		if m == nil {
			return "", false
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		obj["value"], obj["from_unit"], obj["to_unit"] = v, strings.ReplaceAll(m[2], " ", ""), strings.ReplaceAll(m[3], " ", "")
	case "base64_encode":
		m := quotedRE.FindStringSubmatch(question)
		if m == nil {
			return "", false
		}
		obj["data"] = m[1]
	case "base64_decode":
		var data string
		for _, w := range b64RE.FindAllString(question, -1) {
			if len(w)%4 == 0 && strings.ToLower(w) != "base64" && len(w) > len(data) {
				data = w
			}
		}
		if data == "" {
			return "", false
		}
		obj["data"] = data
	case "fetch":
		u := fetchURLRE.FindString(question)
		if u == "" {
			return "", false
		}
		obj["url"] = strings.TrimRight(u, ".,;)")
	case "date":
		dates := isoDateRE.FindAllString(question, 2)
		days := daysRE.FindStringSubmatch(question)
		q := strings.ToLower(question)
		switch {
		case len(dates) == 2:
			obj["operation"], obj["date1"], obj["date2"] = "between", dates[0], dates[1]
		case len(dates) == 1 && days != nil:
			n, _ := strconv.Atoi(days[1])
			op := "add"
			if strings.Contains(q, "before") || strings.Contains(q, "ago") || strings.Contains(q, "天前") {
				op = "subtract"
			}
			obj["operation"], obj["date"], obj["days"] = op, dates[0]+" 00:00:00", n
		default:
			obj["operation"] = "time"
		}
	case "random_choice":
		c := candidates(question)
		if len(c) < 2 {
			return "", false
		}
		obj["candidates"] = c
	case "memory":
		if m := rememberRE.FindStringSubmatch(question); m != nil {
			k, v := matchedPair(m)
			obj["action"], obj["key"], obj["data"] = "store", memoryKey(k), map[string]any{"value": strings.TrimRight(v, ".!。！")}
		} else if m := recallRE.FindStringSubmatch(question); m != nil {
			k, _ := matchedPair(m)
			obj["action"], obj["key"] = "retrieve", memoryKey(k)
		} else {
			obj["action"] = "list"
		}
	case "mew_generator":
	case "rethink":
		obj["thought"] = strings.TrimSpace(question)
	default:
		fn := excelName(name)
		id := excelFileRE.FindString(question)
		if fn == "" || id == "" {
			return "", false
		}
		choice, more := excelChoice(question)
		if choice == fn {
			maps.Copy(obj, more)
		}
		obj["file_id"] = id
	}
	return marshalNoEscape(obj), true
}

// candidates reads "one of A, B or C" / "A、B 还是 C".
func candidates(question string) []string {
	q := question
	for _, marker := range []string{" of ", " between ", "：", ":"} {
		if i := strings.LastIndex(q, marker); i >= 0 {
			q = q[i+len(marker):]
			break
		}
	}
	q = strings.TrimRight(strings.TrimSpace(q), "?.!？。")
	fields := regexp.MustCompile(`\s*(?:,|、|，|\bor\b|\band\b|还是|或者)\s*`).Split(q, -1)
	var out []string
	for _, f := range fields {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// searchCitation is how an answer cites a web_search envelope it read.
func searchCitation(content string, zh bool) (string, bool) {
	p, ok := openWebSearchEnvelope(content)
	if !ok || len(p.Results) == 0 {
		return "", false
	}
	var cites []string
	for _, r := range p.Results[:min(2, len(p.Results))] {
		cites = append(cites, fmt.Sprintf("%s (%s)", r.Title, r.URL))
	}
	if zh {
		return "搜索结果：" + strings.Join(cites, "；"), true
	}
	return "search results: " + strings.Join(cites, "; "), true
}
