package set

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// The benchmarks compare full Sign and Verify with the bare cryptography of the same
// signing input (hash + sign, hash + verify), per algorithm, in one process:
//
//	go test -run='^$' -bench='Sign|Verify' -benchtime=1s ./set
//
// Sign/SignBare and Verify/VerifyBare is the overhead of this package: claims encoding,
// compact serialization, parsing, policy checks, key lookup, typed event decoding.

var benchAlgorithms = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}

// benchSET returns a signer, a verifier and a signed SET (the CAEP §3.1.2 example with a
// Complex Subject) for alg.
func benchSET(b *testing.B, alg string) (*Signer, *Verifier, string) {
	b.Helper()
	key := genKey(b, alg, "bench-"+alg)
	s := newTestSigner(b, key, SignerOptions{})
	v := newTestVerifier(b, keySet(b, key), testConfig())
	raw, err := s.Sign(sessionRevoked())
	if err != nil {
		b.Fatal(err)
	}
	return s, v, raw
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			s, _, _ := benchSET(b, alg)
			tok := sessionRevoked()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSignBare(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			s, _, raw := benchSET(b, alg)
			input := []byte(raw[:strings.LastIndexByte(raw, '.')])
			a := s.signer.alg
			b.ReportAllocs()
			for b.Loop() {
				var buf [64]byte
				var err error
				switch {
				case a.kind == kindRSA && a.pss:
					_, err = rsa.SignPSS(rand.Reader, s.signer.rsa, a.hash, a.digest(&buf, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
				case a.kind == kindRSA:
					_, err = rsa.SignPKCS1v15(nil, s.signer.rsa, a.hash, a.digest(&buf, input))
				case a.kind == kindEC:
					_, err = ecdsa.SignASN1(rand.Reader, s.signer.ec, a.digest(&buf, input))
				default:
					_ = ed25519.Sign(s.signer.ed, input)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			_, v, raw := benchSET(b, alg)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(bg, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyBare(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			s, _, raw := benchSET(b, alg)
			i := strings.LastIndexByte(raw, '.')
			input := []byte(raw[:i])
			sig, err := enc.DecodeString(raw[i+1:])
			if err != nil {
				b.Fatal(err)
			}
			a := s.signer.alg
			var pub crypto.PublicKey
			switch {
			case a.kind == kindRSA:
				pub = &s.signer.rsa.PublicKey
			case a.kind == kindEC:
				pub = &s.signer.ec.PublicKey
				sig = appendDERSignature(nil, sig[:a.size], sig[a.size:])
			default:
				pub = s.signer.ed.Public()
			}
			b.ReportAllocs()
			for b.Loop() {
				var buf [64]byte
				ok := true
				switch {
				case a.kind == kindRSA && a.pss:
					ok = rsa.VerifyPSS(pub.(*rsa.PublicKey), a.hash, a.digest(&buf, input), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
				case a.kind == kindRSA:
					ok = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), a.hash, a.digest(&buf, input), sig) == nil
				case a.kind == kindEC:
					ok = ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), a.digest(&buf, input), sig)
				default:
					ok = ed25519.Verify(pub.(ed25519.PublicKey), input, sig)
				}
				if !ok {
					b.Fatal("does not verify")
				}
			}
		})
	}
}

// BenchmarkClaims measures the claims work alone: encoding a token and decoding a claims
// set (parse, subject, typed event).
func BenchmarkClaims(b *testing.B) {
	tok := sessionRevoked()
	claims, err := tok.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			if _, err := tok.AppendClaims(buf[:0], ProfileFinal); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		_, v, _ := benchSET(b, "EdDSA")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.checkClaims(claims); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOverhead runs the full operation and its bare cryptography alternately in one
// loop and measures the CPU time of each on the benchmark's own thread, so that load from
// other processes on a shared machine does not distort the comparison. It reports the
// mean CPU time of each ("full-µs", "bare-µs") and their ratio ("ratio"). Garbage
// collection done by background workers is not counted; allocations show in allocs/op.
// Compare with Sign/SignBare and Verify/VerifyBare.
func BenchmarkOverhead(b *testing.B) {
	for _, op := range []string{"Sign", "Verify"} {
		for _, alg := range benchAlgorithms {
			b.Run(op+"/"+alg, func(b *testing.B) {
				s, v, raw := benchSET(b, alg)
				tok := sessionRevoked()
				i := strings.LastIndexByte(raw, '.')
				input := []byte(raw[:i])
				sig, _ := enc.DecodeString(raw[i+1:])
				a := s.signer.alg
				if a.kind == kindEC {
					sig = appendDERSignature(nil, sig[:a.size], sig[a.size:])
				}
				full := func() {
					var err error
					if op == "Sign" {
						_, err = s.Sign(tok)
					} else {
						_, err = v.Verify(bg, raw)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				bare := func() {
					var buf [64]byte
					switch {
					case op == "Sign" && a.kind == kindRSA && a.pss:
						_, _ = rsa.SignPSS(rand.Reader, s.signer.rsa, a.hash, a.digest(&buf, input), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
					case op == "Sign" && a.kind == kindRSA:
						_, _ = rsa.SignPKCS1v15(nil, s.signer.rsa, a.hash, a.digest(&buf, input))
					case op == "Sign" && a.kind == kindEC:
						_, _ = ecdsa.SignASN1(rand.Reader, s.signer.ec, a.digest(&buf, input))
					case op == "Sign":
						_ = ed25519.Sign(s.signer.ed, input)
					case a.kind == kindRSA && a.pss:
						_ = rsa.VerifyPSS(&s.signer.rsa.PublicKey, a.hash, a.digest(&buf, input), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
					case a.kind == kindRSA:
						_ = rsa.VerifyPKCS1v15(&s.signer.rsa.PublicKey, a.hash, a.digest(&buf, input), sig)
					case a.kind == kindEC:
						_ = ecdsa.VerifyASN1(&s.signer.ec.PublicKey, a.digest(&buf, input), sig)
					default:
						_ = ed25519.Verify(s.signer.ed.Public().(ed25519.PublicKey), input, sig)
					}
				}
				var tFull, tBare time.Duration
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				b.ReportAllocs()
				for n := 0; b.Loop(); n++ {
					// Alternate the order so that neither always runs with warm caches.
					if n%2 == 0 {
						t0 := threadCPUTime()
						full()
						t1 := threadCPUTime()
						bare()
						tFull, tBare = tFull+t1-t0, tBare+threadCPUTime()-t1
					} else {
						t0 := threadCPUTime()
						bare()
						t1 := threadCPUTime()
						full()
						tBare, tFull = tBare+t1-t0, tFull+threadCPUTime()-t1
					}
				}
				n := float64(b.N)
				b.ReportMetric(float64(tFull.Microseconds())/n, "full-µs")
				b.ReportMetric(float64(tBare.Microseconds())/n, "bare-µs")
				b.ReportMetric(float64(tFull)/float64(tBare), "ratio")
			})
		}
	}
}

// BenchmarkGoJoseVerify is the reference point for this package's own JWS handling:
// go-jose parsing the compact JWS and verifying its signature, without any claim
// decoding or SET checks.
func BenchmarkGoJoseVerify(b *testing.B) {
	for _, alg := range benchAlgorithms {
		b.Run(alg, func(b *testing.B) {
			s, _, raw := benchSET(b, alg)
			pub := s.key.Public()
			algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
			b.ReportAllocs()
			for b.Loop() {
				obj, err := jose.ParseSignedCompact(raw, algs)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := obj.Verify(&pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
