package conformance

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/onesdk-go/onesdk/kimitest"
)

// peer is one client library under test. Its adapter (openaigo_test.go,
// goopenai_test.go) translates the neutral requests and results below to
// and from the library's own types, so every scenario is written once.
type peer interface {
	Name() string
	// Expect is how this peer is known to differ from the other one.
	Expect() behaviour
	// Connect builds a client that sends every request through hc. The
	// client fails t on output it cannot decode, so it belongs to t alone.
	Connect(t testing.TB, baseURL, key string, hc *http.Client, o options) conn
	// Classify says what the library made of an error it returned.
	Classify(err error) peerError
}

// peers are the libraries every scenario runs against, one subtest each.
var peers = []peer{openaiGo{}, goOpenAI{}}

// behaviour records each documented difference between the peers. Every
// field is asserted by a scenario, so a peer upgrade that changes one
// fails loudly instead of silently changing what README.md claims.
type behaviour struct {
	// reasoningTyped: reasoning_content decodes into a typed field, rather
	// than being reachable only as raw JSON among the unknown fields.
	reasoningTyped bool
	// choiceUsage: the usage Kimi puts inside the final stream choice
	// reaches the caller (it is not part of the OpenAI chunk schema).
	choiceUsage bool
	// echoKeepsReasoning: re-sending an assistant message as the peer
	// decoded it keeps reasoning_content, which thinking models require on
	// tool-call turns.
	echoKeepsReasoning bool
	// acceptsMissingDone: a stream whose body ends cleanly without
	// "data: [DONE]" ends without error, like a complete one.
	acceptsMissingDone bool
	// retriesByDefault: one 503 or one connection reset is retried with
	// the peer's default options; otherwise the 503 surfaces as an API
	// error and the reset as a transport error.
	retriesByDefault bool
	// streamErrAtOpen: an error response to a streaming request is returned
	// by the call that opens the stream, not by the chunk iterator.
	streamErrAtOpen bool
	// errorEvent is what a `data: {"error":...}` event mid-stream becomes.
	errorEvent errKind
	// gateway404 is what the gateway's non-OpenAI 404 body becomes, and
	// gatewayStatus the HTTP status still attached to it (0: lost).
	gateway404    errKind
	gatewayStatus int
}

// errKind names the error types the peers return, so the expectations in
// behaviour can be compared across libraries.
type errKind string

const (
	errNone      errKind = "no error"
	errAPI       errKind = "API error"          // *openai.Error, *goopenai.APIError
	errRequest   errKind = "request error"      // *goopenai.RequestError: a non-OpenAI body
	errStream    errKind = "stream error event" // *ssestream.StreamError
	errDecode    errKind = "JSON decode error"  // *json.UnmarshalTypeError
	errTransport errKind = "transport error"    // *url.Error
	errOther     errKind = "other error"
)

// classify is the part of Classify that no peer owns: no error at all,
// and net/http's transport errors, which both peers pass on unwrapped.
// own recognises the peer's error types.
func classify(err error, own func(error) (peerError, bool)) peerError {
	var urlErr *url.Error
	if err == nil {
		return peerError{kind: errNone}
	}
	if e, ok := own(err); ok {
		return e
	}
	if errors.As(err, &urlErr) {
		return peerError{kind: errTransport, message: urlErr.Error()}
	}
	return peerError{kind: errOther, message: err.Error()}
}

// peerError is an error as the peer surfaced it: only what the library
// made available, so a lost status or body shows up as zero here.
type peerError struct {
	kind    errKind
	status  int
	typ     string
	message string
	body    []byte
}

// options are the per-client settings the scenarios vary.
type options struct {
	key       string      // API key; "" means the server's own
	noRetries bool        // turn the peer's own retries off, where it has any
	header    http.Header // added to every request, e.g. kimitest.FaultHeader
}

// conn is a connected peer client.
type conn interface {
	Chat(ctx context.Context, req chatRequest) (reply, error)
	// Stream drains a streaming request; an error, including one that
	// prevented the stream from starting, is in streamResult.err.
	Stream(ctx context.Context, req chatRequest) streamResult
	ListModels(ctx context.Context) ([]string, error)
	GetModel(ctx context.Context, id string) (string, error)
	// Embed calls POST /v1/embeddings, a route Kimi does not have.
	Embed(ctx context.Context) error

	// The Batch API (batch_test.go), through the peer's own calls.
	// UploadBatchInput uploads a file of purpose batch and returns its id.
	UploadBatchInput(ctx context.Context, name string, data []byte) (string, error)
	CreateBatch(ctx context.Context, fileID, window string, metadata map[string]string) (batchInfo, error)
	GetBatch(ctx context.Context, id string) (batchInfo, error)
	ListBatches(ctx context.Context, after string, limit int) (batchPage, error)
	CancelBatch(ctx context.Context, id string) (batchInfo, error)
	FileContent(ctx context.Context, id string) ([]byte, error)
}

