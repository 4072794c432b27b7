package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A malformed file reaches the engine as a permanent error: the sync
// finishes without it, counts the failure and leaves a dead letter. Once
// the file is fixed (a new version), the next run resumes from the saved
// cursors: only that file is listed, pulled and written.
func TestRunSurvivesABadFileAndResumes(t *testing.T) {
	provider := t.TempDir()
	require.NoError(t, os.CopyFS(provider, os.DirFS("testdata")))
	name := filepath.Join(provider, "DocumentReference-f001-glucose.json")
	good, err := os.ReadFile(name)
	require.NoError(t, err)
	bad := strings.Replace(string(good), `"data": "`, `"data": "%%`, 1)
	require.NoError(t, os.WriteFile(name, []byte(bad), 0o600))
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, os.DirFS(provider), dir, quiet))
	got := out.String()
	assert.Contains(t, got, "synced patient example: 2 of 2 listed documents pulled, 0 failed\n")
	assert.Contains(t, got, "synced patient f001: 0 of 1 listed documents pulled, 1 failed\n")
	assert.Contains(t, got, "the sink holds 2 documents")
	assert.Contains(t, got, "dead letters: 1")

	fixed := strings.NewReplacer(`"versionId": "1"`, `"versionId": "2"`,
		`"lastUpdated": "2024-05-04T09:00:00Z"`, `"lastUpdated": "2024-06-01T09:00:00Z"`).Replace(string(good))
	require.NoError(t, os.WriteFile(name, []byte(fixed), 0o600))

	out.Reset()
	require.NoError(t, run(t.Context(), &out, os.DirFS(provider), dir, quiet))
	got = out.String()
	assert.Contains(t, got, "ingested event announce-patients: 2 patients, 0 pulls enqueued (duplicate: true)\nsink writes: 0\n")
	assert.Contains(t, got, "synced patient example: 0 of 0 listed documents pulled")
	assert.Contains(t, got, "synced patient f001: 1 of 1 listed documents pulled, 0 failed\nsink writes: 1\n")
	assert.Contains(t, got, "the sink holds 3 documents")
	assert.Contains(t, got, "DocumentReference/f001-glucose version 2: lab_result")
}
