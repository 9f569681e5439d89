package kimitest

import (
	"fmt"
	"net/http"
	"strings"
)

// Assumed error texts. Every error below answers a case Kimi refuses (or
// is taken to refuse) without any public source giving its exact words,
// so the wording is the emulator's own, in the style of the platform's
// captured texts next to it. They are ASSUMPTIONS: a client must not
// match them, and a capture of the real text should replace the guess
// here. The status and type of each are likelier than its words.
//
// The "Invalid request: {details}" texts elsewhere in the package are not
// listed: Kimi documents that form with free details, which are the
// emulator's by design.

// errFixedParam refuses another value of a fixed sampling parameter.
// Captured for temperature ("invalid temperature: only 1 is allowed for
// this model") and reported for n; top_p and the penalties are assumed
// to follow the same pattern.
func errFixedParam(name, value string) *apiError {
	return errBadRequest("invalid %s: only %s is allowed for this model", name, value)
}

// errBadEffort refuses a reasoning_effort the model does not take.
// Assumed, after the fixed-parameter texts.
func errBadEffort(efforts []string) *apiError {
	return errBadRequest("invalid reasoning_effort: only %s is allowed for this model", orList(efforts))
}

// orList joins values as "a, b or c".
func orList(vs []string) string {
	if len(vs) < 2 {
		return strings.Join(vs, "")
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// The thinking object's refusals (its schema has additionalProperties
// false; keep is per family). Assumed, after the captured "invalid
// thinking: only type=enabled is allowed for this model".
var (
	// thinking.keep sent to a model without Preserved Thinking (kimi-k2.5).
	errKeepRefused = errBadRequest("invalid thinking: keep is not supported for this model")
	// thinking.keep other than "all" or null (kimi-k2.6).
	errKeepOptional = errBadRequest(`invalid thinking: only keep=all or keep=null is allowed for this model`)
	// thinking.keep other than "all" where it is always "all" (kimi-k2.7).
	errKeepAlways = errBadRequest("invalid thinking: only keep=all is allowed for this model")
)

// errThinkingField refuses a field of the thinking object other than type
// and keep.
func errThinkingField(name string) *apiError {
	if len(name) > maxQuotedMIME {
		name = name[:maxQuotedMIME] + "…" // a key may be megabytes long
	}
	return errInvalid("thinking: unknown field %q, only type and keep are allowed", name)
}

// logprobs: the [0, 20] range of top_logprobs is OpenAI's (no Kimi source
// gives one), and so is the rule that it needs logprobs.
func errTopLogprobsRange(n int) *apiError {
	return errInvalid("top_logprobs must be in [0, %d], got %d", maxTopLogprobs, n)
}

var errTopLogprobsAlone = errInvalid("top_logprobs requires logprobs to be true")

// errMediaInput refuses an image or video part sent to a model without
// that input (kind is "image" or "video"). Assumed, after "model {id}
// does not support tools".
func errMediaInput(model, kind string) *apiError {
	return errInvalid("model %s does not support %s input", model, kind)
}

// errMediaURL refuses an image or video URL that is neither a data URL
// nor an ms:// file reference: Moonshot does not fetch http(s) media. The
// captured text is cut after "unsupported image url"; the rest is
// assumed, and so is the video variant.
func errMediaURL(kind string) *apiError {
	return errBadRequest("unsupported %s url: only base64 data urls (data:%s/<format>;base64,...) and ms://<file_id> references are supported", kind, kind)
}

// errMediaFormat refuses a media type Kimi does not take. The image text
// is reported from the live API; the video one is assumed to match. The
// upload of an image or video file in another format is assumed to get
// the same text.
func errMediaFormat(kind, mime string) *apiError {
	return errInvalid("unsupported %s format: %s", kind, mime)
}

// errMediaFile refuses an ms:// reference to no file of the account
// (another account's files are not its own). Assumed, after the files
// endpoint's 404, as the 400 of a bad request.
func errMediaFile(id string) *apiError {
	return errInvalid("not found the file %s or Permission denied", id)
}

// errMediaPurpose refuses an ms:// reference to a file uploaded for
// another purpose.
func errMediaPurpose(id, purpose, kind string) *apiError {
	return errInvalid("file %s has purpose %s, a %s_url needs a file uploaded with purpose %s", id, purpose, kind, kind)
}

// errCacheNotFound and errTagNotFound answer an unknown context cache or
// tag: the docs give the 404 but not its message, which follows the
// model's "Not found the model {id} or Permission denied".
func errCacheNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error",
		Message: "Not found the context cache " + id + " or Permission denied"}
}

