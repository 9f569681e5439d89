package kimitest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onesdk-go/onesdk/catalog"
)

// The generator produces deterministic, plausible replies: the same
// request (model, messages, tools, response format, tool choice, thinking)
// always yields the same text, in the language of the question, built from
// the question and canned sentence templates. max_tokens, stop and n only
// shape that text afterwards, so a truncated reply is a prefix of the full
// one.

// toolCallOut is a tool call the emulated model makes.
type toolCallOut struct {
	ID, Name, Arguments string
}

// choiceResult is one generated choice.
type choiceResult struct {
	Index            int
	Reasoning        string
	Content          string
	ToolCalls        []toolCallOut
	FinishReason     string
	ReasoningTokens  int
	CompletionTokens int
}

// genInput is what the generator needs from a validated request.
type genInput struct {
	req   *chatRequest
	model ModelSpec
	fr    catalog.Rules
	p     params
	rule  *Rule
	seed  uint64
}

// requestSeed hashes the parts of the request that determine the reply.
func requestSeed(req *chatRequest, p params) uint64 {
	h := fnv.New64a()
	h.Write([]byte(req.Model))
	h.Write([]byte{0})
	h.Write(req.rawMessages)
	tools, _ := json.Marshal(req.Tools)
	h.Write(tools)
	rf, _ := json.Marshal(req.ResponseFormat)
	h.Write(rf)
	fmt.Fprintf(h, "%s|%s|%t", req.choice.mode, req.choice.name, p.thinking)
	return h.Sum64()
}

// generateChoice produces choice index; budget is the completion budget.
func generateChoice(in genInput, index, budget int) choiceResult {
	rng := rand.New(rand.NewPCG(in.seed, uint64(index)+1))
	msgs := in.req.Messages
	question := lastUserText(msgs)
	last := msgs[len(msgs)-1]
	zh := isChinese(question + last.text())
	topic := topicOf(question, zh)

	var reasoning, content string
	var calls []toolCallOut
	finish := ""

	switch {
	case in.rule != nil:
		r := in.rule
		content, reasoning, finish = r.Reply, r.Reasoning, r.FinishReason
		for i, tc := range r.ToolCalls {
			args := tc.Arguments
			if args == "" {
				args = "{}"
			}
			calls = append(calls, toolCallOut{ID: toolCallID(in.fr, tc.Name, priorCalls(msgs)+i), Name: tc.Name, Arguments: args})
		}
		if reasoning == "" && in.p.thinking {
			reasoning = reasoningText(zh, topic, "")
		}
	case last.Role == "assistant" && last.Partial:
		content = continuation(rng, last.text(), zh)
		if in.p.thinking {
			reasoning = reasoningText(zh, topic, "")
		}
	default:
		var cut bool
		calls, cut = chooseToolCalls(in, rng, question, zh)
		if cut {
			finish = "length"
		}
		switch {
		case len(calls) > 0:
			if in.p.thinking {
				reasoning = reasoningText(zh, topic, calls[0].Name)
			}
		case last.Role == "tool":
			content = answerFromTools(rng, index, msgs, zh, topic)
			if in.p.thinking {
				reasoning = reasoningText(zh, topic, "")
			}
		default:
			text := replyText(rng, index, zh, topic)
			content = text
			if rf := in.req.ResponseFormat; rf != nil && (rf.Type == "json_object" || rf.Type == "json_schema" && rf.JSONSchema != nil) {
				// Structured answers are built from the question; plain
				// ones never pay for reading it.
				facts := newQuestionFacts(question, zh, text, in.req.Tools)
				srng := structuredRNG(rng, 0)
				if rf.Type == "json_object" {
					content = jsonObjectAnswer(facts, srng, text)
				} else {
					strict := rf.JSONSchema.Strict != nil && *rf.JSONSchema.Strict
					var whole bool
					if content, whole = schemaInstance(rf.JSONSchema.Schema, facts, srng, strict); !whole {
						finish = "length"
					}
				}
			}
			if in.p.thinking {
				reasoning = reasoningText(zh, topic, "")
			}
		}
	}

	// Stop strings cut the content before their first occurrence; the stop
	// word itself is not emitted.
	if cut := firstStop(content, in.req.stops); cut >= 0 {
		content = content[:cut]
	}
	res := choiceResult{Index: index}
	truncate(&res, reasoning, content, calls, budget)
	if res.FinishReason == "" {
		switch {
		case finish != "":
			res.FinishReason = finish
		case len(res.ToolCalls) > 0:
			res.FinishReason = "tool_calls"
		default:
			res.FinishReason = "stop"
		}
	}
	return res
}

