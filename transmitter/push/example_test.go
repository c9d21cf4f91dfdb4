package push_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/transmitter/push"
)

// A push stream, one SET in the outbox, and the engine delivering it to the receiver's
// endpoint with the stream's authorization_header.
func Example() {
	delivered := make(chan struct{})
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Println(r.Method, r.URL.Path)
		fmt.Println("Content-Type:", r.Header.Get("Content-Type"))
		fmt.Println("Authorization:", r.Header.Get("Authorization"))
		fmt.Println("body:", string(body))
		w.WriteHeader(http.StatusAccepted)
		close(delivered)
	}))
	defer receiver.Close()

	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	now := time.Now()
	_ = st.CreateStream(ctx, &store.Stream{
		ID: "stream-1", Status: ssf.StatusEnabled, CreatedAt: now,
		Config: ssf.StreamConfig{StreamID: "stream-1", Delivery: &ssf.Delivery{
			Method:              ssf.DeliveryPush,
			EndpointURL:         receiver.URL + "/events",
			AuthorizationHeader: "Bearer receiver-token",
		}},
	})
	_ = st.Enqueue(ctx, []*store.OutboxSET{{StreamID: "stream-1", JTI: "jti-1", SET: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", CreatedAt: now}})

	engine, err := push.New(push.Config{
		Store: st,
		// A receiver on loopback over http: for this example only.
		InsecureAllowLoopback: true,
		InsecureAllowHTTP:     true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- engine.Run(runCtx) }()
	<-delivered
	stop()
	<-done
	c, _ := st.CountOutbox(ctx, "stream-1", time.Now())
	fmt.Println("pending after delivery:", c.Pending)
	// Output:
	// POST /events
	// Content-Type: application/secevent+jwt
	// Authorization: Bearer receiver-token
	// body: eyJhbGciOiJSUzI1NiJ9.e30.c2ln
	// pending after delivery: 0
}
