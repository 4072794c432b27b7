package sse_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/sse"
)

func TestStartAndHeartbeat(t *testing.T) {
	rec := httptest.NewRecorder()
	rc, ok := sse.Start(rec)
	require.True(t, ok)
	require.NoError(t, sse.Heartbeat(rec, rc))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "no", rec.Header().Get("X-Accel-Buffering"))
	assert.Equal(t, ": heartbeat\n\n", rec.Body.String())
	assert.True(t, rec.Flushed)
}
