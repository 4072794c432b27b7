package postgres

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/internal/pgtest"
	"github.com/healthcare-records/healthcare-records/store/storetest"
)

// describeSchema lists what the schema holds, each on a line, in order.
const describeSchema = `SELECT coalesce(string_agg(x, E'\n' ORDER BY x), '') FROM (
	SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' ||
		coalesce(column_default, '') || ' ' || is_generated || ' ' || coalesce(generation_expression, '')
	FROM information_schema.columns WHERE table_schema = current_schema()
	UNION ALL
	SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = current_schema()
	UNION ALL
	SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
	FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
	UNION ALL
	SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
	UNION ALL
	SELECT 'function ' || oid::regprocedure FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
) s(x)`

func TestPracticeMigration(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", pgtest.Database(t)) // the driver postgres.go's stdlib import registers
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	sub, err := fs.Sub(migrations, "migrations")
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	require.NoError(t, err)
	storetest.RunPracticeMigration(t, storetest.Migrations{DB: db, Provider: p, Schema: func(ctx context.Context) (string, error) {
		var s string
		err := db.QueryRowContext(ctx, describeSchema).Scan(&s)
		return s, err
	}})
}
