package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoprov/autoprov"
)

// Group commit of the disclosure steps on SQLite. A phone's first fetch
// writes three times (Reserve; Commit, with the credential it issues when
// its file carries one; Complete); in a boot storm each was a
// transaction of its own, and most of its cost was
// the transaction (BEGIN, COMMIT, GORM re-preparing its statements in
// every transaction) rather than the one-row UPDATE inside it. Here the
// steps that arrive while a transaction runs are queued, and one goroutine
// runs them together, each still the same conditional UPDATE (and audit
// row) whose RowsAffected decides, in one transaction, on statements
// prepared once. No caller hears its answer before that transaction has
// committed: a claim is won, or a window consumed, only once it is in
// the database file (its WAL), as before (a kill -9 loses nothing a
// caller was told).
//
// A transaction's own cost (BEGIN, COMMIT and the WAL frames of the pages
// it changed) is most of a lone step's: in a boot storm, steps arrive
// every few hundred microseconds and found transactions of one or two
// steps, 17,000 of them for 10,000 phones. So while steps come together
// (some were queued when the last transaction ended, or it held several)
// a group waits up to gatherWait for gatherMin steps before it begins:
// about 3,700 transactions for the same storm. A lone phone's steps never
// wait: each ran alone and nothing was queued behind it.
//
// A step whose caller gave up before its turn is not run. When a step
// fails (an error, not a lost claim), the whole transaction is rolled
// back and each step runs again in a transaction of its own, so one
// step's error is nobody else's; when BEGIN or COMMIT fails, every step
// of the group gets that error. PostgreSQL keeps one transaction per
// step: its row locks let concurrent steps run side by side.
type groupCommit struct {
	db    *sql.DB
	ops   chan *groupOp
	quit  chan struct{}
	done  chan struct{}
	stmts map[string]*sql.Stmt // by SQL text, prepared on the pool once

	closing sync.Once
	wait    time.Duration // how long a group waits for more steps (gatherWait)
	taken   atomic.Uint64 // steps taken from the queue (tests wait for it)
	groups  atomic.Uint64 // transactions begun (tests count them)
	// gathering is 1 while gather waits with steps taken (tests wait for it)
	gathering atomic.Int32
}

// groupOp is one step: its statements, run in order inside the group's
// transaction; the step is won when the first changed one row (the
// others, the audit row, run only then).
type groupOp struct {
	ctx   context.Context
	steps []groupStmt
	res   chan groupResult
}

type groupStmt struct {
	sql  string
	args []any
}

type groupResult struct {
	won bool
	err error
}

// groupMax bounds the steps of one transaction.
const groupMax = 256

// gatherMin and gatherWait: while steps come together, a group of fewer
// than gatherMin steps waits up to gatherWait for more before it begins
// (bench/storm.sh, one run each: 1 ms and 8 gave the shortest storms;
// 0.5 ms, or 8 steps within 2 ms, came out slower).
const (
	gatherMin  = 8
	gatherWait = time.Millisecond
)

// errStoreClosed: a step arrived after Close.
var errStoreClosed = errors.New("the store is closed")

// SQL of the disclosure steps, as disclosure.go and credential.go write
// them through GORM.
const (
	sqlReserve = "UPDATE devices SET reserved_by = ?, reserved_until = ? WHERE mac = ? AND disclosure_state = ? AND expires_at > ?" +
		" AND (reserved_by = '' OR reserved_by IS NULL OR reserved_until < ?)"
	sqlIssue = "UPDATE devices SET credential_state = ?, credential_password = ?, credential_issued_at = ?, credential_applied_at = NULL" +
		" WHERE mac = ? AND reserved_by = ? AND disclosure_state = ?"
	sqlCommit = "UPDATE devices SET disclosure_state = ?, disclosed_at = ?, disclosed_ip = ?, disclosed_ua = ?, reserved_until = NULL," +
		" disclosure_complete = NULL WHERE mac = ? AND reserved_by = ? AND disclosure_state = ?"
	// sqlCommitIssuing is sqlIssue and sqlCommit in one UPDATE: one row
	// written, one change logged, instead of two of each.
	sqlCommitIssuing = "UPDATE devices SET credential_state = ?, credential_password = ?, credential_issued_at = ?, credential_applied_at = NULL," +
		" disclosure_state = ?, disclosed_at = ?, disclosed_ip = ?, disclosed_ua = ?, reserved_until = NULL, disclosure_complete = NULL" +
		" WHERE mac = ? AND reserved_by = ? AND disclosure_state = ?"
	sqlComplete = "UPDATE devices SET disclosure_complete = ?, reserved_by = '' WHERE mac = ? AND reserved_by = ? AND disclosure_state = ?" +
		" AND disclosure_complete IS NULL"
	sqlRelease = "UPDATE devices SET reserved_by = '', reserved_until = NULL WHERE mac = ? AND reserved_by = ? AND disclosure_state = ?"
	sqlAudit   = "INSERT INTO audit (at, mac, event, actor, detail) VALUES (?, ?, ?, ?, ?)"
)

