package console

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRetryAction(t *testing.T) {
	tests := []struct{ api, path, label string }{
		{"/patients/12/sync", "/patients/12/sync", "Sync the patient again"},
		{"/patients/7/write-back", "/patients/7/retry", "Retry the write-back"},
		{"/jobs/3/retry", "", ""},
		{"/patients/x/sync", "", ""},
		{"/patients/12/sync/../../users", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		path, label := retryAction(tt.api)
		assert.Equal(t, tt.path, path, tt.api)
		assert.Equal(t, tt.label, label, tt.api)
	}
}

func TestSupportLink(t *testing.T) {
	tests := map[string]string{
		"":                                "",
		"support@practice.example":        "mailto:support@practice.example",
		"mailto:support@practice.example": "mailto:support@practice.example",
		"https://practice.example/help":   "https://practice.example/help",
		"call the front desk":             "",
	}
	for in, want := range tests {
		assert.Equal(t, want, supportLink(in), in)
	}
}
