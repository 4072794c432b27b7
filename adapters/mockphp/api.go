package mockphp

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// PatientInfo summarises a patient for tests and demos.
type PatientInfo struct {
	ID          string    `json:"id"`
	MRN         string    `json:"mrn"`
	Name        string    `json:"name"`
	Email       string    `json:"email"`
	VersionID   string    `json:"versionId"`
	LastUpdated time.Time `json:"lastUpdated"`
	// Documents are the ids of the patient's live DocumentReferences.
	Documents []string `json:"documents"`
}

// DocumentInfo summarises a DocumentReference.
type DocumentInfo struct {
	ID          string       `json:"id"`
	PatientID   string       `json:"patientId"`
	Kind        DocumentKind `json:"kind"`
	Title       string       `json:"title"`
	Date        time.Time    `json:"date"`
	ContentType string       `json:"contentType"`
	// BinaryID is set when the content is behind a Binary URL rather than
	// inline.
	BinaryID string `json:"binaryId,omitempty"`
	// DiagnosticReportID is set for lab reports.
	DiagnosticReportID string `json:"diagnosticReportId,omitempty"`
	// ContentHash is the hex SHA-256 of the attachment's bytes, inline or
	// in its Binary: what a sync must deliver.
	ContentHash string    `json:"contentHash,omitempty"`
	VersionID   string    `json:"versionId"`
	LastUpdated time.Time `json:"lastUpdated"`
	Deleted     bool      `json:"deleted,omitempty"`
}

// Patients lists every live patient in creation order.
func (s *Server) Patients() []PatientInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PatientInfo
	for _, rec := range s.st.ordered["Patient"] {
		if rec.deleted {
			continue
		}
		res, err := decodeResource(rec.body)
		if err != nil {
			continue
		}
		info := PatientInfo{ID: rec.id, VersionID: rec.tag(), LastUpdated: rec.lastUpdated}
		if len(rec.emails) > 0 {
			info.Email = rec.emails[0]
		}
		for _, t := range rec.identifiers {
			if t.system == MRNSystem {
				info.MRN = t.value
			}
		}
		if names := arr(res, "name"); len(names) > 0 {
			if n, ok := names[0].(object); ok {
				info.Name = str(n, "text")
			}
		}
		for _, d := range s.st.byPat["DocumentReference"][rec.ref()] {
			info.Documents = append(info.Documents, d.id)
		}
		out = append(out, info)
	}
	return out
}

// Documents lists the DocumentReferences of a patient (every patient's when
// patientID is empty), deleted ones included, in creation order.
func (s *Server) Documents(patientID string) []DocumentInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []DocumentInfo
	for _, rec := range s.st.ordered["DocumentReference"] {
		if patientID != "" && rec.patient != "Patient/"+patientID {
			continue
		}
		out = append(out, s.docInfoLocked(rec))
	}
	return out
}

// Document returns one DocumentReference's summary.
func (s *Server) Document(id string) (DocumentInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.get("DocumentReference", id)
	if rec == nil {
		return DocumentInfo{}, false
	}
	return s.docInfoLocked(rec), true
}

func (s *Server) docInfoLocked(rec *record) DocumentInfo {
	info := DocumentInfo{
		ID: rec.id, PatientID: strings.TrimPrefix(rec.patient, "Patient/"), Date: rec.date,
		VersionID: rec.tag(), LastUpdated: rec.lastUpdated, Deleted: rec.deleted,
	}
	body := rec.body
	if rec.deleted {
		for i := len(rec.versions) - 1; i >= 0 && body == nil; i-- {
			body = rec.versions[i].body
		}
	}
	res, err := decodeResource(body)
	if err != nil {
		return info
	}
	for _, t := range codings(obj(res, "type")) {
		if k, ok := kindOfLOINC(t.value); ok {
			info.Kind = k
		}
	}
	if info.PatientID == "" {
		info.PatientID = strings.TrimPrefix(patientOf(obj(res, "subject")), "Patient/")
	}
	info.Title = str(res, "description")
	if c := arr(res, "content"); len(c) > 0 {
		if m, ok := c[0].(object); ok {
			att := obj(m, "attachment")
			info.ContentType = str(att, "contentType")
			data := str(att, "data")
			if u := str(att, "url"); u != "" {
				info.BinaryID = strings.TrimPrefix(refTarget(u), "Binary/")
				if bin := s.st.get("Binary", info.BinaryID); bin != nil {
					if b, err := decodeResource(bin.body); err == nil {
						data = str(b, "data")
					}
				}
			}
			if raw, err := base64.StdEncoding.DecodeString(data); err == nil && data != "" {
				sum := sha256.Sum256(raw)
				info.ContentHash = hex.EncodeToString(sum[:])
			}
		}
	}
	for _, rel := range arr(obj(res, "context"), "related") {
		if m, ok := rel.(object); ok {
			if t := refTarget(str(m, "reference")); strings.HasPrefix(t, "DiagnosticReport/") {
				info.DiagnosticReportID = strings.TrimPrefix(t, "DiagnosticReport/")
			}
		}
	}
	return info
}

