package poll_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/transmitter/poll"
)

// The poll endpoint mounted on a mux: the receiver polls, gets the SET, and
// acknowledges it with its next poll.
func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	now := time.Now()
	_ = st.CreateStream(ctx, &store.Stream{
		ID: "stream-1", ClientID: "receiver-1", Status: ssf.StatusEnabled, CreatedAt: now,
		Config: ssf.StreamConfig{StreamID: "stream-1", Delivery: &ssf.Delivery{
			Method: ssf.DeliveryPoll, EndpointURL: "https://tx.example/ssf/poll/stream-1",
		}},
	})
	_ = st.Enqueue(ctx, []*store.OutboxSET{{StreamID: "stream-1", JTI: "jti-1", SET: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", CreatedAt: now}})

	h, err := poll.NewHandler(poll.Config{
		Store: st,
		Authorize: func(r *http.Request, streamID string) error {
			// A real transmitter validates the access token and checks that the
			// stream belongs to the token's client.
			if r.Header.Get("Authorization") != "Bearer receiver-1-token" {
				return ssf.ErrUnauthorized
			}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("POST /ssf/poll/{stream_id}", h)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(body string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/ssf/poll/stream-1", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer receiver-1-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, string(b))
	}
	post(`{"returnImmediately":true}`)
	post(`{"returnImmediately":true,"maxEvents":0,"ack":["jti-1"]}`)
	// Output:
	// 200 {"sets":{"jti-1":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"}}
	// 200 {"sets":{}}
}
