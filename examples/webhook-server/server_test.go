package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every path the server does not serve answers a problem, not net/http's
// text/plain.
func TestUnknownPathsAreProblems(t *testing.T) {
	reg := prometheus.NewRegistry()
	ready := newReadiness(reg, slog.New(slog.DiscardHandler), nil)
	ts := httptest.NewServer(newHandler(ready, nil, reg, nil))
	defer ts.Close()
	for _, path := range []string{"/", "/nope", "/webhooks/", "/webhooks/php", "/admin/"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s: %s", path, body)
	}
}
