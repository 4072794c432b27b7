package store

import (
	"context"
	"fmt"
	"time"

	"github.com/healthcare-records/healthcare-records/practice"
)

var _ practice.InquiryTx = (*tx)(nil)

const inquiryColumns = `id, name, email, subject, message, dietician_id, channel, message_id, status, patient_id,
	created_at, updated_at`

func scanInquiry(r Row) (practice.Inquiry, error) {
	var (
		q                  practice.Inquiry
		subject, mid       nullString
		channel, status    string
		dietician, patient *int64
		created, updated   nullTime
	)
	err := r.Scan(&q.ID, &q.Name, &q.Email, &subject, &q.Message, &dietician, &channel, &mid, &status, &patient,
		&created, &updated)
	if err != nil {
		return q, err
	}
	if dietician != nil {
		q.DieticianID = *dietician
	}
	if patient != nil {
		q.PatientID = *patient
	}
	q.Subject, q.MessageID = string(subject), string(mid)
	q.Channel, q.Status = practice.InquiryChannel(channel), practice.InquiryStatus(status)
	q.CreatedAt, q.UpdatedAt = created.Time, updated.Time
	return q, nil
}

func (t *tx) CreateInquiry(ctx context.Context, in practice.Inquiry) (int64, error) {
	if in.CreatedAt.IsZero() {
		in.CreatedAt = t.now()
	}
	if in.UpdatedAt.IsZero() {
		in.UpdatedAt = in.CreatedAt
	}
	if in.Status == "" {
		in.Status = practice.InquiryNew
	}
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO inquiries (name, email, subject, message, dietician_id, channel, message_id,
			status, patient_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		in.Name, in.Email, nullText(in.Subject), in.Message, nullID(in.DieticianID), string(in.Channel),
		nullText(in.MessageID), string(in.Status), nullID(in.PatientID), timeArg(in.CreatedAt),
		timeArg(in.UpdatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: create inquiry: %w", constraintError(err))
	}
	for _, a := range in.Attachments {
		if _, err := t.q.Exec(ctx, `INSERT INTO inquiry_attachments (inquiry_id, name, content_type, size, content)
			VALUES ($1, $2, $3, $4, $5)`, id, a.Name, a.ContentType, int64(len(a.Data)), nonNilBytes(a.Data)); err != nil {
			return 0, fmt.Errorf("store: create inquiry attachment: %w", err)
		}
	}
	return id, nil
}

// nonNilBytes passes empty content as an empty value, not NULL.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (t *tx) Inquiry(ctx context.Context, id int64) (practice.Inquiry, error) {
	q, err := scanInquiry(t.q.QueryRow(ctx, `SELECT `+inquiryColumns+` FROM inquiries WHERE id = $1`, id))
	if err != nil {
		return q, notFound(err, fmt.Sprintf("inquiry %d", id))
	}
	return q, t.inquiryAttachments(ctx, &q)
}

func (t *tx) InquiryByMessageID(ctx context.Context, messageID string) (practice.Inquiry, error) {
	q, err := scanInquiry(t.q.QueryRow(ctx, `SELECT `+inquiryColumns+` FROM inquiries WHERE message_id = $1`, messageID))
	if err != nil {
		return q, notFound(err, "inquiry by message id")
	}
	return q, t.inquiryAttachments(ctx, &q)
}

// inquiryAttachments reads the metadata of q's attachments.
func (t *tx) inquiryAttachments(ctx context.Context, q *practice.Inquiry) error {
	rows, err := t.q.Query(ctx, `SELECT id, name, content_type, size FROM inquiry_attachments
		WHERE inquiry_id = $1 ORDER BY id`, q.ID)
	atts, err := scanAll(rows, err, func(r Row) (practice.InquiryAttachment, error) {
		var a practice.InquiryAttachment
		return a, r.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size)
	})
	if err != nil {
		return fmt.Errorf("store: attachments of inquiry %d: %w", q.ID, err)
	}
	q.Attachments = atts
	return nil
}

func (t *tx) Inquiries(ctx context.Context, q practice.InquiryQuery) ([]practice.Inquiry, error) {
	var (
		args  params
		conds []string
	)
	if q.Status != "" {
		conds = append(conds, "status = "+args.add(string(q.Status)))
	}
	if q.DieticianID != 0 {
		mine := "dietician_id = " + args.add(q.DieticianID)
		if q.Unaddressed {
			mine = "(" + mine + " OR dietician_id IS NULL)"
		}
		conds = append(conds, mine)
	} else if q.Unaddressed {
		conds = append(conds, "dietician_id IS NULL")
	}
	if q.BeforeID != 0 {
		conds = append(conds, "id < "+args.add(q.BeforeID))
	}
	rows, err := t.q.Query(ctx, `SELECT `+inquiryColumns+` FROM inquiries`+where(conds)+
		` ORDER BY id DESC LIMIT `+args.add(listLimit(q.Limit)), args...)
	out, err := scanAll(rows, err, scanInquiry)
	if err != nil {
		return nil, fmt.Errorf("store: list inquiries: %w", err)
	}
	return out, nil
}

func (t *tx) SetInquiryStatus(ctx context.Context, id int64, status practice.InquiryStatus, patientID int64, at time.Time) error {
	n, err := t.q.Exec(ctx, `UPDATE inquiries SET status = $1, patient_id = $2, updated_at = $3
		WHERE id = $4 AND status = 'new'`, string(status), nullID(patientID), at.UTC(), id)
	if err != nil {
		return fmt.Errorf("store: set status of inquiry %d: %w", id, constraintError(err))
	}
	if n == 1 {
		return nil
	}
	if _, err := t.Inquiry(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("inquiry %d is no longer new: %w", id, practice.ErrConflict)
}

func (t *tx) InquiryAttachment(ctx context.Context, inquiryID, id int64) (practice.InquiryAttachment, error) {
	var a practice.InquiryAttachment
	err := t.q.QueryRow(ctx, `SELECT id, name, content_type, size, content FROM inquiry_attachments
		WHERE inquiry_id = $1 AND id = $2`, inquiryID, id).Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.Data)
	return a, notFound(err, fmt.Sprintf("attachment %d of inquiry %d", id, inquiryID))
}
