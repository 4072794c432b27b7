package e2e_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
)

// The three programs are built once per test binary, without -race: they
// are the programs a user runs. binDir is removed when the tests end.
var (
	binDir    string
	buildOnce sync.Once
	buildErr  error

	pgOnce    sync.Once
	pgCluster *pgtest.Cluster
	pgErr     error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hr-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	code := m.Run()
	if pgCluster != nil {
		if err := pgCluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop postgres:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// programs are the packages built, by binary name.
var programs = map[string]string{
	"webhook-server":  "../examples/webhook-server",
	"mock-php":        "../examples/mock-php",
	"fake-carepatron": "../examples/fake-carepatron",
}

// bin returns the path of a built program, building all of them on first
// use.
func bin(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		for n, pkg := range programs {
			// The go command on PATH, with this environment's GOTOOLCHAIN.
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, n), pkg).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// postgresURL returns a fresh database on the shared throwaway cluster
// (or on DATABASE_URL's server), dropped when the test ends. Without
// PostgreSQL the test is skipped, or failed under CI=true.
func postgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgCluster, pgErr = pgtest.Start() })
	switch {
	case errors.Is(pgErr, pgtest.ErrNotInstalled) && os.Getenv("CI") != "true":
		t.Skip(pgErr)
	case pgErr != nil:
		t.Fatal(pgErr)
	}
	return pgCluster.CreateDatabase(t)
}

func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the server, the mock provider and the fake Carepatron as processes")
	}
}
