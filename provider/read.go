package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Read fetches one resource by type and id. A missing or deleted
// resource is a *StatusError with status 404 or 410.
func (c *Client) Read(ctx context.Context, typ, id string) (Resource, error) {
	if !isResourceTypeName(typ) || id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("fhir read: invalid reference %q/%q", typ, id)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.endpoint(nil, typ, id)})
	if err != nil {
		return nil, err
	}
	r, err := Decode(resp.body)
	if err != nil {
		return nil, fmt.Errorf("fhir read %s: %w", typ, err)
	}
	if got := r.base().ResourceType; got != typ {
		if oo, ok := r.(*OperationOutcome); ok {
			return nil, fmt.Errorf("fhir read %s: %w: %w", typ, ErrUnexpectedType, &OutcomeError{Outcome: oo})
		}
		return nil, fmt.Errorf("fhir read %s: %w: got %s", typ, ErrUnexpectedType, got)
	}
	return r, nil
}

// History returns the first page of typ/id's history (GET
// [base]/typ/id/_history), a history Bundle whose entries are the
// resource's versions, newest first as FHIR orders them. A deletion is an
// entry without a resource whose request method is DELETE.
func (c *Client) History(ctx context.Context, typ, id string) (*Bundle, error) {
	if !isResourceTypeName(typ) || id == "" || strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("fhir history: invalid reference %q/%q", typ, id)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, url: c.endpoint(nil, typ, id, "_history")})
	if err != nil {
		return nil, err
	}
	b, err := DecodeBundle(resp.body, BundleHistory)
	if err != nil {
		return nil, fmt.Errorf("fhir history %s: %w", typ, err)
	}
	return b, nil
}

// ReadPatient reads Patient/id.
func (c *Client) ReadPatient(ctx context.Context, id string) (*Patient, error) {
	return readAs[Patient](ctx, c, "Patient", id)
}

// ReadDocumentReference reads DocumentReference/id.
func (c *Client) ReadDocumentReference(ctx context.Context, id string) (*DocumentReference, error) {
	return readAs[DocumentReference](ctx, c, "DocumentReference", id)
}

// ReadDiagnosticReport reads DiagnosticReport/id.
func (c *Client) ReadDiagnosticReport(ctx context.Context, id string) (*DiagnosticReport, error) {
	return readAs[DiagnosticReport](ctx, c, "DiagnosticReport", id)
}

// ReadTask reads Task/id, to follow a document request.
func (c *Client) ReadTask(ctx context.Context, id string) (*Task, error) {
	return readAs[Task](ctx, c, "Task", id)
}

func readAs[T any, PT interface {
	*T
	Resource
}](ctx context.Context, c *Client, typ, id string) (PT, error) {
	r, err := c.Read(ctx, typ, id)
	if err != nil {
		return nil, err
	}
	return r.(PT), nil
}

// WriteResult is what the server answered to a create or update.
type WriteResult struct {
	ID      string
	Version string
	// Resource is the stored resource when the server returned it.
	Resource Resource
}

// Update replaces typ/id with body (FHIR JSON). A non-empty ifMatch
// version is sent as If-Match: W/"version", so that the update applies
// only to that version: otherwise the server answers 412 (a *StatusError).
func (c *Client) Update(ctx context.Context, typ, id string, body []byte, ifMatch string) (WriteResult, error) {
	h := http.Header{"Prefer": {"return=representation"}}
	if ifMatch != "" {
		h.Set("If-Match", `W/"`+ifMatch+`"`)
	}
	resp, err := c.do(ctx, request{method: http.MethodPut, url: c.endpoint(nil, typ, id), body: body, header: h})
	if err != nil {
		return WriteResult{}, err
	}
	return c.writeResult(resp, typ, id)
}

// Create posts body (FHIR JSON) as a new typ. A non-empty ifNoneExist
// search ("identifier=system|value") makes it a conditional create: the
// server creates nothing when a match exists, so a retried create is
// harmless.
func (c *Client) Create(ctx context.Context, typ string, body []byte, ifNoneExist string) (WriteResult, error) {
	h := http.Header{"Prefer": {"return=representation"}}
	if ifNoneExist != "" {
		h.Set("If-None-Exist", ifNoneExist)
	}
	resp, err := c.do(ctx, request{method: http.MethodPost, url: c.endpoint(nil, typ), body: body, header: h})
	if err != nil {
		return WriteResult{}, err
	}
	return c.writeResult(resp, typ, "")
}

// writeResult reads id and version from the returned resource, else from
// the Location and ETag headers.
func (c *Client) writeResult(resp *response, typ, id string) (WriteResult, error) {
	wr := WriteResult{ID: id}
	if len(strings.TrimSpace(string(resp.body))) > 0 {
		r, err := Decode(resp.body)
		if err != nil {
			return WriteResult{}, fmt.Errorf("fhir write %s: %w", typ, err)
		}
		if b := r.base(); b.ResourceType == typ {
			wr.Resource = r
			if b.ID != "" {
				wr.ID = b.ID
			}
			wr.Version = b.Meta.VersionID
		}
	}
	if loc := resp.header.Get("Location"); loc != "" && (wr.ID == "" || wr.Version == "") {
		// [base]/Type/id/_history/vid
		if u, err := url.Parse(loc); err == nil {
			parts := strings.Split(strings.Trim(u.Path, "/"), "/")
			for i := 0; i+1 < len(parts); i++ {
				if parts[i] == typ && wr.ID == "" {
					wr.ID = parts[i+1]
				}
				if parts[i] == "_history" && wr.Version == "" {
					wr.Version = parts[i+1]
				}
			}
		}
	}
	if wr.Version == "" {
		wr.Version = etagVersion(resp.header.Get("ETag"))
	}
	return wr, nil
}

// etagVersion turns W/"3" into 3.
func etagVersion(etag string) string {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	return strings.Trim(etag, `"`)
}
