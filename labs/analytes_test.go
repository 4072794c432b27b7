package labs_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/labs"
)

// TestConvert checks each conversion against values computed from the
// published factors docs/labs.md cites.
func TestConvert(t *testing.T) {
	for _, tc := range []struct {
		analyte string
		v       float64
		unit    string
		want    float64
		tol     float64
	}{
		{"glucose", 5.5, "mmol/L", 99.09, 0.01},     // 5.5 × 18.016
		{"glucose", 7.0, "mmol/l", 126.1, 0.1},      // the diagnostic threshold, 126 mg/dL
		{"glucose", 99, "mg/dL", 99, 0},             // already in the display unit
		{"cholesterol", 5.17, "mmol/L", 199.9, 0.1}, // 200 mg/dL
		{"hdl", 1.0, "mmol/L", 38.67, 0.001},
		{"ldl", 1.81, "mmol/L", 70, 0.1},
		{"triglycerides", 1.7, "mmol/L", 150.6, 0.1}, // 150 mg/dL
		{"hba1c", 48, "mmol/mol", 6.54, 0.01},        // 48 mmol/mol ≈ 6.5 %
		{"hba1c", 53, "mmol/mol", 7.0, 0.01},
		{"hba1c", 6.5, "%", 6.5, 0},
		{"creatinine", 88.42, "umol/L", 1.0, 1e-9},
		{"creatinine", 106, "µmol/L", 1.199, 0.001},
		{"vitamin-d", 75, "nmol/L", 30.05, 0.01}, // 30 ng/mL
		{"vitamin-d", 30, "ug/L", 30, 0},
		{"vitamin-b12", 147.56, "pmol/L", 200, 0.01},
		{"albumin", 40, "g/L", 4.0, 1e-9},
		{"ferritin", 50, "ug/L", 50, 0},
		{"weight", 154.324, "[lb_av]", 70, 0.001},
		{"weight", 154.324, "lbs", 70, 0.001},
		{"height", 70, "[in_i]", 177.8, 1e-9},
		{"height", 1.78, "m", 178, 1e-9},
		{"bmi", 24.2, "kg/m2", 24.2, 0},
		{"egfr", 90, "mL/min/{1.73_m2}", 90, 0},
	} {
		t.Run(tc.analyte+" "+tc.unit, func(t *testing.T) {
			a, ok := labs.ByID(tc.analyte)
			require.True(t, ok)
			got, ok := a.Convert(tc.v, tc.unit)
			require.True(t, ok, "%s converts from %s", tc.analyte, tc.unit)
			assert.InDelta(t, tc.want, got, tc.tol)
		})
	}
}

// TestConvertRoundTrip checks each conversion against the inverse
// statement of its published factor: x in the display unit, converted to
// the other unit by the source's formula, comes back as x.
func TestConvertRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		analyte, unit string
		toOther       func(display float64) float64
	}{
		{"glucose", "mmol/L", func(x float64) float64 { return x * 0.0555 }},
		{"cholesterol", "mmol/L", func(x float64) float64 { return x * 0.02586 }},
		{"triglycerides", "mmol/L", func(x float64) float64 { return x * 0.01129 }},
		{"hba1c", "mmol/mol", func(x float64) float64 { return (x - 2.15) * 10.929 }},
		{"creatinine", "umol/L", func(x float64) float64 { return x * 88.42 }},
		{"vitamin-d", "nmol/L", func(x float64) float64 { return x * 2.496 }},
		{"vitamin-b12", "pmol/L", func(x float64) float64 { return x * 0.7378 }},
		{"weight", "[lb_av]", func(x float64) float64 { return x / 0.45359237 }},
	} {
		t.Run(tc.analyte, func(t *testing.T) {
			a, _ := labs.ByID(tc.analyte)
			for _, x := range []float64{1, 5.7, 42, 180} {
				got, ok := a.Convert(tc.toOther(x), tc.unit)
				require.True(t, ok)
				assert.InEpsilon(t, x, got, 0.002, "%v %s", x, a.Unit)
			}
		})
	}
}

func TestConvertUnknownUnit(t *testing.T) {
	a, _ := labs.ByID("glucose")
	v, ok := a.Convert(3, "mg/g")
	assert.False(t, ok)
	assert.Equal(t, 3.0, v, "the value is kept as given")
}

func TestTable(t *testing.T) {
	seen := map[string]string{}
	for _, a := range labs.Analytes {
		require.NotEmpty(t, a.Codes, a.ID)
		for _, c := range a.Codes {
			assert.Empty(t, seen[c], "code %s in %s and %s", c, seen[c], a.ID)
			seen[c] = a.ID
			got, ok := labs.ByCode(c)
			assert.True(t, ok)
			assert.Equal(t, a.ID, got.ID)
		}
	}
	assert.Len(t, labs.Analytes, 15)
	_, ok := labs.ByID("sodium")
	assert.False(t, ok)
}

func TestTrend(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d) }
	pts := func(vs ...float64) []labs.Point {
		out := make([]labs.Point, len(vs))
		for i, v := range vs {
			out[i] = labs.Point{At: day(30 * i), Value: v}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []labs.Point
		want labs.Direction
	}{
		{"none", nil, labs.Unknown},
		{"one", pts(5), labs.Unknown},
		{"rising", pts(100, 110, 120), labs.Up},
		{"falling", pts(7.5, 7.1, 6.8), labs.Down},
		{"steady within 2%", pts(100, 101, 100.5), labs.Steady},
		{"only the last three count", pts(200, 100, 100, 100), labs.Steady},
		{"one instant, by order", []labs.Point{{At: day(0), Value: 1}, {At: day(0), Value: 2}}, labs.Up},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, labs.Trend(tc.in)) })
	}
}
