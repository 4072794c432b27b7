package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RequestStatus is where a document request stands.
type RequestStatus string

// The states of a document request. Pending: not yet at the provider;
// requested and in progress: the provider holds it (RefreshRequests asks
// about these); the rest are final.
const (
	RequestPending    RequestStatus = "pending"
	RequestRequested  RequestStatus = "requested"
	RequestInProgress RequestStatus = "in_progress"
	RequestCompleted  RequestStatus = "completed"
	RequestRejected   RequestStatus = "rejected"
	RequestCancelled  RequestStatus = "cancelled"
	RequestFailed     RequestStatus = "failed"
)

// Open reports whether the provider holds the request and may still
// change its state.
func (s RequestStatus) Open() bool { return s == RequestRequested || s == RequestInProgress }

// RequestOutcome is what became of a document request.
type RequestOutcome struct {
	Status RequestStatus
	// Task is the request's ref at the provider; zero before it is made.
	Task Ref
	// Detail is the provider's reason, or why the request failed.
	Detail string
	At     time.Time
}

// StoredRequest is a document request as kept locally (the practice's
// document_requests row), as far as the engine needs it.
type StoredRequest struct {
	// ID is the store's id of the request.
	ID  int64
	Key string
	// PatientID is the local patient; Patient its ref at the provider.
	PatientID int64
	Patient   Ref
	What      string
	Status    RequestStatus
	Task      Ref
	Detail    string
}

// RequestTracker is a Source that reports what became of the document
// requests it took (DocumentRequester): RequestStatus returns a request's
// state and the provider's reason, if any. ErrNotFound means the provider
// no longer has the request.
type RequestTracker interface {
	RequestStatus(ctx context.Context, task Ref) (RequestStatus, string, error)
}

// RequestOp sends a document request to the Source of its patient. It
// carries no free text: the description is read from the stored request
// when the op runs.
type RequestOp struct {
	Patient Ref            `json:"patient"`
	Key     string         `json:"key"`
	Types   []DocumentType `json:"types,omitempty"`
	From    time.Time      `json:"from,omitzero"`
	To      time.Time      `json:"to,omitzero"`
}

// Kind implements Op.
func (RequestOp) Kind() string { return "request" }

// UniqueKey implements Op: one per request key.
func (o RequestOp) UniqueKey() string { return key("request", o.Key) }

// RequestDocuments asks the patient's Source for documents, in the
// caller's transaction, which must have stored the request under r.Key
// (the document_requests row, status pending): a RequestOp is enqueued,
// unique by r.Key, whose worker calls the Source's DocumentRequester with
// r's patient, key, types and dates and the description stored with the
// request (r.What is not kept in the job queue), and records the outcome
// (Tx.SaveRequestOutcome): requested, with the provider's task. Errors are
// retried with the engine's backoff; the last failure, or a permanent
// one, makes the request failed. A Source that is no DocumentRequester
// makes it failed at once. RefreshRequests follows a request from there.
func (e *Engine) RequestDocuments(ctx context.Context, tx Tx, r DocumentRequest) error {
	if r.Key == "" {
		return fmt.Errorf("%w: document request has no key", ErrInvalid)
	}
	if err := r.Patient.Validate(); err != nil {
		return fmt.Errorf("document request %s: %w", r.Key, err)
	}
	src, ok := e.cfg.Sources[r.Patient.System]
	if !ok {
		return fmt.Errorf("%w: document request %s names unknown source %q", ErrInvalid, r.Key, r.Patient.System)
	}
	if _, ok := src.(DocumentRequester); !ok {
		return e.saveRequestOutcome(ctx, tx, r.Key, RequestOutcome{Status: RequestFailed, Detail: notRequester(r.Patient.System), At: e.cfg.Now()})
	}
	_, err := tx.Enqueue(ctx, RequestOp{Patient: r.Patient, Key: r.Key, Types: r.Types, From: r.From, To: r.To})
	return err
}

func notRequester(source string) string {
	return fmt.Sprintf("%s does not accept document requests", source)
}

