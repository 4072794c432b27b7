package postgres_test

import (
	"os"
	"testing"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(runChild())
	}
	pgtest.Main(m)
}
