package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/practice"
)

func TestDownload(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	content := practice.Content{
		Document: practice.Document{ID: 9, ContentType: "application/pdf", ContentHash: hash, Size: int64(len(data)),
			UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		FileName: "Lab results – März.pdf",
		Body:     bytes.NewReader(data),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = download{r: r, c: content}.VisitGetDocumentContentResponse(w)
	}))
	defer srv.Close()
	get := func(t *testing.T, header map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, b
	}
	etag := `"` + hash + `"`

	t.Run("whole", func(t *testing.T) {
		res, b := get(t, nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, data, b)
		assert.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
		assert.Equal(t, `attachment; filename*=utf-8''Lab%20results%20%E2%80%93%20M%C3%A4rz.pdf`, res.Header.Get("Content-Disposition"))
		assert.Equal(t, etag, res.Header.Get("ETag"))
		assert.Equal(t, "bytes", res.Header.Get("Accept-Ranges"))
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "private, no-cache", res.Header.Get("Cache-Control"))
		assert.Equal(t, "Fri, 02 Jan 2026 03:04:05 GMT", res.Header.Get("Last-Modified"))
	})
	t.Run("range", func(t *testing.T) {
		res, b := get(t, map[string]string{"Range": "bytes=5-9"})
		assert.Equal(t, http.StatusPartialContent, res.StatusCode)
		assert.Equal(t, "56789", string(b))
		assert.Equal(t, "bytes 5-9/20", res.Header.Get("Content-Range"))
		assert.Equal(t, etag, res.Header.Get("ETag"))
	})
	t.Run("suffix range", func(t *testing.T) {
		res, b := get(t, map[string]string{"Range": "bytes=-3"})
		assert.Equal(t, http.StatusPartialContent, res.StatusCode)
		assert.Equal(t, "hij", string(b))
	})
	t.Run("range if the content is unchanged", func(t *testing.T) {
		res, b := get(t, map[string]string{"Range": "bytes=0-1", "If-Range": etag})
		assert.Equal(t, http.StatusPartialContent, res.StatusCode)
		assert.Equal(t, "01", string(b))
		res, b = get(t, map[string]string{"Range": "bytes=0-1", "If-Range": `"another"`})
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, data, b)
	})
	t.Run("not modified", func(t *testing.T) {
		res, b := get(t, map[string]string{"If-None-Match": etag})
		assert.Equal(t, http.StatusNotModified, res.StatusCode)
		assert.Empty(t, b)
		res, _ = get(t, map[string]string{"If-None-Match": `"another"`})
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
	t.Run("range outside the content", func(t *testing.T) {
		res, b := get(t, map[string]string{"Range": "bytes=100-200"})
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, res.StatusCode)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		assert.Equal(t, "bytes */20", res.Header.Get("Content-Range"))
		assert.Empty(t, res.Header.Get("Content-Disposition"))
		var p Problem
		require.NoError(t, json.Unmarshal(b, &p), "%s", b)
		assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, p.Status)
		assert.NotEmpty(t, p.Detail)
	})
	t.Run("failed precondition", func(t *testing.T) {
		res, b := get(t, map[string]string{"If-Match": `"another"`})
		assert.Equal(t, http.StatusPreconditionFailed, res.StatusCode)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), "%s", b)
	})
}

func TestContentDisposition(t *testing.T) {
	for name, want := range map[string]string{
		"":                 "attachment",
		"report.pdf":       "attachment; filename=report.pdf",
		"my report.pdf":    `attachment; filename="my report.pdf"`,
		`a"b.pdf`:          `attachment; filename="a\"b.pdf"`,
		"résumé.txt":       `attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt`,
		"line\nbreak.txt":  `attachment; filename*=utf-8''line%0Abreak.txt`,
		"tab\tseparated":   `attachment; filename="tab	separated"`,
		"semi;colon.pdf":   `attachment; filename="semi;colon.pdf"`,
		"slash/inside.pdf": `attachment; filename="slash/inside.pdf"`,
	} {
		assert.Equal(t, want, contentDisposition(name), "%q", name)
	}
}
