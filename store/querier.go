package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// ErrNoRows is what a Row's Scan returns when the query matched nothing,
// whatever the driver.
var ErrNoRows = errors.New("no rows")

// ErrUnique is what a Querier's error wraps when the statement would
// duplicate a value a unique index holds, whatever the driver.
var ErrUnique = errors.New("unique value taken")

// ErrReferenced is what a Querier's error wraps when the statement breaks
// a foreign key: the row is still named by another, or names a missing
// one.
var ErrReferenced = errors.New("row referenced")

// Querier is the part of a database transaction the shared SQL uses: the
// common ground of database/sql and pgx. Queries use $1-style placeholders,
// which both SQLite and PostgreSQL accept. An error for a unique value
// already taken wraps ErrUnique, one for a broken foreign key
// ErrReferenced.
type Querier interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	QueryRow(ctx context.Context, query string, args ...any) Row
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Row is one result row; Scan returns ErrNoRows when there is none.
type Row interface {
	Scan(dest ...any) error
}

// Rows iterates a result set. Close must be called.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// nullTime scans a timestamp that a driver may hand over as time.Time or,
// from SQLite columns without a declared time type, as text.
type nullTime struct{ time.Time }

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
	"2006-01-02 15:04:05",
	time.DateOnly,
}

func (t *nullTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("scan time from %T", v)
	}
	return nil
}

func (t *nullTime) parse(s string) error {
	for _, layout := range timeLayouts {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time from %q", s)
}

// ScanTimestamptz lets pgx hand the value over as it decoded it, without
// the detour through database/sql's Scanner (which costs the busiest
// listings a quarter of their time).
func (t *nullTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		t.Time = time.Time{}
		return nil
	}
	if v.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("scan time from %s", v.InfinityModifier)
	}
	t.Time = v.Time.UTC()
	return nil
}

// timeArg passes a time to the database in UTC, or NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// nullString scans a text column that may be NULL.
type nullString string

func (s *nullString) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s = ""
	case string:
		*s = nullString(v)
	case []byte:
		*s = nullString(v)
	default:
		return fmt.Errorf("scan text from %T", v)
	}
	return nil
}

// ScanText is pgx's way to the value, as ScanTimestamptz is.
func (s *nullString) ScanText(v pgtype.Text) error {
	*s = nullString(v.String)
	return nil
}
