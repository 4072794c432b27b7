package practice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/provider"
)

// The rules of notifications, in one place and pure: what a failure's
// cause is and what to do about it, which changes are significant, and
// how failures are counted into alerts. docs/notifications.md documents
// them; notify_rules_test.go tables them. The Notifier (notifier.go)
// applies them to what the engine records.

// CauseCode names why something failed, as far as a person can act on it.
type CauseCode string

// The causes (see docs/notifications.md, "Troubleshooting table").
const (
	CauseProviderAuth   CauseCode = "provider_auth"
	CauseProviderScope  CauseCode = "provider_scope"
	CauseRateLimited    CauseCode = "rate_limited"
	CauseUnreachable    CauseCode = "unreachable"
	CauseServerError    CauseCode = "server_error"
	CausePatientGone    CauseCode = "patient_gone"
	CauseNotFound       CauseCode = "not_found"
	CauseCarepatronAuth CauseCode = "carepatron_auth"
	CauseRejected       CauseCode = "rejected"
	CauseConflict       CauseCode = "conflict"
	CauseUnknown        CauseCode = "unknown"
)

// Cause is a failure's cause, with what it takes to explain it.
type Cause struct {
	Code CauseCode
	// System is the source or sink that failed.
	System string
	// RetryAt is when a rate-limited call is tried again; zero otherwise.
	RetryAt time.Time
	// Status is the HTTP status the other end answered, 0 if none.
	Status int
}

// CauseOf classifies a failure of an op on system at now, from the
// error's chain: the provider's and Carepatron's typed errors first,
// then the connector's classes, then the network's.
func CauseOf(err error, op connector.Op, system string, now time.Time) Cause {
	c := Cause{Code: CauseUnknown, System: system}
	var (
		cp *carepatron.Error
		se *provider.StatusError
		te *provider.TokenError
	)
	switch {
	case errors.As(err, &cp):
		c.Status = cp.StatusCode
		switch {
		case cp.StatusCode == http.StatusUnauthorized || cp.StatusCode == http.StatusForbidden:
			c.Code = CauseCarepatronAuth
		case cp.StatusCode >= 500:
			c.Code = CauseServerError
		case cp.StatusCode >= 400 && cp.StatusCode != http.StatusTooManyRequests && cp.StatusCode != http.StatusNotFound &&
			cp.StatusCode != http.StatusConflict:
			c.Code = CauseRejected
		}
	case errors.As(err, &te):
		c.Status, c.Code = te.StatusCode, CauseProviderAuth
	case errors.As(err, &se):
		c.Status = se.StatusCode
		switch {
		case se.StatusCode == http.StatusUnauthorized:
			c.Code = CauseProviderAuth
		case se.StatusCode == http.StatusForbidden:
			c.Code = CauseProviderScope
		case se.StatusCode >= 500 && se.StatusCode != http.StatusServiceUnavailable:
			c.Code = CauseServerError
		}
	case errors.Is(err, provider.ErrAuth):
		c.Code = CauseProviderAuth
	}
	if c.Code != CauseUnknown {
		return c
	}
	if d, ok := connector.RetryDelay(err); ok {
		c.Code, c.RetryAt = CauseRateLimited, now.Add(d).UTC().Truncate(time.Second)
		return c
	}
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.Is(err, connector.ErrNotFound):
		c.Code = CauseNotFound
		if ref, ok := opRef(op); ok && ref.Type == connector.PatientType {
			c.Code = CausePatientGone
		}
	case errors.Is(err, connector.ErrConflict):
		c.Code = CauseConflict
	case errors.As(err, &oe), errors.As(err, &de), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		c.Code = CauseUnreachable
	case connector.Class(err) == "timeout":
		c.Code = CauseUnreachable
	case connector.IsPermanent(err):
		c.Code = CauseRejected
	case se != nil && se.StatusCode == http.StatusServiceUnavailable:
		c.Code = CauseUnreachable
	}
	return c
}

// opRef is the resource an op works on.
func opRef(op connector.Op) (connector.Ref, bool) {
	switch op := op.(type) {
	case connector.PullOp:
		return op.Ref, true
	case connector.DeliverOp:
		return op.Ref, true
	case connector.WriteBackOp:
		return op.Patient, true
	case connector.RequestOp:
		return op.Patient, true
	}
	return connector.Ref{}, false
}

// Advice is what a person is told of a failure: what happened and what
// to do.
type Advice struct {
	// Title has no patient data; Summary says what happened.
	Title, Summary string
	Steps          []string
}

