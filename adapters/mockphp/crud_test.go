package mockphp_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func TestReadUpdateDelete(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 2, Patients: 2, DocsPerPatient: 2})
	base := ts.URL + "/fhir/R4/"
	p := srv.Patients()[0]

	r := do(t, http.MethodGet, base+"Patient/"+p.ID, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, `W/"1"`, r.header.Get("ETag"))
	assert.Contains(t, r.header.Get("Content-Type"), "application/fhir+json")
	pat := r.json(t)
	assert.Equal(t, "1", meta(pat, "versionId"))

	t.Run("If-None-Match answers 304", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"Patient/"+p.ID, nil, "If-None-Match", `W/"1"`)
		assert.Equal(t, http.StatusNotModified, r.status)
	})

	pat["gender"] = "other"
	body, _ := json.Marshal(pat)
	t.Run("update with the current version", func(t *testing.T) {
		r := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", `W/"1"`)
		require.Equal(t, http.StatusOK, r.status, string(r.body))
		assert.Equal(t, `W/"2"`, r.header.Get("ETag"))
		assert.Equal(t, "2", meta(r.json(t), "versionId"))
		assert.Equal(t, "other", r.json(t)["gender"])
		assert.True(t, strings.HasSuffix(r.header.Get("Location"), "/Patient/"+p.ID+"/_history/2"))
	})
	t.Run("update with a stale version fails 412", func(t *testing.T) {
		r := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "If-Match", `W/"1"`)
		assert.Equal(t, http.StatusPreconditionFailed, r.status)
		assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
		now := do(t, http.MethodGet, base+"Patient/"+p.ID, nil)
		assert.Equal(t, "2", meta(now.json(t), "versionId"), "the stale write changed nothing")
	})
	t.Run("update without If-Match is accepted", func(t *testing.T) {
		r := do(t, http.MethodPut, base+"Patient/"+p.ID, body, "Prefer", "return=minimal")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.body)
		assert.Equal(t, `W/"3"`, r.header.Get("ETag"))
	})
	t.Run("vread and history", func(t *testing.T) {
		r := do(t, http.MethodGet, base+"Patient/"+p.ID+"/_history/1", nil)
		require.Equal(t, http.StatusOK, r.status)
		assert.NotEqual(t, "other", r.json(t)["gender"])
		h := do(t, http.MethodGet, base+"Patient/"+p.ID+"/_history", nil).json(t)
		assert.Equal(t, "history", h["type"])
		assert.EqualValues(t, 3, h["total"])
	})
	t.Run("id mismatch is refused", func(t *testing.T) {
		r := do(t, http.MethodPut, base+"Patient/other-id", body)
		assert.Equal(t, http.StatusBadRequest, r.status)
	})
	t.Run("wrong resourceType is refused", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"DocumentReference", body)
		assert.Equal(t, http.StatusBadRequest, r.status)
	})
	t.Run("malformed json is refused", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"Patient", []byte(`{"resourceType":`))
		assert.Equal(t, http.StatusBadRequest, r.status)
		assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
	})

	var created string
	t.Run("create assigns id and version 1", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"Patient", []byte(`{"resourceType":"Patient","id":"ignored","name":[{"family":"Nguyen","given":["Ana"]}],"telecom":[{"system":"email","value":"ana.nguyen@example.com"}]}`))
		require.Equal(t, http.StatusCreated, r.status, string(r.body))
		res := r.json(t)
		created = res["id"].(string)
		assert.NotEqual(t, "ignored", created)
		assert.Equal(t, "1", meta(res, "versionId"))
		assert.Contains(t, r.header.Get("Location"), "/Patient/"+created+"/_history/1")
		found, total := searchAll(t, base+"Patient?email=ana.nguyen@example.com")
		assert.Equal(t, 1, total)
		assert.Equal(t, created, found[0]["id"])
	})
	t.Run("update as create", func(t *testing.T) {
		r := do(t, http.MethodPut, base+"Patient/chosen-id", []byte(`{"resourceType":"Patient","id":"chosen-id"}`))
		assert.Equal(t, http.StatusCreated, r.status)
	})
	t.Run("delete, then read answers 410", func(t *testing.T) {
		r := do(t, http.MethodDelete, base+"Patient/"+created, nil, "If-Match", `W/"7"`)
		assert.Equal(t, http.StatusPreconditionFailed, r.status)
		r = do(t, http.MethodDelete, base+"Patient/"+created, nil)
		assert.Equal(t, http.StatusNoContent, r.status)
		r = do(t, http.MethodGet, base+"Patient/"+created, nil)
		assert.Equal(t, http.StatusGone, r.status)
		assert.Equal(t, "OperationOutcome", r.json(t)["resourceType"])
		r = do(t, http.MethodDelete, base+"Patient/"+created, nil)
		assert.Equal(t, http.StatusNoContent, r.status, "deleting again is idempotent")
		_, total := searchAll(t, base+"Patient?email=ana.nguyen@example.com")
		assert.Zero(t, total, "deleted resources leave searches")
	})
	t.Run("unknown id and type", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, base+"Patient/nope", nil).status)
		assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, base+"Encounter/1", nil).status)
		assert.Equal(t, http.StatusNotFound, do(t, http.MethodGet, ts.URL+"/elsewhere", nil).status)
	})
}

