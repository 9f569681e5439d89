package kimi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/onesdk-go/onesdk/catalog"
)

// DefaultDocumentQASystem is the system prompt of a DocumentQA that sets
// none.
const DefaultDocumentQASystem = "You are Kimi, an AI assistant provided by Moonshot AI. " +
	"Answer the user's questions using the documents in the next system message; " +
	"say so when they do not contain the answer."

// DefaultDocumentQAModels returns the candidate models of a DocumentQA
// that sets none, smallest (cheapest) first: moonshot-v1-8k, -32k and
// -128k (catalog.DocumentQAModels). The slice is a fresh copy.
func DefaultDocumentQAModels() []string { return catalog.DocumentQAModels() }

// ErrPromptTooLong is wrapped by the error of DocumentQA.Ask when no
// candidate model's context window holds the prompt plus the answer
// budget.
var ErrPromptTooLong = sentinel("kimi: prompt does not fit any candidate model", ErrBadRequest)

// ContextWindow returns the context window (prompt plus answer, in
// tokens) of a model from package catalog, or 0 for a model it does not
// know. For moonshot-v1-auto, which routes by size, it is the largest
// window (128k). Case and a "vendor/" prefix are ignored.
func ContextWindow(model string) int {
	m, _ := catalog.Lookup(model)
	return m.ContextWindow
}

// DocumentQA answers questions about documents with Kimi's file-extract
// flow, as Moonshot's document Q&A example does: each document is
// uploaded with purpose file-extract, its extraction result (the JSON
// text of GET /files/{id}/content) is
// kept, and every question is sent as
//
//	system: System
//	system: the documents' extraction results joined with "\n"
//	user:   the question
//
// which is how Moonshot's reference puts several files into one system
// message ("用换行符 \n 隔开,拼接为一个大字符串,role 设置为 system").
// The model is the smallest candidate whose context window holds the
// prompt plus MaxTokens, so a short document is answered by
// moonshot-v1-8k and a long one by -32k or -128k. When the server still
// finds the prompt too long for it (a local CountTokens counted low), Ask
// steps up to the next larger candidate.
//
// Documents are uploaded and extracted once, in AddFiles and AddReader;
// Ask only chats. A DocumentQA is safe for concurrent use once its fields
// are set; they must not change after the first call.
type DocumentQA struct {
	Client *Client
	// Models are the candidate models, smallest context first; nil means
	// DefaultDocumentQAModels(). Each needs a window from ContextWindow or
	// ContextWindows.
	Models []string
	// ContextWindows adds or overrides context windows by model id.
	ContextWindows map[string]int
	// System is the first system message; "" means
	// DefaultDocumentQASystem.
	System string
	// CountTokens counts a prompt's tokens for a model; nil asks the
	// server (Client.Tokenizers.Estimate, one free request per Ask). Pass
	// a local counter (the tokencount package) to save the round trip.
	// A local count is an estimate: tokencount's errs high for Chinese
	// but can be ~30% low for English and code, so the picked model may
	// be too small; Ask then steps up to a larger candidate (see Ask).
	CountTokens func(ctx context.Context, model string, msgs []Message) (int, error)
	// MaxTokens is the answer budget, sent as max_tokens and reserved in
	// the context window; 0 means 1024.
	MaxTokens int
	// Cache puts the system prompt and the documents into an explicit
	// context cache (CachedContext, tagged by a hash of their text) so
	// that repeated questions do not pay for the documents again. Where
	// caching is unavailable CachedContext sends the full prompt instead.
	Cache bool

	mu     sync.Mutex
	docs   []Document
	cc     *CachedContext
	ccTag  string
	caches []string // ids of caches used, for Cleanup
	// lastModel is the model of the last successful Ask.
	lastModel string
}

// Document is one document added to a DocumentQA.
type Document struct {
	Name   string
	FileID string // the uploaded file; "" once Cleanup deleted it
	// Text is the extraction result as the server returned it; it is what
	// Ask sends.
	Text string
	// Content is Text decoded (nil when it is not the usual JSON object).
	Content *FileContent
}

// Documents returns the documents added so far.
func (q *DocumentQA) Documents() []Document {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]Document(nil), q.docs...)
}

// AddFiles uploads each file (purpose file-extract), waits until the
// server has processed it and keeps its extracted text. It stops at the
// first failure; files added before it stay added, and a file uploaded
// but not extracted is deleted again.
func (q *DocumentQA) AddFiles(ctx context.Context, paths ...string) error {
	if q.Client == nil {
		return invalid("DocumentQA.Client", nil, "must not be nil")
	}
	for _, p := range paths {
		f, err := q.Client.Files.UploadFile(ctx, p, PurposeFileExtract)
		if err != nil {
			return err
		}
		if err := q.extract(ctx, p, f); err != nil {
			return err
		}
	}
	return nil
}

