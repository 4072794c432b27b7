package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/present"
)

func (s *server) ListDocuments(ctx context.Context, req ListDocumentsRequestObject) (ListDocumentsResponseObject, error) {
	page, err := s.svc.Documents(ctx, actorOf(ctx), req.PatientId, documentList(req.Params))
	if err != nil {
		return nil, err
	}
	return s.documentPage(page), nil
}

func (s *server) SearchDocuments(ctx context.Context, req SearchDocumentsRequestObject) (SearchDocumentsResponseObject, error) {
	// The two operations share their parameters (the spec's components),
	// so their generated structs are one type but for the name.
	page, err := s.svc.SearchDocuments(ctx, actorOf(ctx), documentList(ListDocumentsParams(req.Params)))
	if err != nil {
		return nil, err
	}
	return s.documentPage(page), nil
}

// documentList is the practice's query of a document listing's parameters.
func documentList(p ListDocumentsParams) practice.DocumentList {
	return practice.DocumentList{Type: connector.DocumentType(p.Type), From: p.From, To: p.To, Text: p.Q, Source: p.Source,
		Author: p.Author, Sort: practice.DocumentSort(p.Sort), Asc: p.Order == OrderAsc, Cursor: p.Cursor, Limit: p.Limit}
}

func (s *server) documentPage(page practice.DocumentPage) documentPage {
	return documentPage{page: page, base: s.jsonBase}
}

func (s *server) UploadDocument(ctx context.Context, req UploadDocumentRequestObject) (UploadDocumentResponseObject, error) {
	u, err := s.readUpload(req.Body)
	if err != nil {
		return nil, err
	}
	d, err := s.svc.Upload(ctx, actorOf(ctx), req.PatientId, u)
	if err != nil {
		return nil, err
	}
	return UploadDocument201JSONResponse{Body: s.documentOut(d), Headers: UploadDocument201ResponseHeaders{Location: s.url("documents", d.ID)}}, nil
}

// readUpload reads the form of an upload, which the validator has checked
// against DocumentUpload: a file part and the type, title and date fields.
func (s *server) readUpload(mr *multipart.Reader) (practice.Upload, error) {
	var u practice.Upload
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return u, invalid("the form could not be read", FieldProblem{Field: "body", Reason: "is not a valid multipart form"})
		}
		name := part.FormName()
		// A field other than the file is short; the file is bounded by
		// the practice's limit, one byte over telling that it is over.
		limit := int64(maxFormField)
		if name == "file" {
			limit = s.cfg.MaxUpload + 1
		}
		data, err := io.ReadAll(io.LimitReader(part, limit))
		if err != nil {
			return u, invalid("the form could not be read", FieldProblem{Field: name, Reason: "could not be read"})
		}
		switch name {
		case "file":
			if int64(len(data)) > s.cfg.MaxUpload {
				return u, practice.ErrTooLarge
			}
			u.FileName, u.Data = part.FileName(), data
		case "type":
			u.Type = connector.DocumentType(data)
		case "title":
			u.Title = string(data)
		case "date":
			t, err := time.Parse(time.RFC3339, string(data))
			if err != nil {
				return u, invalid("date: must be an RFC 3339 time", FieldProblem{Field: "date", Reason: "must be an RFC 3339 time, such as 2026-01-02T15:04:05Z"})
			}
			u.Date = t
		}
	}
	if u.FileName == "" {
		return u, invalid("file: must be a file with its name", FieldProblem{Field: "file", Reason: fmt.Sprintf("must be a file part with a file name (%s)", `Content-Disposition: form-data; name="file"; filename="…"`)})
	}
	return u, nil
}

// maxFormField bounds an upload's field other than the file.
const maxFormField = 4 << 10

func (s *server) GetDocument(ctx context.Context, req GetDocumentRequestObject) (GetDocumentResponseObject, error) {
	d, err := s.svc.Document(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetDocument200JSONResponse(s.documentOut(d)), nil
}

func (s *server) GetDocumentContent(ctx context.Context, req GetDocumentContentRequestObject) (GetDocumentContentResponseObject, error) {
	c, err := s.svc.Content(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return download{r: requestOf(ctx), c: c}, nil
}

func (s *server) UpdateDocument(ctx context.Context, req UpdateDocumentRequestObject) (UpdateDocumentResponseObject, error) {
	b := req.Body
	up := practice.DocumentUpdate{Title: b.Title, Date: b.Date}
	if b.Type != nil {
		t := connector.DocumentType(*b.Type)
		up.Type = &t
	}
	d, err := s.svc.UpdateDocument(ctx, actorOf(ctx), req.Id, up)
	if err != nil {
		return nil, err
	}
	return UpdateDocument200JSONResponse(s.documentOut(d)), nil
}

func (s *server) DeleteDocument(ctx context.Context, req DeleteDocumentRequestObject) (DeleteDocumentResponseObject, error) {
	if err := s.svc.DeleteDocument(ctx, actorOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return DeleteDocument204Response{}, nil
}

func (s *server) ShareDocument(ctx context.Context, req ShareDocumentRequestObject) (ShareDocumentResponseObject, error) {
	b := req.Body
	sh, err := s.svc.ShareDocument(ctx, actorOf(ctx), req.Id, practice.ShareInput{
		With:      b.PractitionerId,
		WithEmail: b.PractitionerEmail,
		ExpiresAt: b.ExpiresAt,
		Note:      b.Note,
	})
	if err != nil {
		return nil, err
	}
	return ShareDocument201JSONResponse{Body: s.shareOut(sh), Headers: ShareDocument201ResponseHeaders{Location: s.url("shares", sh.ID)}}, nil
}

func (s *server) GetDocumentView(ctx context.Context, req GetDocumentViewRequestObject) (GetDocumentViewResponseObject, error) {
	v, err := s.svc.View(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := GetDocumentView200JSONResponse{Document: s.documentOut(v.Document), Kind: DocumentViewKind(v.Kind),
		ContentType: v.ContentType, Title: v.Title, Html: v.HTML, Text: v.Text, Notice: v.Notice, Size: int64(v.Size)}
	if v.TextErr != nil {
		// The reason only: the error itself may quote the document.
		out.TextError = "the text could not be read"
		if pe := (*present.Error)(nil); errors.As(v.TextErr, &pe) {
			out.TextError = pe.Reason
		}
	}
	return out, nil
}
