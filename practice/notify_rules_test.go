package practice_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/provider"
)

var ruleNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func docPull(id string) connector.Op {
	return connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: id}}
}

func patientPull(id string) connector.Op {
	return connector.PullOp{Ref: connector.Ref{System: "php", Type: connector.PatientType, ID: id}}
}

func TestCauseOf(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		op   connector.Op
		want practice.CauseCode
	}{
		{"token endpoint invalid_client", fmt.Errorf("token: %w", &provider.TokenError{StatusCode: 400, Code: "invalid_client"}),
			docPull("d1"), practice.CauseProviderAuth},
		{"provider auth error", fmt.Errorf("%w: %w", connector.ErrPermanent, provider.ErrAuth), docPull("d1"), practice.CauseProviderAuth},
		{"provider 401", &provider.StatusError{StatusCode: 401}, docPull("d1"), practice.CauseProviderAuth},
		{"provider 403", fmt.Errorf("%w: %w", connector.ErrPermanent, &provider.StatusError{StatusCode: 403}), docPull("d1"),
			practice.CauseProviderScope},
		{"provider 429", connector.RetryAfter(90*time.Second, &provider.StatusError{StatusCode: 429}), docPull("d1"),
			practice.CauseRateLimited},
		{"provider 500", &provider.StatusError{StatusCode: 500}, docPull("d1"), practice.CauseServerError},
		{"provider 503 without delay", &provider.StatusError{StatusCode: 503}, docPull("d1"), practice.CauseUnreachable},
		{"connection refused", fmt.Errorf("fetch: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}),
			docPull("d1"), practice.CauseUnreachable},
		{"no such host", &net.DNSError{Err: "no such host", Name: "fhir.example"}, docPull("d1"), practice.CauseUnreachable},
		{"deadline", fmt.Errorf("fetch: %w", context.DeadlineExceeded), docPull("d1"), practice.CauseUnreachable},
		{"patient gone", fmt.Errorf("%w: find patient", connector.ErrNotFound), patientPull("p1"), practice.CausePatientGone},
		{"document gone", connector.ErrNotFound, docPull("d1"), practice.CauseNotFound},
		{"carepatron 401", fmt.Errorf("%w: %w", connector.ErrPermanent, &carepatron.Error{StatusCode: 401}),
			connector.DeliverOp{Sink: "carepatron"}, practice.CauseCarepatronAuth},
		{"carepatron 403", &carepatron.Error{StatusCode: 403}, connector.DeliverOp{Sink: "carepatron"}, practice.CauseCarepatronAuth},
		{"carepatron 400", fmt.Errorf("%w: %w", connector.ErrPermanent, &carepatron.Error{StatusCode: 400}),
			connector.DeliverOp{Sink: "carepatron"}, practice.CauseRejected},
		{"carepatron 502", &carepatron.Error{StatusCode: 502}, connector.DeliverOp{Sink: "carepatron"}, practice.CauseServerError},
		{"conflict", fmt.Errorf("%w: if-match", connector.ErrConflict), docPull("d1"), practice.CauseConflict},
		{"permanent of no known kind", fmt.Errorf("%w: bad payload", connector.ErrPermanent), docPull("d1"), practice.CauseRejected},
		{"anything else", errors.New("boom"), docPull("d1"), practice.CauseUnknown},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := practice.CauseOf(c.err, c.op, "php", ruleNow)
			assert.Equal(t, c.want, got.Code)
			assert.Equal(t, "php", got.System)
		})
	}
	rl := practice.CauseOf(connector.RetryAfter(90*time.Second, errors.New("429")), docPull("d1"), "php", ruleNow)
	assert.Equal(t, ruleNow.Add(90*time.Second), rl.RetryAt, "a rate limit tells when it is retried")
}