// newGroupCommit prepares the statements on db and starts the goroutine
// that runs the steps, a group waiting up to wait for more while steps
// keep coming; close stops it.
func newGroupCommit(db *sql.DB, wait time.Duration) (*groupCommit, error) {
	g := &groupCommit{db: db, ops: make(chan *groupOp, groupMax), quit: make(chan struct{}), done: make(chan struct{}),
		stmts: map[string]*sql.Stmt{}, wait: wait}
	for _, q := range []string{sqlReserve, sqlIssue, sqlCommit, sqlCommitIssuing, sqlComplete, sqlRelease, sqlAudit} {
		st, err := db.Prepare(q)
		if err != nil {
			g.closeStmts()
			return nil, fmt.Errorf("prepare the disclosure steps: %w", err)
		}
		g.stmts[q] = st
	}
	go g.run()
	return g, nil
}

func (g *groupCommit) closeStmts() {
	for _, st := range g.stmts {
		_ = st.Close()
	}
}

// close stops the goroutine (steps still queued are answered
// errStoreClosed) and closes the statements.
func (g *groupCommit) close() {
	g.closing.Do(func() {
		close(g.quit)
		<-g.done
		g.closeStmts()
	})
}

// do runs steps as one step of a group and reports whether it was won.
// A caller whose context ends while the step is queued gets ctx.Err()
// and the step is not run; once its transaction runs, the caller waits
// for the commit.
func (g *groupCommit) do(ctx context.Context, steps ...groupStmt) (bool, error) {
	op := &groupOp{ctx: ctx, steps: steps, res: make(chan groupResult, 1)}
	select {
	case g.ops <- op:
	case <-ctx.Done():
		return false, ctx.Err()
	case <-g.quit:
		return false, errStoreClosed
	}
	select {
	case r := <-op.res:
		return r.won, r.err
	case <-g.done: // closed after this step was queued
		select {
		case r := <-op.res:
			return r.won, r.err
		default:
			return false, errStoreClosed
		}
	}
}

func (g *groupCommit) run() {
	defer close(g.done)
	batch := make([]*groupOp, 0, groupMax)
	timer := time.NewTimer(g.wait)
	timer.Stop()
	busy := false // steps came together: queued when the last transaction ended, or in it
	for {
		select { // closing wins over queued steps
		case <-g.quit:
			g.drain()
			return
		default:
		}
		select {
		case <-g.quit:
			g.drain()
			return
		case op := <-g.ops:
			batch = append(batch[:0], op)
		}
	more:
		for len(batch) < groupMax {
			select {
			case op := <-g.ops:
				batch = append(batch, op)
			default:
				break more
			}
		}
		if busy && len(batch) < gatherMin {
			if batch = g.gather(batch, timer); batch == nil {
				continue // closing: the steps gathered were answered
			}
		}
		g.taken.Add(uint64(len(batch)))
		g.groups.Add(1)
		queued := g.runBatch(batch)
		busy = queued || len(batch) > 1
	}
}

// gather adds steps to batch as they come, until it holds gatherMin or
// its wait has passed. When the group closes meanwhile, their transaction
// has not begun: it answers them errStoreClosed, as the steps still
// queued, and returns nil.
func (g *groupCommit) gather(batch []*groupOp, timer *time.Timer) []*groupOp {
	timer.Reset(g.wait)
	g.gathering.Store(1)
	defer func() { timer.Stop(); g.gathering.Store(0) }()
	for len(batch) < gatherMin {
		select {
		case op := <-g.ops:
			batch = append(batch, op)
		case <-timer.C:
			return batch
		case <-g.quit:
			for _, op := range batch {
				op.res <- groupResult{err: errStoreClosed}
			}
			return nil
		}
	}
	return batch
}

// drain answers the steps left in the queue at close.
func (g *groupCommit) drain() {
	for {
		select {
		case op := <-g.ops:
			op.res <- groupResult{err: errStoreClosed}
		default:
			return
		}
	}
}

