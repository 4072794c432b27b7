package practice

// Action is one thing an actor may do: the unit the policy decides and
// the audit log records. Every API operation and console action is one.
type Action string

// The actions.
const (
	ActionLogin   Action = "auth.login"
	ActionRefresh Action = "auth.refresh"
	ActionLogout  Action = "auth.logout"

	ActionListUsers  Action = "user.list"
	ActionReadUser   Action = "user.read"
	ActionCreateUser Action = "user.create"
	ActionUpdateUser Action = "user.update"
	// ActionChangeRole covers a user update that changes the role or
	// disables the user.
	ActionChangeRole Action = "user.change_role"
	ActionDeleteUser Action = "user.delete"

	ActionListPatients   Action = "patient.list"
	ActionReadPatient    Action = "patient.read"
	ActionCreatePatient  Action = "patient.create"
	ActionUpdatePatient  Action = "patient.update"
	ActionArchivePatient Action = "patient.archive"

	ActionListDocuments  Action = "document.list"
	ActionReadDocument   Action = "document.read"
	ActionDownload       Action = "document.download"
	ActionViewDocument   Action = "document.view"
	ActionUploadDocument Action = "document.upload"
	ActionUpdateDocument Action = "document.update"
	ActionDeleteDocument Action = "document.delete"
	ActionShareDocument  Action = "document.share"
	// ActionSearchDocuments lists documents across the patients the
	// actor may see documents of.
	ActionSearchDocuments Action = "document.search"
	// ActionReadVersions reads a document's earlier versions, their
	// content and the diff between two.
	ActionReadVersions Action = "document.versions"

	// ActionListObservations reads a patient's lab results and vital
	// signs as a series; ActionReadLabSummary their latest values.
	ActionListObservations Action = "observation.list"
	ActionReadLabSummary   Action = "observation.summary"

	ActionListShared  Action = "share.list_patient"
	ActionListShares  Action = "share.list"
	ActionRevokeShare Action = "share.revoke"

	ActionListLogs Action = "log.list"
	// ActionListAllLogs lists the log across the actor's patients.
	ActionListAllLogs Action = "log.list_all"
	ActionReadLog     Action = "log.read"

	ActionStartSync Action = "sync.start"
	ActionReadSync  Action = "sync.read"

	ActionRequestDocuments Action = "request.create"
	ActionListRequests     Action = "request.list"

	ActionReadAudit Action = "audit.list"

	// The notification actions are on the actor's own notifications and
	// preferences: Resource.UserID is the user they belong to.
	ActionListNotifications Action = "notification.list"
	ActionReadNotification  Action = "notification.read"
	ActionReadPreferences   Action = "notification.preferences_read"
	ActionUpdatePreferences Action = "notification.preferences_update"
	// The inquiries of prospective patients. Receiving one needs no
	// sign-in, and is not an action of the policy.
	ActionListInquiries  Action = "inquiry.list"
	ActionReadInquiry    Action = "inquiry.read"
	ActionConvertInquiry Action = "inquiry.convert"
	ActionDismissInquiry Action = "inquiry.dismiss"
)

// Actions lists every action, for tests and documentation.
var Actions = []Action{
	ActionLogin, ActionRefresh, ActionLogout, ActionListUsers, ActionReadUser, ActionCreateUser, ActionUpdateUser, ActionChangeRole, ActionDeleteUser, ActionListPatients, ActionReadPatient, ActionCreatePatient, ActionUpdatePatient, ActionArchivePatient, ActionListDocuments, ActionReadDocument, ActionDownload, ActionViewDocument, ActionUploadDocument, ActionUpdateDocument, ActionDeleteDocument, ActionShareDocument, ActionSearchDocuments, ActionReadVersions, ActionListObservations, ActionReadLabSummary, ActionListShared, ActionListShares, ActionRevokeShare, ActionListLogs, ActionListAllLogs, ActionReadLog, ActionStartSync, ActionReadSync, ActionRequestDocuments, ActionListRequests, ActionReadAudit, ActionListNotifications, ActionReadNotification, ActionReadPreferences, ActionUpdatePreferences,
	ActionListInquiries, ActionReadInquiry, ActionConvertInquiry, ActionDismissInquiry,
}

