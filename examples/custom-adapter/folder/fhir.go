package folder

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
)

// The FHIR R4 subset this adapter reads. Fields it does not know (and
// there are many: extensions, narrative) are ignored, not refused: FHIR is
// read leniently.

const typeDocumentReference = "DocumentReference"

// header is what every resource file starts with.
type header struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated"`
	} `json:"meta"`
}

type documentReference struct {
	header
	Status      string            `json:"status"`
	Type        codeableConcept   `json:"type"`
	Category    []codeableConcept `json:"category"`
	Subject     *reference        `json:"subject"`
	Date        string            `json:"date"`
	Author      []reference       `json:"author"`
	Custodian   *reference        `json:"custodian"`
	Description string            `json:"description"`
	Content     []struct {
		Attachment struct {
			ContentType string `json:"contentType"`
			Data        string `json:"data"`
			URL         string `json:"url"`
		} `json:"attachment"`
	} `json:"content"`
}

type patient struct {
	header
	Name []struct {
		Use    string   `json:"use"`
		Text   string   `json:"text"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	Telecom []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"telecom"`
	Address []struct {
		Text       string   `json:"text"`
		Line       []string `json:"line"`
		City       string   `json:"city"`
		PostalCode string   `json:"postalCode"`
		Country    string   `json:"country"`
	} `json:"address"`
	Identifier []struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
}

type codeableConcept struct {
	Coding []struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display"`
	} `json:"coding"`
	Text string `json:"text"`
}

type reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display"`
}

// fhirID is the form FHIR gives resource ids. Checking it before an id
// becomes part of a file name is what keeps "../../etc/passwd" out.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// fileName returns the file that holds the resource, refusing ids FHIR
// would not allow.
func fileName(resourceType, id string) (string, error) {
	if !fhirID.MatchString(id) || strings.Trim(id, ".") == "" {
		return "", fmt.Errorf("%w: %q is not a FHIR id", connector.ErrInvalid, id)
	}
	return resourceType + "-" + id + ".json", nil
}

// readResource reads and decodes the resource in file name into v, checking
// that it is the resource the name says and that it carries a version and
// an update time, and returns the file's bytes. A file that is not there is
// connector.ErrNotFound; a file that is wrong is connector.ErrPermanent;
// any other read error is left unclassified, so the engine retries it.
func readResource(fsys fs.FS, name string, v interface{ head() *header }) ([]byte, error) {
	raw, err := fs.ReadFile(fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name, connector.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, badFile(name, "malformed JSON: %v", err)
	}
	h := v.head()
	typ, id, _ := strings.Cut(strings.TrimSuffix(name, ".json"), "-")
	switch {
	case h.ResourceType != typ || h.ID != id:
		return nil, badFile(name, "holds %s/%s, not %s/%s", h.ResourceType, h.ID, typ, id)
	case h.Meta.VersionID == "":
		return nil, badFile(name, "no meta.versionId")
	}
	if _, err := h.updatedAt(); err != nil {
		return nil, badFile(name, "meta.lastUpdated: %v", err)
	}
	return raw, nil
}

func (h *header) head() *header { return h }

func (h *header) updatedAt() (time.Time, error) {
	return time.Parse(time.RFC3339Nano, h.Meta.LastUpdated)
}

// badFile reports a file no retry can fix.
func badFile(name, format string, args ...any) error {
	return fmt.Errorf("%s: %w: %s", name, connector.ErrPermanent, fmt.Sprintf(format, args...))
}

// loincTypes maps LOINC document codes to the dietician's categories, as
// adapters/fhir does; anything else is connector.DocumentOther.
var loincTypes = map[string]connector.DocumentType{
	"11502-2": connector.DocumentLabResult,          // Laboratory report
	"11506-3": connector.DocumentProgressNote,       // Progress note
	"34117-2": connector.DocumentPhysicalAssessment, // History and physical note
}

