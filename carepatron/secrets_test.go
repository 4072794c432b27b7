package carepatron_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/carepatron"
)

const (
	password = "s3cret-pass"
	apiKey   = "cp-s3cret-key"
)

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	assert.NotContains(t, s, password, "%s holds the password", what)
	assert.NotContains(t, s, apiKey, "%s holds the api key", what)
}

func TestConfigErrorsHoldNoSecret(t *testing.T) {
	tests := []struct{ name, url, key string }{
		{"no host", "https://svc:" + password + "@", apiKey},
		{"bad port", "https://svc:" + password + "@carepatron.example:api", apiKey},
		{"no scheme", "svc:" + password + "@carepatron.example", apiKey},
		{"control character", "https://svc:" + password + "@carepatron.example/\x7f", apiKey},
		{"key with a newline", "https://svc:" + password + "@carepatron.example", apiKey + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := carepatron.New(tt.url, tt.key)
			require.Error(t, err)
			assertNoSecret(t, "the error", err.Error())
			assertNoSecret(t, "the error", fmt.Sprintf("%+v %#v", err, err))
		})
	}
}

// roundTripFunc is a caller's transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportErrorsAndLogsHoldNoSecret(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://svc:" + password + "@" + ln.Addr().String()
	require.NoError(t, ln.Close())

	tests := []struct {
		name string
		opts []carepatron.Option
	}{
		{"connection refused", nil},
		{"a transport quoting the request's url", []carepatron.Option{carepatron.WithTransport(
			roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("proxy refused %s", r.URL)
			}))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := append([]carepatron.Option{
				carepatron.WithRetries(1, time.Millisecond, time.Millisecond),
				carepatron.WithRateLimit(0, 1),
				carepatron.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
			}, tt.opts...)
			c, err := carepatron.New(closed, apiKey, opts...)
			require.NoError(t, err)
			err = c.Ping(context.Background())
			require.Error(t, err)
			assertNoSecret(t, "the error", err.Error())
			assert.Contains(t, logs.String(), "carepatron retry", "the retry was logged")
			assertNoSecret(t, "the log", logs.String())
		})
	}
}

// TestBaseURLUserinfoIsBasicAuth checks that a user and password taken out
// of the base URL still reach the server, as basic authentication.
func TestBaseURLUserinfoIsBasicAuth(t *testing.T) {
	var user, pass, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ = r.BasicAuth()
		path = r.URL.Path
		_, _ = w.Write([]byte("pong"))
	}))
	defer srv.Close()
	c, err := carepatron.New(strings.Replace(srv.URL, "://", "://svc:"+password+"@", 1)+"/api", apiKey)
	require.NoError(t, err)
	require.NoError(t, c.Ping(context.Background()))
	assert.Equal(t, "svc", user)
	assert.Equal(t, password, pass)
	assert.Equal(t, "/api/ping", path)
}
