package api

import (
	"context"
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

type (
	clientKey  struct{}
	actorKey   struct{}
	authErrKey struct{}
	requestKey struct{}
)

// withClient returns ctx carrying where the request comes from.
func withClient(ctx context.Context, c practice.Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// clientOf returns where the request of ctx comes from.
func clientOf(ctx context.Context) practice.Client {
	c, _ := ctx.Value(clientKey{}).(practice.Client)
	return c
}

// requestIDOf returns the id of the request of ctx, or "".
func requestIDOf(ctx context.Context) string { return clientOf(ctx).RequestID }

// withActor returns ctx carrying the authenticated actor.
func withActor(ctx context.Context, a practice.Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// actorOf returns the actor of the request of ctx: the zero (anonymous)
// Actor when no valid token came with it, which the validator lets reach
// only the operations the spec marks anonymous.
func actorOf(ctx context.Context) practice.Actor {
	a, _ := ctx.Value(actorKey{}).(practice.Actor)
	return a
}

// withAuthError returns ctx carrying why the request's token was refused.
func withAuthError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authErrKey{}, err)
}

func authErrorOf(ctx context.Context) error {
	err, _ := ctx.Value(authErrKey{}).(error)
	return err
}

// withRequest is a strict middleware that puts the request into the
// context of the operation, for the few responses that need it to write
// themselves (a download answers ranges and conditional requests).
func withRequest(f StrictHandlerFunc, _ string) StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error) {
		return f(context.WithValue(ctx, requestKey{}, r), w, r, request)
	}
}

func requestOf(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey{}).(*http.Request)
	return r
}