// chatRequest is a chat completion request in the scenarios' terms.
type chatRequest struct {
	model        string
	prompt       string  // the single user message
	temperature  float64 // 0: not sent
	tools        bool    // offer the get_weather tool
	jsonMode     bool    // response_format json_object
	includeUsage bool    // stream_options.include_usage
	// followUp continues the conversation of a tool-call reply: its
	// assistant message echoed back as the peer decoded it, then
	// toolResult answering its first tool call.
	followUp *followUp
}

type followUp struct {
	after reply
	// reattachReasoning puts reasoning_content onto the echoed message
	// explicitly, the workaround for peers that drop it.
	reattachReasoning bool
}

// wire is req as the JSON body a bare HTTP client would send, for the
// reference calls that check what the emulator answers without a peer.
func (req chatRequest) wire() map[string]any {
	body := map[string]any{
		"model":    req.model,
		"messages": []map[string]string{{"role": "user", "content": req.prompt}},
	}
	if req.temperature != 0 {
		body["temperature"] = req.temperature
	}
	return body
}

// reply is the first choice of a non-streaming completion and its envelope.
type reply struct {
	id, model string
	choices   int
	content   string
	finish    string
	reasoning string // reasoning_content, decoded
	// reasoningTyped: reasoning came from a typed field of the peer.
	reasoningTyped bool
	calls          []toolCall
	usage          usage
	raw            string // for failure messages
	native         any    // the peer's own decoded assistant message, for followUp
}

type toolCall struct {
	index           int // the stream delta index; the position otherwise
	id, typ         string
	name, arguments string
}

type usage struct{ prompt, completion, total int64 }

// streamResult is what a streaming call produced, as the peer saw it.
type streamResult struct {
	chunks    int
	text      string // concatenated content deltas
	reasoning string // concatenated reasoning_content deltas
	finish    string
	// trailer is the usage of the include_usage chunk (choices: []), and
	// trailerRaw its JSON.
	trailer    *usage
	trailerRaw string
	// choiceUsage is the raw JSON of the usage inside the final choice,
	// "" when the peer did not surface it.
	choiceUsage string
	// calls are the tool calls assembled from the deltas, the way the
	// peer's documentation tells callers to.
	calls []toolCall
	// accumulated is the content of the peer's own stream accumulator,
	// nil for a peer that has none.
	accumulated *string
	errAtOpen   bool // err came from the call that opens the stream
	err         error
}

// env is one scenario's emulator, for one peer.
type env struct {
	p   peer
	srv *kimitest.Server
}

// setup starts an emulator with the shared scripts plus extra options.
// Clients built by connect share the server's own http.Client transport,
// whose idle connections close with the server, so goleak sees none left.
func setup(t *testing.T, p peer, extra ...kimitest.Option) *env {
	t.Helper()
	return &env{p: p, srv: kimitest.NewServer(t, append(scriptOptions(), extra...)...)}
}

// connect builds a peer client for test t on the server and returns the
// counter of its HTTP attempts, to observe retries.
func (e *env) connect(t testing.TB, o options) (conn, *countingTransport) {
	key := o.key
	if key == "" {
		key = e.srv.Key
	}
	ct := &countingTransport{base: e.srv.Client().Transport, header: o.header}
	return e.p.Connect(t, e.srv.URL, key, &http.Client{Transport: ct}, o), ct
}

// forEachPeer marks t parallel and runs scenario once per peer, as
// parallel subtests named after the peer.
func forEachPeer(t *testing.T, scenario func(t *testing.T, p peer)) {
	t.Helper()
	t.Parallel()
	for _, p := range peers {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			scenario(t, p)
		})
	}
}

// countingTransport counts round trips, to observe peer retries, and adds
// header to each request: go-openai has no per-request header option, so
// both peers get fault-injection headers this way.
type countingTransport struct {
	base   http.RoundTripper
	header http.Header
	n      atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	if len(c.header) > 0 {
		r = r.Clone(r.Context())
		for k, v := range c.header {
			r.Header[k] = v
		}
	}
	return c.base.RoundTrip(r)
}

func (c *countingTransport) attempts() int64 { return c.n.Load() }
