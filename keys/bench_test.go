package keys

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkKeys measures Keys(ctx, kid) on warm key sets: the signature verification hot
// path.
func BenchmarkKeys(b *testing.B) {
	tk, err := NewSigningKeys(testSigningKeyNamed(b, "RS256", "bench"), testSigningKey(b, "ES256"), testSigningKey(b, "EdDSA"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := tk.MarshalJWKS()
	if err != nil {
		b.Fatal(err)
	}
	kid := tk.Active().KeyID()
	ctx := context.Background()

	static, err := ParseJWKS(doc)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(doc)
	}))
	defer srv.Close()
	remote, err := NewRemoteKeySet(srv.URL, RemoteOptions{HTTPClient: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	defer remote.Close()
	if _, err := remote.Keys(ctx, kid); err != nil {
		b.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		set  KeySet
	}{
		{"RemoteKeySet", remote},
		{"StaticKeySet", static},
		{"SigningKeys", tk},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ks, err := tc.set.Keys(ctx, kid)
				if err != nil || len(ks) != 1 {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := tc.set.Keys(ctx, kid); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	b.Run("StaticKeySet/unknown-kid", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := static.Keys(ctx, "unknown"); err == nil {
				b.Fatal("found")
			}
		}
	})
}

// BenchmarkGenerate measures key generation per algorithm.
func BenchmarkGenerate(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256", "ES384", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Generate(alg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseJWKS measures decoding a three-key JWK Set (each remote refresh).
func BenchmarkParseJWKS(b *testing.B) {
	tk, err := NewSigningKeys(testSigningKeyNamed(b, "RS256", "bench"), testSigningKey(b, "ES256"), testSigningKey(b, "EdDSA"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := tk.MarshalJWKS()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseJWKS(doc); err != nil {
			b.Fatal(err)
		}
	}
}
