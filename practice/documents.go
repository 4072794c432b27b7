package practice

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/healthcare-records/healthcare-records/connector"
)

// DocumentList selects a patient's documents.
type DocumentList struct {
	Type     connector.DocumentType
	From, To time.Time
	Text     string
	Source   string
	Author   string
	Sort     DocumentSort
	Asc      bool
	Cursor   string
	Limit    int
	// WithPatient also reads, in the same read, the patient's record (a
	// read of the record, authorized and audited as Patient is), for a
	// page that shows whose documents they are.
	WithPatient bool
}

// DocumentPage is a page of documents with the counts per type of every
// document the filters select (the seed's summary "categorized by type").
type DocumentPage struct {
	List[Document]
	Counts map[connector.DocumentType]int
	// Patient is the patient's record, when the list asked for it.
	Patient Patient
}

// Content is a document's content with what a download needs.
type Content struct {
	Document
	// FileName is safe to put in Content-Disposition.
	FileName string
	// Body reads the content (Document.Size bytes), until the context
	// of the Content call ends.
	Body io.ReadSeeker
}

// Upload is a document a user uploads.
type Upload struct {
	FileName string
	Type     connector.DocumentType
	Title    string
	// Date is when the document was written; zero means now.
	Date time.Time
	Data []byte
}

// DocumentUpdate changes an uploaded document; nil fields stay.
type DocumentUpdate struct {
	Title *string
	Type  *connector.DocumentType
	Date  *time.Time
}

// UploadTypes are the content types an upload may have, as its bytes
// show them (not as its name or the client claims).
var UploadTypes = []string{"application/pdf", "image/png", "image/jpeg", "text/plain"}

// UploadType is the Ref.Type of uploaded documents.
const UploadType = "Upload"

// Documents lists a patient's documents with their counts per type.
func (s *Service) Documents(ctx context.Context, a Actor, patientID int64, in DocumentList) (DocumentPage, error) {
	q, err := documentQuery(patientID, in)
	if err != nil {
		return DocumentPage{}, err
	}
	var (
		docs []Document
		page DocumentPage
	)
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		var (
			r   Resource
			err error
		)
		if in.WithPatient {
			if page.Patient, r, err = s.patientFacts(ctx, tx, a, patientID); err == nil {
				err = s.check(ctx, a, ActionReadPatient, r, 0)
			}
		} else {
			r, err = s.patientAccess(ctx, tx, a, patientID)
		}
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionListDocuments, r, 0); err != nil {
			return err
		}
		docs, page.Counts, err = tx.DocumentsCounted(ctx, q)
		return err
	})
	if err != nil {
		return DocumentPage{}, fmt.Errorf("list documents of patient %d: %w", patientID, err)
	}
	page.List = pageOf(docs, q.Page)
	if in.WithPatient {
		s.record(ctx, a, ActionReadPatient, OutcomeSuccess, patientID, 0, "", "")
	}
	s.record(ctx, a, ActionListDocuments, OutcomeSuccess, patientID, 0, "", strconv.Itoa(len(page.Items))+" documents")
	return page, nil
}

// SearchDocuments lists the documents in selects, with their counts per
// type, across every patient a may see documents of: for an admin the
// practice's, for a dietician their patients', for a practitioner those
// shared with them now (the newest MaxLimit shares), for a patient their
// own. It is the search box's listing; one patient's is Documents.
func (s *Service) SearchDocuments(ctx context.Context, a Actor, in DocumentList) (DocumentPage, error) {
	q, err := documentQuery(0, in)
	if err != nil {
		return DocumentPage{}, err
	}
	if err := s.check(ctx, a, ActionSearchDocuments, Resource{}, 0); err != nil {
		return DocumentPage{}, err
	}
	var (
		docs   []Document
		counts map[connector.DocumentType]int
	)
	err = s.cfg.Store.Read(ctx, func(tx Tx) error {
		switch a.Role {
		case RoleAdmin:
		case RoleDietician:
			q.OwnerID = a.UserID
		case RolePatient:
			q.PatientID = a.PatientID
			if a.PatientID == 0 {
				q.IDs = []int64{} // a patient user not (yet) linked to a record
			}
		case RolePractitioner:
			shares, err := tx.Shares(ctx, ShareQuery{SharedWith: a.UserID, LiveAt: s.now(), Limit: MaxLimit})
			if err != nil {
				return err
			}
			q.IDs = make([]int64, len(shares))
			for i, sh := range shares {
				q.IDs[i] = sh.DocumentID
			}
		default:
			return ErrNotFound
		}
		var err error
		docs, counts, err = tx.DocumentsCounted(ctx, q)
		return err
	})
	if err != nil {
		return DocumentPage{}, fmt.Errorf("search documents: %w", err)
	}
	page := DocumentPage{List: pageOf(docs, q.Page), Counts: counts}
	s.record(ctx, a, ActionSearchDocuments, OutcomeSuccess, q.PatientID, 0, "", strconv.Itoa(len(page.Items))+" documents")
	return page, nil
}

