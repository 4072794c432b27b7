package practice

import (
	"context"
	"fmt"
)

// CheckNewPatient answers what CreatePatient would answer of in before
// anything is created or matched at the provider: ErrForbidden (or a
// *DenyError) for an actor who may not create patients, a *FieldError for
// a refused field, a *DuplicateError naming the patient on record with
// in's email or identifier, nil otherwise. A form asks it after the name
// and email, so that the duplicate is shown before the rest is typed.
// Nothing is audited: nothing is read but whether a duplicate exists,
// which CreatePatient tells the same actor.
func (s *Service) CheckNewPatient(ctx context.Context, a Actor, in NewPatient) error {
	if err := s.check(ctx, a, ActionCreatePatient, Resource{}, 0); err != nil {
		return err
	}
	if err := checkNewPatient(in); err != nil {
		return err
	}
	if err := s.checkDuplicates(ctx, in); err != nil {
		return fmt.Errorf("check new patient: %w", err)
	}
	return nil
}
