package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sigshare/sigshare/store/sqlite"
)

// OpenSQLite opens (creating it with permission 0600 if needed, and migrating its
// schema) the SQLite database at path with the recommended options: WAL, group commit,
// commits synced to stable storage.
func OpenSQLite(ctx context.Context, path string, logger *slog.Logger) (*sqlite.Store, error) {
	st, err := sqlite.Open(ctx, path, sqlite.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("opening the SQLite database %s: %w", path, err)
	}
	return st, nil
}
