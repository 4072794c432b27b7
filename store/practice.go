package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/healthcare-records/healthcare-records/practice"
)

var _ practice.Store = (*Store[any])(nil)

var _ practice.Tx = (*tx)(nil)

// Write implements practice.Store: one read-write transaction, whose
// enqueued ops commit with it.
func (s *Store[TTx]) Write(ctx context.Context, fn func(practice.Tx) error) error {
	return s.inTx(ctx, func(t *tx) error { return fn(t) })
}

// Read implements practice.Store: a read-only transaction, which on a
// Backend that is a Reader (both of this module's are) never waits for a
// writer, and in which a write fails. On another Backend it is an
// ordinary transaction, rolled back when fn returns.
func (s *Store[TTx]) Read(ctx context.Context, fn func(practice.Tx) error) error {
	return s.inReadTx(ctx, func(t *tx) error { return fn(t) })
}

// errReadDone rolls back the transaction a Backend that is not a Reader
// lends to a read.
var errReadDone = errors.New("read done")

func (s *Store[TTx]) inReadTx(ctx context.Context, fn func(*tx) error) error {
	readTx := func(q Querier) *tx {
		t := s.newTx(q)
		t.readOnly = true
		return t
	}
	if r, ok := s.backend.(Reader); ok {
		return r.InReadTx(ctx, func(q Querier) error { return fn(readTx(q)) })
	}
	err := s.backend.InTx(ctx, func(_ TTx, q Querier) error {
		if err := fn(readTx(q)); err != nil {
			return err
		}
		return errReadDone
	})
	if errors.Is(err, errReadDone) {
		return nil
	}
	return err
}

// SQL runs fn in one read-write transaction on the store's database, for
// SQL of the application's own beside the store's (maintenance, tests),
// with $1-style placeholders as the store's own.
func (s *Store[TTx]) SQL(ctx context.Context, fn func(Querier) error) error {
	return s.backend.InTx(ctx, func(_ TTx, q Querier) error { return fn(q) })
}

// params collects the arguments of a query built in pieces.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// idFilter keeps rows whose column holds id, if id is not zero.
type idFilter struct {
	column string
	id     int64
}

// matchIDs appends to conds the conditions of the filters that filter.
func (p *params) matchIDs(conds []string, filters ...idFilter) []string {
	for _, f := range filters {
		if f.id != 0 {
			conds = append(conds, f.column+" = "+p.add(f.id))
		}
	}
	return conds
}

// in returns "column IN (…)" over ids; for no ids, a condition that
// holds for no row.
func (p *params) in(column string, ids []int64) string {
	if len(ids) == 0 {
		return "1 = 0"
	}
	marks := make([]string, len(ids))
	for i, id := range ids {
		marks[i] = p.add(id)
	}
	return column + " IN (" + strings.Join(marks, ", ") + ")"
}

// contains returns a condition that holds when the text of expr holds
// text, whatever the case of ASCII letters (SQLite's lower folds only
// those), as a substring.
func (p *params) contains(expr, text string) string {
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(text))
	return "lower(" + expr + ") LIKE " + p.add("%"+escaped+"%") + ` ESCAPE '\'`
}

// where joins conditions into a WHERE clause; empty for none.
func where(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// orderBy is the ORDER BY clause of sort (def if orders has no such
// sort), from orders' pair: the first, or the second when reversed.
func orderBy[S comparable](orders map[S][2]string, sort, def S, reversed bool) string {
	pair, ok := orders[sort]
	if !ok {
		pair = orders[def]
	}
	if reversed {
		return pair[1]
	}
	return pair[0]
}

// listLimit is the number of rows a listing returns for a requested
// limit: DefaultSearchLimit for none, at most MaxSearchLimit.
func listLimit(limit int) int {
	if limit <= 0 {
		return DefaultSearchLimit
	}
	return min(limit, MaxSearchLimit)
}

// conflict makes a unique violation practice.ErrConflict, and a missing
// row practice.ErrNotFound, naming what.
func conflict(err error, what string) error {
	if errors.Is(err, ErrUnique) {
		return fmt.Errorf("%s: %w", what, practice.ErrConflict)
	}
	return notFound(err, what)
}

// scanAll reads every row of rows with scan.
func scanAll[T any](rows Rows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// mustChange is err, or ErrNotFound naming what when n rows changed is 0.
func mustChange(n int64, err error, what string) error {
	if err == nil && n == 0 {
		return fmt.Errorf("%s: %w", what, practice.ErrNotFound)
	}
	return conflict(err, what)
}
