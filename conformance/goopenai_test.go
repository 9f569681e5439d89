package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// goOpenAI adapts github.com/sashabaranov/go-openai.
type goOpenAI struct{}

func (goOpenAI) Name() string { return "go-openai" }

func (goOpenAI) Expect() behaviour {
	return behaviour{
		// ReasoningContent (added for DeepSeek) on message and delta.
		reasoningTyped: true,
		// ChatCompletionStreamChoice has no usage field.
		choiceUsage: false,
		// ChatCompletionMessage carries ReasoningContent and re-sends it.
		echoKeepsReasoning: true,
		// Recv maps a bare EOF to io.EOF, exactly as it does [DONE].
		acceptsMissingDone: true,
		// go-openai has no retry logic at all.
		retriesByDefault: false,
		// CreateChatCompletionStream reads the status before returning.
		streamErrAtOpen: true,
		// A decoded *APIError, without an HTTP status: the stream was a 200.
		errorEvent: errAPI,
		// A body that is not the OpenAI envelope becomes *RequestError,
		// which keeps the status and the raw body.
		gateway404:    errRequest,
		gatewayStatus: http.StatusNotFound,
	}
}

// Connect ignores o.noRetries: go-openai never retries.
func (goOpenAI) Connect(t testing.TB, baseURL, key string, hc *http.Client, _ options) conn {
	cfg := goopenai.DefaultConfig(key)
	cfg.BaseURL = baseURL
	cfg.HTTPClient = hc
	return &goaiConn{t: t, c: goopenai.NewClientWithConfig(cfg)}
}

func (goOpenAI) Classify(err error) peerError {
	return classify(err, func(err error) (peerError, bool) {
		// *RequestError first: for a body whose "error" is not an object it
		// wraps the half-decoded, empty *APIError, which errors.As finds too.
		var reqErr *goopenai.RequestError
		if errors.As(err, &reqErr) {
			return peerError{kind: errRequest, status: reqErr.HTTPStatusCode, message: reqErr.Error(), body: reqErr.Body}, true
		}
		var apiErr *goopenai.APIError
		if errors.As(err, &apiErr) {
			return peerError{kind: errAPI, status: apiErr.HTTPStatusCode, typ: apiErr.Type, message: apiErr.Message}, true
		}
		return peerError{}, false
	})
}

type goaiConn struct {
	t testing.TB
	c *goopenai.Client
}

func (c *goaiConn) request(req chatRequest) goopenai.ChatCompletionRequest {
	r := goopenai.ChatCompletionRequest{
		Model:       req.model,
		Messages:    []goopenai.ChatCompletionMessage{{Role: goopenai.ChatMessageRoleUser, Content: req.prompt}},
		Temperature: float32(req.temperature),
	}
	if req.tools {
		r.Tools = []goopenai.Tool{{Type: goopenai.ToolTypeFunction, Function: &goopenai.FunctionDefinition{
			Name:        toolName,
			Description: "Current weather for a city.",
			Parameters:  toolSchema,
		}}}
	}
	if req.jsonMode {
		r.ResponseFormat = &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONObject}
	}
	if req.includeUsage {
		r.StreamOptions = &goopenai.StreamOptions{IncludeUsage: true}
	}
	if f := req.followUp; f != nil {
		msg := f.after.native.(goopenai.ChatCompletionMessage)
		if f.reattachReasoning {
			msg.ReasoningContent = f.after.reasoning // already there; set for symmetry
		}
		r.Messages = append(r.Messages, msg, goopenai.ChatCompletionMessage{
			Role: goopenai.ChatMessageRoleTool, ToolCallID: msg.ToolCalls[0].ID, Name: toolName, Content: toolResult,
		})
	}
	return r
}

func (c *goaiConn) Chat(ctx context.Context, req chatRequest) (reply, error) {
	got, err := c.c.CreateChatCompletion(ctx, c.request(req))
	if err != nil {
		return reply{}, err
	}
	raw, _ := json.Marshal(got)
	r := reply{
		id: got.ID, model: got.Model, choices: len(got.Choices), raw: string(raw),
		usage: usage{int64(got.Usage.PromptTokens), int64(got.Usage.CompletionTokens), int64(got.Usage.TotalTokens)},
	}
	if len(got.Choices) == 0 {
		return r, nil
	}
	ch := got.Choices[0]
	r.content, r.finish, r.native = ch.Message.Content, string(ch.FinishReason), ch.Message
	r.reasoning, r.reasoningTyped = ch.Message.ReasoningContent, ch.Message.ReasoningContent != ""
	for i, tc := range ch.Message.ToolCalls {
		r.calls = append(r.calls, toolCall{index: i, id: tc.ID, typ: string(tc.Type), name: tc.Function.Name, arguments: tc.Function.Arguments})
	}
	return r, nil
}

