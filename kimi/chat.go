package kimi

import (
	"context"
	"net/http"
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
	if err := req.validate(!s.c.skipModelChecks); err != nil {
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
	return s.c.requestWith(ctx, http.MethodPost, "chat/completions", &body, o)
}