func TestTroubleshoot(t *testing.T) {
	retryAt := ruleNow.Add(90 * time.Second)
	for _, c := range []struct {
		cause practice.Cause
		// admin and plain are words the admin's and the dietician's steps
		// hold; technical is what the dietician's must not.
		admin, plain, technical string
	}{
		{practice.Cause{Code: practice.CauseProviderAuth, System: "php"}, "SMART client id", "admin", "JWKS"},
		{practice.Cause{Code: practice.CauseProviderScope, System: "php"}, "scopes", "admin", "system/"},
		{practice.Cause{Code: practice.CauseRateLimited, System: "php", RetryAt: retryAt}, "Retry-After",
			"2026-03-02T09:31:30Z", "Retry-After"},
		{practice.Cause{Code: practice.CauseUnreachable, System: "php"}, "DNS", "retries by itself", "DNS"},
		{practice.Cause{Code: practice.CauseServerError, System: "php", Status: 502}, "backoff", "retries by itself", "status page"},
		{practice.Cause{Code: practice.CausePatientGone, System: "php"}, "link the patient", "archive", "identifier)"},
		{practice.Cause{Code: practice.CauseCarepatronAuth, System: "carepatron"}, "CAREPATRON_API_KEY", "Carepatron",
			"CAREPATRON_API_KEY"},
		{practice.Cause{Code: practice.CauseRejected, System: "carepatron", Status: 400}, "sync log", "Check the record", "cannot succeed"},
		{practice.Cause{Code: practice.CauseUnknown, System: "php"}, "server's log", "retries by itself", "job id"},
	} {
		t.Run(string(c.cause.Code), func(t *testing.T) {
			a := practice.Troubleshoot(c.cause, practice.RoleAdmin, 0)
			p := practice.Troubleshoot(c.cause, practice.RoleDietician, 0)
			assert.NotEmpty(t, a.Title)
			assert.Contains(t, a.Summary, c.cause.System, "the summary names the system")
			assert.Contains(t, strings.Join(a.Steps, " "), c.admin)
			assert.Contains(t, p.Summary+" "+strings.Join(p.Steps, " "), c.plain)
			assert.NotContains(t, strings.Join(p.Steps, " "), c.technical, "a dietician is not given the technical step")
			assert.Equal(t, a.Title, p.Title, "the title is the same for both")
		})
	}
	rl := practice.Troubleshoot(practice.Cause{Code: practice.CauseRateLimited, System: "php", RetryAt: retryAt}, practice.RoleAdmin, 0)
	assert.Contains(t, rl.Summary, "retrying at 2026-03-02T09:31:30Z")

	dead := practice.Troubleshoot(practice.Cause{Code: practice.CauseUnreachable, System: "carepatron"}, practice.RoleDietician, 12)
	assert.Contains(t, dead.Summary, "Delivery gave up after 12 attempts")
	assert.Contains(t, strings.Join(dead.Steps, " "), "Retry")
}

func TestDocumentSignificance(t *testing.T) {
	doc := func(id int64, typ connector.DocumentType, hash string) connector.StoredDocument {
		return connector.StoredDocument{ID: id, Document: connector.Document{Type: typ, Title: "Lipid panel", ContentHash: hash}}
	}
	deleted := doc(1, connector.DocumentLabResult, "b")
	deleted.Deleted = true
	for _, c := range []struct {
		name      string
		old, next connector.StoredDocument
		summary   string
		want      bool
		title     string
	}{
		{"new lab result", connector.StoredDocument{}, doc(1, connector.DocumentLabResult, "a"), "", true, "New lab result"},
		{"new assessment", connector.StoredDocument{}, doc(1, connector.DocumentPhysicalAssessment, "a"), "", true, "New assessment"},
		{"new note", connector.StoredDocument{}, doc(1, connector.DocumentProgressNote, "a"), "", false, ""},
		{"new other", connector.StoredDocument{}, doc(1, connector.DocumentOther, "a"), "", false, ""},
		{"amended", doc(1, connector.DocumentLabResult, "a"), doc(1, connector.DocumentLabResult, "b"), "2 lines added, 1 line removed",
			true, "Document amended"},
		{"amended note", doc(1, connector.DocumentProgressNote, "a"), doc(1, connector.DocumentProgressNote, "b"), "", true,
			"Document amended"},
		{"new version, same content", doc(1, connector.DocumentLabResult, "a"), doc(1, connector.DocumentLabResult, "a"), "", false, ""},
		{"deleted", doc(1, connector.DocumentLabResult, "a"), deleted, "", false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := practice.DocumentSignificance(c.old, c.next, c.summary)
			assert.Equal(t, c.want, ok)
			assert.Equal(t, c.title, s.Title)
			if ok && c.summary != "" {
				assert.Contains(t, s.Summary, c.summary, "an amendment says what changed")
			}
			assert.NotContains(t, s.Title, "Lipid", "the title carries no record content")
		})
	}
}

