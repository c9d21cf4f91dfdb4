package multinode

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// deliveryWait bounds the wait for every SET to arrive; generous, as the machine running
// the tests may be slow and shared. No test asserts a duration.
const deliveryWait = 90 * time.Second

// TestNodeKilledMidDelivery: three nodes share one database; events go in through all of
// them while their push engines deliver; one node is killed with SIGKILL while it holds
// leased SETs. Every SET the nodes reported queued reaches the receiver at least once
// (PUSH-8: duplicates are allowed, loss is not): the others take the dead node's SETs
// over when its leases expire. Nothing is left in the outbox, nothing dead-lettered.
func TestNodeKilledMidDelivery(t *testing.T) {
	const nodes, streams, events = 3, 2, 2000
	c := newCluster(t, nodes, 10*time.Second)
	rcv := newReceiver(t, c.signing)
	ids := c.createPushStreams(rcv, streams)

	type result struct {
		queued map[string]string
		err    error
	}
	emitted := make(chan result, 1)
	start := time.Now()
	go func() {
		q, err := c.emit(context.Background(), events, 8)
		emitted <- result{q, err}
	}()

	// Kill node 1 once deliveries are under way and it holds leased SETs.
	victim := c.nodes[1]
	deadline := time.Now().Add(deliveryWait)
	held := 0
	for held == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never held a leased SET to be killed with (%d deliveries so far)", victim.name, rcv.total.Load())
		}
		if rcv.total.Load() >= events*streams/5 {
			n, err := c.leasedBy(t.Context(), victim)
			if err != nil {
				t.Fatal(err)
			}
			held = n
		}
		if held == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	victim.kill(t)
	t.Logf("killed %s holding %d leased SETs, after %d deliveries", victim.name, held, rcv.total.Load())

	res := <-emitted
	t.Logf("emission done after %v", time.Since(start))
	if res.err != nil {
		t.Fatalf("emitting: %v", res.err)
	}
	if len(res.queued) < events*streams {
		t.Fatalf("%d SETs queued for %d events on %d streams", len(res.queued), events, streams)
	}
	rcv.waitAll(t, res.queued, deliveryWait, c.dumpOutbox)
	t.Logf("delivery done after %v", time.Since(start))
	for _, n := range c.nodes {
		n.stop(t)
	}
	c.outboxEmpty(ids)
	dup := 0
	for j := range res.queued {
		dup += rcv.count(j) - 1
	}
	t.Logf("%d SETs queued, all delivered; %d deliveries in all, %d duplicates of known SETs, %d refused", len(res.queued), rcv.total.Load(), dup, rcv.bad.Load())
	if rcv.bad.Load() != 0 {
		t.Fatalf("the receiver refused %d SETs", rcv.bad.Load())
	}
}

// TestNodesDeliverExactlyOnce: without failures, two nodes sharing one database deliver
// every SET exactly once (leases never overlap), whichever node accepted the event.
func TestNodesDeliverExactlyOnce(t *testing.T) {
	const nodes, streams, events = 2, 2, 800
	c := newCluster(t, nodes, 10*time.Second)
	rcv := newReceiver(t, c.signing)
	ids := c.createPushStreams(rcv, streams)
	start := time.Now()
	queued, err := c.emit(context.Background(), events, 8)
	t.Logf("emission done after %v", time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	if len(queued) != events*streams {
		t.Fatalf("%d SETs queued for %d events on %d streams", len(queued), events, streams)
	}
	rcv.waitAll(t, queued, deliveryWait, c.dumpOutbox)
	t.Logf("delivery done after %v", time.Since(start))
	// Stop the nodes (requests in flight finish), so that a late duplicate would be seen.
	for _, n := range c.nodes {
		n.stop(t)
	}
	c.outboxEmpty(ids)
	for j := range queued {
		if n := rcv.count(j); n != 1 {
			t.Errorf("SET %s of stream %s delivered %d times, want once", j, queued[j], n)
		}
	}
	if got := rcv.total.Load(); got != int64(len(queued)) || rcv.bad.Load() != 0 {
		t.Fatalf("the receiver got %d deliveries (%d refused) for %d SETs", got, rcv.bad.Load(), len(queued))
	}
}

// BenchmarkDelivery measures delivered SETs per second with one and with two nodes on
// the same database, in the same run: b.N SETs are put in the outbox of four paused push
// streams, the streams are enabled (timer starts), and the timer stops when the receiver
// has all of them. Each node delivers with its push engine over loopback HTTP; every
// delivery is a lease, a POST and an acknowledgement in PostgreSQL.
//
//	go test -run='^$' -bench=Delivery -benchtime=2000x ./internal/multinode
func BenchmarkDelivery(b *testing.B) {
	testDSN(b)
	for _, nodes := range []int{1, 2} {
		c := newCluster(b, nodes, 30*time.Second)
		rcv := newReceiver(b, nil)
		ids := c.createPushStreams(rcv, 4)
		run := 0
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			run++
			ctx := context.Background()
			setStatus := func(status ssf.Status) {
				for _, id := range ids {
					if err := call(ctx, http.MethodPost, c.nodes[0].url+"/admin/streams/"+id+"/status", adminToken, map[string]string{"status": string(status)}, nil); err != nil {
						b.Fatalf("set %s %s: %v", id, status, err)
					}
				}
			}
			setStatus(ssf.StatusPaused)
			want := map[string]string{}
			now := time.Now()
			var batch []*store.OutboxSET
			for i := range b.N {
				jti := fmt.Sprintf("bench-%d-%d-%d", nodes, run, i)
				payload := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"jti":%q}`, jti))
				s := &store.OutboxSET{StreamID: ids[i%len(ids)], JTI: jti, SET: "eyJhbGciOiJFUzI1NiJ9." + payload + ".c2ln", CreatedAt: now}
				batch = append(batch, s)
				want[jti] = s.StreamID
				if len(batch) == 1000 || i == b.N-1 {
					if err := c.st.Enqueue(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			setStatus(ssf.StatusEnabled)
			rcv.waitAll(b, want, 5*time.Minute, c.dumpOutbox)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
		})
		c.stopAll() // before the next cluster starts: only one runs at a time
	}
}
