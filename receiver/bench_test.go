package receiver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// benchPool pre-signs distinct RS256 SETs (the CAEP Interoperability Profile algorithm).
func benchPool(b *testing.B, tt *testTransmitter, n int) []string {
	b.Helper()
	pool := make([]string, n)
	for i := range pool {
		pool[i], _ = tt.sign(b, &caep.SessionRevoked{Common: caep.Common{InitiatingEntity: caep.InitiatingEntityPolicy, ReasonAdmin: event.Localized{"en": "Landspeed Policy Violation"}}},
			&subject.IssSub{Iss: "https://idp.example.com/", Sub: "user-" + string(rune('a'+i%26))})
	}
	return pool
}

// BenchmarkPushEndpoint measures the push endpoint: verify (RS256, 2048-bit) and inbox
// add (memory store) per SET, answered 202. Each SET is new (no duplicate fast path).
func BenchmarkPushEndpoint(b *testing.B) {
	tt := newTestTransmitter(b, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	pool := benchPool(b, tt, 1024)
	v, err := set.NewVerifier(testKeySet(b), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
	if err != nil {
		b.Fatal(err)
	}
	newHandler := func() http.Handler {
		rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: memory.New(), StreamID: "stream-1"})
		h, _ := NewPushHandler(PushHandlerConfig{Recipient: rec, Authorization: "Bearer push-secret"})
		return h
	}
	run := func(b *testing.B, h http.Handler, raw string) {
		r := httptest.NewRequest(http.MethodPost, "/push", strings.NewReader(raw))
		r.Header.Set("Content-Type", MediaTypeSET)
		r.Header.Set("Authorization", "Bearer push-secret")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	b.Run("serial", func(b *testing.B) {
		h := newHandler()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if i > 0 && i%len(pool) == 0 {
				b.StopTimer()
				h = newHandler()
				b.StartTimer()
			}
			run(b, h, pool[i%len(pool)])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
	})
	b.Run("duplicate", func(b *testing.B) {
		h := newHandler()
		run(b, h, pool[0])
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			run(b, h, pool[0])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
	})
	b.Run("parallel", func(b *testing.B) {
		// One inbox for the whole run: jtis repeat after the pool and take the
		// duplicate path (which verifies as well).
		big := pool
		h := newHandler()
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				run(b, h, big[int(next.Add(1))%len(big)])
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
	})
}

// BenchmarkWorker measures dispatch: decode a recorded SET, call a typed handler, mark
// it processed.
func BenchmarkWorker(b *testing.B) {
	ctx := context.Background()
	tt := newTestTransmitter(b, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	pool := benchPool(b, tt, 512)
	v, _ := set.NewVerifier(testKeySet(b), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
	mux := NewMux()
	On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error { return nil })
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for done < b.N {
		b.StopTimer()
		st := memory.New()
		rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: st, StreamID: "stream-1"})
		n := min(len(pool), b.N-done)
		for _, raw := range pool[:n] {
			if _, err := rec.Receive(ctx, TransportPush, raw, ""); err != nil {
				b.Fatal(err)
			}
		}
		w, _ := NewWorker(WorkerConfig{Inbox: st, Mux: mux, BatchSize: 64})
		b.StartTimer()
		for {
			k, err := w.RunOnce(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if k == 0 {
				break
			}
			done += k
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "SETs/s")
}
