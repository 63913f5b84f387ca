package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// InTx runs fn in one transaction.
func (ts *teamStore) InTx(ctx context.Context, fn func(tx TeamStore) error) error {
	return ts.atomically(ctx, func(tx *teamStore) error { return fn(tx) })
}

// atomically runs fn in the handle's transaction, or in a new one (see sqlStore.inTx).
func (ts *teamStore) atomically(ctx context.Context, fn func(tx *teamStore) error) error {
	if ts.tx != nil {
		return fn(ts)
	}
	if err := ts.checkTeam(); err != nil {
		return err
	}
	return ts.s.inTx(ctx, func(tx *sql.Tx) error {
		return fn(&teamStore{s: ts.s, team: ts.team, tx: tx})
	})
}

// inTx runs fn in a new transaction that commits when fn returns nil and rolls back on an error
// or a panic. On SQLite the transaction begins IMMEDIATE on the single writer connection, so it
// cannot fail later with SQLITE_BUSY on its first write. A transaction PostgreSQL aborted to
// resolve a deadlock with another (possible when one transaction makes several counted changes)
// fails with ErrConflict: it lost to a concurrent write and may be decided again.
func (s *sqlStore) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.wr.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err == nil {
			if cerr := tx.Commit(); cerr != nil {
				err = fmt.Errorf("store: commit: %w", cerr)
			}
		} else {
			_ = tx.Rollback()
		}
		if s.d.lostRace(err) && !errors.Is(err, ErrConflict) {
			err = fmt.Errorf("%w: %w", ErrConflict, err)
		}
	}()
	return fn(tx)
}
