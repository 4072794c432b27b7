package bench_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/bench"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/labs"
	"github.com/healthcare-records/healthcare-records/practice"
	"github.com/healthcare-records/healthcare-records/store/sqlite"
	"github.com/healthcare-records/healthcare-records/store/storetest"
	"github.com/healthcare-records/healthcare-records/store/storeurl"
)

// seriesLimit is the page an observations call asks for: one analyte's
// ten years of monthly values fit in one.
const seriesLimit = 500

// seriesYears sizes the observations benchmark's patients: monthly
// values of every analyte for ten years.
const seriesYears = 10

// BenchmarkObservations measures GET /patients/{id}/observations?analyte=
// for a patient with ten years of monthly values of each of the 15
// analytes (1,800 observations, 120 a series), beside three other
// patients with as many, against the bare store query in the same run and
// that query behind a plain handler (the ceiling), with BenchmarkAPI's
// harness: the clients ask for the analytes in turn. It prints requests/s,
// p50 and p99 each way and their ratios, on SQLite and PostgreSQL.
//
//	go test -run '^$' -bench Observations -benchtime 1x -timeout 30m ./bench/
func BenchmarkObservations(b *testing.B) {
	size := apiSize{
		Seed:    storetest.PracticeSeed{Patients: 4, Documents: 10, TextBytes: 1 << 10},
		Owners:  2,
		Clients: 32, Requests: *apiRequests, Rounds: 4, Warmup: 200,
	}
	run := func(b *testing.B, db benchBackend) {
		for b.Loop() {
			st, err := db.open()
			require.NoError(b, err)
			w := newAPIWorld(b, st, size)
			begin := time.Now()
			require.NoError(b, seedSeries(context.Background(), st, w.seeded.Patients))
			seeded := time.Since(begin)
			require.NoError(b, db.settle(context.Background()))
			phases := w.seriesPhases()
			require.NoError(b, w.verifyPhases(context.Background(), phases))
			rep, err := w.runPhases(context.Background(), db.name, phases)
			require.NoError(b, err)
			fmt.Printf("observations series, %s: one patient's %d years of monthly values of %d analytes (%d values, seeded in %s)\n",
				db.name, seriesYears, len(labs.Analytes), seriesYears*12*len(labs.Analytes), seeded.Round(time.Millisecond))
			for _, p := range rep.Phases {
				fmt.Printf("  %-8s direct %s\n  %-8s API    %s\n  %-8s plain  %s\n  %-8s API/direct %.2f; p50 ×%.2f, p99 ×%.2f; ceiling %.2f\n",
					p.Name, p.Direct, "", p.API, "", p.Plain, "", p.Ratio(),
					p.API.P50.Seconds()/p.Direct.P50.Seconds(), p.API.P99.Seconds()/p.Direct.P99.Seconds(), p.Ceiling())
				b.ReportMetric(p.Ratio(), p.Name+"-x")
				b.ReportMetric(float64(p.API.P99.Microseconds())/1000, p.Name+"-p99-ms")
				b.ReportMetric(p.API.P99.Seconds()/p.Direct.P99.Seconds(), p.Name+"-p99-x")
			}
		}
	}
	onBackends(b, run)
}

// seriesPhases is the one phase of the observations benchmark: the first
// patient's series, the analytes in turn.
func (w *apiWorld) seriesPhases() []apiPhase {
	patient, token := w.seeded.Patients[0], w.tokens[0]
	return []apiPhase{{"series", func(i int) apiCall {
		return apiCall{patient: patient, token: token, analyte: labs.Analytes[i%len(labs.Analytes)].ID}
	}}}
}

// seedSeries gives each patient ten years of monthly values of every
// analyte, in the analyte's first code and unit, drifting, a few flagged.
func seedSeries(ctx context.Context, st storeurl.Store, patients []int64) error {
	start := time.Date(2016, 1, 5, 8, 0, 0, 0, time.UTC)
	for _, pid := range patients {
		err := st.Write(ctx, func(tx practice.Tx) error {
			otx, ok := tx.(connector.ObservationTx)
			if !ok {
				return fmt.Errorf("the store keeps no observations")
			}
			p, err := tx.PracticePatient(ctx, pid)
			if err != nil {
				return err
			}
			for ai, an := range labs.Analytes {
				for m := range seriesYears * 12 {
					v := 50 + float64(ai) + 10*math.Sin(float64(m)/7)
					flag := "N"
					if m%17 == 0 {
						flag = "H"
					}
					o := connector.StoredObservation{PatientID: pid, Observation: connector.Observation{
						Ref:      connector.Ref{System: p.Ref.System, Type: connector.ObservationType, ID: fmt.Sprintf("p%d-%s-%d", pid, an.ID, m)},
						Patient:  p.Ref,
						Category: "laboratory", Code: connector.Coding{System: "http://loinc.org", Code: an.Codes[0]},
						Status: connector.ObservationFinal, Effective: start.AddDate(0, m, 0), Value: &v, Unit: an.Unit,
						Interpretation: flag, Version: "1",
					}}
					o.Fingerprint = o.Observation.Fingerprint()
					if _, err := otx.SaveObservation(ctx, o); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed series of patient %d: %w", pid, err)
		}
	}
	return nil
}

// TestObservationsSmall runs BenchmarkObservations' harness on SQLite
// with few requests: the API answers the store's series, every request
// 200.
func TestObservationsSmall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hr.db"), bench.StoreConfig())
	require.NoError(t, err)
	w := newAPIWorld(t, st, apiSize{Seed: storetest.PracticeSeed{Patients: 2, Documents: 4, TextBytes: 256}, Owners: 1,
		Clients: 4, Requests: 30, Rounds: 2, Warmup: 4})
	require.NoError(t, seedSeries(ctx, st, w.seeded.Patients[:1]))
	phases := w.seriesPhases()
	require.NoError(t, w.verifyPhases(ctx, phases))
	c := phases[0].call(0)
	want, err := w.direct(ctx, c)
	require.NoError(t, err)
	assert.Len(t, want.obs, seriesYears*12, "one analyte's ten years")
	rep, err := w.runPhases(ctx, "SQLite", phases)
	require.NoError(t, err)
	require.Len(t, rep.Phases, 1)
	assert.Equal(t, 30, rep.Phases[0].API.Calls)
	assert.True(t, strings.HasPrefix(rep.Phases[0].Name, "series"))
}
