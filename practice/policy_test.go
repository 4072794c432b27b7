package practice

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The people of the policy table: two dieticians, a practitioner, a
// patient user and an admin, and the records they stand to.
var (
	admin     = Actor{UserID: 1, Role: RoleAdmin}
	dietician = Actor{UserID: 2, Role: RoleDietician}
	other     = Actor{UserID: 3, Role: RoleDietician}
	pract     = Actor{UserID: 4, Role: RolePractitioner}
	patientU  = Actor{UserID: 5, Role: RolePatient, PatientID: 10}
	anonymous = Actor{}

	// ownRecord is dietician's patient 10 (patientU's record).
	ownRecord = Resource{PatientID: 10, OwnerID: 2}
	// providerDoc and upload are documents of patient 10.
	providerDoc = Resource{PatientID: 10, OwnerID: 2}
	upload      = Resource{PatientID: 10, OwnerID: 2, Uploaded: true, UploadedBy: 2}
	sharedDoc   = Resource{PatientID: 10, OwnerID: 2, SharedWithActor: true}
)

type want int

const (
	allow want = iota
	forbid
	hide
	signIn
)

func (w want) String() string {
	return [...]string{"allow", "forbid", "hide", "sign in"}[w]
}

func outcome(err error) want {
	var d *DenyError
	switch {
	case err == nil:
		return allow
	case !errors.As(err, &d):
		panic(fmt.Sprintf("Can returned %T", err))
	case d.Hidden:
		return hide
	case d.Reason == "sign in first":
		return signIn
	}
	return forbid
}

