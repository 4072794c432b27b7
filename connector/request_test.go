package connector_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

func TestParseRef(t *testing.T) {
	for _, ref := range []connector.Ref{
		{System: "php", Type: "Task", ID: "42"},
		{System: "php", Type: "Task", ID: "a/b"},
	} {
		got, err := connector.ParseRef(ref.String())
		require.NoError(t, err, ref)
		assert.Equal(t, ref, got)
	}
	for _, s := range []string{"", "php", "php/Task", "php/Task/", "/Task/1"} {
		_, err := connector.ParseRef(s)
		assert.ErrorIs(t, err, connector.ErrInvalid, "%q", s)
	}
}
