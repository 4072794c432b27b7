package mockphp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func dataSet(t testing.TB, cfg mockphp.Config) []byte {
	t.Helper()
	srv, err := mockphp.New(cfg)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, srv.WriteDataSet(&buf))
	return buf.Bytes()
}

func TestSameSeedSameData(t *testing.T) {
	cfg := mockphp.Config{Seed: 42, Patients: 30, DocsPerPatient: 6}
	a, b := dataSet(t, cfg), dataSet(t, cfg)
	assert.True(t, bytes.Equal(a, b), "same seed, byte-identical data set")
	assert.Greater(t, len(a), 100_000)

	cfg.Seed = 43
	assert.False(t, bytes.Equal(a, dataSet(t, cfg)), "another seed, another data set")

	t.Run("changes replay identically too", func(t *testing.T) {
		run := func() ([]byte, []string) {
			clock := newClock()
			srv, err := mockphp.New(mockphp.Config{Seed: 42, Patients: 10, DocsPerPatient: 3, Clock: clock.Now})
			require.NoError(t, err)
			changes, err := srv.Touch(25)
			require.NoError(t, err)
			var refs []string
			for _, c := range changes {
				refs = append(refs, c.Type+" "+c.Ref()+" "+c.VersionID)
			}
			var buf bytes.Buffer
			require.NoError(t, srv.WriteDataSet(&buf))
			return buf.Bytes(), refs
		}
		d1, r1 := run()
		d2, r2 := run()
		assert.Equal(t, r1, r2)
		assert.True(t, bytes.Equal(d1, d2))
	})
}

func TestDataRealism(t *testing.T) {
	srv, err := mockphp.New(mockphp.Config{Seed: 8, Patients: 40, DocsPerPatient: 8})
	require.NoError(t, err)
	pats := srv.Patients()
	require.Len(t, pats, 40)
	emails := map[string]bool{}
	for _, p := range pats {
		assert.Regexp(t, `^[A-Z][a-z'A-Z]+ [A-Z][a-zA-Z']+$`, p.Name)
		assert.Regexp(t, `@example\.(com|org|net)$`, p.Email)
		assert.False(t, emails[p.Email], "emails are unique")
		emails[p.Email] = true
		assert.Len(t, p.Documents, 8)
		raw, ok := srv.Resource("Patient", p.ID)
		require.True(t, ok)
		for _, want := range []string{mockphp.ExtMedicalHistory, mockphp.ExtDietaryPreferences, `"system":"phone"`, `"postalCode"`, `"birthDate"`} {
			assert.Contains(t, string(raw), want)
		}
	}

	kinds := map[mockphp.DocumentKind]int{}
	contentTypes := map[string]int{}
	for _, d := range srv.Documents("") {
		kinds[d.Kind]++
		contentTypes[strings.Split(d.ContentType, ";")[0]]++
		if d.BinaryID != "" {
			contentTypes["via-binary"]++
		}
	}
	for _, k := range []mockphp.DocumentKind{mockphp.KindLabResult, mockphp.KindProgressNote, mockphp.KindPhysicalAssessment} {
		assert.Positive(t, kinds[k], k)
	}
	assert.Positive(t, contentTypes["application/pdf"])
	assert.Positive(t, contentTypes["text/plain"])
	assert.Positive(t, contentTypes["via-binary"])
	assert.Less(t, contentTypes["via-binary"], 320, "some content is inline")

	t.Run("lab reports", func(t *testing.T) {
		var lab mockphp.DocumentInfo
		for _, d := range srv.Documents("") {
			if d.Kind == mockphp.KindLabResult {
				lab = d
				break
			}
		}
		require.NotEmpty(t, lab.DiagnosticReportID)
		raw, ok := srv.Resource("DiagnosticReport", lab.DiagnosticReportID)
		require.True(t, ok)
		var dr struct {
			Category []struct {
				Coding []struct{ Code string } `json:"coding"`
			} `json:"category"`
			Code struct {
				Coding []struct{ System, Code string } `json:"coding"`
			} `json:"code"`
			Result        []struct{ Reference string } `json:"result"`
			PresentedForm []struct {
				ContentType string `json:"contentType"`
				Data        string `json:"data"`
			} `json:"presentedForm"`
		}
		require.NoError(t, json.Unmarshal(raw, &dr))
		assert.Equal(t, "LAB", dr.Category[0].Coding[0].Code)
		assert.Equal(t, "http://loinc.org", dr.Code.Coding[0].System)
		require.NotEmpty(t, dr.Result)
		text, err := base64.StdEncoding.DecodeString(dr.PresentedForm[0].Data)
		require.NoError(t, err)
		assert.Contains(t, string(text), "Reference")

		obsID := strings.TrimPrefix(dr.Result[0].Reference, "Observation/")
		raw, ok = srv.Resource("Observation", obsID)
		require.True(t, ok)
		var obs struct {
			ValueQuantity struct {
				Value  float64
				Unit   string
				System string
			} `json:"valueQuantity"`
			ReferenceRange []struct {
				Low, High struct{ Value float64 }
			} `json:"referenceRange"`
		}
		require.NoError(t, json.Unmarshal(raw, &obs))
		assert.Positive(t, obs.ValueQuantity.Value)
		assert.NotEmpty(t, obs.ValueQuantity.Unit)
		assert.Equal(t, "http://unitsofmeasure.org", obs.ValueQuantity.System)
		assert.Less(t, obs.ReferenceRange[0].Low.Value, obs.ReferenceRange[0].High.Value)
	})
}

