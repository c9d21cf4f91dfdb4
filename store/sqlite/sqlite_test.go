package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/store/storetest"
)

func openTemp(t *testing.T, opts sqlite.Options) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sigshare.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t, sqlite.Options{}) })
}
