package store

import (
	"context"
	"fmt"
)

// InTx runs fn in one transaction.
func (ts *teamStore) InTx(ctx context.Context, fn func(tx TeamStore) error) error {
	return ts.atomically(ctx, func(tx *teamStore) error { return fn(tx) })
}

// atomically runs fn in the handle's transaction, or in a new one that commits when fn returns
// nil and rolls back on an error or a panic. On SQLite the transaction begins IMMEDIATE on the
// single writer connection, so it cannot fail later with SQLITE_BUSY on its first write.
func (ts *teamStore) atomically(ctx context.Context, fn func(tx *teamStore) error) (err error) {
	if ts.tx != nil {
		return fn(ts)
	}
	if err := ts.checkTeam(); err != nil {
		return err
	}
	tx, err := ts.s.wr.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
			return
		}
		if cerr := tx.Commit(); cerr != nil {
			err = fmt.Errorf("store: commit: %w", cerr)
		}
	}()
	return fn(&teamStore{s: ts.s, team: ts.team, tx: tx})
}