// Troubleshoot returns the advice for a failure of cause c, written for
// role: an admin gets the technical steps (configuration, credentials),
// anyone else a sentence they can act on. deadAfter, when positive, is
// the attempts a delivery spent before it gave up (a dead letter).
func Troubleshoot(c Cause, role Role, deadAfter int) Advice {
	admin := role == RoleAdmin
	sys := c.System
	var a Advice
	switch c.Code {
	case CauseProviderAuth:
		a.Title, a.Summary = "Sync error: the provider refused our credentials", fmt.Sprintf("%s refused the service's credentials.", sys)
		a.Steps = pick(admin,
			[]string{"Check the SMART client id (SMART_CLIENT_ID) and that its public key (JWKS) is registered with the provider.",
				"Check the key id (kid) and the token endpoint; a provider answering invalid_client does not know the client or its key."},
			[]string{"Syncing with the provider is paused until an admin renews the connection; ask your practice's admin."})
	case CauseProviderScope:
		a.Title, a.Summary = "Sync error: the provider refused access", fmt.Sprintf("%s refused access (403): the client lacks a scope.", sys)
		a.Steps = pick(admin,
			[]string{"Check the scopes granted to the SMART client at the provider (system/Patient.read, system/DocumentReference.read, system/Observation.read, and .write for write-back)."},
			[]string{"The provider does not let the practice read this part of the record yet; ask your practice's admin."})
	case CauseRateLimited:
		at := "shortly"
		if !c.RetryAt.IsZero() {
			at = "at " + c.RetryAt.Format(time.RFC3339)
		}
		a.Title, a.Summary = "Sync delayed: rate-limited", fmt.Sprintf("%s is rate-limiting the service; retrying %s.", sys, at)
		a.Steps = pick(admin,
			[]string{"Nothing to do unless it persists: the service waits as the server asks (Retry-After). If it lasts, lower the sync's concurrency or ask the provider for a higher limit."},
			[]string{"Nothing to do: the sync resumes by itself " + at + "."})
	case CauseUnreachable:
		a.Title, a.Summary = "Sync error: "+sys+" unreachable", fmt.Sprintf("%s did not answer.", sys)
		a.Steps = pick(admin,
			[]string{"Check that " + sys + " is up and reachable from the server (DNS, firewall, TLS); the service retries with backoff."},
			[]string{"The service retries by itself; if this lasts, tell your practice's admin."})
	case CauseServerError:
		a.Title, a.Summary = "Sync error: "+sys+" failed", fmt.Sprintf("%s answered with a server error (%d).", sys, c.Status)
		a.Steps = pick(admin,
			[]string{"The error is at " + sys + "'s end; the service retries with backoff. If it lasts, check its status page or contact its support."},
			[]string{"The service retries by itself; if this lasts, tell your practice's admin."})
	case CausePatientGone:
		a.Title, a.Summary = "Patient no longer at the provider", fmt.Sprintf("%s no longer has the patient's record.", sys)
		a.Steps = pick(admin,
			[]string{"The provider deleted or merged the record: link the patient to the provider's current record (by identifier), or archive it."},
			[]string{"The provider no longer has this patient: check with the provider, then link the patient again or archive it."})
	case CauseNotFound:
		a.Title, a.Summary = "Sync error: a record is gone", fmt.Sprintf("%s no longer has a record the sync asked for.", sys)
		a.Steps = []string{"Nothing to do if it was deleted on purpose; the next sync settles it."}
	case CauseCarepatronAuth:
		a.Title, a.Summary = "Delivery error: Carepatron refused the API key", fmt.Sprintf("%s refused the API key.", sys)
		a.Steps = pick(admin,
			[]string{"Check CAREPATRON_API_KEY: it may be wrong, revoked or lack access to the workspace."},
			[]string{"Documents are not reaching Carepatron until an admin fixes the connection; ask your practice's admin."})
	case CauseRejected:
		a.Title, a.Summary = "Sync error: a record was refused", fmt.Sprintf("%s refused a record (%d).", sys, c.Status)
		a.Steps = pick(admin,
			[]string{"Read the sync log's entry for the error " + sys + " gave; sending the same again cannot succeed."},
			[]string{"Check the record, or ask your practice's admin to read the sync log."})
	case CauseConflict:
		a.Title, a.Summary = "Sync conflict", fmt.Sprintf("The record changed at %s meanwhile.", sys)
		a.Steps = []string{"Review the record and retry."}
	default:
		a.Title, a.Summary = "Sync error", fmt.Sprintf("Syncing with %s failed.", sys)
		a.Steps = pick(admin,
			[]string{"Read the sync log and the server's log (by job id) for the error."},
			[]string{"The service retries by itself; if this lasts, tell your practice's admin."})
	}
	if deadAfter > 0 {
		a.Summary += fmt.Sprintf(" Delivery gave up after %d attempts.", deadAfter)
		a.Steps = append(a.Steps, "Once the cause is fixed, use Retry to send it again.")
	}
	return a
}

func pick(admin bool, technical, plain []string) []string {
	if admin {
		return technical
	}
	return plain
}

// Significance is a change worth telling the dietician of.
type Significance struct {
	Severity Severity
	// Title has no patient data; Summary says what changed.
	Title, Summary string
}

