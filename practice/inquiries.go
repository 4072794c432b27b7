package practice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// InquiryChannel is how a prospective patient's inquiry arrived.
type InquiryChannel string

// The channels of an inquiry.
const (
	// InquiryForm: the practice's web contact form, through the public
	// POST /inquiries.
	InquiryForm InquiryChannel = "form"
	// InquiryEmail: an email to one of the practice's inquiry addresses.
	InquiryEmail InquiryChannel = "email"
)

// InquiryStatus is where an inquiry stands: new until a dietician creates
// the patient from it (converted) or dismisses it.
type InquiryStatus string

// The states of an inquiry.
const (
	InquiryNew       InquiryStatus = "new"
	InquiryConverted InquiryStatus = "converted"
	InquiryDismissed InquiryStatus = "dismissed"
)

// Inquiry is a prospective patient's first message to the practice.
type Inquiry struct {
	ID      int64
	Name    string
	Email   string
	Subject string
	Message string
	// DieticianID is the dietician addressed; zero for the practice as a
	// whole.
	DieticianID int64
	Channel     InquiryChannel
	// MessageID is an email inquiry's Message-ID, which makes it one
	// inquiry however often it is delivered.
	MessageID string
	Status    InquiryStatus
	// PatientID is the patient created from it, once converted.
	PatientID int64
	// Attachments of an email inquiry, without their data in listings.
	Attachments []InquiryAttachment
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// InquiryAttachment is a file an email inquiry carried, kept as bytes:
// never executed, and offered only as a download.
type InquiryAttachment struct {
	ID          int64
	Name        string
	ContentType string
	Size        int64
	// Data is the content; empty where only the metadata was read.
	Data []byte
}

// InquiryTx is the persistence of inquiries, a part of Tx.
type InquiryTx interface {
	// CreateInquiry inserts in with its attachments (ID and times are
	// set) and returns its id. A MessageID already stored is ErrConflict.
	CreateInquiry(ctx context.Context, in Inquiry) (int64, error)
	// Inquiry returns an inquiry with its attachments' metadata.
	Inquiry(ctx context.Context, id int64) (Inquiry, error)
	// InquiryByMessageID finds an email inquiry by its Message-ID.
	InquiryByMessageID(ctx context.Context, messageID string) (Inquiry, error)
	// Inquiries lists the inquiries q selects, newest first, without
	// attachments.
	Inquiries(ctx context.Context, q InquiryQuery) ([]Inquiry, error)
	// SetInquiryStatus moves an inquiry from new to status, with the
	// patient it became (or zero), at `at`. An inquiry no longer new is
	// ErrConflict.
	SetInquiryStatus(ctx context.Context, id int64, status InquiryStatus, patientID int64, at time.Time) error
	// InquiryAttachment returns one attachment of the inquiry with its
	// data.
	InquiryAttachment(ctx context.Context, inquiryID, id int64) (InquiryAttachment, error)
}

// InquiryQuery selects inquiries. A zero field does not filter.
type InquiryQuery struct {
	Status InquiryStatus
	// DieticianID keeps the inquiries addressed to this dietician and,
	// with Unaddressed, those addressed to no one.
	DieticianID int64
	Unaddressed bool
	// BeforeID lists inquiries with a smaller id.
	BeforeID int64
	Limit    int
}

// InquiryNotifier is told of each new inquiry inside the transaction
// that stores it, so that what it records (a notification, an email job)
// commits with the inquiry or not at all. An error rolls the inquiry
// back: the form is answered 5xx, the email 451, and the sender tries
// again.
type InquiryNotifier interface {
	InquiryReceived(ctx context.Context, tx Tx, in Inquiry) error
}

// NewInquiry is an inquiry as it arrives.
type NewInquiry struct {
	Name, Email, Subject, Message string
	// DieticianID is the dietician the form addressed; zero for none.
	DieticianID int64
	// AddressedTo is the address an email was sent to: a dietician's own
	// address addresses the inquiry to them.
	AddressedTo string
	Channel     InquiryChannel
	MessageID   string
	Attachments []InquiryAttachment
	// Honeypot is the form's hidden field, which people leave empty and
	// form-filling robots do not: filled, the inquiry is answered as
	// received and dropped.
	Honeypot string
}

// Inquiry limits. An inquiry from one sender email or one client address
// (a form's; an email's is its relay, shared by many senders, so only
// the sender counts) is accepted InquiriesPerEmail or InquiriesPerAddr
// times in InquiryWindow; more are refused with a RateLimitError. Like
// sign-in's, the limits live in each process.
const (
	InquiriesPerEmail = 3
	InquiriesPerAddr  = 10
	InquiryWindow     = time.Hour
	// MaxInquiryAttachments bounds an email inquiry's files; the SMTP
	// listener bounds their size with the message's.
	MaxInquiryAttachments = 10
)

// ReceiveInquiry stores a prospective patient's inquiry, from c (the
// form's client, or the mail relay), and tells the notifier in the same
// transaction. No one signs in to send one. An email inquiry whose
// Message-ID is stored already returns the stored inquiry and stores
// nothing. A filled honeypot returns an Inquiry of ID 0 and stores
// nothing: the caller answers it as it answers any other.
func (s *Service) ReceiveInquiry(ctx context.Context, c Client, in NewInquiry) (Inquiry, error) {
	if in.Honeypot != "" {
		s.log.InfoContext(ctx, "inquiry dropped: honeypot filled", "request_id", c.RequestID)
		return Inquiry{}, nil
	}
	if err := checkInquiry(in); err != nil {
		return Inquiry{}, err
	}
	if in.MessageID != "" {
		if dup, err := s.inquiryByMessageID(ctx, in.MessageID); err == nil {
			return dup, nil
		} else if !errors.Is(err, ErrNotFound) {
			return Inquiry{}, fmt.Errorf("receive inquiry: %w", err)
		}
	}
	addr := ""
	if in.Channel == InquiryForm {
		addr = addrKey(c.Addr)
	}
	email := accountKey(in.Email)
	if wait := s.inquiries.take(email, addr, s.now()); wait > 0 {
		return Inquiry{}, &RateLimitError{RetryAfter: wait, What: "inquiries from this sender"}
	}
	now := s.now()
	q := Inquiry{Name: in.Name, Email: in.Email, Subject: in.Subject, Message: in.Message, DieticianID: in.DieticianID,
		Channel: in.Channel, MessageID: in.MessageID, Status: InquiryNew, Attachments: in.Attachments,
		CreatedAt: now, UpdatedAt: now}
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		if err := s.addressInquiry(ctx, tx, &q, in.AddressedTo); err != nil {
			return err
		}
		var err error
		if q.ID, err = tx.CreateInquiry(ctx, q); err != nil {
			return err
		}
		if s.cfg.Inquiries != nil {
			return s.cfg.Inquiries.InquiryReceived(ctx, tx, q)
		}
		return nil
	})
	if err != nil {
		s.inquiries.giveBack(email, addr)
	}
	if errors.Is(err, ErrConflict) && in.MessageID != "" {
		// The same message, delivered twice at once.
		return s.inquiryByMessageID(ctx, in.MessageID)
	}
	if err != nil {
		return Inquiry{}, fmt.Errorf("receive inquiry: %w", err)
	}
	s.log.InfoContext(ctx, "inquiry received", "inquiry_id", q.ID, "channel", q.Channel,
		"dietician_id", q.DieticianID, "attachments", len(q.Attachments), "request_id", c.RequestID)
	return q, nil
}

