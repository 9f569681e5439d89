// Package kimitest is a faithful local emulator of the Kimi (Moonshot AI)
// HTTP API, for tests, examples and offline work.
//
// It serves, under /v1, POST /v1/chat/completions (JSON and SSE),
// GET /v1/models, GET /v1/models/{id}, the context-caching routes
// /v1/caching and /v1/caching/refs/tags, the files routes /v1/files
// (upload, list, get, content, delete), the Batch API /v1/batches
// (create, list, get, cancel), POST
// /v1/tokenizers/estimate-token-count and GET /v1/users/me/balance,
// with Kimi's wire details: the
// error envelopes and texts, the gateway 404 body for unknown routes, the
// Msh-* response headers, per-model-family parameter rules, token limits,
// per-account rate limits (concurrency, RPM, TPM, TPD), tool calls with
// family-style ids, the $web_search two-step protocol, reasoning_content,
// Partial Mode, JSON mode, logprobs, image and video input, automatic
// prefix caching, explicit context caches and tags, and Kimi's SSE
// framing (per-choice usage in the final chunk, optional include_usage
// trailer, data: [DONE]). Ace Data Cloud's re-sold endpoint is served at
// /kimi/chat/completions (Server.AceDataCloudURL) with Ace's envelope and
// model list.
//
// # Models
//
// The catalogue is package catalog's for Moonshot's platform as of
// December 2026 (DefaultModels): moonshot-v1 (8k, 32k, 128k, auto and the
// vision previews), kimi-k2.5, kimi-k2.6, kimi-k2.7-code(-highspeed) and
// kimi-k3. GET /v1/models lists them with the 2026 fields (context_length,
// supports_image_in, supports_video_in, supports_reasoning,
// supports_tool_use, supports_thinking_type, think_efforts for kimi-k3,
// display_name). The models Moonshot retired (the K2 line, kimi-latest,
// kimi-thinking-preview) answer 404 "Not found the model {id} or
// Permission denied", as on Kimi; WithRetiredModels serves them again for
// old test suites.
//
// Each family's rules are catalog's: sampling parameters fixed per
// parameter (kimi-k2.5 to kimi-k2.7 fix temperature, top_p, n and the
// penalties; kimi-k3 only temperature, at 1) and refused at another value
// ("invalid temperature: only 1 is allowed for this model"), others
// range-checked; thinking on by default, forced or absent; thinking.keep
// refused (kimi-k2.5), null or "all" (kimi-k2.6) or always "all"
// (kimi-k2.7), and no other field in the thinking object; the top-level
// reasoning_effort (kimi-k3: low, high or max; accepted and ignored
// elsewhere); tool_choice "required" and a named function refused while
// thinking, except "required" on kimi-k3; reasoning_content required on
// earlier assistant tool-call turns while thinking ("" counts). Requests
// may give the answer budget as max_completion_tokens (which wins) or
// max_tokens. logprobs with top_logprobs (0 to 20) adds OpenAI-style
// choices[].logprobs.content to responses and content deltas,
// deterministically. Image and video parts go only to models that take
// them, as base64 data URLs of a supported format or ms://<file_id>
// references to the account's image or video uploads; http(s) URLs are
// refused, as Moonshot does not fetch media. Texts no source gives are
// the emulator's own, all in assumed.go.
//
// Replies are generated deterministically: the same request always gets
// the same reply, in the language of the question. Token counts come from
// CountTokens, a documented deterministic rule, so tests can predict usage
// (see CountRequestTokens).
//
// The emulator is written from Kimi's documented and observed behaviour,
// independently of this module's client, so that a misunderstanding
// cannot hide in both.
//
// # Use in tests
//
// NewServer starts an emulator on 127.0.0.1 for one test; point any
// OpenAI-compatible client at srv.URL with the key srv.Key:
//
//	func TestMyBot(t *testing.T) {
//		srv := kimitest.NewServer(t,
//			kimitest.WithRule(kimitest.Rule{Match: "weather", Reply: "Sunny, 21°C."}),
//			kimitest.WithRule(kimitest.Rule{Match: "overload",
//				Error: &kimitest.RuleError{Status: 429, Type: "engine_overloaded_error",
//					Message: "The engine is currently overloaded, please try again later"}}),
//		)
//		bot := mybot.New(srv.URL, srv.Key) // srv.URL ends in /v1
//		...
//	}
//
// Rules script replies (content, reasoning, tool calls, finish reason) or
// errors for matching requests; everything else is generated. Accounts
// (WithAccount, WithKey) are organizations, each with its own keys (Key
// and Keys), limits, balance, files, caches and tags: keys of one Account
// share all of them, as on Kimi; WithLimits sets rate limits, such as a published tier from
// Tiers; WithTimeScale speeds up emulated time so that per-minute and
// per-day windows and cache TTLs can be exercised quickly; WithFaults and
// the X-Kimitest-Fault request header inject failures; WithStreamDelay
// paces SSE chunks. A rate-limit 429 says how long to wait in its message
// only, as Kimi's does; WithRetryAfterHeader adds a Retry-After header.
//
// Every response to a known key carries the account's Msh-Uid, Msh-Gid,
// Msh-Org-Id ("org-" and 32 hex digits, Account.OrgID) and
// Msh-Project-Id ("proj-" and 32 hex digits, Account.ProjectID); every
// response has a fresh Msh-Request-Id and X-Msh-Trace-Id. A client that
// sends Accept-Encoding: gzip gets JSON bodies gzip-compressed; event
// streams and file contents are sent uncompressed.
//
// # Context caching
//
// Explicit context caches (moonshot-v1 family only, a legacy feature no
// 2026 document describes; https://platform.moonshot.ai/docs/api/caching)
// are served under
// /v1/caching: create, list (limit, order, after, before,
// metadata[key]=value), get, update, delete, and tags under
// /v1/caching/refs/tags. Caches and tags are per account. A new or
// updated cache is pending for WithCacheReadyDelay of emulated time (2 s
// by default), then ready until its expired_at, then inactive; statuses
// follow the emulated clock, so WithTimeScale makes expiry quick to test:
//
//	srv := kimitest.NewServer(t, kimitest.WithTimeScale(60), kimitest.WithCacheReadyDelay(0))
//	// POST srv.URL+"/caching" {"model":"moonshot-v1","messages":[…],"ttl":60}
//	// → ready at once, inactive after one real second.
//
// Chat requests use a cache through a first {"role":"cache","content":
// "cache_id=…;reset_ttl=N;dry_run=1"} (or "tag=…") message, or through the
// X-Msh-Context-Cache headers; hits report usage.cached_tokens and the
// Msh-Context-Cache-* response headers. Emulator.Ledger sums the
// creation, storage and per-call fees charged to an account, per cache,
// and Emulator.SetCacheError simulates a failed cache.
//
// # Files
//
// POST /v1/files takes multipart/form-data with a file part and a purpose
// (file-extract when missing; image, video and batch are stored as sent,
// image and video files only in a format chat takes, judged by their
// first bytes).
// The documented per-account limits (1,000 files, 100 MB each, 10 GB in
// all; https://platform.moonshot.ai/docs/api/files) apply with the
// documented error texts; WithFileLimits lowers them for tests. Uploads
// are streamed: an oversized file is refused after at most limit+1
// bytes, and large files are kept in a temporary directory that
// Server.Close (Emulator.Close) removes. file-extract files are
// extracted at upload: text and source files as sent (streamed, not
// copied), HTML as text, PDF (github.com/ledongthuc/pdf; Type0 fonts
// through their /ToUnicode CMap), DOCX (text boxes included), XLSX (a
// "# <sheet name>" line per sheet in workbook order, then a line per row,
// cells joined by tabs), PPTX (a line per paragraph, slides in numeric
// order separated by a blank line) and EPUB (the spine's XHTML documents
// as text, in spine order, separated by a blank line). Legacy binary
// Office files (.doc, .dot, .xls, .ppt: OLE compound files), which the
// real API extracts, are refused: their status_details says the emulator
// does not extract legacy binary Office formats. A file that cannot be
// extracted gets status "error" and its content answers 500 "Failed to
// extract file: …". GET /v1/files/{id}/content returns the documented
// JSON document (content, file_type, filename, title, type) as
// text/plain. See files.go and extract.go.
//
// # Batches
//
// POST /v1/batches runs an uploaded file of purpose batch (one request per
// line: custom_id, method POST, url /v1/chat/completions, body) on the
// emulator's clock, through the same chat engine as real-time calls and
// billed at 60 % of their price (ChargeBatchChat). A batch is validating
// for 60 s of emulated time, then failed (every validation of the input
// file, each problem a line of its error file: extension, empty, size,
// malformed line, missing field, duplicate custom_id, mixed models,
// method, url, unknown or non-batch model, fixed sampling parameters) or
// in_progress; then finalizing for 30 s and completed, with an output
// file and, for the requests that failed, an error file, both files of
// the account (purpose batch_output) in OpenAI's line shape, an
// assumption in one place (batchLine). A batch not done within its
// completion_window (12h to 7d) expires; cancel moves validating,
// in_progress and finalizing batches to cancelling for 10 s, then
// cancelled, and any other state answers 400 "task status does not allow
// cancellation". Listing (after, limit, has_more) and every other call
// see only the organization's own batches; an organization may hold at
// most 1,000 files of purpose batch. WithTimeScale makes a whole batch
// take a fraction of a second:
//
//	srv := kimitest.NewServer(t, kimitest.WithTimeScale(2000))
//	// upload requests.jsonl (purpose batch), POST srv.URL+"/batches"
//	// {"input_file_id":…,"endpoint":"/v1/chat/completions","completion_window":"24h"}
//	// → completed in well under a real second; GET the output_file_id's content.
//
// See batches.go.
//
// # Official tools (formulas)
//
// GET /v1/formulas/moonshot/{name}:{tag}/tools lists a formula's tools
// as {"object":"list","tools":[…]}, the entries in the platform's JSON and
// key order, ready to append to a chat request's tools; POST
// …/fibers runs one function, {"name","arguments"} with arguments a JSON
// object encoded as a string, and answers a Fiber (fiber-… and lambda-…
// ids, status, context with input, output or encrypted_output and error,
// formula, organization_id, project_id). See
// https://platform.moonshot.ai/docs/guide/use-official-tools.
//
// The catalogue: web-search (web_search), convert, rethink, random-choice
// (random_choice), mew (mew_generator), memory, excel (a _plugin entry
// whose functions are called excel.<function>), date, base64
// (base64_encode, base64_decode) and fetch. The tag may be omitted or
// "latest"; any other formula, tag or namespace, quickjs and code-runner
// included, is 404 "formula not found". The schemas are the platform's,
// captured live (formula_catalog.json, one file to edit when they change).
//
// The functions run in the emulator, deterministically: convert does real
// unit conversions (currencies excepted: no exchange rates offline), date
// real arithmetic on the emulator's clock with IANA zones, random_choice
// draws as Python's random does from the given seed (else one derived
// from the arguments), memory is a key-value store per organization whose
// entries expire on the emulator's clock, excel computes on the
// account's CSV, TSV and XLSX files as pandas would (filter and
// add_column read pandas' query syntax), and web_search returns an
// encrypted_output envelope the emulator's chat model can read. fetch
// never goes to the network: it serves only the pages registered with
// WithFetchPage, every other URL fails as if offline. Where a live answer
// is public, the emulator gives the same text: convert's "72.0 °F =
// 22.22 °C", date's "224 days", base64, random_choice's seeded picks,
// memory's retrieve, rethink, a happy mew, fetch's "URL:/Title:" layout.
//
// Assumed, for want of a public source: a name that is not a function of
// the formula fails the fiber (HTTP 200, status "failed", top-level error
// "no matching lambda found"); bad arguments fail it with context.error
// naming the parameter; a function's own failure (unknown unit, bad date,
// invalid base64…) is a succeeded fiber whose output starts "ERROR: ", as
// the live excel lambda reports; a web_search fiber is charged as one
// $web_search call, and refused like chat (429
// exceeded_current_quota_error) once the balance is spent; other fibers
// are free and no fiber is rate limited.
// The texts of these errors are the emulator's own: the API's in
// assumed.go, the tools' "ERROR: " outputs beside each tool
// (formula_tools.go, formula_excel.go).
//
// # Tokens and billing
//
// POST /v1/tokenizers/estimate-token-count answers exactly the
// prompt_tokens a chat call with the same model and messages reports; it
// is free but counts toward RPM and concurrency. Every chat completion is
// billed to the account's ledger (Emulator.Ledger) at the published prices
// (https://platform.moonshot.ai/docs/pricing/chat; USD; Account.Currency
// "CNY" converts at CNYPerUSD), with cached tokens at the cache-hit price
// and $0.005 per $web_search call, next to the context-cache fees. GET
// /v1/users/me/balance reports Account.Balance (cash, default
// DefaultBalance) and Account.Voucher minus the charges, vouchers spent
// first (another account's user id in place of "me" is refused with 403
// "You are not allowed to get other user info"); once the available
// balance is ≤ 0, chat and cache creation are refused with 429
// exceeded_current_quota_error. See balance.go.
//
// # Hostile input
//
// The emulator is meant to face buggy and malicious clients too (users'
// CI, `onesdk serve`): a client mistake is a 4xx in Kimi's envelope,
// worded without Go's type names; a panic in a handler is logged and
// answered with a 500 server_error in the envelope. Request bodies have a
// 30 s read deadline, client-sent token figures are range-checked before
// any arithmetic, and every extractor is bounded in time (10 s, and the
// request's context), output, depth and entry count. The bounds are
// listed in limits.go. Requests the http.Server refuses before any
// handler runs (a malformed request line or header, headers over 64 KiB,
// a missing Host, an unknown Transfer-Encoding or HTTP version) get the
// envelope too, with Go's status (400, 431, 501, 505): every connection
// the emulator accepts rewords Go's plain-text page (refusal.go).
//
// For standalone use (a CLI "serve" command or an offline mode), Start
// listens on a given address until Close.
package kimitest
