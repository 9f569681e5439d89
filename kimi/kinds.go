package kimi

import (
	"context"
	"errors"
	"net"
	"slices"
)

// Error kinds say what went wrong in terms a caller acts on, after the
// Invoke*Error classes of the Python llm_onesdk package plus a few of
// ours. Every error a Client returns, and every error of the helpers that
// read what it returns (BatchResult.Completion, ReadJSONL, Fiber.Result,
// LogprobTokens), matches ErrInvoke and at least one kind with errors.Is,
// whatever its concrete type:
//
//	switch {
//	case errors.Is(err, kimi.ErrRateLimit):   // wait RetryAfter, then retry
//	case errors.Is(err, kimi.ErrQuota):       // recharge: waiting does not help
//	case errors.Is(err, kimi.ErrBadRequest):  // fix the request
//	}
//
// The kinds of an error are decided once, when the error is made (for an
// API error: when the response is parsed, by Error.Kinds); Kinds lists
// them. A kind can imply another, as the Python classes' hierarchy does:
// ErrNotFound is also ErrBadRequest, and ErrTimeout comes with
// ErrConnection (no answer in time) or ErrServerUnavailable (the server
// or its gateway gave up). ErrQuota (no balance, account suspended) is
// deliberately not ErrRateLimit.
//
// The kinds' texts are short phrases ("rate limit exceeded") that a
// command-line tool can print as they are.
var (
	ErrInvoke            error = &kindError{msg: "invoke error"}
	ErrConnection        error = &kindError{msg: "connection failed"}
	ErrServerUnavailable error = &kindError{msg: "server unavailable"}
	ErrRateLimit         error = &kindError{msg: "rate limited"}
	ErrAuthorization     error = &kindError{msg: "authentication failed"}
	ErrBadRequest        error = &kindError{msg: "bad request"}
	ErrTimeout           error = &kindError{msg: "timed out"}
	ErrNotFound          error = &kindError{msg: "not found"}
	ErrQuota             error = &kindError{msg: "quota exceeded"}
	ErrConfig            error = &kindError{msg: "configuration error"}
	ErrUnsupported       error = &kindError{msg: "not supported"}
)

// kindError is a sentinel error with kinds of its own: the kinds above
// (whose only implied kind is ErrInvoke) and sentinels such as
// ErrStreamIncomplete, which is an ErrConnection.
type kindError struct {
	msg   string
	kinds []error
}

func (e *kindError) Error() string { return e.msg }

func (e *kindError) Is(target error) bool { return hasKind(e.kinds, target) }

func (e *kindError) errorKinds() []error {
	if len(e.kinds) == 0 {
		// A bare kind, such as ErrConfig wrapped with fmt.Errorf.
		return []error{e}
	}
	return e.kinds
}

// sentinel returns a sentinel error of the given kinds.
func sentinel(msg string, kinds ...error) error { return &kindError{msg: msg, kinds: kinds} }

// kinded is implemented by every error type of this package.
type kinded interface{ errorKinds() []error }

// isKind is the Is of an error of this package. Only a kind can match,
// so any other target (errors.Is walks every error of a chain with every
// target) costs no look at the error's kinds.
func isKind(k kinded, target error) bool {
	if _, ok := target.(*kindError); !ok {
		return false
	}
	return hasKind(k.errorKinds(), target)
}

func hasKind(kinds []error, target error) bool {
	return target == ErrInvoke || slices.Contains(kinds, target)
}

// Kinds returns the kinds of err, most specific first: ErrRateLimit for a
// 429, ErrNotFound then ErrBadRequest for a 404, and so on (ErrInvoke,
// which every error of this package matches, is not listed). It reads the
// kinds an error of this package was made with, and classifies the
// standard errors a caller may meet around a call (context cancellation
// and deadlines, network timeouts). It returns nil for nil and for errors
// it knows nothing about.
func Kinds(err error) []error {
	if err == nil {
		return nil
	}
	// Context and timeout errors first: a stream cut by a deadline is a
	// timeout even though it is also an incomplete stream.
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return []error{ErrTimeout, ErrConnection}
	case errors.Is(err, context.Canceled):
		return []error{ErrConnection}
	}
	var k kinded
	if errors.As(err, &k) {
		return k.errorKinds()
	}
	return externalKinds(err)
}

// Kind returns the most specific kind of err (the first of Kinds), or nil.
func Kind(err error) error {
	if ks := Kinds(err); len(ks) > 0 {
		return ks[0]
	}
	return nil
}

// externalKinds classifies errors that do not come from this package.
func externalKinds(err error) []error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return []error{ErrTimeout, ErrConnection}
	case errors.Is(err, context.Canceled):
		return []error{ErrConnection}
	}
	return nil
}

