package memory_test

import (
	"errors"
	"testing"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		st := memory.New()
		t.Cleanup(func() {
			if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
				t.Errorf("Close: %v", err)
			}
		})
		return st
	})
}
