package carepatron

import (
	"context"
	"fmt"
	"net/http"
)

// ContactQuery narrows SearchContacts. Empty fields do not narrow.
type ContactQuery struct {
	Email             string
	ExternalReference string
	// Cursor is the NextCursor of the previous page.
	Cursor string
	// Limit is the page size, 1 to 100; 0 takes the server's default.
	Limit int
}

// SearchContacts returns one page of the contacts matching q.
// Modeled route: not yet published by Carepatron.
func (c *Client) SearchContacts(ctx context.Context, q ContactQuery) (*ContactPage, error) {
	resp, err := c.api.SearchContacts(ctx, &SearchContactsParams{
		Email: opt(q.Email), ExternalReference: opt(q.ExternalReference), Cursor: opt(q.Cursor), Limit: opt(q.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("carepatron searchContacts: %w", err)
	}
	return decode[ContactPage]("searchContacts", resp, http.StatusOK)
}

// CreateContact creates a contact. The idempotency key makes the call safe
// to repeat: the same key with the same input answers the contact created
// first. A contact holding in.ExternalReference already is an *Error with
// status 409 and code "duplicate_external_reference" naming it in
// Problem.ExistingId. Modeled route: not yet published by Carepatron.
func (c *Client) CreateContact(ctx context.Context, idempotencyKey string, in ContactInput) (*Contact, error) {
	if idempotencyKey == "" {
		return nil, fmt.Errorf("carepatron createContact: no idempotency key")
	}
	resp, err := c.api.CreateContact(ctx, &CreateContactParams{IdempotencyKey: idempotencyKey}, in)
	if err != nil {
		return nil, fmt.Errorf("carepatron createContact: %w", err)
	}
	return decode[Contact]("createContact", resp, http.StatusCreated)
}

// Contact returns the contact with id.
// Modeled route: not yet published by Carepatron.
func (c *Client) Contact(ctx context.Context, id string) (*Contact, error) {
	resp, err := c.api.GetContact(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("carepatron getContact: %w", err)
	}
	return decode[Contact]("getContact", resp, http.StatusOK)
}

// UpdateContact replaces every field of the contact with in. A non-empty
// idempotency key makes a repeat answer the first update without writing
// again. Modeled route: not yet published by Carepatron.
func (c *Client) UpdateContact(ctx context.Context, id, idempotencyKey string, in ContactInput) (*Contact, error) {
	resp, err := c.api.UpdateContact(ctx, id, &UpdateContactParams{IdempotencyKey: opt(idempotencyKey)}, in)
	if err != nil {
		return nil, fmt.Errorf("carepatron updateContact: %w", err)
	}
	return decode[Contact]("updateContact", resp, http.StatusOK)
}

// Ping checks that the API answers. It needs no valid key.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.api.Ping(ctx)
	if err != nil {
		return fmt.Errorf("carepatron ping: %w", err)
	}
	if err := check("ping", resp, http.StatusOK); err != nil {
		return err
	}
	return resp.Body.Close()
}

// SecurePing checks that the API key is valid for the provider (workspace).
func (c *Client) SecurePing(ctx context.Context, providerID string) error {
	resp, err := c.api.SecurePing(ctx, providerID)
	if err != nil {
		return fmt.Errorf("carepatron securePing: %w", err)
	}
	if err := check("securePing", resp, http.StatusOK); err != nil {
		return err
	}
	return resp.Body.Close()
}

// StartContactsExport starts a job exporting the provider's contacts. An
// empty idempotency key sends none; the start is then not retried.
func (c *Client) StartContactsExport(ctx context.Context, providerID, idempotencyKey string) (*ExportJob, error) {
	resp, err := c.api.StartContactsExport(ctx, providerID, &StartContactsExportParams{IdempotencyKey: opt(idempotencyKey)})
	if err != nil {
		return nil, fmt.Errorf("carepatron startContactsExport: %w", err)
	}
	return decode[ExportJob]("startContactsExport", resp, http.StatusAccepted)
}

// ContactsExport returns the state of a contacts-export job.
func (c *Client) ContactsExport(ctx context.Context, providerID, jobID string) (*ExportJob, error) {
	resp, err := c.api.GetContactsExport(ctx, providerID, jobID)
	if err != nil {
		return nil, fmt.Errorf("carepatron getContactsExport: %w", err)
	}
	return decode[ExportJob]("getContactsExport", resp, http.StatusOK)
}

// opt returns a pointer to v, or nil for the zero value: the generated
// client leaves a nil parameter out.
func opt[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