func TestObservationSignificance(t *testing.T) {
	v := func(f float64) *float64 { return &f }
	obs := func(id int64, value float64, flag string) connector.StoredObservation {
		return connector.StoredObservation{ID: id, Observation: connector.Observation{Code: connector.Coding{Code: "2345-7",
			Display: "Glucose"}, Status: connector.ObservationFinal, Value: v(value), Unit: "mg/dL", Interpretation: flag}}
	}
	withStatus := func(o connector.StoredObservation, s connector.ObservationStatus) connector.StoredObservation {
		o.Status = s
		return o
	}
	gone := obs(1, 180, "H")
	gone.Deleted = true
	none := connector.StoredObservation{}
	for _, c := range []struct {
		name      string
		old, next connector.StoredObservation
		want      bool
		severity  practice.Severity
	}{
		{"new high", none, obs(1, 180, "H"), true, practice.SeverityWarning},
		{"new low", none, obs(1, 50, "L"), true, practice.SeverityWarning},
		{"new abnormal", none, obs(1, 50, "A"), true, practice.SeverityWarning},
		{"new critically high", none, obs(1, 500, "HH"), true, practice.SeverityError},
		{"new critically low", none, obs(1, 20, "LL"), true, practice.SeverityError},
		{"critical by word", none, obs(1, 20, "critical"), true, practice.SeverityError},
		{"lower-case flag", none, obs(1, 180, "h"), true, practice.SeverityWarning},
		{"new normal", none, obs(1, 90, "N"), false, ""},
		{"new unflagged", none, obs(1, 90, ""), false, ""},
		{"amended to a high value", obs(1, 90, "N"), obs(1, 180, "H"), true, practice.SeverityWarning},
		{"amended value, still high", obs(1, 170, "H"), obs(1, 180, "H"), true, practice.SeverityWarning},
		{"revision keeping value and flag", obs(1, 180, "H"), withStatus(obs(1, 180, "H"), connector.ObservationAmended), false, ""},
		{"entered in error", none, withStatus(obs(1, 180, "H"), connector.ObservationEnteredInError), false, ""},
		{"deleted", obs(1, 180, "H"), gone, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := practice.ObservationSignificance(c.old, c.next)
			assert.Equal(t, c.want, ok)
			assert.Equal(t, c.severity, s.Severity)
			if ok {
				assert.Contains(t, s.Summary, "Glucose")
				assert.Contains(t, s.Summary, "mg/dL")
			}
		})
	}
}

func TestPatientSignificance(t *testing.T) {
	p := func(name, email, version string, ids ...connector.Identifier) connector.StoredPatient {
		return connector.StoredPatient{ID: 3, Patient: connector.Patient{Name: name, Email: email, Version: version, Identifiers: ids}}
	}
	mrn := connector.Identifier{System: "urn:mrn", Value: "1"}
	for _, c := range []struct {
		name      string
		old, next connector.StoredPatient
		want      bool
		changed   string
	}{
		{"new patient", connector.StoredPatient{}, p("Ann", "ann@example.org", "1"), false, ""},
		{"name changed", p("Ann", "ann@example.org", "1"), p("Anne", "ann@example.org", "2"), true, "name"},
		{"email changed", p("Ann", "ann@example.org", "1"), p("Ann", "ann@example.com", "2"), true, "email"},
		{"email case only", p("Ann", "ann@example.org", "1"), p("Ann", "Ann@Example.org", "2"), false, ""},
		{"identifier added", p("Ann", "a@example.org", "1"), p("Ann", "a@example.org", "2", mrn), true, "identifiers"},
		{"new version, same details", p("Ann", "a@example.org", "1"), p("Ann", "a@example.org", "2"), false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ok := practice.PatientSignificance(c.old, c.next)
			assert.Equal(t, c.want, ok)
			if ok {
				assert.Contains(t, s.Summary, c.changed)
				assert.NotContains(t, s.Title+s.Summary, "Ann", "the notice names the field, not its value")
			}
		})
	}
}

