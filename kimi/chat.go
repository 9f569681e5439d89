package kimi

import (
	"context"
	"maps"
	"net/http"
	"slices"

	"github.com/onesdk-go/onesdk/catalog"
)

// Create sends a non-streaming chat completion. The request is validated
// first (see ChatRequest.Validate) and is not modified: Stream is forced
// off and StreamOptions dropped on a copy. opts add per-call headers
// (WithHeader, WithHeaders(CacheHeaders(ref))); cache headers are checked
// too, and must not meet a cache message. The response is decoded
// leniently: unknown fields are kept in the Extra maps, and the response
// header is in ChatCompletion.Header.
func (s *ChatService) Create(ctx context.Context, req *ChatRequest, opts ...RequestOption) (*ChatCompletion, error) {
	hreq, err := s.request(ctx, req, false, opts)
	if err != nil {
		return nil, err
	}
	cc := new(ChatCompletion)
	resp, err := s.c.do(hreq, cc)
	if err != nil {
		return nil, err
	}
	cc.Header = resp.Header
	return cc, nil
}

// request validates req and the call's cache headers, then builds the
// POST of a copy of req with Stream set to stream (and StreamOptions
// dropped when it is off). Headers come only from options, so this is the
// one place they are checked.
func (s *ChatService) request(ctx context.Context, req *ChatRequest, stream bool, opts []RequestOption) (*http.Request, error) {
	if req == nil {
		return nil, invalid("request", nil, "must not be nil")
	}
	mr := s.c.rulesFor(ctx, req.Model)
	if err := req.validate(mr); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	if len(o.header) > 0 {
		if err := validateCacheHeaders(o.header, usesCacheMessage(req.Messages)); err != nil {
			return nil, err
		}
	}
	body := *req
	body.Stream = stream
	if !stream {
		body.StreamOptions = nil
	}
	s.c.budgetField(&body)
	body.Messages = withReasoning(body.Messages, mr, body.Thinking)
	return s.c.requestWith(withAdmission(ctx, s.c.admitter, &body), http.MethodPost, "chat/completions", &body, o)
}

// budgetField moves the answer budget into the field the provider takes:
// on Moonshot max_completion_tokens, which its 2026 API prefers to the
// deprecated max_tokens; on Ace Data Cloud max_tokens, the only one it
// documents. A request that sets both is sent as it is.
func (c *Client) budgetField(r *ChatRequest) {
	switch {
	case r.MaxTokens != nil && r.MaxCompletionTokens != nil:
	case c.provider.MaxTokensField == "max_completion_tokens" && r.MaxTokens != nil:
		r.MaxCompletionTokens, r.MaxTokens = r.MaxTokens, nil
	case c.provider.MaxTokensField == "max_tokens" && r.MaxCompletionTokens != nil:
		r.MaxTokens, r.MaxCompletionTokens = r.MaxCompletionTokens, nil
	}
}

// withReasoning sends an empty reasoning_content as "" (an Extra field
// of a copy of the turn) on the assistant turns whose reasoning the server
// needs back, rather than leave it out, which the server refuses as
// missing: with thinking on, every turn that made tool calls; with
// thinking.keep "all" (asked for, or always, as on kimi-k2.7), every
// assistant turn. msgs is copied only when a turn changes.
func withReasoning(msgs []Message, mr modelRules, t *Thinking) []Message {
	if !mr.thinks(t) {
		return msgs
	}
	all := mr.rules.Keep == catalog.KeepAlways || t != nil && t.Keep == "all"
	var out []Message
	for i, m := range msgs {
		if m.Role != RoleAssistant || m.ReasoningContent != "" || !all && len(m.ToolCalls) == 0 {
			continue
		}
		if out == nil {
			out = slices.Clone(msgs)
		}
		extra := make(map[string]any, len(m.Extra)+1)
		maps.Copy(extra, m.Extra)
		extra["reasoning_content"] = ""
		out[i].Extra = extra
	}
	if out == nil {
		return msgs
	}
	return out
}
