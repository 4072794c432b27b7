package webhook

import (
	"fmt"
	"net/http"
	"strings"
)

// BySource routes each request to the Receiver of the Source named by the
// {source} wildcard of the pattern it was mounted under. Mount it with a
// remainder wildcard, so that the bare prefix and any deeper path are
// answered here too, as problems, rather than by the mux as text/plain:
//
//	mux.Handle("/webhooks/{source...}", webhook.BySource(php, medplum))
//
// A path that names no source, a source with no Receiver, and a path below
// a source ("/webhooks/php/x") are answered 404 as a problem. BySource
// panics if two receivers share a Source.
func BySource(receivers ...*Receiver) http.Handler {
	m := make(map[string]*Receiver, len(receivers))
	for _, r := range receivers {
		if _, dup := m[r.Source()]; dup {
			panic(fmt.Sprintf("webhook: two receivers for source %q", r.Source()))
		}
		m[r.Source()] = r
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		source := req.PathValue("source")
		r, ok := m[source]
		switch {
		case ok:
			r.ServeHTTP(w, req)
		case source == "":
			_ = writeProblem(w, newProblem(http.StatusNotFound, outcomeNotFound, "the path names no webhook source; post to the path of a source, such as /webhooks/<source>"))
		case strings.Contains(source, "/"):
			_ = writeProblem(w, newProblem(http.StatusNotFound, outcomeNotFound, "no webhook receiver at this path; post to the path of the source itself"))
		default:
			// The path is not echoed: it is whatever the sender sent.
			_ = writeProblem(w, newProblem(http.StatusNotFound, outcomeNotFound, "no webhook receiver for this source"))
		}
	})
}
