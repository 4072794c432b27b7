// Package console is the dietician's web console: server-rendered HTML
// pages over the practice service, for a browser, beside the JSON API
// (package api) over the same service.
//
// A Console is an http.Handler. Mount it at its BasePath:
//
//	c, err := console.New(console.Config{Service: svc})
//	mux.Handle("/console/", c)
//
// # Thin
//
// Every handler reads the request, calls one practice method and renders
// a template (html/template, in templates/): the console decides nothing
// about access. A page hides a button the policy would refuse by asking
// practice.Can, and the practice refuses the action all the same. A
// practice error becomes one page (problemOf): a record the actor may not
// know of is a 404 like a missing one, a refusal a 403 with the policy's
// reason, a refused field a message beside it.
//
// # Sessions
//
// Signing in is a practice sign-in (Service.Login): the practice keeps
// the session, and each request is authenticated by the practice with it,
// so logging out, disabling a user or changing a role takes effect here
// as in the API. The browser holds a random id in a __Host- cookie
// (Secure, HttpOnly, SameSite=Lax); the tokens stay in this process. A
// session ends after Config.IdleTimeout without a request or
// Config.MaxAge after sign-in; pages warn Config.WarnBefore the idle end
// and offer one click to stay signed in. Sessions live in memory: several
// processes behind one address need sticky sessions, and a restart signs
// everyone out.
//
// # Security
//
// Every answer carries a Content-Security-Policy with a fresh nonce (no
// inline script or style without it, no eval, object-src 'none',
// frame-ancestors 'none'); unsafe requests from another origin are
// refused (net/http.CrossOriginProtection), and every state change is a
// POST. Documents are sent as attachments, with a sandboxing policy of
// their own. Pages are never cached; assets are, for a year, under names
// that carry their content's hash.
//
// # Assets
//
// htmx (with its SSE extension), Pico CSS, uPlot and pdf.js are vendored
// from npm into assets/vendor by assets/vendor.sh, checked against
// assets/vendor.sums, and embedded: nothing is loaded from elsewhere at
// run time, and building needs no network.
package console
