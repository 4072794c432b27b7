package connector

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Op is one unit of work the engine schedules: a job. Ops are persisted by
// the Store in the transaction that decides them, and run at least once;
// every op is safe to run again.
type Op interface {
	// Kind names the op type ("pull", "deliver", ...).
	Kind() string
	// UniqueKey identifies the work: an op whose key is already queued,
	// running or done is not enqueued again.
	UniqueKey() string
}

// PullOp fetches a resource from its Source into the local copy.
type PullOp struct {
	Ref     Ref    `json:"ref"`
	Version string `json:"version,omitempty"`
	// Delete says the Source reported the resource deleted.
	Delete bool `json:"delete,omitempty"`
	// Event is the ingested event id of a hint (no version); it keeps
	// hints of different events apart. Empty when Version is set.
	Event  string `json:"event,omitempty"`
	Action Action `json:"action"`
	// Run ties the pull to a reconcile run's progress; empty otherwise.
	Run string `json:"run,omitempty"`
	// Reconcile, on a patient's pull, reconciles the patient's documents
	// under Run once the patient is kept (Engine.Enroll); not part of the
	// key.
	Reconcile bool `json:"reconcile,omitempty"`
}

// Kind implements Op.
func (PullOp) Kind() string { return "pull" }

// UniqueKey implements Op: one pull per (ref, version), or per (ref, event)
// when the version is unknown. A version id is only compared for
// equality here: a webhook and a listing that name one version share a
// pull.
func (o PullOp) UniqueKey() string {
	what := "v:" + o.Version
	if o.Version == "" {
		what = "e:" + o.Event
	}
	if o.Delete {
		what += ":deleted"
	}
	return key("pull", o.Ref.String(), what)
}

// DeliverOp writes the local copy of a document or patient to one Sink.
type DeliverOp struct {
	Sink    string `json:"sink"`
	Ref     Ref    `json:"ref"`
	Version string `json:"version,omitempty"`
	// Fingerprint is that of the local copy to deliver: one version may
	// be kept again with other content (mapped anew by an adapter).
	Fingerprint string `json:"fingerprint,omitempty"`
	Deleted     bool   `json:"deleted,omitempty"`
	Action      Action `json:"action"`
	// Redelivery, when set, names a redelivery (see Redeliver): the local
	// copy is written even though the mapping says the sink holds it.
	Redelivery string `json:"redelivery,omitempty"`
	// CatchUp, when set, names a reconcile's catch-up of a copy the sink
	// still lacks: a key of its own, since the delivery first enqueued
	// for that copy may have died.
	CatchUp string `json:"catch_up,omitempty"`
	// Run is the sync run whose pull enqueued the delivery, which counts
	// its failure; not part of the key.
	Run string `json:"run,omitempty"`
}

// Kind implements Op.
func (DeliverOp) Kind() string { return "deliver" }

// UniqueKey implements Op: one delivery per (sink, ref, version,
// fingerprint), and one more per redelivery or catch-up.
func (o DeliverOp) UniqueKey() string {
	k := writeKey(o.Sink, o.Ref, o.Version, o.Fingerprint, o.Deleted, o.Redelivery)
	if o.CatchUp != "" {
		k = key(k, "catch-up", o.CatchUp)
	}
	return k
}

// writeKey is IdempotencyKey, made new by a redelivery: a sink that keeps
// its keys must not answer a redelivery with the write it remembers.
func writeKey(sink string, ref Ref, version, fingerprint string, deleted bool, redelivery string) string {
	k := IdempotencyKey(sink, ref, version, fingerprint, deleted)
	if redelivery != "" {
		k = key(k, "redelivery", redelivery)
	}
	return k
}

// ReconcileOp lists a patient's documents from the Source and pulls what
// changed. With Patient unset it fans out to every known patient of Source.
type ReconcileOp struct {
	Source string `json:"source"`
	// Patient is the Source's patient id; empty means every patient.
	Patient string `json:"patient,omitempty"`
	// Full lists from the beginning instead of the saved cursor.
	Full   bool   `json:"full,omitempty"`
	Action Action `json:"action"`
	// Run identifies this reconcile for progress; each request has its own.
	Run string `json:"run"`
	// Coalesce makes the reconcile one of a kind per patient while it is
	// pending: periodic reconciles of a patient whose last one has not run
	// yet are skipped instead of piling up.
	Coalesce bool `json:"coalesce,omitempty"`
	// Sweep makes the reconcile a deletion check: it lists every document
	// of the patient from the beginning, without moving the saved cursor,
	// and pulls each local document the listing no longer names, so the
	// Source confirms its deletion. A webhook for a deletion may be lost,
	// and incremental listings do not name deleted resources.
	Sweep bool `json:"sweep,omitempty"`
}

// Kind implements Op.
func (ReconcileOp) Kind() string { return "reconcile" }

// UniqueKey implements Op: one per run, or one per patient while pending
// for a coalescing reconcile.
func (o ReconcileOp) UniqueKey() string {
	if o.Coalesce {
		what := "pending"
		if o.Sweep {
			what = "sweep pending"
		}
		return key("reconcile", o.Source, o.Patient, what)
	}
	return key("reconcile", o.Source, o.Patient, o.Run)
}

// Transient implements TransientKey.
func (o ReconcileOp) Transient() bool { return o.Coalesce }

// TransientKey is an Op whose unique key holds only while it is pending:
// once the op is done, the same key may be enqueued again. Stores release
// the key when the op completes.
type TransientKey interface {
	Transient() bool
}

func key(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// IdempotencyKey is the key sent to a Sink for writing ref's local copy of
// the given version and fingerprint: the same across retries of one
// delivery, different for another version or other content.
func IdempotencyKey(sink string, ref Ref, version, fingerprint string, deleted bool) string {
	v := "v:" + version
	if fingerprint != "" {
		v += "#" + fingerprint
	}
	if deleted {
		v += ":deleted"
	}
	return key("deliver", sink, ref.String(), v)
}
