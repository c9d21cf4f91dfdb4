package transmitter

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
)

// BenchmarkEmit measures Emit fan-out: match, sign one SET per stream (in parallel),
// one Enqueue, on the memory store. RS256 signatures dominate large fan-outs.
func BenchmarkEmit(b *testing.B) {
	for _, alg := range []string{"ES256", "RS256"} {
		k, err := keys.Generate(alg)
		if err != nil {
			b.Fatal(err)
		}
		ks, err := keys.NewSigningKeys(k)
		if err != nil {
			b.Fatal(err)
		}
		for _, n := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/streams=%d", alg, n), func(b *testing.B) {
				st := memory.New()
				defer st.Close()
				tr, err := New(Config{
					Issuer: "https://tr.example.com",
					Store:  st,
					Keys:   ks,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
				})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				for i := range n {
					c := &Client{ID: fmt.Sprintf("receiver-%d", i), Scopes: allScopes}
					if _, err := tr.CreateStream(WithClient(ctx, c), ssf.StreamConfig{}); err != nil {
						b.Fatal(err)
					}
				}
				ev := sessionRevoked()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					res, err := tr.Emit(ctx, alice, ev, EmitOptions{})
					if err != nil || len(res.SETs) != n {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/SET")
			})
		}
	}
}
