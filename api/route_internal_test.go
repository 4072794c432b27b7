package api

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRouterAgreesWithGorillaMux: the validator's router finds what
// kin-openapi's gorillamux router finds, for every path of the spec with
// its parameters filled in and with the ways a path goes wrong (a
// trailing slash, an empty or extra segment, a literal for a parameter),
// and every method: the same operation and parameters, or the same kind
// of refusal.
func TestRouterAgreesWithGorillaMux(t *testing.T) {
	doc, err := embeddedSpec()
	require.NoError(t, err)
	ours, err := newRouter(doc)
	require.NoError(t, err)
	theirs, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)

	param := regexp.MustCompile(`\{[^}]+\}`)
	probes := map[string]bool{"/": true, "": true, "/nothing": true, "//users": true}
	for _, path := range doc.Paths.InMatchingOrder() {
		// Escaped, as the router reads a path: an encoded slash and an
		// encoded space.
		for _, fill := range []string{"7", "me", "a%2Fb", "x%20y"} {
			p := param.ReplaceAllString(path, fill)
			for _, q := range []string{p, p + "/", p + "/extra", "/x" + p, p + "//"} {
				probes[q] = true
			}
		}
		probes[param.ReplaceAllString(path, "")] = true
	}
	found := 0
	for path := range probes {
		for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} {
			u := &url.URL{RawPath: path}
			u.Path, err = url.PathUnescape(path)
			require.NoError(t, err)
			route, params, err := ours.find(method, u.EscapedPath())
			want, wantParams, wantErr := theirs.FindRoute(&http.Request{Method: method, URL: u})
			if wantErr != nil {
				require.Error(t, err, "%s %q: gorillamux refuses it (%v)", method, path, wantErr)
				assert.Equal(t, errors.Is(wantErr, routers.ErrMethodNotAllowed), errors.Is(err, routers.ErrMethodNotAllowed),
					"%s %q: %v against %v", method, path, err, wantErr)
				continue
			}
			require.NoError(t, err, "%s %q", method, path)
			assert.Equal(t, want.Operation.OperationID, route.Operation.OperationID, "%s %q", method, path)
			assert.Equal(t, want.Path, route.Path)
			if len(wantParams) == 0 {
				assert.Empty(t, params, "%s %q", method, path)
			} else {
				assert.Equal(t, wantParams, params, "%s %q", method, path)
			}
			found++
		}
	}
	assert.Greater(t, found, len(doc.Paths.Map()), "most paths were found")
}
