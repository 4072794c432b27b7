package folder_test

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/examples/custom-adapter/folder"
)

const testdata = "../testdata"

// The conformance suite in one call. A page size of 1 makes every listing
// page, and pages through the two documents of patient "example" that
// share a lastUpdated.
func TestSource(t *testing.T) {
	src := folder.NewSource(os.DirFS(testdata), folder.SourceConfig{Name: "Example Clinic", PageSize: 1})
	connectortest.TestSource(t, src, connectortest.SourceOptions{
		Name:     "files",
		Patients: []connector.Ref{{ID: "example"}, {ID: "f001"}},
	})
}

// testFS returns the test data as a MapFS, to change in a test.
func testFS(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	entries, err := os.ReadDir(testdata)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(testdata + "/" + e.Name())
		require.NoError(t, err)
		fsys[e.Name()] = &fstest.MapFile{Data: data}
	}
	return fsys
}

// listAll pages a patient's documents to the end and returns the ids in
// listing order and the final cursor.
func listAll(t *testing.T, src *folder.Source, patient, cursor string) ([]string, string) {
	t.Helper()
	var ids []string
	for range 100 {
		page, err := src.ListDocuments(t.Context(), connector.Ref{Type: connector.PatientType, ID: patient}, cursor)
		require.NoError(t, err)
		for _, it := range page.Items {
			ids = append(ids, it.Ref.ID+"@"+it.Version)
		}
		cursor = page.Cursor
		if !page.More {
			return ids, cursor
		}
	}
	t.Fatal("listing never ended")
	return nil, ""
}

func TestListDocumentsIsIncremental(t *testing.T) {
	fsys := testFS(t)
	src := folder.NewSource(fsys, folder.SourceConfig{PageSize: 1})

	ids, cursor := listAll(t, src, "example", "")
	// Equal lastUpdated: ordered by id, and neither lost across pages.
	assert.Equal(t, []string{"discharge-summary@2", "episode-summary@1"}, ids)
	assert.Equal(t, "2024-05-03T10:15:00Z|episode-summary", cursor)

	again, same := listAll(t, src, "example", cursor)
	assert.Empty(t, again, "nothing changed since the final cursor")
	assert.Equal(t, cursor, same, "a listing that finds nothing keeps the cursor")

	// A new version of a file is listed after the cursor, and only it.
	updated := strings.NewReplacer(`"versionId": "2"`, `"versionId": "3"`,
		`"lastUpdated": "2024-05-03T10:15:00Z"`, `"lastUpdated": "2024-06-01T00:00:00Z"`).
		Replace(string(fsys["DocumentReference-discharge-summary.json"].Data))
	fsys["DocumentReference-discharge-summary.json"] = &fstest.MapFile{Data: []byte(updated)}
	changed, _ := listAll(t, src, "example", cursor)
	assert.Equal(t, []string{"discharge-summary@3"}, changed)
}

func TestFetchDocumentMapsFHIR(t *testing.T) {
	src := folder.NewSource(os.DirFS(testdata), folder.SourceConfig{Name: "Example Clinic"})
	ctx := t.Context()

	d, err := src.FetchDocument(ctx, connector.Ref{System: "files", Type: "DocumentReference", ID: "f001-glucose"})
	require.NoError(t, err)
	assert.Equal(t, connector.Ref{Type: connector.PatientType, ID: "f001"}, d.Patient)
	assert.Equal(t, connector.DocumentLabResult, d.Type, "LOINC 11502-2 is a laboratory report")
	assert.Equal(t, "Glucose [Moles/volume] in Blood", d.Title)
	assert.Equal(t, "A. Langeveld", d.Author)
	assert.Equal(t, "Burgers University Medical Centre", d.Source, "the custodian names the source")
	assert.Equal(t, "1", d.Version)
	assert.Equal(t, "2024-05-04T09:00:00Z", d.UpdatedAt.UTC().Format("2006-01-02T15:04:05Z"))
	assert.Equal(t, "2013-04-03T14:30:10Z", d.Date.UTC().Format("2006-01-02T15:04:05Z"))
	assert.Equal(t, "text/plain", d.ContentType)
	assert.Contains(t, string(d.Content), "6.3 mmol/l")
	assert.Equal(t, int64(len(d.Content)), d.Size)
	assert.Len(t, d.ContentHash, 64)
	assert.Contains(t, string(d.Raw), `"resourceType": "DocumentReference"`)

	d, err = src.FetchDocument(ctx, connector.Ref{Type: "DocumentReference", ID: "discharge-summary"})
	require.NoError(t, err)
	assert.Equal(t, connector.DocumentOther, d.Type)
	assert.Equal(t, "Discharge Summary", d.Title, "no description: the type's text")
	assert.Equal(t, "Example Clinic", d.Source, "no custodian: the configured name")
	assert.True(t, d.Date.IsZero(), "the resource has no date")
	assert.Len(t, d.Content, 98)
}

