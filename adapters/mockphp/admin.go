package mockphp

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// handleAdmin serves the admin endpoints, which steer the mock from outside
// the process (the standalone runner, a demo script):
//
//	GET  /admin/faults                  the faults in force
//	PUT  /admin/faults                  replace them (Faults as JSON, durations as "250ms")
//	GET  /admin/subscriptions           the registered endpoints
//	POST /admin/subscriptions           register an Endpoint (JSON); answers {"id":…}
//	DELETE /admin/subscriptions/{id}    unregister
//	GET  /admin/subscriptions/{id}      delivery counts of one endpoint
//	POST /admin/touch?n=5               make n random changes; answers them
//	GET  /admin/changes?after=0         the change log
//	GET  /admin/patients                patients with their document ids
//	GET  /admin/versions?type=Observation&patient=ID  the current version of each live resource of a type (of a patient)
//	POST /admin/tasks/fulfill           fulfil pending document requests now
//	GET  /admin/documents?patient=ID    a patient's documents, deleted ones too
//	POST /admin/documents?patient=ID&kind=lab_result   create a document (kind: lab_result, progress_note, physical_assessment)
//	GET  /admin/documents/{id}          one document
//	POST /admin/documents/{id}/update   amend it (UpdateDocument)
//	POST /admin/documents/{id}/attachment  change its Binary only (UpdateAttachment)
//	DELETE /admin/documents/{id}        delete it and its Binary (DeleteDocument)
//	POST /admin/documents/{id}/restore  create it again under the same id (RestoreDocument)
//	POST /admin/observations/{id}/correct  correct a lab value (CorrectObservation)
//	POST /admin/patients/{id}/update    change a patient's contact details (UpdatePatient)
//
// Each change notifies the subscribed endpoints as any write does.
//
// With Config.AdminToken set every call needs "Authorization: Bearer <token>".
func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AdminToken != "" {
		want := "Bearer " + s.cfg.AdminToken
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			adminError(w, http.StatusUnauthorized, "admin token required")
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(AdminPath, "/"))
	switch {
	case path == "/faults" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Faults())
	case path == "/faults" && r.Method == http.MethodPut:
		var f Faults
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&f); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := s.SetFaults(f); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, s.Faults())
	case path == "/subscriptions" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Endpoints())
	case path == "/subscriptions" && r.Method == http.MethodPost:
		var ep Endpoint
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&ep); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		id, err := s.Subscribe(ep)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusCreated, map[string]string{"id": id})
	case strings.HasPrefix(path, "/subscriptions/") && r.Method == http.MethodDelete:
		if !s.Unsubscribe(strings.TrimPrefix(path, "/subscriptions/")) {
			adminError(w, http.StatusNotFound, "no such endpoint")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case strings.HasPrefix(path, "/subscriptions/") && r.Method == http.MethodGet:
		st, ok := s.Stats(strings.TrimPrefix(path, "/subscriptions/"))
		if !ok {
			adminError(w, http.StatusNotFound, "no such endpoint")
			return
		}
		adminJSON(w, http.StatusOK, st)
	case path == "/touch" && r.Method == http.MethodPost:
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 1 || n > 10000 {
			adminError(w, http.StatusBadRequest, "n must be 1..10000")
			return
		}
		changes, err := s.Touch(n)
		if err != nil {
			adminError(w, http.StatusInternalServerError, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, changes)
	case path == "/changes" && r.Method == http.MethodGet:
		after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
		adminJSON(w, http.StatusOK, s.Changes(after))
	case path == "/patients" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Patients())
	case path == "/versions" && r.Method == http.MethodGet:
		adminJSON(w, http.StatusOK, s.Versions(r.URL.Query().Get("type"), r.URL.Query().Get("patient")))
	case path == "/tasks/fulfill" && r.Method == http.MethodPost:
		adminJSON(w, http.StatusOK, map[string][]string{"fulfilled": s.FulfillTasks()})
	case strings.HasPrefix(path, "/documents"), strings.HasPrefix(path, "/observations/"), strings.HasPrefix(path, "/patients/"):
		s.handleAdminMutation(w, r, path)
	default:
		adminError(w, http.StatusNotFound, "no admin route "+r.Method+" "+r.URL.Path)
	}
}

// handleAdminMutation serves the admin routes that change documents,
// observations and patients one at a time.
func (s *Server) handleAdminMutation(w http.ResponseWriter, r *http.Request, path string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	var (
		v   any
		err error
	)
	status := http.StatusOK
	switch {
	case len(parts) == 1 && parts[0] == "documents" && r.Method == http.MethodGet:
		v = s.Documents(r.URL.Query().Get("patient"))
	case len(parts) == 1 && parts[0] == "documents" && r.Method == http.MethodPost:
		q := r.URL.Query()
		status = http.StatusCreated
		v, err = s.CreateDocument(q.Get("patient"), DocumentKind(q.Get("kind")))
	case len(parts) == 2 && parts[0] == "documents" && r.Method == http.MethodGet:
		info, ok := s.Document(parts[1])
		if !ok {
			adminError(w, http.StatusNotFound, "no such document")
			return
		}
		v = info
	case len(parts) == 2 && parts[0] == "documents" && r.Method == http.MethodDelete:
		if err := s.DeleteDocument(parts[1]); err != nil {
			adminMutationError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	case len(parts) == 3 && r.Method == http.MethodPost:
		switch parts[0] + "/" + parts[2] {
		case "documents/update":
			v, err = s.UpdateDocument(parts[1])
		case "documents/attachment":
			v, err = s.UpdateAttachment(parts[1])
		case "documents/restore":
			status = http.StatusCreated
			v, err = s.RestoreDocument(parts[1])
		case "observations/correct":
			v, err = s.CorrectObservation(parts[1])
		case "patients/update":
			v, err = s.UpdatePatient(parts[1])
		default:
			adminError(w, http.StatusNotFound, "no admin route "+r.Method+" "+r.URL.Path)
			return
		}
	default:
		adminError(w, http.StatusNotFound, "no admin route "+r.Method+" "+r.URL.Path)
		return
	}
	if err != nil {
		adminMutationError(w, err)
		return
	}
	adminJSON(w, status, v)
}

// adminMutationError answers a failed mutation: 404 for an unknown id,
// 409 for a state that forbids the change, 400 otherwise (a bad kind).
func adminMutationError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errUnknown):
		adminError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, errState):
		adminError(w, http.StatusConflict, err.Error())
	default:
		adminError(w, http.StatusBadRequest, err.Error())
	}
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// adminError answers as RFC 9457 problem details.
func adminError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail,
	})
}
