package api

import (
	"context"

	"github.com/healthcare-records/healthcare-records/practice"
)

func (s *server) ListUsers(ctx context.Context, req ListUsersRequestObject) (ListUsersResponseObject, error) {
	p := req.Params
	l, err := s.svc.Users(ctx, actorOf(ctx), practice.UserList{Role: practice.Role(p.Role), Text: p.Q, Cursor: p.Cursor, Limit: p.Limit})
	if err != nil {
		return nil, err
	}
	return ListUsers200JSONResponse{Items: mapItems(l.Items, userOut), NextCursor: l.Next}, nil
}

func (s *server) CreateUser(ctx context.Context, req CreateUserRequestObject) (CreateUserResponseObject, error) {
	b := req.Body
	u, err := s.svc.CreateUser(ctx, actorOf(ctx), practice.NewUser{
		Email:        b.Email,
		Name:         b.Name,
		Role:         practice.Role(b.Role),
		Password:     b.Password,
		PatientID:    b.PatientId,
		CarepatronID: b.CarepatronId,
	})
	if err != nil {
		return nil, err
	}
	return CreateUser201JSONResponse{Body: userOut(u), Headers: CreateUser201ResponseHeaders{Location: s.url("users", u.ID)}}, nil
}

func (s *server) GetMe(ctx context.Context, _ GetMeRequestObject) (GetMeResponseObject, error) {
	a := actorOf(ctx)
	u, err := s.svc.User(ctx, a, a.UserID)
	if err != nil {
		return nil, err
	}
	return GetMe200JSONResponse(userOut(u)), nil
}

func (s *server) GetUser(ctx context.Context, req GetUserRequestObject) (GetUserResponseObject, error) {
	u, err := s.svc.User(ctx, actorOf(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetUser200JSONResponse(userOut(u)), nil
}

func (s *server) UpdateUser(ctx context.Context, req UpdateUserRequestObject) (UpdateUserResponseObject, error) {
	b := req.Body
	up := practice.UserUpdate{
		Email:        b.Email,
		Name:         b.Name,
		Password:     b.Password,
		CarepatronID: b.CarepatronId,
		Disabled:     b.Disabled,
	}
	if b.Role != nil {
		r := practice.Role(*b.Role)
		up.Role = &r
	}
	u, err := s.svc.UpdateUser(ctx, actorOf(ctx), req.Id, up)
	if err != nil {
		return nil, err
	}
	return UpdateUser200JSONResponse(userOut(u)), nil
}

func (s *server) DeleteUser(ctx context.Context, req DeleteUserRequestObject) (DeleteUserResponseObject, error) {
	if err := s.svc.DeleteUser(ctx, actorOf(ctx), req.Id); err != nil {
		return nil, err
	}
	return DeleteUser204Response{}, nil
}