func TestFindPatient(t *testing.T) {
	fsys := testFS(t)
	src := folder.NewSource(fsys, folder.SourceConfig{})
	ctx := t.Context()

	p, err := src.FindPatient(ctx, connector.PatientQuery{ID: "f001"})
	require.NoError(t, err)
	assert.Equal(t, "Pieter van de Heuvel", p.Name)
	assert.Equal(t, "p.heuvel@gmail.com", p.Email)
	assert.Equal(t, "phone: 0648352638; address: Van Egmondkade 23, 1024 RJ, Amsterdam, NLD", p.ContactDetails)
	assert.Equal(t, []connector.Identifier{{System: "urn:oid:2.16.840.1.113883.2.4.6.3", Value: "738472983"}}, p.Identifiers,
		"an identifier without a value is left out")
	assert.Equal(t, "3", p.Version)

	byEmail, err := src.FindPatient(ctx, connector.PatientQuery{Email: "P.Heuvel@gmail.com"})
	require.NoError(t, err)
	assert.Equal(t, "f001", byEmail.Ref.ID)
	byID, err := src.FindPatient(ctx, connector.PatientQuery{Identifier: p.Identifiers[0]})
	require.NoError(t, err)
	assert.Equal(t, "f001", byID.Ref.ID)

	_, err = src.FindPatient(ctx, connector.PatientQuery{})
	assert.ErrorIs(t, err, connector.ErrInvalid)

	// Two patients with one email: refused, not guessed.
	twin := strings.ReplaceAll(string(fsys["Patient-f001.json"].Data), `"id": "f001"`, `"id": "f002"`)
	fsys["Patient-f002.json"] = &fstest.MapFile{Data: []byte(twin)}
	_, err = src.FindPatient(ctx, connector.PatientQuery{Email: "p.heuvel@gmail.com"})
	assert.ErrorIs(t, err, connector.ErrConflict)

	refs, err := src.Patients(ctx)
	require.NoError(t, err)
	assert.Equal(t, []connector.Ref{
		{Type: connector.PatientType, ID: "example"},
		{Type: connector.PatientType, ID: "f001"},
		{Type: connector.PatientType, ID: "f002"},
	}, refs)
}

func TestEnteredInErrorIsDeleted(t *testing.T) {
	fsys := testFS(t)
	gone := strings.Replace(string(fsys["DocumentReference-f001-glucose.json"].Data), `"status": "current"`, `"status": "entered-in-error"`, 1)
	fsys["DocumentReference-f001-glucose.json"] = &fstest.MapFile{Data: []byte(gone)}
	src := folder.NewSource(fsys, folder.SourceConfig{})

	page, err := src.ListDocuments(t.Context(), connector.Ref{ID: "f001"}, "")
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.True(t, page.Items[0].Deleted)
	_, err = src.FetchDocument(t.Context(), page.Items[0].Ref)
	assert.ErrorIs(t, err, connector.ErrNotFound)
}

