package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/practice"
)

// observationReader is what the observation tests read of a store's
// transaction: the engine's and the practice's views of observations.
type observationReader interface {
	connector.ObservationTx
	Observations(ctx context.Context, q practice.ObservationQuery) ([]connector.StoredObservation, error)
	ObservationHistory(ctx context.Context, id int64) ([]connector.Observation, error)
}

// startObserving starts a harness whose Source gives observations.
func startObserving(t *testing.T, open Opener) *harness {
	t.Helper()
	return startWith(t, open, connectortest.SourceConfig{}, func(c *connector.Config) {
		c.Sources["php"] = c.Sources["php"].(*connectortest.Source).Observing()
	})
}

// read runs fn over the store's observations.
func (h *harness) read(t *testing.T, fn func(observationReader) error) {
	t.Helper()
	update(t, h.store, func(tx connector.Tx) error {
		r, ok := tx.(observationReader)
		require.True(t, ok, "the store's transaction reads observations")
		return fn(r)
	})
}

// observationChanges changes observations, which the store keeps and
// the sink never receives.
type observationChanges struct{}

var seriesStart = time.Date(2016, 1, 15, 8, 0, 0, 0, time.UTC)

func (observationChanges) fill(t *testing.T, h *harness, patients, each int) {
	_, err := h.src.Fill(patients, 0)
	require.NoError(t, err)
	_, err = h.src.FillObservations(seriesStart, each, "mg/dL", "2345-7")
	require.NoError(t, err)
}

func (observationChanges) current(h *harness) []connector.Item {
	var out []connector.Item
	for _, o := range h.src.Observations() {
		out = append(out, connector.Item{Ref: o.Ref, Version: o.Version})
	}
	return out
}

func (observationChanges) amend(t *testing.T, h *harness, id string) connector.Item {
	o := observationAt(t, h, id)
	v := *o.Value + 0.5
	o.Value, o.Status = &v, connector.ObservationAmended
	u, err := h.src.PutObservation(o)
	require.NoError(t, err)
	return connector.Item{Ref: u.Ref, Version: u.Version}
}

func observationAt(t *testing.T, h *harness, id string) connector.Observation {
	t.Helper()
	for _, o := range h.src.Observations() {
		if o.Ref.ID == id {
			return o
		}
	}
	t.Fatalf("no observation %s at the source", id)
	return connector.Observation{}
}

