package connector_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

func TestCompareRevisions(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Millisecond)
	rev := func(v string, at time.Time) connector.Revision { return connector.Revision{Version: v, UpdatedAt: at} }
	for _, tc := range []struct {
		name       string
		a, b       connector.Revision
		sequential bool
		want       connector.Order
	}{
		{"same id", rev("1", t0), rev("1", t0), false, connector.Same},
		{"same id, no times", rev("a", time.Time{}), rev("a", time.Time{}), false, connector.Same},
		{"later time wins over any id", rev("a", t1), rev("b", t0), false, connector.Newer},
		{"earlier time", rev("ffff", t0), rev("0000", t1), false, connector.Older},
		{"an id used again after a re-create", rev("1", t1), rev("1", t0), false, connector.Newer},
		{"uuids at one time are unordered", rev("9b1d", t0), rev("1a2c", t0), false, connector.Unordered},
		{"numbers without a sequential source are opaque", rev("10", time.Time{}), rev("9", time.Time{}), false, connector.Unordered},
		{"sequential numbers", rev("10", time.Time{}), rev("9", time.Time{}), true, connector.Newer},
		{"sequential, leading zeros", rev("007", t0), rev("7", t0), true, connector.Same},
		{"sequential, long numbers", rev("2", t0), rev("12345678901234567890", t0), true, connector.Older},
		{"sequential but not numbers", rev("W/2", t0), rev("W/10", t0), true, connector.Unordered},
		{"times still decide for a sequential source", rev("2", t0), rev("3", t1), true, connector.Older},
		{"unknown id", rev("", t0), rev("1", t0), true, connector.Unordered},
		{"nothing known", rev("", time.Time{}), rev("", time.Time{}), false, connector.Unordered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, connector.CompareRevisions(tc.a, tc.b, tc.sequential))
			// The order is antisymmetric.
			back := connector.CompareRevisions(tc.b, tc.a, tc.sequential)
			switch tc.want {
			case connector.Newer:
				assert.Equal(t, connector.Older, back)
			case connector.Older:
				assert.Equal(t, connector.Newer, back)
			default:
				assert.Equal(t, tc.want, back)
			}
		})
	}
}

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("put: %w", connector.ErrPermanent), "permanent"},
		{fmt.Errorf("bad: %w", connector.ErrInvalid), "permanent"},
		{fmt.Errorf("fetch: %w", connector.ErrNotFound), "not_found"},
		{fmt.Errorf("write: %w", connector.ErrConflict), "conflict"},
		{connector.RetryAfter(time.Second, errors.New("429")), "retry_after"},
		{fmt.Errorf("lease: %w", connector.ErrBusy), "busy"},
		{fmt.Errorf("call: %w", context.DeadlineExceeded), "timeout"},
		{errors.New("connection refused"), "transient"},
	} {
		assert.Equal(t, tc.want, connector.Class(tc.err), "%v", tc.err)
	}
}

func TestChangeValidate(t *testing.T) {
	ref := connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}
	for _, tc := range []struct {
		name string
		c    connector.Change
		err  string
	}{
		{"upsert", connector.Change{Kind: connector.ChangeUpsert, Ref: ref, Version: "2"}, ""},
		{"hint", connector.Change{Kind: connector.ChangeHint, Ref: ref}, ""},
		{"delete", connector.Change{Kind: connector.ChangeDelete, Ref: ref}, ""},
		{"no kind", connector.Change{Ref: ref}, "change has no kind"},
		{"unknown kind", connector.Change{Kind: "merge", Ref: ref}, `unknown kind "merge"`},
		{"empty ref", connector.Change{Kind: connector.ChangeUpsert}, "ref has no system"},
		{"no type", connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", ID: "1"}}, "has no type"},
		{"no id", connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "X"}}, "has no id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.err == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, connector.ErrInvalid)
			assert.ErrorContains(t, err, tc.err)
			assert.True(t, connector.IsPermanent(err), "invalid input is never retried")
		})
	}
}

func TestEventValidate(t *testing.T) {
	ok := connector.Change{Kind: connector.ChangeUpsert, Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}}
	assert.NoError(t, connector.Event{ID: "e", Source: "php", Changes: []connector.Change{ok}}.Validate())
	assert.ErrorContains(t, connector.Event{Source: "php"}.Validate(), "no id")
	assert.ErrorContains(t, connector.Event{ID: "e"}.Validate(), "no source")
	assert.ErrorContains(t, connector.Event{ID: "e", Source: "other", Changes: []connector.Change{ok}}.Validate(), "not the event's source")
}

