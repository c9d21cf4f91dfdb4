// Package deliverytest holds the test helpers the push engine's and the poll endpoint's
// tests share (transmitter/push, transmitter/poll): stores to run on, stand-in SETs,
// waiting, and the RFC 8935/8936 vectors of their testdata folders. Only tests import it.
package deliverytest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/store/sqlite"
)

// MemoryStore returns a store/memory store closed when t ends.
func MemoryStore(t testing.TB) store.Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

// SQLiteStore returns a store/sqlite store on a file in t's temporary directory, closed
// when t ends.
func SQLiteStore(t testing.TB) store.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sigshare.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// FakeSET returns a compact JWS-shaped string carrying jti. Neither the push engine nor
// the poll endpoint parses SETs, so an unsigned stand-in is enough.
func FakeSET(jti string) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"secevent+jwt","kid":"k1"}`))
	p := enc.EncodeToString([]byte(`{"iss":"https://tx.example","jti":"` + jti + `","iat":1700000000,"aud":"https://rx.example","events":{}}`))
	return h + "." + p + "." + enc.EncodeToString([]byte("sig-"+jti))
}

// Eventually waits up to 10 seconds until cond holds, and fails t naming what otherwise.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Vector is the part of a testdata/*.json vector (../shared/vectors) the tests use.
type Vector struct {
	Name    string `json:"name"`
	Compact string `json:"compact"`
	HTTP    struct {
		Status  int         `json:"status"`
		Headers [][2]string `json:"headers"`
	} `json:"http"`
	JSON json.RawMessage `json:"json"`
}

// LoadVector reads testdata/name of the calling test's package.
func LoadVector(t testing.TB, name string) Vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var v Vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}
