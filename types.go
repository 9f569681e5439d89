package onesdk

import (
	"net/http"

	"github.com/onesdk-go/onesdk/kimi"
)

// The facade's types are package kimi's, under the names a facade user
// reaches for, so that everyday work needs one import.
type (
	// Request is a chat completion request: Model, Messages and Kimi's
	// parameters (pointers tell an explicit zero from unset; see Ptr).
	Request = kimi.ChatRequest
	// Response is a chat completion; Text returns the answer.
	Response = kimi.ChatCompletion
	// Stream is a streamed chat completion (Next, Current, Err, Close,
	// All; Completion and Message assemble what arrived).
	Stream = kimi.Stream
	// Chunk is one streamed increment; Text returns its new text.
	Chunk = kimi.ChatCompletionChunk
	// RequestOption is a per-call setting such as an extra header.
	RequestOption = kimi.RequestOption

	Message        = kimi.Message
	Role           = kimi.Role
	ContentPart    = kimi.ContentPart
	Tool           = kimi.Tool
	ToolFunction   = kimi.ToolFunction
	ToolChoice     = kimi.ToolChoice
	ToolCall       = kimi.ToolCall
	Thinking       = kimi.Thinking
	ResponseFormat = kimi.ResponseFormat
	Usage          = kimi.Usage
	Model          = kimi.Model
	RetryPolicy    = kimi.RetryPolicy
	Admitter       = kimi.Admitter
	// Conversation keeps a multi-turn history and trims it by turns or
	// by a token budget; see SDK.NewConversation.
	Conversation = kimi.Conversation
	// CachedContext asks many questions about one long context through a
	// tagged context cache, creating, reviving or falling back as needed.
	CachedContext = kimi.CachedContext

	// Context caches and tags.
	// Cache is a context cache object: id, status (pending, ready, error,
	// inactive), token count, expiry and the cached messages and tools.
	Cache = kimi.Cache
	// CacheCreateRequest is what CreateCache stores: Model (the family
	// "moonshot-v1" or one of its chat models, which stand for it),
	// Messages, Tools, Name, Description, Metadata, TTL or ExpiresAt, Tags.
	CacheCreateRequest = kimi.CacheCreateRequest
	// CacheUpdateRequest replaces a cache's metadata or sets a new expiry.
	CacheUpdateRequest = kimi.CacheUpdateRequest
	// CacheListOptions page and filter ListCaches.
	CacheListOptions = kimi.CacheListOptions
	// Tag is a name that points to a cache; chat requests can use the
	// cache through it.
	Tag = kimi.Tag
	// TagCreateRequest is what CreateTag sends: the tag and its cache.
	TagCreateRequest = kimi.TagCreateRequest
	// TagListOptions page ListTags.
	TagListOptions = kimi.TagListOptions
	// CacheRef names the cache a chat request uses: by CacheID or Tag.
	CacheRef = kimi.CacheRef
	// CacheInfo is what a response says about the cache it used.
	CacheInfo = kimi.CacheInfo

	// Files, document Q&A and balance.
	// File is a file object: id, bytes, created_at (unix seconds),
	// filename, purpose, status ("ok" once processed, "error" when
	// extraction failed, with StatusDetails saying why).
	File = kimi.File
	// FileContent is the decoded body of /files/{id}/content for a
	// file-extract file: the extracted text in Content, plus FileType,
	// Filename, Title and Type.
	FileContent = kimi.FileContent
	// FileUploadRequest describes an upload from any io.Reader, with an
	// optional Progress callback.
	FileUploadRequest = kimi.FileUploadRequest
	// Balance is the account balance: Available (cash + voucher; at or
	// below 0 Kimi refuses inference), Voucher, Cash (negative when in
	// arrears) and Currency.
	Balance = kimi.Balance
	// DocumentQA answers questions about documents: AddFiles uploads and
	// extracts them, Ask sends their text ahead of the question with the
	// smallest candidate model whose context window holds it.
	DocumentQA = kimi.DocumentQA
)

// Ptr returns a pointer to v, for the optional fields of a Request:
// Temperature: onesdk.Ptr(0.3).
func Ptr[T any](v T) *T { return &v }

// SystemMessage returns a system message.
func SystemMessage(text string) Message { return kimi.SystemMessage(text) }

// UserMessage returns a user message.
func UserMessage(text string) Message { return kimi.UserMessage(text) }

// AssistantMessage returns an assistant message.
func AssistantMessage(text string) Message { return kimi.AssistantMessage(text) }

// ToolMessage returns the result of the tool call toolCallID, named name.
func ToolMessage(toolCallID, name, content string) Message {
	return kimi.ToolMessage(toolCallID, name, content)
}

// PartialMessage returns an assistant prefix that the model continues
// (Kimi's partial mode), as the last message of a request.
func PartialMessage(prefix string) Message { return kimi.PartialMessage(prefix) }

// Message roles, for a message built as a struct (one with Parts, say).
const (
	RoleSystem    = kimi.RoleSystem
	RoleUser      = kimi.RoleUser
	RoleAssistant = kimi.RoleAssistant
	RoleTool      = kimi.RoleTool
	// RoleCache is the role of CacheMessage's reference to a context
	// cache.
	RoleCache = kimi.RoleCache
)

// TextPart and ImagePart build the parts of a multimodal message's content.
func TextPart(text string) ContentPart { return kimi.TextPart(text) }

// ImagePart is an image by URL or data URL ("data:image/png;base64,...").
func ImagePart(url string) ContentPart { return kimi.ImagePart(url) }

// VideoPart is a video by data URL or uploaded file (FileURL), for the
// models that read video.
func VideoPart(url string) ContentPart { return kimi.VideoPart(url) }

// DataURL returns data as a base64 data: URL of the media type
// ("image/png"), for ImagePart and VideoPart.
func DataURL(mediaType string, data []byte) string { return kimi.DataURL(mediaType, data) }

// FileURL returns the ms://<file_id> reference of a file uploaded with
// purpose "image" or "video", for ImagePart and VideoPart: the way to send
// a large image or a video.
func FileURL(fileID string) string { return kimi.FileURL(fileID) }

// WebSearchTool returns Kimi's built-in $web_search tool.
func WebSearchTool() Tool { return kimi.WebSearchTool() }

// DefaultRetryPolicy returns the retry policy used when Config.Retry is
// nil.
func DefaultRetryPolicy() RetryPolicy { return kimi.DefaultRetryPolicy() }

// WithHeader adds a header to one call (for example a gateway's tracing
// header). The client's own headers, such as Authorization, cannot be
// overridden.
func WithHeader(key, value string) RequestOption { return kimi.WithHeader(key, value) }

// WithHeaders adds every header of h to one call.
func WithHeaders(h http.Header) RequestOption { return kimi.WithHeaders(h) }
