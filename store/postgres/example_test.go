package postgres_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/postgres"
)

// Two transmitter nodes share one schema: a SET enqueued on one node wakes the push
// engine waiting on the other, which leases it (exclusively) and acknowledges it after
// delivery. The example needs a database, so it is compiled but not run by go test; run
// it with a DSN in SIGSHARE_POSTGRES.
func Example() {
	ctx := context.Background()
	dsn := os.Getenv("SIGSHARE_POSTGRES") // e.g. postgres://user:pass@db:5432/sigshare
	opts := postgres.Options{Schema: "sigshare", Logger: slog.Default()}
	nodeA, err := postgres.Open(ctx, dsn, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer nodeA.Close()
	nodeB, err := postgres.Open(ctx, dsn, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer nodeB.Close()

	now := time.Now()
	stream := &store.Stream{
		ID: "s1", ClientID: "rp-1", Status: ssf.StatusEnabled, CreatedAt: now, UpdatedAt: now,
		Config: ssf.StreamConfig{StreamID: "s1", Issuer: "https://tx.example.com",
			Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://rx.example.com/events"}},
	}
	if err := nodeA.CreateStream(ctx, stream); err != nil {
		log.Fatal(err)
	}

	// Node B's push engine waits for work.
	wake, cancel := nodeB.Subscribe("")
	defer cancel()

	// Node A accepts an event.
	if err := nodeA.Enqueue(ctx, []*store.OutboxSET{{StreamID: "s1", JTI: "jti-1", SET: "eyJ...", CreatedAt: now}}); err != nil {
		log.Fatal(err)
	}

	<-wake // NOTIFY from node A's commit
	leased, err := nodeB.Lease(ctx, store.LeaseRequest{Owner: "node-b/worker-1", Method: ssf.DeliveryPush, Limit: 10, Duration: time.Minute, Now: time.Now()})
	if err != nil {
		log.Fatal(err)
	}
	// ... POST each SET to the receiver; after its 202:
	found, err := nodeB.Ack(ctx, "s1", []string{leased[0].JTI})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("delivered:", found)
}
