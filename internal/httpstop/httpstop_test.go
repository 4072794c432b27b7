package httpstop_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/httpstop"
)

// TestUnusedConnectionDoesNotHoldTheStop opens a connection that sends no
// request, which plain Shutdown waits five seconds for.
func TestUnusedConnectionDoesNotHoldTheStop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer conn.Close()

	start := time.Now()
	require.NoError(t, httpstop.Stop(srv, 100*time.Millisecond))
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.ErrorIs(t, <-served, http.ErrServerClosed)

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err = conn.Read(make([]byte, 1))
	assert.Error(t, err, "the unused connection is closed")
}

func ExampleStop() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	_ = httpstop.Stop(srv, time.Second)
	// Output:
}