// runBatch runs the live steps of batch in one transaction and answers
// them after its commit; on an error, each alone. It reports whether
// steps were queued when the transaction ended, looked at before any
// answer goes out: a lone phone's next step, sent as soon as it hears
// the answer to this one, does not count (it would wait gatherWait).
func (g *groupCommit) runBatch(batch []*groupOp) (queued bool) {
	live := batch[:0]
	for _, op := range batch {
		if err := op.ctx.Err(); err != nil {
			op.res <- groupResult{err: err}
			continue
		}
		live = append(live, op)
	}
	if len(live) == 0 {
		return len(g.ops) > 0
	}
	won, stepFailed, err := g.inTx(live)
	queued = len(g.ops) > 0
	if err == nil {
		for i, op := range live {
			op.res <- groupResult{won: won[i]}
		}
		return queued
	}
	if !stepFailed || len(live) == 1 {
		// BEGIN or COMMIT failed (the lock stayed taken past the busy
		// timeout, the disk): the same for every step.
		for _, op := range live {
			op.res <- groupResult{err: err}
		}
		return queued
	}
	for _, op := range live {
		w, _, err := g.inTx([]*groupOp{op})
		op.res <- groupResult{won: err == nil && w[0], err: err}
	}
	return queued
}

// inTx runs ops in one transaction; it reports each one's outcome once
// the transaction has committed, or whether a step's statement failed.
func (g *groupCommit) inTx(ops []*groupOp) (won []bool, stepFailed bool, err error) {
	// The steps are short, and the waits for the lock bounded (the write
	// gate, busy_timeout): no context, which spares the driver a watcher
	// per statement.
	ctx := context.Background()
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	won = make([]bool, len(ops))
	for i, op := range ops {
		for j, st := range op.steps {
			res, err := tx.StmtContext(ctx, g.stmts[st.sql]).ExecContext(ctx, st.args...)
			if err != nil {
				return nil, true, err
			}
			if j > 0 {
				continue
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, true, err
			}
			if won[i] = n == 1; !won[i] {
				break
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, false, err
	}
	return won, false, nil
}

// audit is the step that appends e to the audit log.
func auditStep(e autoprov.AuditEvent) groupStmt {
	return groupStmt{sqlAudit, []any{e.At.UTC(), e.MAC, e.Event, e.Actor, e.Detail}}
}

// The disclosure steps on SQLite (see disclosure.go and credential.go for
// what each means).

func (g *groupCommit) reserve(ctx context.Context, mac, token string, now time.Time, lease time.Duration) (bool, error) {
	return g.do(ctx, groupStmt{sqlReserve, []any{token, now.Add(lease), mac, autoprov.DisclosureOpen, now, now}})
}

func (g *groupCommit) issue(ctx context.Context, mac, token, sealed string, now time.Time) (bool, error) {
	return g.do(ctx, groupStmt{sqlIssue, []any{autoprov.CredentialIssued, sealed, now, mac, token, autoprov.DisclosureOpen}})
}

func (g *groupCommit) commit(ctx context.Context, mac, token string, now time.Time, to autoprov.Peer) (bool, error) {
	return g.do(ctx,
		groupStmt{sqlCommit, []any{autoprov.DisclosureConsumed, now, to.IP, to.UserAgent, mac, token, autoprov.DisclosureOpen}},
		auditStep(consumedEvent(mac, now, to)))
}

func (g *groupCommit) commitIssuing(ctx context.Context, mac, token, sealed string, now time.Time, to autoprov.Peer) (bool, error) {
	return g.do(ctx,
		groupStmt{sqlCommitIssuing, []any{autoprov.CredentialIssued, sealed, now,
			autoprov.DisclosureConsumed, now, to.IP, to.UserAgent, mac, token, autoprov.DisclosureOpen}},
		auditStep(consumedEvent(mac, now, to)))
}

func (g *groupCommit) complete(ctx context.Context, mac, token string, now time.Time, complete bool, reason string) (bool, error) {
	return g.do(ctx,
		groupStmt{sqlComplete, []any{complete, mac, token, autoprov.DisclosureConsumed}},
		auditStep(endedEvent(mac, now, complete, reason)))
}

func (g *groupCommit) release(ctx context.Context, mac, token string) error {
	_, err := g.do(ctx, groupStmt{sqlRelease, []any{mac, token, autoprov.DisclosureOpen}})
	return err
}