// Resource returns the current JSON of typ/id, as a read would serve it.
func (s *Server) Resource(typ, id string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.get(typ, id)
	if rec == nil || rec.deleted {
		return nil, false
	}
	return append([]byte(nil), rec.body...), true
}

// Count returns how many live resources of typ the server holds.
func (s *Server) Count(typ string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, r := range s.st.ordered[typ] {
		if !r.deleted {
			n++
		}
	}
	return n
}

// Versions returns the current meta.versionId of every live resource of
// typ, by id: what a converged sync of that type holds. A patient id
// keeps those in the patient's compartment; empty keeps all.
func (s *Server) Versions(typ, patientID string) map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]string{}
	for _, r := range s.st.ordered[typ] {
		if !r.deleted && (patientID == "" || r.patient == "Patient/"+patientID) {
			out[r.id] = r.tag()
		}
	}
	return out
}

// WriteDataSet writes every live resource (Subscriptions aside) as NDJSON,
// by type and then creation order: the same seed and sizes write the same
// bytes.
func (s *Server) WriteDataSet(w io.Writer) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	bw := bufio.NewWriter(w)
	for _, t := range resourceTypes {
		if t == "Subscription" {
			continue
		}
		for _, rec := range s.st.ordered[t] {
			if rec.deleted {
				continue
			}
			_, _ = bw.Write(rec.body)
			_ = bw.WriteByte('\n')
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("mockphp: write data set: %w", err)
	}
	return nil
}

// personaLocked returns the generator's persona of a patient, or one
// rebuilt from the Patient resource for patients created over HTTP.
func (s *Server) personaLocked(patientID string) (*persona, error) {
	rec, err := s.liveLocked("Patient", patientID)
	if err != nil {
		return nil, err
	}
	if p := s.personas[patientID]; p != nil {
		return p, nil
	}
	res, err := decodeResource(rec.body)
	if err != nil {
		return nil, err
	}
	p := &persona{id: patientID, given: "Unknown", family: "Patient", heightCm: 170, weightKg: 75,
		clinician: clinicians[0], since: rec.lastUpdated}
	if names := arr(res, "name"); len(names) > 0 {
		if n, ok := names[0].(object); ok {
			p.family = str(n, "family")
			if g := arr(n, "given"); len(g) > 0 {
				p.given, _ = g[0].(string)
			}
		}
	}
	p.birth = parseLoose(str(res, "birthDate"))
	p.mrn = "MRN-0000000"
	for _, t := range rec.identifiers {
		if t.system == MRNSystem && len(t.value) > 4 {
			p.mrn = t.value
		}
	}
	p.diets = []dietNote{{text: "No dietary information recorded"}}
	s.personas[patientID] = p
	return p, nil
}

// CreateDocument adds a new document of kind for the patient, dated now,
// with the resources it needs (Binary, Observations, DiagnosticReport),
// and notifies each.
func (s *Server) CreateDocument(patientID string, kind DocumentKind) (DocumentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createDocumentLocked(patientID, kind)
}

func (s *Server) createDocumentLocked(patientID string, kind DocumentKind) (DocumentInfo, error) {
	if kind.LOINC() == "" {
		return DocumentInfo{}, fmt.Errorf("mockphp: document kind %q is not known", kind)
	}
	p, err := s.personaLocked(patientID)
	if err != nil {
		return DocumentInfo{}, err
	}
	g := &docGen{r: s.rng, p: p, docNo: len(s.st.byPat["DocumentReference"][p.ref()]) + 100}
	doc := g.document(kind, s.now().Add(-time.Duration(g.r.IntN(120))*time.Minute))
	var last *record
	for _, res := range doc.resources {
		if last, _, err = s.commitLocked(res, ""); err != nil {
			return DocumentInfo{}, fmt.Errorf("mockphp: create document: %w", err)
		}
	}
	return s.docInfoLocked(last), nil
}

