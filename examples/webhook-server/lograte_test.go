package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

// The first of a repeated entry passes, then one per interval carrying
// the count dropped meanwhile; another message, level or component is
// counted apart.
func TestRateLimitedLogs(t *testing.T) {
	var buf bytes.Buffer
	clk := &fakeClock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	log := rateLimited(slog.New(slog.NewJSONHandler(&buf, nil)), 10*time.Second, clk.Now)
	river := log.With("component", "river")

	// PostgreSQL down: the job engine repeats itself ~54 times a second.
	for range 54 * 5 {
		river.Error("producer: error fetching jobs", "err", "connection refused")
		clk.Advance(time.Second / 54)
	}
	river.Warn("producer: error fetching jobs") // another level
	log.Error("producer: error fetching jobs")  // another component
	river.Error("elector: failed")              // another message
	clk.Advance(6 * time.Second)                // 11s after the first
	river.Error("producer: error fetching jobs", "err", "connection refused")
	river.Error("producer: error fetching jobs", "err", "connection refused")

	lines := decodeLines(t, buf.String())
	require.Len(t, lines, 5, buf.String())
	assert.Equal(t, "river", lines[0]["component"])
	assert.NotContains(t, lines[0], "suppressed")
	assert.Equal(t, "WARN", lines[1]["level"])
	assert.NotContains(t, lines[2], "component")
	assert.Equal(t, "elector: failed", lines[3]["msg"])
	assert.Equal(t, "producer: error fetching jobs", lines[4]["msg"])
	assert.EqualValues(t, 54*5-1, lines[4]["suppressed"], "the dropped ones are counted")
	assert.Equal(t, "connection refused", lines[4]["err"])
}

// Off when the interval is zero.
func TestRateLimitedLogsOff(t *testing.T) {
	var buf bytes.Buffer
	log := rateLimited(slog.New(slog.NewJSONHandler(&buf, nil)), 0, nil)
	for range 3 {
		log.Error("again")
	}
	assert.Len(t, decodeLines(t, buf.String()), 3)
}
