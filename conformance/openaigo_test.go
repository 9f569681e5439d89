package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// openaiGo adapts github.com/openai/openai-go/v3.
type openaiGo struct{}

func (openaiGo) Name() string { return "openai-go" }

func (openaiGo) Expect() behaviour {
	return behaviour{
		// No field for it: the value sits in JSON.ExtraFields with
		// Valid() == false, because it has no typed destination.
		reasoningTyped: false,
		// Kept as an extra field of the choice.
		choiceUsage: true,
		// ChatCompletionMessage.ToParam rebuilds the message from typed
		// fields only; the workaround is ToAssistantMessageParam plus
		// SetExtraFields.
		echoKeepsReasoning: false,
		acceptsMissingDone: true,
		// Two retries with ~0.5 s backoff for 5xx and transport errors.
		retriesByDefault: true,
		// NewStreaming returns no error; Err() has it after Next fails.
		streamErrAtOpen: false,
		errorEvent:      errStream,
		// openai-go decodes the value of the "error" key into its Error
		// struct; the gateway's is a string, so the caller gets a bare
		// *json.UnmarshalTypeError and loses status and body.
		gateway404:    errDecode,
		gatewayStatus: 0,
	}
}

func (openaiGo) Connect(t testing.TB, baseURL, key string, hc *http.Client, o options) conn {
	opts := []option.RequestOption{option.WithBaseURL(baseURL), option.WithAPIKey(key), option.WithHTTPClient(hc)}
	if o.noRetries {
		opts = append(opts, option.WithMaxRetries(0))
	}
	return &oaiConn{t: t, c: openai.NewClient(opts...)}
}

func (openaiGo) Classify(err error) peerError {
	return classify(err, func(err error) (peerError, bool) {
		var apiErr *openai.Error
		var streamErr *ssestream.StreamError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &apiErr):
			return peerError{kind: errAPI, status: apiErr.StatusCode, typ: apiErr.Type, message: apiErr.Message}, true
		case errors.As(err, &streamErr):
			return peerError{kind: errStream, message: streamErr.Message}, true
		case errors.As(err, &typeErr):
			return peerError{kind: errDecode, message: typeErr.Error()}, true
		}
		return peerError{}, false
	})
}

type oaiConn struct {
	t testing.TB
	c openai.Client
}

func (c *oaiConn) params(req chatRequest) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    shared.ChatModel(req.model),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(req.prompt)},
	}
	if req.temperature != 0 {
		p.Temperature = openai.Float(req.temperature)
	}
	if req.tools {
		p.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        toolName,
			Description: openai.String("Current weather for a city."),
			Parameters:  shared.FunctionParameters(toolSchema),
		})}
	}
	if req.jsonMode {
		p.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	if req.includeUsage {
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	}
	if f := req.followUp; f != nil {
		msg := f.after.native.(openai.ChatCompletionMessage)
		echo := msg.ToParam()
		if f.reattachReasoning {
			raw, _ := oaiExtra(msg.JSON.ExtraFields, "reasoning_content")
			asst := msg.ToAssistantMessageParam()
			asst.SetExtraFields(map[string]any{"reasoning_content": json.RawMessage(raw)})
			echo = openai.ChatCompletionMessageParamUnion{OfAssistant: &asst}
		}
		p.Messages = append(p.Messages, echo, openai.ToolMessage(toolResult, msg.ToolCalls[0].ID))
	}
	return p
}

func (c *oaiConn) Chat(ctx context.Context, req chatRequest) (reply, error) {
	got, err := c.c.Chat.Completions.New(ctx, c.params(req))
	if err != nil {
		return reply{}, err
	}
	u := got.Usage
	r := reply{
		id: got.ID, model: got.Model, choices: len(got.Choices), raw: got.RawJSON(),
		usage: usage{prompt: u.PromptTokens, completion: u.CompletionTokens, total: u.TotalTokens},
	}
	if len(got.Choices) == 0 {
		return r, nil
	}
	msg := got.Choices[0].Message
	r.content, r.finish, r.native = msg.Content, got.Choices[0].FinishReason, msg
	if f, ok := msg.JSON.ExtraFields["reasoning_content"]; ok {
		r.reasoning, r.reasoningTyped = c.jsonString(f.Raw()), f.Valid()
	}
	for i, tc := range msg.ToolCalls {
		r.calls = append(r.calls, toolCall{i, tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments})
	}
	return r, nil
}

// jsonString decodes a raw JSON string that openai-go left undecoded.
func (c *oaiConn) jsonString(raw string) string {
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		c.t.Errorf("reasoning_content %s is not a JSON string: %v", raw, err)
	}
	return s
}