// AddReader uploads r as a document named name (its extension tells Kimi
// the format) and keeps its extracted text. A seekable r is measured and
// may be retried; see FileUploadRequest.
func (q *DocumentQA) AddReader(ctx context.Context, name string, r io.Reader) error {
	if q.Client == nil {
		return invalid("DocumentQA.Client", nil, "must not be nil")
	}
	f, err := q.Client.Files.Upload(ctx, &FileUploadRequest{Filename: name, Purpose: PurposeFileExtract, Reader: r})
	if err != nil {
		return err
	}
	return q.extract(ctx, name, f)
}

func (q *DocumentQA) extract(ctx context.Context, name string, f *File) error {
	files := q.Client.Files
	text, err := func() ([]byte, error) {
		if _, err := files.WaitProcessed(ctx, f.ID); err != nil {
			return nil, err
		}
		return files.Content(ctx, f.ID)
	}()
	if err != nil {
		// Best effort, and bounded: the file is of no use, and a caller
		// who cancelled should not wait long for the clean-up.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		files.Delete(dctx, f.ID)
		cancel()
		return fmt.Errorf("kimi: document %q (file %s): %w", name, f.ID, err)
	}
	d := Document{Name: name, FileID: f.ID, Text: string(text)}
	d.Content, _ = DecodeFileContent(text)
	q.mu.Lock()
	q.docs = append(q.docs, d)
	q.mu.Unlock()
	return nil
}

func (q *DocumentQA) system() string {
	if q.System == "" {
		return DefaultDocumentQASystem
	}
	return q.System
}

func (q *DocumentQA) maxTokens() int {
	if q.MaxTokens <= 0 {
		return catalog.DefaultMaxTokens
	}
	return q.MaxTokens
}

func (q *DocumentQA) models() []string {
	if len(q.Models) == 0 {
		return DefaultDocumentQAModels()
	}
	return q.Models
}

func (q *DocumentQA) window(model string) int {
	if w, ok := q.ContextWindows[model]; ok {
		return w
	}
	return ContextWindow(model)
}

// docContext returns the two system messages: the prompt and the documents.
func (q *DocumentQA) docContext() ([]Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.docs) == 0 {
		return nil, WithKind(errors.New("kimi: DocumentQA has no documents: call AddFiles or AddReader first"), ErrBadRequest)
	}
	texts := make([]string, len(q.docs))
	for i, d := range q.docs {
		texts[i] = d.Text
	}
	return []Message{SystemMessage(q.system()), SystemMessage(strings.Join(texts, "\n"))}, nil
}

func (q *DocumentQA) prompt(question string) ([]Message, error) {
	if q.Client == nil {
		return nil, invalid("DocumentQA.Client", nil, "must not be nil")
	}
	if strings.TrimSpace(question) == "" {
		return nil, invalid("question", question, "must not be empty")
	}
	msgs, err := q.docContext()
	if err != nil {
		return nil, err
	}
	return append(msgs, UserMessage(question)), nil
}

// PickModel returns the model Ask would use for question and the
// prompt's size in tokens as counted for that model.
func (q *DocumentQA) PickModel(ctx context.Context, question string) (model string, promptTokens int, err error) {
	msgs, err := q.prompt(question)
	if err != nil {
		return "", 0, err
	}
	return q.pick(ctx, msgs)
}

// pick chooses the smallest candidate whose window holds msgs plus the
// answer budget. Models of one known family share a tokenizer, so the
// prompt is counted once per family.
func (q *DocumentQA) pick(ctx context.Context, msgs []Message) (string, int, error) {
	count := q.CountTokens
	if count == nil {
		count = func(ctx context.Context, model string, msgs []Message) (int, error) {
			return q.Client.Tokenizers.Estimate(ctx, model, msgs)
		}
	}
	budget := q.maxTokens()
	counts := map[string]int{}
	var largest string
	var largestWindow, largestCount int
	for _, m := range q.models() {
		w := q.window(m)
		if w <= 0 {
			return "", 0, invalid("DocumentQA.Models", m, "has no known context window: set DocumentQA.ContextWindows[%q]", m)
		}
		key := string(ModelFamily(m))
		if key == "" {
			key = "model:" + m
		}
		n, ok := counts[key]
		if !ok {
			var err error
			if n, err = count(ctx, m, msgs); err != nil {
				return "", 0, fmt.Errorf("kimi: count prompt tokens for %s: %w", m, err)
			}
			counts[key] = n
		}
		if n+budget <= w {
			return m, n, nil
		}
		if w > largestWindow {
			largest, largestWindow, largestCount = m, w, n
		}
	}
	return "", largestCount, fmt.Errorf("%w: %d prompt tokens + %d for the answer = %d, but the largest candidate, %s, has a %d-token context window",
		ErrPromptTooLong, largestCount, budget, largestCount+budget, largest, largestWindow)
}