// addressInquiry checks the dietician the form addressed, and addresses
// an email sent to a dietician's own address to them.
func (s *Service) addressInquiry(ctx context.Context, tx Tx, q *Inquiry, to string) error {
	if q.DieticianID != 0 {
		u, err := tx.User(ctx, q.DieticianID)
		if errors.Is(err, ErrNotFound) || (err == nil && (u.Role != RoleDietician || u.Disabled())) {
			return invalid("dietician_id", "is not one of the practice's dieticians")
		}
		return err
	}
	if to == "" {
		return nil
	}
	u, err := tx.UserByEmail(ctx, to)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case u.Role == RoleDietician && !u.Disabled():
		q.DieticianID = u.ID
	}
	return nil
}

func (s *Service) inquiryByMessageID(ctx context.Context, id string) (Inquiry, error) {
	var q Inquiry
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		q, err = tx.InquiryByMessageID(ctx, id)
		return err
	})
	return q, err
}

func checkInquiry(in NewInquiry) error {
	var errs []error
	if err := checkName("name", in.Name); err != nil {
		errs = append(errs, err)
	}
	if err := checkEmail("email", in.Email, true); err != nil {
		errs = append(errs, err)
	}
	if err := checkText("subject", in.Subject, maxName, true); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(in.Message) == "" {
		errs = append(errs, invalid("message", "is required"))
	} else if err := checkText("message", in.Message, maxText, false); err != nil {
		errs = append(errs, err)
	}
	switch in.Channel {
	case InquiryForm:
		if in.MessageID != "" || len(in.Attachments) > 0 {
			errs = append(errs, invalid("channel", "a form inquiry has neither a Message-ID nor attachments"))
		}
	case InquiryEmail:
		if err := checkText("message_id", in.MessageID, 998, true); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, invalid("channel", "must be form or email"))
	}
	if len(in.Attachments) > MaxInquiryAttachments {
		errs = append(errs, invalid("attachments", "holds more than %d files", MaxInquiryAttachments))
	}
	for _, a := range in.Attachments {
		if err := checkText("attachments", a.Name, maxName, true); err != nil {
			errs = append(errs, err)
			break
		}
	}
	return errors.Join(errs...)
}

