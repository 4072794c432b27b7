package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
)

// The SQLite driver parses every query it is handed, and parsing cost half
// of the job engine's time (River's completion queries are long). The
// store's one connection lives as long as the store, so it keeps each
// parameterized statement prepared and reuses it.

// maxCachedStmts bounds the cache; the store and River use a few dozen
// distinct queries.
const maxCachedStmts = 256

// cachingConnector opens connections of base that reuse prepared
// statements, each having run setup first.
type cachingConnector struct {
	base  driver.Driver
	dsn   string
	setup []string
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	for _, ok := range []bool{
		implements[driver.QueryerContext](conn), implements[driver.ExecerContext](conn),
		implements[driver.ConnBeginTx](conn), implements[driver.ConnPrepareContext](conn),
	} {
		if !ok {
			conn.Close()
			return nil, errors.New("sqlite: driver lacks the context interfaces")
		}
	}
	for _, q := range c.setup {
		if _, err := conn.(driver.ExecerContext).ExecContext(ctx, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("sqlite: %s: %w", q, err)
		}
	}
	return &cachingConn{Conn: conn, stmts: make(map[string]*cachedStmt)}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.base }

func implements[T any](v any) bool { _, ok := v.(T); return ok }

// cachingConn is used by one goroutine at a time, as database/sql
// guarantees for a driver.Conn.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	driver.Stmt
	// busy while rows of a query are open; a nested use of the same
	// query text then gets a statement of its own.
	busy bool
}

// stmt returns the cached statement for query, taking args arguments, or
// a fresh one the caller must close when the cached one is busy. A
// statement is prepared with its parameters made positional.
func (c *cachingConn) stmt(ctx context.Context, query string, args int) (s *cachedStmt, owned bool, err error) {
	if s, ok := c.stmts[query]; ok && !s.busy {
		return s, false, nil
	}
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, positional(query, args))
	if err != nil {
		return nil, false, err
	}
	s = &cachedStmt{Stmt: st}
	if _, ok := c.stmts[query]; ok {
		return s, true, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.closeStmts()
	}
	c.stmts[query] = s
	return s, false, nil
}

func (c *cachingConn) closeStmts() {
	for q, s := range c.stmts {
		if !s.busy {
			s.Close()
			delete(c.stmts, q)
		}
	}
}

// QueryContext implements driver.QueryerContext. Queries without arguments
// (migration scripts) go straight to the driver.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	s, owned, err := c.stmt(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	rows, err := s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if owned {
			s.Close()
		}
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s, owned: owned}, nil
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	s, owned, err := c.stmt(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if owned {
		defer s.Close()
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) CheckNamedValue(v *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.Close()
	}
	c.stmts = nil
	return c.Conn.Close()
}

type cachedRows struct {
	driver.Rows
	s     *cachedStmt
	owned bool
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.owned {
		r.s.Close()
	} else {
		r.s.busy = false
	}
	return err
}
