package provider

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/hashicorp/go-retryablehttp"
)

// newHTTP builds the retrying HTTP client every request goes through:
// jittered exponential backoff, Retry-After honoured up to
// cfg.MaxRetryAfter, each redirect hop put to checkRedirect.
func newHTTP(cfg *Config, log *slog.Logger, checkRedirect func(*http.Request, []*http.Request) error) *retryablehttp.Client {
	base := &http.Client{Timeout: cfg.Timeout, CheckRedirect: checkRedirect}
	if cfg.HTTPClient != nil {
		base.Transport = cfg.HTTPClient.Transport
		base.Jar = cfg.HTTPClient.Jar
	}
	maxAfter := cfg.MaxRetryAfter
	rc := &retryablehttp.Client{
		HTTPClient: base,
		// No Logger: retryablehttp would log full URLs, and a search's
		// query can hold patient data (email=, identifier=). What is
		// logged goes through log, by path.
		Logger:       nil,
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.RetryMax,
		CheckRetry: func(ctx context.Context, resp *http.Response, err error) (bool, error) {
			return retryPolicy(ctx, resp, err, maxAfter)
		},
		Backoff:      jitterBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, req *http.Request, attempt int) {
			if attempt > 0 {
				log.DebugContext(req.Context(), "fhir retry", "method", req.Method, "path", req.URL.Path, "attempt", attempt)
			}
		},
	}
	return rc
}

// retryPolicy retries transport errors, 429 and 5xx but 501. A 429 or 503
// asking for a longer wait than maxAfter is not retried here: it goes back
// to the caller as a *StatusError carrying the delay, so that a job queue
// can wait instead of a goroutine.
func retryPolicy(ctx context.Context, resp *http.Response, err error, maxAfter time.Duration) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if errors.Is(err, ErrOrigin) {
		return false, nil // a refused redirect: the same answer again
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > maxAfter {
			return false, nil
		}
		return true, nil
	case code >= 500 && code != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// jitterBackoff waits what Retry-After asks on a 429 or 503, else an
// exponential delay from min, capped at max, randomized by ±50% so that
// many workers do not retry in step.
func jitterBackoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return d
		}
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = min
	b.MaxInterval = max
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	b.Reset()
	d := b.NextBackOff()
	for i := 0; i < attempt; i++ {
		d = b.NextBackOff()
	}
	return d
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP-date.
// A date in the past means no wait.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(24*time.Hour/time.Second) {
			s = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	if d := t.Sub(now); d > 0 {
		return d, true
	}
	return 0, true
}
