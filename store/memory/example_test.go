package memory_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
)

// A receiver records each SET before answering 202 and detects duplicates by
// (iss, jti) (SEC-7).
func Example_inbox() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

	in := &store.InboxSET{Issuer: "https://tx.example.com", JTI: "jti-1", AckStream: "poll-1", SET: "eyJ...", ReceivedAt: now}
	existing, err := st.InboxAdd(ctx, in)
	fmt.Println("first time, duplicate:", existing != nil, err)
	existing, err = st.InboxAdd(ctx, in)
	fmt.Println("second time, duplicate:", existing != nil, existing.State, err)

	// A handler worker processes it; the poll acknowledgement is recorded with it.
	leased, _ := st.InboxLease(ctx, "worker-1", 10, time.Minute, now)
	if err := st.InboxDone(ctx, leased[0].Issuer, leased[0].JTI, "worker-1", now); err != nil {
		log.Fatal(err)
	}
	acks, _ := st.PendingAcks(ctx, "poll-1", 0)
	fmt.Println("to acknowledge:", acks)
	// Output:
	// first time, duplicate: false <nil>
	// second time, duplicate: true pending <nil>
	// to acknowledge: [jti-1]
}
