package console

import (
	"net/http"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

type usersView struct {
	Items          []practice.User
	Role, Q        string
	Cursor, Next   string
	First, NextURL string
	Roles          []practice.Role
	Self           int64
	New            practice.NewUser
	Errors         map[string]string
}

// users lists the users for an admin, with role and text filters, and the
// form that creates one.
func (c *Console) users(w http.ResponseWriter, r *http.Request, rq *request) error {
	return c.usersPage(w, r, rq, http.StatusOK, practice.NewUser{}, nil)
}

func (c *Console) usersPage(w http.ResponseWriter, r *http.Request, rq *request, status int, nu practice.NewUser, errs map[string]string) error {
	q := r.URL.Query()
	in := practice.UserList{Role: practice.Role(q.Get("role")), Text: q.Get("q"), Cursor: q.Get("cursor"), Limit: pageSize}
	list, err := c.svc.Users(r.Context(), rq.actor, in)
	if err != nil {
		return err
	}
	v := usersView{Items: list.Items, Role: q.Get("role"), Q: in.Text, Cursor: in.Cursor, Next: list.Next, Roles: practice.Roles,
		Self: rq.actor.UserID, New: nu, Errors: errs}
	v.First = c.path("users") + query("role", v.Role, "q", v.Q)
	v.NextURL = c.path("users") + query("role", v.Role, "q", v.Q, "cursor", list.Next)
	c.render(w, r, rq, status, "users", "Users", v)
	return nil
}

// createUser creates a staff user with a first password.
func (c *Console) createUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := readForm(w, r, 16<<10); err != nil {
		return err
	}
	f := r.PostForm
	in := practice.NewUser{Email: strings.TrimSpace(f.Get("email")), Name: strings.TrimSpace(f.Get("name")),
		Role: practice.Role(f.Get("role")), Password: f.Get("password")}
	if _, err := c.svc.CreateUser(r.Context(), rq.actor, in); err != nil {
		if fe := fieldErrors(err); fe != nil {
			in.Password = ""
			return c.usersPage(w, r, rq, http.StatusUnprocessableEntity, in, fe)
		}
		return err
	}
	http.Redirect(w, r, c.path("users"), http.StatusSeeOther)
	return nil
}

// editUser changes a user's role, or disables, enables or deletes them
// (the form's action field says which).
func (c *Console) editUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := readForm(w, r, 16<<10); err != nil {
		return err
	}
	switch r.PostForm.Get("action") {
	case "delete":
		err = c.svc.DeleteUser(r.Context(), rq.actor, id)
	case "disable", "enable":
		off := r.PostForm.Get("action") == "disable"
		_, err = c.svc.UpdateUser(r.Context(), rq.actor, id, practice.UserUpdate{Disabled: &off})
	default:
		role := practice.Role(r.PostForm.Get("role"))
		_, err = c.svc.UpdateUser(r.Context(), rq.actor, id, practice.UserUpdate{Role: &role})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, c.path("users"), http.StatusSeeOther)
	return nil
}
