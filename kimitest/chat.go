package kimitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// maxBodyBytes is the documented request-size cap: 100 MB.
const maxBodyBytes = 100 << 20

// chatRoute is what differs between the routes that serve chat
// completions: the models they offer and their provider's rules.
type chatRoute struct {
	models   map[string]ModelSpec
	provider catalog.ProviderRules
}

// readChatRequest reads and parses a chat-shaped body (chat and
// estimate-token-count) and looks its model up among models: the first
// two steps of chat validation (see handleChat).
func readChatRequest(w http.ResponseWriter, r *http.Request, models map[string]ModelSpec) (*chatRequest, ModelSpec, *apiError) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return nil, ModelSpec{}, aerr
	}
	req, aerr := parseChatRequest(body)
	if aerr != nil {
		return nil, ModelSpec{}, aerr
	}
	// Exact (case-sensitive), like the real API.
	model, ok := models[req.Model]
	if !ok {
		return nil, ModelSpec{}, errModelNotFound(req.Model)
	}
	return req, model, nil
}

// readBody reads a JSON request body whole, up to maxBodyBytes. Read
// errors are the client's (a body cut short, stalled or too large) and
// are worded by the emulator, not by the reader.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	var buf bytes.Buffer
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	// A large body is read into a buffer sized from Content-Length, not
	// through ever-doubling ones; but only once its first MB has arrived,
	// so that a mere header cannot make the emulator allocate 100 MB.
	const eager = 1 << 20
	n := r.ContentLength
	_, err := io.CopyN(&buf, body, eager)
	if err == nil {
		if n > eager && n <= maxBodyBytes {
			// ReadFrom wants MinRead bytes free before the read that
			// sees EOF; with less it would double the buffer at the end.
			buf.Grow(int(n-eager) + bytes.MinRead)
		}
		_, err = buf.ReadFrom(body)
	} else if err == io.EOF {
		err = nil
	}
	if err == nil {
		return buf.Bytes(), nil
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errInvalid("total message size exceeds limit %d", maxBodyBytes)
	case errors.Is(err, errBodyTimeout):
		return nil, errInvalid("cannot read request body: %v", errBodyTimeout)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errInvalid("cannot read request body: it ended before its announced length")
	}
	return nil, errInvalid("cannot read request body")
}

// handleChat serves POST /v1/chat/completions.
func (e *Emulator) handleChat(w http.ResponseWriter, r *http.Request, a *account) {
	e.chat(w, r, a, &e.kimiChat)
}

// chat answers a chat completion request in this order: parse, model,
// parameters, tools and messages, reasoning_content, media, token limits,
// rate limits, balance, scripted rules, generation.
func (e *Emulator) chat(w http.ResponseWriter, r *http.Request, a *account, rt *chatRoute) {
	req, model, aerr := readChatRequest(w, r, rt.models)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	fr := rulesFor(model.Family)
	// An explicit context cache (a role=cache message or the
	// X-Msh-Context-Cache header) expands the request first.
	use, aerr := e.resolveCacheUse(r, req, model, a)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	plan, aerr := checkChat(req, model, a.files, rt.provider.IgnoresFixedSampling)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if use != nil && use.dryRun {
		e.cacheDryRun(w, r, req, a, use)
		return
	}
	release, aerr := e.admitPaid(a, plan.charge)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	defer release()

	rule := e.matchRule(req)
	if rule != nil && rule.Error != nil {
		writeError(w, rule.Error.apiError())
		return
	}

	var cached *int
	if use != nil && use.hit {
		n := use.tokens
		cached = &n
		e.setCacheHeaders(w, use, e.commitCacheUse(a, use))
	} else if fr.AutoCache {
		n := a.cache.lookupAndStore(e.clock.Now(), req.PromptCacheKey, promptPrefixes(req.Model, req.Messages, req.Tools))
		cached = &n
		if n > 0 {
			w.Header().Set("Msh-Context-Cache-Token-Saved", strconv.Itoa(n))
		}
	}

	c := generateCompletion(req, model, plan, rule, cached, e.clock.Now())
	c.finished = release
	e.chargeChat(a, model, plan.charge, c)
	e.writeCompletion(w, r, req, c)
}

// chatPlan is what the checks of a chat request leave for its admission
// and generation.
type chatPlan struct {
	p      params
	prompt int // prompt tokens
	// charge is what admission counts against TPM and TPD and what picks
	// the billing tier: prompt + max_tokens (default 1024), cached tokens
	// included, whatever is generated.
	charge int
}

