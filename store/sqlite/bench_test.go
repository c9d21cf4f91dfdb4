package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sigshare/sigshare/store"
)

// BenchmarkGroupCommit enqueues single SETs from several goroutines and reports the
// mean batch the writer committed (ops per fsync) next to ops/s.
//
//	go test -run='^$' -bench=GroupCommit -benchtime=1s ./store/sqlite
func BenchmarkGroupCommit(b *testing.B) {
	for _, g := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			st, err := Open(b.Context(), filepath.Join(b.TempDir(), "db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.CreateStream(b.Context(), testStream("s1")); err != nil {
				b.Fatal(err)
			}
			var batches, ops atomic.Int64
			st.batchHook = func(n int) { batches.Add(1); ops.Add(int64(n)) }
			b.ReportAllocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range g {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if err := st.Enqueue(context.Background(), []*store.OutboxSET{{StreamID: "s1", JTI: fmt.Sprint(i)}}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
			if n := batches.Load(); n > 0 {
				b.ReportMetric(float64(ops.Load())/float64(n), "ops/batch")
			}
		})
	}
}
