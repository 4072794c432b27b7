package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// lockedBuffer is stdout, read while run writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestUsageSaysHowTheKeyIsSetAndShared(t *testing.T) {
	var stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &stderr))
	for _, want := range []string{"-api-key", keyEnv, carepatrontest.DefaultAPIKey, "webhook server", "CAREPATRON_BASE_URL"} {
		assert.Contains(t, stderr.String(), want)
	}
}

// TestKeyFromTheEnvironment runs the fake with the key the webhook server
// would read, and checks that the fake accepts it, refuses the default,
// and prints the settings without the key.
func TestKeyFromTheEnvironment(t *testing.T) {
	const key = "a-local-key"
	t.Setenv(keyEnv, key)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, &stdout, &bytes.Buffer{}) }()

	var origin string
	require.Eventually(t, func() bool {
		for line := range strings.Lines(stdout.String()) {
			if rest, ok := strings.CutPrefix(line, "  webhook server: "); ok {
				origin = strings.TrimPrefix(strings.Fields(rest)[0], "CAREPATRON_BASE_URL=")
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond)
	assert.Contains(t, stdout.String(), keyEnv+"=$"+keyEnv)
	assert.NotContains(t, stdout.String(), key)

	client := func(k string) *carepatron.Client {
		c, err := carepatron.New(origin, k, carepatron.WithRetries(0, time.Millisecond, time.Millisecond))
		require.NoError(t, err)
		return c
	}
	assert.NoError(t, client(key).SecurePing(ctx, carepatrontest.DefaultProviderID))
	err := client(carepatrontest.DefaultAPIKey).SecurePing(ctx, carepatrontest.DefaultProviderID)
	assert.Equal(t, 401, carepatron.StatusCode(err), "%v", err)
	cancel()
	require.NoError(t, <-done)
}
