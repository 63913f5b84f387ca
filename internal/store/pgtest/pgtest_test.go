package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStopAndStartKeepTheData(t *testing.T) {
	t.Setenv(EnvDSN, "postgres://nobody@127.0.0.1:1/none") // a private server ignores it
	s := NewPrivate()
	t.Cleanup(s.Close) // after the database's own cleanup, which needs the server
	dsn := s.Database(t)
	ctx := context.Background()
	rows := int64(0)
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		tag, err := conn.Exec(ctx, sql)
		rows = tag.RowsAffected()
		return err
	}
	if err := exec("CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := exec("SELECT 1"); err == nil {
		t.Fatal("the server answered after Stop")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := exec("DELETE FROM t WHERE v = 1"); err != nil || rows != 1 {
		t.Fatalf("after Start: deleted %d rows, %v; want the row written before Stop", rows, err)
	}
}

func TestStopNeedsAPrivateServer(t *testing.T) {
	if err := New().Stop(); err == nil {
		t.Fatal("Stop on a server never started: want an error")
	}
}
