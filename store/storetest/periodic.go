package storetest

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/connector/connectortest"
	"github.com/healthcare-records/healthcare-records/store"
)

// SharedOpener opens another handle on one database: each call is a
// replica of the service, a process of its own with its own job client.
type SharedOpener func(t *testing.T, cfg store.Config) Store

// RunPeriodic checks that a periodic task runs about once per interval in
// the cluster of replicas handles opened by open on one database, not once
// per replica, and that it runs at all. It takes a few seconds.
func RunPeriodic(t *testing.T, replicas int, open SharedOpener) {
	const every, window = time.Second, 3300 * time.Millisecond
	ctx := context.Background()
	var runs atomic.Int64
	var stores []Store
	for range replicas {
		cfg := FastConfig()
		cfg.Retention = -1
		cfg.Periodic = []store.Periodic{
			{Name: "tick", Every: every, Run: func(context.Context, *connector.Engine) error {
				runs.Add(1)
				return nil
			}},
			{Name: "off", Every: 0, Run: func(context.Context, *connector.Engine) error {
				t.Error("a task without an interval ran")
				return nil
			}},
		}
		s := open(t, cfg)
		e, err := connector.New(connector.Config{
			Store:   s,
			Sources: map[string]connector.Source{"php": connectortest.NewSource(connectortest.SourceConfig{Name: "php"})},
			Sinks:   map[string]connector.Sink{"cp": connectortest.NewSink(connectortest.SinkConfig{})},
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		require.NoError(t, err)
		require.NoError(t, s.Start(ctx, e))
		stores = append(stores, s)
	}
	stopped := false
	stopAll := func() {
		if stopped {
			return
		}
		stopped = true
		for _, s := range stores {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			assert.NoError(t, s.Stop(sctx))
			cancel()
			assert.NoError(t, s.Close())
		}
	}
	t.Cleanup(stopAll)

	// The elected leader runs the task at once, then every interval.
	deadline := time.Now().Add(15 * time.Second)
	for runs.Load() == 0 {
		require.True(t, time.Now().Before(deadline), "the task never ran")
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(window)
	stopAll()
	// 1 + 3 runs since the first; a scheduler per replica would have run
	// the task replicas times as often (about 10 here). One run more is
	// not a second scheduler: on a loaded machine the run of the period
	// before the first counted one may start late, just before it.
	n := runs.Load()
	t.Logf("%d runs of a task every %s, %s after its first, over %d replicas", n, every, window, replicas)
	assert.GreaterOrEqual(t, n, int64(3), "the task runs on its schedule")
	assert.LessOrEqual(t, n, int64(6), "the task runs once per interval in the cluster, not once per replica")
}
