package webhook

import (
	"fmt"
	"net/http"
)

// BySource routes each request to the Receiver of the Source named by the
// {source} wildcard of the pattern it was mounted under:
//
//	mux.Handle("/webhooks/{source}", webhook.BySource(php, medplum))
//
// A source with no Receiver is answered 404 as a problem. BySource panics
// if two receivers share a Source.
func BySource(receivers ...*Receiver) http.Handler {
	m := make(map[string]*Receiver, len(receivers))
	for _, r := range receivers {
		if _, dup := m[r.Source()]; dup {
			panic(fmt.Sprintf("webhook: two receivers for source %q", r.Source()))
		}
		m[r.Source()] = r
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r, ok := m[req.PathValue("source")]
		if !ok {
			_ = writeProblem(w, newProblem(http.StatusNotFound, outcomeNotFound, "no webhook receiver for this source"))
			return
		}
		r.ServeHTTP(w, req)
	})
}
