package api

import (
	"net/http"
)

// JWKS returns the handler of /.well-known/jwks.json: the public keys that
// verify the service's access tokens, as a JWK set (RFC 7517), for other
// services that accept them. It is served outside the API's base path and
// needs no token. Keys rotate, so verifiers may cache the set only
// briefly.
func JWKS(cfg Config) (http.Handler, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, svc: cfg.Service, log: cfg.Logger}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			p := &problem{Status: http.StatusMethodNotAllowed, Detail: "the key set is read with GET"}
			s.writeProblem(w, r, p.with("Allow", "GET, HEAD"))
			return
		}
		set, err := s.svc.JWKS(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/jwk-set+json")
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(set)
	})
	return s.requestID(h), nil
}
