package kimi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// TokenizerService is POST /tokenizers/estimate-token-count: the server's
// count of a prompt's tokens, free of charge. (The tokencount package
// counts locally; kimi does not import it, so that programs using only the
// API client do not embed a tokenizer vocabulary.)
type TokenizerService struct{ c *Client }

// Estimate returns the number of tokens messages take as the prompt of
// model, as the server counts them (data.total_tokens). Tools are not
// counted: the endpoint takes only model and messages. The answer may
// carry the gateway's code/scode/status fields; a 200 answer with an
// "error" field or a non-zero code is returned as an *Error.
func (s *TokenizerService) Estimate(ctx context.Context, model string, messages []Message, opts ...RequestOption) (int, error) {
	if model == "" {
		return 0, invalid("model", model, "must not be empty")
	}
	if len(messages) == 0 {
		return 0, invalid("messages", nil, "must not be empty")
	}
	body := struct {
		Model    string    `json:"model"`
		Messages []Message `json:"messages"`
	}{model, messages}
	req, err := s.c.newRequest(ctx, http.MethodPost, "tokenizers/estimate-token-count", body, opts)
	if err != nil {
		return 0, err
	}
	var raw json.RawMessage
	resp, err := s.c.do(req, &raw)
	if err != nil {
		return 0, err
	}
	var out struct {
		Data *struct {
			TotalTokens *json.Number `json:"total_tokens"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return 0, fmt.Errorf("%w: decode %s response: %w", ErrBadResponse, req.URL.Path, err)
	}
	if e := envelopeError(resp, raw, s.c.key.v); e != nil {
		return 0, e
	}
	if out.Data == nil || out.Data.TotalTokens == nil {
		return 0, fmt.Errorf("%w: %s response has no data.total_tokens (request %s)", ErrBadResponse, req.URL.Path, requestID(resp.Header))
	}
	n, err := out.Data.TotalTokens.Int64()
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s response: total_tokens %s is not a count", ErrBadResponse, req.URL.Path, *out.Data.TotalTokens)
	}
	return int(n), nil
}

// envelopeError reports a failure inside a 2xx body: an "error" field
// (Kimi's docs: "if there is no error field, take data"), or the gateway
// envelope's non-zero code or status false. It returns nil for a success
// body, with or without those siblings.
func envelopeError(resp *http.Response, body []byte, key string) *Error {
	var env struct {
		Error  json.RawMessage `json:"error"`
		Code   json.RawMessage `json:"code"`
		Status *bool           `json:"status"`
	}
	if json.Unmarshal(body, &env) != nil {
		return nil
	}
	errVal := bytes.TrimSpace(env.Error)
	code := scalarString(env.Code)
	failed := len(errVal) > 0 && string(errVal) != "null" && string(errVal) != `""` ||
		code != "" && code != "0" || env.Status != nil && !*env.Status
	if !failed {
		return nil
	}
	e := parseError(resp, body, key)
	if e.Code == "" {
		e.Code = code
	}
	return e
}
