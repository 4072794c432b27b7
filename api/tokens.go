package api

import (
	"context"
	"math"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) CreateToken(ctx context.Context, req CreateTokenRequestObject) (CreateTokenResponseObject, error) {
	t, err := s.svc.Login(ctx, clientOf(ctx), req.Body.Email, req.Body.Password)
	if err != nil {
		return nil, err
	}
	return CreateToken200JSONResponse{s.tokensOut(t)}, nil
}

func (s *server) RefreshToken(ctx context.Context, req RefreshTokenRequestObject) (RefreshTokenResponseObject, error) {
	t, err := s.svc.Refresh(ctx, clientOf(ctx), req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return RefreshToken200JSONResponse{s.tokensOut(t)}, nil
}

func (s *server) Logout(ctx context.Context, _ LogoutRequestObject) (LogoutResponseObject, error) {
	if err := s.svc.Logout(ctx, actorOf(ctx)); err != nil {
		return nil, err
	}
	return Logout204Response{}, nil
}

// tokensOut answers a sign-in. expires_in is whole seconds, rounded down,
// so that a client that renews at expiry is never late.
func (s *server) tokensOut(t practice.Tokens) TokensJSONResponse {
	expiresIn := int(math.Max(0, math.Floor(t.AccessExpires.Sub(s.cfg.Now()).Seconds())))
	return TokensJSONResponse{
		Body: Tokens{
			AccessToken:      t.Access,
			TokenType:        TokenTypeBearer,
			ExpiresIn:        expiresIn,
			RefreshToken:     t.Refresh,
			RefreshExpiresAt: t.RefreshExpires,
			User:             userOut(t.User),
		},
		Headers: TokensResponseHeaders{CacheControl: "no-store"},
	}
}