func TestNextStreak(t *testing.T) {
	type step struct {
		failed bool
		want   practice.StreakEvent
	}
	F, S := true, false
	for _, c := range []struct {
		name       string
		alertAfter int
		steps      []step
	}{
		{"alert at the third failure, once", 3, []step{{F, practice.StreakNone}, {F, practice.StreakNone}, {F, practice.StreakAlert},
			{F, practice.StreakNone}, {F, practice.StreakNone}}},
		{"recovered once after an alert", 3, []step{{F, 0}, {F, 0}, {F, practice.StreakAlert}, {S, practice.StreakRecovered},
			{S, practice.StreakNone}}},
		{"a success before the alert ends the streak quietly", 3, []step{{F, 0}, {F, 0}, {S, practice.StreakNone}, {F, 0}, {F, 0},
			{F, practice.StreakAlert}}},
		{"zero threshold is the default", 0, []step{{F, 0}, {F, 0}, {F, practice.StreakAlert}}},
		{"threshold one", 1, []step{{F, practice.StreakAlert}, {S, practice.StreakRecovered}, {F, practice.StreakAlert}}},
		{"healthy stays quiet", 3, []step{{S, 0}, {S, 0}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := practice.FailureStreak{System: "php"}
			for i, st := range c.steps {
				now := ruleNow.Add(time.Duration(i) * time.Minute)
				var ev practice.StreakEvent
				s, ev = practice.NextStreak(s, st.failed, practice.CauseUnreachable, c.alertAfter, now)
				assert.Equal(t, st.want, ev, "step %d", i)
				assert.Equal(t, "php", s.System)
				if !st.failed {
					assert.Zero(t, s.Failures, "a success ends the streak")
					assert.False(t, s.Alerted)
				}
			}
		})
	}
	s, _ := practice.NextStreak(practice.FailureStreak{System: "php"}, true, practice.CauseUnreachable, 3, ruleNow)
	s, _ = practice.NextStreak(s, true, practice.CauseProviderAuth, 3, ruleNow.Add(time.Minute))
	assert.Equal(t, 2, s.Failures)
	assert.Equal(t, ruleNow, s.Since, "the streak's start stays")
	assert.Equal(t, string(practice.CauseProviderAuth), s.Cause, "the last cause")
}

func TestCoalesceKey(t *testing.T) {
	unreachable := practice.Cause{Code: practice.CauseUnreachable, System: "php"}
	auth := practice.Cause{Code: practice.CauseProviderAuth, System: "php"}
	sink := practice.Cause{Code: practice.CauseUnreachable, System: "carepatron"}
	k := practice.CoalesceKey(practice.KindSyncError, 7, unreachable)
	assert.Equal(t, k, practice.CoalesceKey(practice.KindSyncError, 7, unreachable), "the same patient and cause share a key")
	for _, other := range []string{
		practice.CoalesceKey(practice.KindSyncError, 8, unreachable),
		practice.CoalesceKey(practice.KindSyncError, 7, auth),
		practice.CoalesceKey(practice.KindSyncError, 7, sink),
	} {
		assert.NotEqual(t, k, other)
	}
}

func TestDiffSummary(t *testing.T) {
	assert.Equal(t, "1 line added, 1 line removed", practice.DiffSummary("LDL 130\nHDL 40\n", "LDL 160\nHDL 40\n"))
	assert.Equal(t, "2 lines added, 0 lines removed", practice.DiffSummary("a\n", "a\nb\nc\n"))
	assert.Empty(t, practice.DiffSummary("same\n", "same\n"))
	assert.Empty(t, practice.DiffSummary("", "new\n"), "nothing to compare")
}

func TestDigestDue(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	assert.Equal(t, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), practice.DigestDue(practice.DeliverHourly, at))
	assert.Equal(t, time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), practice.DigestDue(practice.DeliverDaily, at))
}
