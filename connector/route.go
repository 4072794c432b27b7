package connector

import (
	"context"
	"fmt"
	"strings"
)

// router returns the Source's Router when it routes changes of ref's type
// instead of fetching them.
func (e *Engine) router(ref Ref) (Router, bool) {
	r, ok := e.cfg.Sources[ref.System].(Router)
	return r, ok && r.Routed(ref.Type)
}

// route turns the change op names, of a resource that is not a document,
// into pulls of the documents it affects. A change the Source cannot place
// is recorded as ignored: it is no error to retry or dead-letter.
func (e *Engine) route(ctx context.Context, job Job, r Router, op PullOp) error {
	ops, entry, err := e.routes(ctx, r, op)
	if err != nil {
		return err
	}
	return job.Complete(ctx, []Op{op}, func(tx Tx) error {
		if _, err := tx.Enqueue(ctx, ops...); err != nil {
			return err
		}
		return tx.AppendLog(ctx, entry)
	})
}

// routes asks the Source which documents the change op names affects, and
// returns their pulls with the log entry that records the routing.
func (e *Engine) routes(ctx context.Context, r Router, op PullOp) ([]Op, LogEntry, error) {
	var refs []Ref
	err := e.call(ctx, func(ctx context.Context) (err error) {
		refs, err = r.Route(ctx, op.Ref)
		return err
	})
	if err != nil {
		return nil, LogEntry{}, fmt.Errorf("route %s: %w", op.Ref, err)
	}
	ops := make([]Op, 0, len(refs))
	names := make([]string, 0, len(refs))
	for _, ref := range refs {
		ref.System = op.Ref.System
		if ref.Validate() != nil || ref.Type == op.Ref.Type {
			return nil, LogEntry{}, fmt.Errorf("%w: route %s returned %s", ErrPermanent, op.Ref, ref)
		}
		// A hint: the document is read as the Source has it now. The
		// routed change's key keeps hints of different changes apart.
		ops = append(ops, PullOp{Ref: ref, Event: op.UniqueKey(), Action: op.Action})
		names = append(names, ref.Type+"/"+ref.ID)
	}
	entry := LogEntry{Action: op.Action, Timestamp: e.cfg.Now(), Status: StatusSuccess,
		Details: fmt.Sprintf("change of %s/%s routed to %s", op.Ref.Type, op.Ref.ID, strings.Join(names, ", "))}
	if len(ops) == 0 {
		entry.Status = StatusIgnored
		entry.Details = fmt.Sprintf("change of %s/%s names no document of %s", op.Ref.Type, op.Ref.ID, op.Ref.System)
		e.log.InfoContext(ctx, "change names no document; ignored", "ref", op.Ref.String())
	}
	return ops, entry, nil
}
