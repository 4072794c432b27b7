package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// End to end against the mock provider at its strictest (-strict): typed
// reference parameters only, random UUID versionIds, no Bundle links
// (paging by _offset), _count ignored, no CapabilityStatement, If-Match
// required and deletes without tombstones. The fake Carepatron must end
// up holding exactly the latest version of every document after a
// backfill, webhook changes, six updates of one document in a row, and a
// delete, re-creation and second delete of another: every update and
// every delete arrives, and nothing else is deleted.
func TestStrictServer(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	db := postgresURL(t)
	m := startMock(t, 30, 6, 3, "-strict")
	f := startFake(t)
	patients, err := m.patientIDs(ctx)
	require.NoError(t, err)
	secret := newSecret()
	s := newServer(t, m, f, db, secret, patients, "POLL_INTERVAL=0", "CAREPATRON_RATE=0")
	_, err = m.subscribe(ctx, s.hookURL(), secret)
	require.NoError(t, err)

	start := time.Now()
	s.start(t)
	initial := waitMirror(t, m, f, 3*time.Minute)
	require.Len(t, initial.live, 30*6)
	t.Logf("strict backfill: %d documents of %d patients in %s", len(initial.live), len(patients), time.Since(start).Round(time.Millisecond))

	// One document updated six times in a row: each new UUID sorts
	// anywhere against the one before.
	var docs []mockphp.DocumentInfo
	require.NoError(t, call(ctx, "GET", m.admin+"/documents", nil, &docs))
	amended, recreated := docs[0].ID, docs[1].ID
	start = time.Now()
	for range 6 {
		require.NoError(t, call(ctx, "POST", m.admin+"/documents/"+amended+"/update", nil, nil))
	}
	// Deleted, written again under its id, deleted again: the second
	// delete is as real as the first.
	require.NoError(t, call(ctx, "DELETE", m.admin+"/documents/"+recreated, nil, nil))
	waitMirror(t, m, f, time.Minute)
	require.NoError(t, call(ctx, "POST", m.admin+"/documents/"+recreated+"/restore", nil, nil))
	waitMirror(t, m, f, time.Minute)
	require.NoError(t, call(ctx, "DELETE", m.admin+"/documents/"+recreated, nil, nil))
	// And random changes of the rest, each told by webhook.
	for range 10 {
		_, err := m.touch(ctx, 10)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
	}
	ds := waitMirror(t, m, f, 3*time.Minute)
	t.Logf("strict changes: %d documents changed, %d deleted, mirrored %s after the first",
		len(ds.changed), len(ds.deleted), time.Since(start).Round(time.Millisecond))
	assert.True(t, ds.deleted[recreated], "the document deleted twice is deleted")
	assert.Contains(t, ds.live, amended)

	st, err := f.stats(ctx)
	require.NoError(t, err)
	for key, n := range st.Stats.Creates {
		assert.Equal(t, 1, n, "creates with Idempotency-Key %s", key)
	}
	assert.Equal(t, 0, s.p.stop(t, 30*time.Second), "exit code after SIGTERM")
}
