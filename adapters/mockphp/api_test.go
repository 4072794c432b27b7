package mockphp_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// TestDocumentInfoContentHash checks each document's ContentHash against
// the bytes the FHIR API serves for it, inline or in a Binary.
func TestDocumentInfoContentHash(t *testing.T) {
	srv, ts := start(t, mockphp.Config{Seed: 7, Patients: 3, DocsPerPatient: 5})
	docs := srv.Documents("")
	require.NotEmpty(t, docs)
	for _, d := range docs {
		r := do(t, http.MethodGet, ts.URL+mockphp.DefaultBasePath+"/DocumentReference/"+d.ID, nil)
		require.Equal(t, http.StatusOK, r.status)
		var ref struct {
			Content []struct {
				Attachment struct {
					Data string `json:"data"`
					URL  string `json:"url"`
				} `json:"attachment"`
			} `json:"content"`
		}
		require.NoError(t, json.Unmarshal(r.body, &ref))
		data := ref.Content[0].Attachment.Data
		if u := ref.Content[0].Attachment.URL; u != "" {
			b := do(t, http.MethodGet, ts.URL+mockphp.DefaultBasePath+"/Binary/"+u[strings.LastIndex(u, "/")+1:], nil, "Accept", "application/fhir+json")
			require.Equal(t, http.StatusOK, b.status)
			data = b.json(t)["data"].(string)
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		require.NoError(t, err)
		sum := sha256.Sum256(raw)
		assert.Equal(t, hex.EncodeToString(sum[:]), d.ContentHash, "document %s", d.ID)
	}
}