// structuredRNG is the generator of a structured value, drawn from the
// choice's: the generator keeps it, which would move the choice's own to
// the heap for every request.
func structuredRNG(rng *rand.Rand, i int) *rand.Rand {
	return rand.New(rand.NewPCG(rng.Uint64(), uint64(i)))
}

// truncate spends budget tokens on reasoning, then content, then tool
// calls (reasoning counts against max_tokens), and sets res's texts,
// tool calls and token counts to what fits. FinishReason is "length"
// when something was cut, else left "". The texts are counted as they
// are cut, not again afterwards.
func truncate(res *choiceResult, reasoning, content string, calls []toolCallOut, budget int) {
	var cut bool
	res.Reasoning, res.ReasoningTokens, cut = cutTokens(reasoning, budget)
	res.CompletionTokens = res.ReasoningTokens
	if cut {
		res.FinishReason = "length"
		return
	}
	budget -= res.ReasoningTokens
	var n int
	res.Content, n, cut = cutTokens(content, budget)
	res.CompletionTokens += n
	if cut {
		res.FinishReason = "length"
		return
	}
	budget -= n
	res.ToolCalls = calls
	for i, tc := range calls {
		cost := CountTokens(tc.Name) + CountTokens(tc.Arguments)
		if cost > budget {
			ap := tokenize(tc.Arguments)
			keep := max(0, min(len(ap), budget-CountTokens(tc.Name)))
			res.ToolCalls = append(slices.Clone(calls[:i]), toolCallOut{ID: tc.ID, Name: tc.Name, Arguments: strings.Join(ap[:keep], "")})
			res.FinishReason = "length"
			break
		}
		budget -= cost
	}
	for _, tc := range res.ToolCalls {
		res.CompletionTokens += CountTokens(tc.Name) + CountTokens(tc.Arguments)
	}
}

func firstStop(s string, stops []string) int {
	cut := -1
	for _, st := range stops {
		if i := strings.Index(s, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	return cut
}

// lastUserText is the text of the last user message ("" if none).
func lastUserText(msgs []message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return msgs[i].text()
		}
	}
	return ""
}

// isChinese reports whether CJK characters dominate the letters of s.
func isChinese(s string) bool {
	cjk, latin := 0, 0
	for _, r := range s {
		switch classify(r) {
		case classCJK:
			cjk++
		case classLetter:
			latin++
		}
	}
	// A CJK character carries about as much as a 3-letter word piece.
	return cjk > 0 && cjk*3 >= latin
}

// topicOf shortens the question to a phrase to quote in the reply.
func topicOf(q string, zh bool) string {
	q = strings.TrimSpace(strings.Join(strings.Fields(q), " "))
	trim := func(s string) string {
		return strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	}
	if q == "" {
		if zh {
			return "这个问题"
		}
		return "your question"
	}
	if zh {
		if utf8.RuneCountInString(q) > 20 {
			q = string([]rune(q)[:20])
		}
		return trim(q)
	}
	words := strings.Fields(q)
	if len(words) > 8 {
		words = words[:8]
	}
	t := trim(strings.Join(words, " "))
	if t == "" {
		return "your question"
	}
	return t
}

