package carepatron_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStandsAlone checks that no file of the client or of its fake imports
// the connector kernel: the client is usable without the sync engine, and
// what a status means to a sync is decided in adapters/carepatron.
func TestStandsAlone(t *testing.T) {
	const kernel = "github.com/healthcare-records/healthcare-records/connector"
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			assert.False(t, p == kernel || strings.HasPrefix(p, kernel+"/"), "%s imports %s", path, p)
		}
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 10, "the walk found the package's files")
}