// InquiryList selects inquiries.
type InquiryList struct {
	// Status keeps inquiries in it; empty lists every status.
	Status InquiryStatus
	Cursor string
	Limit  int
}

// Inquiries lists the inquiries a may see, newest first: an admin every
// one, a dietician those addressed to them and those addressed to no one
// (the practice's shared inbox, which any dietician may take on).
func (s *Service) Inquiries(ctx context.Context, a Actor, in InquiryList) (List[Inquiry], error) {
	if err := s.check(ctx, a, ActionListInquiries, Resource{}, 0); err != nil {
		return List[Inquiry]{}, err
	}
	switch in.Status {
	case "", InquiryNew, InquiryConverted, InquiryDismissed:
	default:
		return List[Inquiry]{}, invalid("status", "must be one of new, converted, dismissed")
	}
	c, err := parseCursor(in.Cursor)
	if err != nil {
		return List[Inquiry]{}, err
	}
	limit, err := limitOf(in.Limit)
	if err != nil {
		return List[Inquiry]{}, err
	}
	q := InquiryQuery{Status: in.Status, BeforeID: c.ID, Limit: limit + 1}
	if a.Role != RoleAdmin {
		q.DieticianID, q.Unaddressed = a.UserID, true
	}
	var found []Inquiry
	err = s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		found, err = tx.Inquiries(ctx, q)
		return err
	})
	if err != nil {
		return List[Inquiry]{}, fmt.Errorf("list inquiries: %w", err)
	}
	list := keysetPage(found, limit, func(q Inquiry) int64 { return q.ID })
	s.record(ctx, a, ActionListInquiries, OutcomeSuccess, 0, 0, "", strconv.Itoa(len(list.Items))+" inquiries")
	return list, nil
}

// Inquiry returns an inquiry a may see, with its attachments' metadata.
// Reading it is audited, as a patient's record is.
func (s *Service) Inquiry(ctx context.Context, a Actor, id int64) (Inquiry, error) {
	q, err := s.allowedInquiry(ctx, a, ActionReadInquiry, id)
	if err != nil {
		return Inquiry{}, fmt.Errorf("inquiry %d: %w", id, err)
	}
	s.record(ctx, a, ActionReadInquiry, OutcomeSuccess, q.PatientID, 0, inquiryTarget(id), "")
	return q, nil
}