// document maps a DocumentReference read from file name to a
// connector.Document with its content, sealed.
func (r *documentReference) document(name string, raw []byte, source string) (*connector.Document, error) {
	patientID, ok := strings.CutPrefix(r.subjectRef(), connector.PatientType+"/")
	if !ok {
		return nil, badFile(name, "subject is not a Patient reference")
	}
	updated, _ := r.updatedAt() // checked by readResource
	d := &connector.Document{
		Ref:       connector.Ref{Type: typeDocumentReference, ID: r.ID},
		Patient:   connector.Ref{Type: connector.PatientType, ID: patientID},
		Type:      connector.DocumentOther,
		Title:     firstNonEmpty(r.Description, r.Type.Text),
		Source:    source,
		Version:   r.Meta.VersionID,
		UpdatedAt: updated,
		Raw:       raw,
	}
	for _, c := range append([]codeableConcept{r.Type}, r.Category...) {
		for _, cd := range c.Coding {
			if t, ok := loincTypes[cd.Code]; ok && cd.System == "http://loinc.org" && d.Type == connector.DocumentOther {
				d.Type = t
			}
			d.Title = firstNonEmpty(d.Title, cd.Display)
		}
	}
	// A date that does not parse is left out rather than refused: it is
	// shown to the dietician, not used to order anything.
	d.Date, _ = time.Parse(time.RFC3339, r.Date)
	var authors []string
	for _, a := range r.Author {
		if a.Display != "" {
			authors = append(authors, a.Display)
		}
	}
	d.Author = strings.Join(authors, ", ")
	if r.Custodian != nil && r.Custodian.Display != "" {
		d.Source = r.Custodian.Display
	}
	// The first attachment is the document; others are renditions.
	if len(r.Content) > 0 {
		a := r.Content[0].Attachment
		if a.Data == "" && a.URL != "" {
			// A real FHIR adapter fetches the URL, from the provider's own
			// origin only; a folder has nothing to fetch it from.
			return nil, badFile(name, "attachment by url is not supported, only inline data")
		}
		content, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			return nil, badFile(name, "attachment data is not base64: %v", err)
		}
		d.ContentType, d.Content = a.ContentType, content
	}
	// Seal sets Size and ContentHash from Content: the engine compares
	// hashes to skip deliveries of unchanged documents.
	d.Seal()
	return d, nil
}

func (r *documentReference) subjectRef() string {
	if r.Subject == nil {
		return ""
	}
	return r.Subject.Reference
}

// deleted reports whether the document should never have existed.
func (r *documentReference) deleted() bool { return r.Status == "entered-in-error" }

// patient maps a Patient resource.
func (p *patient) patient() *connector.Patient {
	updated, _ := p.updatedAt()
	out := &connector.Patient{
		Ref:       connector.Ref{Type: connector.PatientType, ID: p.ID},
		Version:   p.Meta.VersionID,
		UpdatedAt: updated,
	}
	// The official name if there is one, else the first.
	for i, n := range p.Name {
		if i == 0 || n.Use == "official" {
			out.Name = firstNonEmpty(n.Text, strings.TrimSpace(strings.Join(append(slices.Clone(n.Given), n.Family), " ")))
		}
	}
	var contact []string
	for _, t := range p.Telecom {
		switch {
		case t.System == "email" && out.Email == "":
			out.Email = t.Value
		case t.Value != "":
			contact = append(contact, t.System+": "+t.Value)
		}
	}
	for _, a := range p.Address {
		parts := slices.DeleteFunc(append(slices.Clone(a.Line), a.PostalCode, a.City, a.Country), func(s string) bool { return s == "" })
		contact = append(contact, "address: "+firstNonEmpty(a.Text, strings.Join(parts, ", ")))
	}
	out.ContactDetails = strings.Join(contact, "; ")
	for _, id := range p.Identifier {
		if id.Value != "" {
			out.Identifiers = append(out.Identifiers, connector.Identifier{System: id.System, Value: id.Value})
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
