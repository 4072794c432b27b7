package connector

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

type outcomes []Outcome

func (o *outcomes) Observe(out Outcome) { *o = append(*o, out) }

type finalJob struct{ final bool }

func (finalJob) ID() string                                           { return "j" }
func (finalJob) Attempt() int                                         { return 1 }
func (j finalJob) Final() bool                                        { return j.final }
func (finalJob) Complete(context.Context, []Op, func(Tx) error) error { return nil }

// An op holding a slice (a request for some document types) is observed
// like any other, not a panic.
func TestObserveOpsWithSlices(t *testing.T) {
	var got outcomes
	e := &Engine{cfg: Config{Observer: &got}}
	failing := RequestOp{Key: "k1", Types: []DocumentType{DocumentLabResult}}
	ok := RequestOp{Key: "k2", Types: []DocumentType{DocumentOther}}
	e.observe(finalJob{final: true}, []Op{failing, ok}, []failure{{failing, errors.New("boom")}})
	if assert.Len(t, got, 2) {
		assert.Equal(t, "transient", got[0].Class)
		assert.True(t, got[0].Final)
		assert.Empty(t, got[1].Class)
		assert.False(t, got[1].Final)
	}
}
