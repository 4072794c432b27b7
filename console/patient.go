package console

import (
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

type typeSummary struct {
	Type    connector.DocumentType
	Count   int
	Sources []string
}

type analyteView struct {
	practice.AnalyteSummary
	Points []practice.Observation
}

type patientView struct {
	Patient   practice.Patient
	CanEdit   bool
	CanSync   bool
	CanUpload bool
	CanRetry  bool
	Sync      *syncView
	Types     []typeSummary
	Requests  []practice.DocumentRequest
	CanAsk    bool
	Labs      []analyteView
	Logs      []connector.LogEntry
	Saved     bool
	Errors    map[string]string
}

// hidden reports whether err is the policy keeping a section from the
// actor: the page leaves that section out instead of failing.
func hidden(err error) bool {
	var de *practice.DenyError
	return errors.As(err, &de) || errors.Is(err, practice.ErrForbidden)
}

// patient shows a patient: the record (editable by its dietician), the
// documents by type, the sync button and its progress, document
// requests, lab trends and the sync log. Each section is one practice
// call; a section the policy refuses is left out.
func (c *Console) patient(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	v, err := c.patientPage(r, rq, id)
	if err != nil {
		return err
	}
	v.Saved = r.URL.Query().Get("saved") == "1"
	if run := r.URL.Query().Get("run"); run != "" {
		if p, err := c.svc.Run(r.Context(), rq.actor, run); err == nil {
			v.Sync = &syncView{PatientID: id, Run: run, Progress: p, Events: c.path("syncs", run, "events")}
		}
	}
	c.render(w, r, rq, http.StatusOK, "patient", v.Patient.Name, v)
	return nil
}

func (c *Console) patientPage(r *http.Request, rq *request, id int64) (patientView, error) {
	ctx := r.Context()
	p, err := c.svc.Patient(ctx, rq.actor, id)
	if err != nil {
		return patientView{}, err
	}
	res := practice.Resource{PatientID: p.ID, OwnerID: p.OwnerID}
	v := patientView{Patient: p,
		CanEdit:   practice.Can(rq.actor, practice.ActionUpdatePatient, res) == nil,
		CanSync:   practice.Can(rq.actor, practice.ActionStartSync, res) == nil && p.Link == practice.Linked,
		CanUpload: practice.Can(rq.actor, practice.ActionUploadDocument, res) == nil,
		CanAsk:    practice.Can(rq.actor, practice.ActionRequestDocuments, res) == nil,
	}
	v.CanRetry = v.CanEdit && (p.WriteBack.Status == practice.WriteBackConflict || p.WriteBack.Status == practice.WriteBackFailed)

	docs, err := c.svc.Documents(ctx, rq.actor, id, practice.DocumentList{Limit: practice.MaxLimit})
	switch {
	case err == nil:
		v.Types = summarize(docs)
	case !hidden(err):
		return v, err
	}
	if v.CanAsk {
		if v.Requests, err = c.svc.DocumentRequests(ctx, rq.actor, id); err != nil && !hidden(err) {
			return v, err
		}
	}
	labs, err := c.svc.LabSummary(ctx, rq.actor, id)
	switch {
	case err == nil:
		for _, s := range labs {
			obs, err := c.svc.Observations(ctx, rq.actor, id, practice.ObservationList{Analyte: s.Analyte.ID, Limit: 100})
			if err != nil {
				return v, err
			}
			pts := obs.Items
			sort.Slice(pts, func(i, j int) bool { return pts[i].Effective.Before(pts[j].Effective) })
			v.Labs = append(v.Labs, analyteView{AnalyteSummary: s, Points: pts})
		}
	case !hidden(err):
		return v, err
	}
	logs, err := c.svc.Logs(ctx, rq.actor, practice.LogList{PatientID: id, Limit: 20})
	switch {
	case err == nil:
		v.Logs = logs.Items
	case !hidden(err):
		return v, err
	}
	return v, nil
}

// summarize counts documents by type, with the sources each came from.
func summarize(page practice.DocumentPage) []typeSummary {
	sources := map[connector.DocumentType][]string{}
	for _, d := range page.Items {
		if !slices.Contains(sources[d.Type], d.Source) {
			sources[d.Type] = append(sources[d.Type], d.Source)
		}
	}
	var out []typeSummary
	for _, t := range []connector.DocumentType{connector.DocumentLabResult, connector.DocumentProgressNote,
		connector.DocumentPhysicalAssessment, connector.DocumentOther} {
		if n := page.Counts[t]; n > 0 {
			s := sources[t]
			sort.Strings(s)
			out = append(out, typeSummary{Type: t, Count: n, Sources: s})
		}
	}
	return out
}

// editPatient saves the record's fields; the write-back to the provider
// follows in the background, its status shown on the page.
func (c *Console) editPatient(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := readForm(w, r, 256<<10); err != nil {
		return err
	}
	field := func(name string) *string {
		if _, ok := r.PostForm[name]; !ok {
			return nil
		}
		s := strings.TrimSpace(r.PostForm.Get(name))
		return &s
	}
	in := practice.PatientUpdate{Name: field("name"), Email: field("email"), ContactDetails: field("contact_details"),
		MedicalHistory: field("medical_history"), DietaryPreferences: field("dietary_preferences")}
	if _, err := c.svc.UpdatePatient(r.Context(), rq.actor, id, in); err != nil {
		fe := fieldErrors(err)
		if fe == nil {
			return err
		}
		v, perr := c.patientPage(r, rq, id)
		if perr != nil {
			return perr
		}
		v.Errors = fe
		c.render(w, r, rq, http.StatusUnprocessableEntity, "patient", v.Patient.Name, v)
		return nil
	}
	http.Redirect(w, r, c.path("patients", id)+query("saved", "1"), http.StatusSeeOther)
	return nil
}

// retryWriteBack writes the last edit to the provider again.
func (c *Console) retryWriteBack(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := c.svc.RetryWriteBack(r.Context(), rq.actor, id); err != nil {
		return err
	}
	http.Redirect(w, r, c.path("patients", id), http.StatusSeeOther)
	return nil
}

// requestDocuments asks the provider for more of the patient's documents.
func (c *Console) requestDocuments(w http.ResponseWriter, r *http.Request, rq *request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := readForm(w, r, 64<<10); err != nil {
		return err
	}
	in := practice.RequestInput{What: strings.TrimSpace(r.PostForm.Get("what")), Reason: strings.TrimSpace(r.PostForm.Get("reason")),
		Key: r.PostForm.Get("key")}
	for _, t := range r.PostForm["type"] {
		in.Types = append(in.Types, connector.DocumentType(t))
	}
	if in.From, err = formDate(r.PostForm.Get("from"), "from"); err != nil {
		return err
	}
	if in.To, err = formDate(r.PostForm.Get("to"), "to"); err != nil {
		return err
	}
	if _, err := c.svc.RequestDocuments(r.Context(), rq.actor, id, in); err != nil {
		return err
	}
	http.Redirect(w, r, c.path("patients", id)+"#requests", http.StatusSeeOther)
	return nil
}

// formDate reads a date field (YYYY-MM-DD); empty is the zero time.
func formDate(s, field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, &practice.FieldError{Field: field, Reason: "is not a date (YYYY-MM-DD)"}
	}
	return t, nil
}
