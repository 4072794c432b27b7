package practice

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/labs"
)

func obsAt(code string, month int, v float64, unit, flag string) connector.StoredObservation {
	return connector.StoredObservation{ID: int64(month + 1), Observation: connector.Observation{
		Code: connector.Coding{Code: code}, Effective: time.Date(2025, time.Month(month+1), 1, 0, 0, 0, 0, time.UTC),
		Value: &v, Unit: unit, Interpretation: flag, Status: connector.ObservationFinal,
	}}
}

func TestSummarize(t *testing.T) {
	rows := []connector.StoredObservation{
		obsAt("2345-7", 0, 5.0, "mmol/L", "N"), // 90.08 mg/dL
		obsAt("4548-4", 0, 6.1, "%", ""),
		obsAt("2339-0", 1, 99, "mg/dL", "N"), // another glucose code
		obsAt("4548-4", 2, 6.9, "%", "H"),
		obsAt("2345-7", 3, 7.2, "mmol/L", "H"), // 129.7 mg/dL
		obsAt("29463-7", 3, 176.4, "[lb_av]", ""),
		obsAt("9999-9", 3, 1, "mg/dL", ""), // no analyte's
		obsAt("2093-3", 4, 5, "mg/g", ""),  // a unit that does not convert
	}
	got := summarize(rows)
	require.Len(t, got, 4, "glucose, HbA1c, cholesterol and weight, in the table's order")
	assert.Equal(t, []string{"hba1c", "glucose", "cholesterol", "weight"},
		[]string{got[0].Analyte.ID, got[1].Analyte.ID, got[2].Analyte.ID, got[3].Analyte.ID})

	a1c := got[0]
	assert.Equal(t, "H", a1c.Latest.Interpretation, "the provider's flag")
	require.NotNil(t, a1c.Change)
	assert.InDelta(t, 0.8, *a1c.Change, 1e-9)
	assert.Equal(t, labs.Up, a1c.Trend)

	glucose := got[1]
	assert.InDelta(t, 129.7, *glucose.Latest.Display, 0.1)
	assert.Equal(t, "mg/dL", glucose.Latest.DisplayUnit)
	assert.Equal(t, 7.2, *glucose.Latest.Value, "the original value is kept")
	assert.Equal(t, "mmol/L", glucose.Latest.Unit)
	require.NotNil(t, glucose.Previous)
	assert.Equal(t, "2339-0", glucose.Previous.Code.Code, "siblings are one series")
	assert.InDelta(t, 129.7-99, *glucose.Change, 0.1)

	chol := got[2]
	assert.Nil(t, chol.Latest.Display, "mg/g does not convert")
	assert.Nil(t, chol.Change)
	assert.Equal(t, labs.Unknown, chol.Trend)

	weight := got[3]
	assert.InDelta(t, 80.01, *weight.Latest.Display, 0.01)
	assert.Nil(t, weight.Previous)
}

func TestObservationQuery(t *testing.T) {
	day := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		in    ObservationList
		field string
	}{
		{"unknown analyte", ObservationList{Analyte: "sodium"}, "analyte"},
		{"analyte and code", ObservationList{Analyte: "glucose", Code: "2345-7"}, "code"},
		{"not a LOINC code", ObservationList{Code: "glucose"}, "code"},
		{"range backwards", ObservationList{From: day, To: day.AddDate(0, 0, -1)}, "from"},
		{"limit too large", ObservationList{Limit: MaxLimit + 1}, "limit"},
		{"bad cursor", ObservationList{Cursor: "%%"}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := observationQuery(1, tc.in)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	q, err := observationQuery(1, ObservationList{Analyte: "ldl"})
	require.NoError(t, err)
	assert.Equal(t, []string{"13457-7", "18262-6"}, q.Codes)
	q, err = observationQuery(1, ObservationList{})
	require.NoError(t, err)
	assert.Nil(t, q.Codes, "no filter")
}
