package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

type profileView struct {
	User   practice.User
	Saved  bool
	Errors map[string]string
}

// profile shows the signed-in user's own record.
func (c *Console) profile(w http.ResponseWriter, r *http.Request, rq *request) error {
	u, err := c.svc.User(r.Context(), rq.actor, rq.actor.UserID)
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "profile", "Profile", profileView{User: u, Saved: r.URL.Query().Get("saved") == "1"})
	return nil
}

// editProfile changes one's own name and email, or password. A new
// password needs the current one, checked by signing in with it, so that
// a session left open cannot lock its owner out; changing it ends every
// session of the user (the practice's rule), this one too.
func (c *Console) editProfile(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := readForm(w, r, 16<<10); err != nil {
		return err
	}
	f := r.PostForm
	var in practice.UserUpdate
	again := func(err error) error {
		fe := fieldErrors(err)
		if fe == nil {
			return err
		}
		u, uerr := c.svc.User(r.Context(), rq.actor, rq.actor.UserID)
		if uerr != nil {
			return uerr
		}
		c.render(w, r, rq, http.StatusUnprocessableEntity, "profile", "Profile", profileView{User: u, Errors: fe})
		return nil
	}
	if next := f.Get("new_password"); next != "" {
		if err := c.confirmPassword(r, rq, f.Get("current_password")); err != nil {
			return again(err)
		}
		in.Password = &next
	} else {
		name, email := strings.TrimSpace(f.Get("name")), strings.TrimSpace(f.Get("email"))
		in.Name, in.Email = &name, &email
	}
	u, err := c.svc.UpdateUser(r.Context(), rq.actor, rq.actor.UserID, in)
	if err != nil {
		return again(err)
	}
	// The header shows the name the session signed in with: renew it.
	u.PasswordHash = ""
	rq.sess.mu.Lock()
	rq.sess.tokens.User = u
	rq.sess.mu.Unlock()
	if in.Password != nil {
		c.signOut(r.Context(), w, rq.sess, rq.client)
		http.Redirect(w, r, c.path("login")+query("why", "password"), http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, c.path("profile")+query("saved", "1"), http.StatusSeeOther)
	return nil
}

// confirmPassword checks the user's current password by a sign-in, whose
// session it ends at once.
func (c *Console) confirmPassword(r *http.Request, rq *request, password string) error {
	wrong := &practice.FieldError{Field: "current_password", Reason: "is not your current password"}
	if password == "" {
		return wrong
	}
	t, err := c.svc.Login(r.Context(), rq.client, rq.user.Email, password)
	if errors.Is(err, practice.ErrUnauthenticated) {
		return wrong
	}
	if err != nil {
		return err
	}
	a, err := c.svc.Authenticate(r.Context(), rq.client, t.Access)
	if err != nil {
		return err
	}
	return c.svc.Logout(r.Context(), a)
}