// Ask asks question about the documents with the smallest fitting model
// (see DocumentQA) and max_tokens set to MaxTokens.
//
// A local CountTokens may count low (the tokencount package's offline
// estimate can be ~30% below the server for English and code), so when
// the server refuses the prompt as too long (400 "Input token length too
// long" or "exceeded model token limit"), Ask retries once with each
// larger candidate, in the order of Models, before returning that error.
// LastModel reports the model that answered.
func (q *DocumentQA) Ask(ctx context.Context, question string) (*ChatCompletion, error) {
	msgs, err := q.prompt(question)
	if err != nil {
		return nil, err
	}
	model, _, err := q.pick(ctx, msgs)
	if err != nil {
		return nil, err
	}
	resp, err := q.send(ctx, msgs, model)
	for _, next := range q.larger(model) {
		if err == nil || !promptTooLong(err) {
			break
		}
		model = next
		resp, err = q.send(ctx, msgs, model)
	}
	if err == nil {
		q.mu.Lock()
		q.lastModel = model
		q.mu.Unlock()
	}
	return resp, err
}

// LastModel returns the model the last successful Ask used: the one
// PickModel chose, or a larger candidate when the server found the prompt
// too long for it. "" before any Ask succeeded.
func (q *DocumentQA) LastModel() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastModel
}

// larger returns the candidates after model, in order, whose context
// window is larger than model's.
func (q *DocumentQA) larger(model string) []string {
	models := q.models()
	i := slices.Index(models, model)
	if i < 0 {
		return nil
	}
	var out []string
	w := q.window(model)
	for _, m := range models[i+1:] {
		if q.window(m) > w {
			out = append(out, m)
		}
	}
	return out
}

// promptTooLong reports whether err is Kimi's 400 for a prompt (plus
// max_tokens) that does not fit the model's context window.
func promptTooLong(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 400 {
		return false
	}
	msg := strings.ToLower(e.Message)
	return strings.Contains(msg, "input token length too long") || strings.Contains(msg, "exceeded model token limit")
}

func (q *DocumentQA) send(ctx context.Context, msgs []Message, model string) (*ChatCompletion, error) {
	maxTokens := q.maxTokens()
	if !q.Cache {
		return q.Client.Chat.Create(ctx, &ChatRequest{Model: model, Messages: msgs, MaxTokens: &maxTokens})
	}
	cc := q.cached(msgs[:2], model)
	resp, err := cc.Ask(ctx, &ChatRequest{Model: model, Messages: msgs[2:], MaxTokens: &maxTokens})
	if id := cc.CacheID(); id != "" {
		q.mu.Lock()
		if !slices.Contains(q.caches, id) {
			q.caches = append(q.caches, id)
		}
		q.mu.Unlock()
	}
	return resp, err
}

// Cached reports whether the last Ask used the context cache.
func (q *DocumentQA) Cached() bool {
	q.mu.Lock()
	cc := q.cc
	q.mu.Unlock()
	return cc != nil && cc.Cached()
}

// cached returns the CachedContext for the current documents, replacing
// it when documents were added since.
func (q *DocumentQA) cached(prefix []Message, model string) *CachedContext {
	h := sha256.New()
	for _, m := range prefix {
		io.WriteString(h, m.Text())
		h.Write([]byte{0})
	}
	tag := "docqa-" + hex.EncodeToString(h.Sum(nil))[:32]
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cc == nil || q.ccTag != tag {
		q.cc = &CachedContext{Client: q.Client, Tag: tag, Model: model, Messages: prefix,
			Name: "DocumentQA", Description: "documents for question answering"}
		q.ccTag = tag
	}
	return q.cc
}

// Cleanup deletes the files this DocumentQA uploaded and the context
// caches it used. The extracted texts are kept, so Ask still works
// (without Cache, or recreating the cache). All deletions are attempted;
// the errors are joined.
func (q *DocumentQA) Cleanup(ctx context.Context) error {
	if q.Client == nil {
		return invalid("DocumentQA.Client", nil, "must not be nil")
	}
	q.mu.Lock()
	var ids []string
	for i := range q.docs {
		if q.docs[i].FileID != "" {
			ids = append(ids, q.docs[i].FileID)
		}
	}
	caches := q.caches
	q.caches = nil
	cc := q.cc
	q.mu.Unlock()
	var errs []error
	deleted := map[string]bool{}
	for _, id := range ids {
		if err := q.Client.Files.Delete(ctx, id); err != nil && !isStatus(err, 404) {
			errs = append(errs, fmt.Errorf("delete file %s: %w", id, err))
			continue
		}
		deleted[id] = true
	}
	for _, id := range caches {
		if err := q.Client.Caches.Delete(ctx, id); err != nil && !isStatus(err, 404) {
			errs = append(errs, fmt.Errorf("delete cache %s: %w", id, err))
		}
	}
	if cc != nil {
		cc.Reset()
	}
	q.mu.Lock()
	for i := range q.docs {
		if deleted[q.docs[i].FileID] {
			q.docs[i].FileID = ""
		}
	}
	q.mu.Unlock()
	return errors.Join(errs...)
}
