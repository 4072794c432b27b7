package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

type loginView struct {
	Email, Next, Message, Error string
}

// loginForm shows the sign-in form; why says why the last session ended.
func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c.render(w, r, nil, http.StatusOK, "login", "Sign in", loginView{Next: c.safeNext(q.Get("next")), Message: signedOut[q.Get("why")]})
}

// login signs in and goes to the page asked for, or the home page.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	email, password := strings.TrimSpace(r.PostFormValue("email")), r.PostFormValue("password")
	next := c.safeNext(r.PostFormValue("next"))
	err := c.signIn(r.Context(), w, c.client(r), email, password)
	var rl *practice.RateLimitError
	switch {
	case err == nil:
		if next == "" {
			next = c.path()
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	case errors.As(err, &rl):
		c.render(w, r, nil, http.StatusTooManyRequests, "login", "Sign in", loginView{Email: email, Next: next, Error: rl.Error() + "."})
	case errors.Is(err, practice.ErrUnauthenticated):
		c.render(w, r, nil, http.StatusUnauthorized, "login", "Sign in", loginView{Email: email, Next: next,
			Error: "The email or password is wrong."})
	default:
		c.fail(w, r, nil, err)
	}
}

// logout ends the session here and at the practice.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	c.signOut(r.Context(), w, c.sessionOf(r), c.client(r))
	http.Redirect(w, r, c.path("login")+query("why", "out"), http.StatusSeeOther)
}

// extend renews the idle timer (the request itself does) and answers
// the new deadline, for the warning's "Stay signed in".
func (c *Console) extend(w http.ResponseWriter, r *http.Request, rq *request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	return json.NewEncoder(w).Encode(map[string]int64{"deadline": c.deadline(rq.sess).UnixMilli()})
}

// home is each role's first page.
func (c *Console) home(w http.ResponseWriter, r *http.Request, rq *request) error {
	to := c.path("patients")
	switch rq.actor.Role {
	case practice.RolePractitioner:
		to = c.path("shared")
	case practice.RolePatient:
		to = c.path("patients", rq.actor.PatientID)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// safeNext keeps a return address only if it is a page of the console:
// never another site ("//host", "/\host") nor another path of this one.
func (c *Console) safeNext(next string) string {
	if !strings.HasPrefix(next, c.cfg.BasePath+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// signedOut are the sentences the sign-in page shows for its why
// parameter: a key, so that a link cannot make the page say anything else.
var signedOut = map[string]string{
	"idle":     "Your session ended after a time without activity. Sign in again to go on.",
	"max":      "Your session reached its time limit. Sign in again to go on.",
	"ended":    "Your session ended. Sign in again to go on.",
	"out":      "You signed out.",
	"password": "Your password changed, and every session of yours ended. Sign in with the new password.",
}
