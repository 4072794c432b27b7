package carepatrontest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"
)

// api implements the generated StrictServerInterface over the Server's data.
type api struct{ s *Server }

var _ StrictServerInterface = (*api)(nil)

func (a *api) now() time.Time { return a.s.cfg.Now().UTC().Truncate(time.Millisecond) }

// lock takes the data lock; the returned func releases it.
func (a *api) lock() func() {
	a.s.mu.Lock()
	return a.s.mu.Unlock
}

func (a *api) Ping(context.Context, PingRequestObject) (PingResponseObject, error) {
	return Ping200TextResponse("pong"), nil
}

func (a *api) SecurePing(_ context.Context, req SecurePingRequestObject) (SecurePingResponseObject, error) {
	if req.ProviderId != a.s.cfg.ProviderID {
		return nil, forbidden()
	}
	return SecurePing200TextResponse("pong"), nil
}

func forbidden() *problem {
	return &problem{status: http.StatusForbidden, code: "forbidden", detail: "this key may not access that provider"}
}

func (a *api) StartContactsExport(_ context.Context, req StartContactsExportRequestObject) (StartContactsExportResponseObject, error) {
	if req.ProviderId != a.s.cfg.ProviderID {
		return nil, forbidden()
	}
	defer a.lock()()
	d := &a.s.data
	now := a.now()
	// The fake's jobs complete at once.
	job := &ExportJob{Id: d.newID("exp"), Status: ExportJobStatusCompleted, CreatedAt: now, CompletedAt: now, ContactCount: len(d.contacts)}
	d.jobs[job.Id] = job
	return StartContactsExport202JSONResponse(*job), nil
}

func (a *api) GetContactsExport(_ context.Context, req GetContactsExportRequestObject) (GetContactsExportResponseObject, error) {
	if req.ProviderId != a.s.cfg.ProviderID {
		return nil, forbidden()
	}
	defer a.lock()()
	job, ok := a.s.data.jobs[req.JobId]
	if !ok {
		return nil, notFound("export job")
	}
	return GetContactsExport200JSONResponse(*job), nil
}

