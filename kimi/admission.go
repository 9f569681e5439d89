package kimi

import (
	"context"
	"net/http"
)

// Admitter holds chat requests to an account's rate limits before they
// are sent (package quota's Limiter, through quota.Admitter, is one):
// Chat.Create and Chat.Stream ask it before every attempt, retries
// included, since each one counts against the limits. Config.Admitter.
type Admitter interface {
	// Admit waits until req may be sent and returns the function that
	// ends its hold on the limits: called when a response has arrived, or,
	// for a stream, when the stream ends.
	Admit(ctx context.Context, req *ChatRequest) (release func(), err error)
	// Observe sees the outcome of every admitted attempt: the response
	// header (nil without a response) and its error (nil on success), so
	// that the admitter can learn the organization (Msh-Org-Id) and turn
	// a 429 into a wait for everyone.
	Observe(header http.Header, err error)
}

// admission is the Admitter's part in one call, carried by the request's
// context from ChatService.request to send.
type admission struct {
	a   Admitter
	req *ChatRequest
}

type admissionKey struct{}

func withAdmission(ctx context.Context, a Admitter, req *ChatRequest) context.Context {
	if a == nil {
		return ctx
	}
	return context.WithValue(ctx, admissionKey{}, &admission{a: a, req: req})
}

// admit asks the call's Admitter, if any, for one attempt; the returned
// release is never nil.
func admit(ctx context.Context) (release func(), err error) {
	adm, _ := ctx.Value(admissionKey{}).(*admission)
	if adm == nil {
		return func() {}, nil
	}
	release, err = adm.a.Admit(ctx, adm.req)
	if err != nil {
		return func() {}, err
	}
	if release == nil {
		release = func() {}
	}
	return release, nil
}

// observe tells the call's Admitter, if any, how an attempt went.
func observe(ctx context.Context, h http.Header, err error) {
	if adm, _ := ctx.Value(admissionKey{}).(*admission); adm != nil {
		adm.a.Observe(h, err)
	}
}

// slotHolder is a decode target (a stream) that keeps the admission's
// hold until it ends.
type slotHolder interface{ holdSlot(release func()) }
