package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"qual.cx/operator/internal/store"
)

// TempStore opens a SQLite store in a new temporary folder; close closes it and removes
// the folder.
func TempStore(ctx context.Context) (db store.Store, closeFn func(), err error) {
	dir, err := os.MkdirTemp("", "qual-store-")
	if err != nil {
		return nil, nil, fmt.Errorf("testenv: store folder: %w", err)
	}
	db, err = store.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("testenv: open store: %w", err)
	}
	return db, func() { _ = db.Close(); _ = os.RemoveAll(dir) }, nil
}
