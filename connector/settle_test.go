package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeJob struct{ final bool }

func (fakeJob) ID() string                                           { return "1" }
func (fakeJob) Attempt() int                                         { return 1 }
func (j fakeJob) Final() bool                                        { return j.final }
func (fakeJob) Complete(context.Context, []Op, func(Tx) error) error { return nil }

type recordingStore struct{ updates int }

func (s *recordingStore) Update(context.Context, func(Tx) error) error { s.updates++; return nil }

func TestSettle(t *testing.T) {
	busy := fmt.Errorf("doc: %w", ErrBusy)
	perm := fmt.Errorf("%w: refused", ErrPermanent)
	transient := errors.New("timeout")
	op := PullOp{Ref: Ref{System: "php", Type: "DocumentReference", ID: "1"}}
	for _, tc := range []struct {
		name             string
		errs             []error
		final            bool
		wantBusy, wantPe bool
		wantRecorded     int
	}{
		{"all busy: snooze", []error{busy, busy}, false, true, false, 0},
		{"transient: retry", []error{transient, busy}, false, false, false, 0},
		{"permanent alone: dead at once", []error{perm}, false, false, true, 1},
		{"busy and permanent: retry so the busy ops run", []error{busy, perm}, false, false, false, 0},
		{"last attempt: record all but the busy", []error{transient, perm, busy}, true, false, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &recordingStore{}
			e := &Engine{cfg: Config{Store: st, Now: time.Now}, log: discard(), hub: new(Hub)}
			var failed []failure
			for _, err := range tc.errs {
				failed = append(failed, failure{op, err})
			}
			got := e.settle(context.Background(), fakeJob{final: tc.final}, failed)
			require.Error(t, got)
			assert.Equal(t, tc.wantBusy, errors.Is(got, ErrBusy), "busy: %v", got)
			assert.Equal(t, tc.wantPe, IsPermanent(got), "permanent: %v", got)
			assert.Equal(t, tc.wantRecorded, st.updates, "failures recorded")
		})
	}
	assert.NoError(t, (&Engine{}).settle(context.Background(), fakeJob{}, nil))
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
