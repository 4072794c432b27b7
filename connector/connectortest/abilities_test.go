package connectortest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

func TestSourceWritesPatients(t *testing.T) {
	src := NewSource(SourceConfig{Name: "php"})
	patients, err := src.Fill(1, 0)
	require.NoError(t, err)
	p := patients[0]

	edit := p
	edit.Name = "Edited"
	v, err := src.WritePatient(t.Context(), edit)
	require.NoError(t, err)
	assert.NotEqual(t, p.Version, v)
	got, _ := src.Patient(p.Ref.ID)
	assert.Equal(t, "Edited", got.Name)
	assert.Equal(t, v, got.Version)

	// Still based on the first version: the Source moved on.
	edit.Name = "Stale"
	_, err = src.WritePatient(t.Context(), edit)
	assert.ErrorIs(t, err, connector.ErrConflict)
	got, _ = src.Patient(p.Ref.ID)
	assert.Equal(t, "Edited", got.Name)

	_, err = src.WritePatient(t.Context(), connector.Patient{Ref: src.PatientRef("nobody")})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	assert.Equal(t, 3, src.Calls().Write)
}

func TestSourceTakesRequests(t *testing.T) {
	src := NewSource(SourceConfig{Name: "php"})
	patients, err := src.Fill(1, 1)
	require.NoError(t, err)
	req := connector.DocumentRequest{Patient: patients[0].Ref, Key: "k1", What: "labs"}

	task, err := src.RequestDocuments(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, connector.Ref{System: "php", Type: "Task", ID: "task-1"}, task)
	again, err := src.RequestDocuments(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, task, again, "one request per key")
	require.Len(t, src.Requests(), 1)

	status, _, err := src.RequestStatus(t.Context(), task)
	require.NoError(t, err)
	assert.Equal(t, connector.RequestRequested, status)

	added, err := src.CompleteRequest(task.ID, connector.Document{Title: "Lipid panel", Content: []byte("LDL")})
	require.NoError(t, err)
	require.Len(t, added, 1)
	assert.Equal(t, patients[0].Ref, added[0].Patient, "added to the request's patient")
	assert.Len(t, src.Documents(), 2)
	status, _, err = src.RequestStatus(t.Context(), task)
	require.NoError(t, err)
	assert.Equal(t, connector.RequestCompleted, status)

	require.NoError(t, src.SetRequestStatus(task.ID, connector.RequestRejected, "no records"))
	status, detail, err := src.RequestStatus(t.Context(), task)
	require.NoError(t, err)
	assert.Equal(t, connector.RequestRejected, status)
	assert.Equal(t, "no records", detail)

	_, _, err = src.RequestStatus(t.Context(), connector.Ref{System: "php", Type: "Task", ID: "task-9"})
	assert.ErrorIs(t, err, connector.ErrNotFound)
	_, err = src.RequestDocuments(t.Context(), connector.DocumentRequest{Patient: src.PatientRef("nobody"), Key: "k2"})
	assert.ErrorIs(t, err, connector.ErrInvalid)
	_, err = src.RequestDocuments(t.Context(), connector.DocumentRequest{Patient: patients[0].Ref})
	assert.ErrorIs(t, err, connector.ErrInvalid)
}
