package quota

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/tokencount"
)

// Admitter returns l as a kimi.Config.Admitter: every chat request (each
// attempt of it) is charged ChatCharge before it is sent, a stream holds
// its concurrency slot until it ends, the organization (unless
// Config.Org names it) is learned from the Msh-Org-Id header of the first
// response, and a 429
// rate_limit_reached_error becomes a Cooldown for every user of the
// store, for the wait its message names (DefaultCooldown when it names
// none, as the TPM and TPD refusals do).
func (l *Limiter) Admitter() kimi.Admitter { return admitter{l} }

type admitter struct{ l *Limiter }

func (a admitter) Admit(ctx context.Context, req *kimi.ChatRequest) (func(), error) {
	p, err := a.l.Acquire(ctx, ChatCharge(req))
	switch {
	case err == nil:
		return p.Release, nil
	case errors.Is(err, ErrTooLarge):
		return nil, kimi.WithKind(err, kimi.ErrBadRequest)
	case errors.Is(err, ErrUnavailable):
		return nil, kimi.WithKind(err, kimi.ErrConnection)
	}
	return nil, err // the context's
}

func (a admitter) Observe(h http.Header, err error) {
	if org := h.Get("Msh-Org-Id"); org != "" && a.l.cfg.Org == "" && org != a.l.Org() {
		a.l.SetOrg(org) // learned: a configured Org stays as given
	}
	var e *kimi.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusTooManyRequests && e.Type == kimi.ErrTypeRateLimitReached {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.l.Cooldown(ctx, e.RetryAfter)
	}
}

// ChatCharge is what Kimi charges a chat request against TPM and TPD at
// admission: its prompt, as the offline estimator counts it
// (tokencount.Chat), plus its answer budget: max_completion_tokens, else
// max_tokens, else the default the server reserves.
func ChatCharge(req *kimi.ChatRequest) int {
	budget := 0
	switch {
	case req.MaxCompletionTokens != nil:
		budget = *req.MaxCompletionTokens
	case req.MaxTokens != nil:
		budget = *req.MaxTokens
	}
	return tokencount.Charge(tokencount.Chat(req.Messages, req.Tools), budget)
}
