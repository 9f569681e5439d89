package kimi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/onesdk-go/onesdk/kimi"
	"github.com/onesdk-go/onesdk/kimitest"
)

// chatMessages returns the role and content of each message.
func chatMessages(msgs []kimi.Message) (roles []string, contents []string) {
	for _, m := range msgs {
		roles, contents = append(roles, string(m.Role)), append(contents, m.Content)
	}
	return roles, contents
}

const smallDoc = "Project Lighthouse status report.\nThe beacon was repaired on Tuesday; the lens is due on Friday.\n"

// largeDoc is about 10,000 emulator tokens: too much for an 8k window
// with a 1,024-token answer budget, well inside 32k.
var largeDoc = "Appendix: maintenance log.\n" + strings.Repeat("lorem ipsum dolor sit amet ", 2000)

func TestDocumentQAModelChoice(t *testing.T) {
	c, _, rec := setup(t)
	ctx := context.Background()
	q := &kimi.DocumentQA{Client: c}

	if _, err := q.Ask(ctx, "anything?"); err == nil || !strings.Contains(err.Error(), "no documents") {
		t.Errorf("Ask without documents: %v", err)
	}
	if err := q.AddFiles(ctx, writeTemp(t, "status.txt", smallDoc)); err != nil {
		t.Fatal(err)
	}
	docs := q.Documents()
	if len(docs) != 1 || docs[0].FileID == "" || docs[0].Content == nil || docs[0].Content.Content != smallDoc || docs[0].Name == "" {
		t.Fatalf("documents = %+v", docs)
	}
	raw, err := c.Files.Content(ctx, docs[0].FileID)
	if err != nil || string(raw) != docs[0].Text {
		t.Fatalf("kept text %q, server content %q (%v)", docs[0].Text, raw, err)
	}

	resp, err := q.Ask(ctx, "When is the lens due?")
	if err != nil {
		t.Fatal(err)
	}
	body := rec.lastChat(t)
	roles, contents := chatMessages(body.Messages)
	if body.Model != "moonshot-v1-8k" || resp.Model != "moonshot-v1-8k" || body.MaxTokens != 1024 {
		t.Errorf("model %v (response %s), max_tokens %v; want moonshot-v1-8k, 1024", body.Model, resp.Model, body.MaxTokens)
	}
	// As in Moonshot's document Q&A example: system prompt, the file content
	// as a system message, the question.
	if strings.Join(roles, ",") != "system,system,user" || contents[0] != kimi.DefaultDocumentQASystem ||
		contents[1] != docs[0].Text || contents[2] != "When is the lens due?" {
		t.Errorf("messages = %v %q", roles, contents)
	}
	// The prompt size is the server's estimate, which is what chat charges.
	model, n, err := q.PickModel(ctx, "When is the lens due?")
	if err != nil || model != "moonshot-v1-8k" || n != resp.Usage.PromptTokens {
		t.Errorf("PickModel = %s %d %v; chat prompt_tokens %d", model, n, err, resp.Usage.PromptTokens)
	}

	// A second, larger document: both go into one system message joined
	// with "\n", and the prompt needs the 32k model.
	if err := q.AddReader(ctx, "log.txt", strings.NewReader(largeDoc)); err != nil {
		t.Fatal(err)
	}
	docs = q.Documents()
	resp, err = q.Ask(ctx, "What happened on Tuesday?")
	if err != nil {
		t.Fatal(err)
	}
	body = rec.lastChat(t)
	roles, contents = chatMessages(body.Messages)
	if body.Model != "moonshot-v1-32k" || resp.Model != "moonshot-v1-32k" {
		t.Errorf("model %v, want moonshot-v1-32k (prompt %d tokens)", body.Model, resp.Usage.PromptTokens)
	}
	if resp.Usage.PromptTokens+1024 <= 8192 || resp.Usage.PromptTokens+1024 > 32768 {
		t.Errorf("prompt %d tokens: the test documents do not straddle the 8k window", resp.Usage.PromptTokens)
	}
	if len(roles) != 3 || contents[1] != docs[0].Text+"\n"+docs[1].Text {
		t.Errorf("documents message = %.200q", contents[1])
	}
	// Asking again neither uploads nor extracts again.
	if _, err := q.Ask(ctx, "And on Friday?"); err != nil {
		t.Fatal(err)
	}
	if up, ct := rec.count(http.MethodPost, "/v1/files"), rec.count(http.MethodGet, "/content"); up != 2 || ct != 3 {
		t.Errorf("%d uploads and %d content reads, want 2 and 2 (+1 by the test)", up, ct)
	}

	// Cleanup deletes the uploads; the kept texts still answer.
	if err := q.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if list, err := c.Files.List(ctx); err != nil || len(list.Data) != 0 {
		t.Errorf("files after Cleanup: %+v, %v", list, err)
	}
	if _, err := q.Ask(ctx, "Still there?"); err != nil {
		t.Errorf("Ask after Cleanup: %v", err)
	}
}

