package api

import (
	"net/url"
	"strconv"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// url returns the URL of a record of the API: s.url("patients", 5) is
// /api/v1/patients/5.
func (s *server) url(kind string, id int64) string {
	return s.cfg.BasePath + "/" + kind + "/" + strconv.FormatInt(id, 10)
}

func (s *server) runURL(run string) string {
	return s.cfg.BasePath + "/syncs/" + url.PathEscape(run)
}

// syncRef names a sync run; nil for none (an unlinked patient's).
func (s *server) syncRef(run string) SyncRef {
	if run == "" {
		return SyncRef{}
	}
	u := s.runURL(run)
	return SyncRef{Id: run, Url: u, EventsUrl: u + "/events"}
}

func userOut(u practice.User) User {
	return User{
		Id:           u.ID,
		Email:        u.Email,
		Name:         u.Name,
		Role:         Role(u.Role),
		CarepatronId: u.CarepatronID,
		PatientId:    u.PatientID,
		Disabled:     u.Disabled(),
		DisabledAt:   u.DisabledAt,
		CreatedAt:    u.CreatedAt,
		UpdatedAt:    u.UpdatedAt,
	}
}

func (s *server) patientOut(p practice.Patient) Patient {
	out := Patient{
		Id:                  p.ID,
		Name:                p.Name,
		Email:               p.Email,
		ContactDetails:      p.ContactDetails,
		MedicalHistory:      p.MedicalHistory,
		DietaryPreferences:  p.DietaryPreferences,
		OwnerId:             p.OwnerID,
		CarepatronPatientId: p.CarepatronPatientID,
		Source:              p.Ref.System,
		Link:                LinkStatus(p.Link),
		Archived:            p.Archived(),
		ArchivedAt:          p.ArchivedAt,
		CreatedAt:           p.CreatedAt,
		UpdatedAt:           p.UpdatedAt,
		EditedAt:            p.EditedAt,
		Url:                 s.url("patients", p.ID),
	}
	for _, id := range p.Identifiers {
		out.Identifiers = append(out.Identifiers, Identifier{System: id.System, Value: id.Value})
	}
	if p.WriteBack.Status != "" {
		out.WriteBack = WriteBack{Status: WriteBackStatus(p.WriteBack.Status), Detail: p.WriteBack.Detail, At: p.WriteBack.At}
	}
	return out
}

func (s *server) documentOut(d practice.Document) Document {
	u := s.url("documents", d.ID)
	return Document{
		Id:          d.ID,
		PatientId:   d.PatientID,
		Type:        DocumentType(d.Type),
		Title:       d.Title,
		Date:        d.Date,
		Author:      d.Author,
		Source:      d.Source,
		ContentType: d.ContentType,
		Size:        d.Size,
		ContentHash: d.ContentHash,
		Version:     d.Version,
		UpdatedAt:   d.UpdatedAt,
		Uploaded:    d.Uploaded(),
		UploadedBy:  d.UploadedBy,
		Url:         u,
		ContentUrl:  u + "/content",
	}
}

func countsOut(c map[connector.DocumentType]int) DocumentCounts {
	return DocumentCounts{
		LabResult:          c[connector.DocumentLabResult],
		ProgressNote:       c[connector.DocumentProgressNote],
		PhysicalAssessment: c[connector.DocumentPhysicalAssessment],
		Other:              c[connector.DocumentOther],
	}
}

func (s *server) shareOut(sh practice.Share) Share {
	return Share{
		Id:         sh.ID,
		DocumentId: sh.DocumentID,
		PatientId:  sh.PatientID,
		SharedBy:   sh.SharedBy,
		SharedWith: sh.SharedWith,
		Note:       sh.Note,
		CreatedAt:  sh.CreatedAt,
		ExpiresAt:  sh.ExpiresAt,
		RevokedAt:  sh.RevokedAt,
		RevokedBy:  sh.RevokedBy,
		Url:        s.url("shares", sh.ID),
	}
}

func logOut(e connector.LogEntry) LogEntry {
	return LogEntry{
		Id:         e.ID,
		PatientId:  e.PatientID,
		DocumentId: e.DocumentID,
		Action:     LogAction(e.Action),
		Status:     LogStatus(e.Status),
		Details:    e.Details,
		Timestamp:  e.Timestamp,
	}
}

func (s *server) runOut(p connector.Progress) SyncRun {
	return SyncRun{
		Id:             p.Run,
		PatientId:      p.PatientID,
		Phase:          SyncPhase(p.Phase),
		Done:           p.Done,
		Total:          p.Total,
		Errors:         p.Errors,
		DeliveryErrors: p.DeliveryErrors,
		Finished:       p.Finished(),
		UpdatedAt:      p.UpdatedAt,
		Url:            s.runURL(p.Run),
	}
}

func requestOut(r practice.DocumentRequest) DocumentRequest {
	out := DocumentRequest{
		Id:          r.ID,
		PatientId:   r.PatientID,
		RequestedBy: r.RequestedBy,
		What:        r.What,
		From:        r.From,
		To:          r.To,
		Reason:      r.Reason,
		Status:      RequestStatus(r.Status),
		Detail:      r.Detail,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
		CompletedAt: r.CompletedAt,
	}
	for _, t := range r.Types {
		out.Types = append(out.Types, DocumentType(t))
	}
	return out
}

func auditOut(e practice.AuditEntry) AuditEntry {
	return AuditEntry{
		Id:         e.ID,
		At:         e.At,
		ActorId:    e.ActorID,
		ActorRole:  Role(e.ActorRole),
		Action:     AuditAction(e.Action),
		Outcome:    AuditOutcome(e.Outcome),
		PatientId:  e.PatientID,
		DocumentId: e.DocumentID,
		Target:     e.Target,
		ClientAddr: e.ClientAddr,
		RequestId:  e.RequestID,
		Detail:     e.Detail,
	}
}

// mapItems converts a page's items.
func mapItems[T, U any](items []T, f func(T) U) []U {
	out := make([]U, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}