// request runs a RequestOp: it sends the request unless it was sent or
// settled meanwhile.
func (e *Engine) request(ctx context.Context, job Job, op RequestOp) error {
	var r StoredRequest
	err := e.cfg.Store.Update(ctx, func(tx Tx) (err error) {
		r, err = tx.Request(ctx, op.Key)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: request %s: %w", ErrPermanent, op.Key, err)
	}
	if err != nil {
		return fmt.Errorf("request %s: %w", op.Key, err)
	}
	if r.Status != RequestPending {
		return job.Complete(ctx, []Op{op}, func(Tx) error { return nil })
	}
	src, err := e.source(r.Patient.System)
	if err != nil {
		return err
	}
	dr, ok := src.(DocumentRequester)
	if !ok {
		return job.Complete(ctx, []Op{op}, func(tx Tx) error {
			return e.settleRequest(ctx, tx, r, RequestOutcome{Status: RequestFailed, Detail: notRequester(r.Patient.System)})
		})
	}
	req := DocumentRequest{Patient: r.Patient, Key: r.Key, What: r.What, Types: op.Types, From: op.From, To: op.To}
	var task Ref
	err = e.call(ctx, func(ctx context.Context) (err error) {
		task, err = dr.RequestDocuments(ctx, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("request %s: %w", op.Key, err)
	}
	if task.System == "" {
		task.System = r.Patient.System
	}
	cctx, cancel := commitContext(ctx)
	defer cancel()
	return job.Complete(cctx, []Op{op}, func(tx Tx) error {
		return e.settleRequest(ctx, tx, r, RequestOutcome{Status: RequestRequested, Task: task})
	})
}

// settleRequest records a request's new state and logs it.
func (e *Engine) settleRequest(ctx context.Context, tx Tx, r StoredRequest, o RequestOutcome) error {
	o.At = e.cfg.Now()
	if err := e.saveRequestOutcome(ctx, tx, r.Key, o); err != nil {
		return err
	}
	entry := LogEntry{PatientID: r.PatientID, Action: ActionRequest, Status: StatusSuccess, Timestamp: o.At}
	task := o.Task
	if task.IsZero() {
		task = r.Task
	}
	switch {
	case o.Status == RequestFailed || o.Status == RequestRejected:
		entry.Status = StatusError
		entry.Details = fmt.Sprintf("document request %s: %s", o.Status, o.Detail)
	case task.IsZero():
		entry.Details = fmt.Sprintf("document request %s", o.Status)
	default:
		entry.Details = fmt.Sprintf("document request %s at %s", o.Status, task)
	}
	return tx.AppendLog(ctx, entry)
}

// requestFailed records a request that failed for good, in the
// transaction that logs the failure.
func (e *Engine) requestFailed(ctx context.Context, tx Tx, op RequestOp, cause error) error {
	r, err := tx.Request(ctx, op.Key)
	if errors.Is(err, ErrNotFound) || (err == nil && r.Status != RequestPending) {
		return nil
	}
	if err != nil {
		return err
	}
	return e.saveRequestOutcome(ctx, tx, op.Key, RequestOutcome{Status: RequestFailed, At: e.cfg.Now(),
		Detail: fmt.Sprintf("asking %s for documents failed: %v", op.Patient.System, cause)})
}

// refreshPage is how many open requests RefreshRequests reads at once.
const refreshPage = 100

// RefreshRequests asks the Sources about every open document request
// (requested or in progress) and records each change of state. A request
// that became completed enqueues, in the same transaction, a reconcile of
// its patient (ActionAutomaticUpdate), which brings the documents the
// provider added. Sources that are no RequestTracker are not asked.
//
// It stops at the first error a retry may cure (the provider is likely
// down; the next run asks again) and returns it; a permanent error skips
// its request only, and a request the provider no longer has becomes
// failed. It suits a periodic task:
//
//	store.Periodic{Name: "refresh-requests", Every: time.Minute, Run: (*connector.Engine).RefreshRequests}
func (e *Engine) RefreshRequests(ctx context.Context) error {
	var after int64
	for {
		var page []StoredRequest
		err := e.cfg.Store.Update(ctx, func(tx Tx) (err error) {
			page, err = tx.OpenRequests(ctx, after, refreshPage)
			return err
		})
		if err != nil {
			return fmt.Errorf("refresh requests: %w", err)
		}
		for _, r := range page {
			after = r.ID
			err := e.refreshRequest(ctx, r)
			switch {
			case err == nil:
			case IsPermanent(err):
				// This request only: the others are asked about, and
				// the next run asks about this one again.
				e.log.WarnContext(ctx, "request status refused", "request_id", r.ID, "task", r.Task.String(), "err", err)
			default:
				return fmt.Errorf("refresh requests: %w", err)
			}
		}
		if len(page) < refreshPage {
			return nil
		}
	}
}

// refreshRequest asks r's Source about it and records a change.
func (e *Engine) refreshRequest(ctx context.Context, r StoredRequest) error {
	tracker, ok := e.cfg.Sources[r.Patient.System].(RequestTracker)
	if !ok || r.Task.IsZero() {
		return nil
	}
	var (
		status RequestStatus
		detail string
	)
	err := e.call(ctx, func(ctx context.Context) (err error) {
		status, detail, err = tracker.RequestStatus(ctx, r.Task)
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		status, detail = RequestFailed, fmt.Sprintf("%s no longer has the request", r.Patient.System)
	case err != nil:
		return fmt.Errorf("status of request %s: %w", r.Task, err)
	}
	if status == r.Status && detail == r.Detail {
		return nil
	}
	return e.cfg.Store.Update(ctx, func(tx Tx) error {
		cur, err := tx.Request(ctx, r.Key)
		if err != nil {
			return err
		}
		if cur.Status != r.Status || cur.Detail != r.Detail {
			return nil // another refresh recorded it first
		}
		if err := e.settleRequest(ctx, tx, r, RequestOutcome{Status: status, Task: r.Task, Detail: detail}); err != nil {
			return err
		}
		if status != RequestCompleted {
			return nil
		}
		_, err = tx.Enqueue(ctx, ReconcileOp{Source: r.Patient.System, Patient: r.Patient.ID, Action: ActionAutomaticUpdate,
			Run: "request:" + r.Key})
		return err
	})
}

// ParseRef parses a ref rendered by Ref.String (system/type/id). The id
// may hold slashes; the system and type may not.
func ParseRef(s string) (Ref, error) {
	system, rest, ok1 := strings.Cut(s, "/")
	typ, id, ok2 := strings.Cut(rest, "/")
	r := Ref{System: system, Type: typ, ID: id}
	if !ok1 || !ok2 {
		return Ref{}, fmt.Errorf("%w: ref %q is not system/type/id", ErrInvalid, s)
	}
	if err := r.Validate(); err != nil {
		return Ref{}, err
	}
	return r, nil
}
