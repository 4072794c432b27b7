package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

// newPatientView is the new-patient form in its two steps: name and email
// first, checked for a duplicate, then the details.
type newPatientView struct {
	Step                                               int
	Name, Email                                        string
	ContactDetails, MedicalHistory, DietaryPreferences string
	// Duplicate is the patient on record with this email, if any.
	Duplicate int64
	// Confirmed is the duplicate the dietician said is another person.
	Confirmed int64
	Errors    map[string]string
	// Inquiry is the inquiry the patient is made from, if any: creating
	// the patient marks it converted.
	Inquiry *inquiryNote
}

// newPatientForm shows the first step, prefilled from the query: ?name=
// and ?email=, or ?inquiry=, the inquiry email's link, whose name and
// email it takes and whose message it shows beside the form. An inquiry
// no longer new opens the inquiry's page instead, which says why.
func (c *Console) newPatientForm(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := practice.Can(rq.actor, practice.ActionCreatePatient, practice.Resource{}); err != nil {
		return err
	}
	q := r.URL.Query()
	v := newPatientView{Step: 1, Name: q.Get("name"), Email: q.Get("email")}
	note, inq, err := c.prefill(r, rq, q.Get("inquiry"))
	if err != nil {
		return err
	}
	if note != nil {
		if inq.Status != practice.InquiryNew {
			http.Redirect(w, r, c.path("inquiries", inq.ID), http.StatusSeeOther)
			return nil
		}
		v.Name, v.Email, v.Inquiry = inq.Name, inq.Email, note
	}
	c.render(w, r, rq, http.StatusOK, "patient_new", "New patient", v)
	return nil
}

// newPatient checks the first step (step=check) or creates the patient
// (step=create). A duplicate email shows the warning with a link to the
// record on record, and a way to go on if this is another person.
func (c *Console) newPatient(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := readForm(w, r, 256<<10); err != nil {
		return err
	}
	f := r.PostForm
	v := newPatientView{Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")),
		ContactDetails: f.Get("contact_details"), MedicalHistory: f.Get("medical_history"),
		DietaryPreferences: f.Get("dietary_preferences")}
	v.Confirmed, _ = strconv.ParseInt(f.Get("confirm_distinct_from"), 10, 64)
	var err error
	if v.Inquiry, _, err = c.prefill(r, rq, f.Get("inquiry")); err != nil {
		return err
	}
	in := practice.NewPatient{Name: v.Name, Email: v.Email, ContactDetails: v.ContactDetails, MedicalHistory: v.MedicalHistory,
		DietaryPreferences: v.DietaryPreferences, ConfirmDistinctFrom: v.Confirmed}
	if v.Inquiry != nil {
		in.Inquiry = v.Inquiry.ID
	}
	if f.Get("step") != "create" {
		err := c.svc.CheckNewPatient(r.Context(), rq.actor, in)
		return c.newPatientStep(w, r, rq, v, err, 2)
	}
	p, run, err := c.svc.CreatePatient(r.Context(), rq.actor, in)
	if err != nil {
		return c.newPatientStep(w, r, rq, v, err, 0)
	}
	to := c.path("patients", p.ID)
	if run != "" {
		to += query("run", run)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// newPatientStep shows the form after a check: the next step if err is
// nil, the first with the duplicate warning, or the step the refused
// field is in (next 0: the step it came from).
func (c *Console) newPatientStep(w http.ResponseWriter, r *http.Request, rq *request, v newPatientView, err error, next int) error {
	var dup *practice.DuplicateError
	switch {
	case err == nil:
		v.Step = next
	case errors.As(err, &dup):
		v.Step, v.Duplicate = 1, dup.Existing
	case fieldErrors(err) != nil:
		v.Errors = fieldErrors(err)
		v.Step = 2
		if _, ok := v.Errors["name"]; ok {
			v.Step = 1
		}
		if _, ok := v.Errors["email"]; ok {
			v.Step = 1
		}
	default:
		return err
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
	}
	c.render(w, r, rq, status, "patient_new", "New patient", v)
	return nil
}
