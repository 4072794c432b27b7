package practice

// TEMPORARY: the signatures of the service, for the layers built beside
// it; each moves to its own file with its body.

import (
	"context"
	"errors"
	"time"
)

var errNotYet = errors.New("practice: not built yet")

// Tokens are what a sign-in or a refresh returns.
type Tokens struct {
	Access         string
	AccessExpires  time.Time
	Refresh        string
	RefreshExpires time.Time
	User           User
}

// Login signs a user in with email and password.
func (s *Service) Login(ctx context.Context, c Client, email, password string) (Tokens, error) {
	return Tokens{}, errNotYet
}

// Refresh rotates a refresh token.
func (s *Service) Refresh(ctx context.Context, c Client, refresh string) (Tokens, error) {
	return Tokens{}, errNotYet
}

// Logout ends the actor's session.
func (s *Service) Logout(ctx context.Context, a Actor) error { return errNotYet }

// Authenticate verifies an access token and returns its actor.
func (s *Service) Authenticate(ctx context.Context, c Client, token string) (Actor, error) {
	return Actor{}, errNotYet
}

// JWKS returns the public keys that verify access tokens, as a JWK set.
func (s *Service) JWKS(ctx context.Context) ([]byte, error) { return nil, errNotYet }