// local returns the store's copy of each observation of the Source.
func (h *harness) localObservations(t *testing.T) map[connector.Ref]connector.StoredObservation {
	out := map[connector.Ref]connector.StoredObservation{}
	h.read(t, func(r observationReader) error {
		for _, o := range h.src.Observations() {
			got, err := r.Observation(context.Background(), o.Ref)
			if errors.Is(err, connector.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out[o.Ref] = got
		}
		return nil
	})
	return out
}

func (observationChanges) synced(h *harness) bool {
	ok := true
	err := h.store.Update(context.Background(), func(tx connector.Tx) error {
		r, is := tx.(observationReader)
		if !is {
			return errors.New("the store's transaction does not read observations")
		}
		for _, o := range h.src.Observations() {
			got, err := r.Observation(context.Background(), o.Ref)
			switch {
			case errors.Is(err, connector.ErrNotFound):
				ok = ok && o.Deleted
			case err != nil:
				return err
			default:
				ok = ok && got.Version == o.Version && got.Deleted == o.Deleted
			}
		}
		return nil
	})
	return err == nil && ok
}

func (observationChanges) assertSynced(t *testing.T, h *harness) {
	t.Helper()
	local := h.localObservations(t)
	for _, o := range h.src.Observations() {
		got, ok := local[o.Ref]
		if o.Deleted {
			assert.True(t, !ok || got.Deleted, "%s deleted at the source is still live", o.Ref)
			continue
		}
		if assert.True(t, ok, "%s missing from the store", o.Ref) {
			assert.Equal(t, o.Version, got.Version, "%s version", o.Ref)
			assert.Equal(t, *o.Value, *got.Value, "%s value", o.Ref)
			assert.Equal(t, o.Status, got.Status, "%s status", o.Ref)
		}
	}
}

func (observationChanges) delivered() bool { return false }

// testObservationsExactlyOnce is ExactlyOnce for observations: the same
// faults, duplicates and reordering, on 400 observations (40 patients):
// observations are pulled, not delivered, so the faults that matter are
// the source's, about 250 of them at that size.
func testObservationsExactlyOnce(t *testing.T, open Opener) {
	exactlyOnce(t, startObserving(t, open), observationChanges{}, 40)
}

// testObservations syncs observations through reconciles: listed
// incrementally and paged, kept once per version, an amended value
// replacing the old one in the series with the old one kept in the
// history, an entered-in-error one leaving the series, a deleted one
// deleted.
func testObservations(t *testing.T, open Opener) {
	ctx := context.Background()
	h := startObserving(t, open)
	patients, err := h.src.Fill(2, 1)
	require.NoError(t, err)
	added, err := h.src.FillObservations(seriesStart, 12, "mg/dL", "2345-7", "2093-3")
	require.NoError(t, err)
	require.Len(t, added, 48)
	report := h.src.DocumentRef(h.src.Documents()[0].Ref.ID)
	first := added[0]
	first.Report = report
	first, err = h.src.PutObservation(first)
	require.NoError(t, err)
	h.enroll(t, h.src.Patients())
	WaitIdle(t, h.store, 30*time.Second, func() bool { return observationChanges{}.synced(h) && h.synced() })
	observationChanges{}.assertSynced(t, h)
	assert.Len(t, h.sink.Documents(), 2, "observations are not delivered to the sink")

	patientID := func(ref connector.Ref) int64 {
		var id int64
		update(t, h.store, func(tx connector.Tx) error {
			p, err := tx.Patient(ctx, ref)
			id = p.ID
			return err
		})
		return id
	}
	p0 := patientID(patients[0].Ref)
	series := func(codes ...string) []connector.StoredObservation {
		var out []connector.StoredObservation
		h.read(t, func(r observationReader) (err error) {
			out, err = r.Observations(ctx, practice.ObservationQuery{PatientID: p0, Codes: codes})
			return err
		})
		return out
	}
	glucose := series("2345-7")
	require.Len(t, glucose, 12, "a year of monthly values")
	for i := 1; i < len(glucose); i++ {
		assert.True(t, glucose[i-1].Effective.Before(glucose[i].Effective), "oldest first")
	}
	assert.Equal(t, report, glucose[0].Report, "the report it belongs to")
	assert.Len(t, series("2345-7", "2093-3"), 24)
	assert.Empty(t, series([]string{}...), "an empty code list keeps none")
	assert.Len(t, series(nil...), 24, "no code list keeps every code")

	listed := h.src.Calls().ListObservations
	fetched := h.src.Calls().FetchObservation
	// A re-sync of unchanged observations fetches nothing and keeps no new
	// revision.
	for _, p := range patients {
		_, err := h.engine.Sync(ctx, "php", p.Ref.ID, connector.ActionManualSync, false)
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, nil)
	assert.Greater(t, h.src.Calls().ListObservations, listed, "the reconcile listed observations")
	assert.Equal(t, fetched, h.src.Calls().FetchObservation, "nothing changed: nothing fetched")

	// An amended value replaces the old one in the series and keeps it in
	// the history; an entered-in-error one leaves the series; a deleted
	// one is deleted.
	amended := glucose[3].Observation
	old := *amended.Value
	v := old + 40
	amended.Value, amended.Status, amended.Interpretation = &v, connector.ObservationAmended, "H"
	_, err = h.src.PutObservation(amended)
	require.NoError(t, err)
	wrong := glucose[5].Observation
	wrong.Status = connector.ObservationEnteredInError
	_, err = h.src.PutObservation(wrong)
	require.NoError(t, err)
	require.NoError(t, h.src.RemoveObservation(glucose[7].Ref.ID))
	_, err = h.engine.Sync(ctx, "php", patients[0].Ref.ID, connector.ActionManualSync, false)
	require.NoError(t, err)
	WaitIdle(t, h.store, 30*time.Second, func() bool { return observationChanges{}.synced(h) })

	after := series("2345-7")
	require.Len(t, after, 10, "the entered-in-error and the deleted value left the series")
	var got *connector.StoredObservation
	for i, o := range after {
		assert.NotEqual(t, wrong.Ref, o.Ref)
		assert.NotEqual(t, glucose[7].Ref, o.Ref)
		if o.Ref == amended.Ref {
			got = &after[i]
		}
	}
	require.NotNil(t, got, "the amended value is in the series")
	assert.Equal(t, v, *got.Value)
	assert.Equal(t, connector.ObservationAmended, got.Status)
	assert.Equal(t, "H", got.Interpretation)
	h.read(t, func(r observationReader) error {
		hist, err := r.ObservationHistory(ctx, got.ID)
		require.NoError(t, err)
		require.Len(t, hist, 1, "the value it replaced")
		assert.Equal(t, old, *hist[0].Value)
		assert.Equal(t, connector.ObservationFinal, hist[0].Status)
		assert.Equal(t, glucose[3].Version, hist[0].Version)
		return nil
	})
	// Only the latest of each code, for a summary.
	h.read(t, func(r observationReader) error {
		latest, err := r.Observations(ctx, practice.ObservationQuery{PatientID: p0, Codes: []string{"2345-7", "2093-3"}, Latest: 2})
		require.NoError(t, err)
		require.Len(t, latest, 4)
		for _, o := range latest {
			assert.False(t, o.Effective.Before(seriesStart.AddDate(0, 10, 0)), "%s %s is one of the latest two", o.Code.Code, o.Effective)
		}
		return nil
	})

	// A webhook's change of an observation pulls it, once per version.
	again := after[0].Observation
	w := *again.Value + 1
	again.Value = &w
	again, err = h.src.PutObservation(again)
	require.NoError(t, err)
	for _, id := range []string{"w1", "w1", "w2"} {
		_, err := h.engine.Ingest(ctx, connector.Event{ID: id, Source: "php", Action: connector.ActionWebhook,
			Changes: []connector.Change{{Kind: connector.ChangeUpsert, Ref: again.Ref, Version: again.Version}}})
		require.NoError(t, err)
	}
	WaitIdle(t, h.store, 30*time.Second, func() bool { return observationChanges{}.synced(h) })
	h.read(t, func(r observationReader) error {
		hist, err := r.ObservationHistory(ctx, after[0].ID)
		require.NoError(t, err)
		assert.Len(t, hist, 1, "one new version, one revision replaced, whatever the duplicates")
		return nil
	})
}
