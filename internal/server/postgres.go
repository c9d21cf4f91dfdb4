package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sigshare/sigshare/store/postgres"
)

// OpenPostgres connects to the PostgreSQL database named by dsn (a postgres:// URL or a
// key=value string), with sigshare's tables in schema (empty: the connection's current
// schema, usually "public"), and migrates them. Several transmitter nodes share one
// database this way. The error never shows the DSN's password.
func OpenPostgres(ctx context.Context, dsn, schema string, logger *slog.Logger) (*postgres.Store, error) {
	st, err := postgres.Open(ctx, dsn, postgres.Options{Logger: logger, Schema: schema})
	if err != nil {
		return nil, fmt.Errorf("opening the PostgreSQL database: %w", err)
	}
	return st, nil
}
