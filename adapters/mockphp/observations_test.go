package mockphp_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// TestObservations checks the synthetic observations: laboratory results
// and vital signs searchable by patient and category, paged and
// incremental, in mixed units, some abnormal with their flags, some
// amended or entered in error, the same for one seed.
func TestObservations(t *testing.T) {
	cfg := mockphp.Config{Seed: 11, Patients: 12, DocsPerPatient: 12}
	_, ts := start(t, cfg)
	base := ts.URL + "/fhir/R4/"
	_, ts2 := start(t, cfg)

	units := map[string]map[string]bool{} // code -> units
	flags := map[string]int{}
	statuses := map[string]int{}
	var labs, vitals int
	for _, p := range mustPatients(t, ts.URL) {
		for _, cat := range []string{"laboratory", "vital-signs"} {
			got, total := searchAll(t, base+"Observation?_count=4&patient=Patient/"+p+"&category="+cat)
			require.Len(t, got, total)
			again, _ := searchAll(t, ts2.URL+"/fhir/R4/Observation?_count=4&patient=Patient/"+p+"&category="+cat)
			assert.Equal(t, ids(got), ids(again), "one seed, one set of observations")
			for _, o := range got {
				if cat == "laboratory" {
					labs++
				} else {
					vitals++
				}
				statuses[o["status"].(string)]++
				code := o["code"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)
				if q, ok := o["valueQuantity"].(map[string]any); ok {
					if units[code] == nil {
						units[code] = map[string]bool{}
					}
					units[code][q["code"].(string)] = true
				}
				if in, ok := o["interpretation"].([]any); ok {
					flags[in[0].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)]++
				}
			}
		}
	}
	assert.Positive(t, labs)
	assert.Positive(t, vitals, "weight, height and BMI at visits")
	for _, code := range []string{"29463-7", "8302-2", "39156-5"} {
		assert.NotEmpty(t, units[code], "vital sign %s", code)
	}
	assert.Len(t, units["29463-7"], 2, "weights in kg and lb")
	assert.True(t, units["2345-7"]["mmol/L"] && units["2345-7"]["mg/dL"], "glucose in both units: %v", units["2345-7"])
	assert.Positive(t, flags["N"])
	assert.Positive(t, flags["H"]+flags["L"]+flags["HH"]+flags["LL"], "some abnormal: %v", flags)
	assert.Positive(t, statuses["amended"], "statuses %v", statuses)
	assert.Positive(t, statuses["entered-in-error"], "statuses %v", statuses)

	// Incremental: nothing changed after the epoch.
	p := mustPatients(t, ts.URL)[0]
	later, total := searchAll(t, base+"Observation?patient=Patient/"+p+"&category=laboratory&_lastUpdated="+
		url.QueryEscape("gt"+mockphp.DefaultEpoch.Add(time.Hour).Format(time.RFC3339)))
	assert.Zero(t, total)
	assert.Empty(t, later)
}

func mustPatients(t *testing.T, base string) []string {
	t.Helper()
	got, _ := searchAll(t, base+"/fhir/R4/Patient")
	return ids(got)
}
