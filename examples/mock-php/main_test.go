package main

import (
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

func TestBehaviourFlags(t *testing.T) {
	tests := []struct {
		args []string
		want mockphp.ServerBehaviour
	}{
		{nil, mockphp.ServerBehaviour{}},
		{[]string{"-strict"}, mockphp.StrictAll()},
		{[]string{"-strict", "-typed-references=false"}, mockphp.StrictAll()},
		{[]string{"-typed-references"}, mockphp.ServerBehaviour{TypedReferences: true}},
		{[]string{"-uuid-versions"}, mockphp.ServerBehaviour{UUIDVersions: true}},
		{[]string{"-offset-paging"}, mockphp.ServerBehaviour{OffsetPaging: true}},
		{[]string{"-ignore-count"}, mockphp.ServerBehaviour{IgnoreCount: true}},
		{[]string{"-no-capability-statement"}, mockphp.ServerBehaviour{NoCapabilityStatement: true}},
		{[]string{"-require-if-match"}, mockphp.ServerBehaviour{RequireIfMatch: true}},
		{[]string{"-no-tombstones"}, mockphp.ServerBehaviour{NoTombstones: true}},
		{[]string{"-offset-paging", "-ignore-count"}, mockphp.ServerBehaviour{OffsetPaging: true, IgnoreCount: true}},
	}
	for _, tc := range tests {
		t.Run(name(tc.args), func(t *testing.T) {
			fs := flag.NewFlagSet("mock-php", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			behaviour := behaviourFlags(fs)
			require.NoError(t, fs.Parse(tc.args))
			assert.Equal(t, tc.want, behaviour())
		})
	}
}

func name(args []string) string {
	if len(args) == 0 {
		return "none"
	}
	return strings.Join(args, " ")
}
