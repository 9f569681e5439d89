package kimi

import (
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
// "error" field, a non-zero code or status false is returned as an
// *Error (see Error).
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
	var out struct {
		Data *struct {
			TotalTokens *json.Number `json:"total_tokens"`
		} `json:"data"`
	}
	resp, err := s.c.do(req, &out)
	if err != nil {
		return 0, err
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
