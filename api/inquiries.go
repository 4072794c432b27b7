package api

import (
	"bytes"
	"context"
	"net/http"

	"github.com/healthcare-records/healthcare-records/practice"
)

// CreateInquiry receives the practice's web contact form. A filled
// honeypot is answered as any inquiry is: a robot learns nothing.
func (s *server) CreateInquiry(ctx context.Context, req CreateInquiryRequestObject) (CreateInquiryResponseObject, error) {
	b := req.Body
	_, err := s.svc.ReceiveInquiry(ctx, clientOf(ctx), practice.NewInquiry{
		Name:        b.Name,
		Email:       b.Email,
		Message:     b.Message,
		DieticianID: b.DieticianId,
		Channel:     practice.InquiryForm,
		Honeypot:    b.Website,
	})
	if err != nil {
		return nil, err
	}
	return CreateInquiry202JSONResponse{Status: InquiryReceiptStatusReceived}, nil
}

func (s *server) ListInquiries(ctx context.Context, req ListInquiriesRequestObject) (ListInquiriesResponseObject, error) {
	p := req.Params
	l, err := s.svc.Inquiries(ctx, actorOf(ctx), practice.InquiryList{
		Status: practice.InquiryStatus(p.Status), Cursor: p.Cursor, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	return ListInquiries200JSONResponse{Items: mapItems(l.Items, inquiryOut), NextCursor: l.Next}, nil
}

func (s *server) GetInquiry(ctx context.Context, req GetInquiryRequestObject) (GetInquiryResponseObject, error) {
	q, err := s.svc.Inquiry(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetInquiry200JSONResponse(inquiryOut(q)), nil
}

func (s *server) DismissInquiry(ctx context.Context, req DismissInquiryRequestObject) (DismissInquiryResponseObject, error) {
	q, err := s.svc.DismissInquiry(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return DismissInquiry200JSONResponse(inquiryOut(q)), nil
}

func inquiryOut(q practice.Inquiry) Inquiry {
	return Inquiry{
		Id:          q.ID,
		Name:        q.Name,
		Email:       q.Email,
		Subject:     q.Subject,
		Message:     q.Message,
		DieticianId: q.DieticianID,
		Channel:     InquiryChannel(q.Channel),
		Status:      InquiryStatus(q.Status),
		PatientId:   q.PatientID,
		Attachments: mapItems(q.Attachments, func(a practice.InquiryAttachment) InquiryAttachment {
			return InquiryAttachment{Id: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size}
		}),
		CreatedAt: q.CreatedAt,
		UpdatedAt: q.UpdatedAt,
	}
}

// GetInquiryAttachment answers a file an email inquiry carried as bytes
// to save, never in the type its sender claimed: a browser neither
// renders nor runs it.
func (s *server) GetInquiryAttachment(ctx context.Context, req GetInquiryAttachmentRequestObject) (GetInquiryAttachmentResponseObject, error) {
	a, err := s.svc.InquiryAttachment(ctx, actorOf(ctx), req.Id, req.AttachmentId)
	if err != nil {
		return nil, err
	}
	return attachmentDownload{GetInquiryAttachment200ApplicationoctetStreamResponse{
		Body:          bytes.NewReader(a.Data),
		Headers:       GetInquiryAttachment200ResponseHeaders{ContentDisposition: contentDisposition(a.Name)},
		ContentLength: int64(len(a.Data)),
	}}, nil
}

// attachmentDownload is the generated answer, sandboxed should a browser
// open it anyway.
type attachmentDownload struct {
	GetInquiryAttachment200ApplicationoctetStreamResponse
}

func (d attachmentDownload) VisitGetInquiryAttachmentResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Security-Policy", "sandbox")
	return d.GetInquiryAttachment200ApplicationoctetStreamResponse.VisitGetInquiryAttachmentResponse(w)
}
