package onesdk

import "github.com/onesdk-go/onesdk/kimi"

// Error kinds, the Go form of llm_onesdk's Invoke*Error classes. They are
// package kimi's kinds (the same values), decided once where an error is
// made: every error of this package and of package kimi matches ErrInvoke
// and one or more of them with errors.Is. See kimi.ErrInvoke for what
// each kind implies.
var (
	ErrInvoke            = kimi.ErrInvoke
	ErrConnection        = kimi.ErrConnection
	ErrServerUnavailable = kimi.ErrServerUnavailable
	ErrRateLimit         = kimi.ErrRateLimit
	ErrAuthorization     = kimi.ErrAuthorization
	ErrBadRequest        = kimi.ErrBadRequest
	ErrTimeout           = kimi.ErrTimeout
	ErrNotFound          = kimi.ErrNotFound
	ErrQuota             = kimi.ErrQuota
	ErrConfig            = kimi.ErrConfig
	ErrUnsupported       = kimi.ErrUnsupported
)

type (
	// APIError is an error response of the API: StatusCode, Kimi's error
	// Type, Message, RequestID, the server's RetryAfter hint, Attempts.
	APIError = kimi.Error
	// ValidationError is a request refused before it was sent: Field,
	// Value and Limit say what is wrong.
	ValidationError = kimi.ValidationError
)

// Kinds returns the kinds of err, most specific first (ErrNotFound, then
// ErrBadRequest, for a 404), or nil for an error that is not this
// package's or kimi's.
func Kinds(err error) []error { return kimi.Kinds(err) }

// Kind returns the most specific kind of err, or nil.
func Kind(err error) error { return kimi.Kind(err) }
