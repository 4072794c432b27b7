package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

type nonceKey struct{}

// nonceOf is the request's Content-Security-Policy nonce.
func nonceOf(ctx context.Context) string {
	n, _ := ctx.Value(nonceKey{}).(string)
	return n
}

// csp is the console's Content-Security-Policy: scripts and styles only
// from the console's own assets or an element carrying the response's
// nonce, no eval, no plugins, no framing, forms only to the console.
// pdf.js runs its worker from the same origin and draws images it
// decodes from blob: URLs.
func csp(nonce string) string {
	n := "'nonce-" + nonce + "'"
	return "default-src 'none'; script-src 'self' " + n + "; style-src 'self' " + n +
		"; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self'" +
		"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; object-src 'none'"
}

// secure sets the security headers of every answer, with a fresh nonce
// per request, and refuses cross-origin unsafe requests (the CSRF
// defence: net/http.CrossOriginProtection reads Sec-Fetch-Site and
// Origin) with a page that says so. Every state change is a POST.
func (c *Console) secure(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.log.InfoContext(r.Context(), "cross-origin request refused", "method", r.Method, "path", r.URL.Path)
		c.errorPage(w, r, nil, http.StatusForbidden, "Request refused",
			"This form was sent from another site, so the console refused it. Open the page in the console and send the form from there.")
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		nonce := base64.RawURLEncoding.EncodeToString(b) // no character html/template escapes
		h := w.Header()
		h.Set("Content-Security-Policy", csp(nonce))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), nonceKey{}, nonce)))
	})
}