// Kinds returns the kinds of an API error, most specific first. It is the
// one place where a status, a Kimi error type or an Ace Data Cloud error
// code is mapped to a kind.
func (e *Error) Kinds() []error {
	if e.Unsupported != "" {
		return []error{ErrUnsupported, ErrNotFound}
	}
	// A 5xx is the server's trouble whatever type it carries.
	switch s := e.StatusCode; {
	case s == 504:
		return []error{ErrTimeout, ErrServerUnavailable}
	case s >= 500:
		return []error{ErrServerUnavailable}
	}
	switch e.Type {
	case ErrTypeExceededCurrentQuota:
		return []error{ErrQuota}
	case ErrTypeRateLimitReached:
		return []error{ErrRateLimit}
	case ErrTypeEngineOverloaded:
		return []error{ErrRateLimit, ErrServerUnavailable}
	case ErrTypeInvalidAuthentication, ErrTypeIncorrectAPIKey, ErrTypePermissionDenied:
		return []error{ErrAuthorization}
	}
	// Ace Data Cloud's error codes, which its envelope carries instead of
	// a type.
	switch e.Code {
	case "used_up":
		return []error{ErrQuota}
	case "no_token", "invalid_token", "token_expired", "token_mismatched", "disabled":
		return []error{ErrAuthorization}
	case "too_many_requests":
		return []error{ErrRateLimit}
	// A batch line the batch did not run in its completion window (the
	// code of OpenAI's batch shape): sent again, it may run.
	case "batch_expired":
		return []error{ErrTimeout, ErrServerUnavailable}
	}
	switch s := e.StatusCode; {
	case s == 401 || s == 403:
		return []error{ErrAuthorization}
	case s == 404:
		return []error{ErrNotFound, ErrBadRequest}
	case s == 408:
		return []error{ErrTimeout, ErrServerUnavailable}
	case s == 429:
		return []error{ErrRateLimit}
	case s >= 400:
		return []error{ErrBadRequest}
	case s == 0:
		// No status: a batch line the batch refused on its own terms
		// (batch_expired aside), which sending it again does not change.
		return []error{ErrBadRequest}
	}
	// A 2xx that carried an error object (in a stream, say): the server
	// failed mid-way.
	return []error{ErrServerUnavailable}
}

func (e *Error) errorKinds() []error { return e.Kinds() }

// Is reports whether target is one of the error's kinds (or ErrInvoke).
func (e *Error) Is(target error) bool { return isKind(e, target) }

func (e *ValidationError) errorKinds() []error { return []error{ErrBadRequest} }

// Is reports whether target is ErrBadRequest or ErrInvoke.
func (e *ValidationError) Is(target error) bool { return isKind(e, target) }

// A cache the server refused to build: asking again does not help.
func (e *CacheError) errorKinds() []error { return []error{ErrBadRequest} }

// Is reports whether target is ErrBadRequest or ErrInvoke.
func (e *CacheError) Is(target error) bool { return isKind(e, target) }

// A file Kimi could not extract: sending it again does not help.
func (e *FileError) errorKinds() []error { return []error{ErrBadRequest} }

// Is reports whether target is ErrBadRequest or ErrInvoke.
func (e *FileError) Is(target error) bool { return isKind(e, target) }

func (e *transportError) errorKinds() []error {
	if ks := externalKinds(e.err); ks != nil {
		return ks
	}
	var k kinded
	if errors.As(e.err, &k) {
		return k.errorKinds()
	}
	return []error{ErrConnection}
}

// Is reports whether target is one of the error's kinds (ErrConnection,
// ErrTimeout) or ErrInvoke.
func (e *transportError) Is(target error) bool { return isKind(e, target) }

// kindsError gives err fixed kinds; it unwraps to err.
type kindsError struct {
	err   error
	kinds []error
}

func (e *kindsError) Error() string        { return e.err.Error() }
func (e *kindsError) Unwrap() error        { return e.err }
func (e *kindsError) errorKinds() []error  { return e.kinds }
func (e *kindsError) Is(target error) bool { return hasKind(e.kinds, target) }

// WithKind returns an error that reads as err and matches kinds (and
// ErrInvoke) with errors.Is and Kinds; errors.Is and As also reach err.
// It is for layers above the client (a facade, a runner) whose own errors
// should answer to the same kinds.
func WithKind(err error, kinds ...error) error {
	if err == nil {
		return nil
	}
	return &kindsError{err: err, kinds: kinds}
}

// configError marks err as an ErrConfig: a Config or SetProxy argument
// that cannot work.
func configError(err error) error { return &kindsError{err: err, kinds: []error{ErrConfig}} }

// interrupted wraps an error that ended a wait or a read in the middle of
// a call (a context's end, a cut connection) so that it carries the
// connection kinds.
func interrupted(err error) error {
	if err == nil {
		return nil
	}
	return &transportError{err: err}
}
