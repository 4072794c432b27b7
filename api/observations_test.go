package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

func TestObservations(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	pats, err := h.php.Fill(1, 1)
	require.NoError(t, err)
	start := time.Date(2025, 1, 10, 8, 0, 0, 0, time.UTC)
	put := func(code, unit string, month int, v float64, flag string, status connector.ObservationStatus) connector.Observation {
		o, err := h.php.PutObservation(connector.Observation{Patient: pats[0].Ref, Category: "laboratory",
			Code: connector.Coding{System: "http://loinc.org", Code: code}, Effective: start.AddDate(0, month, 0),
			Value: &v, Unit: unit, Interpretation: flag, Status: status})
		require.NoError(t, err)
		return o
	}
	put("2345-7", "mg/dL", 0, 95, "N", "")
	put("2345-7", "mmol/L", 1, 6.1, "H", "")
	wrong := put("2345-7", "mg/dL", 2, 400, "HH", "")
	wrong.Status = connector.ObservationEnteredInError
	_, err = h.php.PutObservation(wrong)
	require.NoError(t, err)
	put("2345-7", "mmol/L", 3, 6.8, "H", connector.ObservationAmended)
	put("4548-4", "%", 0, 6.0, "", "")
	put("4548-4", "mmol/mol", 3, 48, "H", "")

	_, err = practice.Bootstrap(ctx, h.st, practice.NewUser{Email: "d@example.com", Name: "D", Role: practice.RoleDietician,
		Password: worldPassword}, time.Now())
	require.NoError(t, err)
	token := signIn(t, h, "d@example.com", worldPassword).AccessToken
	res := h.do(t, request{Method: http.MethodPost, Path: "/patients", Token: token,
		Body: `{"name":"` + pats[0].Name + `","email":"` + pats[0].Email + `"}`})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var created struct {
		Patient struct {
			ID int64 `json:"id"`
		} `json:"patient"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &created))
	patient := created.Patient
	path := "/patients/" + itoa(patient.ID)

	type page struct {
		Items []struct {
			Analyte        string   `json:"analyte"`
			Value          *float64 `json:"value"`
			Unit           string   `json:"unit"`
			Interpretation string   `json:"interpretation"`
			Status         string   `json:"status"`
			Display        *struct {
				Value float64 `json:"value"`
				Unit  string  `json:"unit"`
			} `json:"display"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	var glucose page
	require.Eventually(t, func() bool {
		res := h.do(t, request{Method: http.MethodGet, Path: path + "/observations?analyte=glucose", Token: token})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.NoError(t, json.Unmarshal(res.Body, &glucose))
		return len(glucose.Items) == 3
	}, 30*time.Second, 20*time.Millisecond, "the series syncs")
	assert.Equal(t, 95.0, *glucose.Items[0].Value)
	assert.Equal(t, "mmol/L", glucose.Items[1].Unit, "the original unit is kept")
	require.NotNil(t, glucose.Items[1].Display)
	assert.InDelta(t, 109.9, glucose.Items[1].Display.Value, 0.1)
	assert.Equal(t, "mg/dL", glucose.Items[1].Display.Unit)
	assert.Equal(t, "amended", glucose.Items[2].Status)
	for _, it := range glucose.Items {
		assert.NotEqual(t, 400.0, *it.Value, "the value entered in error is in no series")
	}

	// Paged like the other listings, and bounded by time.
	var first page
	res = h.do(t, request{Method: http.MethodGet, Path: path + "/observations?limit=2", Token: token})
	require.Equal(t, http.StatusOK, res.Status)
	require.NoError(t, json.Unmarshal(res.Body, &first))
	assert.Len(t, first.Items, 2)
	require.NotEmpty(t, first.NextCursor)
	res = h.do(t, request{Method: http.MethodGet, Path: path + "/observations?limit=2&cursor=" + first.NextCursor, Token: token})
	var second page
	require.NoError(t, json.Unmarshal(res.Body, &second))
	assert.Len(t, second.Items, 2)
	var bounded page
	res = h.do(t, request{Method: http.MethodGet, Path: path + "/observations?code=4548-4&from=" +
		url.QueryEscape(start.AddDate(0, 2, 0).Format(time.RFC3339)), Token: token})
	require.NoError(t, json.Unmarshal(res.Body, &bounded))
	require.Len(t, bounded.Items, 1)
	assert.InDelta(t, 6.54, bounded.Items[0].Display.Value, 0.01, "48 mmol/mol in %")

	// The summary: latest, its flag, the change and the trend.
	res = h.do(t, request{Method: http.MethodGet, Path: path + "/lab-summary", Token: token})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var sum struct {
		Items []struct {
			Analyte string `json:"analyte"`
			Unit    string `json:"unit"`
			Latest  struct {
				Interpretation string `json:"interpretation"`
			} `json:"latest"`
			Change *float64 `json:"change"`
			Trend  string   `json:"trend"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &sum))
	require.Len(t, sum.Items, 2)
	assert.Equal(t, "hba1c", sum.Items[0].Analyte)
	assert.Equal(t, "%", sum.Items[0].Unit)
	assert.InDelta(t, 0.54, *sum.Items[0].Change, 0.01)
	assert.Equal(t, "up", sum.Items[0].Trend)
	assert.Equal(t, "glucose", sum.Items[1].Analyte)
	assert.Equal(t, "H", sum.Items[1].Latest.Interpretation)
	assert.InDelta(t, 6.8*18.016-6.1*18.016, *sum.Items[1].Change, 0.01)

	// Bad input names its field.
	for _, c := range []struct{ query, field string }{
		{"analyte=sodium", "analyte"},
		{"code=glucose", "code"},
		{"from=yesterday", "from"},
		{"to=2025-13-01T00:00:00Z", "to"},
		{"from=2025-06-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from"},
		{"analyte=glucose&code=2345-7", "code"},
		{"limit=0", "limit"},
	} {
		t.Run(c.query, func(t *testing.T) {
			res := h.do(t, request{Method: http.MethodGet, Path: path + "/observations?" + c.query, Token: token})
			p := checkProblem(t, res, http.StatusBadRequest)
			assert.Equal(t, []string{c.field}, p.fields())
		})
	}

	// Reads are audited like document reads.
	admin, err := practice.Bootstrap(ctx, h.st, practice.NewUser{Email: "a@example.com", Name: "A", Role: practice.RoleAdmin,
		Password: worldPassword}, time.Now())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		audit, err := h.svc.Audit(ctx, practice.Actor{UserID: admin.ID, Role: practice.RoleAdmin}, practice.AuditList{PatientID: patient.ID})
		require.NoError(t, err)
		seen := map[practice.Action]bool{}
		for _, e := range audit.Items {
			seen[e.Action] = true
		}
		return seen[practice.ActionListObservations] && seen[practice.ActionReadLabSummary]
	}, 10*time.Second, 20*time.Millisecond, "series and summary reads are in the audit log")
}
