package mockphp_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// events decodes Standard Webhooks notifications into type, ref and version.
func events(t testing.TB, got []received) [][3]string {
	t.Helper()
	out := make([][3]string, len(got))
	for i, r := range got {
		var ev mockphp.ChangeEvent
		require.NoError(t, json.Unmarshal(r.body, &ev), string(r.body))
		out[i] = [3]string{ev.Type, ev.Data.ResourceType + "/" + ev.Data.ID, ev.Data.VersionID}
	}
	return out
}

// The admin API drives a document through a life a test of a sync needs:
// six amendments in a row, a delete, a re-creation under the same id and
// a second delete, each notifying.
func TestAdminDocumentLifecycle(t *testing.T) {
	for _, behaviour := range []mockphp.ServerBehaviour{{}, mockphp.StrictAll()} {
		name := "lenient"
		if behaviour.UUIDVersions {
			name = "strict"
		}
		t.Run(name, func(t *testing.T) {
			srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 3, DocsPerPatient: 6, Webhooks: fastWebhooks(), Server: behaviour})
			rc := newReceiver(t, nil)
			_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatStandardWebhooks,
				Secrets: []string{mockphp.NewWebhookSecret()}, ResourceTypes: []string{"DocumentReference"}})
			require.NoError(t, err)
			startEmitting(t, srv)
			doc := binaryDocument(t, srv)
			admin := ts.URL + "/admin/documents/" + doc.ID

			var versions []string
			for range 6 {
				r := do(t, http.MethodPost, admin+"/update", nil)
				require.Equal(t, http.StatusOK, r.status, string(r.body))
				var info mockphp.DocumentInfo
				require.NoError(t, json.Unmarshal(r.body, &info))
				versions = append(versions, info.VersionID)
			}
			require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, admin, nil).status)
			r := do(t, http.MethodPost, admin+"/restore", nil)
			require.Equal(t, http.StatusCreated, r.status, string(r.body))
			var restored mockphp.DocumentInfo
			require.NoError(t, json.Unmarshal(r.body, &restored))
			assert.Equal(t, doc.ID, restored.ID, "re-created under the same id")
			assert.False(t, restored.Deleted)
			require.Equal(t, http.StatusNoContent, do(t, http.MethodDelete, admin, nil).status)

			got := events(t, rc.wait(t, 9))
			require.Len(t, got, 9)
			ref := "DocumentReference/" + doc.ID
			for i, v := range versions {
				assert.Equal(t, [3]string{mockphp.ChangeUpdated, ref, v}, got[i], "amendment %d", i+1)
			}
			assert.Equal(t, mockphp.ChangeDeleted, got[6][0])
			assert.Equal(t, [3]string{mockphp.ChangeCreated, ref, restored.VersionID}, got[7])
			assert.Equal(t, mockphp.ChangeDeleted, got[8][0])
			for _, e := range got {
				assert.Equal(t, ref, e[1])
			}

			t.Run("restoring a live document or an unknown one is refused", func(t *testing.T) {
				assert.Equal(t, http.StatusNotFound, do(t, http.MethodPost, ts.URL+"/admin/documents/nope/restore", nil).status)
				live := srv.Documents(doc.PatientID)
				for _, d := range live {
					if !d.Deleted {
						assert.Equal(t, http.StatusConflict, do(t, http.MethodPost, ts.URL+"/admin/documents/"+d.ID+"/restore", nil).status)
						break
					}
				}
			})
		})
	}
}

