package carepatron

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// Error is an answer of Carepatron's other than a success. It unwraps to the
// connector's error class of its status, so the engine knows what to do:
//
//   - 400, 401, 403, 413, 422: connector.ErrPermanent; sending the same
//     request again cannot help. 401 and 403 say the API key was refused.
//   - 404: connector.ErrNotFound.
//   - 409: connector.ErrConflict.
//   - 429, 503: returned inside a connector.RetryAfter error carrying the
//     server's Retry-After, once the client's own retries are spent.
//   - anything else: no class; the engine retries it with backoff.
type Error struct {
	// Op is the operation that failed, as named in the spec.
	Op         string
	StatusCode int
	// Problem is the platform's problem document, or one made up from the
	// status when the body was not one.
	Problem Problem
	// RetryAfter is the delay the server asked for, if any.
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

// Unwrap returns the connector error class of the status, or nil.
func (e *Error) Unwrap() error {
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return connector.ErrPermanent
	case http.StatusNotFound:
		return connector.ErrNotFound
	case http.StatusConflict:
		return connector.ErrConflict
	}
	return nil
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// check returns nil when resp has status want, and otherwise closes its
// body and returns the classed error.
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
		d, ok := retryAfter(resp)
		if !ok {
			d = time.Second
		}
		e.RetryAfter = d
		return connector.RetryAfter(d, e)
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