// Resource is what the policy knows of the record an action is on: the
// facts that decide access, loaded by the service before it asks. Zero
// fields are facts that do not apply.
type Resource struct {
	// PatientID and OwnerID: the patient the record belongs to and that
	// patient's dietician.
	PatientID int64
	OwnerID   int64
	// Uploaded is set for a document a user uploaded, with UploadedBy.
	Uploaded   bool
	UploadedBy int64
	// SharedWithActor: a live share gives the actor this document (or, for
	// a patient, one of its documents).
	SharedWithActor bool
	// UserID is the user acted on; NewRole the role a user is created
	// with or given.
	UserID  int64
	NewRole Role
	// SharedBy and SharedWith are a share's parties.
	SharedBy, SharedWith int64
	// Inquiry is set for a prospective patient's inquiry, with the
	// dietician it is addressed to (zero: the practice as a whole).
	Inquiry     bool
	AddressedTo int64
}

// Can decides whether a may do act on r. It returns nil or a *DenyError:
// Hidden when r is not a's to know of (answered as not found, so that
// existence does not leak), otherwise with the reason a person reads.
// It is pure: the same input always gives the same answer.
func Can(a Actor, act Action, r Resource) error {
	if a.Anonymous() || !a.Role.Valid() {
		return &DenyError{Action: act, Reason: "sign in first"}
	}
	rel := relationOf(a, r)
	switch act {
	case ActionLogout, ActionRefresh, ActionLogin:
		return nil

	case ActionListUsers:
		return only(a, act, "only admins list users", RoleAdmin)
	case ActionReadUser:
		if a.Role == RoleAdmin || r.UserID == a.UserID {
			return nil
		}
		return hidden(act)
	case ActionCreateUser:
		switch {
		case a.Role == RoleAdmin:
			return nil
		case a.Role == RoleDietician && r.NewRole == RolePatient && rel == relOwner:
			return nil
		case a.Role == RoleDietician && r.NewRole == RolePatient:
			return hidden(act)
		case a.Role == RoleDietician:
			return deny(act, "dieticians invite patient users for their own patients; an admin creates staff")
		}
		return deny(act, "only admins create users")
	case ActionUpdateUser:
		if a.Role == RoleAdmin || r.UserID == a.UserID {
			return nil
		}
		return hidden(act)
	case ActionChangeRole, ActionDeleteUser:
		if a.Role == RoleAdmin {
			if r.UserID == a.UserID {
				return deny(act, "an admin cannot change the role of, disable or delete their own account; ask another admin")
			}
			return nil
		}
		if r.UserID == a.UserID {
			return deny(act, "only an admin changes roles or removes users")
		}
		return hidden(act)

	case ActionListPatients, ActionSearchDocuments:
		return nil // the service narrows the listing to what a may see
	case ActionCreatePatient:
		return only(a, act, "only dieticians create patients", RoleDietician)
	case ActionReadPatient, ActionListDocuments, ActionListObservations, ActionReadLabSummary:
		// A share gives a practitioner documents, not the record's data.
		switch rel {
		case relOwner, relSelf, relAdmin:
			return nil
		}
		return hidden(act)
	case ActionUpdatePatient, ActionArchivePatient, ActionStartSync, ActionRequestDocuments, ActionUploadDocument:
		switch rel {
		case relOwner:
			return nil
		case relSelf, relAdmin:
			return deny(act, "only the patient's dietician may do this")
		}
		return hidden(act)
	case ActionListRequests, ActionListLogs, ActionReadLog, ActionReadSync:
		switch rel {
		case relOwner, relAdmin:
			return nil
		case relSelf:
			return deny(act, "the sync history is kept for the practice")
		}
		return hidden(act)

	case ActionReadDocument, ActionDownload, ActionViewDocument:
		switch rel {
		case relOwner, relSelf, relAdmin, relShared:
			return nil
		}
		return hidden(act)
	case ActionReadVersions:
		switch rel {
		case relOwner, relSelf, relAdmin:
			return nil
		case relShared:
			return deny(act, "a share gives the document as it is now, not its earlier versions")
		}
		return hidden(act)
	case ActionUpdateDocument, ActionDeleteDocument:
		switch {
		case rel == relNone:
			return hidden(act)
		case !r.Uploaded && (rel == relOwner || rel == relAdmin):
			return deny(act, "documents from the provider are read-only: the provider's record is the original; upload a corrected document instead")
		case rel == relOwner && r.UploadedBy == a.UserID:
			return nil
		}
		return deny(act, "only the document's source (the user who uploaded it) may change it")
	case ActionShareDocument:
		switch {
		case rel == relNone:
			return hidden(act)
		case rel == relOwner && (!r.Uploaded || r.UploadedBy == a.UserID):
			return nil
		}
		return deny(act, "only the document's source shares it: the patient's dietician for the provider's documents, the uploader for uploads")
	case ActionListShared:
		switch rel {
		case relOwner, relAdmin, relShared:
			return nil
		case relSelf:
			return deny(act, "shares are the practice's records")
		}
		return hidden(act)
	case ActionListShares:
		return nil // the service lists only shares a gave or received
	case ActionRevokeShare:
		if a.Role == RoleAdmin || r.SharedBy == a.UserID {
			return nil
		}
		if r.SharedWith == a.UserID {
			return deny(act, "only whoever shared the document (or an admin) revokes the share")
		}
		return hidden(act)

	case ActionListAllLogs:
		return only(a, act, "the sync history is kept for the practice's dieticians", RoleAdmin, RoleDietician)
	case ActionReadAudit:
		return only(a, act, "only admins read the audit log", RoleAdmin)

	case ActionListNotifications, ActionReadNotification, ActionReadPreferences, ActionUpdatePreferences:
		// Nobody reads another's notifications, an admin included: they
		// may name patients the admin has no business with.
		if r.UserID == a.UserID {
			return nil
		}
		return hidden(act)
	case ActionListInquiries:
		// The service narrows a dietician's listing to theirs and the
		// unaddressed ones.
		return only(a, act, "inquiries are for the practice's dieticians and admins", RoleAdmin, RoleDietician)
	case ActionReadInquiry, ActionDismissInquiry, ActionConvertInquiry:
		// An inquiry addressed to no one is the practice's shared inbox:
		// any dietician may take it on.
		mine := a.Role == RoleDietician && (r.AddressedTo == 0 || r.AddressedTo == a.UserID)
		switch {
		case !r.Inquiry:
			return hidden(act)
		case mine:
			return nil
		case a.Role == RoleAdmin && act == ActionConvertInquiry:
			return deny(act, "only dieticians create patients: an admin may dismiss the inquiry or leave it to a dietician")
		case a.Role == RoleAdmin:
			return nil
		}
		return hidden(act)
	}
	return deny(act, "unknown action")
}

// relation is how an actor stands to a patient's record.
type relation int

const (
	relNone   relation = iota
	relOwner           // the patient's dietician
	relSelf            // the patient
	relAdmin           // an admin: sees every record
	relShared          // a practitioner the record is shared with
)

func relationOf(a Actor, r Resource) relation {
	switch {
	case r.PatientID == 0:
		return relNone
	case a.Role == RoleAdmin:
		return relAdmin
	case a.Role == RoleDietician && r.OwnerID == a.UserID:
		return relOwner
	case a.Role == RolePatient && r.PatientID == a.PatientID:
		return relSelf
	case a.Role == RolePractitioner && r.SharedWithActor:
		return relShared
	}
	return relNone
}

func only(a Actor, act Action, reason string, roles ...Role) error {
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return deny(act, reason)
}

func deny(act Action, reason string) error { return &DenyError{Action: act, Reason: reason} }

func hidden(act Action) error { return &DenyError{Action: act, Hidden: true} }
