package practice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/present"
)

// NotifierConfig configures a Notifier. Zero values take the documented
// defaults.
type NotifierConfig struct {
	// AlertAfter is how many failures running of a source or sink raise
	// an alert. Default DefaultAlertAfter (3).
	AlertAfter int
	// Support is the practice's support contact, offered with failures a
	// dietician cannot fix: an email address or a URL. Default none.
	Support string
	// InAppOnly keeps every notification in the app, enqueuing no email,
	// for a service with no mail sender. Default off: a kind the user has
	// emailed gets its outbox job.
	InAppOnly bool
	// Logger receives ids, never patient data. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Notifier turns what the engine and the service record into
// notifications, in the transaction that records it, by the rules of
// notify_rules.go: it is the engine's connector.Notifier (set it as
// connector.Config.Notifier) and the service's (Config.Notifier). The
// store's transaction must be a Tx. It is safe for concurrent use.
type Notifier struct {
	cfg NotifierConfig
}

// NewNotifier returns a Notifier.
func NewNotifier(cfg NotifierConfig) *Notifier {
	if cfg.AlertAfter <= 0 {
		cfg.AlertAfter = DefaultAlertAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg}
}

var _ connector.Notifier = (*Notifier)(nil)

// Notify implements connector.Notifier.
func (nf *Notifier) Notify(ctx context.Context, ctxTx connector.Tx, n connector.Notice) error {
	tx, ok := ctxTx.(Tx)
	if !ok {
		return fmt.Errorf("%w: the store's transaction %T keeps no notifications", connector.ErrPermanent, ctxTx)
	}
	switch n := n.(type) {
	case connector.AttemptNotice:
		return nf.attempt(ctx, tx, n)
	case connector.FailedNotice:
		return nf.failed(ctx, tx, n)
	case connector.RunNotice:
		return nf.runDone(ctx, tx, n.Progress)
	case connector.WriteBackNotice:
		return nf.writeBack(ctx, tx, n)
	case connector.RequestNotice:
		return nf.request(ctx, tx, n)
	case connector.DocumentNotice:
		return nf.document(ctx, tx, n)
	case connector.ObservationNotice:
		return nf.observation(ctx, tx, n)
	case connector.PatientNotice:
		if s, ok := PatientSignificance(n.Old, n.New); ok {
			return nf.change(ctx, tx, n.New.ID, 0, s, fmt.Sprintf("change:patient:%d", n.New.ID))
		}
	}
	return nil
}

// attempt counts failures running per system into alerts and recovered
// notices, for the admins.
func (nf *Notifier) attempt(ctx context.Context, tx Tx, n connector.AttemptNotice) error {
	now := nf.cfg.Now()
	causes := map[string]Cause{}
	var order []string
	for _, f := range n.Failed {
		if _, ok := causes[f.System]; !ok {
			order = append(order, f.System)
			causes[f.System] = CauseOf(f.Err, f.Op, f.System, now)
		}
	}
	for _, sys := range order {
		if err := nf.streak(ctx, tx, sys, true, causes[sys], now); err != nil {
			return err
		}
	}
	for _, sys := range n.OK {
		if err := nf.streak(ctx, tx, sys, false, Cause{System: sys}, now); err != nil {
			return err
		}
	}
	return nil
}

func (nf *Notifier) streak(ctx context.Context, tx Tx, sys string, failed bool, c Cause, now time.Time) error {
	s, err := tx.FailureStreak(ctx, sys)
	if err != nil {
		return err
	}
	if !failed && s.Failures == 0 && !s.Alerted {
		return nil // healthy and known so: nothing to write
	}
	next, ev := NextStreak(s, failed, c.Code, nf.cfg.AlertAfter, now)
	if err := tx.SaveFailureStreak(ctx, next); err != nil {
		return err
	}
	switch ev {
	case StreakAlert:
		a := Troubleshoot(c, RoleAdmin, 0)
		return nf.toAdmins(ctx, tx, Notification{Kind: KindAlert, Severity: SeverityError, Title: a.Title,
			Body: fmt.Sprintf("%s failed %d times running. %s", sys, next.Failures, body(a)), Key: "alert:" + sys})
	case StreakRecovered:
		return nf.toAdmins(ctx, tx, Notification{Kind: KindRecovered, Severity: SeveritySuccess,
			Title: "Sync recovered: " + sys + " works again",
			Body:  fmt.Sprintf("%s works again after %d failures since %s.", sys, s.Failures, s.Since.UTC().Format(time.RFC3339))})
	}
	return nil
}

func body(a Advice) string { return a.Summary + " " + strings.Join(a.Steps, " ") }

// failed tells the patient's dietician (the admins, for a patient of
// none) of an op that failed for good, coalesced per patient and cause.
// A write-back or a request that failed is told by its own notice.
func (nf *Notifier) failed(ctx context.Context, tx Tx, n connector.FailedNotice) error {
	switch n.Op.(type) {
	case connector.WriteBackOp, connector.RequestOp:
		return nil
	}
	c := CauseOf(n.Err, n.Op, n.System, nf.cfg.Now())
	out := Notification{Kind: KindSyncError, Severity: SeverityError, Key: CoalesceKey(KindSyncError, n.PatientID, c),
		Links: Links{PatientID: n.PatientID, DocumentID: n.DocumentID}}
	if n.PatientID != 0 {
		out.Links.Retry = fmt.Sprintf("/patients/%d/sync", n.PatientID)
	}
	owner, err := nf.owner(ctx, tx, n.PatientID)
	if err != nil {
		return err
	}
	if owner == 0 {
		return nf.toAdmins(ctx, tx, out, func(out *Notification) { nf.advise(out, c, RoleAdmin, n.Attempts) })
	}
	nf.advise(&out, c, RoleDietician, n.Attempts)
	out.UserID = owner
	return nf.deliver(ctx, tx, out)
}

func (nf *Notifier) advise(out *Notification, c Cause, role Role, attempts int) {
	a := Troubleshoot(c, role, attempts)
	out.Title, out.Body = a.Title, body(a)
	if role != RoleAdmin && nf.cfg.Support != "" {
		out.Links.Support = nf.cfg.Support
	}
}

// runDone tells the patient's dietician what a sync brought, if it
// brought anything: a routine re-sync of unchanged records tells nothing.
func (nf *Notifier) runDone(ctx context.Context, tx Tx, p connector.Progress) error {
	counts, err := tx.TakeRunChanges(ctx, p.Run, p.PatientID)
	if err != nil || p.PatientID == 0 {
		return err
	}
	var parts []string
	total := 0
	for _, k := range runChangeKinds {
		if n := counts[k.key]; n > 0 {
			total += n
			parts = append(parts, plural(n, k.one, k.many))
		}
	}
	if total == 0 && p.Errors == 0 {
		return nil
	}
	if p.Errors > 0 {
		parts = append(parts, plural(p.Errors, "error", "errors"))
	}
	sev := SeverityInfo
	if p.Errors > 0 {
		sev = SeverityWarning
	}
	return nf.toOwner(ctx, tx, p.PatientID, Notification{Kind: KindSyncFinished, Severity: sev, Title: "Sync finished",
		Body: "The sync brought " + strings.Join(parts, ", ") + ".", Links: Links{PatientID: p.PatientID, Run: p.Run}})
}

// runChangeKinds are the counts a sync-finished notice tells, in order.
var runChangeKinds = []struct{ key, one, many string }{
	{string(connector.DocumentLabResult), "new lab result", "new lab results"},
	{string(connector.DocumentProgressNote), "new note", "new notes"},
	{string(connector.DocumentPhysicalAssessment), "new assessment", "new assessments"},
	{string(connector.DocumentOther), "new document", "new documents"},
	{"updated", "updated document", "updated documents"},
	{"observation", "new lab value", "new lab values"},
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (nf *Notifier) writeBack(ctx context.Context, tx Tx, n connector.WriteBackNotice) error {
	out := Notification{Kind: KindWriteBack, Links: Links{PatientID: n.PatientID}, Key: fmt.Sprintf("write_back:%d", n.PatientID)}
	switch n.WriteBack.Status {
	case connector.WriteBackWritten:
		out.Severity, out.Title, out.Body = SeveritySuccess, "Edit written to the provider",
			"The patient's edit was written to the provider's record."
	case connector.WriteBackConflict:
		out.Severity, out.Title = SeverityWarning, "Edit not written: the provider's record changed"
		out.Body = "The provider's record changed since the edit was made. Review it, then retry to write the edit over it. " + n.WriteBack.Detail
	case connector.WriteBackFailed:
		out.Severity, out.Title = SeverityError, "Edit not written to the provider"
		out.Body = "The edit is kept here but the provider's record does not have it. Retry, or contact support if it fails again. " + n.WriteBack.Detail
	default:
		return nil
	}
	if n.WriteBack.Status != connector.WriteBackWritten {
		out.Links.Retry = fmt.Sprintf("/patients/%d/write-back", n.PatientID)
		out.Links.Support = nf.cfg.Support
	}
	return nf.toOwner(ctx, tx, n.PatientID, out)
}

func (nf *Notifier) request(ctx context.Context, tx Tx, n connector.RequestNotice) error {
	out := Notification{Kind: KindRequest}
	switch n.Outcome.Status {
	case connector.RequestCompleted:
		out.Severity, out.Title, out.Body = SeveritySuccess, "Document request fulfilled", "The provider fulfilled the document request."
	case connector.RequestRejected:
		out.Severity, out.Title, out.Body = SeverityWarning, "Document request rejected", "The provider rejected the document request. "+n.Outcome.Detail
	case connector.RequestFailed:
		out.Severity, out.Title, out.Body = SeverityError, "Document request failed", "The document request did not reach the provider. "+n.Outcome.Detail
		out.Links.Support = nf.cfg.Support
	default:
		return nil
	}
	r, err := tx.Request(ctx, n.Key)
	if err != nil {
		return err
	}
	out.Links.PatientID = r.PatientID
	return nf.toOwner(ctx, tx, r.PatientID, out)
}

func (nf *Notifier) document(ctx context.Context, tx Tx, n connector.DocumentNotice) error {
	if n.Run != "" && n.New.PatientID != 0 && !n.New.Deleted {
		what := string(n.New.Type)
		if n.Old.ID != 0 {
			what = "updated"
		}
		if err := tx.CountRunChange(ctx, n.Run, n.New.PatientID, what); err != nil {
			return err
		}
	}
	s, ok := DocumentSignificance(n.Old, n.New, DiffSummary(textOf(n.Old), textOf(n.New)))
	if !ok {
		return nil
	}
	// A backfill of years of results makes one notification per patient
	// and type, which counts them; the amendments of one document, one.
	key := fmt.Sprintf("change:new:%d:%s", n.New.PatientID, n.New.Type)
	if n.Old.ID != 0 {
		key = fmt.Sprintf("change:amended:%d", n.New.ID)
	}
	return nf.change(ctx, tx, n.New.PatientID, n.New.ID, s, key)
}

func (nf *Notifier) observation(ctx context.Context, tx Tx, n connector.ObservationNotice) error {
	if n.Run != "" && n.Old.ID == 0 && n.New.PatientID != 0 && !n.New.Deleted {
		if err := tx.CountRunChange(ctx, n.Run, n.New.PatientID, "observation"); err != nil {
			return err
		}
	}
	s, ok := ObservationSignificance(n.Old, n.New)
	if !ok {
		return nil
	}
	// The abnormal values of one report make one notification.
	key := fmt.Sprintf("change:observations:%d:%s", n.New.PatientID, n.New.Report)
	return nf.change(ctx, tx, n.New.PatientID, 0, s, key)
}

// change tells the patient's dietician of a significant change.
func (nf *Notifier) change(ctx context.Context, tx Tx, patientID, documentID int64, s Significance, key string) error {
	return nf.toOwner(ctx, tx, patientID, Notification{Kind: KindChange, Severity: s.Severity, Title: s.Title,
		Body: s.Summary, Key: key, Links: Links{PatientID: patientID, DocumentID: documentID}})
}

// textOf is the text of a document's version to compare: the words the
// pull extracted, else text content held in memory; empty for what has
// neither (streamed content, an image).
func textOf(d connector.StoredDocument) string {
	if d.Text != "" {
		return d.Text
	}
	if d.Body == nil && strings.HasPrefix(strings.ToLower(d.ContentType), "text/") {
		return string(d.Content)
	}
	return ""
}

// DiffSummary is a short summary of what changed between two versions'
// text: how many lines were added and removed. Empty when either is.
func DiffSummary(old, next string) string {
	if old == "" || next == "" {
		return ""
	}
	added, removed := countLines(present.Diff(old, next))
	if added+removed == 0 {
		return ""
	}
	return linesChanged(added, removed)
}

// toOwner delivers n to the patient's dietician, if it has one.
func (nf *Notifier) toOwner(ctx context.Context, tx Tx, patientID int64, n Notification) error {
	owner, err := nf.owner(ctx, tx, patientID)
	if err != nil || owner == 0 {
		return err
	}
	n.UserID = owner
	return nf.deliver(ctx, tx, n)
}

// owner is the patient's dietician; 0 for no patient or none.
func (nf *Notifier) owner(ctx context.Context, tx Tx, patientID int64) (int64, error) {
	if patientID == 0 {
		return 0, nil
	}
	id, err := tx.PatientOwner(ctx, patientID)
	if errors.Is(err, ErrNotFound) || errors.Is(err, connector.ErrNotFound) {
		return 0, nil
	}
	return id, err
}

// toAdmins delivers n to every enabled admin, each adjusted by edit.
func (nf *Notifier) toAdmins(ctx context.Context, tx Tx, n Notification, edit ...func(*Notification)) error {
	return nf.toRole(ctx, tx, RoleAdmin, n, edit...)
}

// toRole delivers n to every enabled user of a role, each adjusted by
// edit.
func (nf *Notifier) toRole(ctx context.Context, tx Tx, role Role, n Notification, edit ...func(*Notification)) error {
	users, err := tx.Users(ctx, UserQuery{Role: role, Limit: MaxLimit})
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.Disabled() {
			continue
		}
		out := n
		out.UserID = u.ID
		for _, e := range edit {
			e(&out)
		}
		if err := nf.deliver(ctx, tx, out); err != nil {
			return err
		}
	}
	return nil
}

// InquiryReceived tells the dietician an inquiry is addressed to, or,
// for one addressed to the practice as a whole, every dietician (any of
// them may take it on: see the policy), in the transaction that stores
// it. The notice names nobody: the inquiry's page does, behind sign-in.
func (nf *Notifier) InquiryReceived(ctx context.Context, tx Tx, in Inquiry) error {
	n := Notification{Kind: KindInquiry, Severity: SeverityInfo, Title: "A prospective patient wrote",
		Body:  "A prospective patient wrote to the practice: open the inquiry to create their record.",
		Links: Links{InquiryID: in.ID}}
	if in.DieticianID == 0 {
		return nf.toRole(ctx, tx, RoleDietician, n)
	}
	n.UserID = in.DieticianID
	return nf.deliver(ctx, tx, n)
}

// Share tells a practitioner of a document shared with them, in the
// transaction that shares it.
func (nf *Notifier) Share(ctx context.Context, tx Tx, sh Share) error {
	return nf.deliver(ctx, tx, Notification{UserID: sh.SharedWith, Kind: KindShared, Severity: SeverityInfo,
		Title: "A document was shared with you", Body: "A document was shared with you." + noteOf(sh.Note),
		Links: Links{PatientID: sh.PatientID, DocumentID: sh.DocumentID}})
}

func noteOf(note string) string {
	if note == "" {
		return ""
	}
	return " Note: " + note
}

// Deliver adds n for its user as their preference for its kind says: not
// at all (off), in the app, and by email at once (its outbox job in tx)
// or in their next digest. Security notices are never off.
func (nf *Notifier) Deliver(ctx context.Context, tx Tx, n Notification) error {
	return nf.deliver(ctx, tx, n)
}

func (nf *Notifier) deliver(ctx context.Context, tx Tx, n Notification) error {
	prefs, err := tx.NotificationPreferences(ctx, n.UserID)
	if err != nil {
		return err
	}
	d, ok := prefs[n.Kind]
	if !ok {
		d = DefaultDelivery(n.Kind)
	}
	if d == DeliverOff && n.Kind == KindSecurity {
		d = DeliverEmail
	}
	if d == DeliverOff {
		return nil
	}
	now := nf.cfg.Now()
	n.Delivery, n.CreatedAt, n.UpdatedAt = d, now, now
	if n.Count == 0 {
		n.Count = 1
	}
	if d.Digest() && !nf.cfg.InAppOnly {
		n.EmailDue = DigestDue(d, now)
	}
	id, fresh, err := tx.AddNotification(ctx, n)
	if err != nil {
		return fmt.Errorf("add notification: %w", err)
	}
	nf.cfg.Logger.DebugContext(ctx, "notification", "id", id, "user", n.UserID, "kind", n.Kind, "new", fresh)
	if fresh && d == DeliverEmail && !nf.cfg.InAppOnly {
		return tx.EnqueueEmail(ctx, Email{UserID: n.UserID, NotificationID: id})
	}
	return nil
}

// DigestDue is when a notification added at now goes out in a digest of
// delivery d: at the next full hour, or the next midnight (UTC).
func DigestDue(d Delivery, now time.Time) time.Time {
	now = now.UTC()
	if d == DeliverDaily {
		return time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	}
	return now.Truncate(time.Hour).Add(time.Hour)
}