func TestDocumentRequestTask(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 31, Patients: 2, DocsPerPatient: 1, TaskDelay: 30 * time.Millisecond, Webhooks: fastWebhooks()})
	rc := newReceiver(t, nil)
	_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatMedplum, ResourceTypes: []string{"DocumentReference"}})
	require.NoError(t, err)
	p := srv.Patients()[0].ID
	task := `{"resourceType":"Task","status":"requested","intent":"order","for":{"reference":"Patient/` + p + `"},
	  "code":{"coding":[{"system":"http://loinc.org","code":"11502-2"}]},
	  "input":[{"type":{"text":"document type"},"valueCodeableConcept":{"coding":[{"system":"http://loinc.org","code":"34117-2"}]}}]}`
	r := do(t, http.MethodPost, ts.URL+"/fhir/R4/Task", []byte(task))
	require.Equal(t, http.StatusCreated, r.status, string(r.body))
	taskID := r.json(t)["id"].(string)
	assert.Equal(t, http.StatusBadRequest, do(t, http.MethodPost, ts.URL+"/fhir/R4/Task",
		[]byte(`{"resourceType":"Task","status":"requested","intent":"order","for":{"reference":"Patient/nobody"}}`)).status)

	startEmitting(t, srv)
	require.Eventually(t, func() bool {
		r := do(t, http.MethodGet, ts.URL+"/fhir/R4/Task/"+taskID, nil)
		return r.json(t)["status"] == "completed"
	}, 5*time.Second, 10*time.Millisecond)
	done := do(t, http.MethodGet, ts.URL+"/fhir/R4/Task/"+taskID, nil).json(t)
	outputs := done["output"].([]any)
	require.Len(t, outputs, 2, "one lab report and one history and physical")
	docs := srv.Documents(p)
	assert.Len(t, docs, 3)
	assert.Equal(t, mockphp.KindLabResult, docs[1].Kind)
	assert.Equal(t, mockphp.KindPhysicalAssessment, docs[2].Kind)
	require.NoError(t, srv.WaitIdle(context.Background()))
	assert.Len(t, rc.all(), 2, "new documents notify like any change")
	assert.Empty(t, srv.FulfillTasks(), "nothing left pending")
}
