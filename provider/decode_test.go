package provider_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

// Every JSON file in testdata decodes, to its own type, keeping its raw
// JSON.
func TestDecodeTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/*/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 17)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			r, err := provider.Decode(data)
			require.NoError(t, err)
			b := baseOf(r)
			assert.NotEmpty(t, b.ResourceType)
			assert.Equal(t, string(bytes.TrimSpace(data)), string(b.Raw()))
		})
	}
}

func baseOf(r provider.Resource) *provider.Base {
	switch v := r.(type) {
	case *provider.Patient:
		return &v.Base
	case *provider.DocumentReference:
		return &v.Base
	case *provider.DiagnosticReport:
		return &v.Base
	case *provider.Observation:
		return &v.Base
	case *provider.Binary:
		return &v.Base
	case *provider.Bundle:
		return &v.Base
	case *provider.OperationOutcome:
		return &v.Base
	case *provider.Task:
		return &v.Base
	case *provider.Parameters:
		return &v.Base
	case *provider.SubscriptionStatus:
		return &v.Base
	case *provider.Other:
		return &v.Base
	}
	panic("unknown resource")
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return data
}

func TestDecodeExamples(t *testing.T) {
	t.Run("discharge summary inline data", func(t *testing.T) {
		d, err := provider.DecodeAs[provider.DocumentReference](readTestdata(t, "fhir/uscore-documentreference-discharge-summary.json"))
		require.NoError(t, err)
		require.Len(t, d.Content, 1)
		data, err := base64.StdEncoding.DecodeString(d.Content[0].Attachment.Data)
		require.NoError(t, err)
		assert.Len(t, data, 98)
		assert.True(t, d.Type.Has(provider.SystemLOINC, "18842-5"))
		typ, id, ok := d.Subject.TypeID()
		assert.True(t, ok)
		assert.Equal(t, "Patient", typ)
		assert.Equal(t, "example", id)
		assert.Empty(t, d.Date)
	})
	t.Run("episode summary relative url", func(t *testing.T) {
		d, err := provider.DecodeAs[provider.DocumentReference](readTestdata(t, "fhir/uscore-r4build-documentreference-episode-summary-url.json"))
		require.NoError(t, err)
		assert.Equal(t, "/Binary/1-note", d.Content[0].Attachment.URL)
		tm, ok := d.Date.Time()
		require.True(t, ok)
		assert.Equal(t, 2016, tm.Year())
	})
	t.Run("adi dnr with R5 extension", func(t *testing.T) {
		d, err := provider.DecodeAs[provider.DocumentReference](readTestdata(t, "fhir/uscore-documentreference-adi-dnr.json"))
		require.NoError(t, err)
		data, err := base64.StdEncoding.DecodeString(d.Content[0].Attachment.Data)
		require.NoError(t, err)
		assert.Len(t, data, 45566)
		assert.Equal(t, "Ronald Bone, MD", d.Author[0].Display)
	})
	t.Run("cbc lab panel", func(t *testing.T) {
		r, err := provider.DecodeAs[provider.DiagnosticReport](readTestdata(t, "fhir/uscore-diagnosticreport-cbc.json"))
		require.NoError(t, err)
		assert.True(t, r.Category[0].Has(provider.SystemV2DiagnosticService, "LAB"))
		assert.Len(t, r.Result, 8)
		tm, ok := r.Meta.LastUpdated.Time()
		require.True(t, ok)
		assert.Equal(t, 597000000, tm.Nanosecond())
	})
	t.Run("binary", func(t *testing.T) {
		b, err := provider.DecodeAs[provider.Binary](readTestdata(t, "fhir/r4-binary-f006.json"))
		require.NoError(t, err)
		data, err := base64.StdEncoding.DecodeString(b.Data)
		require.NoError(t, err)
		assert.Len(t, data, 26626)
		assert.Equal(t, "image/jpeg", b.ContentType)
	})
	t.Run("patient names", func(t *testing.T) {
		p, err := provider.DecodeAs[provider.Patient](readTestdata(t, "fhir/uscore-patient-example.json"))
		require.NoError(t, err)
		n, ok := p.PreferredName()
		require.True(t, ok)
		assert.NotEqual(t, "old", n.Use)
		assert.NotEmpty(t, n.String())
	})
	t.Run("searchset", func(t *testing.T) {
		b, err := provider.DecodeBundle(readTestdata(t, "fhir/uscore-bundle-docref-searchset-2.json"), provider.BundleSearchset)
		require.NoError(t, err)
		rs, errs := b.Matches()
		assert.Empty(t, errs)
		assert.Len(t, rs, 3)
		assert.Empty(t, b.NextLink())
	})
}

// Lenient decoding: what FHIR allows, and some of what servers get wrong,
// never fails a resource.
func TestDecodeLenient(t *testing.T) {
	body := `{
	  "resourceType": "DocumentReference", "id": "x",
	  "meta": {"versionId": "2", "lastUpdated": "2024-01-02T03:04:05.1234567+01:00", "tag": [{"code": "new"}]},
	  "status": "a-code-from-r6",
	  "_status": {"extension": [{"url": "http://example.org/ext", "valueString": "x"}]},
	  "_date": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]},
	  "contained": [{"resourceType": "Binary", "id": "b1", "data": "AA=="}],
	  "extension": [{"url": "http://example.org/x", "valueQuantity": {"value": 1}}],
	  "modifierExtension": [],
	  "author": [{"display": "A"}, null],
	  "content": [{"attachment": {"url": "Binary/1", "size": "12"}}],
	  "futureElement": {"deep": [1, 2, {"x": null}]}
	}`
	d, err := provider.DecodeAs[provider.DocumentReference]([]byte(body))
	require.NoError(t, err)
	assert.Equal(t, "a-code-from-r6", d.Status)
	assert.Equal(t, "2", d.Meta.VersionID)
	assert.Equal(t, "Binary/1", d.Content[0].Attachment.URL)
	tm, ok := d.Meta.LastUpdated.Time()
	require.True(t, ok)
	assert.Equal(t, 123456700, tm.Nanosecond())
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, provider.ErrNotFHIR},
		{"html", `<html><body>502 Bad Gateway</body></html>`, provider.ErrNotFHIR},
		{"array", `[{"resourceType": "Patient"}]`, provider.ErrNotFHIR},
		{"no resourceType", `{"id": "1"}`, provider.ErrNotFHIR},
		{"numeric resourceType", `{"resourceType": 5}`, provider.ErrNotFHIR},
		{"lower-case resourceType", `{"resourceType": "patient"}`, provider.ErrNotFHIR},
		{"truncated", `{"resourceType": "Patient", "name": [`, provider.ErrNotFHIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := provider.Decode([]byte(tc.body))
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestDecodeBundleErrors(t *testing.T) {
	t.Run("wrong bundle type", func(t *testing.T) {
		_, err := provider.DecodeBundle([]byte(`{"resourceType":"Bundle","type":"transaction"}`), provider.BundleSearchset)
		assert.ErrorIs(t, err, provider.ErrUnexpectedType)
		assert.Contains(t, err.Error(), `"transaction"`)
	})
	t.Run("operation outcome", func(t *testing.T) {
		_, err := provider.DecodeBundle([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"unknown search parameter foo"}]}`))
		require.ErrorIs(t, err, provider.ErrUnexpectedType)
		var oe *provider.OutcomeError
		require.ErrorAs(t, err, &oe)
		assert.Contains(t, err.Error(), "unknown search parameter foo")
	})
	t.Run("another resource", func(t *testing.T) {
		_, err := provider.DecodeBundle([]byte(`{"resourceType":"Patient"}`))
		assert.ErrorIs(t, err, provider.ErrUnexpectedType)
	})
	t.Run("bad entry does not hide the others", func(t *testing.T) {
		b, err := provider.DecodeBundle([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[
			{"resource":{"resourceType":"Patient","id":"1"}},
			{"resource":"oops"},
			{},
			{"resource":{"resourceType":"OperationOutcome"},"search":{"mode":"outcome"}},
			{"resource":{"resourceType":"Patient","id":"2"}}]}`), provider.BundleSearchset)
		require.NoError(t, err)
		rs, errs := b.Matches()
		assert.Len(t, rs, 2)
		assert.Len(t, errs, 2)
	})
}

func TestReferenceTypeID(t *testing.T) {
	for _, tc := range []struct {
		ref, typ, id string
		ok           bool
	}{
		{"Patient/123", "Patient", "123", true},
		{"https://ehr.example/fhir/Patient/123", "Patient", "123", true},
		{"Patient/123/_history/4", "Patient", "123", true},
		{"#contained", "", "", false},
		{"urn:uuid:1234", "", "", false},
		{"123", "", "", false},
		{"", "", "", false},
		{"patient/123", "", "", false},
	} {
		typ, id, ok := provider.Reference{Reference: tc.ref}.TypeID()
		assert.Equal(t, tc.ok, ok, tc.ref)
		assert.Equal(t, tc.typ, typ, tc.ref)
		assert.Equal(t, tc.id, id, tc.ref)
	}
}

func TestInstant(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		year int
	}{
		{"2005", true, 2005},
		{"2005-07", true, 2005},
		{"2005-07-05", true, 2005},
		{"2005-07-05T11:45:33Z", true, 2005},
		{"2020-05-29T11:44:13.1882432-05:00", true, 2020},
		{"yesterday", false, 1},
		{"", false, 1},
	} {
		tm, ok := provider.Instant(tc.in).Time()
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.year, tm.Year(), tc.in)
	}
}
