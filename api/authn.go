package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/healthcare-records/healthcare-records/practice"
)

// Challenges of a 401 (RFC 6750): no token, and a token that was refused.
const (
	challengeMissing = `Bearer realm="healthcare-records"`
	challengeInvalid = `Bearer realm="healthcare-records", error="invalid_token"`
)

// errNoToken is why an operation that needs a token was refused when the
// request carried none.
var errNoToken = errors.New("no bearer token")

// authenticate verifies the request's bearer token, if it has one, with
// the service, and puts the actor it names into the context. It refuses
// nothing itself: which operations need a token is the spec's to say
// (security), so a missing or refused token is recorded in the context and
// the validator's security check (requireActor) answers 401 for the
// operations that need one. An operation open to anyone, such as
// POST /auth/token, so works whatever stale token a client still sends.
//
// An error of the service other than ErrUnauthenticated (its store is
// down) is answered at once, as the mapper says.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		scheme, token, ok := strings.Cut(header, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			next.ServeHTTP(w, r.WithContext(withAuthError(ctx, errors.New("authorization is not a bearer token"))))
			return
		}
		c := clientOf(ctx)
		a, err := s.authn(ctx, c, token)
		switch {
		case errors.Is(err, practice.ErrUnauthenticated):
			next.ServeHTTP(w, r.WithContext(withAuthError(ctx, err)))
			return
		case err != nil:
			s.fail(w, r, err)
			return
		}
		if a.ClientAddr == "" {
			a.ClientAddr = c.Addr
		}
		if a.RequestID == "" {
			a.RequestID = c.RequestID
		}
		next.ServeHTTP(w, r.WithContext(withActor(ctx, a)))
	})
}

// requireActor is the validator's AuthenticationFunc: it verifies nothing
// (authenticate did) and only says whether the request has an actor, for
// the operations whose security asks for bearerAuth.
func requireActor(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
	if !actorOf(ctx).Anonymous() {
		return nil
	}
	if err := authErrorOf(ctx); err != nil {
		return err
	}
	return errNoToken
}

// unauthorized is the 401 of a request whose operation needs a token.
func unauthorized(ctx context.Context) *problem {
	if authErrorOf(ctx) != nil {
		return unauthenticated("the access token is invalid or expired: refresh it, or sign in again", challengeInvalid)
	}
	return unauthenticated("sign in first: send an access token as Authorization: Bearer <token>", challengeMissing)
}
