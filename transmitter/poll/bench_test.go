package poll

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// BenchmarkPollAckCycle measures poll+ack cycles over loopback HTTP with maxEvents 100
// on the memory store: each request acknowledges the previous batch and takes the next.
func BenchmarkPollAckCycle(b *testing.B) {
	e := newEnv(b, nil)
	e.stream("s", ssf.DeliveryPoll)
	set := fakeSET("bench")
	now := time.Now()
	batch := make([]*store.OutboxSET, 0, 1000)
	for i := range b.N {
		batch = append(batch, &store.OutboxSET{StreamID: "s", JTI: fmt.Sprintf("j%09d", i), SET: set, CreatedAt: now})
		if len(batch) == cap(batch) || i == b.N-1 {
			if err := e.st.Enqueue(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	client := e.srv.Client()
	url := e.srv.URL + "/poll/s"
	req := ssf.PollRequest{MaxEvents: new(100), ReturnImmediately: true}
	b.ReportAllocs()
	b.ResetTimer()
	received := 0
	for received < b.N || len(req.Ack) > 0 {
		body, err := req.MarshalJSON()
		if err != nil {
			b.Fatal(err)
		}
		hreq, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Authorization", "Bearer c-s")
		resp, err := client.Do(hreq)
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s", resp.StatusCode, data)
		}
		var pr ssf.PollResponse
		if err := json.Unmarshal(data, &pr); err != nil {
			b.Fatal(err)
		}
		req.Ack = req.Ack[:0]
		for jti := range pr.Sets {
			req.Ack = append(req.Ack, jti)
		}
		received += len(pr.Sets)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
	if c := e.counts("s"); c.Pending != 0 {
		b.Fatalf("left %+v", c)
	}
}