// UpdateDocument amends a document: its status becomes amended and its
// content gains an addendum (in its Binary when it has one, which then
// changes too). Each changed resource notifies.
func (s *Server) UpdateDocument(id string) (DocumentInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateDocumentLocked(id)
}

func (s *Server) updateDocumentLocked(id string) (DocumentInfo, error) {
	rec, err := s.liveLocked("DocumentReference", id)
	if err != nil {
		return DocumentInfo{}, err
	}
	res, err := decodeResource(rec.body)
	if err != nil {
		return DocumentInfo{}, err
	}
	addendum := s.addendumLocked()
	content := arr(res, "content")
	if len(content) == 0 {
		return DocumentInfo{}, fmt.Errorf("mockphp: %s has no content", id)
	}
	att := obj(content[0].(object), "attachment")
	var data []byte
	binID := ""
	if u := str(att, "url"); u != "" {
		binID = strings.TrimPrefix(refTarget(u), "Binary/")
		if data, err = s.amendBinaryLocked(binID, str(att, "title"), addendum); err != nil {
			return DocumentInfo{}, err
		}
	} else {
		raw, err := decodeBase64(str(att, "data"))
		if err != nil {
			return DocumentInfo{}, fmt.Errorf("mockphp: %s content: %w", id, err)
		}
		data = append(raw, addendum...)
	}
	fresh := inlineAttachment(str(att, "contentType"), data, str(att, "title"), s.now())
	if binID != "" {
		delete(fresh, "data")
		fresh["url"] = str(att, "url")
	}
	content[0].(object)["attachment"] = fresh
	res["docStatus"] = "amended"
	rec, _, err = s.commitLocked(res, "")
	if err != nil {
		return DocumentInfo{}, err
	}
	return s.docInfoLocked(rec), nil
}

// addendumLocked is a line a clinician adds to a document, dated now.
func (s *Server) addendumLocked() string {
	return fmt.Sprintf("\nAddendum %s: %s\n", s.now().Format("2006-01-02 15:04"), pick(s.rng, []string{
		"Results discussed with the patient by phone.",
		"Corrected units in the weight entry; no change to the plan.",
		"Copy sent to the dietician at the patient's request.",
		"Patient reports the new meal plan is going well.",
	}))
}

// amendBinaryLocked appends addendum to the content of Binary/binID (a
// PDF is rendered again with it) and commits the Binary, which notifies.
// It returns the new content.
func (s *Server) amendBinaryLocked(binID, title, addendum string) ([]byte, error) {
	brec, err := s.liveLocked("Binary", binID)
	if err != nil {
		return nil, err
	}
	bin, err := decodeResource(brec.body)
	if err != nil {
		return nil, err
	}
	raw, err := decodeBase64(str(bin, "data"))
	if err != nil {
		return nil, fmt.Errorf("mockphp: binary %s: %w", binID, err)
	}
	var data []byte
	if strings.HasPrefix(str(bin, "contentType"), "application/pdf") {
		data = renderPDF(title, extractPDFText(raw)+addendum)
	} else {
		data = append(raw, addendum...)
	}
	bin["data"] = encodeBase64(data)
	if _, _, err := s.commitLocked(bin, ""); err != nil {
		return nil, err
	}
	return data, nil
}

// DeleteDocument deletes a DocumentReference and the Binary holding its
// content.
func (s *Server) DeleteDocument(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteDocumentLocked(id)
}

func (s *Server) deleteDocumentLocked(id string) error {
	rec, err := s.liveLocked("DocumentReference", id)
	if err != nil {
		return err
	}
	info := s.docInfoLocked(rec)
	if _, err := s.removeLocked("DocumentReference", id, ""); err != nil {
		return err
	}
	if info.BinaryID != "" {
		if _, err := s.removeLocked("Binary", info.BinaryID, ""); err != nil {
			return err
		}
	}
	return nil
}

