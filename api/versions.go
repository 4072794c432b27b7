package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListDocumentVersions(ctx context.Context, req ListDocumentVersionsRequestObject) (ListDocumentVersionsResponseObject, error) {
	vs, err := s.svc.Versions(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := ListDocumentVersions200JSONResponse{Items: make([]DocumentVersion, len(vs))}
	for i, v := range vs {
		out.Items[i] = s.versionOut(req.Id, v)
	}
	return out, nil
}

func (s *server) GetDocumentVersion(ctx context.Context, req GetDocumentVersionRequestObject) (GetDocumentVersionResponseObject, error) {
	v, err := s.svc.Version(ctx, actorOf(ctx), req.Id, req.Version)
	if err != nil {
		return nil, err
	}
	return GetDocumentVersion200JSONResponse(s.versionOut(req.Id, v)), nil
}

func (s *server) GetDocumentVersionContent(ctx context.Context, req GetDocumentVersionContentRequestObject) (GetDocumentVersionContentResponseObject, error) {
	c, _, err := s.svc.VersionContent(ctx, actorOf(ctx), req.Id, req.Version)
	if err != nil {
		return nil, err
	}
	return download{r: requestOf(ctx), c: c}, nil
}

// VisitGetDocumentVersionContentResponse serves a version's content as a
// document's is served.
func (d download) VisitGetDocumentVersionContentResponse(w http.ResponseWriter) error {
	return d.VisitGetDocumentContentResponse(w)
}

func (s *server) DiffDocumentVersions(ctx context.Context, req DiffDocumentVersionsRequestObject) (DiffDocumentVersionsResponseObject, error) {
	d, err := s.svc.DiffVersions(ctx, actorOf(ctx), req.Id, req.Params.From, req.Params.To)
	if err != nil {
		return nil, err
	}
	out := DiffDocumentVersions200JSONResponse{From: s.versionOut(req.Id, d.From), To: s.versionOut(req.Id, d.To),
		Changed: make([]VersionDiffChanged, len(d.Changed)), Lines: make([]DiffLine, len(d.Lines)),
		Added: d.Added, Removed: d.Removed, Summary: d.Summary(), Notice: d.Notice}
	for i, c := range d.Changed {
		out.Changed[i] = VersionDiffChanged(c)
	}
	for i, l := range d.Lines {
		out.Lines[i] = DiffLine{Op: DiffLineOp(l.Op), Text: l.Text, Old: l.Old, New: l.New}
	}
	return out, nil
}

func (s *server) versionOut(documentID int64, v practice.DocumentVersion) DocumentVersion {
	u := s.url("documents", documentID) + fmt.Sprintf("/versions/%d", v.Number)
	return DocumentVersion{
		Number: v.Number, Current: v.Current, Version: v.Version, Type: DocumentType(v.Type), Title: v.Title,
		Date: v.Date, Author: v.Author, Source: v.Source, ContentType: v.ContentType, Size: v.Size,
		ContentHash: v.ContentHash, Deleted: v.Deleted, UpdatedAt: v.UpdatedAt, SavedAt: v.SavedAt,
		Url: u, ContentUrl: u + "/content",
	}
}