func errTagNotFound(tag string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error",
		Message: "Not found the context cache tag " + tag + " or Permission denied"}
}

// Batch API texts (batches.go). The docs give the envelope but no
// message except "task status does not allow cancellation" (documented);
// the rest are assumed.

func errBatchFieldRequired(field string) *apiError { return errInvalid("%s is required", field) }

func errBatchEndpoint(got string) *apiError {
	return errInvalid("endpoint must be %s, got %s", batchEndpoint, got)
}

func errBatchWindow(got string) *apiError {
	return errInvalid("completion_window must be a number of hours or days (like 12h, 1d, 3d), at least 12h and at most 7d, got %s", got)
}

func errBatchMetadata(format string, args ...any) *apiError { return errInvalid(format, args...) }

func errBatchNotFound(id string) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error",
		Message: "Not found the batch " + id + " or Permission denied"}
}

func errBatchLimit(got string) *apiError {
	return errInvalid("limit must be an integer between 1 and 100, got %s", got)
}

func errTooManyBatches(n int) *apiError {
	return errInvalid("too many batches: an organization keeps at most %d, none of them finished", n)
}

// errTooManyBatchFiles refuses an upload of purpose batch past the
// per-organization quota (documented as a number, not as a message).
func errTooManyBatchFiles(max int) *apiError {
	return errBadRequest("The number of batch files you have uploaded exceeded the max batch file count %d, please delete previous uploaded batch files", max)
}

// errBatchNotCancellable is documented.
var errBatchNotCancellable = errBadRequest("task status does not allow cancellation")

// Validation failures, reported in a failed batch's error file.
func errBatchInput(format string, args ...any) *apiError { return errInvalid(format, args...) }

func errBatchLine(no int, format string, args ...any) *apiError {
	return errInvalid("line %d: %s", no, fmt.Sprintf(format, args...))
}

func errBatchInputGone(id string) *apiError {
	return errInvalid("input file %s is no longer available", id)
}

// errBatchRequestExpired is OpenAI's code and text for a request not run
// within the completion window.
var errBatchRequestExpired = &apiError{Status: http.StatusBadRequest, Type: "batch_expired",
	Message: "This request could not be executed before the completion window expired."}

// Formula API texts (formulas.go, formula_tools.go). Only the 404 is
// captured ("formula not found"); the body errors, the failed-fiber
// details and the tools' own messages are assumed. "no matching lambda
// found" is reported for a bare excel function name, not shown in a
// body; it is assumed to be the fiber's top-level error, for every name
// that is not a function of the formula.
var (
	errFormulaNotFound = &apiError{Status: http.StatusNotFound, Type: "resource_not_found_error", Message: "formula not found"}

	errFiberBody         = errInvalid("the body must be a JSON object with string fields name and arguments")
	errFiberBodyTooLarge = errInvalid("the body exceeds %d bytes", maxFiberBody)
)

func errFiberField(field, problem string) *apiError { return errInvalid("%s %s", field, problem) }

const (
	fiberNoLambda      = "no matching lambda found"
	fiberArgsNotObject = "invalid arguments: arguments must be a JSON object encoded as a string"
)

func fiberArgMissing(name string) string {
	return "invalid arguments: missing required parameter " + quoteParam(name)
}

func fiberArgType(name, typ string) string {
	return "invalid arguments: parameter " + quoteParam(name) + " must be of type " + typ
}

func fiberArgEnum(name string, enum []string) string {
	return "invalid arguments: parameter " + quoteParam(name) + " must be one of " + orList(enum)
}

func fiberArgItems(name, typ string, enum []string) string {
	if len(enum) > 0 {
		return "invalid arguments: items of parameter " + quoteParam(name) + " must be one of " + orList(enum)
	}
	return "invalid arguments: items of parameter " + quoteParam(name) + " must be of type " + typ
}

// quoteParam quotes a parameter name, cut short: a name may be megabytes.
func quoteParam(name string) string {
	if len(name) > 64 {
		name = truncUTF8(name, 64) + "…"
	}
	return fmt.Sprintf("%q", name)
}
