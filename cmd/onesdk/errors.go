package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onesdk-go/onesdk"
	"github.com/onesdk-go/onesdk/kimi"
)

// Exit codes; keep doc.go and rootLong in step.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitAuth        = 3
	exitRateLimit   = 4
	exitUnavailable = 5
	exitBadRequest  = 6
	exitInterrupted = 130
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func asUsage(err error) error {
	var ue usageError
	if errors.As(err, &ue) {
		return err
	}
	return usageError{err}
}

// noKeyError is a missing API key, reported like a rejected one (exit 3).
type noKeyError struct{ env string }

func (e noKeyError) Error() string {
	return "no API key: set " + e.env + " (or pass --api-key), or try --offline to use a built-in emulator"
}

// invalidValue returns the client-side validation error in err: a request
// the kimi client refused before sending it, because of a value that came
// from the command line (e.g. --temperature 3). It is a usage error.
func invalidValue(err error) *kimi.ValidationError {
	var ve *kimi.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}

// flagOf names the chat flag that sets a request field, or "".
func flagOf(field string) string {
	switch field {
	case "model":
		return "--model"
	case "temperature":
		return "--temperature"
	case "max_tokens", "max_completion_tokens":
		return "--max-tokens"
	case "thinking", "thinking.type", "thinking.keep":
		return "--thinking"
	}
	return ""
}

// kindExit is the exit code of each error kind. An error's most specific
// kind (kimi.Kind) picks the row, so a 429 engine_overloaded_error (a
// rate limit first) exits 4 and a 503 one (the server's trouble) 5. The
// message printed for an error starts with its kind's own text ("rate
// limited", "authentication failed").
var kindExit = map[error]int{
	onesdk.ErrAuthorization:     exitAuth,
	onesdk.ErrRateLimit:         exitRateLimit,
	onesdk.ErrQuota:             exitRateLimit,
	onesdk.ErrTimeout:           exitUnavailable,
	onesdk.ErrServerUnavailable: exitUnavailable,
	onesdk.ErrConnection:        exitUnavailable,
	onesdk.ErrNotFound:          exitBadRequest,
	onesdk.ErrBadRequest:        exitBadRequest,
	// A bad --proxy and the like, or a feature the chosen --provider
	// lacks: the command line is at fault.
	onesdk.ErrConfig:      exitUsage,
	onesdk.ErrUnsupported: exitUsage,
}

// exitCode maps an error to the documented exit codes.
func exitCode(err error) int {
	var ue usageError
	var nk noKeyError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), invalidValue(err) != nil:
		return exitUsage
	case errors.As(err, &nk):
		return exitAuth
	}
	if code, ok := kindExit[onesdk.Kind(err)]; ok {
		return code
	}
	return exitError
}

// describe renders err as the one line printed on stderr, e.g.
//
//	onesdk: authentication failed (401 invalid_authentication_error): Invalid Authentication — check MOONSHOT_API_KEY
func (a *app) describe(err error) string {
	if ve := invalidValue(err); ve != nil {
		// "invalid temperature 3: must be within [0, 1]": field, value
		// and limit, without the package prefix.
		s := "onesdk: " + oneLine(trimPrefixes(ve.Error()))
		if f := flagOf(ve.Field); f != "" {
			s += " — check " + f
		}
		return s
	}
	kind := onesdk.Kind(err)
	if kind == nil {
		return "onesdk: " + oneLine(trimPrefixes(err.Error()))
	}
	var b strings.Builder
	b.WriteString("onesdk: ")
	b.WriteString(kind.Error())
	var ae *onesdk.APIError
	if errors.As(err, &ae) {
		b.WriteString(" (" + ae.StatusType() + ")")
		if ae.Message != "" {
			b.WriteString(": " + oneLine(ae.Message))
		}
		if ae.RequestID != "" {
			b.WriteString(" [request " + ae.RequestID + "]")
		}
	} else {
		msg := oneLine(trimPrefixes(err.Error()))
		if kind == onesdk.ErrConfig {
			msg = configFlags.Replace(msg)
		}
		b.WriteString(": " + msg)
	}
	if h := a.hint(err, kind); h != "" {
		b.WriteString(" — " + h)
	}
	return b.String()
}

// configFlags names, in a configuration error, the flag that set a
// Config field: the user typed --proxy, not Config.Proxy.
var configFlags = strings.NewReplacer("Config.Proxy", "--proxy")

// trimPrefixes drops the package prefixes of an error's text: the line
// already starts with "onesdk: ".
func trimPrefixes(s string) string {
	for _, p := range []string{"onesdk: ", "kimi: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// hint says what the user can do about the error of the given kind, or "".
func (a *app) hint(err, kind error) string {
	switch kind {
	case onesdk.ErrAuthorization:
		where := "check " + a.providerInfo.KeyEnv
		if a.apiKey != "" {
			where = "check --api-key"
		}
		if a.providerInfo.Name == "kimi" && a.baseURL == "" && os.Getenv(a.providerInfo.URLEnv) == "" && !a.offline {
			where += " (keys of api.moonshot.cn and api.moonshot.ai differ: see --region)"
		}
		return where
	case onesdk.ErrServerUnavailable:
		return "retry later"
	case onesdk.ErrQuota:
		return "check the account balance"
	case onesdk.ErrRateLimit:
		var ae *onesdk.APIError
		if errors.As(err, &ae) && ae.RetryAfter > 0 {
			return fmt.Sprintf("retry after %s", ae.RetryAfter)
		}
		return "retry later"
	case onesdk.ErrTimeout:
		if a.timeout > 0 {
			return "raise --timeout"
		}
		return ""
	case onesdk.ErrNotFound:
		// What was not found: the command says, else the server's
		// message ("Not found the context cache tag x" in a chat).
		what := a.command + " " + strings.ToLower(err.Error())
		switch {
		case strings.Contains(what, "formula"):
			return "the official formulas are " + strings.Join(officialFormulas[:len(officialFormulas)-1], ", ")
		case strings.Contains(what, " tag"):
			return "'onesdk tag list' lists the tags"
		case strings.Contains(what, " cache"):
			return "'onesdk cache list' lists the caches"
		case strings.Contains(what, " file"):
			return "'onesdk files list' lists the files"
		case strings.Contains(what, " batch "):
			return "'onesdk batch list' lists the batches"
		}
		return "'onesdk models' lists the available models"
	case onesdk.ErrUnsupported:
		return "use --provider kimi"
	case onesdk.ErrConfig:
		if strings.Contains(err.Error(), "base URL") {
			return "check --base-url and " + a.providerInfo.URLEnv
		}
	case onesdk.ErrConnection:
		return "check the network, --base-url and --proxy"
	}
	return ""
}

// oneLine keeps a server message (which may be an HTML page) to one
// readable line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const limit = 300
	if r := []rune(s); len(r) > limit {
		s = string(r[:limit]) + "…"
	}
	return s
}

// secrets lists the keys this invocation may know, for redaction.
func (a *app) secrets() []string {
	var out []string
	for _, s := range []string{a.apiKey, os.Getenv("MOONSHOT_API_KEY"), os.Getenv("ACEDATA_API_TOKEN")} {
		// Very short values would mangle unrelated text and are no keys.
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// redact replaces any key in s. Messages come from servers and libraries
// we do not control, so this is the last line of defence.
func (a *app) redact(s string) string {
	for _, k := range a.secrets() {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// redactWriter filters keys out of the debug log. slog writes one record
// per Write, so a key is never split across calls.
type redactWriter struct {
	w io.Writer
	a *app
}

func (r *redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.a.redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