func documentQuery(patientID int64, in DocumentList) (DocumentQuery, error) {
	q := DocumentQuery{PatientID: patientID, Type: in.Type, From: in.From, To: in.To, Text: in.Text,
		Source: in.Source, Author: in.Author, Sort: in.Sort, Asc: in.Asc}
	if err := checkType("type", in.Type, true); err != nil {
		return q, err
	}
	if err := checkRange("from", in.From, in.To); err != nil {
		return q, err
	}
	for _, f := range []struct{ name, v string }{{"q", in.Text}, {"source", in.Source}, {"author", in.Author}} {
		if err := checkText(f.name, f.v, maxName, true); err != nil {
			return q, err
		}
	}
	switch q.Sort {
	case "":
		q.Sort = SortDate
	case SortDate, SortTitle, SortType:
	default:
		return q, invalid("sort", "must be one of date, title, type")
	}
	page, err := offsetPage(in.Cursor, in.Limit)
	q.Page = page
	return q, err
}

// Document returns a document's metadata.
func (s *Service) Document(ctx context.Context, a Actor, id int64) (Document, error) {
	var d Document
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		d, err = s.checkedDocument(ctx, tx, a, ActionReadDocument, id)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("document %d: %w", id, err)
	}
	s.record(ctx, a, ActionReadDocument, OutcomeSuccess, d.PatientID, id, "", "")
	return d, nil
}

// Content returns a document with its content, for a download.
func (s *Service) Content(ctx context.Context, a Actor, id int64) (Content, error) {
	var c Content
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		if c.Document, err = s.checkedDocument(ctx, tx, a, ActionDownload, id); err != nil {
			return err
		}
		c.Body, err = tx.DocumentContent(ctx, id)
		return err
	})
	if err != nil {
		return Content{}, fmt.Errorf("document %d content: %w", id, err)
	}
	c.FileName = FileName(c.Title, c.ContentType, id)
	s.record(ctx, a, ActionDownload, OutcomeSuccess, c.PatientID, id, "", strconv.FormatInt(c.Size, 10)+" bytes")
	return c, nil
}

// FileName makes a download's file name from a title: letters, digits,
// spaces, dots, dashes and underscores only, at most 100 characters, with
// the extension of the content type. A title with none of those gives
// "document-<id>".
func FileName(title, contentType string, id int64) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.':
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		}
	}
	name := strings.Trim(strings.Join(strings.Fields(b.String()), " "), ". ")
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" {
		name = "document-" + strconv.FormatInt(id, 10)
	}
	ext := extensionOf(contentType)
	if ext != "" && !strings.EqualFold(path.Ext(name), ext) {
		name += ext
	}
	return name
}

func extensionOf(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/pdf":
		return ".pdf"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "text/plain":
		return ".txt"
	case "application/fhir+json", "application/json":
		return ".json"
	case "text/html":
		return ".html"
	case "application/xml", "text/xml":
		return ".xml"
	}
	return ""
}

// sniff returns the upload type the content's bytes show, or
// ErrUnsupportedType naming what they look like.
func sniff(data []byte) (string, error) {
	detected := http.DetectContentType(data)
	mt, _, _ := mime.ParseMediaType(detected)
	for _, t := range UploadTypes {
		if mt == t {
			if t == "text/plain" {
				return "text/plain; charset=utf-8", nil
			}
			return t, nil
		}
	}
	return "", refuse(ErrUnsupportedType, "the file's content is %s, not a PDF, PNG, JPEG or plain text file (its name and the type the browser claims are not trusted)", mt)
}

