package carepatron

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/connector"
)

func TestClassify(t *testing.T) {
	status := func(code int) error {
		return fmt.Errorf("wrapped: %w", &carepatron.Error{Op: "op", StatusCode: code})
	}
	throttled := func(code int, d time.Duration) error {
		return &carepatron.Error{Op: "op", StatusCode: code, RetryAfter: d}
	}
	tests := []struct {
		name  string
		err   error
		class error         // nil: none
		delay time.Duration // 0: no RetryAfter
	}{
		{"400 malformed", status(400), connector.ErrPermanent, 0},
		{"401 refused key", status(401), connector.ErrPermanent, 0},
		{"403 forbidden", status(403), connector.ErrPermanent, 0},
		{"404", status(404), connector.ErrNotFound, 0},
		{"405 unexpected 4xx", status(405), connector.ErrPermanent, 0},
		{"408 request timeout", status(408), nil, 0},
		{"409", status(409), connector.ErrConflict, 0},
		{"410", status(410), connector.ErrNotFound, 0},
		{"413 too large", status(413), connector.ErrPermanent, 0},
		{"422 validation", status(422), connector.ErrPermanent, 0},
		{"429 with Retry-After", throttled(429, time.Minute), nil, time.Minute},
		{"429 without Retry-After", throttled(429, 0), nil, minRetryAfter},
		{"503 with Retry-After", throttled(503, 2*time.Second), nil, 2 * time.Second},
		{"500", status(500), nil, 0},
		{"not reached", errors.New("dial tcp: connection refused"), nil, 0},
		{"canceled", fmt.Errorf("carepatron ping: %w", context.Canceled), nil, 0},
	}
	classes := []error{connector.ErrPermanent, connector.ErrNotFound, connector.ErrConflict, connector.ErrInvalid}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.err)
			assert.ErrorIs(t, got, tt.err, "the client's error stays in the chain")
			for _, c := range classes {
				assert.Equal(t, c == tt.class, errors.Is(got, c), "is %v", c)
			}
			d, ok := connector.RetryDelay(got)
			assert.Equal(t, tt.delay > 0, ok)
			assert.Equal(t, tt.delay, d)
		})
	}
	assert.NoError(t, classify(nil))
}

func TestDuplicateOf(t *testing.T) {
	dup := &carepatron.Error{StatusCode: 409, Problem: carepatron.Problem{Code: "duplicate_external_reference", ExistingId: "ct_1"}}
	id, ok := duplicateOf(fmt.Errorf("create: %w", dup))
	assert.True(t, ok)
	assert.Equal(t, "ct_1", id)
	_, ok = duplicateOf(&carepatron.Error{StatusCode: 409, Problem: carepatron.Problem{Code: "idempotency_key_reused"}})
	assert.False(t, ok)
	_, ok = duplicateOf(classify(dup))
	assert.True(t, ok, "found through the kernel's class too")
}
