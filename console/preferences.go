package console

import (
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

// preferenceRow is one kind of notification in the settings form.
type preferenceRow struct {
	practice.Preference
	Label string
}

type preferencesView struct {
	Rows       []preferenceRow
	Deliveries []deliveryOption
	Saved      bool
	Errors     map[string]string
}

type deliveryOption struct {
	Value practice.Delivery
	Label string
}

var deliveries = []deliveryOption{
	{practice.DeliverInApp, "In the app only"},
	{practice.DeliverEmail, "Email at once"},
	{practice.DeliverHourly, "Email digest, hourly"},
	{practice.DeliverDaily, "Email digest, daily"},
	{practice.DeliverOff, "Off"},
}

var kindLabels = map[practice.NotificationKind]string{
	practice.KindInquiry:      "A prospective patient wrote",
	practice.KindSyncFinished: "A sync finished",
	practice.KindSyncError:    "Sync errors",
	practice.KindAlert:        "A system keeps failing",
	practice.KindRecovered:    "A system recovered",
	practice.KindWriteBack:    "Write-back to the provider",
	practice.KindRequest:      "Document requests",
	practice.KindShared:       "A document shared with you",
	practice.KindChange:       "Significant changes to a record",
	practice.KindSecurity:     "Your account's security",
}

// preferences shows how each kind of notification reaches the actor: the
// page the emails' "Notification settings" link opens.
func (c *Console) preferences(w http.ResponseWriter, r *http.Request, rq *request) error {
	prefs, err := c.svc.NotificationPreferences(r.Context(), rq.actor)
	if err != nil {
		return err
	}
	c.render(w, r, rq, http.StatusOK, "preferences", "Notification settings",
		c.preferencesView(prefs, r.URL.Query().Get("saved") == "1", nil))
	return nil
}

// savePreferences saves the delivery of every kind the form sent.
func (c *Console) savePreferences(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := readForm(w, r, 16<<10); err != nil {
		return err
	}
	var in []practice.Preference
	for _, k := range practice.NotificationKinds {
		if d := r.PostForm.Get(string(k)); d != "" {
			in = append(in, practice.Preference{Kind: k, Delivery: practice.Delivery(d)})
		}
	}
	if _, err := c.svc.SetNotificationPreferences(r.Context(), rq.actor, in); err != nil {
		fe := fieldErrors(err)
		if fe == nil {
			return err
		}
		prefs, perr := c.svc.NotificationPreferences(r.Context(), rq.actor)
		if perr != nil {
			return perr
		}
		c.render(w, r, rq, http.StatusUnprocessableEntity, "preferences", "Notification settings", c.preferencesView(prefs, false, fe))
		return nil
	}
	http.Redirect(w, r, c.path("settings", "notifications")+query("saved", "1"), http.StatusSeeOther)
	return nil
}

func (c *Console) preferencesView(prefs []practice.Preference, saved bool, errs map[string]string) preferencesView {
	v := preferencesView{Deliveries: deliveries, Saved: saved, Errors: errs}
	for _, p := range prefs {
		label := kindLabels[p.Kind]
		if label == "" {
			label = string(p.Kind)
		}
		v.Rows = append(v.Rows, preferenceRow{Preference: p, Label: label})
	}
	return v
}