func (c *oaiConn) Stream(ctx context.Context, req chatRequest) streamResult {
	stream := c.c.Chat.Completions.NewStreaming(ctx, c.params(req))
	defer stream.Close()
	var r streamResult
	var acc openai.ChatCompletionAccumulator
	var text, reasoning strings.Builder
	for stream.Next() {
		chunk := stream.Current()
		r.chunks++
		if !acc.AddChunk(chunk) {
			c.t.Fatalf("accumulator rejected chunk %d: %s", r.chunks, chunk.RawJSON())
		}
		if len(chunk.Choices) == 0 && chunk.JSON.Usage.Valid() {
			u := chunk.Usage
			r.trailer = &usage{prompt: u.PromptTokens, completion: u.CompletionTokens, total: u.TotalTokens}
			r.trailerRaw = u.RawJSON()
		}
		for _, ch := range chunk.Choices {
			text.WriteString(ch.Delta.Content)
			if raw, ok := oaiExtra(ch.Delta.JSON.ExtraFields, "reasoning_content"); ok {
				reasoning.WriteString(c.jsonString(raw))
			}
			if ch.FinishReason != "" {
				r.finish = ch.FinishReason
				r.choiceUsage, _ = oaiExtra(ch.JSON.ExtraFields, "usage")
			}
		}
	}
	r.err = stream.Err()
	r.text, r.reasoning = text.String(), reasoning.String()
	// Non-nil even when nothing accumulated: this peer has an accumulator.
	content := ""
	if len(acc.Choices) > 0 {
		content = acc.Choices[0].Message.Content
		for i, tc := range acc.Choices[0].Message.ToolCalls {
			r.calls = append(r.calls, toolCall{i, tc.ID, tc.Type, tc.Function.Name, tc.Function.Arguments})
		}
	}
	r.accumulated = &content
	return r
}

// oaiExtra returns the raw JSON of a field openai-go does not model. Such
// fields land in JSON.ExtraFields with Valid() == false (there is no typed
// destination), so presence must be checked through Raw().
func oaiExtra(fields map[string]respjson.Field, key string) (string, bool) {
	f, ok := fields[key]
	if !ok || f.Raw() == "" || f.Raw() == "null" {
		return "", false
	}
	return f.Raw(), true
}

func (c *oaiConn) ListModels(ctx context.Context) ([]string, error) {
	page, err := c.c.Models.List(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

func (c *oaiConn) GetModel(ctx context.Context, id string) (string, error) {
	m, err := c.c.Models.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

func (c *oaiConn) Embed(ctx context.Context) error {
	_, err := c.c.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "moonshot-v1-8k",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("hi")},
	})
	return err
}

func (c *oaiConn) UploadBatchInput(ctx context.Context, name string, data []byte) (string, error) {
	f, err := c.c.Files.New(ctx, openai.FileNewParams{File: openai.File(bytes.NewReader(data), name, "application/jsonl"), Purpose: openai.FilePurposeBatch})
	if err != nil {
		return "", err
	}
	return f.ID, nil
}

func (c *oaiConn) CreateBatch(ctx context.Context, fileID, window string, metadata map[string]string) (batchInfo, error) {
	return oaiBatch(c.c.Batches.New(ctx, openai.BatchNewParams{InputFileID: fileID,
		Endpoint:         openai.BatchNewParamsEndpointV1ChatCompletions,
		CompletionWindow: openai.BatchNewParamsCompletionWindow(window), Metadata: metadata}))
}

func (c *oaiConn) GetBatch(ctx context.Context, id string) (batchInfo, error) {
	return oaiBatch(c.c.Batches.Get(ctx, id))
}

func (c *oaiConn) CancelBatch(ctx context.Context, id string) (batchInfo, error) {
	return oaiBatch(c.c.Batches.Cancel(ctx, id))
}

func (c *oaiConn) ListBatches(ctx context.Context, after string, limit int) (batchPage, error) {
	q := openai.BatchListParams{Limit: openai.Int(int64(limit))}
	if after != "" {
		q.After = openai.String(after)
	}
	page, err := c.c.Batches.List(ctx, q)
	if err != nil {
		return batchPage{}, err
	}
	var p batchPage
	for _, b := range page.Data {
		info, _ := oaiBatch(&b, nil)
		p.data = append(p.data, info)
	}
	p.hasMore = page.HasMore
	return p, nil
}

func (c *oaiConn) FileContent(ctx context.Context, id string) ([]byte, error) {
	resp, err := c.c.Files.Content(ctx, id)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func oaiBatch(b *openai.Batch, err error) (batchInfo, error) {
	if err != nil {
		return batchInfo{}, err
	}
	return batchInfo{id: b.ID, status: string(b.Status), endpoint: b.Endpoint, window: b.CompletionWindow,
		inputFile: b.InputFileID, outputFile: b.OutputFileID, errorFile: b.ErrorFileID,
		total: b.RequestCounts.Total, completed: b.RequestCounts.Completed, failed: b.RequestCounts.Failed,
		createdAt: b.CreatedAt, completedAt: b.CompletedAt, cancellingAt: b.CancellingAt, metadata: b.Metadata}, nil
}