// A Binary or an Observation can change alone, and notifies alone: the
// document that shows it keeps its version.
func TestAdminAttachmentAndLabValue(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 3, DocsPerPatient: 6, Webhooks: fastWebhooks()})
	rc := newReceiver(t, nil)
	_, err := srv.Subscribe(mockphp.Endpoint{URL: rc.url, Format: mockphp.FormatStandardWebhooks,
		Secrets: []string{mockphp.NewWebhookSecret()}})
	require.NoError(t, err)
	startEmitting(t, srv)
	doc := binaryDocument(t, srv)
	lab, obs := labReport(t, srv)
	before, _ := srv.Resource("Binary", doc.BinaryID)
	obsBefore, _ := srv.Resource("Observation", obs)

	r := do(t, http.MethodPost, ts.URL+"/admin/documents/"+doc.ID+"/attachment", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	r = do(t, http.MethodPost, ts.URL+"/admin/observations/"+obs+"/correct", nil)
	require.Equal(t, http.StatusOK, r.status, string(r.body))

	got := events(t, rc.wait(t, 2))
	require.Len(t, got, 2)
	assert.Equal(t, [3]string{mockphp.ChangeUpdated, "Binary/" + doc.BinaryID, "2"}, got[0])
	var v0 struct {
		Meta struct {
			VersionID string `json:"versionId"`
		} `json:"meta"`
	}
	require.NoError(t, json.Unmarshal(obsBefore, &v0))
	n, err := strconv.Atoi(v0.Meta.VersionID)
	require.NoError(t, err)
	// The generated result may have been amended once already.
	assert.Equal(t, [3]string{mockphp.ChangeUpdated, "Observation/" + obs, strconv.Itoa(n + 1)}, got[1])

	after, _ := srv.Resource("Binary", doc.BinaryID)
	assert.NotEqual(t, before, after, "the attachment changed")
	now, _ := srv.Document(doc.ID)
	assert.Equal(t, doc.VersionID, now.VersionID, "the DocumentReference did not")
	labNow, _ := srv.Document(lab.ID)
	assert.Equal(t, lab.VersionID, labNow.VersionID)

	var o1, o2 struct {
		Status        string `json:"status"`
		ValueQuantity struct {
			Value float64 `json:"value"`
		} `json:"valueQuantity"`
	}
	obsAfter, _ := srv.Resource("Observation", obs)
	require.NoError(t, json.Unmarshal(obsBefore, &o1))
	require.NoError(t, json.Unmarshal(obsAfter, &o2))
	assert.Equal(t, "corrected", o2.Status)
	assert.NotEqual(t, o1.ValueQuantity.Value, o2.ValueQuantity.Value)

	t.Run("refusals", func(t *testing.T) {
		var inline string
		for _, d := range srv.Documents("") {
			if d.BinaryID == "" && !d.Deleted {
				inline = d.ID
				break
			}
		}
		require.NotEmpty(t, inline, "the data set has inline content")
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{http.MethodPost, "/admin/documents/" + inline + "/attachment", http.StatusConflict},
			{http.MethodPost, "/admin/observations/nope/correct", http.StatusNotFound},
			{http.MethodPost, "/admin/documents/nope/update", http.StatusNotFound},
			{http.MethodDelete, "/admin/documents/nope", http.StatusNotFound},
			{http.MethodPost, "/admin/documents?patient=" + doc.PatientID + "&kind=poem", http.StatusBadRequest},
			{http.MethodPost, "/admin/documents/" + doc.ID + "/fold", http.StatusNotFound},
		} {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				assert.Equal(t, tc.status, do(t, tc.method, ts.URL+tc.path, nil).status)
			})
		}
	})
	t.Run("create, read and list documents, update a patient", func(t *testing.T) {
		r := do(t, http.MethodPost, ts.URL+"/admin/documents?patient="+doc.PatientID+"&kind=lab_result", nil)
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		var info mockphp.DocumentInfo
		require.NoError(t, json.Unmarshal(r.body, &info))
		assert.Equal(t, mockphp.KindLabResult, info.Kind)
		r = do(t, http.MethodGet, ts.URL+"/admin/documents/"+info.ID, nil)
		assert.Equal(t, http.StatusOK, r.status)
		var list []mockphp.DocumentInfo
		require.NoError(t, json.Unmarshal(do(t, http.MethodGet, ts.URL+"/admin/documents?patient="+doc.PatientID, nil).body, &list))
		assert.Len(t, list, len(srv.Documents(doc.PatientID)))
		r = do(t, http.MethodPost, ts.URL+"/admin/patients/"+doc.PatientID+"/update", nil)
		assert.Equal(t, http.StatusOK, r.status, string(r.body))
	})
}
