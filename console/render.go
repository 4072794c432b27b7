package console

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

//go:embed templates
var templateFS embed.FS

// pages holds one template set per page: the layout, the shared
// partials and the page's own "content".
type pages struct {
	byName map[string]*template.Template
}

func parsePages(c *Console) (*pages, error) {
	funcs := template.FuncMap{
		"asset":    c.assets.url,
		"path":     c.path,
		"date":     formatDate,
		"datetime": formatDateTime,
		"isodate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02")
		},
		"typeName": typeName,
		"percent":  percent,
		"size":     humanSize,
		"query":    query,
		"lower":    strings.ToLower,
		"deref": func(f *float64) string {
			if f == nil {
				return ""
			}
			return strconv.FormatFloat(*f, 'f', -1, 64)
		},
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", n, err)
		}
		p.byName[strings.TrimSuffix(strings.TrimPrefix(path.Base(n), "page_"), ".html")] = t
	}
	return p, nil
}

// view is what every page's template receives.
type view struct {
	Title string
	Nonce string
	// Signed-in state; Actor is anonymous on the sign-in page.
	Actor practice.Actor
	User  practice.User
	Nav   []navItem
	// Deadline is when the session ends without activity (Unix ms), and
	// Warn how long before it the page warns (ms); zero when signed out.
	Deadline, Warn, Idle int64
	// Current is the request's path, for the navigation's aria-current.
	Current string
	// Unread is the notification area's count (-1 unknown), and Events
	// the stream that keeps it live.
	Unread unreadView
	Events string
	Data   any
}

type navItem struct {
	Label, URL string
	Current    bool
	// Live marks the notification area, whose count follows a stream.
	Live bool
}

// nav lists the sections the actor's role works in. Showing an entry
// decides nothing: every page asks the practice.
func (c *Console) nav(a practice.Actor, current string) []navItem {
	var items []navItem
	add := func(label string, parts ...any) {
		u := c.path(parts...)
		items = append(items, navItem{Label: label, URL: u, Current: current == u || strings.HasPrefix(current, u+"/")})
	}
	switch a.Role {
	case practice.RoleAdmin:
		add("Patients", "patients")
		add("Inquiries", "inquiries")
		add("Logs", "logs")
		add("Users", "users")
	case practice.RoleDietician:
		add("Patients", "patients")
		add("Inquiries", "inquiries")
		add("Logs", "logs")
	case practice.RolePractitioner:
		add("Shared with me", "shared")
	case practice.RolePatient:
		add("My record", "patients", a.PatientID)
	}
	add("Search", "search")
	add("Notifications", "notifications")
	items[len(items)-1].Live = true
	add("Profile", "profile")
	return items
}

// request is a signed-in request as handlers see it.
type request struct {
	actor  practice.Actor
	user   practice.User
	sess   *session
	client practice.Client
}

// handler is a console page or action: it reads the request, calls one
// practice method, renders. A returned error becomes the error page.
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *Console) client(r *http.Request) practice.Client {
	return practice.Client{Addr: c.cfg.ClientAddr(r), RequestID: newRequestID()}
}

// authed runs h for a signed-in request; any other goes to sign-in.
// touch renews the session's idle timer (a progress stream does not).
func (c *Console) authed(h handler, touch bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cl := c.client(r)
		sess := c.sessionOf(r)
		if sess == nil {
			c.toLogin(w, r, "")
			return
		}
		a, err := c.actorOf(r.Context(), sess, cl, touch)
		if err != nil {
			if e, ok := err.(errSessionEnded); ok {
				clearCookie(w)
				c.toLogin(w, r, e.reason)
				return
			}
			c.fail(w, r, nil, err)
			return
		}
		sess.mu.Lock()
		u := sess.tokens.User
		sess.mu.Unlock()
		rq := &request{actor: a, user: u, sess: sess, client: cl}
		if err := h(w, r, rq); err != nil {
			c.fail(w, r, rq, err)
		}
	})
}

// toLogin sends the browser to the sign-in page, back to r's page after.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, reason string) {
	q := url.Values{}
	if r.Method == http.MethodGet && r.Header.Get("HX-Request") == "" {
		q.Set("next", r.URL.RequestURI())
	}
	if reason != "" {
		q.Set("why", reason)
	}
	to := c.path("login")
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	if r.Header.Get("HX-Request") != "" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// render writes the page name with data, in the layout.
func (c *Console) render(w http.ResponseWriter, r *http.Request, rq *request, status int, name, title string, data any) {
	t, ok := c.pages.byName[name]
	if !ok {
		panic("console: no page " + name)
	}
	v := view{Title: title, Nonce: nonceOf(r.Context()), Current: r.URL.Path, Data: data}
	if rq != nil {
		v.Actor, v.User, v.Nav = rq.actor, rq.user, c.nav(rq.actor, r.URL.Path)
		v.Deadline = c.deadline(rq.sess).UnixMilli()
		v.Warn = c.cfg.WarnBefore.Milliseconds()
		v.Idle = c.cfg.IdleTimeout.Milliseconds()
		v.Unread = unreadView{c.unreadCount(r, rq)}
		v.Events = c.path("notifications", "events") + query("unread", strconv.Itoa(v.Unread.Unread))
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.ErrorContext(r.Context(), "rendering a page failed", "page", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	c.writeHTML(w, status, buf.Bytes())
}

// fragment writes the template name alone, for an htmx swap.
func (c *Console) fragment(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	var buf bytes.Buffer
	if err := c.pages.byName[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.log.ErrorContext(r.Context(), "rendering a fragment failed", "fragment", name, "err", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	c.writeHTML(w, http.StatusOK, buf.Bytes())
}

func (c *Console) writeHTML(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold health records: never kept by a cache or the history.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func typeName(t connector.DocumentType) string {
	switch t {
	case connector.DocumentLabResult:
		return "Lab results"
	case connector.DocumentProgressNote:
		return "Progress notes"
	case connector.DocumentPhysicalAssessment:
		return "Physical assessments"
	case connector.DocumentOther:
		return "Other"
	}
	return string(t)
}

// percent is how far a sync run is, for its progress bar.
func percent(p connector.Progress) int {
	if p.Finished() {
		return 100
	}
	if p.Total <= 0 {
		return 0
	}
	// While the run still lists, its total grows: never 100% before
	// the run is finished.
	return min(99, (p.Done+p.Errors)*100/p.Total)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// query is url.Values of key, value pairs, with empty values left out,
// encoded: for the links of sorting and paging.
func query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// readForm reads a posted form of at most max bytes; an unreadable or
// larger one is refused as a field of the form.
func readForm(w http.ResponseWriter, r *http.Request, max int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		return &practice.FieldError{Field: "form", Reason: "could not be read: " + formProblem(err)}
	}
	return nil
}

func formProblem(err error) string {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return "it is too large"
	}
	return "it is malformed"
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006")
}

func formatDateTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}
