package mockphp

import (
	"crypto/subtle"
	"encoding/json"
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
//	POST /admin/tasks/fulfill           fulfil pending document requests now
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
	case path == "/tasks/fulfill" && r.Method == http.MethodPost:
		adminJSON(w, http.StatusOK, map[string][]string{"fulfilled": s.FulfillTasks()})
	default:
		adminError(w, http.StatusNotFound, "no admin route "+r.Method+" "+r.URL.Path)
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