// checkChat runs the checks every chat request passes, real-time or in a
// batch, in this order: parameters, tools and messages,
// reasoning_content, media, token limits. The default budget never makes
// a request fail: it shrinks to what the window leaves (after charge is
// counted unshrunk).
func checkChat(req *chatRequest, model ModelSpec, files *fileStore, dropFixed bool) (chatPlan, *apiError) {
	p, aerr := checkParams(req, model, dropFixed)
	if aerr == nil {
		aerr = checkTools(req, model)
	}
	if aerr == nil {
		aerr = checkMessages(req.Messages, p.thinking)
	}
	if aerr == nil {
		aerr = checkMedia(req.Messages, model, files)
	}
	if aerr != nil {
		return chatPlan{}, aerr
	}
	window := model.ContextLength
	prompt := promptTokens(req)
	if prompt > window {
		return chatPlan{}, errBadRequest("Input token length too long")
	}
	charge := satAdd(prompt, p.maxTokens)
	if p.explicitMax && charge > window {
		return chatPlan{}, errBadRequest("Your request exceeded model token limit : %d", window)
	}
	if !p.explicitMax {
		p.maxTokens = min(p.maxTokens, window-prompt)
	}
	return chatPlan{p: p, prompt: prompt, charge: charge}, nil
}

// generateCompletion generates the choices of a checked request, created
// at the given time; cached is the usage's cached_tokens (nil: absent).
func generateCompletion(req *chatRequest, model ModelSpec, plan chatPlan, rule *Rule, cached *int, at time.Time) *completion {
	fr := rulesFor(model.Family)
	in := genInput{req: req, model: model, fr: fr, p: plan.p, rule: rule, seed: requestSeed(req, plan.p)}
	choices := make([]choiceResult, plan.p.n)
	for i := range choices {
		choices[i] = generateChoice(in, i, plan.p.maxTokens)
	}
	c := &completion{
		id:      newCompletionID(model.Family),
		created: at.Unix(),
		model:   req.Model,
		prompt:  plan.prompt,
		cached:  cached,
		details: plan.p.thinking,
		// The families after moonshot-v1 number their tool calls.
		indexed: fr.ToolCallIDs != catalog.ToolCallIDPlain,
		choices: choices,
	}
	if plan.p.logprobs {
		c.logprobs = &logprobsSpec{seed: in.seed, top: plan.p.topLogprobs}
	}
	return c
}

// cacheDryRun answers a dry_run cache call (the docs give no body; this
// one is the emulator's invention): no generation, no tokens charged, the
// cache left unchanged.
func (e *Emulator) cacheDryRun(w http.ResponseWriter, r *http.Request, req *chatRequest, a *account, use *cacheUse) {
	release, aerr := e.admit(a, 0)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	defer release()
	n := 0
	if use.hit {
		n = use.tokens
		e.setCacheHeaders(w, use, e.cacheExpiryNow(a, use.id))
	}
	c := &completion{
		id: newCompletionID(""), created: e.clock.Now().Unix(), model: req.Model,
		prompt: n, cached: &n,
		choices: []choiceResult{{FinishReason: "stop"}},
	}
	e.writeCompletion(w, r, req, c)
}

// writeCompletion answers with c: as an event stream when the request
// asked for one, else as one JSON body.
func (e *Emulator) writeCompletion(w http.ResponseWriter, r *http.Request, req *chatRequest, c *completion) {
	if req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		e.stream(r.Context(), w, c, includeUsage)
		return
	}
	writeJSON(w, http.StatusOK, c.response())
}

