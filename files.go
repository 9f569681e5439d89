package onesdk

import (
	"context"
	"io"

	"github.com/onesdk-go/onesdk/kimi"
)

// Files (Kimi's /v1/files), document Q&A and the account balance. A
// provider without these endpoints (acedata) returns an ErrUnsupported
// error from every method, without a request.

// Upload purposes (PurposeBatch is with the batches).
const (
	// PurposeFileExtract is the purpose of files whose text is extracted
	// for chat (the default of UploadFile and Upload).
	PurposeFileExtract = kimi.PurposeFileExtract
	// PurposeImage and PurposeVideo are media a chat message points to
	// with FileURL, in an ImagePart or a VideoPart.
	PurposeImage = kimi.PurposeImage
	PurposeVideo = kimi.PurposeVideo
)

// UploadFile uploads the file at path. An empty purpose means
// PurposeFileExtract. Kimi allows 1,000 files per account, 100 MB each and
// 10 GB in all; past the count limit the upload is an ErrBadRequest error
// (DeleteFile, or 'onesdk files prune', makes room). A file-extract file
// is processed after the upload; WaitFileProcessed waits until its text
// can be read with GetFileContent.
func (s *SDK) UploadFile(ctx context.Context, path, purpose string, opts ...RequestOption) (*File, error) {
	return gated(s, featPlatform, func() (*File, error) { return s.client.Files.UploadFile(ctx, path, purpose, opts...) })
}

// Upload uploads req.Reader under req.Filename. An empty Purpose means
// PurposeFileExtract; Size, when known, is sent ahead and feeds
// req.Progress, which is called as bytes go out (a progress bar).
func (s *SDK) Upload(ctx context.Context, req *FileUploadRequest, opts ...RequestOption) (*File, error) {
	return gated(s, featPlatform, func() (*File, error) { return s.client.Files.Upload(ctx, req, opts...) })
}

// WaitFileProcessed polls the file until its processing is over and
// returns it. A file whose extraction failed is an ErrBadRequest error
// (uploading it again does not help). Bound the wait with ctx.
func (s *SDK) WaitFileProcessed(ctx context.Context, id string, opts ...RequestOption) (*File, error) {
	return gated(s, featPlatform, func() (*File, error) { return s.client.Files.WaitProcessed(ctx, id, opts...) })
}

// ListFiles lists every file of the account (Kimi does not page this
// list; it holds at most 1,000 files).
func (s *SDK) ListFiles(ctx context.Context, opts ...RequestOption) ([]File, error) {
	return page(s, featPlatform, func() (*kimi.FileList, error) { return s.client.Files.List(ctx, opts...) },
		func(l *kimi.FileList) []File { return append([]File{}, l.Data...) }) // [], not nil, when empty
}

// GetFile returns a file's metadata; an unknown id is an ErrNotFound
// error.
func (s *SDK) GetFile(ctx context.Context, id string, opts ...RequestOption) (*File, error) {
	return gated(s, featPlatform, func() (*File, error) { return s.client.Files.Get(ctx, id, opts...) })
}

// GetFileContent returns what Kimi extracted from a file-extract file,
// decoded: the text is FileContent.Content. Kimi's recommended use is to
// put the extracted text in a system message ahead of the question.
func (s *SDK) GetFileContent(ctx context.Context, id string, opts ...RequestOption) (*FileContent, error) {
	return gated(s, featPlatform, func() (*FileContent, error) { return s.client.Files.ExtractedText(ctx, id, opts...) })
}

// GetFileContentRaw returns the body of /files/{id}/content unchanged: for
// a file-extract file a JSON document (see FileContent), for other
// purposes the stored bytes. A body over kimi.MaxContentBytes is an error;
// GetFileContentReader streams a body of any size.
func (s *SDK) GetFileContentRaw(ctx context.Context, id string, opts ...RequestOption) ([]byte, error) {
	return gated(s, featPlatform, func() ([]byte, error) { return s.client.Files.Content(ctx, id, opts...) })
}

// GetFileContentReader returns the body of /files/{id}/content as it
// arrives, for the caller to read and close, in constant memory.
func (s *SDK) GetFileContentReader(ctx context.Context, id string, opts ...RequestOption) (io.ReadCloser, error) {
	return gated(s, featPlatform, func() (io.ReadCloser, error) { return s.client.Files.ContentReader(ctx, id, opts...) })
}

// DeleteFile deletes a file; an unknown id is an ErrNotFound error.
func (s *SDK) DeleteFile(ctx context.Context, id string, opts ...RequestOption) error {
	_, err := gated(s, featPlatform, func() (struct{}, error) { return struct{}{}, s.client.Files.Delete(ctx, id, opts...) })
	return err
}

// NewDocumentQA returns a DocumentQA on this SDK's client; set its fields
// (Models, System, MaxTokens, CountTokens, Cache) before the first call.
// To size prompts offline instead of asking the server, set CountTokens
// from package tokencount.
//
//	qa, err := sdk.NewDocumentQA()
//	err = qa.AddFiles(ctx, "report.pdf")
//	resp, err := qa.Ask(ctx, "What are the findings?")
//	err = qa.Cleanup(ctx) // delete the uploaded files
func (s *SDK) NewDocumentQA() (*DocumentQA, error) {
	return gated(s, featPlatform, func() (*DocumentQA, error) { return &kimi.DocumentQA{Client: s.client}, nil })
}