// TestOps: a versioned change's pull is one per (ref, version), whichever
// event reports it; a hint's is one per event.
func TestOps(t *testing.T) {
	e, err := connector.New(connector.Config{Store: nopStore{}, Sources: map[string]connector.Source{"php": nopSource{}}})
	require.NoError(t, err)
	ref := connector.Ref{System: "php", Type: "DocumentReference", ID: "d1"}
	ops := func(id string, c connector.Change) connector.PullOp {
		got, err := e.Ops(connector.Event{ID: id, Source: "php", Action: connector.ActionWebhook, Changes: []connector.Change{c}})
		require.NoError(t, err)
		require.Len(t, got, 1)
		return got[0].(connector.PullOp)
	}
	upsert := connector.Change{Kind: connector.ChangeUpsert, Ref: ref, Version: "2"}
	a, b := ops("e1", upsert), ops("e2", upsert)
	assert.Equal(t, connector.PullOp{Ref: ref, Version: "2", Action: connector.ActionWebhook}, a)
	assert.Equal(t, a.UniqueKey(), b.UniqueKey())

	hint := connector.Change{Kind: connector.ChangeHint, Ref: ref}
	a, b = ops("e1", hint), ops("e2", hint)
	assert.Equal(t, connector.PullOp{Ref: ref, Event: "e1", Action: connector.ActionWebhook}, a)
	assert.NotEqual(t, a.UniqueKey(), b.UniqueKey())

	_, err = e.Ops(connector.Event{ID: "e3", Source: "php", Changes: []connector.Change{{Ref: ref}}})
	assert.ErrorIs(t, err, connector.ErrInvalid)
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := connector.New(connector.Config{})
	assert.ErrorContains(t, err, "no store")
	_, err = connector.New(connector.Config{Store: nopStore{}})
	assert.ErrorContains(t, err, "no source")
	_, err = connector.New(connector.Config{Store: nopStore{}, Sources: map[string]connector.Source{"php": nil}})
	assert.ErrorContains(t, err, "unnamed or nil")
	_, err = connector.New(connector.Config{Store: nopStore{}, Sources: map[string]connector.Source{"php": nopSource{}},
		CallTimeout: time.Minute, LeaseTTL: time.Second})
	assert.ErrorContains(t, err, "must exceed call timeout")
}

func TestBackoff(t *testing.T) {
	b := connector.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: 0.1}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 150 * time.Millisecond, 3: 225 * time.Millisecond, 20: time.Second} {
		d := b.Delay(attempt, errors.New("boom"))
		assert.InDelta(t, float64(want), float64(d), float64(want)*0.11, "attempt %d: %s", attempt, d)
	}
	d := b.Delay(1, fmt.Errorf("put: %w", connector.RetryAfter(5*time.Second, errors.New("429"))))
	assert.Equal(t, 5*time.Second, d, "the server's delay wins over a shorter backoff")
	d = b.Delay(20, connector.RetryAfter(time.Millisecond, errors.New("429")))
	assert.GreaterOrEqual(t, d, 900*time.Millisecond, "a short server delay does not shorten the backoff")
}

func TestErrorClasses(t *testing.T) {
	ra := fmt.Errorf("fetch: %w", connector.RetryAfter(2*time.Second, errors.New("slow down")))
	d, ok := connector.RetryDelay(ra)
	assert.True(t, ok)
	assert.Equal(t, 2*time.Second, d)
	assert.False(t, connector.IsPermanent(ra))
	assert.True(t, connector.IsPermanent(fmt.Errorf("x: %w", connector.ErrPermanent)))
	_, ok = connector.RetryDelay(errors.New("plain"))
	assert.False(t, ok)
}

func TestHub(t *testing.T) {
	var h connector.Hub
	all, stopAll := h.Subscribe(0)
	one, stopOne := h.Subscribe(7)
	for i := range 100 {
		h.Publish(connector.Progress{Run: "r", PatientID: int64(7 + i%2), Done: i})
	}
	var last connector.Progress
	n := 0
	for len(all) > 0 {
		last = <-all
		n++
	}
	assert.Equal(t, 64, n, "a slow subscriber keeps the newest snapshots")
	assert.Equal(t, 99, last.Done, "and never loses the latest")
	for len(one) > 0 {
		p := <-one
		require.Equal(t, int64(7), p.PatientID, "a patient's subscription sees only that patient")
	}
	stopOne()
	stopOne()
	_, open := <-one
	assert.False(t, open, "ending a subscription closes its channel")
	stopAll()
	h.Publish(connector.Progress{PatientID: 7}) // no subscriber left: must not block
}

func TestProgressFinished(t *testing.T) {
	assert.False(t, connector.Progress{Phase: connector.PhaseListing, Total: 0}.Finished(), "still listing")
	assert.False(t, connector.Progress{Phase: connector.PhaseFetching, Total: 3, Done: 2}.Finished())
	assert.True(t, connector.Progress{Phase: connector.PhaseFetching, Total: 3, Done: 2, Errors: 1}.Finished())
}

func TestFingerprint(t *testing.T) {
	d := connector.Document{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "1"}, Title: "A", Content: []byte("x")}
	d.Seal()
	assert.Equal(t, int64(1), d.Size)
	assert.Equal(t, "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881", d.ContentHash)
	fp := d.Fingerprint()
	d.Version = "9"
	assert.Equal(t, fp, d.Fingerprint(), "the version alone is no change")
	d.Title = "B"
	assert.NotEqual(t, fp, d.Fingerprint(), "a new title is")
}

type nopStore struct{}

func (nopStore) Update(context.Context, func(connector.Tx) error) error { return nil }

type nopSource struct{}

func (nopSource) ListDocuments(context.Context, connector.Ref, string) (connector.Page, error) {
	return connector.Page{}, nil
}
func (nopSource) FetchDocument(context.Context, connector.Ref) (*connector.Document, error) {
	return nil, connector.ErrNotFound
}
func (nopSource) FindPatient(context.Context, connector.PatientQuery) (*connector.Patient, error) {
	return nil, connector.ErrNotFound
}
