package practice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/healthcare-records/healthcare-records/present"
)

// DocumentView is a document presented for reading: its metadata and a
// safe presentation of its content (see present.Render). A document the
// viewer cannot show is a present.KindDownload view whose Notice says why.
type DocumentView struct {
	Document Document
	present.View
	// Notice is a sentence for the reader when the document is shown only
	// as a download: too large, or not what its type says.
	Notice string
}

// View presents the document's content for the viewer: plain text as
// text, HTML and C-CDA sanitized, images by their sniffed type, PDFs with
// their text. A document over present's limits or malformed is no error:
// it comes back as a download, with the reason in Notice. Reading a view
// is audited like a download.
func (s *Service) View(ctx context.Context, a Actor, id int64) (DocumentView, error) {
	var (
		v    DocumentView
		body io.Reader
		data []byte
	)
	// present's default limits; what is over their size is not read.
	const limit = int64(present.DefaultMaxBytes)
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		d, err := s.checkedDocument(ctx, tx, a, ActionViewDocument, id)
		if err != nil {
			return err
		}
		v.Document = d
		if d.Size > limit {
			return nil
		}
		body, err = tx.DocumentContent(ctx, id)
		return err
	})
	if err == nil && body != nil {
		// Read once the transaction is over, as a download is: content
		// kept in parts reads each part in a read of its own.
		data, err = io.ReadAll(io.LimitReader(body, limit+1))
	}
	if err != nil {
		return DocumentView{}, fmt.Errorf("view document %d: %w", id, err)
	}
	d := v.Document
	v.View = present.View{Kind: present.KindDownload, ContentType: d.ContentType, Size: int(d.Size)}
	if d.Size > limit || int64(len(data)) > limit {
		v.Notice = fmt.Sprintf("This document is too large to show here (%s; the viewer shows up to %s): download it to read it.",
			sizeText(d.Size), sizeText(limit))
	} else if view, err := present.Render(ctx, d.ContentType, data, present.Limits{}); err == nil {
		v.View = view
	} else if pe := (*present.Error)(nil); errors.As(err, &pe) {
		v.Notice = "This document cannot be shown here (" + pe.Reason + "): download it to open it in another program."
	} else {
		return DocumentView{}, fmt.Errorf("view document %d: %w", id, err)
	}
	s.record(ctx, a, ActionViewDocument, OutcomeSuccess, d.PatientID, id, "", string(v.Kind))
	return v, nil
}

// sizeText writes n bytes as a person reads them: "812 KB", "3.4 MB".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