func TestCan(t *testing.T) {
	for _, c := range []struct {
		who  string
		a    Actor
		act  Action
		r    Resource
		want want
	}{
		// Anyone not signed in is refused everything.
		{"anonymous", anonymous, ActionReadPatient, ownRecord, signIn},
		{"anonymous", anonymous, ActionListPatients, Resource{}, signIn},
		{"a token of no known role", Actor{UserID: 9, Role: "root"}, ActionReadAudit, Resource{}, signIn},

		// Users.
		{"admin", admin, ActionListUsers, Resource{}, allow},
		{"dietician", dietician, ActionListUsers, Resource{}, forbid},
		{"patient", patientU, ActionListUsers, Resource{}, forbid},
		{"admin", admin, ActionReadUser, Resource{UserID: 3}, allow},
		{"self", dietician, ActionReadUser, Resource{UserID: 2}, allow},
		{"another user", dietician, ActionReadUser, Resource{UserID: 3}, hide},
		{"admin creates staff", admin, ActionCreateUser, Resource{NewRole: RoleDietician}, allow},
		{"dietician invites own patient", dietician, ActionCreateUser, Resource{NewRole: RolePatient, PatientID: 10, OwnerID: 2}, allow},
		{"dietician invites another's patient", other, ActionCreateUser, Resource{NewRole: RolePatient, PatientID: 10, OwnerID: 2}, hide},
		{"dietician creates staff", dietician, ActionCreateUser, Resource{NewRole: RoleDietician}, forbid},
		{"practitioner creates a user", pract, ActionCreateUser, Resource{NewRole: RolePatient, PatientID: 10, OwnerID: 2}, forbid},
		{"self update", patientU, ActionUpdateUser, Resource{UserID: 5}, allow},
		{"admin update", admin, ActionUpdateUser, Resource{UserID: 5}, allow},
		{"update another", dietician, ActionUpdateUser, Resource{UserID: 5}, hide},
		{"admin changes a role", admin, ActionChangeRole, Resource{UserID: 2}, allow},
		{"admin changes own role", admin, ActionChangeRole, Resource{UserID: 1}, forbid},
		{"self changes own role", dietician, ActionChangeRole, Resource{UserID: 2}, forbid},
		{"admin deletes", admin, ActionDeleteUser, Resource{UserID: 2}, allow},
		{"dietician deletes another", dietician, ActionDeleteUser, Resource{UserID: 3}, hide},

		// Patients.
		{"dietician lists", dietician, ActionListPatients, Resource{}, allow},
		{"practitioner lists", pract, ActionListPatients, Resource{}, allow},
		{"dietician creates", dietician, ActionCreatePatient, Resource{}, allow},
		{"admin creates", admin, ActionCreatePatient, Resource{}, forbid},
		{"practitioner creates", pract, ActionCreatePatient, Resource{}, forbid},
		{"patient creates", patientU, ActionCreatePatient, Resource{}, forbid},
		{"owner reads", dietician, ActionReadPatient, ownRecord, allow},
		{"another dietician reads", other, ActionReadPatient, ownRecord, hide},
		{"admin reads", admin, ActionReadPatient, ownRecord, allow},
		{"the patient reads", patientU, ActionReadPatient, ownRecord, allow},
		{"another patient reads", Actor{UserID: 6, Role: RolePatient, PatientID: 11}, ActionReadPatient, ownRecord, hide},
		{"practitioner with a share reads the record", pract, ActionReadPatient, Resource{PatientID: 10, OwnerID: 2, SharedWithActor: true}, hide},
		{"owner edits", dietician, ActionUpdatePatient, ownRecord, allow},
		{"the patient edits", patientU, ActionUpdatePatient, ownRecord, forbid},
		{"admin edits", admin, ActionUpdatePatient, ownRecord, forbid},
		{"another dietician edits", other, ActionUpdatePatient, ownRecord, hide},
		{"owner archives", dietician, ActionArchivePatient, ownRecord, allow},
		{"another dietician archives", other, ActionArchivePatient, ownRecord, hide},
		{"owner syncs", dietician, ActionStartSync, ownRecord, allow},
		{"the patient syncs", patientU, ActionStartSync, ownRecord, forbid},
		{"owner requests documents", dietician, ActionRequestDocuments, ownRecord, allow},
		{"practitioner requests documents", pract, ActionRequestDocuments, sharedDoc, hide},
		{"owner lists requests", dietician, ActionListRequests, ownRecord, allow},
		{"owner reads the log", dietician, ActionListLogs, ownRecord, allow},
		{"admin reads the log", admin, ActionReadLog, ownRecord, allow},
		{"the patient reads the log", patientU, ActionListLogs, ownRecord, forbid},
		{"another dietician reads the log", other, ActionReadLog, ownRecord, hide},
		{"owner watches a sync", dietician, ActionReadSync, ownRecord, allow},
		{"another dietician watches a sync", other, ActionReadSync, ownRecord, hide},

		// Documents.
		{"owner lists documents", dietician, ActionListDocuments, ownRecord, allow},
		{"the patient lists documents", patientU, ActionListDocuments, ownRecord, allow},
		{"practitioner lists all documents", pract, ActionListDocuments, sharedDoc, hide},
		{"owner downloads", dietician, ActionDownload, providerDoc, allow},
		{"owner views", dietician, ActionViewDocument, providerDoc, allow},
		{"the patient views", patientU, ActionViewDocument, providerDoc, allow},
		{"practitioner views a shared document", pract, ActionViewDocument, sharedDoc, allow},
		{"another dietician views", other, ActionViewDocument, providerDoc, hide},
		{"owner reads versions", dietician, ActionReadVersions, providerDoc, allow},
		{"the patient reads versions", patientU, ActionReadVersions, providerDoc, allow},
		{"admin reads versions", admin, ActionReadVersions, providerDoc, allow},
		{"practitioner reads a shared document's versions", pract, ActionReadVersions, sharedDoc, forbid},
		{"practitioner reads an unshared document's versions", pract, ActionReadVersions, providerDoc, hide},
		{"another dietician reads versions", other, ActionReadVersions, providerDoc, hide},
		{"the patient downloads", patientU, ActionDownload, providerDoc, allow},
		{"practitioner downloads a shared document", pract, ActionDownload, sharedDoc, allow},
		{"practitioner reads a shared document", pract, ActionReadDocument, sharedDoc, allow},
		{"practitioner reads an unshared document", pract, ActionReadDocument, providerDoc, hide},
		{"another dietician downloads", other, ActionDownload, providerDoc, hide},
		{"owner uploads", dietician, ActionUploadDocument, ownRecord, allow},
		{"the patient uploads", patientU, ActionUploadDocument, ownRecord, forbid},
		{"another dietician uploads", other, ActionUploadDocument, ownRecord, hide},
		{"owner edits a provider document", dietician, ActionUpdateDocument, providerDoc, forbid},
		{"owner deletes a provider document", dietician, ActionDeleteDocument, providerDoc, forbid},
		{"uploader edits the upload", dietician, ActionUpdateDocument, upload, allow},
		{"uploader deletes the upload", dietician, ActionDeleteDocument, upload, allow},
		{"admin deletes an upload", admin, ActionDeleteDocument, upload, forbid},
		{"practitioner deletes a shared upload", pract, ActionDeleteDocument, Resource{PatientID: 10, OwnerID: 2, Uploaded: true, UploadedBy: 2, SharedWithActor: true}, forbid},
		{"another dietician deletes", other, ActionDeleteDocument, upload, hide},
		{"owner shares a provider document", dietician, ActionShareDocument, providerDoc, allow},
		{"uploader shares the upload", dietician, ActionShareDocument, upload, allow},
		{"admin shares", admin, ActionShareDocument, providerDoc, forbid},
		{"the patient shares", patientU, ActionShareDocument, providerDoc, forbid},
		{"practitioner reshares", pract, ActionShareDocument, sharedDoc, forbid},
		{"another dietician shares", other, ActionShareDocument, providerDoc, hide},

		// Observations: the record's data, as its documents' list.
		{"owner lists observations", dietician, ActionListObservations, ownRecord, allow},
		{"the patient lists observations", patientU, ActionListObservations, ownRecord, allow},
		{"admin lists observations", admin, ActionListObservations, ownRecord, allow},
		{"another dietician lists observations", other, ActionListObservations, ownRecord, hide},
		{"practitioner with a share lists observations", pract, ActionListObservations, sharedDoc, hide},
		{"anonymous lists observations", anonymous, ActionListObservations, ownRecord, signIn},
		{"owner reads the lab summary", dietician, ActionReadLabSummary, ownRecord, allow},
		{"the patient reads the lab summary", patientU, ActionReadLabSummary, ownRecord, allow},
		{"admin reads the lab summary", admin, ActionReadLabSummary, ownRecord, allow},
		{"another dietician reads the lab summary", other, ActionReadLabSummary, ownRecord, hide},
		{"practitioner with a share reads the lab summary", pract, ActionReadLabSummary, sharedDoc, hide},
		{"another patient reads the lab summary", Actor{UserID: 6, Role: RolePatient, PatientID: 11}, ActionReadLabSummary, ownRecord, hide},

		// Shares.
		{"owner lists shared documents", dietician, ActionListShared, ownRecord, allow},
		{"practitioner lists shared documents", pract, ActionListShared, sharedDoc, allow},
		{"practitioner without a share", pract, ActionListShared, ownRecord, hide},
		{"the patient lists shares", patientU, ActionListShared, ownRecord, forbid},
		{"anyone lists own shares", pract, ActionListShares, Resource{}, allow},
		{"sharer revokes", dietician, ActionRevokeShare, Resource{SharedBy: 2, SharedWith: 4}, allow},
		{"admin revokes", admin, ActionRevokeShare, Resource{SharedBy: 2, SharedWith: 4}, allow},
		{"receiver revokes", pract, ActionRevokeShare, Resource{SharedBy: 2, SharedWith: 4}, forbid},
		{"stranger revokes", other, ActionRevokeShare, Resource{SharedBy: 2, SharedWith: 4}, hide},

		// Audit.
		{"admin reads the audit log", admin, ActionReadAudit, Resource{}, allow},
		{"dietician reads the audit log", dietician, ActionReadAudit, Resource{}, forbid},

		// Notifications: one's own, nobody else's, an admin's neither.
		{"dietician lists own notifications", dietician, ActionListNotifications, Resource{UserID: 2}, allow},
		{"patient lists own notifications", patientU, ActionListNotifications, Resource{UserID: 5}, allow},
		{"admin lists another's notifications", admin, ActionListNotifications, Resource{UserID: 2}, hide},
		{"dietician marks own read", dietician, ActionReadNotification, Resource{UserID: 2}, allow},
		{"dietician marks another's read", dietician, ActionReadNotification, Resource{UserID: 3}, hide},
		{"practitioner reads own preferences", pract, ActionReadPreferences, Resource{UserID: 4}, allow},
		{"admin reads another's preferences", admin, ActionReadPreferences, Resource{UserID: 2}, hide},
		{"dietician sets own preferences", dietician, ActionUpdatePreferences, Resource{UserID: 2}, allow},
		{"dietician sets another's preferences", dietician, ActionUpdatePreferences, Resource{UserID: 3}, hide},
		{"anonymous lists notifications", anonymous, ActionListNotifications, Resource{}, signIn},
		// Inquiries: a dietician's own and the unaddressed ones (the
		// practice's shared inbox); admins read and dismiss any, and
		// convert none, since only dieticians create patients.
		{"admin lists inquiries", admin, ActionListInquiries, Resource{}, allow},
		{"dietician lists inquiries", dietician, ActionListInquiries, Resource{}, allow},
		{"practitioner lists inquiries", pract, ActionListInquiries, Resource{}, forbid},
		{"patient lists inquiries", patientU, ActionListInquiries, Resource{}, forbid},
		{"anonymous lists inquiries", anonymous, ActionListInquiries, Resource{}, signIn},
		{"dietician reads theirs", dietician, ActionReadInquiry, Resource{Inquiry: true, AddressedTo: 2}, allow},
		{"dietician reads an unaddressed one", dietician, ActionReadInquiry, Resource{Inquiry: true}, allow},
		{"dietician reads another's", other, ActionReadInquiry, Resource{Inquiry: true, AddressedTo: 2}, hide},
		{"admin reads any", admin, ActionReadInquiry, Resource{Inquiry: true, AddressedTo: 2}, allow},
		{"practitioner reads one", pract, ActionReadInquiry, Resource{Inquiry: true}, hide},
		{"patient reads one", patientU, ActionReadInquiry, Resource{Inquiry: true}, hide},
		{"not an inquiry", admin, ActionReadInquiry, ownRecord, hide},
		{"dietician converts theirs", dietician, ActionConvertInquiry, Resource{Inquiry: true, AddressedTo: 2}, allow},
		{"dietician converts an unaddressed one", other, ActionConvertInquiry, Resource{Inquiry: true}, allow},
		{"dietician converts another's", other, ActionConvertInquiry, Resource{Inquiry: true, AddressedTo: 2}, hide},
		{"admin converts", admin, ActionConvertInquiry, Resource{Inquiry: true}, forbid},
		{"practitioner converts", pract, ActionConvertInquiry, Resource{Inquiry: true}, hide},
		{"dietician dismisses theirs", dietician, ActionDismissInquiry, Resource{Inquiry: true, AddressedTo: 2}, allow},
		{"dietician dismisses another's", other, ActionDismissInquiry, Resource{Inquiry: true, AddressedTo: 2}, hide},
		{"admin dismisses", admin, ActionDismissInquiry, Resource{Inquiry: true, AddressedTo: 2}, allow},
		{"patient dismisses", patientU, ActionDismissInquiry, Resource{Inquiry: true}, hide},

		// Signing out is every signed-in user's.
		{"patient logs out", patientU, ActionLogout, Resource{}, allow},
		{"unknown action", admin, Action("patient.teleport"), ownRecord, forbid},
	} {
		t.Run(fmt.Sprintf("%s %s", c.who, c.act), func(t *testing.T) {
			err := Can(c.a, c.act, c.r)
			assert.Equal(t, c.want, outcome(err), "%v", err)
			if c.want == forbid {
				var d *DenyError
				if assert.ErrorAs(t, err, &d) {
					assert.NotEmpty(t, d.Reason, "a refusal says why")
				}
				assert.ErrorIs(t, err, ErrForbidden)
			}
			if c.want == hide {
				assert.ErrorIs(t, err, ErrNotFound, "a hidden record is not found")
			}
		})
	}
}

// TestEveryActionIsDecided makes sure every declared action has a rule:
// none falls through to "unknown action" for an admin on a record.
func TestEveryActionIsDecided(t *testing.T) {
	for _, act := range Actions {
		err := Can(admin, act, Resource{PatientID: 10, OwnerID: 2, UserID: 2, SharedBy: 2})
		var d *DenyError
		if errors.As(err, &d) {
			assert.NotEqual(t, "unknown action", d.Reason, "%s has no rule", act)
		}
	}
}

func TestCanSearchDocuments(t *testing.T) {
	// Open to every role: the service narrows the search to what each may see.
	for _, a := range []Actor{admin, dietician, pract, patientU} {
		assert.Equal(t, allow, outcome(Can(a, ActionSearchDocuments, Resource{})), a.Role)
	}
}

func TestCanListAllLogs(t *testing.T) {
	assert.Equal(t, allow, outcome(Can(admin, ActionListAllLogs, Resource{})))
	assert.Equal(t, allow, outcome(Can(dietician, ActionListAllLogs, Resource{})))
	assert.Equal(t, forbid, outcome(Can(pract, ActionListAllLogs, Resource{})))
	assert.Equal(t, forbid, outcome(Can(patientU, ActionListAllLogs, Resource{})))
}
