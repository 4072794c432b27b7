package fhir_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/connector"
)

func TestRouted(t *testing.T) {
	src := newSource(t, newFHIRServer(t), 10)
	for typ, want := range map[string]bool{
		"DocumentReference": false, "DiagnosticReport": false, "Patient": false,
		"Binary": true, "Observation": true, "Encounter": true, "Media": true,
	} {
		assert.Equal(t, want, src.Routed(typ), typ)
	}
}

// A change of a Binary or an Observation reaches the documents made of it,
// whether or not the server supports the location search parameter.
func TestRoute(t *testing.T) {
	for _, location := range []bool{true, false} {
		s := newFHIRServer(t)
		s.location = location
		seed(s)
		// An attachment by absolute URL, and a report presenting a Binary
		// no DocumentReference attaches, owned by its securityContext.
		s.docRef("d6", "p1", "11506-3", "b6", []byte("absolute"))
		s.mu.Lock()
		s.resources["DocumentReference/d6"]["content"] = []any{map[string]any{"attachment": map[string]any{"contentType": "text/plain", "url": s.base() + "/Binary/b6"}}}
		s.binaries["b7"] = []byte("scanned report")
		s.securityContext = map[string]string{"b7": "DiagnosticReport/r3"}
		s.mu.Unlock()
		s.report("r3", "p1", "Binary/b7")
		src := newSource(t, s, 10)
		for _, tc := range []struct {
			ref  string
			want []string
		}{
			{"Binary/b1", []string{"DocumentReference/d1"}},
			{"Binary/b3", []string{"DocumentReference/d3"}}, // r2 presents it too, and is delivered as d3
			{"Binary/b6", []string{"DocumentReference/d6"}},
			{"Binary/b7", []string{"DiagnosticReport/r3"}},
			{"Binary/unknown", nil},
			{"Observation/o1", []string{"DiagnosticReport/r1"}},
			{"Observation/o3", nil}, // r2 is delivered as d3
			{"Observation/unknown", nil},
			{"Encounter/e1", nil},
		} {
			name := map[bool]string{true: "location supported", false: "location ignored"}[location] + "/" + tc.ref
			t.Run(name, func(t *testing.T) {
				typ, id, _ := strings.Cut(tc.ref, "/")
				got, err := src.Route(t.Context(), connector.Ref{System: "php", Type: typ, ID: id})
				require.NoError(t, err)
				var names []string
				for _, r := range got {
					assert.Equal(t, "php", r.System)
					names = append(names, r.Type+"/"+r.ID)
				}
				assert.ElementsMatch(t, tc.want, names)
			})
		}
		t.Run("both forms of the binary's url are searched", func(t *testing.T) {
			var found bool
			for _, r := range s.requestLog() {
				found = found || strings.Contains(r, "location="+url.QueryEscape(s.base()+"/Binary/b1,Binary/b1"))
			}
			assert.True(t, found, "location=<base>/Binary/b1,Binary/b1")
		})
	}
}

func TestRouteErrors(t *testing.T) {
	down := answer{500, "application/fhir+json", `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`}
	src := goneSource(t, &down, &down, &down)
	for _, ref := range []connector.Ref{{Type: "Observation", ID: "o1"}, {Type: "Binary", ID: "b1"}} {
		_, err := src.Route(t.Context(), ref)
		require.Error(t, err, ref.Type)
		assert.False(t, connector.IsPermanent(err), "a server error is retried")
		assert.NotErrorIs(t, err, connector.ErrNotFound)
	}
}