// UpdatePatient changes a patient's contact details (a new phone number
// and street address), as a patient moving house does.
func (s *Server) UpdatePatient(id string) (PatientInfo, error) {
	s.mu.Lock()
	err := s.updatePatientLocked(id)
	s.mu.Unlock()
	if err != nil {
		return PatientInfo{}, err
	}
	for _, p := range s.Patients() {
		if p.ID == id {
			return p, nil
		}
	}
	return PatientInfo{}, fmt.Errorf("mockphp: Patient/%s: %w", id, errUnknown)
}

func (s *Server) updatePatientLocked(id string) error {
	rec, err := s.liveLocked("Patient", id)
	if err != nil {
		return err
	}
	res, err := decodeResource(rec.body)
	if err != nil {
		return err
	}
	pl := pick(s.rng, places)
	res["address"] = list(object{
		"use": "home", "line": list(fmt.Sprintf("%d %s", 1+s.rng.IntN(480), pick(s.rng, streetNames))),
		"city": pl.city, "state": pl.state, "postalCode": pl.postal, "country": "US",
	})
	var telecom []any
	for _, t := range arr(res, "telecom") {
		if m, ok := t.(object); ok && str(m, "system") == "phone" {
			m["value"] = fmt.Sprintf("+1-%s-555-01%02d", pl.area, s.rng.IntN(100))
		}
		telecom = append(telecom, t)
	}
	res["telecom"] = telecom
	_, _, err = s.commitLocked(res, "")
	return err
}

// Touch makes n random changes, as a busy practice would: documents
// amended, added and (rarely) deleted, patients' details updated. It
// returns the changes in commit order. The same seed and the same calls
// make the same choices.
func (s *Server) Touch(n int) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := s.em.seq
	for range n {
		pats := s.st.ordered["Patient"]
		docs := s.st.ordered["DocumentReference"]
		if len(pats) == 0 {
			return nil, fmt.Errorf("mockphp: touch: no patients")
		}
		var err error
		switch x := s.rng.IntN(100); {
		case x < 45 && len(docs) > 0:
			if d := liveOf(docs, s.rng.IntN(len(docs))); d != nil {
				_, err = s.updateDocumentLocked(d.id)
			}
		case x < 80:
			if p := liveOf(pats, s.rng.IntN(len(pats))); p != nil {
				kinds := []DocumentKind{KindLabResult, KindProgressNote, KindPhysicalAssessment}
				_, err = s.createDocumentLocked(p.id, pick(s.rng, kinds))
			}
		case x < 88 && len(docs) > 0:
			if d := liveOf(docs, s.rng.IntN(len(docs))); d != nil {
				err = s.deleteDocumentLocked(d.id)
			}
		default:
			if p := liveOf(pats, s.rng.IntN(len(pats))); p != nil {
				err = s.updatePatientLocked(p.id)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("mockphp: touch: %w", err)
		}
	}
	return s.em.since(start), nil
}

// liveOf returns the first live record at or after i, wrapping around.
func liveOf(recs []*record, i int) *record {
	for k := range recs {
		if r := recs[(i+k)%len(recs)]; !r.deleted {
			return r
		}
	}
	return nil
}

// Changes returns the committed changes numbered after seq, in order.
func (s *Server) Changes(after uint64) []Change {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.em.since(after)
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// extractPDFText recovers the lines renderPDF wrote.
func extractPDFText(pdf []byte) string {
	var lines []string
	for _, l := range strings.Split(string(pdf), "\n") {
		if !strings.HasPrefix(l, "(") || !strings.HasSuffix(l, ") '") {
			continue
		}
		l = l[1 : len(l)-3]
		l = strings.NewReplacer(`\(`, "(", `\)`, ")", `\\`, `\`).Replace(l)
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n") + "\n"
}

// MarshalJSON lets a Change travel through the admin API.
func (c Change) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Seq          uint64    `json:"seq"`
		Type         string    `json:"type"`
		ResourceType string    `json:"resourceType"`
		ID           string    `json:"id"`
		VersionID    string    `json:"versionId"`
		Patient      string    `json:"patient,omitempty"`
		LastUpdated  time.Time `json:"lastUpdated"`
		At           time.Time `json:"at"`
	}{c.Seq, c.Type, c.ResourceType, c.ID, c.VersionID, c.Patient, c.LastUpdated, c.At})
}
