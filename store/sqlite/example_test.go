package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/sqlite"
)

func Example() {
	dir, err := os.MkdirTemp("", "sigshare")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "sigshare.db"), sqlite.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	stream := &store.Stream{
		ID: "s1", ClientID: "rp-1", Status: ssf.StatusEnabled, CreatedAt: now, UpdatedAt: now,
		Config: ssf.StreamConfig{StreamID: "s1", Issuer: "https://tx.example.com",
			Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://rx.example.com/events"}},
	}
	if err := st.CreateStream(ctx, stream); err != nil {
		log.Fatal(err)
	}
	// The transmitter enqueues a signed SET; the push engine leases it, delivers it and
	// acknowledges it after the receiver's 202.
	set := &store.OutboxSET{StreamID: "s1", JTI: "jti-1", SET: "eyJ...", CreatedAt: now}
	if err := st.Enqueue(ctx, []*store.OutboxSET{set}); err != nil {
		log.Fatal(err)
	}
	leased, err := st.Lease(ctx, store.LeaseRequest{Owner: "node-1/worker-3", Method: ssf.DeliveryPush, Limit: 10, Duration: time.Minute, Now: now})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("leased:", leased[0].JTI, "seq", leased[0].Seq)
	found, err := st.Ack(ctx, "s1", []string{leased[0].JTI})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("acknowledged:", found)
	// Output:
	// leased: jti-1 seq 1
	// acknowledged: [jti-1]
}
