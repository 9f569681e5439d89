package kimi

import (
	"context"
)

// List returns the models the account may use (GET /models). Both the
// 2024 item shape (owned_by, permission, ...) and the 2026 one
// (context_length, supports_* flags) decode; unknown fields are kept in
// Model.Extra.
func (s *ModelService) List(ctx context.Context, opts ...RequestOption) (*ModelList, error) {
	return get[ModelList](ctx, s.c, "models", opts)
}

// Get returns one model (GET /models/{id}). Moonshot does not document
// this endpoint (the Python OneSDK calls it and it answers OpenAI-style),
// so treat it as unofficial: List is the supported way to look a model up.
// An unknown id is a 404 *Error.
func (s *ModelService) Get(ctx context.Context, id string, opts ...RequestOption) (*Model, error) {
	return getID[Model](ctx, s.c, "model id", id, "models/%s", opts)
}
