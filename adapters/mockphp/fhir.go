package mockphp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxBody bounds a resource a client may write.
const maxBody = 16 << 20

// serveFHIR routes a request below the FHIR base; rest has no leading slash.
func (s *Server) serveFHIR(w http.ResponseWriter, r *http.Request, rest string) {
	switch rest {
	case ".well-known/smart-configuration":
		s.withFaults(w, r, "smart-configuration", s.handleSMARTConfig)
		return
	case "metadata":
		s.withFaults(w, r, "metadata", func(w http.ResponseWriter, r *http.Request) {
			if s.cfg.Server.NoCapabilityStatement {
				writeOutcome(w, http.StatusNotFound, "not-supported", "this server publishes no CapabilityStatement")
				return
			}
			s.handleMetadata(w, r)
		})
		return
	}
	parts := strings.Split(rest, "/")
	typ := parts[0]
	if !knownType(typ) {
		writeOutcome(w, http.StatusNotFound, "not-supported", fmt.Sprintf("resource type %q is not supported", typ))
		return
	}
	var interaction string
	var handler http.HandlerFunc
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		interaction, handler = "search", func(w http.ResponseWriter, r *http.Request) { s.handleSearch(w, r, typ, r.URL.Query()) }
	case len(parts) == 1 && r.Method == http.MethodPost:
		interaction, handler = "create", func(w http.ResponseWriter, r *http.Request) { s.handleCreate(w, r, typ) }
	case len(parts) == 2 && parts[1] == "_search" && r.Method == http.MethodPost:
		interaction, handler = "search", func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			if err := r.ParseForm(); err != nil {
				writeOutcome(w, http.StatusBadRequest, "invalid", "form: "+err.Error())
				return
			}
			s.handleSearch(w, r, typ, r.Form)
		}
	case len(parts) == 2 && r.Method == http.MethodGet:
		interaction, handler = "read", func(w http.ResponseWriter, r *http.Request) { s.handleRead(w, r, typ, parts[1], "") }
	case len(parts) == 2 && r.Method == http.MethodPut:
		interaction, handler = "update", func(w http.ResponseWriter, r *http.Request) { s.handleUpdate(w, r, typ, parts[1]) }
	case len(parts) == 2 && r.Method == http.MethodDelete:
		interaction, handler = "delete", func(w http.ResponseWriter, r *http.Request) { s.handleDelete(w, r, typ, parts[1]) }
	case len(parts) == 3 && parts[2] == "_history" && r.Method == http.MethodGet:
		interaction, handler = "history", func(w http.ResponseWriter, r *http.Request) { s.handleHistory(w, r, typ, parts[1]) }
	case len(parts) == 4 && parts[2] == "_history" && r.Method == http.MethodGet:
		if parts[3] == "" {
			writeOutcome(w, http.StatusNotFound, "not-found", "no version given")
			return
		}
		interaction, handler = "vread", func(w http.ResponseWriter, r *http.Request) { s.handleRead(w, r, typ, parts[1], parts[3]) }
	default:
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", r.Method+" "+rest+" is not supported")
		return
	}
	s.withFaults(w, r, interaction+":"+typ, func(w http.ResponseWriter, r *http.Request) {
		if !s.authorize(w, r, typ, interaction) {
			return
		}
		handler(w, r)
	})
}

// handleSearch answers a search. Pages link to each other with keyset
// cursors, or, with OffsetPaging, carry no links and are asked for by
// _offset.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, typ string, params url.Values) {
	base := s.origin(r) + s.cfg.BasePath
	q, err := parseQuery(typ, params, searchOptions{
		strict:    strings.Contains(r.Header.Get("Prefer"), "handling=strict"),
		base:      base,
		behaviour: s.cfg.Server,
	})
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	s.mu.RLock()
	p := s.st.run(q, patientParam(params))
	bodies := make([][]byte, len(p.entries))
	ids := make([]string, len(p.entries))
	for i, rec := range p.entries {
		bodies[i], ids[i] = rec.body, rec.id
	}
	s.mu.RUnlock()

	var links [][2]string
	if !s.cfg.Server.OffsetPaging {
		links = searchLinks(base+"/"+typ, q, p)
	}
	b := newBundle("searchset", p.total, true, s.now(), links...)
	for i, body := range bodies {
		b.add(base+"/"+typ+"/"+ids[i], body, `"search":{"mode":"match"}`)
	}
	w.Header().Set("Content-Type", fhirJSON)
	_, _ = w.Write(b.bytes())
}

