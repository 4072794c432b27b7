package httpstop

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Stop shuts srv down: it stops accepting, waits up to grace for the
// requests in flight, then closes every connection still open.
//
// net/http counts a connection that has sent no request yet as busy for
// five seconds (it may be about to send one), and an HTTP client may dial
// a spare connection it never uses, so a plain Shutdown can wait that long
// for nothing. A request still running after grace is cut off; that is
// not an error for a server whose requests are instant. Stop returns the
// error of closing, if any.
func Stop(srv *http.Server, grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return srv.Close()
}
