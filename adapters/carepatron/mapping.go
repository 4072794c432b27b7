package carepatron

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"maps"
	"mime"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
)

// Custom fields of the contact that carry what Carepatron has no field for.
const (
	FieldMedicalHistory     = "medicalHistory"
	FieldDietaryPreferences = "dietaryPreferences"
)

// contactInput maps a patient to a contact. The name splits at its last
// space into first and last name; a patient with no name is "Unnamed".
func contactInput(p connector.Patient) carepatron.ContactInput {
	in := carepatron.ContactInput{
		Email:             p.Email,
		ContactDetails:    p.ContactDetails,
		ExternalReference: reference(p.Ref),
		SourceVersion:     p.Version,
		SourceUpdatedAt:   p.UpdatedAt,
	}
	name := strings.Join(strings.Fields(p.Name), " ")
	if i := strings.LastIndexByte(name, ' '); i > 0 {
		in.FirstName, in.LastName = name[:i], name[i+1:]
	} else {
		in.FirstName = name
	}
	if in.FirstName == "" {
		in.FirstName = "Unnamed"
	}
	for _, id := range p.Identifiers {
		in.Identifiers = append(in.Identifiers, carepatron.Identifier{System: id.System, Value: id.Value})
	}
	fields := map[string]string{}
	if p.MedicalHistory != "" {
		fields[FieldMedicalHistory] = p.MedicalHistory
	}
	if p.DietaryPreferences != "" {
		fields[FieldDietaryPreferences] = p.DietaryPreferences
	}
	if len(fields) > 0 {
		in.Fields = fields
	}
	return in
}

// sameContact reports whether the held contact already shows in.
func sameContact(held *carepatron.Contact, in carepatron.ContactInput) bool {
	return held.FirstName == in.FirstName && held.LastName == in.LastName && held.Email == in.Email &&
		held.ContactDetails == in.ContactDetails && held.ExternalReference == in.ExternalReference &&
		held.SourceVersion == in.SourceVersion && held.SourceUpdatedAt.Equal(in.SourceUpdatedAt) && slices.Equal(held.Identifiers, in.Identifiers) &&
		maps.Equal(held.Fields, in.Fields)
}

// documentType maps the connector's types, which the spec shares, and
// anything unknown to "other".
func documentType(t connector.DocumentType) carepatron.DocumentType {
	switch t {
	case connector.DocumentLabResult:
		return carepatron.DocumentTypeLabResult
	case connector.DocumentProgressNote:
		return carepatron.DocumentTypeProgressNote
	case connector.DocumentPhysicalAssessment:
		return carepatron.DocumentTypePhysicalAssessment
	}
	return carepatron.DocumentTypeOther
}

// file maps a document to the upload form. Content that is a Body is
// streamed by the upload, read anew by each attempt.
func (s *Sink) file(ctx context.Context, d *connector.Document) carepatron.File {
	ct := d.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	title := strings.TrimSpace(d.Title)
	if title == "" {
		title = "Document " + d.Ref.ID
	}
	f := carepatron.File{
		Metadata: carepatron.DocumentMetadata{
			Type:              documentType(d.Type),
			Title:             title,
			Date:              d.Date,
			Author:            d.Author,
			Source:            d.Source,
			ExternalReference: reference(d.Ref),
			SourceVersion:     d.Version,
			SourceUpdatedAt:   d.UpdatedAt,
			SourceLink:        s.link(d.Ref),
		},
		Name:        fileName(title, ct),
		ContentType: ct,
		Content:     d.Content,
		Sha256:      d.ContentHash,
	}
	if d.Body != nil {
		f.Content, f.Size = nil, d.Size
		f.Open = func() (io.ReadCloser, error) { return d.Open(ctx) }
	}
	return f
}

// fileName makes a file name from the title, with an extension for the
// media type when the title has none.
func fileName(title, contentType string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, title)
	if path.Ext(name) == "" {
		if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
			name += exts[0]
		}
	}
	return name
}

// sameDocument reports whether the held document already shows f.
func sameDocument(held *carepatron.Document, f carepatron.File) bool {
	m := f.Metadata
	return held.Sha256 == f.Hash() && held.ContentType == f.ContentType &&
		held.Type == m.Type && held.Title == m.Title && held.Date.Equal(m.Date) && held.Author == m.Author &&
		held.Source == m.Source && held.ExternalReference == m.ExternalReference &&
		held.SourceVersion == m.SourceVersion && held.SourceUpdatedAt.Equal(m.SourceUpdatedAt) && held.SourceLink == m.SourceLink
}

// requestPrint identifies a write request, to tell a repeated key with the
// same request from one with another.
func requestPrint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// holdsNewer reports whether what Carepatron holds is a newer revision at
// the source than what would be written. Version ids are opaque, so only
// the source's update times order them: a write nothing orders goes
// through (the engine never runs two writes of one ref at once, and writes
// the latest local copy).
func holdsNewer(heldVersion string, heldAt time.Time, version string, at time.Time) bool {
	return connector.CompareRevisions(connector.Revision{Version: heldVersion, UpdatedAt: heldAt},
		connector.Revision{Version: version, UpdatedAt: at}, false) == connector.Newer
}
