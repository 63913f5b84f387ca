package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}

// timeCol scans a time from either backend: INTEGER microseconds (SQLite) or timestamptz
// (PostgreSQL). The result is always UTC.
type timeCol struct{ t *time.Time }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case int64:
		*c.t = time.UnixMicro(x).UTC()
	case time.Time:
		*c.t = x.UTC()
	default:
		return fmt.Errorf("store: scan time from %T", v)
	}
	return nil
}

// nullTimeCol scans an optional time; NULL leaves the pointer nil.
type nullTimeCol struct{ t **time.Time }

// Scan implements sql.Scanner.
func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// jsonCol scans a JSON text column into a Go value.
type jsonCol struct{ v any }

// Scan implements sql.Scanner.
func (c jsonCol) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		return fmt.Errorf("store: scan json from %T", v)
	}
	return json.Unmarshal(b, c.v)
}

// jsonArg encodes a value as JSON text for a TEXT, JSON or JSONB column.
func jsonArg(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: encode json: %w", err)
	}
	return string(b), nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{} // empty, not nil: a JSON list, never null
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
