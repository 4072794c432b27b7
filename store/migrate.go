package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate applies River's migrations through driver, then the store's own
// (the goose migrations in fsys, in the given dialect) through db, which
// must reach the same database.
func Migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], db *sql.DB, dialect goose.Dialect, fsys fs.FS) error {
	rm, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river tables: %w", err)
	}
	// Out of order: migrations of changes made side by side land in
	// either order, and a database that applied a later one still takes
	// an earlier one it lacks.
	p, err := goose.NewProvider(dialect, db, fsys, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrator: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
