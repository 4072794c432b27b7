package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Seal sets Size and ContentHash from Content, or from a Body of Bytes.
// Any other Body is read to be sealed: the engine seals what a Source
// streams as it spools it.
func (d *Document) Seal() {
	content := d.Content
	if b, ok := d.Body.(Bytes); ok {
		content = b
	} else if d.Body != nil {
		return
	}
	sum := sha256.Sum256(content)
	d.ContentHash = hex.EncodeToString(sum[:])
	d.Size = int64(len(content))
}

// Fingerprint summarizes what a Sink shows of the document: its content
// hash and metadata. Two versions with one fingerprint need no delivery.
func (d *Document) Fingerprint() string {
	return fingerprint(d.Patient.String(), string(d.Type), d.Title, stamp(d.Date), d.Author,
		d.Source, d.ContentType, d.ContentHash, strconv.FormatBool(d.Deleted))
}

// Fingerprint summarizes what a Sink shows of the patient.
func (p *Patient) Fingerprint() string {
	parts := []string{p.Name, p.Email, p.ContactDetails, p.MedicalHistory, p.DietaryPreferences}
	for _, id := range p.Identifiers {
		parts = append(parts, id.System, id.Value)
	}
	return fingerprint(parts...)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
