package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/practice"
)

// testRead: a read sees what is committed, refuses to write, and does not
// wait for a writer.
func testRead(t *testing.T, s PracticeStore) {
	ctx := context.Background()
	dee := addUser(t, s, "dee@example.org", practice.RoleDietician)
	p := createPatients(t, s, newPatient("p1", "Pat One", ""))[0]
	docs := saveDocuments(t, s, p, "d1")

	entry := func(detail string) practice.AuditEntry {
		return practice.AuditEntry{Action: practice.ActionReadPatient, Outcome: practice.OutcomeSuccess, Detail: detail}
	}
	details := func(tx practice.Tx) []string {
		got, err := tx.Audit(ctx, practice.AuditQuery{})
		require.NoError(t, err)
		var out []string
		for _, e := range got {
			out = append(out, e.Detail)
		}
		return out
	}
	write(t, s, func(tx practice.Tx) error { return tx.AppendAudit(ctx, entry("committed")) })

	for _, c := range []struct {
		name  string
		write func(tx practice.Tx) error
	}{
		{"append audit", func(tx practice.Tx) error { return tx.AppendAudit(ctx, entry("in a read")) }},
		{"create share", func(tx practice.Tx) error {
			_, err := tx.CreateShare(ctx, practice.Share{DocumentID: docs[0], PatientID: p.ID, SharedBy: dee, SharedWith: dee})
			return err
		}},
		{"update patient", func(tx practice.Tx) error {
			p := p
			p.ArchivedAt = at(1, 0)
			return tx.SetPatientPractice(ctx, p)
		}},
		{"enqueue", func(tx practice.Tx) error {
			_, err := tx.Enqueue(ctx, connector.PullOp{Ref: connector.Ref{System: "php", Type: "DocumentReference", ID: "d2"}})
			return err
		}},
	} {
		t.Run("refuses to "+c.name, func(t *testing.T) {
			assert.Error(t, s.Read(ctx, c.write))
		})
	}
	read(t, s, func(tx practice.Tx) error {
		assert.Equal(t, []string{"committed"}, details(tx), "a read wrote nothing")
		got, err := tx.PracticePatient(ctx, p.ID)
		require.NoError(t, err)
		assert.False(t, got.Archived())
		shares, err := tx.Shares(ctx, practice.ShareQuery{})
		require.NoError(t, err)
		assert.Empty(t, shares)
		return nil
	})

	// A read while a writer holds its transaction open.
	held, release, written := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		written <- s.Write(ctx, func(tx practice.Tx) error {
			if err := tx.AppendAudit(ctx, entry("uncommitted")); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-written:
		t.Fatalf("the write ended early: %v", err)
	}
	released := false
	defer func() {
		if !released {
			close(release)
			<-written
		}
	}()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	err := s.Read(rctx, func(tx practice.Tx) error {
		assert.Equal(t, []string{"committed"}, details(tx), "only what is committed")
		return nil
	})
	require.NoError(t, err, "a read does not wait for the writer")
	assert.Less(t, time.Since(start), 2*time.Second)
	close(release)
	released = true
	require.NoError(t, <-written)
	read(t, s, func(tx practice.Tx) error {
		assert.Equal(t, []string{"uncommitted", "committed"}, details(tx))
		return nil
	})

	// A read's error is the caller's.
	boom := errors.New("boom")
	assert.ErrorIs(t, s.Read(ctx, func(practice.Tx) error { return boom }), boom)
}