// DocumentSignificance decides whether a document the pull kept is a
// significant change: a new lab result or assessment, or an amended
// document (a new version whose content changed), summarized by summary
// (from the versions' diff; may be empty). A new note, a version with the
// same content and a deletion are not.
func DocumentSignificance(old, next connector.StoredDocument, summary string) (Significance, bool) {
	switch {
	case next.Deleted:
		return Significance{}, false
	case old.ID == 0 && next.Type == connector.DocumentLabResult:
		return Significance{SeverityInfo, "New lab result", "A new lab result arrived: " + next.Title + "."}, true
	case old.ID == 0 && next.Type == connector.DocumentPhysicalAssessment:
		return Significance{SeverityInfo, "New assessment", "A new assessment arrived: " + next.Title + "."}, true
	case old.ID == 0:
		return Significance{}, false
	case old.ContentHash == next.ContentHash || next.ContentHash == "":
		return Significance{}, false
	}
	s := Significance{SeverityInfo, "Document amended", "A new version of " + next.Title + " changed its content"}
	if summary != "" {
		s.Summary += ": " + summary
	}
	s.Summary += "."
	return s, true
}

// abnormal are the FHIR ObservationInterpretation codes that flag a value
// outside its range; critical those that flag it critically so.
var (
	abnormal = []string{"H", "L", "HH", "LL", "HU", "LU", "A", "AA", "CRITICAL", "ABNORMAL", "HIGH", "LOW"}
	critical = []string{"HH", "LL", "AA", "CRITICAL"}
)

// ObservationSignificance decides whether an observation the pull kept is
// a significant change: a value the provider flags abnormal (H, L, HH,
// LL, A, critical), new or amended. A normal or unflagged value, a
// deletion, or a revision that keeps the value and flag are not.
func ObservationSignificance(old, next connector.StoredObservation) (Significance, bool) {
	flag := strings.ToUpper(strings.TrimSpace(next.Interpretation))
	if next.Deleted || !next.Status.InSeries() || !slices.Contains(abnormal, flag) {
		return Significance{}, false
	}
	if old.ID != 0 && !old.Deleted && strings.EqualFold(old.Interpretation, next.Interpretation) &&
		sameValue(old.Value, next.Value) && old.Text == next.Text {
		return Significance{}, false
	}
	s := Significance{Severity: SeverityWarning, Title: "Abnormal lab result"}
	if slices.Contains(critical, flag) {
		s.Severity, s.Title = SeverityError, "Critical lab result"
	}
	s.Summary = fmt.Sprintf("%s %s flagged %s by the provider.", display(next.Code), valueText(next.Observation), flag)
	return s, true
}

func sameValue(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func display(c connector.Coding) string {
	if c.Display != "" {
		return c.Display
	}
	return c.Code
}

func valueText(o connector.Observation) string {
	if o.Value == nil {
		return o.Text
	}
	return strings.TrimSpace(fmt.Sprintf("%s%g %s", o.Comparator, *o.Value, o.Unit))
}

// PatientSignificance decides whether a patient record the pull kept
// changed its demographics at the provider: name, email, contact details
// or identifiers. A new patient, or a new version with the same
// demographics, is not.
func PatientSignificance(old, next connector.StoredPatient) (Significance, bool) {
	if old.ID == 0 {
		return Significance{}, false
	}
	var changed []string
	if old.Name != next.Name {
		changed = append(changed, "name")
	}
	if !strings.EqualFold(old.Email, next.Email) {
		changed = append(changed, "email")
	}
	if old.ContactDetails != next.ContactDetails {
		changed = append(changed, "contact details")
	}
	if !slices.Equal(old.Identifiers, next.Identifiers) {
		changed = append(changed, "identifiers")
	}
	if len(changed) == 0 {
		return Significance{}, false
	}
	return Significance{SeverityInfo, "Patient details changed at the provider",
		"The provider changed the patient's " + strings.Join(changed, ", ") + "."}, true
}

// DefaultAlertAfter is NotifierConfig.AlertAfter's default.
const DefaultAlertAfter = 3

// StreakEvent is what one attempt's outcome makes of a streak.
type StreakEvent int

// The streak events.
const (
	StreakNone StreakEvent = iota
	// StreakAlert: the failures reached the threshold; alert once.
	StreakAlert
	// StreakRecovered: a success after an alert.
	StreakRecovered
)

// NextStreak returns the streak after an attempt of s.System that failed
// (with cause) or not, and whether to alert or tell of the recovery: the
// alert once after alertAfter failures running, the recovered notice
// once at the first success after it. A success before the alert ends
// the streak quietly.
func NextStreak(s FailureStreak, failed bool, cause CauseCode, alertAfter int, now time.Time) (FailureStreak, StreakEvent) {
	if alertAfter <= 0 {
		alertAfter = DefaultAlertAfter
	}
	if !failed {
		ev := StreakNone
		if s.Alerted {
			ev = StreakRecovered
		}
		return FailureStreak{System: s.System, UpdatedAt: now}, ev
	}
	if s.Failures == 0 {
		s.Since = now
	}
	s.Failures++
	s.Cause, s.UpdatedAt = string(cause), now
	if !s.Alerted && s.Failures >= alertAfter {
		s.Alerted = true
		return s, StreakAlert
	}
	return s, StreakNone
}

// CoalesceKey is the key failures of one patient and cause share, so
// that they make one notification that counts them.
func CoalesceKey(kind NotificationKind, patientID int64, c Cause) string {
	return fmt.Sprintf("%s:patient:%d:%s:%s", kind, patientID, c.System, c.Code)
}