var (
	enOpeners = []string{
		"Here is a concise answer about %s.",
		"Good question about %s.",
		"Let me explain %s step by step.",
		"Thanks for asking about %s.",
		"Here is what I can tell you about %s.",
		"Sure, let's look at %s.",
	}
	enBody = []string{
		"The key idea is to start from the basics and build up one step at a time.",
		"In practice, the details depend on your context and constraints.",
		"A simple example usually makes the concept much easier to grasp.",
		"It helps to separate the core facts from the assumptions around them.",
		"Most of the time, the straightforward approach is also the most reliable one.",
		"Keep in mind that there are trade-offs, and no single answer fits every case.",
		"Checking the result against a known reference is a good habit.",
		"Breaking the problem into smaller parts makes each part easier to solve.",
	}
	enClosers = []string{
		"I hope this helps!",
		"Let me know if you have any other questions.",
		"Feel free to ask a follow-up question.",
	}
	zhOpeners = []string{
		"关于「%s」，我来简要回答一下。",
		"这是一个关于「%s」的好问题。",
		"下面我一步一步解释「%s」。",
		"感谢你提出关于「%s」的问题。",
		"好的，我们来看看「%s」。",
		"关于「%s」，可以从以下几个方面理解。",
	}
	zhBody = []string{
		"首先，要从最基本的概念入手，再逐步深入。",
		"在实际应用中，具体细节取决于你的场景和约束条件。",
		"举一个简单的例子，往往能让概念更容易理解。",
		"把核心事实和相关假设区分开来，会很有帮助。",
		"大多数情况下，最直接的方法也是最可靠的方法。",
		"需要注意的是，这里存在一些权衡，没有放之四海而皆准的答案。",
		"用已知的参考结果进行核对，是一个好习惯。",
		"把问题拆成几个小部分，每一部分都会更容易解决。",
	}
	zhClosers = []string{
		"希望这对你有帮助！",
		"如果还有其他问题，欢迎随时提问。",
		"欢迎继续追问。",
	}
)

// sentences joins sentences with the language's separator.
func sentences(zh bool, parts ...string) string {
	if zh {
		return strings.Join(parts, "")
	}
	return strings.Join(parts, " ")
}

// body picks k distinct body sentences.
func body(rng *rand.Rand, zh bool, k int) []string {
	pool := enBody
	if zh {
		pool = zhBody
	}
	idx := rng.Perm(len(pool))[:k]
	out := make([]string, k)
	for i, j := range idx {
		out[i] = pool[j]
	}
	return out
}

func closer(rng *rand.Rand, zh bool) string {
	if zh {
		return zhClosers[rng.IntN(len(zhClosers))]
	}
	return enClosers[rng.IntN(len(enClosers))]
}

// replyText is an ordinary answer. The opener rotates with the choice
// index so that n choices always differ.
func replyText(rng *rand.Rand, index int, zh bool, topic string) string {
	openers := enOpeners
	if zh {
		openers = zhOpeners
	}
	opener := fmt.Sprintf(openers[(rng.IntN(len(openers))+index)%len(openers)], topic)
	parts := append([]string{opener}, body(rng, zh, 2+rng.IntN(2))...)
	return sentences(zh, append(parts, closer(rng, zh))...)
}

func reasoningText(zh bool, topic, toolName string) string {
	switch {
	case zh && toolName != "":
		return fmt.Sprintf("用户在问「%s」。我应该调用 %s 工具来获取需要的信息。", topic, toolName)
	case zh:
		return fmt.Sprintf("用户在问「%s」。我需要给出清晰准确的回答。先想一想要点，再组织一个简短的回复。", topic)
	case toolName != "":
		return fmt.Sprintf("The user is asking about %s. I should call the %s tool to get the information I need.", topic, toolName)
	}
	return fmt.Sprintf("The user is asking about %s. I should give a clear and accurate answer. Let me think about the key points first, then write a short reply.", topic)
}

// continuation continues a partial assistant prefix without repeating it.
func continuation(rng *rand.Rand, prefix string, zh bool) string {
	trimmed := strings.TrimSpace(prefix)
	if strings.HasSuffix(trimmed, "{") && !strings.Contains(trimmed, "}") {
		// A "{" prefill asks for JSON: finish the object.
		b := body(rng, zh, 1)[0]
		return `"answer": ` + marshalNoEscape(b) + "}"
	}
	parts := append(body(rng, zh, 2), closer(rng, zh))
	text := sentences(zh, parts...)
	if !zh && prefix != "" && !strings.HasSuffix(prefix, " ") && !strings.HasSuffix(prefix, "\n") {
		text = " " + text
	}
	return text
}

