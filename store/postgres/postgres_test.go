package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/storetest"
)

// dsnEnv names the environment variable with the DSN of the test database. The role must
// be allowed to create schemas in it; every test works in a schema of its own.
const dsnEnv = "SIGSHARE_TEST_POSTGRES"

// testDSN returns the test database's DSN, or skips the test when none is set.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip("SIGSHARE_TEST_POSTGRES is not set: PostgreSQL backend tests skipped (see .ci/run)")
	}
	return dsn
}

// freshSchema returns the name of a schema no other test uses (random) and drops it,
// with everything in it, when the test ends (after the stores opened later are closed:
// cleanups run last-registered first).
func freshSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "sigshare_test_" + hex.EncodeToString(b[:])
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// openStore opens a Store on schema and closes it when the test ends.
func openStore(tb testing.TB, schema string, opts Options) *Store {
	tb.Helper()
	opts.Schema = schema
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := Open(ctx, testDSN(tb), opts)
	if err != nil {
		tb.Fatalf("Open(schema %s): %v", schema, err)
	}
	tb.Cleanup(func() {
		if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			tb.Errorf("Close: %v", err)
		}
	})
	return st
}

// adminConn returns a connection to the test database outside any Store, closed when the
// test ends.
func adminConn(tb testing.TB, schema string) *pgx.Conn {
	tb.Helper()
	cfg, err := pgx.ParseConfig(testDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConformance(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, freshSchema(t), Options{}) })
}
