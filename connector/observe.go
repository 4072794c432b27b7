package connector

// Observer is told the outcome of every op an attempt of a job ran, for
// metrics: attempts and failures by class, per source and sink. Calls are
// made from the workers, synchronously: an Observer must be fast and safe
// for concurrent use, and must not block.
type Observer interface {
	Observe(Outcome)
}

// Outcome is what one attempt did with one op.
type Outcome struct {
	// Kind is the op's kind: "pull", "deliver", "reconcile", "write_back"
	// or "request".
	Kind string
	// System names the source (pull, reconcile, write_back, request) or
	// sink (deliver).
	System string
	// Class is empty for an op that succeeded, else the failure's class
	// (see Class).
	Class string
	// Final marks a failure that leaves the op dead: its job becomes a
	// dead letter.
	Final bool
}

// systemOf names the source or sink op works with.
func systemOf(op Op) string {
	switch op := op.(type) {
	case PullOp:
		return op.Ref.System
	case DeliverOp:
		return op.Sink
	case ReconcileOp:
		return op.Source
	case WriteBackOp:
		return op.Patient.System
	case RequestOp:
		return op.Patient.System
	}
	return ""
}

// observe tells the Observer the outcome of each op of an attempt.
func (e *Engine) observe(job Job, ops []Op, failed []failure) {
	if e.cfg.Observer == nil {
		return
	}
	// A batch's ops are told apart by their keys: an op may hold a slice
	// (RequestOp.Types), which no map key may.
	classes := make(map[string]string, len(failed))
	// As settle decides: the job dies on its last attempt, or when every
	// failure is permanent.
	allPermanent := len(failed) > 0
	for _, f := range failed {
		c := Class(f.err)
		classes[f.op.UniqueKey()] = c
		allPermanent = allPermanent && c == "permanent"
	}
	dead := job.Final() || allPermanent
	for _, op := range ops {
		class := classes[op.UniqueKey()]
		final := dead && class != "" && class != "busy"
		e.cfg.Observer.Observe(Outcome{Kind: op.Kind(), System: systemOf(op), Class: class, Final: final})
	}
}
