package kimi

import "net/http"

// RequestOption changes one call without being part of the request's
// JSON body: extra headers, for now. Every service method that sends a
// request takes options; they are applied in order.
type RequestOption func(*callOptions)

type callOptions struct {
	header http.Header
	// accept is the Accept header used when header sets none: a method
	// whose answer is not JSON says so without overriding the caller.
	accept string
}

// WithHeader adds a header to the call. The client's own headers
// (Authorization, User-Agent, Content-Type) cannot be overridden.
func WithHeader(key, value string) RequestOption {
	return WithHeaders(http.Header{key: {value}})
}

// WithHeaders adds every header of h to the call, for example
// CacheHeaders(ref).
func WithHeaders(h http.Header) RequestOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		for k, vs := range h {
			for _, v := range vs {
				o.header.Add(k, v)
			}
		}
	}
}

// acceptByDefault sets the Accept header of a call whose options set
// none.
func acceptByDefault(v string) RequestOption {
	return func(o *callOptions) { o.accept = v }
}

// applyOptions runs opts in order; nil options are skipped.
func applyOptions(opts []RequestOption) callOptions {
	var o callOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}
