package postgres

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/store/storetest"
)

// BenchmarkStore runs storetest.Bench against PostgreSQL and, in the same run for
// comparison, against SQLite (both durable: synchronous_commit on, SQLite
// synchronous=FULL). It skips without SIGSHARE_TEST_POSTGRES.
//
//	go test -run='^$' -bench=Store -benchtime=1s ./store/postgres
func BenchmarkStore(b *testing.B) {
	testDSN(b)
	b.Run("postgres", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) store.Store { return openStore(b, freshSchema(b), Options{}) })
	})
	b.Run("sqlite", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) store.Store {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
					b.Errorf("Close: %v", err)
				}
			})
			return st
		})
	})
}
