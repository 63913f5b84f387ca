package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MigrateTo applies the migrations of the DSN's backend up to version and no further, so a test
// can write rows as an older release did and then check what a later migration makes of them.
func MigrateTo(ctx context.Context, dsn string, version int64) (err error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return err
	}
	d, driver, source := sqliteDialect, "sqlite", sqliteDSN(t.addr, false)
	if t.kind == kindPostgres {
		d, driver, source = postgresDialect, "pgx", t.addr // open.go's pgx/stdlib import registers "pgx"
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	p, err := migrator(db, d)
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate to %d: %w", version, err)
	}
	return nil
}