// InquiryAttachment returns an attachment of an inquiry a may see, with
// its data, for download.
func (s *Service) InquiryAttachment(ctx context.Context, a Actor, inquiryID, id int64) (InquiryAttachment, error) {
	var att InquiryAttachment
	err := s.cfg.Store.Read(ctx, func(tx Tx) error {
		if _, err := s.inquiryFacts(ctx, tx, a, ActionReadInquiry, inquiryID); err != nil {
			return err
		}
		var err error
		att, err = tx.InquiryAttachment(ctx, inquiryID, id)
		return err
	})
	if err != nil {
		return InquiryAttachment{}, fmt.Errorf("attachment %d of inquiry %d: %w", id, inquiryID, err)
	}
	s.record(ctx, a, ActionReadInquiry, OutcomeSuccess, 0, 0, inquiryTarget(inquiryID), "attachment "+strconv.FormatInt(id, 10))
	return att, nil
}

// DismissInquiry marks a new inquiry dismissed: it stays on record, and
// no patient is made of it.
func (s *Service) DismissInquiry(ctx context.Context, a Actor, id int64) (Inquiry, error) {
	var q Inquiry
	err := s.cfg.Store.Write(ctx, func(tx Tx) error {
		if _, err := s.inquiryFacts(ctx, tx, a, ActionDismissInquiry, id); err != nil {
			return err
		}
		if err := tx.SetInquiryStatus(ctx, id, InquiryDismissed, 0, s.now()); err != nil {
			return inquiryDone(err)
		}
		var err error
		q, err = tx.Inquiry(ctx, id)
		return err
	})
	if err != nil {
		return Inquiry{}, fmt.Errorf("dismiss inquiry %d: %w", id, err)
	}
	s.record(ctx, a, ActionDismissInquiry, OutcomeSuccess, 0, 0, inquiryTarget(id), "")
	return q, nil
}

// checkConvert refuses, before anything is created, to make a patient of
// an inquiry a may not convert or that is no longer new.
func (s *Service) checkConvert(ctx context.Context, a Actor, id int64) error {
	q, err := s.allowedInquiry(ctx, a, ActionConvertInquiry, id)
	if err != nil {
		return fmt.Errorf("inquiry %d: %w", id, err)
	}
	if q.Status != InquiryNew {
		return inquiryDone(ErrConflict)
	}
	return nil
}

// convertInquiry marks the inquiry converted into the patient, in the
// transaction that creates the patient.
func (s *Service) convertInquiry(ctx context.Context, tx Tx, id, patientID int64) error {
	if err := tx.SetInquiryStatus(ctx, id, InquiryConverted, patientID, s.now()); err != nil {
		return inquiryDone(err)
	}
	return nil
}

func inquiryDone(err error) error {
	if errors.Is(err, ErrConflict) {
		return refuse(ErrConflict, "the inquiry was converted or dismissed already")
	}
	return err
}

// allowedInquiry reads the inquiry if a may do act on it.
func (s *Service) allowedInquiry(ctx context.Context, a Actor, act Action, id int64) (Inquiry, error) {
	var q Inquiry
	err := s.cfg.Store.Read(ctx, func(tx Tx) (err error) {
		q, err = s.inquiryFacts(ctx, tx, a, act, id)
		return err
	})
	return q, err
}

// inquiryFacts loads the inquiry and asks the policy whether a may do
// act on it.
func (s *Service) inquiryFacts(ctx context.Context, tx Tx, a Actor, act Action, id int64) (Inquiry, error) {
	q, err := tx.Inquiry(ctx, id)
	if err != nil {
		return Inquiry{}, err
	}
	r := Resource{Inquiry: true, AddressedTo: q.DieticianID}
	if err := s.check(ctx, a, act, r, 0); err != nil {
		return Inquiry{}, err
	}
	return q, nil
}

func inquiryTarget(id int64) string { return "inquiry:" + strconv.FormatInt(id, 10) }