func (a *api) SearchContacts(_ context.Context, req SearchContactsRequestObject) (SearchContactsResponseObject, error) {
	defer a.lock()()
	d := &a.s.data
	var ids []string
	for id, c := range d.contacts {
		if p := req.Params.Email; p != nil && !matchEmail(*p, c.Email) {
			continue
		}
		if p := req.Params.ExternalReference; p != nil && *p != c.ExternalReference {
			continue
		}
		ids = append(ids, id)
	}
	ids, next, err := page(ids, deref(req.Params.Cursor), deref(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	out := ContactPage{Items: []Contact{}, NextCursor: next}
	for _, id := range ids {
		out.Items = append(out.Items, cloneContact(*d.contacts[id]))
	}
	return SearchContacts200JSONResponse(out), nil
}

func (a *api) CreateContact(_ context.Context, req CreateContactRequestObject) (CreateContactResponseObject, error) {
	in := *req.Body
	if strings.TrimSpace(in.FirstName) == "" {
		return nil, unprocessable("firstName", "must not be blank")
	}
	defer a.lock()()
	d := &a.s.data
	if id := d.contactByReference(in.ExternalReference); id != "" {
		return nil, duplicate("contact", id)
	}
	now := a.now()
	c := contactFrom(in)
	c.Id, c.CreatedAt, c.UpdatedAt = d.newID("ct"), now, now
	d.contacts[c.Id] = &c
	a.s.stats.Creates[req.Params.IdempotencyKey]++
	a.s.log.Debug("contact created", "contact", c.Id)
	return CreateContact201JSONResponse(cloneContact(c)), nil
}

func (a *api) GetContact(_ context.Context, req GetContactRequestObject) (GetContactResponseObject, error) {
	defer a.lock()()
	c, ok := a.s.data.contacts[req.ContactId]
	if !ok {
		return nil, notFound("contact")
	}
	return GetContact200JSONResponse(cloneContact(*c)), nil
}

func (a *api) UpdateContact(_ context.Context, req UpdateContactRequestObject) (UpdateContactResponseObject, error) {
	in := *req.Body
	if strings.TrimSpace(in.FirstName) == "" {
		return nil, unprocessable("firstName", "must not be blank")
	}
	defer a.lock()()
	d := &a.s.data
	old, ok := d.contacts[req.ContactId]
	if !ok {
		return nil, notFound("contact")
	}
	if id := d.contactByReference(in.ExternalReference); id != "" && id != old.Id {
		return nil, duplicate("contact", id)
	}
	c := contactFrom(in)
	c.Id, c.CreatedAt, c.UpdatedAt = old.Id, old.CreatedAt, a.now()
	d.contacts[c.Id] = &c
	a.s.stats.Updates++
	return UpdateContact200JSONResponse(cloneContact(c)), nil
}

func (a *api) ListContactDocuments(_ context.Context, req ListContactDocumentsRequestObject) (ListContactDocumentsResponseObject, error) {
	defer a.lock()()
	d := &a.s.data
	if _, ok := d.contacts[req.ContactId]; !ok {
		return nil, notFound("contact")
	}
	var ids []string
	for _, id := range d.byContact[req.ContactId] {
		if p := req.Params.ExternalReference; p != nil && *p != d.documents[id].ExternalReference {
			continue
		}
		ids = append(ids, id)
	}
	ids, next, err := page(ids, deref(req.Params.Cursor), deref(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	out := DocumentPage{Items: []Document{}, NextCursor: next}
	for _, id := range ids {
		out.Items = append(out.Items, d.documents[id].Document)
	}
	return ListContactDocuments200JSONResponse(out), nil
}

func (a *api) UploadContactDocument(_ context.Context, req UploadContactDocumentRequestObject) (UploadContactDocumentResponseObject, error) {
	up, err := readUpload(req.Body)
	if err != nil {
		return nil, err
	}
	defer a.lock()()
	d := &a.s.data
	if _, ok := d.contacts[req.ContactId]; !ok {
		return nil, notFound("contact")
	}
	if id := d.documentByReference(req.ContactId, up.meta.ExternalReference); id != "" {
		return nil, duplicate("document of this contact", id)
	}
	now := a.now()
	doc := up.document()
	doc.Id, doc.ContactId, doc.CreatedAt, doc.UpdatedAt = d.newID("doc"), req.ContactId, now, now
	d.documents[doc.Id] = &storedDocument{Document: doc, content: up.content}
	d.byContact[req.ContactId] = append(d.byContact[req.ContactId], doc.Id)
	a.s.stats.Creates[req.Params.IdempotencyKey]++
	a.s.log.Debug("document stored", "contact", req.ContactId, "document", doc.Id)
	return UploadContactDocument201JSONResponse(doc), nil
}

func (a *api) document(contactID, documentID string) (*storedDocument, error) {
	doc, ok := a.s.data.documents[documentID]
	if !ok || doc.ContactId != contactID {
		return nil, notFound("document")
	}
	return doc, nil
}

func (a *api) GetContactDocument(_ context.Context, req GetContactDocumentRequestObject) (GetContactDocumentResponseObject, error) {
	defer a.lock()()
	doc, err := a.document(req.ContactId, req.DocumentId)
	if err != nil {
		return nil, err
	}
	return GetContactDocument200JSONResponse(doc.Document), nil
}

func (a *api) UpdateContactDocument(_ context.Context, req UpdateContactDocumentRequestObject) (UpdateContactDocumentResponseObject, error) {
	var up *upload
	switch {
	case req.JSONBody != nil:
		up = &upload{meta: *req.JSONBody}
	case req.MultipartBody != nil:
		var err error
		if up, err = readUpload(req.MultipartBody); err != nil {
			return nil, err
		}
	default:
		return nil, badRequest("the body must be JSON metadata or a multipart upload")
	}
	defer a.lock()()
	d := &a.s.data
	old, err := a.document(req.ContactId, req.DocumentId)
	if err != nil {
		return nil, err
	}
	if id := d.documentByReference(req.ContactId, up.meta.ExternalReference); id != "" && id != old.Id {
		return nil, duplicate("document of this contact", id)
	}
	doc := up.document()
	if up.content == nil {
		doc.ContentType, doc.Size, doc.Sha256 = old.ContentType, old.Size, old.Sha256
		up.content = old.content
	}
	doc.Id, doc.ContactId, doc.CreatedAt, doc.UpdatedAt = old.Id, old.ContactId, old.CreatedAt, a.now()
	d.documents[doc.Id] = &storedDocument{Document: doc, content: up.content}
	a.s.stats.Updates++
	return UpdateContactDocument200JSONResponse(doc), nil
}

func (a *api) DownloadContactDocument(_ context.Context, req DownloadContactDocumentRequestObject) (DownloadContactDocumentResponseObject, error) {
	defer a.lock()()
	doc, err := a.document(req.ContactId, req.DocumentId)
	if err != nil {
		return nil, err
	}
	return DownloadContactDocument200AsteriskResponse{
		Body: bytes.NewReader(doc.content), ContentType: doc.ContentType, ContentLength: int64(len(doc.content)),
	}, nil
}

func (a *api) DeleteContactDocument(_ context.Context, req DeleteContactDocumentRequestObject) (DeleteContactDocumentResponseObject, error) {
	defer a.lock()()
	if _, err := a.document(req.ContactId, req.DocumentId); err != nil {
		return nil, err
	}
	a.s.data.removeDocument(req.DocumentId)
	a.s.stats.Deletes++
	return DeleteContactDocument204Response{}, nil
}

// upload is a parsed upload form.
type upload struct {
	meta        DocumentMetadata
	contentType string
	// content is nil when no file was sent.
	content []byte
}

func (u *upload) document() Document {
	sum := sha256.Sum256(u.content)
	m := u.meta
	return Document{
		Type: m.Type, Title: m.Title, Date: m.Date, Author: m.Author, Source: m.Source,
		ExternalReference: m.ExternalReference, SourceVersion: m.SourceVersion, SourceUpdatedAt: m.SourceUpdatedAt,
		SourceLink:  m.SourceLink,
		ContentType: u.contentType, Size: int64(len(u.content)), Sha256: hex.EncodeToString(sum[:]),
	}
}

// blockedTypes are media types the platform refuses to store.
var blockedTypes = []string{"application/x-msdownload", "application/x-sh", "application/x-executable"}

func readUpload(mr *multipart.Reader) (*upload, error) {
	if mr == nil {
		return nil, badRequest("the body must be a multipart form")
	}
	up := &upload{}
	var gotMeta, gotFile bool
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badRequest("reading the form: " + err.Error())
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return nil, badRequest("reading the form: " + err.Error())
		}
		switch p.FormName() {
		case "metadata":
			if err := json.Unmarshal(b, &up.meta); err != nil {
				return nil, badRequest("metadata: " + err.Error())
			}
			gotMeta = true
		case "file":
			up.content, up.contentType = b, p.Header.Get("Content-Type")
			if up.content == nil {
				up.content = []byte{}
			}
			gotFile = true
		}
	}
	switch {
	case !gotMeta:
		return nil, unprocessable("metadata", "is required")
	case !gotFile:
		return nil, unprocessable("file", "is required")
	case len(up.content) == 0:
		return nil, unprocessable("file", "is empty")
	case strings.TrimSpace(up.meta.Title) == "":
		return nil, unprocessable("metadata.title", "must not be blank")
	}
	if up.contentType == "" {
		up.contentType = "application/octet-stream"
	}
	for _, t := range blockedTypes {
		if strings.HasPrefix(up.contentType, t) {
			return nil, unprocessable("file", "files of type "+t+" are not accepted")
		}
	}
	return up, nil
}

func contactFrom(in ContactInput) Contact {
	return Contact{
		FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, ContactDetails: in.ContactDetails,
		ExternalReference: in.ExternalReference, SourceVersion: in.SourceVersion, SourceUpdatedAt: in.SourceUpdatedAt,
		Identifiers: slices.Clone(in.Identifiers), Fields: maps.Clone(in.Fields),
	}
}

func cloneContact(c Contact) Contact {
	c.Identifiers = slices.Clone(c.Identifiers)
	c.Fields = maps.Clone(c.Fields)
	return c
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
