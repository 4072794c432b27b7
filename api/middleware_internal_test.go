package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecoverPanics(t *testing.T) {
	s := testServer(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/before", func(http.ResponseWriter, *http.Request) { panic("a bug") })
	mux.HandleFunc("/after", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"items": [`))
		w.(http.Flusher).Flush()
		panic("a bug half way")
	})
	srv := httptest.NewServer(s.requestID(s.recoverPanics(mux)))
	defer srv.Close()

	res, err := http.Get(srv.URL + "/before")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var p Problem
	require.NoError(t, json.NewDecoder(res.Body).Decode(&p))
	assert.Equal(t, res.Header.Get("X-Request-ID"), p.RequestId)
	assert.NotContains(t, p.Detail, "a bug")

	// An answer under way is cut, not finished with a problem.
	res, err = http.Get(srv.URL + "/after")
	require.NoError(t, err)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	_, err = io.ReadAll(res.Body)
	assert.Error(t, err, "the client sees the answer cut short")
}
