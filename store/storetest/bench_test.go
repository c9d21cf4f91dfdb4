package storetest_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/store/storetest"
)

func closeStore(b *testing.B, st store.Store) {
	b.Cleanup(func() {
		if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			b.Errorf("Close: %v", err)
		}
	})
}

// BenchmarkStore runs storetest.Bench on the memory and sqlite backends side by side.
//
//	go test -run='^$' -bench=Store -benchtime=1s ./store/storetest
func BenchmarkStore(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) store.Store {
			st := memory.New()
			closeStore(b, st)
			return st
		})
	})
	b.Run("sqlite", func(b *testing.B) {
		storetest.Bench(b, func(b *testing.B) store.Store {
			st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			closeStore(b, st)
			return st
		})
	})
}