// answerFromTools answers after tool results, quoting them.
func answerFromTools(rng *rand.Rand, index int, msgs []message, zh bool, topic string) string {
	var results []string
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role == "tool"; i-- {
		if cite, ok := searchCitation(msgs[i].text(), zh); ok {
			results = append([]string{cite}, results...)
			continue
		}
		if isWebSearchResult(msgs, i) {
			continue // search results are not quoted, as the real content is not shown
		}
		results = append([]string{oneLine(msgs[i].text(), 160)}, results...)
	}
	var parts []string
	switch {
	case len(results) > 0 && zh:
		parts = append(parts, fmt.Sprintf("根据工具返回的结果（%s），关于「%s」的回答如下。", strings.Join(results, "；"), topic))
	case len(results) > 0:
		parts = append(parts, fmt.Sprintf("Based on the tool results (%s), here is the answer about %s.", strings.Join(results, "; "), topic))
	case zh:
		parts = append(parts, fmt.Sprintf("根据联网搜索的结果，关于「%s」我找到了以下信息。", topic))
	default:
		parts = append(parts, fmt.Sprintf("According to the web search results, here is what I found about %s.", topic))
	}
	parts = append(parts, body(rng, zh, 1+index%2)...)
	return sentences(zh, append(parts, closer(rng, zh))...)
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return s
}

// priorCalls counts the tool calls already in the conversation, so that
// numbered ids stay unique across turns, as K2's "functions.x:N" do.
func priorCalls(msgs []message) int {
	n := 0
	for _, m := range msgs {
		n += len(m.ToolCalls)
	}
	return n
}

// toolCallID follows the family's tool-call id style: "name:idx" for
// moonshot-v1 and kimi-latest, "functions.name:idx" for K2 to K2.6,
// "name_idx" for K2.7 and K3. Builtins drop the "$".
func toolCallID(fr catalog.Rules, name string, idx int) string {
	builtin, isBuiltin := strings.CutPrefix(name, "$")
	switch {
	case fr.ToolCallIDs == catalog.ToolCallIDUnderscore:
		return fmt.Sprintf("%s_%d", builtin, idx)
	case isBuiltin:
		return fmt.Sprintf("%s:%d", builtin, idx)
	case fr.ToolCallIDs == catalog.ToolCallIDQualified:
		return fmt.Sprintf("functions.%s:%d", name, idx)
	}
	return fmt.Sprintf("%s:%d", name, idx)
}

// chooseToolCalls decides whether the model calls tools. The rule:
//   - tool_choice "none" (or no tools): never;
//   - a forced tool_choice ("required": the first function tool, or a
//     named function): always, whatever the last message;
//   - otherwise only when the last message is a user message, calling every
//     function whose name (also with "_"/"-" read as spaces), or a word of
//     five or more letters of its description, or a two-character CJK
//     word of its description, appears in that message;
//   - failing that, the builtin $web_search when it is offered.
//
// The arguments are an instance of the function's parameters, filled from
// the question. cut is set when they did not fit the generator's bounds.
func chooseToolCalls(in genInput, rng *rand.Rand, question string, zh bool) (out []toolCallOut, cut bool) {
	tools := in.req.Tools
	if len(tools) == 0 || in.req.choice.mode == "none" {
		return nil, false
	}
	msgs := in.req.Messages
	base := priorCalls(msgs)
	var picked []tool
	switch in.req.choice.mode {
	case "required":
		for _, t := range tools {
			if t.Type == "function" {
				picked = []tool{t}
				break
			}
		}
		if picked == nil {
			picked = []tool{tools[0]}
		}
	case "specified":
		for _, t := range tools {
			if t.Function.Name == in.req.choice.name {
				picked = []tool{t}
			}
		}
	default:
		if msgs[len(msgs)-1].Role != "user" {
			return nil, false
		}
		for _, t := range tools {
			if t.Type == "function" && (formulaWanted(t.Function.Name, question) || mentions(question, t.Function, formulaFunction(t.Function.Name))) {
				picked = append(picked, t)
			}
		}
		if len(picked) == 0 {
			for _, t := range tools {
				if t.Type == "builtin_function" && t.Function.Name == "$web_search" {
					picked = []tool{t}
				}
			}
		}
	}
	var facts *questionFacts
	for i, t := range picked {
		var args string
		if t.Function.Name == "$web_search" {
			id := make([]byte, 12)
			for k := range id {
				id[k] = byte(rng.UintN(256))
			}
			args = marshalNoEscape(map[string]any{
				"search_result": map[string]any{"search_id": hex.EncodeToString(id)},
				"usage":         map[string]any{"total_tokens": 800 + rng.IntN(2000)},
			})
		} else if a, ok := formulaArguments(t.Function.Name, question); ok {
			args = a
		} else {
			if facts == nil {
				// Free-text arguments (a message body) get a sentence.
				facts = newQuestionFacts(question, zh, "", tools)
				facts.answer = fmt.Sprintf(enOpeners[0], facts.topic)
				if zh {
					facts.answer = fmt.Sprintf(zhOpeners[0], facts.topic)
				}
			}
			var whole bool
			args, whole = toolArguments(t.Function.Parameters, facts, structuredRNG(rng, i))
			cut = cut || !whole
		}
		out = append(out, toolCallOut{ID: toolCallID(in.fr, t.Function.Name, base+i), Name: t.Function.Name, Arguments: args})
	}
	return out, cut
}