// A bad file is a permanent error naming the file, from every method that
// reads it; never a panic, never a silent skip.
func TestBadFilesArePermanentErrors(t *testing.T) {
	const name = "DocumentReference-f001-glucose.json"
	base := string(testFS(t)[name].Data)
	cases := []struct {
		what, data, want string
	}{
		{"not JSON", `{"resourceType": "DocumentReference", "id": `, "malformed JSON: unexpected end of JSON input"},
		{"a JSON array", `[1, 2]`, "malformed JSON: json: cannot unmarshal array"},
		{"another id", strings.Replace(base, `"id": "f001-glucose"`, `"id": "other"`, 1), "holds DocumentReference/other, not DocumentReference/f001-glucose"},
		{"no version", strings.Replace(base, `"versionId": "1",`, ``, 1), "no meta.versionId"},
		{"bad lastUpdated", strings.Replace(base, `2024-05-04T09:00:00Z`, `yesterday`, 1), "meta.lastUpdated: parsing time"},
		{"no patient", strings.Replace(base, `"reference": "Patient/f001"`, `"reference": "Group/g1"`, 1), "subject is not a Patient reference"},
		{"a URL attachment", strings.Replace(base, `"data":`, `"url": "https://example.org/b", "x":`, 1), "attachment by url is not supported"},
		{"bad base64", strings.Replace(base, `"data": "`, `"data": "%%`, 1), "attachment data is not base64"},
	}
	for _, tc := range cases {
		t.Run(tc.what, func(t *testing.T) {
			fsys := testFS(t)
			fsys[name] = &fstest.MapFile{Data: []byte(tc.data)}
			src := folder.NewSource(fsys, folder.SourceConfig{})

			_, err := src.FetchDocument(t.Context(), connector.Ref{Type: "DocumentReference", ID: "f001-glucose"})
			require.Error(t, err)
			assert.ErrorIs(t, err, connector.ErrPermanent, "retrying cannot fix a file")
			assert.Contains(t, err.Error(), name)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("listing", func(t *testing.T) {
		fsys := testFS(t)
		fsys[name] = &fstest.MapFile{Data: []byte(`{`)}
		src := folder.NewSource(fsys, folder.SourceConfig{})
		_, err := src.ListDocuments(t.Context(), connector.Ref{ID: "example"}, "")
		assert.ErrorIs(t, err, connector.ErrPermanent, "one bad file stops the listing rather than hiding a document")
		assert.ErrorContains(t, err, "list documents: "+name+": permanent failure: malformed JSON")
	})
	t.Run("patient", func(t *testing.T) {
		fsys := testFS(t)
		fsys["Patient-f001.json"] = &fstest.MapFile{Data: []byte(`{"resourceType": "Patient", "id": "f001", "meta": {"versionId": 1}}`)}
		src := folder.NewSource(fsys, folder.SourceConfig{})
		_, err := src.FindPatient(t.Context(), connector.PatientQuery{ID: "f001"})
		assert.ErrorIs(t, err, connector.ErrPermanent)
		assert.ErrorContains(t, err, "Patient-f001.json")
	})
}

// Ids FHIR would not allow never reach the file system.
func TestIDsCannotLeaveTheFolder(t *testing.T) {
	// A file outside the Source's folder that a traversal would reach.
	parent := fstest.MapFS{"secret/Patient-x.json": &fstest.MapFile{Data: []byte(`{}`)}}
	for name, f := range testFS(t) {
		parent["data/"+name] = f
	}
	sub, err := fs.Sub(parent, "data")
	require.NoError(t, err)
	src := folder.NewSource(sub, folder.SourceConfig{})
	ctx := context.Background()

	for _, id := range []string{"../secret/x", "../../etc/passwd", "a/b", "..", "", "x\\y", strings.Repeat("a", 65)} {
		_, err := src.FetchDocument(ctx, connector.Ref{Type: "DocumentReference", ID: id})
		assert.ErrorIs(t, err, connector.ErrInvalid, "fetch %q", id)
		_, err = src.FindPatient(ctx, connector.PatientQuery{ID: id})
		assert.ErrorIs(t, err, connector.ErrInvalid, "find %q", id)
		_, err = src.ListDocuments(ctx, connector.Ref{ID: id}, "")
		assert.ErrorIs(t, err, connector.ErrInvalid, "list %q", id)
	}
	_, err = src.ListDocuments(ctx, connector.Ref{ID: "example"}, "not a cursor")
	assert.ErrorIs(t, err, connector.ErrInvalid)
	_, err = src.ListDocuments(ctx, connector.Ref{ID: "example"}, "2024-05-03T10:15:00Z|../x")
	assert.ErrorIs(t, err, connector.ErrInvalid)
}
