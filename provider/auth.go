package provider

import "context"

// TokenSource supplies the bearer token sent with every FHIR request.
// Implementations must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a fixed bearer token, for servers without SMART. A 401
// with it fails with ErrAuth: there is nothing to refresh.
type StaticToken string

// Token returns the token.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// invalidator is a TokenSource that can drop its cached token, so that a
// 401 is retried once with a fresh one.
type invalidator interface {
	invalidate()
}
