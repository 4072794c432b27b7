package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"

	"github.com/google/uuid"

	"github.com/healthcare-records/healthcare-records/practice"
)

// validRequestID is what an X-Request-ID sent by the client must look like
// to be kept: short and free of anything a log line or header could
// misread.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID gives every request an id: the client's X-Request-ID when it
// is sane, a new UUID otherwise. The id is echoed in X-Request-ID, put in
// every problem, logged, and passed to the service (practice.Client) for
// the audit log. Every answer is also marked no-store, since nearly all
// carry patient data (a download sets its own Cache-Control), and nosniff.
func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID.MatchString(id) {
			id = uuid.NewString()
		}
		h := w.Header()
		h.Set("X-Request-ID", id)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		ctx := withClient(r.Context(), practice.Client{Addr: s.cfg.ClientAddr(r), RequestID: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverPanics answers a handler's panic as a 500 problem, unless the
// handler had begun its answer, and logs it with the stack.
// http.ErrAbortHandler passes through: it is how a handler aborts on
// purpose.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &startWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "api: handler panicked",
				"request_id", requestIDOf(r.Context()), "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.started {
				panic(http.ErrAbortHandler) // the client gets a cut answer, not a wrong one
			}
			s.writeProblem(w, r, &problem{Status: http.StatusInternalServerError, Detail: "the server failed; quote the request_id when you report it"})
		}()
		next.ServeHTTP(sw, r)
	})
}

// startWriter notes whether the answer has begun.
type startWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startWriter) WriteHeader(code int) {
	if code >= 200 {
		w.started = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *startWriter) Write(b []byte) (int, error) {
	w.started = true
	return w.ResponseWriter.Write(b)
}

// Flush is for the code that asserts http.Flusher rather than using an
// http.ResponseController.
func (w *startWriter) Flush() {
	w.started = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (to flush an
// event stream and lift its write deadline).
func (w *startWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// limitBody reads a request's body into memory, bounded: a multipart body
// by MaxUpload plus MultipartOverhead, any other by MaxBody. A body over
// its bound is answered 413 before anything parses it; one whose
// Content-Length says so is not read at all. The validator and the
// handler then read the copy in memory.
func (s *server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		limit, what := s.cfg.MaxBody, "a JSON body"
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			limit, what = s.cfg.MaxUpload+MultipartOverhead, "an upload"
		}
		tooLarge := &problem{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("%s may hold at most %d bytes", what, limit)}
		if r.ContentLength > limit {
			// Unread, the rest of the body would be drained by the
			// server; closing the connection spares that.
			w.Header().Set("Connection", "close")
			s.writeProblem(w, r, tooLarge)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			s.writeProblem(w, r, tooLarge)
			return
		case err != nil:
			s.writeProblem(w, r, invalid("the body could not be read", FieldProblem{Field: "body", Reason: "could not be read to its end"}))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		r.ContentLength = int64(len(data))
		next.ServeHTTP(w, r)
	})
}