func TestBinaryByAccept(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 4, Patients: 5, DocsPerPatient: 4})
	var doc mockphp.DocumentInfo
	for _, d := range srv.Documents("") {
		if d.BinaryID != "" && d.ContentType == "application/pdf" {
			doc = d
			break
		}
	}
	require.NotEmpty(t, doc.ID, "seed 4 has a PDF behind a Binary")
	url := ts.URL + "/fhir/R4/Binary/" + doc.BinaryID

	raw := do(t, http.MethodGet, url, nil, "Accept", "application/pdf")
	require.Equal(t, http.StatusOK, raw.status)
	assert.Equal(t, "application/pdf", raw.header.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(string(raw.body), "%PDF-1.4"))
	assert.Contains(t, string(raw.body), "%%EOF")

	js := do(t, http.MethodGet, url, nil, "Accept", "application/fhir+json")
	require.Equal(t, http.StatusOK, js.status)
	b := js.json(t)
	assert.Equal(t, "Binary", b["resourceType"])
	data, err := base64.StdEncoding.DecodeString(b["data"].(string))
	require.NoError(t, err)
	assert.Equal(t, raw.body, data)
	assert.Equal(t, "application/fhir+json", mustMediaType(js.header.Get("Content-Type")))

	viaFormat := do(t, http.MethodGet, url+"?_format=json", nil)
	assert.Equal(t, "Binary", viaFormat.json(t)["resourceType"])

	docRes := do(t, http.MethodGet, ts.URL+"/fhir/R4/DocumentReference/"+doc.ID, nil).json(t)
	att := docRes["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
	assert.Equal(t, "Binary/"+doc.BinaryID, att["url"], "attachment url is relative to the base")
	assert.EqualValues(t, len(raw.body), att["size"])
}

func mustMediaType(ct string) string { return strings.TrimSpace(strings.Split(ct, ";")[0]) }

func TestMetadata(t *testing.T) {
	_, ts := start(t, mockphp.Config{Seed: 1, Patients: 1, DocsPerPatient: 1, RequireAuth: true})
	r := do(t, http.MethodGet, ts.URL+"/fhir/R4/metadata", nil)
	require.Equal(t, http.StatusOK, r.status, "metadata needs no token")
	cs := r.json(t)
	assert.Equal(t, "CapabilityStatement", cs["resourceType"])
	assert.Equal(t, "4.0.1", cs["fhirVersion"])
	assert.Contains(t, string(r.body), ts.URL+"/auth/token")
}
