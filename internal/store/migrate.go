package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrationsFS holds one folder of goose SQL migrations per dialect. Migrations are versioned and
// forward-only: a released file is never edited, a change is a new file.
//
//go:embed migrations
var migrationsFS embed.FS

// migrate applies every pending migration.
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	p, err := migrator(db, d)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrations: up: %w", err)
	}
	return nil
}

// migrator returns the goose provider of the dialect's migrations. On PostgreSQL a session
// advisory lock makes replicas that start together take turns.
func migrator(db *sql.DB, d dialect) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationsFS, d.migrations)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if d.numbered {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("store: migrations: locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(d.goose, db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}
