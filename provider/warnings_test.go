package provider_test

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

func TestInsecureURLWarning(t *testing.T) {
	for _, tc := range []struct {
		url  string
		warn bool
	}{
		{"https://ehr.example.org/fhir", false},
		{"http://ehr.example.org/fhir", true},
		{"HTTP://ehr.example.org/fhir", true},
		{"http://10.0.0.5:8080/fhir", true},
		{"http://localhost:8080/fhir", false},
		{"http://127.0.0.1:8080/fhir", false},
		{"http://127.8.9.1/fhir", false},
		{"http://[::1]:8080/fhir", false},
		{"http://localhost.example.org/fhir", true},
		{"%zz", false},
	} {
		got := provider.InsecureURLWarning(tc.url)
		assert.Equal(t, tc.warn, got != "", "%s: %q", tc.url, got)
	}
	got := provider.InsecureURLWarning("http://u:secret@ehr.example.org/fhir")
	assert.Contains(t, got, "ehr.example.org")
	assert.NotContains(t, got, "secret")
}

func TestKeyFileWarning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes do not say who can read a file on windows")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		mode os.FileMode
		warn bool
	}{
		{0o600, false},
		{0o400, false},
		{0o640, true},
		{0o604, true},
		{0o620, true},
		{0o644, true},
	} {
		path := filepath.Join(dir, tc.mode.String()+".pem")
		require.NoError(t, os.WriteFile(path, []byte("key"), 0o600))
		require.NoError(t, os.Chmod(path, tc.mode))
		got, err := provider.KeyFileWarning(path)
		require.NoError(t, err)
		assert.Equal(t, tc.warn, got != "", "%v: %q", tc.mode, got)
	}
	_, err := provider.KeyFileWarning(filepath.Join(dir, "missing.pem"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
