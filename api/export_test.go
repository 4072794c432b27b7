package api

import (
	"context"
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

// NewWithTokens is New with a stand-in for Service.Authenticate that knows
// only these tokens, for the tests that need an actor before the service
// can issue real tokens; any other token is refused as the service would.
func NewWithTokens(cfg Config, tokens map[string]practice.Actor) (http.Handler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return newHandler(cfg, func(_ context.Context, c practice.Client, token string) (practice.Actor, error) {
		a, ok := tokens[token]
		if !ok {
			return practice.Actor{}, practice.ErrUnauthenticated
		}
		a.ClientAddr, a.RequestID = c.Addr, c.RequestID
		return a, nil
	})
}