// newCompletionID is a fresh completion id in the family's style:
// kimi-k3's is "chatcmpl-" and a UUID, the others' "chatcmpl-" and 24 hex
// digits.
func newCompletionID(f Family) string {
	if f == FamilyK3 {
		hi, lo := rand.Uint64(), rand.Uint64()
		hi = hi&^0xf000 | 0x4000     // version 4
		lo = lo&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
		return fmt.Sprintf("chatcmpl-%08x-%04x-%04x-%04x-%012x", hi>>32, hi>>16&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
	}
	return fmt.Sprintf("chatcmpl-%016x%08x", rand.Uint64(), rand.Uint32())
}

// completion is a generated response, rendered as JSON or SSE.
type completion struct {
	id      string
	created int64
	model   string
	prompt  int
	cached  *int // nil for families without automatic caching
	details bool // report completion_tokens_details (thinking requests)
	indexed bool // non-stream tool calls carry "index" (newer models)
	choices []choiceResult
	// logprobs, when asked for, makes each choice carry the log
	// probabilities of its content tokens (logprobs.go).
	logprobs *logprobsSpec
	// finished, when set, frees the request's concurrency slot before a
	// stream's last event: a client that has read [DONE] may send its next
	// request at once, and must find the slot free (the handler's deferred
	// release would come a moment after).
	finished func()
}

type usageJSON struct {
	PromptTokens            int                `json:"prompt_tokens"`
	CompletionTokens        int                `json:"completion_tokens"`
	TotalTokens             int                `json:"total_tokens"`
	CachedTokens            *int               `json:"cached_tokens,omitempty"`
	PromptTokensDetails     *promptDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *completionDetails `json:"completion_tokens_details,omitempty"`
}

type promptDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

type completionDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
}

// usage of the given choices: prompt and cached counts are per request,
// completion counts add up.
func (c *completion) usage(choices ...choiceResult) *usageJSON {
	u := &usageJSON{PromptTokens: c.prompt}
	reasoning := 0
	for _, ch := range choices {
		u.CompletionTokens += ch.CompletionTokens
		reasoning += ch.ReasoningTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if c.cached != nil {
		n := *c.cached
		u.CachedTokens = &n
		u.PromptTokensDetails = &promptDetails{CachedTokens: n}
	}
	if c.details {
		u.CompletionTokensDetails = &completionDetails{ReasoningTokens: reasoning}
	}
	return u
}

type toolCallJSON struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function functionJSON `json:"function"`
}

type functionJSON struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type messageJSON struct {
	Role             string         `json:"role"`
	Content          string         `json:"content"`
	ReasoningContent *string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallJSON `json:"tool_calls,omitempty"`
}

type choiceJSON struct {
	Index        int           `json:"index"`
	Message      messageJSON   `json:"message"`
	Logprobs     *logprobsJSON `json:"logprobs,omitempty"`
	FinishReason string        `json:"finish_reason"`
}

// envelopeJSON opens both the response and every chunk of its stream;
// embedded first, its fields keep their place in the encoded object.
type envelopeJSON struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	Model   string `json:"model"`
}

func (c *completion) envelope(object string) envelopeJSON {
	return envelopeJSON{ID: c.id, Object: object, Created: c.created, Model: c.model}
}

type responseJSON struct {
	envelopeJSON
	Choices []choiceJSON `json:"choices"`
	Usage   *usageJSON   `json:"usage"`
}

func (c *completion) response() responseJSON {
	out := responseJSON{envelopeJSON: c.envelope("chat.completion"), Usage: c.usage(c.choices...)}
	for _, ch := range c.choices {
		m := messageJSON{Role: "assistant", Content: ch.Content}
		if c.details {
			m.ReasoningContent = &ch.Reasoning
		}
		for j, tc := range ch.ToolCalls {
			t := toolCallJSON{ID: tc.ID, Type: "function", Function: functionJSON{Name: tc.Name, Arguments: tc.Arguments}}
			if c.indexed {
				t.Index = &j
			}
			m.ToolCalls = append(m.ToolCalls, t)
		}
		cj := choiceJSON{Index: ch.Index, Message: m, FinishReason: ch.FinishReason}
		if c.logprobs != nil {
			cj.Logprobs = &logprobsJSON{Content: c.logprobs.tokens(ch.Index, tokenize(ch.Content))}
		}
		out.Choices = append(out.Choices, cj)
	}
	return out
}

// SSE chunk shapes (https://platform.moonshot.ai/docs/api/chat).
type deltaJSON struct {
	Role             string         `json:"role,omitempty"`
	Content          *string        `json:"content,omitempty"`
	ReasoningContent *string        `json:"reasoning_content,omitempty"`
	ToolCalls        []toolCallJSON `json:"tool_calls,omitempty"`
}

type chunkChoiceJSON struct {
	Index        int           `json:"index"`
	Delta        deltaJSON     `json:"delta"`
	Logprobs     *logprobsJSON `json:"logprobs,omitempty"`
	FinishReason *string       `json:"finish_reason"`
	Usage        *usageJSON    `json:"usage,omitempty"`
}

