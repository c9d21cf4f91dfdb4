package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// Bench runs the store benchmarks against the backend that newStore opens (a fresh,
// empty store per benchmark, cleaned up by the callee): Enqueue of single SETs from 1
// and 8 goroutines (durable writes per second), a Lease+Ack cycle and an InboxAdd +
// InboxDone cycle. Each reports allocations and ops/s.
func Bench(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("Enqueue/goroutines=1", func(b *testing.B) { benchEnqueue(b, newStore(b), 1) })
	b.Run("Enqueue/goroutines=8", func(b *testing.B) { benchEnqueue(b, newStore(b), 8) })
	b.Run("LeaseAck", func(b *testing.B) { benchLeaseAck(b, newStore(b)) })
	b.Run("InboxAddDone", func(b *testing.B) { benchInbox(b, newStore(b)) })
}

func benchStream(b *testing.B, st store.Store) {
	s := newStream("bench", "c", ssf.DeliveryPush, ssf.StatusEnabled)
	if err := st.CreateStream(context.Background(), s); err != nil {
		b.Fatal(err)
	}
}

func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// benchEnqueue enqueues b.N single SETs from g goroutines.
func benchEnqueue(b *testing.B, st store.Store, g int) {
	benchStream(b, st)
	b.ReportAllocs()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
	for range g {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				s := &store.OutboxSET{StreamID: "bench", JTI: fmt.Sprint(i), SET: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", EventType: eventSessionRevoked, CreatedAt: t0}
				if err := st.Enqueue(context.Background(), []*store.OutboxSET{s}); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
	reportOps(b)
}

// benchLeaseAck leases one SET and acknowledges it, b.N times, from a full outbox.
func benchLeaseAck(b *testing.B, st store.Store) {
	benchStream(b, st)
	ctx := context.Background()
	batch := make([]*store.OutboxSET, 0, 1000)
	for i := range b.N {
		batch = append(batch, &store.OutboxSET{StreamID: "bench", JTI: fmt.Sprint(i), SET: "a.b.c", CreatedAt: t0})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := st.Enqueue(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	req := store.LeaseRequest{Owner: "bench", Method: ssf.DeliveryPush, Limit: 1, Duration: time.Minute, Now: t0}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		got, err := st.Lease(ctx, req)
		if err != nil || len(got) != 1 {
			b.Fatalf("Lease = %d SETs, %v", len(got), err)
		}
		if found, err := st.Ack(ctx, "bench", []string{got[0].JTI}); err != nil || len(found) != 1 {
			b.Fatalf("Ack = %v, %v", found, err)
		}
	}
	b.StopTimer()
	reportOps(b)
}

// benchInbox adds a new SET to the inbox and marks it processed, b.N times.
func benchInbox(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		jti := fmt.Sprint(i)
		in := &store.InboxSET{Issuer: issuer, JTI: jti, StreamID: "rs", AckStream: "poll", SET: "a.b.c", ReceivedAt: t0}
		if existing, err := st.InboxAdd(ctx, in); err != nil || existing != nil {
			b.Fatalf("InboxAdd = %v, %v", existing, err)
		}
		if err := st.InboxDone(ctx, issuer, jti, "", t0); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportOps(b)
}
