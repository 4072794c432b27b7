package carepatron

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// Error is an answer of Carepatron's other than the success an operation
// expects. Find it in an error's chain with errors.As, or ask StatusCode
// and IsNotFound:
//
//	var e *carepatron.Error
//	if errors.As(err, &e) && e.Problem.Code == "duplicate_external_reference" {
//		id := e.Problem.ExistingId // the object holding the reference
//	}
//
// What a status means to the caller:
//
//   - 400, 413, 422: the request was refused as it is; sending it again
//     cannot help. Problem says why (Problem.Errors per field with 422).
//   - 401, 403: the API key was refused.
//   - 404: the object does not exist (any more).
//   - 409: a conflict: an external reference another object holds
//     (Problem.ExistingId names it), or an Idempotency-Key reused with
//     another request or still in use.
//   - 429, 503: the server asked to wait RetryAfter; the client's own
//     retries are spent or the wait is longer than WithMaxRetryAfter.
//   - anything else: the server failed; the client's retries are spent.
//
// A failure to reach Carepatron at all is not an *Error but the transport's
// error (a *url.Error), wrapped.
type Error struct {
	// Op is the operation that failed, as named in the spec.
	Op         string
	StatusCode int
	// Problem is the platform's problem document, or one made up from the
	// status when the body was not one.
	Problem Problem
	// RetryAfter is the delay the server asked for with Retry-After on a
	// 429 or 503; zero when it did not say.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "carepatron %s: ", e.Op)
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		fmt.Fprintf(&b, "the api key was refused (%d %s)", e.StatusCode, e.Problem.Code)
		if e.Problem.Detail != "" {
			fmt.Fprintf(&b, ": %s", e.Problem.Detail)
		}
		b.WriteString("; check the carepatron api key and its permissions")
		return b.String()
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Problem.Code != "" {
		fmt.Fprintf(&b, " %s", e.Problem.Code)
	}
	switch {
	case e.Problem.Detail != "":
		fmt.Fprintf(&b, ": %s", e.Problem.Detail)
	case len(e.Problem.Errors) > 0:
		for i, fe := range e.Problem.Errors {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			fmt.Fprintf(&b, "%s%s: %s", sep, fe.Field, fe.Message)
		}
	case e.Problem.Title != "":
		fmt.Fprintf(&b, ": %s", e.Problem.Title)
	}
	return b.String()
}

// StatusCode returns the HTTP status of the *Error in err's chain, or 0
// when there is none (err is nil, or Carepatron was not reached).
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports whether err is Carepatron answering that the object
// does not exist.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// check returns nil when resp has status want, and otherwise closes its
// body and returns the *Error.
func check(op string, resp *http.Response, want int) error {
	if resp.StatusCode == want {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Op: op, StatusCode: resp.StatusCode}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.HasSuffix(mt, "json") {
		_ = json.Unmarshal(body, &e.Problem)
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = resp.StatusCode
	}
	if e.Problem.Title == "" {
		e.Problem.Title = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode/100 == 2 {
		e.Problem.Detail = fmt.Sprintf("unexpected status, want %d", want)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		e.RetryAfter, _ = retryAfter(resp)
	}
	return e
}

// decode reads a JSON success body into v.
func decode[T any](op string, resp *http.Response, want int) (*T, error) {
	if err := check(op, resp, want); err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	v := new(T)
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return nil, fmt.Errorf("carepatron %s: decoding response: %w", op, err)
	}
	return v, nil
}