func TestDocumentQATooLongMessage(t *testing.T) {
	c, _, _ := setup(t)
	ctx := context.Background()
	q := &kimi.DocumentQA{Client: c, Models: []string{"moonshot-v1-8k"}, MaxTokens: 2000}
	if err := q.AddReader(ctx, "log.txt", strings.NewReader(largeDoc)); err != nil {
		t.Fatal(err)
	}
	defer q.Cleanup(ctx)
	docs := q.Documents()
	n, err := c.Tokenizers.Estimate(ctx, "moonshot-v1-8k", []kimi.Message{
		kimi.SystemMessage(kimi.DefaultDocumentQASystem), kimi.SystemMessage(docs[0].Text), kimi.UserMessage("Summarise."),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.Ask(ctx, "Summarise.")
	want := fmt.Sprintf("%d prompt tokens + 2000 for the answer = %d, but the largest candidate, moonshot-v1-8k, has a 8192-token context window", n, n+2000)
	if !errors.Is(err, kimi.ErrPromptTooLong) || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant it to contain %q", err, want)
	}
}

func TestDocumentQACountTokensAndWindows(t *testing.T) {
	c, _, rec := setup(t)
	ctx := context.Background()
	var counted []string
	q := &kimi.DocumentQA{
		Client: c,
		Models: []string{"moonshot-v1-8k", "kimi-k2.6", "moonshot-v1-128k"},
		// A local counter: the v1 family is counted once, K2.6 separately.
		CountTokens: func(_ context.Context, model string, msgs []kimi.Message) (int, error) {
			counted = append(counted, model)
			if len(msgs) != 3 {
				return 0, errors.New("want 3 messages")
			}
			return 100_000, nil
		},
		ContextWindows: map[string]int{"kimi-k2.6": 50_000}, // override: too small
		MaxTokens:      500,
	}
	if err := q.AddReader(ctx, "s.txt", strings.NewReader(smallDoc)); err != nil {
		t.Fatal(err)
	}
	defer q.Cleanup(ctx)
	model, n, err := q.PickModel(ctx, "q?")
	if err != nil || model != "moonshot-v1-128k" || n != 100_000 {
		t.Errorf("PickModel = %s %d %v", model, n, err)
	}
	if strings.Join(counted, ",") != "moonshot-v1-8k,kimi-k2.6" {
		t.Errorf("counted for %v", counted)
	}
	if rec.count(http.MethodPost, "/v1/tokenizers/estimate-token-count") != 0 {
		t.Error("the server was asked despite CountTokens")
	}
	bad := &kimi.DocumentQA{Client: c, Models: []string{"kimi-k9"}} // not in the catalogue
	bad.AddReader(ctx, "s.txt", strings.NewReader(smallDoc))
	defer bad.Cleanup(ctx)
	var ve *kimi.ValidationError
	if _, err := bad.Ask(ctx, "q?"); !errors.As(err, &ve) || !strings.Contains(err.Error(), "no known context window") {
		t.Errorf("unknown window: %v", err)
	}
	for model, want := range map[string]int{"moonshot/kimi-k2.5": 262144, "moonshot-v1-8k": 8192, "moonshot-v1-auto": 131072, "kimi-k9": 0} {
		if w := kimi.ContextWindow(model); w != want {
			t.Errorf("ContextWindow(%s) = %d, want %d", model, w, want)
		}
	}
	if got := kimi.DefaultDocumentQAModels(); !slices.Equal(got, []string{"moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k"}) {
		t.Errorf("DefaultDocumentQAModels() = %v", got)
	}
}

func TestDocumentQACache(t *testing.T) {
	c, _, rec := setup(t, kimitest.WithCacheReadyDelay(0))
	ctx := context.Background()
	q := &kimi.DocumentQA{Client: c, Cache: true, System: "Answer from the report only."}
	if err := q.AddFiles(ctx, writeTemp(t, "status.txt", smallDoc)); err != nil {
		t.Fatal(err)
	}
	doc := q.Documents()[0]
	for i := range 2 {
		resp, err := q.Ask(ctx, "When is the lens due?")
		if err != nil {
			t.Fatal(err)
		}
		if !q.Cached() || resp.Model != "moonshot-v1-8k" {
			t.Errorf("ask %d: cached %t, model %s", i, q.Cached(), resp.Model)
		}
		roles, contents := chatMessages(rec.lastChat(t).Messages)
		if strings.Join(roles, ",") != "cache,user" || contents[1] != "When is the lens due?" {
			t.Errorf("ask %d: messages %v %q", i, roles, contents)
		}
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 1 {
		t.Errorf("%d caches created, want 1", n)
	}
	caches, err := c.Caches.List(ctx, nil)
	if err != nil || len(caches.Data) != 1 {
		t.Fatalf("caches = %+v, %v", caches, err)
	}
	cm := caches.Data[0].Messages
	if len(cm) != 2 || cm[0].Text() != "Answer from the report only." || cm[1].Text() != doc.Text {
		t.Errorf("cached messages = %+v", cm)
	}
	// A new document changes the tag: a second cache.
	if err := q.AddReader(ctx, "more.txt", strings.NewReader("Addendum: the lens arrived early.")); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Ask(ctx, "Did the lens arrive?"); err != nil || !q.Cached() {
		t.Fatalf("after adding: cached %t, %v", q.Cached(), err)
	}
	if n := rec.count(http.MethodPost, "/v1/caching"); n != 2 {
		t.Errorf("%d caches created, want 2", n)
	}
	if err := q.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.Caches.List(ctx, nil); len(list.Data) != 0 {
		t.Errorf("%d caches left after Cleanup", len(list.Data))
	}
	if list, _ := c.Files.List(ctx); len(list.Data) != 0 {
		t.Errorf("%d files left after Cleanup", len(list.Data))
	}
}

// midDoc is about 9,600 emulator tokens: too much for an 8k window, but
// half of it (what the undercounting test counter reports) fits.
var midDoc = "Appendix: maintenance log.\n" + strings.Repeat("lorem ipsum dolor sit amet ", 1200)

// An undercounting CountTokens picks a model too small for the prompt; the
// server refuses it as too long and Ask steps up to the next candidate.
func TestDocumentQAStepsUpWhenServerSaysTooLong(t *testing.T) {
	c, _, rec := setup(t)
	ctx := context.Background()
	half := func(ctx context.Context, model string, msgs []kimi.Message) (int, error) {
		n, err := c.Tokenizers.Estimate(ctx, model, msgs)
		return n / 2, err
	}
	q := &kimi.DocumentQA{Client: c, CountTokens: half}
	if err := q.AddReader(ctx, "log.txt", strings.NewReader(midDoc)); err != nil {
		t.Fatal(err)
	}
	defer q.Cleanup(ctx)
	if m := q.LastModel(); m != "" {
		t.Errorf("LastModel before Ask = %q", m)
	}
	picked, _, err := q.PickModel(ctx, "Summarise.")
	if err != nil || picked != "moonshot-v1-8k" {
		n, _ := c.Tokenizers.Estimate(ctx, "moonshot-v1-8k", []kimi.Message{kimi.UserMessage(q.Documents()[0].Text)})
		t.Fatalf("PickModel = %s %v; the halved count should pick the 8k model (doc %d tokens)", picked, err, n)
	}
	resp, err := q.Ask(ctx, "Summarise.")
	if err != nil {
		t.Fatalf("Ask: %v", err)
	}
	if resp.Model != "moonshot-v1-32k" || q.LastModel() != "moonshot-v1-32k" || rec.lastChat(t).Model != "moonshot-v1-32k" {
		t.Errorf("answered by %s (LastModel %s), want moonshot-v1-32k", resp.Model, q.LastModel())
	}
	if n := rec.count(http.MethodPost, "/v1/chat/completions"); n != 2 {
		t.Errorf("%d chat requests, want 2 (8k refused, then 32k)", n)
	}

	// With the largest candidate refusing too, Ask returns the server's
	// error after one try per larger candidate.
	q2 := &kimi.DocumentQA{Client: c, CountTokens: half, Models: []string{"moonshot-v1-8k", "moonshot-v1-8k-vision-preview"}}
	q2.AddReader(ctx, "log.txt", strings.NewReader(midDoc))
	defer q2.Cleanup(ctx)
	before := rec.count(http.MethodPost, "/v1/chat/completions")
	_, err = q2.Ask(ctx, "Summarise.")
	var ke *kimi.Error
	if !errors.As(err, &ke) || ke.StatusCode != 400 || !strings.Contains(err.Error(), "too long") {
		t.Errorf("err = %v, want the server's 400", err)
	}
	if n := rec.count(http.MethodPost, "/v1/chat/completions") - before; n != 1 {
		t.Errorf("%d chat requests, want 1 (no larger candidate)", n)
	}
}
