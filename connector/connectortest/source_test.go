package connectortest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

// listAll pages from cursor to the end.
func listAll(t *testing.T, src *Source, patient connector.Ref, cursor string) ([]connector.Item, string, int) {
	t.Helper()
	var items []connector.Item
	for pages := 1; ; pages++ {
		page, err := src.ListDocuments(t.Context(), patient, cursor)
		require.NoError(t, err)
		items = append(items, page.Items...)
		if !page.More {
			return items, page.Cursor, pages
		}
		require.Less(t, pages, 100, "listing does not end")
		cursor = page.Cursor
	}
}

func TestSourceListsIncrementally(t *testing.T) {
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	src := NewSource(SourceConfig{Name: "php", PageSize: 2, Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	patients, err := src.Fill(2, 5)
	require.NoError(t, err)
	p := patients[0].Ref
	assert.Equal(t, connector.Ref{System: "php", Type: connector.PatientType, ID: "patient-1"}, p)

	items, cursor, pages := listAll(t, src, p, "")
	assert.Len(t, items, 5)
	assert.Equal(t, 3, pages)
	for _, it := range items {
		assert.Equal(t, "1", it.Version)
		assert.Equal(t, "php", it.Ref.System)
		assert.Equal(t, "DocumentReference", it.Ref.Type)
	}

	again, cursor2, _ := listAll(t, src, p, cursor)
	assert.Empty(t, again, "nothing changed since the final cursor")
	assert.Equal(t, cursor, cursor2)

	// Changes to another patient do not show in this patient's listing.
	_, err = src.UpdateDocument(src.Documents()[len(src.Documents())-1].Ref.ID, func(d *connector.Document) { d.Title = "x" })
	require.NoError(t, err)

	before := items[3].UpdatedAt
	updated, err := src.UpdateDocument(items[3].Ref.ID, func(d *connector.Document) { d.Content = []byte("amended") })
	require.NoError(t, err)
	assert.Equal(t, "2", updated.Version)
	assert.True(t, updated.UpdatedAt.After(before))
	assert.Equal(t, int64(len("amended")), updated.Size)
	require.NoError(t, src.RemoveDocument(items[0].Ref.ID))

	changed, cursor, _ := listAll(t, src, p, cursor)
	require.Len(t, changed, 2)
	assert.Equal(t, items[3].Ref, changed[0].Ref)
	assert.Equal(t, "2", changed[0].Version)
	assert.Equal(t, items[0].Ref, changed[1].Ref)
	assert.True(t, changed[1].Deleted)
	assert.Equal(t, "2", changed[1].Version, "removal is a new version")

	_, err = src.FetchDocument(t.Context(), items[0].Ref)
	assert.ErrorIs(t, err, connector.ErrNotFound)
	doc, err := src.FetchDocument(t.Context(), items[3].Ref)
	require.NoError(t, err)
	assert.Equal(t, "amended", string(doc.Content))

	// Adding a removed document back continues its versions.
	back, err := src.AddDocument(connector.Document{Ref: connector.Ref{ID: items[0].Ref.ID}, Patient: p, Type: connector.DocumentLabResult})
	require.NoError(t, err)
	assert.Equal(t, "3", back.Version)
	changed, _, _ = listAll(t, src, p, cursor)
	require.Len(t, changed, 1)
	assert.False(t, changed[0].Deleted)
}

func TestSourceRefusesBadInput(t *testing.T) {
	src := NewSource(SourceConfig{})
	patients, err := src.Fill(1, 1)
	require.NoError(t, err)
	p := patients[0]
	ctx := t.Context()

	_, err = src.ListDocuments(ctx, p.Ref, "not-a-cursor")
	assert.ErrorIs(t, err, connector.ErrInvalid)
	_, err = src.ListDocuments(ctx, connector.Ref{ID: "nobody"}, "")
	assert.ErrorIs(t, err, connector.ErrNotFound)
	_, err = src.AddDocument(connector.Document{Patient: connector.Ref{ID: "nobody"}})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	_, err = src.AddDocument(connector.Document{Ref: src.Documents()[0].Ref, Patient: p.Ref})
	assert.ErrorIs(t, err, connector.ErrConflict)
	_, err = src.UpdateDocument("nothing", func(*connector.Document) {})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	assert.ErrorIs(t, src.RemoveDocument("nothing"), connector.ErrNotFound)
	_, err = src.FindPatient(ctx, connector.PatientQuery{})
	assert.ErrorIs(t, err, connector.ErrInvalid)
}

func TestSourceFindsPatients(t *testing.T) {
	src := NewSource(SourceConfig{Name: "php"})
	patients, err := src.Fill(3, 0)
	require.NoError(t, err)
	want := patients[1]
	for name, q := range map[string]connector.PatientQuery{
		"id":         {ID: want.Ref.ID},
		"identifier": {Identifier: want.Identifiers[0]},
		"email":      {Email: want.Email},
		"id first":   {ID: want.Ref.ID, Email: patients[0].Email},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := src.FindPatient(t.Context(), q)
			require.NoError(t, err)
			assert.Equal(t, want.Ref, got.Ref)
		})
	}
	_, err = src.FindPatient(t.Context(), connector.PatientQuery{Email: "nobody@example.invalid"})
	assert.ErrorIs(t, err, connector.ErrNotFound)

	edited := src.PutPatient(connector.Patient{Ref: want.Ref, Name: "Renamed"})
	assert.Equal(t, "2", edited.Version)
	assert.Len(t, src.Patients(), 3)
}

func TestSourceReturnsCopies(t *testing.T) {
	src := NewSource(SourceConfig{})
	_, err := src.Fill(1, 1)
	require.NoError(t, err)
	ref := src.Documents()[0].Ref
	doc, err := src.FetchDocument(t.Context(), ref)
	require.NoError(t, err)
	doc.Content[0] = 'X'
	again, err := src.FetchDocument(t.Context(), ref)
	require.NoError(t, err)
	assert.NotEqual(t, doc.Content, again.Content, "a caller's edit leaked into the Source")
}

func TestSourceFaults(t *testing.T) {
	src := NewSource(SourceConfig{Faults: Faults{ErrorRate: 1}})
	_, err := src.Fill(1, 1)
	require.NoError(t, err)
	ref := src.Documents()[0].Ref

	_, err = src.FetchDocument(t.Context(), ref)
	assert.ErrorIs(t, err, ErrInjected)
	assert.False(t, connector.IsPermanent(err), "injected errors are transient")

	src.SetFaults(Faults{RetryAfterRate: 1, RetryAfter: 3 * time.Second})
	_, err = src.ListDocuments(t.Context(), src.Patients()[0].Ref, "")
	delay, ok := connector.RetryDelay(err)
	assert.True(t, ok)
	assert.Equal(t, 3*time.Second, delay)

	src.SetFaults(Faults{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err = src.FindPatient(ctx, connector.PatientQuery{ID: "patient-1"})
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "latency must end with the context: %v", err)

	src.SetFaults(Faults{})
	_, err = src.FetchDocument(t.Context(), ref)
	assert.NoError(t, err)
	assert.Equal(t, SourceCalls{List: 1, Fetch: 2, Find: 1, Injected: 2}, src.Calls())
}