// searchLinks are a page's self link and, when more follow, its next
// link: the same search from a cursor after the page's last entry (the
// cursor replaces any _offset).
func searchLinks(endpoint string, q *query, p page) [][2]string {
	self := endpoint
	if enc := q.self.Encode(); enc != "" {
		self += "?" + enc
	}
	links := [][2]string{{"self", self}}
	if p.next != nil {
		nv := url.Values{}
		for k, v := range q.self {
			nv[k] = v
		}
		nv.Del("_offset")
		nv.Set("_page", p.next.encode())
		if nv.Get("_count") == "" {
			nv.Set("_count", strconv.Itoa(q.count))
		}
		links = append(links, [2]string{"next", endpoint + "?" + nv.Encode()})
	}
	return links
}

// handleRead answers a read (tag empty) or a vread of the version whose
// versionId is tag. Without tombstones a deleted resource, and every
// version before its last delete, is simply not found.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request, typ, id, tag string) {
	noTombstones := s.cfg.Server.NoTombstones
	s.mu.RLock()
	rec := s.st.get(typ, id)
	var ver version
	found := false
	if rec != nil {
		versions := rec.versions
		if noTombstones {
			versions = rec.live()
		}
		for i := len(versions) - 1; i >= 0; i-- {
			if tag == "" || versions[i].tag == tag {
				ver, found = versions[i], true
				break
			}
		}
	}
	s.mu.RUnlock()
	switch {
	case !found:
		writeOutcome(w, http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
		return
	case ver.deleted:
		w.Header().Set("ETag", etag(ver.tag))
		writeOutcome(w, http.StatusGone, "deleted", typ+"/"+id+" was deleted")
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && tag == "" {
		if t, err := parseETag(inm); err == nil && t == ver.tag {
			w.Header().Set("ETag", etag(ver.tag))
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if typ == "Binary" && !wantsFHIR(r) {
		writeRawBinary(w, ver)
		return
	}
	writeResource(w, http.StatusOK, ver, ver.body)
}

// wantsFHIR reports whether a Binary read asks for the FHIR JSON form
// rather than the raw content.
func wantsFHIR(r *http.Request) bool {
	if f := r.URL.Query().Get("_format"); f != "" {
		return strings.Contains(f, "json")
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		if mt == "application/fhir+json" || mt == "application/json" || mt == "application/json+fhir" {
			return true
		}
	}
	return false
}

func writeRawBinary(w http.ResponseWriter, ver version) {
	var b struct {
		ContentType string `json:"contentType"`
		Data        string `json:"data"`
	}
	if err := json.Unmarshal(ver.body, &b); err != nil {
		writeOutcome(w, http.StatusInternalServerError, "exception", "stored binary is unreadable")
		return
	}
	raw, err := base64.StdEncoding.DecodeString(b.Data)
	if err != nil {
		writeOutcome(w, http.StatusInternalServerError, "exception", "stored binary is unreadable")
		return
	}
	h := w.Header()
	h.Set("Content-Type", b.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	h.Set("ETag", etag(ver.tag))
	h.Set("Last-Modified", ver.lastUpdated.UTC().Format(http.TimeFormat))
	_, _ = w.Write(raw)
}

// readBody reads a resource of type typ from the request. A Binary may
// also be posted raw, with its own content type.
func readBody(w http.ResponseWriter, r *http.Request, typ string) (object, int, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxBody)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if typ == "Binary" && ct != "" && ct != "application/fhir+json" && ct != "application/json" {
		return object{"resourceType": "Binary", "contentType": r.Header.Get("Content-Type"),
			"data": base64.StdEncoding.EncodeToString(body)}, 0, nil
	}
	res, err := decodeResource(body)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if rt := str(res, "resourceType"); rt != typ {
		return nil, http.StatusBadRequest, fmt.Errorf("resourceType %q posted to %s", rt, typ)
	}
	return res, 0, nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, typ string) {
	res, status, err := readBody(w, r, typ)
	if err != nil {
		writeOutcome(w, status, "invalid", err.Error())
		return
	}
	rec, _, err := s.create(res)
	if err != nil {
		s.writeWriteError(w, err)
		return
	}
	s.answerWrite(w, r, rec, http.StatusCreated)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request, typ, id string) {
	ifMatch, err := parseETag(r.Header.Get("If-Match"))
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	res, status, err := readBody(w, r, typ)
	if err != nil {
		writeOutcome(w, status, "invalid", err.Error())
		return
	}
	if bid := str(res, "id"); bid != id {
		writeOutcome(w, http.StatusBadRequest, "invalid", fmt.Sprintf("resource id %q does not match %s/%s", bid, typ, id))
		return
	}
	if ifMatch == "" && typ == "Patient" && s.cfg.Server.RequireIfMatch && s.exists(typ, id) {
		writeOutcome(w, http.StatusPreconditionRequired, "required", "an update of "+typ+"/"+id+" needs If-Match with its current version")
		return
	}
	rec, created, err := s.commit(res, ifMatch)
	if err != nil {
		s.writeWriteError(w, err)
		return
	}
	status = http.StatusOK
	if created {
		status = http.StatusCreated
	}
	s.answerWrite(w, r, rec, status)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, typ, id string) {
	ifMatch, err := parseETag(r.Header.Get("If-Match"))
	if err != nil {
		writeOutcome(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	if _, err := s.remove(typ, id, ifMatch); err != nil {
		s.writeWriteError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// exists reports whether typ/id is live.
func (s *Server) exists(typ, id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.get(typ, id)
	return rec != nil && !rec.deleted
}

func (s *Server) writeWriteError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, errConflict):
		writeOutcome(w, http.StatusPreconditionFailed, "conflict", err.Error())
	case errors.Is(err, errNotFound):
		writeOutcome(w, http.StatusNotFound, "not-found", err.Error())
	case errors.Is(err, errMalformed):
		writeOutcome(w, http.StatusBadRequest, "invalid", err.Error())
	default:
		writeOutcome(w, http.StatusInternalServerError, "exception", err.Error())
	}
}

// answerWrite answers a create or update as Prefer asks: the resource
// (the default), nothing, or an OperationOutcome.
func (s *Server) answerWrite(w http.ResponseWriter, r *http.Request, rec *record, status int) {
	s.mu.RLock()
	ver := rec.versions[len(rec.versions)-1]
	s.mu.RUnlock()
	loc := s.origin(r) + s.cfg.BasePath + "/" + rec.typ + "/" + rec.id + "/_history/" + ver.tag
	w.Header().Set("Location", loc)
	switch {
	case strings.Contains(r.Header.Get("Prefer"), "return=minimal"):
		w.Header().Set("ETag", etag(ver.tag))
		w.Header().Set("Last-Modified", ver.lastUpdated.UTC().Format(http.TimeFormat))
		w.WriteHeader(status)
	case strings.Contains(r.Header.Get("Prefer"), "return=OperationOutcome"):
		w.Header().Set("ETag", etag(ver.tag))
		writeOutcome(w, status, "informational", rec.typ+"/"+rec.id+" stored as version "+ver.tag)
	default:
		writeResource(w, status, ver, ver.body)
	}
}

// handleHistory answers the instance history, newest version first.
// Without tombstones it holds only the versions since the resource was
// last created, and nothing while it is deleted.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, typ, id string) {
	s.mu.RLock()
	rec := s.st.get(typ, id)
	var versions []version
	if rec != nil {
		if s.cfg.Server.NoTombstones {
			versions = append(versions, rec.live()...)
		} else {
			versions = append(versions, rec.versions...)
		}
	}
	s.mu.RUnlock()
	if rec == nil {
		writeOutcome(w, http.StatusNotFound, "not-found", typ+"/"+id+" is not known")
		return
	}
	base := s.origin(r) + s.cfg.BasePath
	b := newBundle("history", len(versions), true, s.now(), [2]string{"self", base + "/" + typ + "/" + id + "/_history"})
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		method, status := "PUT", "200"
		switch {
		case v.deleted:
			method, status = "DELETE", "204"
		case i == 0 || versions[i-1].deleted:
			method, status = "POST", "201"
		}
		u := typ + "/" + id
		if method == "POST" {
			u = typ
		}
		extra := fmt.Sprintf(`"request":{"method":%q,"url":%q},"response":{"status":%q,"etag":%q,"lastModified":%q}`,
			method, u, status, etag(v.tag), formatInstant(v.lastUpdated))
		b.add(base+"/"+typ+"/"+id+"/_history/"+v.tag, v.body, extra)
	}
	w.Header().Set("Content-Type", fhirJSON)
	_, _ = w.Write(b.bytes())
}
