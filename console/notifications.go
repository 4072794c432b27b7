package console

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/internal/sse"
	"github.com/healthcare-records/healthcare-records/practice"
)

// The notification area and pages: the layout's link with the unread
// count, kept live by a stream of the console's own (the API's needs a
// bearer token; this one the session cookie), the list, one notification
// with its links, and the preferences per kind.

// unreadView is the notification area's count, as the layout and the
// stream's events render it.
type unreadView struct{ Unread int }

type notificationsView struct {
	Items          []notificationRow
	Unread         int
	UnreadOnly     bool
	Cursor, Next   string
	First, NextURL string
	AllURL         string
	UnreadURL      string
	Marked         string
}

type notificationRow struct {
	practice.Notification
	URL string
}

// notifications lists the actor's notifications, newest first, all or
// the unread only, 25 a page.
func (c *Console) notifications(w http.ResponseWriter, r *http.Request, rq *request) error {
	q := r.URL.Query()
	in := practice.NotificationList{UnreadOnly: q.Get("unread") == "1", Cursor: q.Get("cursor"), Limit: pageSize}
	list, unread, err := c.svc.Notifications(r.Context(), rq.actor, in)
	if err != nil {
		return err
	}
	v := notificationsView{Unread: unread, UnreadOnly: in.UnreadOnly, Cursor: in.Cursor, Next: list.Next, Marked: q.Get("marked"),
		AllURL: c.path("notifications"), UnreadURL: c.path("notifications") + query("unread", "1")}
	for _, n := range list.Items {
		v.Items = append(v.Items, notificationRow{Notification: n, URL: c.path("notifications", n.ID)})
	}
	filter := ""
	if in.UnreadOnly {
		filter = "1"
	}
	v.First = c.path("notifications") + query("unread", filter)
	v.NextURL = c.path("notifications") + query("unread", filter, "cursor", list.Next)
	c.render(w, r, rq, http.StatusOK, "notifications", "Notifications", v)
	return nil
}

// readAllNotifications marks every notification of the actor read.
func (c *Console) readAllNotifications(w http.ResponseWriter, r *http.Request, rq *request) error {
	n, err := c.svc.MarkAllNotificationsRead(r.Context(), rq.actor)
	if err != nil {
		return err
	}
	http.Redirect(w, r, c.path("notifications")+query("marked", strconv.Itoa(n)), http.StatusSeeOther)
	return nil
}

// notificationView is one notification with where its links lead in the
// console.
type notificationView struct {
	N practice.Notification
	// Patient, Document, Run and Inquiry are console pages; empty when
	// the notification does not point there.
	Patient, Document, Run, Inquiry string
	// Retry is the console action (a POST) that retries what failed;
	// RetryLabel names it.
	Retry, RetryLabel string
	// Support is the practice's support contact as a link.
	Support string
}

// notification marks one of the actor's notifications read and shows it:
// the page an email's link opens.
func (c *Console) notification(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := c.svc.OpenNotification(r.Context(), rq.actor, id)
	if err != nil {
		return err
	}
	v := notificationView{N: n, Support: supportLink(n.Links.Support)}
	l := n.Links
	if l.PatientID != 0 {
		v.Patient = c.path("patients", l.PatientID)
		if l.Run != "" {
			v.Run = v.Patient + query("run", l.Run)
		}
	}
	if l.DocumentID != 0 {
		v.Document = c.path("documents", l.DocumentID)
	}
	if l.InquiryID != 0 {
		v.Inquiry = c.path("inquiries", l.InquiryID)
	}
	if to, label := retryAction(l.Retry); to != "" {
		v.Retry, v.RetryLabel = c.cfg.BasePath+to, label
	}
	c.render(w, r, rq, http.StatusOK, "notification", n.Title, v)
	return nil
}

// retries map a notification's retry (an API path, see practice.Links)
// to the console's action doing the same.
var retries = []struct {
	api     *regexp.Regexp
	console string
	label   string
}{
	{regexp.MustCompile(`^/patients/([0-9]+)/sync$`), "/patients/$1/sync", "Sync the patient again"},
	{regexp.MustCompile(`^/patients/([0-9]+)/write-back$`), "/patients/$1/retry", "Retry the write-back"},
}

// retryAction is the console path (under BasePath) of a notification's
// retry, and its button's label; empty for a retry the console has no
// action for.
func retryAction(api string) (path, label string) {
	for _, rt := range retries {
		if rt.api.MatchString(api) {
			return rt.api.ReplaceAllString(api, rt.console), rt.label
		}
	}
	return "", ""
}

// supportLink makes the practice's support contact a link: a URL as it
// is, an email address as mailto:. html/template refuses any other
// scheme when it renders the link.
func supportLink(s string) string {
	switch {
	case s == "":
		return ""
	case strings.Contains(s, ":"):
		return s
	case strings.Contains(s, "@"):
		return "mailto:" + s
	}
	return ""
}

// notificationEvents streams the notification area's count for htmx's
// SSE extension: an "unread" event, whose data is the count's HTML, each
// time it changes from what the page shows (?unread=), and an "end"
// event, on which the extension closes the stream instead of
// reconnecting, once the session ended. It does not renew the session's
// idle timer.
func (c *Console) notificationEvents(w http.ResponseWriter, r *http.Request, rq *request) error {
	shown, err := strconv.Atoi(r.URL.Query().Get("unread"))
	if err != nil {
		shown = -1
	}
	events, err := c.svc.WatchNotifications(r.Context(), rq.actor)
	if err != nil {
		return err
	}
	rc, ok := sse.Start(w)
	if !ok {
		return nil
	}
	tick := time.NewTicker(c.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil // the store failed: the browser reconnects
			}
			if ev.Unread == shown {
				continue
			}
			shown = ev.Unread
			if c.writeEvent(w, rc, r, "notifications", "unread", "unread", unreadView{ev.Unread}) != nil {
				return nil
			}
		case <-tick.C:
			// The session may have ended (idle, signed out, the user
			// disabled): then so does the stream, for good.
			if _, err := c.actorOf(r.Context(), rq.sess, rq.client, false); err != nil {
				_ = c.writeEvent(w, rc, r, "notifications", "end", "unread", unreadView{shown})
				return nil
			}
			if sse.Heartbeat(w, rc) != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		}
	}
}

// unreadCount is the actor's unread count for the layout's notification
// area; -1 when it could not be read (the stream then tells it).
func (c *Console) unreadCount(r *http.Request, rq *request) int {
	_, n, err := c.svc.Notifications(r.Context(), rq.actor, practice.NotificationList{UnreadOnly: true, Limit: 1})
	if err != nil {
		return -1
	}
	return n
}