var stopwords = map[string]bool{
	"about": true, "which": true, "their": true, "there": true, "these": true, "those": true,
	"would": true, "could": true, "should": true, "given": true, "using": true, "return": true,
	"returns": true, "value": true, "values": true, "function": true, "other": true, "string": true,
	"number": true, "where": true, "while": true,
}

// cjkStop are characters too common to make a description bigram telling.
const cjkStop = "的了是在和一个用于与及或"

func mentions(question string, f toolFunction, byNameOnly bool) bool {
	q := strings.ToLower(question)
	name := strings.ToLower(f.Name)
	if strings.Contains(q, name) || strings.Contains(q, strings.NewReplacer("_", " ", "-", " ").Replace(name)) {
		return true
	}
	if byNameOnly {
		return false
	}
	qWords := map[string]bool{}
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) || classify(r) == classCJK }) {
		qWords[w] = true
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(f.Description), func(r rune) bool { return !unicode.IsLetter(r) || classify(r) == classCJK }) {
		if utf8.RuneCountInString(w) >= 5 && !stopwords[w] && qWords[w] {
			return true
		}
	}
	desc := []rune(f.Description)
	for i := 0; i+1 < len(desc); i++ {
		a, b := desc[i], desc[i+1]
		if classify(a) == classCJK && classify(b) == classCJK && !strings.ContainsRune(cjkStop, a) && !strings.ContainsRune(cjkStop, b) &&
			strings.Contains(question, string([]rune{a, b})) {
			return true
		}
	}
	return false
}

func marshalNoEscape(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// isWebSearchResult reports whether the tool message at i answers a
// $web_search call.
func isWebSearchResult(msgs []message, i int) bool {
	if msgs[i].Name == "$web_search" {
		return true
	}
	for k := i - 1; k >= 0; k-- {
		for _, tc := range msgs[k].ToolCalls {
			if tc.ID == msgs[i].ToolCallID {
				return tc.Function.Name == "$web_search"
			}
		}
	}
	return false
}

// webSearchTokens sums the search-result tokens the conversation's
// $web_search results add to the prompt, as Kimi counts them.
func webSearchTokens(msgs []message) int {
	n := 0
	for i, m := range msgs {
		if m.Role != "tool" {
			continue
		}
		if p, ok := openWebSearchEnvelope(m.text()); ok {
			// The formula's results, read by the model, count like
			// $web_search's.
			n = satAdd(n, CountTokens(p.text()))
			continue
		}
		if !isWebSearchResult(msgs, i) {
			continue
		}
		var v struct {
			Usage struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		// The figure is the client's: capped before it is added, and the
		// sum saturates, so that no value can wrap the prompt count
		// around below the context window.
		if json.Unmarshal([]byte(m.text()), &v) == nil && v.Usage.TotalTokens > 0 {
			n = satAdd(n, min(v.Usage.TotalTokens, maxTokenFigure))
		}
	}
	return n
}
