// Package kimi is a client for the Kimi (Moonshot AI) HTTP API: chat
// completions (plain, streamed and with the builtin $web_search tool), the
// model list, explicit context caching with tags, files (upload and text
// extraction), the Batch API, token estimation and the account balance.
//
// A Client is built from a Config whose zero value works: the key comes
// from MOONSHOT_API_KEY and the base URL from MOONSHOT_BASE_URL, else
// BaseURLCN (use BaseURLAI for the international platform; keys of the two
// platforms are not interchangeable). Each resource has a service:
//
//	c := kimi.NewClient(kimi.Config{})
//	resp, err := c.Chat.Create(ctx, &kimi.ChatRequest{
//		Model:    "kimi-k2.6",
//		Messages: []kimi.Message{kimi.UserMessage("Hello")},
//	})
//
// Requests and list options are passed by pointer (nil options mean the
// defaults); lifetimes are time.Duration values, sent as the whole
// seconds the API takes. Every method that sends a request takes
// RequestOption values last, for what is not part of the JSON body,
// such as per-call headers:
//
//	resp, err := c.Chat.Create(ctx, req, kimi.WithHeader("X-Trace-Id", traceID))
//
// The models and their rules come from package catalog, which says what
// is current and what is retired (the K2 line since 2026-05-25); a model
// it does not know is looked up in the platform's GET /models once per
// client, and is otherwise sent as it is.
//
// Requests are checked before they are sent (ChatRequest.Validate, which
// knows the per-model rules such as kimi-k2.5's fixed sampling) and fail
// with a *ValidationError. API failures are *Error values carrying the
// status, Kimi's error type, the request id, the server's retry hint and
// the response; connection failures keep net/http's *url.Error chain, so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, &netErr)
// work.
//
// Rate limits (429 other than exhausted quota), 500, 502, 503, 504 and
// connections that fail before a response are retried per RetryPolicy,
// honouring Retry-After and Kimi's "try again after N seconds" hint in
// full (a hint over RetryPolicy.MaxDelay returns the error at once). A
// stream is retried only until its response headers arrive.
//
// # Context caching
//
// Kimi's explicit context caches (moonshot-v1 models only; K2.5 and
// later cache prompt prefixes automatically, see CacheInfo and
// ChatRequest.PromptCacheKey) store a long prefix of messages and tools
// once. They are a feature of the 2025 platform that Kimi's 2026 API no
// longer documents: where a platform answers 404 for /v1/caching, every
// cache and tag method returns an error that is ErrUnsupported (and
// ErrNotFound) and says so, and CachedContext sends the context with a
// stable prompt_cache_key instead. Client.Caches creates, lists, updates and
// deletes them; a new cache is pending for about a minute, and
// CacheService.WaitReady polls until it is ready. Client.Tags gives caches
// stable names. The create model is the family "moonshot-v1" (the
// default): sized names such as moonshot-v1-8k are refused by Kimi with
// "model family is invalid", and by CacheCreateRequest.Validate first.
//
// A chat request uses a cache through a first message built by
// CacheMessage (by id or tag; the request then carries no Tools, the
// cache brings them) or, by id only, through the headers of CacheHeaders,
// passed as WithHeaders(CacheHeaders(ref)), with the full messages
// repeated. ChatRequest.Validate checks the message form, Chat.Create and
// Chat.Stream the headers too. The response says what was saved:
//
//	resp, err := c.Chat.Create(ctx, &kimi.ChatRequest{
//		Model: "moonshot-v1-32k",
//		Messages: []kimi.Message{
//			kimi.CacheMessage(kimi.CacheRef{Tag: "handbook", ResetTTL: time.Hour}),
//			kimi.UserMessage("How many onboarding steps are there?"),
//		},
//	})
//	info := resp.CacheInfo() // ID, TokensSaved, ExpiresAt, Hit
//
// CachedContext does all of it for the common case of many questions
// about one document:
//
//	doc := &kimi.CachedContext{Client: c, Tag: "handbook", Model: "moonshot-v1-32k",
//		Messages: []kimi.Message{kimi.SystemMessage(handbookText)}}
//	resp, err := doc.Ask(ctx, &kimi.ChatRequest{Messages: []kimi.Message{kimi.UserMessage(q)}})
//
// On first use it finds the cache by tag (checking, by a content hash kept
// in the cache's metadata, that the cache holds this context) or creates,
// tags and waits for it (bound the wait with ctx), one creation at a time.
// Calls then refer to the cache by id, and every call refreshes the TTL. A
// cache that expired is revived; one that failed or was deleted is
// recreated once per failed call; and where caching is unavailable (a
// non-moonshot-v1 model, or creation refused) the whole context is sent
// instead, which CachedContext.Cached and FallbackReason report. Give each
// distinct context its own Tag.
//
// # Files, tokens and balance
//
// Client.Files uploads documents (FileService.UploadFile, or Upload from
// any io.Reader) and reads back the text the server extracted. Uploads
// are streamed: memory does not grow with the file (about 1 MB of heap
// for a 100 MB file in the bench module), a size over MaxFileBytes is
// refused before sending (or, when the size is unknown, the stream is cut
// as soon as it passes the limit, ErrFileTooLarge), and
// FileUploadRequest.Progress reports the bytes sent. Only seekable readers
// (files, bytes.Reader) are retried. Content returns the extraction result
// as Kimi sends it, a JSON text meant to be pasted whole into a system
// message; DecodeFileContent and ExtractedText decode it.
//
// Client.Tokenizers.Estimate asks the server for a prompt's token count
// (the same count chat's usage.prompt_tokens reports). kimi has no local
// tokenizer, so that programs using only the client do not embed a
// vocabulary; the tokencount package has one.
//
// Client.Users.Balance returns the balance with its exact decimal text
// and the currency, which the API does not state: CNY on api.moonshot.cn,
// USD on api.moonshot.ai, Config.Currency when set, else unknown.
//
// DocumentQA is Kimi's file-extract question answering, as in Moonshot's
// document Q&A example (https://platform.moonshot.ai/docs/api/files):
// documents are uploaded and extracted once, each question is sent as the
// system prompt, one system message holding the extraction results joined
// with "\n", and the question, to the smallest candidate model
// (moonshot-v1-8k, -32k, -128k by default) whose context window
// (ContextWindow) holds the prompt plus the answer budget; with Cache set
// the documents go into a CachedContext:
//
//	q := &kimi.DocumentQA{Client: c}
//	err := q.AddFiles(ctx, "report.pdf")
//	resp, err := q.Ask(ctx, "What are the key findings?")
//	defer q.Cleanup(ctx) // deletes the uploaded files
//
// # Batches
//
// A file of chat requests (BatchLine: custom_id, method, url, body) can
// run two ways. Client.Batches hands it to the platform's Batch API
// (https://platform.moonshot.ai/docs/api/batch): 40 % cheaper than
// real-time calls, finished within a completion window of 12 hours to 7
// days (ParseBatchWindow), for the models catalog.BatchModels lists.
// WriteBatchInput writes the file, FileService.Upload with PurposeBatch
// uploads it, BatchService.Create starts it, WaitDone polls until it is
// done and Results reads the output and error files into BatchResult
// values (see ExampleBatchService_Create). Package batch runs the same
// file locally instead, through a Client at the account's quota (package
// quota), with results as they complete: for work needed now, for
// models the Batch API does not take, or with tools and local handlers.
//
// Deadlines come from the context only: the default HTTP client has
// connection timeouts but no overall timeout, so long generations and
// streams are not cut. The API key is sent only in the Authorization
// header, never to another origin on a redirect, and never appears in logs
// (Config.Logger, at Debug and Warn), errors or printed values, even when
// a server echoes it into a response header. A redirect to another origin
// that would resend a request body is refused.
package kimi
