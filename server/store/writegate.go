package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/sqlite"
)

// The write gate: this process's SQLite writers take turns on a gate
// before they ask SQLite for its one write lock, instead of asking SQLite
// all at once.
//
// SQLite lets one connection write at a time. A connection that finds the
// lock taken calls the busy handler (busy_timeout), which sleeps and tries
// again, backing off up to 100 ms per try; with 64 phones booting at once
// most writers slept far longer than the writes they waited for took (a
// boot storm at 150 phones/s, p99 3 s). Behind the gate a writer starts
// the moment the previous one of this process commits, in arrival order.
// The gate decides nothing: each write is still the conditional UPDATE it
// was, under SQLite's lock, and busy_timeout still governs the waits for
// other processes on the same file (a second instance, the CLI).
//
// Gated: every transaction (the DSN's _txlock=immediate makes each BEGIN
// take the write lock anyway), and any statement run outside a
// transaction that may write (writesSQL). Reads outside a transaction
// (and Backup's VACUUM INTO) never wait for it, so a transaction may read
// on other connections while it holds the gate. Waiting for the gate ends with the caller's context or after the busy
// timeout, with errWriteBusy: the same bound SQLite's lock had.
type writeGate struct {
	turn chan struct{}
	wait time.Duration
}

// errWriteBusy: the gate stayed held for the whole busy timeout.
var errWriteBusy = errors.New("database is locked (this process's other writers held it for the whole busy timeout)")

func newWriteGate(wait time.Duration) *writeGate {
	return &writeGate{turn: make(chan struct{}, 1), wait: wait}
}

// lock takes the gate, waiting at most the busy timeout or until ctx ends.
func (g *writeGate) lock(ctx context.Context) error {
	select {
	case g.turn <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errWriteBusy
	}
}

func (g *writeGate) unlock() { <-g.turn }

// gatedPool opens SQLite's driver (the one gorm.io/driver/sqlite registers)
// for dsn behind gate.
func gatedPool(dsn string, gate *writeGate) (*sql.DB, error) {
	probe, err := sql.Open(sqlite.DriverName, "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, err
	}
	return sql.OpenDB(gatedConnector{drv: drv, dsn: dsn, gate: gate}), nil
}

// sqliteAutoCheckpoint: the WAL is checkpointed once it holds this many
// pages (4 KiB each: 40 MiB), not SQLite's 1,000. A checkpoint copies
// every page the WAL holds into the file (and syncs both); the pages a
// boot storm's writes share (index pages, the tails of the audit log and
// of the change log) were copied again every 1,000 pages: ~8 % of the
// server's CPU in a storm. Closing the last connection still checkpoints
// everything.
const sqliteAutoCheckpoint = 10_000

type gatedConnector struct {
	drv  driver.Driver
	dsn  string
	gate *writeGate
}

// sqliteConn is what the gate needs of the driver's connections (mattn's
// go-sqlite3 has all of it).
type sqliteConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

func (c gatedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite driver connection %T lacks context methods", conn)
	}
	// Per connection: the commit that takes the WAL past this many pages
	// checkpoints it.
	if _, err := sc.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", sqliteAutoCheckpoint), nil); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &gatedConn{c: sc, gate: c.gate}, nil
}

func (c gatedConnector) Driver() driver.Driver { return c.drv }

// gatedConn is one SQLite connection behind the gate. database/sql uses a
// connection from one goroutine at a time, so inTx needs no lock.
type gatedConn struct {
	c    sqliteConn
	gate *writeGate
	inTx bool // a transaction of this connection holds the gate
}

func (c *gatedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *gatedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	write := writesSQL(query)
	if ro, ok := st.(interface{ Readonly() bool }); ok && write {
		write = !ro.Readonly()
	}
	return &gatedStmt{Stmt: st, conn: c, write: write}, nil
}

func (c *gatedConn) Close() error { return c.c.Close() }

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := c.c.BeginTx(ctx, opts)
	if err != nil {
		c.gate.unlock()
		return nil, err
	}
	c.inTx = true
	return &gatedTx{tx: tx, conn: c}, nil
}

func (c *gatedConn) Ping(ctx context.Context) error { return c.c.Ping(ctx) }

// enter takes the gate for a statement outside a transaction that writes;
// it returns the function that gives it back.
func (c *gatedConn) enter(ctx context.Context, write bool) (func(), error) {
	if !write || c.inTx {
		return func() {}, nil
	}
	if err := c.gate.lock(ctx); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(c.gate.unlock) }, nil
}

func (c *gatedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	leave, err := c.enter(ctx, writesSQL(query))
	if err != nil {
		return nil, err
	}
	defer leave()
	return c.c.ExecContext(ctx, query, args)
}

func (c *gatedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.query(ctx, writesSQL(query), func() (driver.Rows, error) { return c.c.QueryContext(ctx, query, args) })
}

// query runs q, holding the gate until its rows are closed when it writes
// (an UPDATE ... RETURNING holds SQLite's lock until then).
func (c *gatedConn) query(ctx context.Context, write bool, q func() (driver.Rows, error)) (driver.Rows, error) {
	leave, err := c.enter(ctx, write)
	if err != nil {
		return nil, err
	}
	rows, err := q()
	if err != nil {
		leave()
		return nil, err
	}
	if !write || c.inTx {
		return rows, nil
	}
	return &gatedRows{Rows: rows, leave: leave}, nil
}

// gatedTx gives the gate back when the transaction ends, however it ends.
type gatedTx struct {
	tx   driver.Tx
	conn *gatedConn
	done bool
}

func (t *gatedTx) Commit() error   { defer t.end(); return t.tx.Commit() }
func (t *gatedTx) Rollback() error { defer t.end(); return t.tx.Rollback() }

func (t *gatedTx) end() {
	if !t.done {
		t.done = true
		t.conn.inTx = false
		t.conn.gate.unlock()
	}
}

// gatedStmt is a prepared statement; write says whether it needs the gate
// outside a transaction.
type gatedStmt struct {
	driver.Stmt
	conn  *gatedConn
	write bool
}

func (s *gatedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	leave, err := s.conn.enter(ctx, s.write)
	if err != nil {
		return nil, err
	}
	defer leave()
	if ec, ok := s.Stmt.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	return nil, driver.ErrSkip
}

func (s *gatedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.conn.query(ctx, s.write, func() (driver.Rows, error) {
		if qc, ok := s.Stmt.(driver.StmtQueryContext); ok {
			return qc.QueryContext(ctx, args)
		}
		return nil, driver.ErrSkip
	})
}

// gatedRows holds the gate until closed, and passes the column types on.
type gatedRows struct {
	driver.Rows
	leave func()
}

func (r *gatedRows) Close() error { defer r.leave(); return r.Rows.Close() }

func (r *gatedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *gatedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *gatedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

// writesSQL classifies SQL by its first word: anything but a read
// (SELECT, EXPLAIN, VALUES), a PRAGMA or VACUUM may write. A prepared
// statement it calls a write is asked too (sqlite3_stmt_readonly), so a
// SELECT is never gated and a WITH ... SELECT is not either. PRAGMA and
// VACUUM are never gated: the store's are the checkpoint after sealing,
// which needs no write lock, and Backup's VACUUM INTO, which reads one
// snapshot for as long as the copy takes and must not stop writers.
func writesSQL(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	word, _, _ := strings.Cut(q, " ")
	switch strings.ToUpper(strings.TrimRight(word, "\t\r\n(;")) {
	case "SELECT", "PRAGMA", "EXPLAIN", "VALUES", "VACUUM":
		return false
	}
	return true
}
