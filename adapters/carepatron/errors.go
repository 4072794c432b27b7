package carepatron

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
)

// minRetryAfter is the least a throttled write waits when Carepatron did
// not say how long.
const minRetryAfter = time.Second

// classify wraps an error of the Carepatron client with the kernel's
// class, so the engine knows what to do:
//
//   - 404, 410: connector.ErrNotFound.
//   - 409: connector.ErrConflict; the next attempt reads the current state.
//   - 429, 503: connector.RetryAfter with the server's delay (at least
//     minRetryAfter); the client's own retries are spent.
//   - 408: no class; retried.
//   - 401, 403 (a refused API key) and every other 4xx (a refused request):
//     connector.ErrPermanent; sending it again cannot help.
//   - 5xx, and Carepatron not reached: no class; retried with backoff.
//
// The *carepatron.Error stays in the chain, for its problem document.
func classify(err error) error {
	var e *carepatron.Error
	if !errors.As(err, &e) {
		return err // nil, or Carepatron not reached: retried
	}
	switch code := e.StatusCode; {
	case code == http.StatusNotFound || code == http.StatusGone:
		return fmt.Errorf("%w: %w", connector.ErrNotFound, err)
	case code == http.StatusConflict:
		return fmt.Errorf("%w: %w", connector.ErrConflict, err)
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return connector.RetryAfter(max(e.RetryAfter, minRetryAfter), err)
	case code == http.StatusRequestTimeout:
		return err
	case code >= 400 && code < 500:
		return fmt.Errorf("%w: %w", connector.ErrPermanent, err)
	}
	return err
}

// duplicateOf reports whether err is Carepatron refusing a create for an
// external reference another object holds, and that object's id.
func duplicateOf(err error) (string, bool) {
	var e *carepatron.Error
	if errors.As(err, &e) && e.StatusCode == http.StatusConflict &&
		e.Problem.Code == "duplicate_external_reference" && e.Problem.ExistingId != "" {
		return e.Problem.ExistingId, true
	}
	return "", false
}