type chunkJSON struct {
	envelopeJSON
	Choices []chunkChoiceJSON `json:"choices"`
	Usage   *usageJSON        `json:"usage,omitempty"`
}

// piecesPerDelta is how many token pieces one content delta carries: a
// few characters, like the real service.
const piecesPerDelta = 2

// groups joins token pieces into delta-sized strings.
func groups(text string, per int) []string {
	pieces := tokenize(text)
	var out []string
	for i := 0; i < len(pieces); i += per {
		out = append(out, strings.Join(pieces[i:min(i+per, len(pieces))], ""))
	}
	return out
}

// choiceEvents lists the chunk payloads of one choice, in order.
func (c *completion) choiceEvents(ch choiceResult) []chunkChoiceJSON {
	str := func(s string) *string { return &s }
	ev := []chunkChoiceJSON{{Index: ch.Index, Delta: deltaJSON{Role: "assistant", Content: str("")}}}
	for _, g := range groups(ch.Reasoning, piecesPerDelta) {
		ev = append(ev, chunkChoiceJSON{Index: ch.Index, Delta: deltaJSON{ReasoningContent: str(g)}})
	}
	if c.logprobs == nil {
		for _, g := range groups(ch.Content, piecesPerDelta) {
			ev = append(ev, chunkChoiceJSON{Index: ch.Index, Delta: deltaJSON{Content: str(g)}})
		}
	} else {
		// Each content delta carries the log probabilities of its own
		// tokens, the same as the whole reply's.
		pieces := tokenize(ch.Content)
		all := c.logprobs.tokens(ch.Index, pieces)
		for i := 0; i < len(pieces); i += piecesPerDelta {
			j := min(i+piecesPerDelta, len(pieces))
			ev = append(ev, chunkChoiceJSON{Index: ch.Index, Delta: deltaJSON{Content: str(strings.Join(pieces[i:j], ""))},
				Logprobs: &logprobsJSON{Content: all[i:j]}})
		}
	}
	for j, tc := range ch.ToolCalls {
		ev = append(ev, chunkChoiceJSON{Index: ch.Index, Delta: deltaJSON{ToolCalls: []toolCallJSON{{
			Index: &j, ID: tc.ID, Type: "function", Function: functionJSON{Name: tc.Name, Arguments: ""},
		}}}})
		for _, g := range groups(tc.Arguments, 3) {
			ev = append(ev, chunkChoiceJSON{Index: ch.Index, Delta: deltaJSON{ToolCalls: []toolCallJSON{{
				Index: &j, Function: functionJSON{Arguments: g},
			}}}})
		}
	}
	return append(ev, chunkChoiceJSON{Index: ch.Index, FinishReason: str(ch.FinishReason), Usage: c.usage(ch)})
}

// stream writes c as SSE. Choices interleave round-robin by index. It
// stops as soon as the client goes away.
func (e *Emulator) stream(ctx context.Context, w http.ResponseWriter, c *completion, includeUsage bool) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	perChoice := make([][]chunkChoiceJSON, len(c.choices))
	longest := 0
	for i, ch := range c.choices {
		perChoice[i] = c.choiceEvents(ch)
		longest = max(longest, len(perChoice[i]))
	}
	delay := e.cfg.streamDelay
	first := true
	send := func(payload []byte) bool {
		if !first && delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-t.C:
			}
		}
		first = false
		if ctx.Err() != nil {
			return false
		}
		var buf bytes.Buffer
		buf.WriteString("data: ")
		buf.Write(payload)
		buf.WriteString("\n\n")
		if _, err := w.Write(buf.Bytes()); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	chunk := func(choices []chunkChoiceJSON, usage *usageJSON) []byte {
		return []byte(marshalNoEscape(chunkJSON{envelopeJSON: c.envelope("chat.completion.chunk"), Choices: choices, Usage: usage}))
	}
	for step := 0; step < longest; step++ {
		for i := range perChoice {
			if step < len(perChoice[i]) && !send(chunk(perChoice[i][step:step+1], nil)) {
				return
			}
		}
	}
	if includeUsage && !send(chunk([]chunkChoiceJSON{}, c.usage(c.choices...))) {
		return
	}
	if c.finished != nil {
		c.finished()
	}
	send([]byte("[DONE]"))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called on values decoded from JSON
	}
	return b
}
