package push

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
)

// BenchmarkPushThroughput measures delivery from a filled outbox to a loopback receiver
// that answers 202, on the memory store: SETs/s over b.N SETs spread over the streams.
func BenchmarkPushThroughput(b *testing.B) {
	for _, streams := range []int{1, 100} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) { benchmarkPush(b, streams) })
	}
}

func benchmarkPush(b *testing.B, streams int) {
	st := memory.New()
	defer st.Close()
	var delivered atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		if delivered.Add(1) == n {
			close(done)
		}
	}))
	defer srv.Close()
	for i := range streams {
		createStream(b, st, fmt.Sprintf("s%03d", i), srv.URL+"/s", "Bearer bench")
	}
	set := fakeSET("bench")
	now := time.Now()
	batch := make([]*store.OutboxSET, 0, 1000)
	for i := range b.N {
		batch = append(batch, &store.OutboxSET{StreamID: fmt.Sprintf("s%03d", i%streams), JTI: fmt.Sprintf("j%09d", i), SET: set, CreatedAt: now})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := st.Enqueue(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	cfg := testConfig(st)
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { ran <- e.Run(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("delivered %d of %d", delivered.Load(), n)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
}
