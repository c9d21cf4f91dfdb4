package receiver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/ssf/ssftest"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/transmitter"
)

const (
	tokenA    = "token-of-receiver-a"
	tokenB    = "token-of-receiver-b"
	suitePush = "https://127.0.0.1:9/events"
)

// transmitterKeys is the real transmitter's signing key set for these tests (RS256, the
// CAEP Interoperability Profile algorithm).
var transmitterKeys = sync.OnceValue(func() *keys.SigningKeys {
	k, err := keys.Generate("RS256")
	if err != nil {
		panic(err)
	}
	ks, err := keys.NewSigningKeys(k)
	if err != nil {
		panic(err)
	}
	return ks
})

// realTransmitter is the project's transmitter served over TLS on loopback.
type realTransmitter struct {
	srv    *httptest.Server
	tr     *transmitter.Transmitter
	store  store.Store
	issuer string
	mux    *http.ServeMux
}

// newRealTransmitter serves a transmitter whose issuer is the server URL plus path; extra
// handlers (the poll endpoint) can be added to mux.
func newRealTransmitter(t testing.TB, path string, tweak func(*transmitter.Config)) *realTransmitter {
	t.Helper()
	rt := &realTransmitter{mux: http.NewServeMux()}
	var h http.Handler
	rt.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(rt.srv.Close)
	rt.issuer = rt.srv.URL + path
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	rt.store = st
	auth, err := transmitter.NewStaticTokens(map[string]transmitter.Client{
		tokenA: {ID: "receiver-a", ClientPolicy: transmitter.ClientPolicy{Audience: []string{"https://receiver-a.example.com"}}},
		tokenB: {ID: "receiver-b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := transmitter.Config{
		Issuer:        rt.issuer,
		Store:         st,
		Keys:          transmitterKeys(),
		Logger:        slog.New(slog.DiscardHandler),
		Push:          transmitter.PushPolicy{AllowLoopback: true},
		Authenticator: auth,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	rt.tr, err = transmitter.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rt.mux.Handle("/", rt.tr.Handler())
	h = rt.mux
	return rt
}

// client returns a receiver.Client of the transmitter, discovered like a Receiver does.
func (rt *realTransmitter) client(t testing.TB, token string, mod func(*ClientConfig)) *Client {
	t.Helper()
	d, err := Discover(context.Background(), rt.issuer, DiscoveryOptions{HTTPClient: rt.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Metadata.ValidateInteropProfile(ssf.InteropOptions{}); err != nil {
		t.Errorf("the transmitter's metadata fails the CAEP Interoperability Profile: %v", err)
	}
	cfg := ClientConfig{Metadata: d.Metadata, Issuer: d.Issuer, HTTPClient: rt.srv.Client()}
	if token != "" {
		cfg.Credentials = BearerToken(token)
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The shared ssf.Manager suite (ssf/ssftest) against receiver.Client talking to the real
// transmitter over HTTP.
func TestManagerSuite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		single bool
	}{
		{"multiple streams", "", false},
		{"single stream, issuer path", "/tenants/t1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rt *realTransmitter
			ssftest.Run(t, ssftest.Harness{
				New: func(t *testing.T) ssftest.Managers {
					rt = newRealTransmitter(t, tc.path, func(c *transmitter.Config) {
						if tc.single {
							a, _ := transmitter.NewStaticTokens(map[string]transmitter.Client{
								tokenA: {ID: "receiver-a", ClientPolicy: transmitter.ClientPolicy{SingleStream: true}},
								tokenB: {ID: "receiver-b", ClientPolicy: transmitter.ClientPolicy{SingleStream: true}},
							})
							c.Authenticator = a
						}
					})
					return ssftest.Managers{
						A:         rt.client(t, tokenA, nil),
						B:         rt.client(t, tokenB, nil),
						Anonymous: rt.client(t, "", nil),
					}
				},
				PushEndpoint:      suitePush,
				MultipleStreams:   !tc.single,
				VerifyRateLimited: true,
			})
		})
	}
}

// oauthAS is a test authorization server whose token endpoint issues RFC 9068 JWT access
// tokens, which the real transmitter verifies (transmitter.OAuthTokens).
func oauthAS(t *testing.T, resource string) (*tokenEndpoint, keys.KeySet) {
	t.Helper()
	asKey, err := keys.Generate("RS256")
	if err != nil {
		t.Fatal(err)
	}
	e := newTokenEndpoint(t)
	clientKey, err := keys.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	e.publicKey = clientKey
	e.expiresIn = 300
	e.mint = func(clientID, scope string) string {
		now := time.Now()
		claims, _ := json.Marshal(map[string]any{
			"iss": e.srv.URL, "sub": clientID, "client_id": clientID, "aud": resource, "scope": scope,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": rand.Text(),
		})
		signer, err := jose.NewSigner(asKey.JOSESigningKey(), (&jose.SignerOptions{}).WithType("at+jwt"))
		if err != nil {
			panic(err)
		}
		jws, err := signer.Sign(claims)
		if err != nil {
			panic(err)
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	ks, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{asKey.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	return e, ks
}

// The shared suite with OAuth 2.0 client credentials (IOP-14): client A authenticates
// with client_secret_basic, client B with private_key_jwt; both ask for ssf.read and
// ssf.manage, and reuse their tokens.
func TestManagerSuiteOAuth(t *testing.T) {
	as, asKeys := oauthAS(t, "https://transmitter.example/resource")
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			rt := newRealTransmitter(t, "", func(c *transmitter.Config) {
				auth, err := transmitter.NewOAuthTokens(transmitter.OAuthConfig{
					Issuer: as.srv.URL, Audience: []string{"https://transmitter.example/resource"}, KeySet: asKeys,
				})
				if err != nil {
					t.Fatal(err)
				}
				c.Authenticator = auth
			})
			mk := func(cfg ClientCredentialsConfig) *Client {
				cfg.TokenURL, cfg.HTTPClient = as.srv.URL+"/token", as.srv.Client()
				cc, err := NewClientCredentials(cfg)
				if err != nil {
					t.Fatal(err)
				}
				return rt.client(t, "", func(c *ClientConfig) { c.Credentials = cc })
			}
			return ssftest.Managers{
				A:         mk(ClientCredentialsConfig{ClientID: "receiver-1", ClientSecret: "s3cret"}),
				B:         mk(ClientCredentialsConfig{ClientID: "receiver-2", SigningKey: as.publicKey}),
				Anonymous: rt.client(t, "", nil),
			}
		},
		PushEndpoint:      suitePush,
		MultipleStreams:   true,
		VerifyRateLimited: true,
	})
	if f := as.failuresSeen(); len(f) != 0 {
		t.Errorf("token endpoint refusals: %q", f)
	}
	// Two clients per subtest, each one token for the whole subtest.
	if n := as.calls.Load(); n > 2*20 {
		t.Errorf("%d token requests: tokens not reused", n)
	}
}