// Stream drains a stream. go-openai has no accumulator, so tool-call
// fragments are concatenated here by index, as its README tells callers to.
func (c *goaiConn) Stream(ctx context.Context, req chatRequest) streamResult {
	stream, err := c.c.CreateChatCompletionStream(ctx, c.request(req))
	if err != nil {
		return streamResult{err: err, errAtOpen: true}
	}
	defer stream.Close()
	var r streamResult
	calls := map[int]*toolCall{}
	var text, reasoning strings.Builder
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.err = err
			break
		}
		r.chunks++
		if resp.Usage != nil && len(resp.Choices) == 0 {
			u := resp.Usage // the include_usage trailer chunk
			r.trailer = &usage{int64(u.PromptTokens), int64(u.CompletionTokens), int64(u.TotalTokens)}
			b, _ := json.Marshal(u)
			r.trailerRaw = string(b)
		}
		for _, ch := range resp.Choices {
			text.WriteString(ch.Delta.Content)
			reasoning.WriteString(ch.Delta.ReasoningContent)
			if ch.FinishReason != "" {
				r.finish = string(ch.FinishReason)
				r.choiceUsage = c.usageField(ch)
			}
			for pos, tc := range ch.Delta.ToolCalls {
				idx := pos // fallback for index-less deltas, seen in some 2026 captures
				if tc.Index != nil {
					idx = *tc.Index
				}
				acc := calls[idx]
				if acc == nil {
					acc = &toolCall{index: idx}
					calls[idx] = acc
				}
				if tc.ID != "" {
					acc.id = tc.ID
				}
				if tc.Type != "" {
					acc.typ = string(tc.Type)
				}
				acc.name += tc.Function.Name
				acc.arguments += tc.Function.Arguments
			}
		}
	}
	r.text, r.reasoning = text.String(), reasoning.String()
	for _, idx := range slices.Sorted(maps.Keys(calls)) {
		r.calls = append(r.calls, *calls[idx])
	}
	return r
}

// usageField is the "usage" of a choice as go-openai re-encodes what it
// decoded: "" while its choice type has no such field, so a release that
// adds one changes the result.
func (c *goaiConn) usageField(ch goopenai.ChatCompletionStreamChoice) string {
	b, err := json.Marshal(ch)
	if err != nil {
		c.t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		c.t.Fatal(err)
	}
	if u := fields["usage"]; len(u) > 0 && string(u) != "null" {
		return string(u)
	}
	return ""
}

func (c *goaiConn) ListModels(ctx context.Context) ([]string, error) {
	list, err := c.c.ListModels(ctx)
	ids := make([]string, len(list.Models))
	for i, m := range list.Models {
		ids[i] = m.ID
	}
	return ids, err
}

func (c *goaiConn) GetModel(ctx context.Context, id string) (string, error) {
	m, err := c.c.GetModel(ctx, id)
	return m.ID, err
}

func (c *goaiConn) Embed(ctx context.Context) error {
	_, err := c.c.CreateEmbeddings(ctx, goopenai.EmbeddingRequestStrings{Input: []string{"hi"}, Model: "moonshot-v1-8k"})
	return err
}

func (c *goaiConn) UploadBatchInput(ctx context.Context, name string, data []byte) (string, error) {
	f, err := c.c.CreateFileBytes(ctx, goopenai.FileBytesRequest{Name: name, Bytes: data, Purpose: goopenai.PurposeBatch})
	return f.ID, err
}

func (c *goaiConn) CreateBatch(ctx context.Context, fileID, window string, metadata map[string]string) (batchInfo, error) {
	var meta map[string]any
	if metadata != nil {
		meta = map[string]any{}
		for k, v := range metadata {
			meta[k] = v
		}
	}
	b, err := c.c.CreateBatch(ctx, goopenai.CreateBatchRequest{InputFileID: fileID,
		Endpoint: goopenai.BatchEndpointChatCompletions, CompletionWindow: window, Metadata: meta})
	return goaiBatch(b.Batch), err
}

func (c *goaiConn) GetBatch(ctx context.Context, id string) (batchInfo, error) {
	b, err := c.c.RetrieveBatch(ctx, id)
	return goaiBatch(b.Batch), err
}

func (c *goaiConn) CancelBatch(ctx context.Context, id string) (batchInfo, error) {
	b, err := c.c.CancelBatch(ctx, id)
	return goaiBatch(b.Batch), err
}

func (c *goaiConn) ListBatches(ctx context.Context, after string, limit int) (batchPage, error) {
	var a *string
	if after != "" {
		a = &after
	}
	l, err := c.c.ListBatch(ctx, a, &limit)
	p := batchPage{hasMore: l.HasMore}
	for _, b := range l.Data {
		p.data = append(p.data, goaiBatch(b))
	}
	return p, err
}

func (c *goaiConn) FileContent(ctx context.Context, id string) ([]byte, error) {
	r, err := c.c.GetFileContent(ctx, id)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// goaiBatch flattens go-openai's batch, whose nullable fields are
// pointers and whose metadata values are any.
func goaiBatch(b goopenai.Batch) batchInfo {
	deref := func(p *int) int64 {
		if p == nil {
			return 0
		}
		return int64(*p)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	var meta map[string]string
	if b.Metadata != nil {
		meta = map[string]string{}
		for k, v := range b.Metadata {
			meta[k] = fmt.Sprint(v)
		}
	}
	return batchInfo{id: b.ID, status: b.Status, endpoint: string(b.Endpoint), window: b.CompletionWindow,
		inputFile: b.InputFileID, outputFile: str(b.OutputFileID), errorFile: str(b.ErrorFileID),
		total: int64(b.RequestCounts.Total), completed: int64(b.RequestCounts.Completed), failed: int64(b.RequestCounts.Failed),
		createdAt: int64(b.CreatedAt), completedAt: deref(b.CompletedAt), cancellingAt: deref(b.CancellingAt), metadata: meta}
}
