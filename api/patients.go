package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListPatients(ctx context.Context, req ListPatientsRequestObject) (ListPatientsResponseObject, error) {
	p := req.Params
	l, err := s.svc.Patients(ctx, actorOf(ctx), practice.PatientList{
		Text:            p.Q,
		Sort:            practice.PatientSort(p.Sort),
		Desc:            p.Order == OrderDesc,
		IncludeArchived: p.IncludeArchived,
		Cursor:          p.Cursor,
		Limit:           p.Limit,
	})
	if err != nil {
		return nil, err
	}
	return ListPatients200JSONResponse{Items: mapItems(l.Items, s.patientOut), NextCursor: l.Next}, nil
}

func (s *server) CreatePatient(ctx context.Context, req CreatePatientRequestObject) (CreatePatientResponseObject, error) {
	b := req.Body
	p, run, err := s.svc.CreatePatient(ctx, actorOf(ctx), practice.NewPatient{
		Name:                b.Name,
		Email:               b.Email,
		ContactDetails:      b.ContactDetails,
		MedicalHistory:      b.MedicalHistory,
		DietaryPreferences:  b.DietaryPreferences,
		Identifiers:         identifiersIn(b.Identifiers),
		ConfirmDistinctFrom: b.ConfirmDistinctFrom,
		Inquiry:             b.InquiryId,
	})
	if err != nil {
		return nil, err
	}
	return CreatePatient201JSONResponse{
		Body:    PatientWithSync{Patient: s.patientOut(p), Sync: s.syncRef(run)},
		Headers: CreatePatient201ResponseHeaders{Location: s.url("patients", p.ID)},
	}, nil
}

func (s *server) GetPatient(ctx context.Context, req GetPatientRequestObject) (GetPatientResponseObject, error) {
	p, err := s.svc.Patient(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetPatient200JSONResponse(s.patientOut(p)), nil
}

func (s *server) UpdatePatient(ctx context.Context, req UpdatePatientRequestObject) (UpdatePatientResponseObject, error) {
	b := req.Body
	p, err := s.svc.UpdatePatient(ctx, actorOf(ctx), req.Id, practice.PatientUpdate{
		Name:               b.Name,
		Email:              b.Email,
		ContactDetails:     b.ContactDetails,
		MedicalHistory:     b.MedicalHistory,
		DietaryPreferences: b.DietaryPreferences,
	})
	if err != nil {
		return nil, err
	}
	return UpdatePatient200JSONResponse(s.patientOut(p)), nil
}

func (s *server) ArchivePatient(ctx context.Context, req ArchivePatientRequestObject) (ArchivePatientResponseObject, error) {
	if err := s.svc.ArchivePatient(ctx, actorOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return ArchivePatient204Response{}, nil
}

func (s *server) LinkPatient(ctx context.Context, req LinkPatientRequestObject) (LinkPatientResponseObject, error) {
	id := req.Body.Identifier
	p, run, err := s.svc.LinkPatient(ctx, actorOf(ctx), req.Id, connector.Identifier{System: id.System, Value: id.Value})
	if err != nil {
		return nil, err
	}
	return LinkPatient200JSONResponse{Patient: s.patientOut(p), Sync: s.syncRef(run)}, nil
}

func (s *server) RetryWriteBack(ctx context.Context, req RetryWriteBackRequestObject) (RetryWriteBackResponseObject, error) {
	p, err := s.svc.RetryWriteBack(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return RetryWriteBack202JSONResponse(s.patientOut(p)), nil
}

func identifiersIn(ids []Identifier) []connector.Identifier {
	return mapItems(ids, func(id Identifier) connector.Identifier {
		return connector.Identifier{System: id.System, Value: id.Value}
	})
}
