package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
)

// Bridge serves an in-memory Source and Sink as JSON calls over HTTP, for
// tests that run the engine in child processes: the parent keeps what the
// sink received across every child it kills. Remote is the child's side.
func Bridge(src *connectortest.Source, sink *connectortest.Sink) http.Handler {
	mux := http.NewServeMux()
	handle := func(name string, fn func(ctx context.Context, body []byte) (any, error)) {
		mux.HandleFunc("POST /"+name, func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			out, err := fn(r.Context(), body)
			var resp bridgeResponse
			if err != nil {
				resp.Error = err.Error()
				switch d, ok := connector.RetryDelay(err); {
				case ok:
					resp.Class, resp.Delay = "retry", d
				case errors.Is(err, connector.ErrNotFound):
					resp.Class = "notfound"
				case connector.IsPermanent(err):
					resp.Class = "permanent"
				case errors.Is(err, connector.ErrConflict):
					resp.Class = "conflict"
				}
			} else {
				resp.Result, _ = json.Marshal(out)
			}
			json.NewEncoder(w).Encode(resp)
		})
	}
	decode := func(b []byte, v any) error {
		if err := json.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%w: %v", connector.ErrPermanent, err)
		}
		return nil
	}
	handle("patients", func(context.Context, []byte) (any, error) {
		var ids []string
		for _, p := range src.Patients() {
			ids = append(ids, p.Ref.ID)
		}
		return ids, nil
	})
	handle("list", func(ctx context.Context, b []byte) (any, error) {
		var in listRequest
		if err := decode(b, &in); err != nil {
			return nil, err
		}
		return src.ListDocuments(ctx, in.Patient, in.Cursor)
	})
	handle("fetch", func(ctx context.Context, b []byte) (any, error) {
		var ref connector.Ref
		if err := decode(b, &ref); err != nil {
			return nil, err
		}
		d, err := src.FetchDocument(ctx, ref)
		if err != nil {
			return nil, err
		}
		return d, holdContent(ctx, d)
	})
	handle("find", func(ctx context.Context, b []byte) (any, error) {
		var q connector.PatientQuery
		if err := decode(b, &q); err != nil {
			return nil, err
		}
		return src.FindPatient(ctx, q)
	})
	handle("upsert", func(ctx context.Context, b []byte) (any, error) {
		var w connector.PatientWrite
		if err := decode(b, &w); err != nil {
			return nil, err
		}
		return sink.UpsertPatient(ctx, w)
	})
	handle("put", func(ctx context.Context, b []byte) (any, error) {
		var w connector.DocumentWrite
		if err := decode(b, &w); err != nil {
			return nil, err
		}
		return sink.PutDocument(ctx, w)
	})
	handle("delete", func(ctx context.Context, b []byte) (any, error) {
		var d connector.DocumentDelete
		if err := decode(b, &d); err != nil {
			return nil, err
		}
		return nil, sink.DeleteDocument(ctx, d)
	})
	return mux
}

type listRequest struct {
	Patient connector.Ref
	Cursor  string
}

type bridgeResponse struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	Class  string          `json:"class,omitempty"`
	Delay  time.Duration   `json:"delay,omitempty"`
}

// Remote is a connector.Source and connector.Sink that call a Bridge at
// URL, keeping the error classes.
type Remote struct{ URL string }

// PatientIDs returns the ids of the bridged Source's patients.
func (r Remote) PatientIDs(ctx context.Context) (ids []string, err error) {
	err = r.call(ctx, "patients", nil, &ids)
	return ids, err
}

func (r Remote) call(ctx context.Context, name string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"/"+name, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var br bridgeResponse
	if err := json.NewDecoder(resp.Body).Decode(&br); err != nil {
		return err
	}
	if br.Error != "" {
		err := errors.New(br.Error)
		switch br.Class {
		case "retry":
			return connector.RetryAfter(br.Delay, err)
		case "notfound":
			return fmt.Errorf("%w: %v", connector.ErrNotFound, err)
		case "permanent":
			return fmt.Errorf("%w: %v", connector.ErrPermanent, err)
		case "conflict":
			return fmt.Errorf("%w: %v", connector.ErrConflict, err)
		}
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(br.Result, out)
}

func (r Remote) ListDocuments(ctx context.Context, p connector.Ref, cursor string) (page connector.Page, err error) {
	err = r.call(ctx, "list", listRequest{Patient: p, Cursor: cursor}, &page)
	return page, err
}

func (r Remote) FetchDocument(ctx context.Context, ref connector.Ref) (d *connector.Document, err error) {
	err = r.call(ctx, "fetch", ref, &d)
	return d, err
}

func (r Remote) FindPatient(ctx context.Context, q connector.PatientQuery) (p *connector.Patient, err error) {
	err = r.call(ctx, "find", q, &p)
	return p, err
}

func (r Remote) UpsertPatient(ctx context.Context, w connector.PatientWrite) (id string, err error) {
	err = r.call(ctx, "upsert", w, &id)
	return id, err
}

func (r Remote) PutDocument(ctx context.Context, w connector.DocumentWrite) (id string, err error) {
	if err := holdContent(ctx, &w.Document); err != nil {
		return "", err
	}
	err = r.call(ctx, "put", w, &id)
	return id, err
}

// holdContent reads a Body into Content: the bridge sends documents as
// JSON, whole.
func holdContent(ctx context.Context, d *connector.Document) error {
	if d == nil || d.Body == nil {
		return nil
	}
	r, err := d.Open(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	if d.Content, err = io.ReadAll(r); err != nil {
		return err
	}
	d.Body = nil
	return nil
}

func (r Remote) DeleteDocument(ctx context.Context, d connector.DocumentDelete) error {
	return r.call(ctx, "delete", d, nil)
}
