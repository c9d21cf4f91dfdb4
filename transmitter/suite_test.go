package transmitter

import (
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf/ssftest"
)

// The shared Manager suite against the Transmitter in process.
func TestManagerSuiteInProcess(t *testing.T) {
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			e := newEnv(t, "https://tr.example.com", nil)
			return ssftest.Managers{
				A:         asClient{t: e.tr, c: clientA},
				B:         asClient{t: e.tr, c: clientB},
				Anonymous: asClient{t: e.tr},
			}
		},
		Issuer:            "https://tr.example.com",
		PushEndpoint:      pushURL,
		MultipleStreams:   true,
		VerifyRateLimited: true,
	})
}

// The suite against single-stream clients (409 on a second create).
func TestManagerSuiteSingleStream(t *testing.T) {
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			e := newEnv(t, "https://tr.example.com/tenant1", nil)
			a, b := *clientA, *clientB
			a.SingleStream, b.SingleStream = true, true
			return ssftest.Managers{A: asClient{t: e.tr, c: &a}, B: asClient{t: e.tr, c: &b}}
		},
		Issuer:            "https://tr.example.com/tenant1",
		PushEndpoint:      pushURL,
		VerifyRateLimited: true,
	})
}

// The suite over HTTP with static bearer tokens, through NewManagementHandler.
func TestManagerSuiteHTTPStatic(t *testing.T) {
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			s := newServer(t, "", nil)
			hc := s.srv.Client()
			return ssftest.Managers{
				A:         &httpManager{hc: hc, base: s.issuer, token: tokenA},
				B:         &httpManager{hc: hc, base: s.issuer, token: tokenB},
				Anonymous: &httpManager{hc: hc, base: s.issuer},
			}
		},
		PushEndpoint:      pushURL,
		MultipleStreams:   true,
		VerifyRateLimited: true,
	})
}

// The suite over HTTP with OAuth JWT access tokens, under an issuer path, verification
// not rate limited.
func TestManagerSuiteHTTPOAuth(t *testing.T) {
	as := newAuthServer(t)
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			var auth *OAuthTokens
			s := newServer(t, "/tenants/t1", func(c *Config) {
				c.MinVerificationInterval = -1
				auth = as.authenticator(t, "https://tr.example/resource", c.Now)
				c.Authenticator = Chain(auth, staticAuth(t))
			})
			now := s.clock.Now()
			hc := s.srv.Client()
			return ssftest.Managers{
				A:         &httpManager{hc: hc, base: s.issuer, token: as.token(t, now, "https://tr.example/resource", nil)},
				B:         &httpManager{hc: hc, base: s.issuer, token: as.token(t, now.Add(time.Second), "https://tr.example/resource", map[string]any{"client_id": "receiver-b"})},
				Anonymous: &httpManager{hc: hc, base: s.issuer},
			}
		},
		PushEndpoint:    pushURL,
		MultipleStreams: true,
	})
}
