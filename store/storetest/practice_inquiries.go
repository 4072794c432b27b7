package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

// testInquiries holds a store to practice.InquiryTx: inquiries and their
// attachments round-trip, a Message-ID is one inquiry, listings filter by
// status and dietician (with the unaddressed ones), a status moves from
// new once, and a deleted dietician's inquiries become unaddressed.
func testInquiries(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	dan := addUser(t, s, "dan@example.org", practice.RoleDietician)
	pdf := []byte("%PDF-1.4 not run, only kept")
	in := []practice.Inquiry{
		{Name: "Ann Lee", Email: "ann@example.org", Message: "I would like an appointment.", Channel: practice.InquiryForm,
			CreatedAt: at(1, 0)},
		{Name: "Bo Chan", Email: "bo@example.org", Subject: "Diabetes", Message: "Line one.\nLine two.", DieticianID: dee,
			Channel: practice.InquiryEmail, MessageID: "m1@mail.example.org", CreatedAt: at(2, 0),
			Attachments: []practice.InquiryAttachment{{Name: "labs.pdf", ContentType: "application/pdf", Data: pdf},
				{Name: "empty.txt", ContentType: "text/plain"}}},
		{Name: "Cy Diaz", Email: "cy@example.org", Message: "Hello", DieticianID: dan, Channel: practice.InquiryForm,
			CreatedAt: at(3, 0)},
	}
	write(t, s, func(tx practice.Tx) error {
		for i := range in {
			var err error
			in[i].ID, err = tx.CreateInquiry(ctx, in[i])
			require.NoError(t, err)
		}
		return nil
	})

	err := s.Write(ctx, func(tx practice.Tx) error {
		_, err := tx.CreateInquiry(ctx, practice.Inquiry{Name: "Bo", Email: "bo@example.org", Message: "again",
			Channel: practice.InquiryEmail, MessageID: "m1@mail.example.org"})
		return err
	})
	assert.ErrorIs(t, err, practice.ErrConflict, "a Message-ID is one inquiry")

	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Inquiry(ctx, in[1].ID)
		require.NoError(t, err)
		assert.Equal(t, "Bo Chan", got.Name)
		assert.Equal(t, "Diabetes", got.Subject)
		assert.Equal(t, "Line one.\nLine two.", got.Message)
		assert.Equal(t, dee, got.DieticianID)
		assert.Equal(t, practice.InquiryEmail, got.Channel)
		assert.Equal(t, practice.InquiryNew, got.Status)
		assert.True(t, at(2, 0).Equal(got.CreatedAt))
		assert.True(t, at(2, 0).Equal(got.UpdatedAt))
		require.Len(t, got.Attachments, 2)
		assert.Equal(t, "labs.pdf", got.Attachments[0].Name)
		assert.Equal(t, int64(len(pdf)), got.Attachments[0].Size)
		assert.Empty(t, got.Attachments[0].Data, "metadata only")

		att, err := tx.InquiryAttachment(ctx, in[1].ID, got.Attachments[0].ID)
		require.NoError(t, err)
		assert.Equal(t, pdf, att.Data)
		assert.Equal(t, "application/pdf", att.ContentType)
		_, err = tx.InquiryAttachment(ctx, in[0].ID, got.Attachments[0].ID)
		assert.ErrorIs(t, err, practice.ErrNotFound, "an attachment of another inquiry")

		byID, err := tx.InquiryByMessageID(ctx, "m1@mail.example.org")
		require.NoError(t, err)
		assert.Equal(t, in[1].ID, byID.ID)
		_, err = tx.InquiryByMessageID(ctx, "none@example.org")
		assert.ErrorIs(t, err, practice.ErrNotFound)
		_, err = tx.Inquiry(ctx, 999999)
		assert.ErrorIs(t, err, practice.ErrNotFound)

		names := map[int64]string{in[0].ID: "ann", in[1].ID: "bo", in[2].ID: "cy"}
		id := func(q practice.Inquiry) int64 { return q.ID }
		for _, c := range []struct {
			name string
			q    practice.InquiryQuery
			want []string
		}{
			{"all, newest first", practice.InquiryQuery{}, []string{"cy", "bo", "ann"}},
			{"dee's and the unaddressed", practice.InquiryQuery{DieticianID: dee, Unaddressed: true}, []string{"bo", "ann"}},
			{"dan's only", practice.InquiryQuery{DieticianID: dan}, []string{"cy"}},
			{"the unaddressed", practice.InquiryQuery{Unaddressed: true}, []string{"ann"}},
			{"before an id", practice.InquiryQuery{BeforeID: in[2].ID, Limit: 1}, []string{"bo"}},
			{"by status", practice.InquiryQuery{Status: practice.InquiryDismissed}, nil},
		} {
			got, err := tx.Inquiries(ctx, c.q)
			require.NoError(t, err, c.name)
			assert.Equal(t, c.want, namesOf(got, id, names), c.name)
		}
		return nil
	})

	ps := createPatients(t, s, newPatient("inq1", "Ann Lee", "ann@example.org"))
	write(t, s, func(tx practice.Tx) error {
		require.NoError(t, tx.SetInquiryStatus(ctx, in[0].ID, practice.InquiryConverted, ps[0].ID, at(4, 0)))
		err := tx.SetInquiryStatus(ctx, in[0].ID, practice.InquiryDismissed, 0, at(5, 0))
		assert.ErrorIs(t, err, practice.ErrConflict, "converted already")
		err = tx.SetInquiryStatus(ctx, 999999, practice.InquiryDismissed, 0, at(5, 0))
		assert.ErrorIs(t, err, practice.ErrNotFound)
		return nil
	})
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Inquiry(ctx, in[0].ID)
		require.NoError(t, err)
		assert.Equal(t, practice.InquiryConverted, got.Status)
		assert.Equal(t, ps[0].ID, got.PatientID)
		assert.True(t, at(4, 0).Equal(got.UpdatedAt))
		conv, err := tx.Inquiries(ctx, practice.InquiryQuery{Status: practice.InquiryConverted})
		require.NoError(t, err)
		assert.Len(t, conv, 1)
		return nil
	})

	write(t, s, func(tx practice.Tx) error { return tx.DeleteUser(ctx, dan) })
	read(t, s, func(tx practice.Tx) error {
		got, err := tx.Inquiry(ctx, in[2].ID)
		require.NoError(t, err)
		assert.Zero(t, got.DieticianID, "a deleted dietician's inquiry is the practice's again")
		return nil
	})
}
