package onesdk

import (
	"context"
	"iter"

	"github.com/onesdk-go/onesdk/kimi"
)

// Server-side batches (Kimi's Batch API): a JSONL file of chat requests,
// uploaded with purpose "batch", run by the server within a completion
// window at a lower price than real-time calls. Only the kimi provider
// offers them: on another provider every method returns an ErrUnsupported
// error. Package batch runs the same file locally, at once.

type (
	// Batch is a batch object: id, status (see the BatchStatus
	// constants), request counts, and the output and error file ids once
	// it has run.
	Batch = kimi.Batch
	// BatchCreateRequest is what CreateBatch starts: InputFileID (a file
	// uploaded with PurposeBatch), CompletionWindow (a time.Duration from
	// 12h to 7d in whole hours, default 24h) and optional Metadata.
	BatchCreateRequest = kimi.BatchCreateRequest
	// BatchListOptions page ListBatches: After (a batch id) and Limit.
	BatchListOptions = kimi.BatchListOptions
	// BatchLine is one request of a batch input file.
	BatchLine = kimi.BatchLine
	// BatchResult is one line of a batch's output or error file.
	BatchResult = kimi.BatchResult
)

// Batch statuses; the last four are terminal.
const (
	BatchStatusValidating = kimi.BatchStatusValidating
	BatchStatusInProgress = kimi.BatchStatusInProgress
	BatchStatusFinalizing = kimi.BatchStatusFinalizing
	BatchStatusCancelling = kimi.BatchStatusCancelling
	BatchStatusCompleted  = kimi.BatchStatusCompleted
	BatchStatusFailed     = kimi.BatchStatusFailed
	BatchStatusExpired    = kimi.BatchStatusExpired
	BatchStatusCancelled  = kimi.BatchStatusCancelled
)

// PurposeBatch is the upload purpose of a batch input file.
const PurposeBatch = kimi.PurposeBatch

// CreateBatch starts a batch over an uploaded input file. The batch
// starts "validating"; WaitBatch waits until it is done.
func (s *SDK) CreateBatch(ctx context.Context, req *BatchCreateRequest, opts ...RequestOption) (*Batch, error) {
	return gated(s, featBatches, func() (*Batch, error) { return s.client.Batches.Create(ctx, req, opts...) })
}

// ListBatches lists one page of batches; nil opts are the server's
// defaults (the first 20).
func (s *SDK) ListBatches(ctx context.Context, o *BatchListOptions, opts ...RequestOption) ([]Batch, error) {
	return page(s, featBatches, func() (*kimi.BatchList, error) { return s.client.Batches.List(ctx, o, opts...) },
		func(l *kimi.BatchList) []Batch { return l.Data })
}

// AllBatches ranges over every batch, page after page (opts.Limit is the
// page size). A failure is yielded as the last pair.
func (s *SDK) AllBatches(ctx context.Context, o *BatchListOptions, opts ...RequestOption) iter.Seq2[*Batch, error] {
	return every(s, featBatches, func() iter.Seq2[*Batch, error] { return s.client.Batches.All(ctx, o, opts...) })
}

// GetBatch returns one batch; an unknown id is an ErrNotFound error.
func (s *SDK) GetBatch(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	return gated(s, featBatches, func() (*Batch, error) { return s.client.Batches.Get(ctx, id, opts...) })
}

// CancelBatch asks the server to stop a batch, which goes "cancelling"
// then "cancelled". A batch that is already done is an ErrBadRequest
// error.
func (s *SDK) CancelBatch(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	return gated(s, featBatches, func() (*Batch, error) { return s.client.Batches.Cancel(ctx, id, opts...) })
}

// WaitBatch polls the batch until it is done (completed, failed, expired
// or cancelled) and returns it; which of them is not an error. Bound the
// wait with ctx: a batch may take up to its completion window. A wait cut
// by ctx returns the batch as last seen with the error.
func (s *SDK) WaitBatch(ctx context.Context, id string, opts ...RequestOption) (*Batch, error) {
	return gated(s, featBatches, func() (*Batch, error) { return s.client.Batches.WaitDone(ctx, id, opts...) })
}

// BatchResults ranges over a batch's result lines, its output file's and
// then its error file's. A line that does not decode is yielded as an
// error and reading goes on.
func (s *SDK) BatchResults(ctx context.Context, b *Batch, opts ...RequestOption) iter.Seq2[*BatchResult, error] {
	return every(s, featBatches, func() iter.Seq2[*BatchResult, error] { return s.client.Batches.Results(ctx, b, opts...) })
}
