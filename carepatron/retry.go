package carepatron

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// replayableKey marks, in a request's context, whether the request may be
// sent again without risk of writing twice.
type replayableKey struct{}

// replayable reports whether sending req twice has the effect of sending it
// once: reads, PUT and DELETE by HTTP's definition, and creates carrying an
// Idempotency-Key by Carepatron's.
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// retryPolicy decides whether retryablehttp tries again.
func retryPolicy(maxRetryAfter time.Duration) func(ctx context.Context, resp *http.Response, err error) (bool, error) {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		again, _ := ctx.Value(replayableKey{}).(bool)
		if err != nil {
			return again && transient(err), nil
		}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests:
			// Refused before any work was done: safe to send again whatever
			// the method, unless the wait is too long to hold a caller.
			d, _ := retryAfter(resp)
			return d <= maxRetryAfter, nil
		case code == http.StatusServiceUnavailable:
			d, _ := retryAfter(resp)
			return again && d <= maxRetryAfter, nil
		case code >= 500 && code != http.StatusNotImplemented:
			return again, nil
		}
		return false, nil
	}
}

// transient reports whether a transport error may go away: not a bad URL or
// an untrusted certificate.
func transient(err error) bool {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		var cert *x509.UnknownAuthorityError
		if errors.As(uerr.Err, &cert) || strings.Contains(uerr.Error(), "unsupported protocol scheme") {
			return false
		}
	}
	return true
}

// backoffPolicy waits what the server asked for on a 429 or 503, and an
// exponentially growing, jittered delay otherwise.
func backoffPolicy(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp); ok && d > 0 {
			return d
		}
	}
	b := &backoff.ExponentialBackOff{
		InitialInterval:     minWait,
		RandomizationFactor: 0.3,
		Multiplier:          2,
		MaxInterval:         maxWait,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
	b.Reset()
	d := b.NextBackOff()
	for range attempt {
		d = b.NextBackOff()
	}
	return d
}

// retryAfter reads the Retry-After header, in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