// Upload keeps a document the patient's dietician uploads and delivers it
// to the sinks like any document. Its source is the uploader.
func (s *Service) Upload(ctx context.Context, a Actor, patientID int64, in Upload) (Document, error) {
	if int64(len(in.Data)) > s.cfg.MaxUpload {
		return Document{}, refuse(ErrTooLarge, "the file is %d bytes; the limit is %d", len(in.Data), s.cfg.MaxUpload)
	}
	if len(in.Data) == 0 {
		return Document{}, invalid("file", "is empty")
	}
	if err := checkType("type", in.Type, false); err != nil {
		return Document{}, err
	}
	if strings.TrimSpace(in.Title) == "" {
		in.Title = strings.TrimSuffix(path.Base(in.FileName), path.Ext(in.FileName))
	}
	if err := checkName("title", in.Title); err != nil {
		return Document{}, err
	}
	if in.Date.IsZero() {
		in.Date = s.now()
	}
	// The file's text for the search, found outside the transaction (it
	// can take seconds) and only for a caller the policy lets upload, so
	// that nobody else makes the service read a file.
	if _, err := s.allowedPatient(ctx, a, ActionUploadDocument, patientID); err != nil {
		return Document{}, fmt.Errorf("upload a document of patient %d: %w", patientID, err)
	}
	contentType, sniffErr := sniff(in.Data)
	found := connector.Document{ContentType: contentType, Content: in.Data}
	if sniffErr == nil {
		s.cfg.Engine.ExtractText(ctx, &found)
	}
	var d Document
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		p, r, err := s.patientFacts(ctx, tx, a, patientID)
		if err != nil {
			return err
		}
		if err := s.check(ctx, a, ActionUploadDocument, r, 0); err != nil {
			return err
		}
		// Told after the policy, so that what a file is tells nobody who
		// may not upload anything.
		if sniffErr != nil {
			return sniffErr
		}
		if p.Link != Linked {
			return refuse(ErrConflict, "the patient is not linked to the provider yet; link the patient first, so that the document reaches the practice platform with them")
		}
		if p.Archived() {
			return refuse(ErrConflict, "the patient is archived")
		}
		uploader, err := tx.User(ctx, a.UserID)
		if err != nil {
			return err
		}
		doc := connector.Document{
			Ref:     connector.Ref{System: LocalSource, Type: UploadType, ID: uuid.NewString()},
			Patient: p.Ref, Type: in.Type, Title: in.Title, Date: in.Date.UTC(), Author: uploader.Name,
			Source: uploader.Name, ContentType: contentType, Content: in.Data, Text: found.Text, Version: "1", UpdatedAt: s.now(),
		}
		id, err := s.cfg.Engine.SaveLocal(ctx, tx, connector.StoredDocument{PatientID: p.ID, Document: doc})
		if err != nil {
			return err
		}
		if err := tx.SetDocumentUploader(ctx, id, a.UserID); err != nil {
			return err
		}
		d, err = tx.PracticeDocument(ctx, id)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("upload to patient %d: %w", patientID, err)
	}
	s.record(ctx, a, ActionUploadDocument, OutcomeSuccess, patientID, d.ID, "", strconv.Itoa(len(in.Data))+" bytes")
	return d, nil
}

// UpdateDocument changes an uploaded document's title, type or date; only
// its uploader may. The change reaches the sinks.
func (s *Service) UpdateDocument(ctx context.Context, a Actor, id int64, in DocumentUpdate) (Document, error) {
	var d Document
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		_, err := s.changeLocal(ctx, tx, a, ActionUpdateDocument, id, func(doc *connector.Document) error {
			if in.Title != nil {
				if err := checkName("title", *in.Title); err != nil {
					return err
				}
				doc.Title = *in.Title
			}
			if in.Type != nil {
				if err := checkType("type", *in.Type, false); err != nil {
					return err
				}
				doc.Type = *in.Type
			}
			if in.Date != nil {
				doc.Date = in.Date.UTC()
			}
			return nil
		})
		if err != nil {
			return err
		}
		d, err = tx.PracticeDocument(ctx, id)
		return err
	})
	if err != nil {
		return Document{}, fmt.Errorf("update document %d: %w", id, err)
	}
	s.record(ctx, a, ActionUpdateDocument, OutcomeSuccess, d.PatientID, id, "", "")
	return d, nil
}

// DeleteDocument deletes an uploaded document here and at the sinks; only
// its uploader may.
func (s *Service) DeleteDocument(ctx context.Context, a Actor, id int64) error {
	var d Document
	err := s.cfg.Store.Write(ctx, func(tx Tx) (err error) {
		d, err = s.changeLocal(ctx, tx, a, ActionDeleteDocument, id, func(doc *connector.Document) error {
			doc.Deleted = true
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete document %d: %w", id, err)
	}
	s.record(ctx, a, ActionDeleteDocument, OutcomeSuccess, d.PatientID, id, "", "")
	return nil
}

// changeLocal applies change to an uploaded document as a new version,
// and returns the document as it was.
func (s *Service) changeLocal(ctx context.Context, tx Tx, a Actor, act Action, id int64, change func(*connector.Document) error) (Document, error) {
	d, err := s.checkedDocument(ctx, tx, a, act, id)
	if err != nil {
		return Document{}, err
	}
	sd, err := tx.Document(ctx, d.Ref)
	if err != nil {
		return Document{}, err
	}
	if err := change(&sd.Document); err != nil {
		return Document{}, err
	}
	v, _ := strconv.Atoi(sd.Version)
	sd.Version, sd.UpdatedAt = strconv.Itoa(v+1), s.now()
	_, err = s.cfg.Engine.SaveLocal(ctx, tx, sd)
	return d, err
}
